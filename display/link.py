"""A board's MQTT side: Board, Call and the dispatcher's status in; the board's own status out.

Callbacks run on paho's network thread, in the order the broker delivers: a Call is
always handled before the Board message the dispatcher publishes after it. The
board's retained DeviceStatus says ``online: true`` (with its current problems) after
every (re)connect, and the retained will says ``online: false`` when it dies.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any, Callable

from antrian import __version__, protocol
from antrian.site import Config
from antrian.adapters.mqtt import Connection, device_client

log = logging.getLogger(__name__)

__all__ = ["BoardLink"]

Handler = Callable[[dict[str, Any]], None]


class BoardLink:
    """Subscribes a display device to what a board needs.

    *on_board(board)*, *on_call(call)* and *on_dispatcher(status)* get decoded JSON
    objects; a payload that is not a JSON object is logged and dropped.
    """

    def __init__(self, config: Config, device_id: str, *, on_board: Handler, on_call: Handler,
                 on_dispatcher: Handler | None = None) -> None:
        self.config = config
        self.site = config.site.id
        self.device_id = device_id
        self.on_board, self.on_call, self.on_dispatcher = on_board, on_call, on_dispatcher
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._dispatchers = [d.id for d in config.devices.values() if d.role == "dispatcher"] or ["dispatcher"]
        client = device_client(config, device_id, "display")  # its broker user, TLS and will
        self.connection = Connection(client)
        client.message_callback_add(protocol.board(self.site), self._board)
        client.message_callback_add(protocol.call(self.site), self._call)
        for dispatcher in self._dispatchers:
            client.message_callback_add(protocol.status(self.site, dispatcher), self._status)
        self.connection.on_connected(self._subscribe)

    @property
    def connected(self) -> bool:
        return self.connection.connected

    def start(self, host: str, port: int) -> None:
        self.connection.connect(host, port)

    def stop(self) -> None:
        """Say "offline" (a clean disconnect does not fire the will) and disconnect."""
        if self.connection.connected:
            info = self.connection.publish_json(protocol.status(self.site, self.device_id),
                                                protocol.device_will(self.device_id, "display"),
                                                retain=True)
            info.wait_for_publish(timeout=2)
        self.connection.close()

    def set_problems(self, problems: list[str]) -> None:
        """Publish the board's problems (``speech_error``, ``audio_error``) in its status."""
        with self._lock:
            if problems == self.problems:
                return
            self.problems = list(problems)
        if self.connection.connected:
            self._publish_status(self.connection.client)

    def status(self) -> dict[str, Any]:
        return protocol.device_status(self.device_id, "display", True, self.problems, __version__,
                                      dt.datetime.now(self.config.tz).isoformat(timespec="seconds"))

    def _publish_status(self, client) -> None:
        client.publish(protocol.status(self.site, self.device_id), protocol.encode(self.status()),
                       qos=protocol.QOS, retain=True)

    def _subscribe(self, client) -> None:
        topics = [protocol.board(self.site), protocol.call(self.site)]
        topics += [protocol.status(self.site, d) for d in self._dispatchers]
        client.subscribe([(t, protocol.QOS) for t in topics])
        self._publish_status(client)

    def _decode(self, msg) -> dict[str, Any] | None:
        try:
            return protocol.decode(msg.payload)
        except protocol.ProtocolError as exc:
            log.warning("board %s: dropped a message on %s: %s", self.device_id, msg.topic, exc.message)
            return None

    def _deliver(self, handler: Handler | None, msg) -> None:
        obj = self._decode(msg)
        if obj is None or handler is None:
            return
        try:
            handler(obj)
        except Exception:  # noqa: BLE001 -- an exception here would kill paho's network thread
            log.exception("board %s: handling a message on %s failed", self.device_id, msg.topic)

    def _board(self, client, userdata, msg) -> None:
        self._deliver(self.on_board, msg)

    def _call(self, client, userdata, msg) -> None:
        self._deliver(self.on_call, msg)

    def _status(self, client, userdata, msg) -> None:
        self._deliver(self.on_dispatcher, msg)
