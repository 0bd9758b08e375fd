"""The MPP head's live dashboard: a small read-only web page on the LAN, behind a login.

    antrian dashboard --config FILE --users FILE [--broker HOST:PORT] [--listen 0.0.0.0:8080]
    antrian dashboard-user FILE NAME        (the password is read from stdin)

Three parts, standard library only (the dispatcher's Pi can run it without extras):

- :class:`Hub` is an MQTT client that only reads: the retained board, catalog,
  counter states and device statuses, and the kiosks' replies (the tickets issued
  while it runs). It keeps the latest of each and hands every change to the browsers
  that listen. It never publishes and never opens the database.
- the web server (:class:`Dashboard`, a ``ThreadingHTTPServer``) serves the login
  form, the page (one HTML document with its CSS and JS inlined: the LAN has no
  internet) and ``/peristiwa``, a server-sent event stream: a ``snapshot`` event
  with the whole state when a browser connects, then one ``update`` event per MQTT
  message. The browser's EventSource reconnects by itself and gets a fresh snapshot.
- :class:`Users` is the users file: ``name:scrypt$...`` lines made by
  ``antrian dashboard-user``; passwords are hashed with scrypt and compared in
  constant time. A form login gives an HttpOnly session cookie; nothing but the
  login form is served without one.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import logging
import os
import queue
import re
import secrets
import socket
import sys
import threading
import time
from collections import deque
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from antrian import protocol
from antrian.site import Config
from antrian.adapters.mqtt import Connection, device_client, parse_address
from antrian.errors import DashboardError

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "0.0.0.0:8080"
COOKIE = "antrian_sesi"
SESSION_HOURS = 12  # one working day; then the head logs in again
MAX_SESSIONS = 1000
MAX_CLIENTS = 50  # event streams at once; each holds a thread
MAX_BODY = 4096  # a login form is ~60 bytes
RECENT_TICKETS = 20
KEEPALIVE_SECONDS = 15.0
LOGIN_FAILURES = 5  # per address and LOGIN_WINDOW seconds, then refused until the window passes
LOGIN_WINDOW = 60.0
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
# scrypt with 16 MiB of memory: ~50 ms on a laptop, a few hundred on a Pi.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


# -- passwords and the users file ------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$key`` (base64), for the users file."""
    salt = os.urandom(16)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether *password* matches a stored hash (scrypt, or pbkdf2_sha256$iterations$salt$key)."""
    try:
        parts = stored.split("$")
        secret = password.encode("utf-8")
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(x) for x in parts[1:4])
            expected = base64.b64decode(parts[5], validate=True)
            key = hashlib.scrypt(secret, salt=base64.b64decode(parts[4], validate=True), n=n, r=r, p=p,
                                 dklen=len(expected), maxmem=256 * 1024 * 1024)
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            expected = base64.b64decode(parts[3], validate=True)
            key = hashlib.pbkdf2_hmac("sha256", secret, base64.b64decode(parts[2], validate=True), int(parts[1]),
                                      dklen=len(expected))
        else:
            return False
    except (ValueError, TypeError, UnicodeEncodeError, MemoryError):
        return False
    return hmac.compare_digest(key, expected)


def _read_users(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DashboardError(f"users file {path} does not exist; make it with: "
                             f"antrian dashboard-user {path} NAME") from None
    except OSError as exc:
        raise DashboardError(f"cannot read users file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise DashboardError(f"users file {path} is not UTF-8 text") from None
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        if not sep or not _NAME.match(name) or stored.split("$")[0] not in ("scrypt", "pbkdf2_sha256"):
            raise DashboardError(f"{path}, line {number}: not a 'name:scrypt$...' line made by antrian dashboard-user")
        users[name] = stored
    return users


def set_user(path: str | Path, name: str, password: str) -> bool:
    """Add *name* to the users file, or change its password; True if it was new.

    The file is rewritten atomically and readable by its owner only."""
    path = Path(path)
    if not _NAME.match(name):
        raise DashboardError(f"user name {name!r}: use 1-64 letters, digits, '.', '_', '-' or '@'")
    if len(password) < MIN_PASSWORD:
        raise DashboardError(f"the password must have at least {MIN_PASSWORD} characters")
    users = _read_users(path) if path.exists() else {}
    new = name not in users
    users[name] = hash_password(password)
    _write_users(path, users)
    return new


def remove_user(path: str | Path, name: str) -> None:
    path = Path(path)
    users = _read_users(path)
    if name not in users:
        raise DashboardError(f"no user {name!r} in {path} (known: {', '.join(users) or 'none'})")
    del users[name]
    _write_users(path, users)


def _write_users(path: Path, users: dict[str, str]) -> None:
    lines = ["# Users of the Antrian MPP dashboard: made by `antrian dashboard-user`, do not edit the hashes."]
    lines += [f"{n}:{h}" for n, h in users.items()]
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise DashboardError(f"cannot write users file {path}: {exc.strerror}") from None


class Users:
    """The users file, read at start and again whenever it changes on disk, so a user
    added with ``antrian dashboard-user`` can log in without a restart."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._users = _read_users(self.path)
        if not self._users:
            raise DashboardError(f"users file {self.path} has no users; add one with: "
                                 f"antrian dashboard-user {self.path} NAME")
        # Checked against an unknown name so that it costs as long as a known one.
        self._dummy = hash_password(secrets.token_hex(16))

    def _stat(self) -> tuple[float, int] | None:
        try:
            st = self.path.stat()
            return st.st_mtime, st.st_size
        except OSError:
            return None

    def _refresh(self) -> None:
        stamp = self._stat()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            self._users = _read_users(self.path)
            log.info("dashboard: users file %s re-read: %d user(s)", self.path, len(self._users))
        except DashboardError as exc:
            log.error("dashboard: %s; keeping the users read before", exc)

    def check(self, name: str, password: str) -> bool:
        with self._lock:
            self._refresh()
            stored = self._users.get(name)
        if stored is None:
            verify_password(password, self._dummy)
            return False
        return verify_password(password, stored)


