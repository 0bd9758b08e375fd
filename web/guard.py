"""What every response and request of the web apps goes through (pure ASGI middleware).

- :class:`Headers` adds the security headers to every response: a strict
  Content-Security-Policy (scripts, styles, fonts and media from the app itself only;
  no inline script, no frames), no MIME sniffing, referrers only within the app (a citizen's ticket
  address never leaks to another site), and HSTS under HTTPS.
- :class:`BodyLimit` answers 413 to a body over MAX_BODY (by its Content-Length, or
  counted as it arrives for a chunked one) and 408 to a body that trickles in slower
  than BODY_TIMEOUT allows, so a slow or oversized client cannot hold the server.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.middleware import Middleware

if TYPE_CHECKING:
    from web.app import Web

__all__ = ["BodyLimit", "CSP", "Headers", "MAX_BODY", "middleware"]

MAX_BODY = 16 * 1024  # a login or a survey is a few hundred bytes
BODY_TIMEOUT = 10.0  # seconds for the whole body to arrive

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "media-src 'self' blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


class Headers:
    """Adds the security headers to every HTTP response."""

    def __init__(self, app: Any, https: bool = False) -> None:
        self.app = app
        self.headers = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY"),
                        (b"cross-origin-opener-policy", b"same-origin")]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in self.headers if h[0] not in have]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """413 for a body over *limit* bytes, 408 for one slower than *timeout* seconds."""

    def __init__(self, app: Any, limit: int = MAX_BODY, timeout: float = BODY_TIMEOUT) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _plain(send, 413, "Data yang dikirim terlalu besar.")
            return
        received = 0
        deadline: float | None = None
        started = False

        async def limited_receive() -> dict:
            nonlocal received, deadline
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + self.timeout
            wait = None if deadline == float("inf") else max(0.0, deadline - loop.time())
            try:
                message = await asyncio.wait_for(receive(), wait)
            except asyncio.TimeoutError:
                raise _TooLarge(408) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge(413)
                if not message.get("more_body", False):
                    deadline = float("inf")  # the body is in: a stream may now wait as long as it likes
            return message

        async def tracking_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge as exc:
            if not started:
                code = exc.args[0]
                await _plain(send, code, "Data yang dikirim terlalu besar." if code == 413
                             else "Waktu pengiriman data habis.")


async def _plain(send: Any, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def middleware(web: Web) -> list[Middleware]:
    """The middleware of an app, outermost first."""
    return [Middleware(Headers, https=web.https), Middleware(BodyLimit)]
