"""Running one app: :func:`build` makes the :class:`~web.app.Web` of a device from the
site file, :func:`serve` runs it on uvicorn until a signal (``antrian web``).

uvicorn is set for a small machine facing browsers it does not trust: a bound on open
connections (``max_clients`` streams plus room for page loads), a short keep-alive,
small request heads, no server header, and the reverse proxy's X-Forwarded-For
believed only from ``forwarded_allow_ips``.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from antrian.errors import CommandError
from antrian.links import site_secret
from antrian.site import Config
from web import options as web_options
from web.app import Web, make_app, templates
from web.hub import Hub

__all__ = ["build", "serve"]

log = logging.getLogger("antrian.web")

HEAD_TIMEOUT = 10.0  # seconds for a request's head to arrive, from the first byte or the connection


class GuardedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for the request head: uvicorn itself
    waits for ever for a connection that sends nothing, or one byte at a time, so a
    few hundred such clients would hold every slot of ``limit_concurrency``."""

    _head_timer: Any = None

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._waiting_head():
            if self._head_timer is None:
                self._arm()
        elif self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _waiting_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm(self) -> None:
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timeout)

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self._waiting_head() and not self.transport.is_closing():
            self.transport.close()


def _site_path(config: Config, value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_absolute():
        source = Path(config.source)
        path = (source.parent if source.suffix in (".yaml", ".yml") else Path.cwd()) / path
    return path


def build(config: Config, device: str, *, users: str | None = None) -> Web:
    """The app's shared parts: its options, its hub (not yet connected), its secret."""
    options = web_options.read(config, device)
    users_file = users or options.users
    return Web(config=config, device=device, options=options, hub=Hub(config, device), templates=templates(),
               secret=site_secret(config), users_file=_site_path(config, users_file) if users_file else None,
               https=bool(options.tls_cert))


def uvicorn_config(web: Web, broker: tuple[str, int], listen: tuple[str, int]):
    """The app of *web* on uvicorn, set as the module docstring says."""
    import uvicorn

    o = web.options
    cert = key = None
    if o.tls_cert and o.tls_key:
        cert, key = str(_site_path(web.config, o.tls_cert)), str(_site_path(web.config, o.tls_key))
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            raise CommandError(f"{web.device}: tls_cert/tls_key {cert}, {key} cannot be used: {exc}") from None
    return uvicorn.Config(
        make_app(web, broker=broker), host=listen[0], port=listen[1], log_level="warning", access_log=False,
        lifespan="on", server_header=False, timeout_keep_alive=5, timeout_graceful_shutdown=3,
        limit_concurrency=o.max_clients + 100, h11_max_incomplete_event_size=16 * 1024,
        proxy_headers=True, forwarded_allow_ips=o.forwarded_allow_ips, ssl_certfile=cert, ssl_keyfile=key,
        http=GuardedH11, ws="none")


def serve(web: Web, broker: tuple[str, int], listen: tuple[str, int]) -> None:
    """Run the app until SIGINT or SIGTERM (uvicorn handles both)."""
    import uvicorn

    config = uvicorn_config(web, broker, listen)
    log.info("web %s (%s app) on %s://%s:%d, broker %s:%d", web.device, "public" if web.public else "staff",
             "https" if config.ssl_certfile else "http", listen[0], listen[1], *broker)
    class Server(uvicorn.Server):
        # uvicorn waits for open responses before the app's shutdown; the event streams
        # never end by themselves, so they are ended here, at the signal, rather than
        # cut off after timeout_graceful_shutdown.
        def handle_exit(self, sig: int, frame: Any) -> None:
            web.hub.end_streams()
            super().handle_exit(sig, frame)

    Server(config).run()
