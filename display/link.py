"""A board's MQTT side: Board, Call and the dispatcher's status in; the board's own status out.

Callbacks run on paho's network thread, in the order the broker delivers: a Call is
always handled before the Board message the dispatcher publishes after it. The
board's retained DeviceStatus (its problems: ``speech_error``, ``audio_error``), its
will and the dispatcher's status are the core's device link
(antrian.adapters.link.DeviceLink).
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from antrian import protocol
from antrian.adapters.link import DeviceLink, DispatcherView
from antrian.site import Config

log = logging.getLogger(__name__)

__all__ = ["BoardLink"]

Handler = Callable[[dict[str, Any]], None]


class BoardLink(DeviceLink):
    """Subscribes a display device to what a board needs.

    *on_board(board)* and *on_call(call)* get decoded JSON objects (a payload that is
    not a JSON object is logged and dropped); *on_dispatcher(view)* gets the
    dispatcher's status as a DispatcherView.
    """

    def __init__(self, config: Config, device_id: str, *, on_board: Handler, on_call: Handler,
                 on_dispatcher: Callable[[DispatcherView], None] | None = None) -> None:
        self.on_board, self.on_call = on_board, on_call
        site = config.site.id
        # Its broker user, TLS and will; the status after the subscriptions on every (re)connect.
        super().__init__(config, device_id, "display", topics=[protocol.board(site), protocol.call(site)],
                         on_dispatcher=on_dispatcher)
        self.client.message_callback_add(protocol.board(site), self._board)
        self.client.message_callback_add(protocol.call(site), self._call)

    def _decode(self, msg) -> dict[str, Any] | None:
        try:
            return protocol.decode(msg.payload, protocol.MAX_STATE_PAYLOAD)
        except protocol.ProtocolError as exc:
            log.warning("board %s: dropped a message on %s: %s", self.device_id, msg.topic, exc.message)
            return None

    def _deliver(self, handler: Handler, msg) -> None:
        obj = self._decode(msg)
        if obj is None:
            return
        try:
            handler(obj)
        except Exception:  # noqa: BLE001 -- an exception here would kill paho's network thread
            log.exception("board %s: handling a message on %s failed", self.device_id, msg.topic)

    def _board(self, client, userdata, msg) -> None:
        self._deliver(self.on_board, msg)

    def _call(self, client, userdata, msg) -> None:
        self._deliver(self.on_call, msg)
