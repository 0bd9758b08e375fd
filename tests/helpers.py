"""Test helpers shared through conftest.py: an MQTT client that records what it receives."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho

from antrian.adapters.mqtt import Connection, make_client


@dataclass(frozen=True)
class Received:
    """One message as it arrived; an immutable copy, safe to keep across threads."""

    topic: str
    payload: bytes
    qos: int
    retain: bool

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.payload)


class Recorder:
    """A project client (antrian.adapters.mqtt) that subscribes to *topics* on every
    (re)connect and records every message, so a test can wait for one."""

    def __init__(self, client_id: str, *, topics: Iterable[str] = ("#",), qos: int = 1, **client_options: Any):
        self.topics = tuple(topics)
        self.qos = qos
        self.conn = Connection(make_client(client_id, **client_options))
        self._cond = threading.Condition()
        self._messages: list[Received] = []
        self._subacks = 0
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.conn.on_connected(self._subscribe)

    @property
    def client(self) -> paho.Client:
        return self.conn.client

    @property
    def messages(self) -> list[Received]:
        with self._cond:
            return list(self._messages)

    def start(self, host: str, port: int, timeout: float = 5.0) -> Recorder:
        """Connect and return once connected and subscribed."""
        self.conn.connect(host, port)
        if not self.conn.wait_connected(timeout):
            raise AssertionError(f"{self.conn.client_id} not connected to {host}:{port} within {timeout} s")
        self.wait_subscribed(1, timeout)
        return self

    def wait_subscribed(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until the broker has acknowledged *count* subscriptions (one per connect)."""
        if not self.topics:
            return
        with self._cond:
            if not self._cond.wait_for(lambda: self._subacks >= count, timeout):
                raise AssertionError(f"{self.conn.client_id}: {self._subacks} of {count} SUBACKs within {timeout} s")

    def wait_for(
        self,
        topic: str,
        predicate: Callable[[Received], bool] | None = None,
        timeout: float = 5.0,
    ) -> Received:
        """Return the first message, already received or arriving within *timeout*,
        whose topic matches *topic* (MQTT wildcards allowed) and *predicate*."""

        def find() -> Received | None:
            for message in self._messages:
                if paho.topic_matches_sub(topic, message.topic) and (predicate is None or predicate(message)):
                    return message
            return None

        with self._cond:
            found = self._cond.wait_for(find, timeout)
            if found is None:
                seen = sorted({m.topic for m in self._messages})
                raise AssertionError(f"no message on {topic!r} within {timeout} s; topics seen: {seen}")
            return found

    def publish_json(self, topic: str, obj: Any, retain: bool = False, qos: int = 1) -> paho.MQTTMessageInfo:
        return self.conn.publish_json(topic, obj, retain=retain, qos=qos)

    def close(self) -> None:
        self.conn.close()

    def _subscribe(self, client: paho.Client) -> None:
        if self.topics:
            client.subscribe([(topic, self.qos) for topic in self.topics])

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        with self._cond:
            self._subacks += 1
            self._cond.notify_all()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        received = Received(message.topic, bytes(message.payload), message.qos, bool(message.retain))
        with self._cond:
            self._messages.append(received)
            self._cond.notify_all()
