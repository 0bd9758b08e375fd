"""One device's link to the broker: the MQTT chores every device repeats, written once.

- :class:`DeviceStatus` is a device's retained DeviceStatus (DESIGN.md): the list of
  its current problems, the payload (``protocol.device_status``), publishing it again
  when a problem is set or cleared, and saying "offline" itself on a clean close (a
  clean disconnect does not fire the will). The dispatcher keeps its status with one.
- :class:`DispatcherWatch` follows the dispatcher's retained status: is it online,
  which problems it reports; :class:`DispatcherView` is one reading of it, with the
  problem worth telling people about in words (:data:`NOTICES`).
- :class:`DeviceLink` is a device's connection: ``device_client`` (its broker user,
  TLS and will) and a ``Connection``; on every (re)connect it subscribes the device's
  own topics and the dispatcher's status, then publishes its status. The kiosk, the
  board and the panel are built on it.

    link = DeviceLink(config, "board1", "display", topics=[protocol.board(site)],
                      on_dispatcher=lambda view: ...)
    link.start(host, port)
    link.set_problems(["audio_error"])     # the retained status says so at once
    link.dispatcher.notice                 # "Jam server tertinggal — hubungi teknisi" or ""
    link.close()                           # "offline", then disconnect
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as paho

from antrian import __version__, protocol
from antrian.adapters.mqtt import Connection, device_client

if TYPE_CHECKING:
    from antrian.site import Config

__all__ = ["NOTICES", "DeviceLink", "DeviceStatus", "DispatcherView", "DispatcherWatch"]

log = logging.getLogger(__name__)

# A dispatcher's problems that the hall, a kiosk and the dashboard show in words, in
# Bahasa Indonesia (citizens and officers read them). The board's banner, the kiosk's
# technician line and the dashboard all take their text from here.
NOTICES = {
    "clock_behind": "Jam server tertinggal — hubungi teknisi",
    # Only a remote officers' staff app sees this one (web/hub.py): its site is cut off from the centre.
    "bridge_down": "Sambungan kantor MPP ke server pusat terputus",
}
OFFLINE_WAIT_SECONDS = 2.0  # how long close() waits for the broker to take the "offline" status


class DeviceStatus:
    """The retained DeviceStatus of one device: its problems, in the order they appeared.

    Thread-safe: problems are set from any thread (a printer check, paho's thread).
    *clock* gives the ``at`` of the payload (the site's local time by default).
    """

    def __init__(self, config: Config, device_id: str, role: str | None, *,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.device_id = device_id
        self.role = role
        self.topic = protocol.status(config.site.id, device_id)
        self._clock = clock or (lambda: dt.datetime.now(config.tz))
        self._problems: list[str] = []
        self._lock = threading.Lock()

    @property
    def problems(self) -> list[str]:
        with self._lock:
            return list(self._problems)

    def set(self, problem: str, present: bool = True) -> bool:
        """Add (or with ``present=False`` remove) one problem; True if the list changed."""
        with self._lock:
            if present == (problem in self._problems):
                return False
            if present:
                self._problems.append(problem)
            else:
                self._problems.remove(problem)
            return True

    def replace(self, problems: Iterable[str]) -> bool:
        """Make the list *problems*; True if it changed."""
        new = list(problems)
        with self._lock:
            if new == self._problems:
                return False
            self._problems = new
            return True

    def payload(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """``{"device", "role", "online": true, "problems", "version", "at"}``."""
        at = (now or self._clock()).isoformat(timespec="seconds")
        return protocol.device_status(self.device_id, self.role, True, self.problems, __version__, at)

    def offline(self) -> dict[str, Any]:
        """What the will says, and what a clean close publishes: ``{"device", "role", "online": false}``."""
        return protocol.device_will(self.device_id, self.role)

    def publish(self, client: paho.Client, now: dt.datetime | None = None) -> paho.MQTTMessageInfo | None:
        """Publish the status (retained, QoS 1) if *client* is connected; None if not: the
        next (re)connect publishes it."""
        if not client.is_connected():
            return None
        return client.publish(self.topic, protocol.encode(self.payload(now)), qos=protocol.QOS, retain=True)

    def say_offline(self, connection: Connection) -> None:
        """Publish "offline" (retained) and wait for the broker to take it, if connected:
        a clean disconnect does not fire the will, so a device that stops says it itself."""
        if not connection.connected:
            return
        info = connection.publish_json(self.topic, self.offline(), retain=True)
        try:
            info.wait_for_publish(timeout=OFFLINE_WAIT_SECONDS)
        except (RuntimeError, ValueError) as exc:  # paho: lost the connection meanwhile
            log.warning("%s: could not say offline before closing: %s", self.device_id, exc)


@dataclasses.dataclass(frozen=True)
class DispatcherView:
    """What a device knows of the dispatcher: *online* is None until a status came (or
    when it says neither), *problems* those an online dispatcher reports."""

    online: bool | None = None
    problems: tuple[str, ...] = ()

    @property
    def notice(self) -> str:
        """The first problem worth telling people about, in words (NOTICES), or ""."""
        return next((NOTICES[p] for p in self.problems if p in NOTICES), "")

    def as_dict(self) -> dict[str, Any]:
        return {"online": self.online, "problems": list(self.problems), "notice": self.notice}


class DispatcherWatch:
    """Follows the retained DeviceStatus of the dispatcher (of each id in *dispatchers*).

    One that says ``online: false`` makes the view offline; the problems are those of
    the dispatchers that say they are online (an offline one's are stale)."""

    def __init__(self, dispatchers: Iterable[str]) -> None:
        self.ids = list(dispatchers)
        self._statuses: dict[str, dict[str, Any]] = {}
        self._view = DispatcherView()
        self._lock = threading.Lock()

    @property
    def view(self) -> DispatcherView:
        with self._lock:
            return self._view

    def update(self, device: str, status: dict[str, Any]) -> DispatcherView:
        """Take a status of dispatcher *device*; the view after it."""
        with self._lock:
            self._statuses[device] = status
            states = [s.get("online") for s in self._statuses.values()]
            online = False if False in states else (True if True in states else None)
            problems: list[str] = []
            for s in self._statuses.values():
                listed = s.get("problems") if s.get("online") is True else None
                for p in listed if isinstance(listed, list) else ():
                    if isinstance(p, str) and p not in problems:
                        problems.append(p)
            self._view = DispatcherView(online, tuple(problems))
            return self._view


Handler = Callable[[DispatcherView], None]


class DeviceLink:
    """One device's connection with its status, its will and the dispatcher's status.

    *topics* are the device's own subscriptions; on every (re)connect they are
    subscribed together with the status of each dispatcher in *dispatchers* (by default
    the site file's, ``Config.dispatcher_ids``; ``()`` follows none), and then the
    device's status is published, so nothing the device asked for can arrive before
    the subscription. Add message callbacks to ``.client`` as usual, and run more on
    (re)connect with ``.connection.on_connected`` (they run after the status is out).

    *on_dispatcher(view)* runs on paho's network thread for every status a dispatcher
    publishes (an exception in it is logged, not raised).
    """

    def __init__(self, config: Config, device_id: str, role: str, *, topics: Iterable[str] = (),
                 dispatchers: Iterable[str] | None = None, on_dispatcher: Handler | None = None,
                 clean_session: bool = True) -> None:
        self.config = config
        self.site = config.site.id
        self.device_id = device_id
        self.role = role
        self.topics = list(topics)
        self.on_dispatcher = on_dispatcher
        self.status = DeviceStatus(config, device_id, role)
        self.watch = DispatcherWatch(config.dispatcher_ids() if dispatchers is None else dispatchers)
        self.client = device_client(config, device_id, role, clean_session=clean_session)
        self.connection = Connection(self.client)
        for dispatcher in self.watch.ids:
            self.client.message_callback_add(protocol.status(self.site, dispatcher), self._on_dispatcher_status)
        self.connection.on_connected(self._on_connected)

    # -- life cycle ---------------------------------------------------------------------

    def start(self, host: str, port: int) -> None:
        """Connect in the background (Connection.connect): never raises for a broker that is down."""
        self.connection.connect(host, port)

    def close(self) -> None:
        """Say offline (a clean disconnect does not fire the will) and disconnect."""
        self.status.say_offline(self.connection)
        self.connection.close()

    @property
    def connected(self) -> bool:
        return self.connection.connected

    # -- the device's own status ------------------------------------------------------------

    @property
    def problems(self) -> list[str]:
        return self.status.problems

    def set_problems(self, problems: Iterable[str]) -> None:
        """Make the device's problems *problems*; the retained status says so if they changed."""
        if self.status.replace(problems):
            self.status.publish(self.client)

    def set_problem(self, problem: str, present: bool = True) -> None:
        """Set (or clear) one problem; the retained status says so if that changed anything."""
        if self.status.set(problem, present):
            self.status.publish(self.client)

    # -- the dispatcher ---------------------------------------------------------------------

    @property
    def dispatcher(self) -> DispatcherView:
        """The dispatcher as its retained status last said (DispatcherView)."""
        return self.watch.view

    def _on_connected(self, client: paho.Client) -> None:
        topics = self.topics + [protocol.status(self.site, d) for d in self.watch.ids]
        if topics:
            client.subscribe([(t, protocol.QOS) for t in topics])
        self.status.publish(client)

    def _on_dispatcher_status(self, client: paho.Client, userdata: Any, msg: Any) -> None:
        if not msg.payload:
            return  # an empty retained message clears the topic; nothing to follow
        try:
            status = protocol.decode(msg.payload)
        except protocol.ProtocolError as exc:
            log.warning("%s: ignored a dispatcher status on %s: %s", self.device_id, msg.topic, exc.message)
            return
        view = self.watch.update(msg.topic.rsplit("/", 1)[-1], status)
        if self.on_dispatcher is None:
            return
        try:
            self.on_dispatcher(view)
        except Exception:  # an exception here would kill paho's network thread
            log.exception("%s: handling the dispatcher's status failed", self.device_id)
