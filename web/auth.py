"""Who is logged in to the staff app, and the login itself (``/masuk``, ``/keluar``, ``/``).

What the other pages use:

- :func:`current_user` — the :class:`StaffUser` of a request's session cookie, or None
  (absent, forged, expired, logged out, or the user removed or changed since);
- :func:`require` — the same, or a redirect to ``/masuk?lanjut=...`` (pages), 401
  (``/api/...`` and event streams), 403 for a role not allowed (logged);
- :func:`csrf_token` for a form's hidden ``csrf`` field and :func:`check_form`, which
  reads a posted form and refuses it (403, logged) without the right token or with an
  Origin (or Referer) other than the app's own (the app's ``Referrer-Policy:
  same-origin``, web/guard.py, lets a browser send it);
- logging out: a form posting ``csrf`` to ``/keluar``, or a link to ``/keluar`` (a page
  with that button).

The session cookie holds a random session id signed with a key derived from the site
secret (itsdangerous); the session itself is kept server-side (web/sessions.py: a
bounded table saved to a file, so sessions survive a restart and logout really ends
them). A login is throttled per user name and per client address before its password
is hashed (web/throttle.py), and at most HASH_SLOTS hashes run at once with
HASH_QUEUE waiting; beyond that the answer is 503 "sedang sibuk".
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import quote, urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web.sessions import SESSION_SECONDS, Sessions, fingerprint, sessions_file
from web.throttle import Throttle, client_key
from web.users import StaffUser, Users, UsersError

if TYPE_CHECKING:
    from web.app import Web

__all__ = ["StaffUser", "check_form", "csrf_token", "current_user", "require", "routes"]

log = logging.getLogger("antrian.web")

COOKIE = "antrian_sesi"
FORM_COOKIE = "antrian_form"  # binds the login form's CSRF token to this browser before any session
# One argon2id hash at a time: it takes 64 MiB and already runs its 4 lanes on 4 cores,
# so a second one at once would double the memory and halve the speed of each.
HASH_SLOTS = 1
HASH_QUEUE = 20  # logins waiting for the slot (a few seconds on a Pi); more get 503
HOME = {"kepala": "/dasbor", "admin": "/dasbor", "petugas": "/loket"}

WRONG = "Nama pengguna atau kata sandi salah."
BUSY = "Layanan sedang sibuk. Silakan coba lagi sebentar lagi."
EXPIRED_FORM = "Formulir sudah kedaluwarsa. Silakan coba masuk lagi."


class HashGate:
    """At most *slots* password hashes at once in their own threads, *queue* waiting."""

    def __init__(self, slots: int, queue: int) -> None:
        self.slots, self.queue = slots, queue
        self.inside = 0
        self._semaphore: asyncio.Semaphore | None = None
        self._pool = ThreadPoolExecutor(slots, thread_name_prefix="antrian-hash")

    def enter(self) -> bool:
        """Take a place (running or waiting), or False when the line is full."""
        if self.inside >= self.slots + self.queue:
            return False
        self.inside += 1
        return True

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run *fn* in a slot; the caller has entered."""
        try:
            if self._semaphore is None:
                self._semaphore = asyncio.Semaphore(self.slots)
            async with self._semaphore:
                return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)
        finally:
            self.inside -= 1


class Auth:
    """The staff app's login state: users, sessions, throttles, the hash gate, keys."""

    def __init__(self, web: Web) -> None:
        self.users = Users(web.users_file, web.config.counters, str(web.config.source)) if web.users_file else None
        if self.users is None:
            log.warning("%s: no users file: nobody can log in", web.device)
        self.sessions = Sessions(sessions_file(web.device, web.users_file))
        self.names = Throttle("name", limit=10, decay=60.0)  # 10 at once, then one a minute
        self.addresses = Throttle("address", limit=10, decay=12.0)  # 10 at once, then five a minute
        self.gate = HashGate(HASH_SLOTS, HASH_QUEUE)
        self.signer = URLSafeTimedSerializer(_key(web.secret, b"session cookie"), salt="antrian-sesi")
        self.csrf_key = _key(web.secret, b"csrf")


def _key(secret: bytes, purpose: bytes) -> bytes:
    """A key of its own for each use, derived from the site secret (never the secret itself)."""
    return hmac.new(secret, b"antrian web: " + purpose, hashlib.sha256).digest()


