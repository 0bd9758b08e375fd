"""A site with the deployed broker's security, for tests: the Buton example (open all day)
with ``broker.credentials_dir``, its files made by antrian.tools.broker_files, and the project's
Mosquitto running that secured configuration on free loopback ports."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from antrian.tools import broker_files
from antrian.adapters.mosquitto import LocalBroker, free_port
from antrian.site import Config, load
from conftest import ROOT, allday_site

MAKE_CA = ROOT / "broker-config" / "make-ca.sh"


def make_ca(folder: Path, *names: str) -> dict[str, str]:
    """A local CA and a server certificate for *names* (broker-config/make-ca.sh)."""
    subprocess.run(["bash", str(MAKE_CA), str(folder), *names], check=True, capture_output=True, timeout=60)
    return {"ca": str(folder / "ca.crt"), "cert": str(folder / "server.crt"), "key": str(folder / "server.key")}


class SecureSite:
    """The site file, its broker files and a (not yet started) broker that enforces them."""

    def __init__(self, tmp_path: Path, *, tls: dict[str, str] | None = None, central: dict[str, Any] | None = None,
                 websocket: bool = False, **changes: Any) -> None:
        self.tmp = tmp_path
        self.creds = tmp_path / "credentials"
        self.tls_port = free_port() if tls else None
        self.websocket_port = free_port() if websocket else None
        section: dict[str, Any] = {"host": "127.0.0.1", "port": 1883, "credentials_dir": str(self.creds)}
        if tls:
            section["tls"] = {**tls, "port": self.tls_port}
        if websocket:
            section["websocket_port"] = self.websocket_port
        if central:
            section["central"] = central
        self.path = allday_site(tmp_path, broker=section, **changes)
        self.config: Config = load(self.path)
        self.summary = broker_files.write(self.config, data_dir=tmp_path / "broker")
        render = broker_files.site_renderer(self.config, self.creds, tls_port=self.tls_port,
                                            websocket_port=self.websocket_port)
        self.broker = LocalBroker(data_dir=tmp_path / "broker", render=render,
                                  also_ports=tuple(p for p in (self.tls_port, self.websocket_port) if p))

    def password(self, user: str) -> str:
        return (self.creds / f"{user}.password").read_text().strip()

    def reload(self) -> None:
        """SIGHUP: mosquitto reads its password file and ACL again."""
        import signal

        self.broker._proc.send_signal(signal.SIGHUP)  # noqa: SLF001 - the test owns the broker
        time.sleep(0.3)


class Probe:
    """A bare MQTT 5 paho client (no project code), to see reason codes as a broker gives them."""

    def __init__(self, host: str, port: int, user: str | None, password: str | None, *,
                 client_id: str | None = None, will: tuple[str, bytes] | None = None) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"probe-{user}",
                                  protocol=paho.MQTTv5)
        if user is not None:
            self.client.username_pw_set(user, password)
        if will:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        self.cond = threading.Condition()
        self.connack: Any = None
        self.pubacks: dict[int, Any] = {}
        self.messages: list[tuple[str, bytes, bool]] = []
        self.subacks: list[Any] = []
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        with self.cond:
            self.connack = reason
            self.cond.notify_all()
        if reason.is_failure:
            client.disconnect()  # one refusal is enough to look at; no retries

    def _on_publish(self, client, userdata, mid, reason, properties) -> None:
        with self.cond:
            self.pubacks[mid] = reason
            self.cond.notify_all()

    def _on_message(self, client, userdata, msg) -> None:
        with self.cond:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))
            self.cond.notify_all()

    def _on_subscribe(self, client, userdata, mid, reasons, properties) -> None:
        with self.cond:
            self.subacks.append(reasons)
            self.cond.notify_all()

    def wait_connack(self, timeout: float = 5.0) -> Any:
        with self.cond:
            assert self.cond.wait_for(lambda: self.connack is not None, timeout), "no CONNACK"
            return self.connack

    def publish(self, topic: str, payload: bytes, *, retain: bool = False, timeout: float = 5.0) -> Any:
        """Publish at QoS 1 and return the PUBACK's reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self.cond:
            assert self.cond.wait_for(lambda: info.mid in self.pubacks, timeout), f"no PUBACK for {topic}"
            return self.pubacks[info.mid]

    def subscribe(self, topics: list[str], timeout: float = 5.0) -> list[Any]:
        count = len(self.subacks)
        self.client.subscribe([(t, 1) for t in topics])
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.subacks) > count, timeout), "no SUBACK"
            return self.subacks[count]

    def wait_message(self, topic: str, payload: bytes, timeout: float = 5.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: any(t == topic and p == payload for t, p, _ in self.messages), timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
