"""The dashboard's users and sessions: who may log in, and who is logged in.

- The users file holds ``name:scrypt$...`` lines made by ``antrian dashboard-user``
  (:func:`set_user`, :func:`remove_user`; the password from :func:`read_password`).
  Passwords are hashed with scrypt (:func:`hash_password`) and compared in constant
  time (:func:`verify_password`); :class:`Users` reads the file again when it changes,
  so a new user logs in without a restart.
- :class:`Sessions` are the logged-in browsers: a random token in an HttpOnly cookie.
- :class:`Throttle` refuses an address after too many wrong passwords.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import logging
import os
import re
import secrets
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from antrian.errors import DashboardError

__all__ = ["Sessions", "Throttle", "Users", "hash_password", "read_password", "remove_user", "set_user",
           "verify_password"]

log = logging.getLogger("antrian.dashboard.server")  # one logger name for the whole dashboard

SESSION_HOURS = 12  # one working day; then the head logs in again
MAX_SESSIONS = 1000
LOGIN_FAILURES = 5  # per address and LOGIN_WINDOW seconds, then refused until the window passes
LOGIN_WINDOW = 60.0
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
# scrypt with 16 MiB of memory: ~50 ms on a laptop, a few hundred on a Pi.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


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


class Throttle:
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