def _auth(web: Web) -> Auth:
    auth = web.extra.get("auth")
    if auth is None:
        auth = web.extra["auth"] = Auth(web)
    return auth


def _session_id(web: Web, request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 300:
        return None
    try:
        sid = _auth(web).signer.loads(token, max_age=SESSION_SECONDS)
    except BadSignature:  # also a signature too old (SignatureExpired)
        return None
    return sid if isinstance(sid, str) else None


def current_user(web: Web, request: Request) -> StaffUser | None:
    """The logged-in user of *request*, or None."""
    if "staff_user" in request.scope.get("state", {}):
        return request.state.staff_user
    user = None
    sid = _session_id(web, request)
    auth = _auth(web)
    session = auth.sessions.get(sid) if sid else None
    if session is not None and auth.users is not None:
        entry = auth.users.get(session.name)
        if entry is not None and entry.user == session.user and fingerprint(entry.hash) == session.stamp:
            user = entry.user
        else:
            log.info("session of %s ended: the user was removed or changed in the users file", session.name)
            auth.sessions.end(sid)
    request.state.staff_user = user
    return user


def require(web: Web, request: Request, *roles: str) -> StaffUser:
    """The logged-in user if their role is one of *roles* (any role when none given)."""
    user = current_user(web, request)
    if user is None:
        if request.url.path.startswith("/api/") or "text/event-stream" in request.headers.get("accept", ""):
            raise HTTPException(401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, headers={"Location": "/masuk?lanjut=" + quote(target, safe="/")})
    if roles and user.role not in roles:
        log.warning("%s (%s) refused %s: for %s only", user.name, user.role, request.url.path, ", ".join(roles))
        raise HTTPException(403)
    return user


def _mac(web: Web, what: str) -> str:
    mac = hmac.new(_auth(web).csrf_key, what.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _form_secret(request: Request) -> str:
    value = request.cookies.get(FORM_COOKIE, "")
    if not (20 <= len(value) <= 64):
        value = getattr(request.state, "form_secret", None) or secrets.token_urlsafe(24)
        request.state.form_secret = value  # set as a cookie by the login page
    return value


def csrf_token(web: Web, request: Request) -> str:
    """The token for a form's hidden ``csrf`` field: bound to the session, or before a
    login to this browser's form cookie."""
    sid = _session_id(web, request)
    if sid and current_user(web, request) is not None:
        return _mac(web, "session:" + sid)
    return _mac(web, "form:" + _form_secret(request))


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}".lower()


async def check_form(web: Web, request: Request) -> FormData:
    """The posted form, if its ``csrf`` token is right and it comes from this app's own
    pages (Origin, or Referer when the browser sent no Origin); else 403, logged."""
    origin = request.headers.get("origin")
    if origin is None and request.headers.get("referer"):
        parts = urlsplit(request.headers["referer"])
        origin = f"{parts.scheme}://{parts.netloc}"
    form = await request.form(max_files=0, max_fields=20)
    sent = form.get("csrf")
    sid = _session_id(web, request)
    good = [_mac(web, "form:" + request.cookies[FORM_COOKIE])] if FORM_COOKIE in request.cookies else []
    if sid:
        good.append(_mac(web, "session:" + sid))
    problem = None
    if origin is None or origin.lower() != own_origin(request):
        problem = f"origin {origin!r} is not {own_origin(request)!r}"
    elif not isinstance(sent, str) or not any(hmac.compare_digest(sent, g) for g in good):
        problem = "no CSRF token" if not sent else "a wrong CSRF token"
    if problem:
        log.warning("form %s from %s refused: %s", request.url.path, _address(request), problem)
        raise HTTPException(403)
    return form


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


def _local(target: str | None) -> str | None:
    """*target* if it is a path of this app (``/dasbor?x=1``), else None."""
    if not target or len(target) > 500 or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _wait_text(seconds: float) -> str:
    if seconds <= 60:
        return f"{max(1, round(seconds))} detik"
    return f"{-(-int(seconds) // 60)} menit"


def _page(web: Web, request: Request, status: int = 200, error: str = "", name: str = "",
          lanjut: str | None = None, user: StaffUser | None = None) -> Response:
    response = web.render(request, "masuk.html", status_code=status, csrf=csrf_token(web, request), error=error,
                          name=name, lanjut=lanjut or "", user=user)
    response.headers["Cache-Control"] = "no-store"
    form_secret = getattr(request.state, "form_secret", None)
    if form_secret:
        response.set_cookie(FORM_COOKIE, form_secret, path="/", httponly=True, samesite="strict",
                            secure=_secure(web, request))
    return response


def _secure(web: Web, request: Request) -> bool:
    return web.https or request.url.scheme == "https"


async def login_page(request: Request) -> Response:
    web: Web = request.app.state.web
    lanjut = _local(request.query_params.get("lanjut"))
    user = current_user(web, request)
    if user is not None:
        return RedirectResponse(lanjut or HOME.get(user.role, "/"), 303)
    return _page(web, request, lanjut=lanjut)


async def login(request: Request) -> Response:
    web: Web = request.app.state.web
    auth = _auth(web)
    try:
        form = await check_form(web, request)
    except HTTPException:
        return _page(web, request, 403, EXPIRED_FORM)
    name, password = str(form.get("nama", ""))[:64].strip(), str(form.get("sandi", ""))[:1024]
    lanjut = _local(str(form.get("lanjut", "")))
    if not name or not password:
        return _page(web, request, 400, "Isi nama pengguna dan kata sandi.", name, lanjut)
    address = client_key(_address(request))
    # Counted before the hash: a burst of parallel guesses is cut off at the limit.
    wait = max(auth.names.wait(name), auth.addresses.wait(address))
    if wait <= 0 and not (auth.names.charge(name) and auth.addresses.charge(address)):
        wait = auth.names.decay
    if wait > 0:
        log.warning("login of %r from %s refused: too many attempts (wait %.0f s)", name, address, wait)
        return _page(web, request, 429, f"Terlalu banyak percobaan masuk. Silakan coba lagi dalam "
                     f"{_wait_text(wait)}.", name, lanjut)
    if not auth.gate.enter():
        auth.names.forgive(name)
        auth.addresses.forgive(address)
        log.warning("login of %r from %s refused: %d logins already waiting", name, address, auth.gate.inside)
        return _page(web, request, 503, BUSY, name, lanjut)
    entry = await auth.gate.run(auth.users.check, name, password) if auth.users else None
    if entry is None:
        log.warning("login of %r from %s failed: wrong name or password", name, address)
        return _page(web, request, 401, WRONG, name, lanjut)
    auth.names.forgive(name, all=True)
    auth.addresses.forgive(address)
    if auth.users is not None and auth.gate.enter():
        if await auth.gate.run(auth.users.rehash, entry, password):
            entry = auth.users.get(name) or entry
    old = _session_id(web, request)
    if old:
        auth.sessions.end(old)
    sid = auth.sessions.create(entry.user, fingerprint(entry.hash))
    log.info("%s (%s) logged in from %s", name, entry.user.role, address)
    response = RedirectResponse(lanjut or HOME.get(entry.user.role, "/"), 303)
    response.set_cookie(COOKIE, auth.signer.dumps(sid), max_age=SESSION_SECONDS, path="/", httponly=True,
                        samesite="strict", secure=_secure(web, request))
    response.headers["Cache-Control"] = "no-store"
    return response


async def logout_page(request: Request) -> Response:
    """A button to log out, for a page that only links to /keluar."""
    web: Web = request.app.state.web
    user = current_user(web, request)
    return _page(web, request, user=user) if user else RedirectResponse("/masuk", 303)


async def logout(request: Request) -> Response:
    web: Web = request.app.state.web
    await check_form(web, request)
    sid = _session_id(web, request)
    if sid:
        session = _auth(web).sessions.get(sid)
        _auth(web).sessions.end(sid)
        if session is not None:
            log.info("%s logged out", session.name)
    response = RedirectResponse("/masuk", 303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(web, request))
    return response


async def home(request: Request) -> Response:
    web: Web = request.app.state.web
    user = require(web, request)
    return RedirectResponse(HOME.get(user.role, "/masuk"), 303)


def routes(web: Web) -> list[Route]:
    try:
        _auth(web)
    except UsersError as exc:
        from antrian.errors import CommandError

        raise CommandError(str(exc)) from None
    return [Route("/masuk", login_page, methods=["GET"]), Route("/masuk", login, methods=["POST"]),
            Route("/keluar", logout_page, methods=["GET"]), Route("/keluar", logout, methods=["POST"]),
            Route("/", home, methods=["GET"])]
