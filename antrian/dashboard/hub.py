"""The dashboard's side of the broker: the site's live state, kept for the browsers.

:class:`Hub` is an MQTT client that only reads: the retained board, catalog, counter
states and device statuses, and the kiosks' replies (the tickets issued while it
runs). It keeps the latest of each and hands every change to the browsers that listen
(one bounded queue each, :class:`Listener`): a ``snapshot`` when one joins, then one
update per MQTT message. The dispatcher's status is also read the way every device
reads it (antrian.adapters.link.DispatcherWatch), so the page says its problems in
the same words as the board and the kiosk. It never publishes and never opens the
database.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
from collections import deque
from typing import Any

from antrian import protocol
from antrian.adapters.link import DispatcherWatch
from antrian.adapters.mqtt import Connection, device_client
from antrian.site import Config

__all__ = ["Hub", "Listener"]

log = logging.getLogger("antrian.dashboard.server")  # one logger name for the whole dashboard

MAX_CLIENTS = 50  # event streams at once; each holds a thread
RECENT_TICKETS = 20


class Listener:
    """One browser's event stream: a bounded queue; a browser that falls this far behind
    is dropped, and its EventSource reconnects to a fresh snapshot."""

    def __init__(self) -> None:
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=1000)
        self.dropped = False

    def put(self, item: bytes | None) -> None:
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            self.dropped = True


class Hub:
    """Reads the site's retained state and the kiosks' replies from the broker and
    keeps the latest, for the browsers. Read-only: it never publishes."""

    def __init__(self, config: Config, *, client_id: str | None = None):
        self.config = config
        self.site = config.site.id
        self.client_id = client_id or f"antrian-{self.site}-dashboard-{socket.gethostname()}-{os.getpid()}"
        self._lock = threading.Lock()
        self._listeners: set[Listener] = set()
        self.catalog: dict[str, Any] | None = None
        self.board: dict[str, Any] | None = None
        self.counters: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.dispatcher = DispatcherWatch(config.dispatcher_ids())
        self.tickets: deque[dict[str, Any]] = deque(maxlen=RECENT_TICKETS)
        self.broker_connected = False
        self.connection: Connection | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def topics(self) -> list[str]:
        s = self.site
        return [protocol.board(s), protocol.catalog(s), protocol.counter_state(s, "+"), protocol.status(s, "+"),
                protocol.kiosk_reply(s, "+")]

    # lifecycle

    def start(self, host: str, port: int) -> None:
        # The broker user "dashboard" (read-only in the ACL); no will: it is no device.
        client = device_client(self.config, "dashboard", None, will=False, client_id=self.client_id)
        self.connection = Connection(client)
        client.on_message = self._on_message

        @self.connection.on_connected
        def _subscribe(c):
            c.subscribe([(t, protocol.QOS) for t in self.topics()])
            self._set_broker(True)

        self.connection.connect(host, port)
        # The Connection owns on_disconnect: a lost broker is noticed by looking at it.
        self._watcher = threading.Thread(target=self._watch, name="dashboard-broker", daemon=True)
        self._watcher.start()

    def close(self) -> None:
        self._stop.set()
        if self.connection is not None:
            self.connection.close()
        with self._lock:
            for listener in self._listeners:
                listener.put(None)

    def _watch(self) -> None:
        while not self._stop.wait(0.25):
            if self.connection is not None:
                self._set_broker(self.connection.connected)

    def _set_broker(self, connected: bool) -> None:
        with self._lock:
            if self.broker_connected == connected:
                return
            self.broker_connected = connected
            self._broadcast("broker", None, {"connected": connected})
        if not connected:
            log.warning("dashboard: lost the broker; the page shows a banner until it is back")

    # browsers

    def listen(self) -> tuple[Listener, bytes] | None:
        """A new listener and the snapshot it starts from (taken under the same lock
        as every update, so nothing falls between them); None when too many listen."""
        with self._lock:
            if len(self._listeners) >= MAX_CLIENTS:
                return None
            listener = Listener()
            self._listeners.add(listener)
            return listener, protocol.encode(self._snapshot())

    def unlisten(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def listeners(self) -> int:
        with self._lock:
            return len(self._listeners)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        return {"catalog": self.catalog, "board": self.board, "counters": self.counters,
                "status": self.statuses, "tickets": list(self.tickets), "broker": self.broker_connected,
                "dispatcher": self.dispatcher.view.as_dict()}

    def _broadcast(self, kind: str, key: str | None, data: Any) -> None:
        event = protocol.encode({"kind": kind, "key": key, "data": data})
        for listener in self._listeners:
            listener.put(event)

    # MQTT in (paho's network thread)

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        try:
            self.handle(msg.topic, bytes(msg.payload))
        except Exception:  # an exception here would kill paho's network thread
            log.exception("dashboard: failed to handle a message on %r", msg.topic[:200])

    def handle(self, topic: str, payload: bytes) -> None:
        parsed = protocol.parse_topic(self.site, topic)
        if parsed is None:
            return
        if not payload:
            # An empty retained message clears the topic (a counter or device removed).
            data = None
        else:
            try:
                data = protocol.decode(payload)
            except protocol.ProtocolError as exc:
                log.warning("dashboard: ignored a message on %s: %s", topic[:200], exc.message)
                return
        with self._lock:
            if parsed.kind == "board":
                day = (self.board or {}).get("business_day")
                self.board = data
                if data is not None and day and data.get("business_day") != day:
                    self.tickets.clear()  # a new day: yesterday's tickets are history
                    self._broadcast("tickets", None, [])
                self._broadcast("board", None, data)
            elif parsed.kind == "catalog":
                self.catalog = data
                self._broadcast("catalog", None, data)
            elif parsed.kind == "counter_state":
                self._store(self.counters, parsed.entity, data)
                self._broadcast("counter", parsed.entity, data)
            elif parsed.kind == "status":
                self._store(self.statuses, parsed.entity, data)
                self._broadcast("status", parsed.entity, data)
                if data is not None and parsed.entity in self.dispatcher.ids:
                    self._broadcast("dispatcher", None, self.dispatcher.update(parsed.entity, data).as_dict())
            elif parsed.kind == "kiosk_reply":
                ticket = _issued(data, parsed.entity)
                if ticket is None or any(t["number"] == ticket["number"] for t in self.tickets):
                    return  # a refusal, or the repeated reply of an exactly-once retry
                if self.tickets and self.tickets[0].get("business_day") != ticket["business_day"]:
                    self.tickets.clear()
                self.tickets.appendleft(ticket)
                self._broadcast("ticket", ticket["number"], ticket)

    @staticmethod
    def _store(where: dict[str, dict[str, Any]], key: str | None, data: dict[str, Any] | None) -> None:
        if key is None:
            return
        if data is None:
            where.pop(key, None)
        else:
            where[key] = data


def _issued(reply: dict[str, Any] | None, kiosk: str | None) -> dict[str, Any] | None:
    """The ticket of a successful kiosk reply, trimmed to what the page shows."""
    if not reply or reply.get("ok") is not True or not isinstance(reply.get("ticket"), dict):
        return None
    t = reply["ticket"]
    if not isinstance(t.get("number"), str):
        return None
    keep = ("number", "service", "service_name", "agency", "agency_name", "priority", "issued_at", "business_day")
    return {**{k: t.get(k) for k in keep}, "kiosk": kiosk}

