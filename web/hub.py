"""The web wing's side of the broker: the site's live state, kept for the browsers.

:class:`Hub` is the app's one MQTT client (its own broker user, a ``role: web``
device, through antrian.adapters.link.DeviceLink: status, will, the dispatcher's
status). It keeps the latest retained catalog, board, counter states, queue lists and
device statuses, the recent calls (by ``seq``, so a board that reconnects with
``Last-Event-ID`` gets what it missed) and the tickets issued while it runs (the
kiosks' replies, for the dashboard). Every change becomes one :class:`Event`, handed
to the pages that listen (:meth:`Hub.listen`: one bounded asyncio queue each, fed on
the app's event loop). It publishes only what a page asks it to (:meth:`Hub.publish`:
a survey, an officer's command) and never opens the database; in the staff app the
counters' replies are passed on as ``reply`` events (not kept) for the console
(web/loket.py) that waits for its id, and in the public app the dispatcher's booking
replies as ``booking`` events for the /reservasi page (web/reservasi_kirim.py) that waits
for its id.

The app's own status is an :class:`AppStatus`, to which the staff app adds the
browser boards' presence (web/papan_hadir.py); the hub remembers when a web app's
status stopped listing a board as shown (``boards_gone``: its will says nothing of it).

Threads: paho's network thread calls :meth:`Hub.handle`; the state is changed under a
lock and the event is passed to the event loop with one ``call_soon_threadsafe``, which
fans it out to every listener there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import threading
from collections import deque
from typing import Any, Callable, Iterable

from antrian import protocol
from antrian.adapters.link import DeviceLink, DeviceStatus, DispatcherView
from antrian.site import Config
from web import options as web_options

__all__ = ["Event", "Hub", "Listener"]

log = logging.getLogger("antrian.web")

RECENT_CALLS = 200  # calls kept for Last-Event-ID resume (a day's busiest minutes)
RECENT_TICKETS = 20
LISTENER_QUEUE = 500  # events a slow page may fall behind before it is dropped (it reconnects)


class AppStatus(DeviceStatus):
    """The app's own DeviceStatus with what its pages add to it (*extra*: the browser
    boards' presence, web/papan_hadir.py). Its will stays the plain "offline", so what a
    page added goes with the app."""

    extra: Callable[[], dict[str, Any]] | None = None

    def payload(self, now: dt.datetime | None = None) -> dict[str, Any]:
        data = super().payload(now)
        if self.extra is not None:
            data.update(self.extra())
        return data


@dataclasses.dataclass(frozen=True)
class Event:
    """One change: *kind* is board, call, catalog, counter, queue, stats, status,
    ticket, reply (a counter's Reply), booking (a booking Reply), broker, dispatcher or
    bridge (the site's bridge to the central broker: `Hub.bridge`);
    *key* the counter, service or device it is about (None for the site-wide ones); *data*
    the payload as decoded (None: the retained topic was cleared)."""

    kind: str
    key: str | None
    data: Any


class Listener:
    """One page's stream of events: an asyncio queue on the app's loop. A page that
    falls LISTENER_QUEUE events behind is marked ``dropped`` (its stream ends and the
    browser reconnects to a fresh snapshot) instead of holding memory."""

    def __init__(self, kinds: Iterable[str] | None) -> None:
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=LISTENER_QUEUE)
        self.dropped = False

    def put(self, event: Event | None) -> None:
        if event is not None and self.kinds is not None and event.kind not in self.kinds:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            self.queue = asyncio.Queue(maxsize=1)
            self.queue.put_nowait(None)

    def end(self) -> None:
        """End this stream (on the event loop): the browser reconnects if it is still there."""
        self.put(None)

    async def next(self) -> Event | None:
        """The next event; None when the stream should end (dropped, or the app stops)."""
        return await self.queue.get()


class Hub:
    """The site's live state from the broker, for the pages of one app."""

    def __init__(self, config: Config, device_id: str) -> None:
        self.config = config
        self.site = config.site.id
        self.device_id = device_id
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listeners: set[Listener] = set()
        self.catalog: dict[str, Any] | None = None
        self.board: dict[str, Any] | None = None
        self.stats: dict[str, Any] | None = None  # the day's totals (antrian/queue/stats.py)
        self.counters: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        # A browser board -> when a web app's status stopped saying a page shows it (its
        # will, a restart): the app's own status can no longer say when it was last seen.
        self.boards_gone: dict[str, str] = {}
        self.calls: deque[dict[str, Any]] = deque(maxlen=RECENT_CALLS)
        self.tickets: deque[dict[str, Any]] = deque(maxlen=RECENT_TICKETS)
        self.broker_connected = False
        device = config.devices.get(device_id)
        # The remote officers' app at another office (`central: true`) reaches the site
        # through the central broker, which keeps the site's last retained "dispatcher
        # online" when the link drops: the bridge's own state says whether the site hears.
        # The site's own staff app follows it too, for the dashboard, but never locks on it.
        self.central = bool(device is not None and device.options.get("central"))
        self.follows_bridge = web_options.follows_bridge(config, device_id)
        self.bridge_up: bool | None = None  # None: not known (or not followed)
        self.bridge_since: str | None = None  # when this app saw it change
        self._closing = False
        # Grows with every change: a page module builds what it derives from the state
        # once per version and shares it between all its open pages (a burst of events
        # reaches 200 pages interleaved, so "once per event" would build it 200 times).
        self.version = 0
        self.link = DeviceLink(config, device_id, "web", topics=self.topics(), on_dispatcher=self._on_dispatcher)
        self.link.status = self.status = AppStatus(config, device_id, "web")
        self.link.client.on_message = self._on_message
        self.link.connection.on_connected(lambda _client: self._set_broker(True))
        self.link.connection.on_disconnected(lambda: self._set_broker(False))

    def topics(self) -> list[str]:
        s = self.site
        topics = [protocol.board(s), protocol.call(s), protocol.catalog(s), protocol.counter_state(s, "+"),
                  protocol.status(s, "+"), protocol.kiosk_reply(s, "+"), protocol.queue_list(s, "+"),
                  protocol.stats(s)]
        device = self.config.devices.get(self.device_id)
        if device is None or not device.options.get("public"):
            topics.append(protocol.counter_reply(s, "+"))  # the officer's console waits for its replies
        else:
            topics.append(protocol.booking_reply(s, self.device_id))  # /reservasi waits for its replies
        if self.follows_bridge:
            topics.append(protocol.bridge(s))
        return topics

    # -- life cycle ---------------------------------------------------------------------

    def start(self, host: str, port: int, loop: asyncio.AbstractEventLoop) -> None:
        """Connect in the background; events go to listeners on *loop*."""
        self._loop = loop
        self.link.start(host, port)

    def close(self) -> None:
        self._closing = True
        self.link.close()
        self.end_streams()

    def end_streams(self) -> None:
        """End every page's stream (from any thread): the app is stopping, and a stream
        that ends by itself closes its response cleanly; the browsers reconnect."""
        self._post(None)

    def bridge(self) -> dict[str, Any] | None:
        """The bridge to the centre as a DeviceStatus-like dict (the dashboard's row), or
        None while not known."""
        with self._lock:
            if self.bridge_up is None:
                return None
            return {"online": self.bridge_up, "problems": [], "since": self.bridge_since}

    @property
    def dispatcher(self) -> DispatcherView:
        """The dispatcher as this app can reach it: offline too, for the remote officers'
        app, while the site's bridge to the centre is down (problem ``bridge_down``)."""
        if self.central and self.bridge_up is False:
            return DispatcherView(online=False, problems=("bridge_down",))
        return self.link.dispatcher

    # -- pages --------------------------------------------------------------------------

    def listen(self, kinds: Iterable[str] | None = None) -> Listener:
        """A new listener (on the event loop) for events of *kinds* (None: all). Take the
        snapshot you start from after this call, so nothing falls between the two."""
        listener = Listener(kinds)
        with self._lock:
            self._listeners.add(listener)
        return listener

    def unlisten(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def listeners(self) -> int:
        with self._lock:
            return len(self._listeners)

    def snapshot(self) -> dict[str, Any]:
        """Everything the hub knows, as plain data (copies of the containers)."""
        with self._lock:
            return {"catalog": self.catalog, "board": self.board, "stats": self.stats,
                    "counters": dict(self.counters), "queues": dict(self.queues), "status": dict(self.statuses),
                    "calls": list(self.calls), "tickets": list(self.tickets), "broker": self.broker_connected,
                    "dispatcher": self.dispatcher.as_dict()}

    def calls_after(self, seq: int) -> list[dict[str, Any]]:
        """The calls this hub has seen with a ``seq`` above *seq*, oldest first (from the
        live calls and the retained board's recent list)."""
        with self._lock:
            seen: dict[int, dict[str, Any]] = {}
            recent = (self.board or {}).get("recent")
            for call in (recent if isinstance(recent, list) else []):
                if _seq(call) is not None:
                    seen[call["seq"]] = call
            for call in self.calls:
                seen[call["seq"]] = call
        return [seen[s] for s in sorted(seen) if s > seq]

    def statuses_now(self) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """The device statuses and the browser boards' last sightings (copies)."""
        with self._lock:
            return dict(self.statuses), dict(self.boards_gone)

    def publish_status(self) -> None:
        """Publish this app's status again (retained): what a page adds to it changed."""
        self.status.publish(self.link.client)

    def publish(self, topic: str, payload: dict[str, Any]) -> bool:
        """Publish *payload* (QoS 1, not retained) on *topic*; False while the broker is gone."""
        if not self.link.connected:
            return False
        self.link.connection.publish_json(topic, payload)
        return True

    # -- MQTT in (paho's network thread) --------------------------------------------------

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        try:
            self.handle(msg.topic, bytes(msg.payload))
        except Exception:  # an exception here would kill paho's network thread
            log.exception("web: failed to handle a message on %r", msg.topic[:200])

    def handle(self, topic: str, payload: bytes) -> None:
        """Take one message: keep it, and tell the listeners."""
        if topic == protocol.bridge(self.site):
            self._bridge(payload)
            return
        parsed = protocol.parse_topic(self.site, topic)
        if parsed is None:
            return
        data: dict[str, Any] | None = None
        if payload:  # an empty retained message clears the topic (a counter or device removed)
            try:
                # A status comes from any device; every other topic here only the dispatcher writes.
                data = protocol.decode(payload, protocol.MAX_PAYLOAD if parsed.kind == "status"
                                       else protocol.MAX_STATE_PAYLOAD)
            except protocol.ProtocolError as exc:
                log.warning("web: ignored a message on %s: %s", topic[:200], exc.message)
                return
        kind, key = parsed.kind, parsed.entity
        with self._lock:
            if kind == "board":
                self.board = data
                event = Event("board", None, data)
            elif kind == "call":
                if data is None or _seq(data) is None:
                    return
                self.calls.append(data)
                event = Event("call", None, data)
            elif kind == "catalog":
                self.catalog = data
                event = Event("catalog", None, data)
            elif kind == "stats":
                self.stats = data
                event = Event("stats", None, data)
            elif kind == "counter_state":
                _store(self.counters, key, data)
                event = Event("counter", key, data)
            elif kind == "queue_list":
                _store(self.queues, key, data)
                event = Event("queue", key, data)
            elif kind == "status":
                for board in _boards_gone(self.statuses.get(key or ""), data):
                    self.boards_gone[board] = self._wall()
                _store(self.statuses, key, data)
                event = Event("status", key, data)
            elif kind == "counter_reply":
                if data is None:
                    return
                event = Event("reply", key, data)  # not kept: only the console that sent the id waits for it
            elif kind == "booking_reply":
                if data is None:
                    return
                event = Event("booking", key, data)  # not kept: only the /reservasi page that sent the id waits
            elif kind == "kiosk_reply":
                ticket = _issued(data, key)
                if ticket is None or any(t["number"] == ticket["number"] for t in self.tickets):
                    return  # a refusal, or the repeated reply of an exactly-once retry
                if self.tickets and self.tickets[0].get("business_day") != ticket["business_day"]:
                    self.tickets.clear()  # a new day: yesterday's tickets are history
                self.tickets.appendleft(ticket)
                event = Event("ticket", ticket["number"], ticket)
            else:
                return
        self._post(event)

    def _wall(self) -> str:
        return dt.datetime.now(self.config.tz).isoformat(timespec="seconds")

    def _on_dispatcher(self, view: DispatcherView) -> None:
        self._post(Event("dispatcher", None, self.dispatcher.as_dict()))

    def _bridge(self, payload: bytes) -> None:
        """Mosquitto's "1" or "0" for the site's bridge (protocol.bridge)."""
        if payload not in (protocol.BRIDGE_UP, protocol.BRIDGE_DOWN):
            if payload:
                log.warning("web: ignored a bridge state %r", payload[:40])
            return
        up = payload == protocol.BRIDGE_UP
        with self._lock:
            if self.bridge_up == up:
                return
            self.bridge_up = up
            self.bridge_since = self._wall()
        if up:
            log.info("web: the site's bridge to the central broker is up")
        elif self.central:
            log.warning("web: the site's bridge to the central broker is down: the consoles are locked until it "
                        "is back (presses would wait at the centre)")
        else:
            log.warning("web: the site's bridge to the central broker is down (the site works on)")
        self._post(Event("bridge", None, self.bridge()))
        if self.central:
            self._post(Event("dispatcher", None, self.dispatcher.as_dict()))

    def _set_broker(self, connected: bool) -> None:
        with self._lock:
            if self.broker_connected == connected:
                return
            self.broker_connected = connected
        if not connected and not self._closing:
            log.warning("web: lost the broker; the pages say so until it is back")
        self._post(Event("broker", None, {"connected": connected}))

    def _post(self, event: Event | None) -> None:
        with self._lock:
            self.version += 1  # after the state changed, before any page hears of it
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._fan_out, event)
        except RuntimeError:  # the loop closed between the check and the call
            pass

    def _fan_out(self, event: Event | None) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.put(event)


def _seq(call: Any) -> int | None:
    if isinstance(call, dict) and isinstance(call.get("seq"), int) and not isinstance(call.get("seq"), bool):
        return call["seq"]
    return None


def _store(where: dict[str, dict[str, Any]], key: str | None, data: dict[str, Any] | None) -> None:
    if key is None:
        return
    if data is None:
        where.pop(key, None)
    else:
        where[key] = data


def _boards_gone(old: Any, new: Any) -> list[str]:
    """The browser boards a web app's status said a page shows and its new one leaves out
    (its will): one it still lists with no page carries its own last_seen."""
    before, after = protocol.browser_boards(old), protocol.browser_boards(new)
    return [b for b, e in before.items() if e["pages"] > 0 and b not in after]


def _issued(reply: dict[str, Any] | None, kiosk: str | None) -> dict[str, Any] | None:
    """The ticket of a successful kiosk reply, trimmed to what the dashboard shows."""
    if not reply or reply.get("ok") is not True or not isinstance(reply.get("ticket"), dict):
        return None
    t = reply["ticket"]
    if not isinstance(t.get("number"), str):
        return None
    keep = ("number", "service", "service_name", "agency", "agency_name", "priority", "issued_at", "business_day")
    return {**{k: t.get(k) for k in keep}, "kiosk": kiosk}
