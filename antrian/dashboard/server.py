"""The MPP head's live dashboard: a small read-only web page on the LAN, behind a login.

    antrian dashboard --config FILE --users FILE [--broker HOST:PORT] [--listen 0.0.0.0:8080]
    antrian dashboard-user FILE NAME        (the password is read from stdin)

Standard library only (the dispatcher's Pi can run it without extras), in three rooms:

- hub.py: the :class:`Hub`, the MQTT client that only reads the site's live state;
- users.py: the users file (scrypt), the sessions and the login throttle;
- here, the web server (:class:`Dashboard`, a ``ThreadingHTTPServer``) and its routes:
  the login form, the page (one HTML document with its CSS and JS inlined, page.py:
  the LAN has no internet) and ``/peristiwa``, a server-sent event stream: a
  ``snapshot`` event with the whole state when a browser connects, then one
  ``update`` event per MQTT message. The browser's EventSource reconnects by itself
  and gets a fresh snapshot. A form login gives an HttpOnly session cookie; nothing
  but the login form is served without one.
"""

from __future__ import annotations

import logging
import queue
import secrets
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from antrian.adapters.mqtt import parse_address
from antrian.dashboard.hub import Hub
from antrian.dashboard.users import (Sessions, Throttle, Users, hash_password, read_password, remove_user, set_user,
                                     verify_password)
from antrian.errors import DashboardError
from antrian.site import Config

# What antrian.cli and the tests take from here.
__all__ = ["Dashboard", "DashboardError", "Hub", "Users", "hash_password", "parse_listen", "read_password",
           "remove_user", "set_user", "verify_password"]

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "0.0.0.0:8080"
COOKIE = "antrian_sesi"
MAX_BODY = 4096  # a login form is ~60 bytes
KEEPALIVE_SECONDS = 15.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    dashboard: Dashboard


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "AntrianDasbor"
    sys_version = ""
    timeout = 30  # a client that stops sending mid-request is dropped

    # plumbing

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("dashboard: %s %s", self.address_string(), format % args)

    def log_error(self, format: str, *args: Any) -> None:
        log.info("dashboard: %s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_HEAD(self) -> None:
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"", "text/plain; charset=utf-8", {"Allow": "GET, POST"})

    def _route(self, method: str) -> None:
        try:
            path = urlsplit(self.path).path
            handler = _ROUTES.get((method, path))
            if handler is None:
                if any(p == path for _, p in _ROUTES):
                    self._text(HTTPStatus.METHOD_NOT_ALLOWED, "Metode tidak diizinkan.")
                else:
                    self._text(HTTPStatus.NOT_FOUND, "Halaman tidak ditemukan.")
                return
            handler(self)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the browser went away
        except Exception:
            log.exception("dashboard: failed to answer %s %s", method, self.path[:200])
            try:
                self._text(HTTPStatus.INTERNAL_SERVER_ERROR, "Terjadi gangguan pada server dasbor.")
            except OSError:
                pass

    @property
    def dash(self) -> Dashboard:
        return self.server.dashboard

    def _token(self) -> str | None:
        for header in self.headers.get_all("Cookie") or []:
            for part in header.split(";"):
                name, _, value = part.strip().partition("=")
                if name == COOKIE:
                    return value.strip()
        return None

    def _user(self) -> str | None:
        return self.dash.sessions.user(self._token())

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _text(self, status: int, text: str) -> None:
        self._send(status, text.encode("utf-8") + b"\n", "text/plain; charset=utf-8")

    def _html(self, status: int, page: str, nonce: str, headers: dict[str, str] | None = None) -> None:
        csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; connect-src 'self'; "
               "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        self._send(status, page.encode("utf-8"), "text/html; charset=utf-8",
                   {"Content-Security-Policy": csp, **(headers or {})})

    def _redirect(self, where: str, headers: dict[str, str] | None = None) -> None:
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain; charset=utf-8", {"Location": where, **(headers or {})})

    def _login_page(self, status: int, error: str = "", name: str = "") -> None:
        from antrian.dashboard.page import login_html

        nonce = secrets.token_urlsafe(16)
        self._html(status, login_html(self.dash.config.site.name, nonce, error=error, name=name), nonce)

    def _form(self) -> dict[str, str] | None:
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            self._text(HTTPStatus.LENGTH_REQUIRED if not length else HTTPStatus.BAD_REQUEST, "Permintaan tidak valid.")
            return None
        if int(length) > MAX_BODY:
            if int(length) <= 1024 * 1024:
                self.rfile.read(int(length))  # read it, so the answer is not lost in a connection reset
            self._text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "Permintaan terlalu besar.")
            return None
        try:
            raw = self.rfile.read(int(length)).decode("utf-8")
        except UnicodeDecodeError:
            self._text(HTTPStatus.BAD_REQUEST, "Permintaan tidak valid.")
            return None
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True, max_num_fields=20).items()}

    # routes

    def page(self) -> None:
        from antrian.dashboard.page import dashboard_html

        user = self._user()
        if user is None:
            self._redirect("/masuk")
            return
        nonce = secrets.token_urlsafe(16)
        self._html(HTTPStatus.OK, dashboard_html(self.dash.config.site.name, user, nonce), nonce)

    def login_form(self) -> None:
        if self._user() is not None:
            self._redirect("/")
            return
        self._login_page(HTTPStatus.OK)

    def login(self) -> None:
        address = self.client_address[0]
        form = self._form()
        if form is None:
            return
        name = form.get("nama", "").strip()
        password = form.get("sandi", "")
        if self.dash.throttle.blocked(address):
            log.warning("dashboard: login of %r from %s refused: too many wrong passwords", name[:64], address)
            self._login_page(HTTPStatus.TOO_MANY_REQUESTS, "Terlalu banyak percobaan yang salah. "
                             "Silakan coba lagi dalam satu menit.", name)
            return
        if not name or not password:
            self._login_page(HTTPStatus.BAD_REQUEST, "Isi nama pengguna dan kata sandi.", name)
            return
        if not self.dash.users.check(name, password):
            self.dash.throttle.failed(address)
            log.warning("dashboard: wrong user name or password for %r from %s", name[:64], address)
            self._login_page(HTTPStatus.UNAUTHORIZED, "Nama pengguna atau kata sandi salah.", name)
            return
        token = self.dash.sessions.create(name)
        log.info("dashboard: %s logged in from %s", name, address)
        cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={int(self.dash.sessions.seconds)}"
        self._redirect("/", {"Set-Cookie": cookie})

    def logout(self) -> None:
        user = self._user()
        self.dash.sessions.end(self._token())
        if user:
            log.info("dashboard: %s logged out", user)
        self._redirect("/masuk", {"Set-Cookie": f"{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"})

    def favicon(self) -> None:
        self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")

    def events(self) -> None:
        token = self._token()
        if self.dash.sessions.user(token) is None:
            self._text(HTTPStatus.UNAUTHORIZED, "Silakan masuk terlebih dahulu.")
            return
        joined = self.dash.hub.listen()
        if joined is None:
            self._text(HTTPStatus.SERVICE_UNAVAILABLE, "Terlalu banyak tampilan dasbor yang terbuka.")
            return
        listener, snapshot = joined
        try:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Accel-Buffering", "no")
            self.end_headers()
            self.wfile.write(b"retry: 2000\n\nevent: snapshot\ndata: " + snapshot + b"\n\n")
            while not self.dash.closing.is_set() and not listener.dropped:
                try:
                    item = listener.queue.get(timeout=KEEPALIVE_SECONDS)
                except queue.Empty:
                    if self.dash.sessions.user(token) is None:
                        break  # logged out (in another tab) or expired: the page goes to the login
                    self.wfile.write(b": tetap tersambung\n\n")
                    continue
                if item is None:
                    break
                self.wfile.write(b"event: update\ndata: " + item + b"\n\n")
        finally:
            self.dash.hub.unlisten(listener)
        self.close_connection = True


