"""The two apps of the web wing, made from one site file: :func:`make_app`.

- :class:`Web` is what every page module gets: the site, this app's device and
  options, the :class:`~web.hub.Hub`, the templates (Jinja2, autoescaped) and the app's
  secret.
- The staff app (``public: false``) serves ``/masuk``, ``/keluar``, ``/dasbor``, ``/loket`` and
  ``/papan/{device}``; the public app (``public: true``) only the citizen's pages
  (``/t/{token}``, ``/reservasi``). A route of the other app is not mounted at all, so the public app
  answers a staff route with the same plain 404 as any unknown address.
- Every response carries the security headers (web/guard.py); bodies are bounded.

Each page module exposes ``routes(web) -> list[Route]``; the lists below are the
whole map of the site (DESIGN.md, "The browser parts").
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from antrian import __version__
from antrian.site import Config
from web import auth, dasbor, guard, loket, papan, reservasi, tiket
from web.hub import Hub
from web.options import WebOptions

__all__ = ["Web", "make_app"]

log = logging.getLogger("antrian.web")
HERE = Path(__file__).parent

STAFF_PAGES = (auth, dasbor, loket, papan)
PUBLIC_PAGES = (tiket, reservasi)

# What a person sees for an error: one Indonesian sentence, never a stack trace.
ERROR_TEXT = {
    400: "Permintaan tidak dapat diproses.",
    401: "Silakan masuk terlebih dahulu.",
    403: "Akses ditolak.",
    404: "Halaman tidak ditemukan.",
    405: "Metode tidak diizinkan.",
    413: "Data yang dikirim terlalu besar.",
    429: "Terlalu banyak permintaan. Silakan coba lagi sebentar lagi.",
    503: "Layanan sedang sibuk. Silakan coba lagi sebentar lagi.",
}


@dataclasses.dataclass
class Web:
    """What the pages of one app share."""

    config: Config
    device: str
    options: WebOptions
    hub: Hub
    templates: Jinja2Templates
    secret: bytes
    users_file: Path | None = None
    https: bool = False
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)  # a page module's own state

    @property
    def public(self) -> bool:
        return self.options.public

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
        """A page from web/templates/ with the site's name and the app's version at hand."""
        context.setdefault("site", self.config.site)
        context.setdefault("version", __version__)
        return self.templates.TemplateResponse(request, template, context, status_code=status_code)


def templates() -> Jinja2Templates:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return Jinja2Templates(env=env)


async def _error(request: Request, exc: Exception) -> Response:
    code = exc.status_code if isinstance(exc, HTTPException) else 500
    text = ERROR_TEXT.get(code, "Terjadi kesalahan. Silakan coba lagi.")
    if request.url.path.startswith("/api/") or "text/event-stream" in request.headers.get("accept", ""):
        return JSONResponse({"error": text}, status_code=code)
    return PlainTextResponse(text, status_code=code, headers=getattr(exc, "headers", None))


async def _health(request: Request) -> Response:
    """For systemd, the reverse proxy and the tests: is the app up, and is its broker?"""
    web: Web = request.app.state.web
    return JSONResponse({"ok": True, "device": web.device, "broker": web.hub.broker_connected})


def make_app(web: Web, *, broker: tuple[str, int] | None = None) -> Starlette:
    """The staff or the public app of *web*; with *broker*, the hub connects there when
    the app starts (the tests may start the hub themselves)."""
    pages = PUBLIC_PAGES if web.public else STAFF_PAGES
    routes: list[BaseRoute] = [Route("/sehat", _health),
                               Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static")]
    for page in pages:
        routes += page.routes(web)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        import asyncio

        if broker is not None:
            web.hub.start(*broker, asyncio.get_running_loop())
        try:
            yield
        finally:
            if broker is not None:
                web.hub.close()

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _error, 500: _error},
                    middleware=guard.middleware(web))
    app.state.web = web
    return app