class Sessions:
    """Logged-in browsers: a random token in an HttpOnly cookie -> (user, expiry)."""

    def __init__(self, hours: float = SESSION_HOURS):
        self.seconds = hours * 3600
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[str, float]] = {}

    def create(self, user: str) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._sessions = {t: s for t, s in self._sessions.items() if s[1] > now}
            while len(self._sessions) >= MAX_SESSIONS:  # the oldest goes first
                self._sessions.pop(next(iter(self._sessions)))
            self._sessions[token] = (user, now + self.seconds)
        return token

    def user(self, token: str | None) -> str | None:
        if not token:
            return None
        with self._lock:
            found = self._sessions.get(token)
            if found is None:
                return None
            if found[1] <= time.monotonic():
                del self._sessions[token]
                return None
            return found[0]

    def end(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)


class _Throttle:
    """At most LOGIN_FAILURES wrong passwords per client address in LOGIN_WINDOW seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, address: str) -> bool:
        now = time.monotonic()
        with self._lock:
            times = self._failures.get(address)
            while times and times[0] <= now - LOGIN_WINDOW:
                times.popleft()
            return bool(times) and len(times) >= LOGIN_FAILURES

    def failed(self, address: str) -> None:
        with self._lock:
            if len(self._failures) > 10_000:
                self._failures.clear()
            self._failures.setdefault(address, deque(maxlen=LOGIN_FAILURES)).append(time.monotonic())


# -- the broker side --------------------------------------------------------------------


class _Listener:
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
        self._listeners: set[_Listener] = set()
        self.catalog: dict[str, Any] | None = None
        self.board: dict[str, Any] | None = None
        self.counters: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
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

    def listen(self) -> tuple[_Listener, bytes] | None:
        """A new listener and the snapshot it starts from (taken under the same lock
        as every update, so nothing falls between them); None when too many listen."""
        with self._lock:
            if len(self._listeners) >= MAX_CLIENTS:
                return None
            listener = _Listener()
            self._listeners.add(listener)
            return listener, protocol.encode(self._snapshot())

    def unlisten(self, listener: _Listener) -> None:
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
                "status": self.statuses, "tickets": list(self.tickets), "broker": self.broker_connected}

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


# -- the web side -----------------------------------------------------------------------


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
        self.throttle = _Throttle()
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


# -- the command line (called from antrian.cli) ----------------------------------------


def parse_listen(text: str) -> tuple[str, int]:
    try:
        return parse_address(text, default_port=8080)
    except ValueError as exc:
        raise DashboardError(f"--listen: {str(exc).replace('broker address', 'address')}") from None


def read_password(stream: Any = None) -> str:
    """The new password: asked twice on a terminal, else the first line of stdin."""
    stream = stream or sys.stdin
    if stream.isatty():
        first = getpass.getpass("Kata sandi baru: ")
        if getpass.getpass("Ulangi kata sandi: ") != first:
            raise DashboardError("the two passwords differ; nothing changed")
        return first
    line = stream.readline()
    if not line:
        raise DashboardError("no password on stdin (give it as the first line)")
    return line.rstrip("\r\n")