_ROUTES = {
    ("GET", "/"): _Handler.page,
    ("GET", "/masuk"): _Handler.login_form,
    ("POST", "/masuk"): _Handler.login,
    ("POST", "/keluar"): _Handler.logout,
    ("GET", "/peristiwa"): _Handler.events,
    ("GET", "/favicon.ico"): _Handler.favicon,
}


class Dashboard:
    """The hub and the web server together. ``start()`` binds (raising DashboardError
    for a busy port) and connects; ``close()`` stops both."""

    def __init__(self, config: Config, users: Users | str | Path, listen: tuple[str, int] = ("0.0.0.0", 8080),
                 *, hub: Hub | None = None):
        self.config = config
        self.users = users if isinstance(users, Users) else Users(users)
        self.sessions = Sessions()
        self.throttle = Throttle()
        self.hub = hub or Hub(config)
        self.listen = listen
        self.closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None
        return self._server.server_address[:2]

    @property
    def url(self) -> str:
        host, port = self.address
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self, broker_host: str, broker_port: int) -> Dashboard:
        host, port = self.listen
        server_class = _Server
        if ":" in host:
            server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        try:
            self._server = server_class((host, port), _Handler)
        except OSError as exc:
            raise DashboardError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self._server.dashboard = self
        self.hub.start(broker_host, broker_port)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="dashboard-http", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self.closing.set()
        self.hub.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)




def parse_listen(text: str) -> tuple[str, int]:
    try:
        return parse_address(text, default_port=8080)
    except ValueError as exc:
        raise DashboardError(f"--listen: {str(exc).replace('broker address', 'address')}") from None
