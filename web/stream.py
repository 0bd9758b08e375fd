"""Server-sent events for the pages: one helper that every live page uses.

:func:`event_stream` answers an ``EventSource`` with what the page starts from (its
snapshot, built after the listener is registered, so no change falls between the two)
and then one SSE message per hub event the page cares about. A keep-alive comment goes
out every KEEPALIVE seconds (TVs and proxies close a silent connection), a client that
does not take a message within SEND_TIMEOUT is cut off, and more than the app's
``max_clients`` streams get 503 (the browser retries by itself).

A page gives two functions:

- ``first(last_event_id) -> list[Message]``: the messages to start with; the
  ``Last-Event-ID`` the browser sends on a reconnect is passed in (None on a first
  connect), so a board can send just the calls it missed;
- ``convert(event) -> list[Message]``: the messages for one hub event (none to skip it).

and may give ``watch(listener) -> done``, called when the stream starts (with its
listener, whose ``end()`` ends the stream) and whose ``done()`` is called when it ends:
how a browser board's pages are counted (web/papan_hadir.py).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterable

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.exceptions import HTTPException
from starlette.requests import Request

from web.hub import Event, Listener

if TYPE_CHECKING:
    from web.app import Web

__all__ = ["KEEPALIVE", "Message", "event_stream", "message"]

log = logging.getLogger("antrian.web")

KEEPALIVE = 15.0
SEND_TIMEOUT = 30.0
RETRY_MS = 2000  # how soon a browser reconnects after the stream ends

Message = ServerSentEvent


def message(event: str, data: Any, id: str | int | None = None) -> Message:
    """One SSE message: *data* as compact JSON (escaped by the page when shown)."""
    return ServerSentEvent(json.dumps(data, ensure_ascii=False, separators=(",", ":")), event=event,
                           id=None if id is None else str(id), retry=RETRY_MS)


def event_stream(web: Web, request: Request, *, kinds: Iterable[str] | None,
                 first: Callable[[str | None], list[Message]],
                 convert: Callable[[Event], list[Message]],
                 watch: Callable[[Listener], Callable[[], None]] | None = None) -> EventSourceResponse:
    """The SSE response of one page (raises 503 when the app has max_clients streams)."""
    hub = web.hub
    if hub.listeners() >= web.options.max_clients:
        raise HTTPException(503)
    listener = hub.listen(kinds)
    last_id = request.headers.get("last-event-id") or request.query_params.get("last") or None
    if last_id is not None and len(last_id) > 64:
        last_id = None

    async def messages() -> AsyncIterator[Message]:
        # Watched from here, not from the request: a response never sent is never counted.
        done = watch(listener) if watch is not None else None
        try:
            for m in first(last_id):
                yield m
            while True:
                event = await listener.next()
                if event is None:
                    return  # dropped for being slow, or the app stops: the browser reconnects
                for m in convert(event):
                    yield m
        finally:
            hub.unlisten(listener)
            if done is not None:
                done()

    # At shutdown the hub ends every stream (web/server.py); the grace lets the generator
    # return and the response close cleanly instead of being cancelled half-way.
    return EventSourceResponse(messages(), ping=KEEPALIVE, send_timeout=SEND_TIMEOUT, shutdown_grace_period=2.0,
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
