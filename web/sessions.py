"""The staff app's sessions, kept server-side: a bounded table saved to a file.

The cookie (web/auth.py) holds only a signed random session id; the table knows whose
it is, until when, and a fingerprint of the user's password hash and role, so removing
a user, changing their role, counters or password, or logging out ends it. The table
is written (atomically, 0600) at every login and logout and read when the app starts,
so sessions survive a restart of the web process and an ended session stays ended. It
holds SHA-256 digests of the ids, never the ids themselves. The file lives in
systemd's ``$STATE_DIRECTORY`` or ``$CACHE_DIRECTORY`` when the unit sets one (losing it
only logs everyone out), else beside the users file;
if it cannot be written, sessions are kept in memory only (a restart logs everyone out).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path

from web.users import StaffUser

__all__ = ["MAX_SESSIONS", "SESSION_SECONDS", "Session", "Sessions", "fingerprint", "sessions_file"]

log = logging.getLogger("antrian.web")

SESSION_SECONDS = 12 * 3600  # one working day; then one logs in again
MAX_SESSIONS = 2000  # the oldest is ended when a login would pass it


@dataclasses.dataclass(frozen=True)
class Session:
    user: StaffUser
    stamp: str  # fingerprint of the password hash it was made with
    expires: float  # wall clock: the table outlives the process

    @property
    def name(self) -> str:
        return self.user.name


def fingerprint(stored_hash: str) -> str:
    return hashlib.sha256(stored_hash.encode()).hexdigest()[:32]


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def sessions_file(device: str, users_file: Path | None) -> Path | None:
    for variable in ("STATE_DIRECTORY", "CACHE_DIRECTORY"):  # systemd's, of this unit
        folder = os.environ.get(variable, "").split(":")[0]
        if folder:
            return Path(folder) / f"web-sessions-{device}.json"
    if users_file is not None:
        return users_file.with_name(f".{users_file.name}.{device}.sessions")
    return None


class Sessions:
    """sid → :class:`Session`, at most *limit*, saved to *path* (None: memory only)."""

    def __init__(self, path: Path | None, seconds: float = SESSION_SECONDS, limit: int = MAX_SESSIONS) -> None:
        self.path = path
        self.seconds = seconds
        self.limit = limit
        self._lock = threading.Lock()
        self._table: dict[str, Session] = {}
        self._save_failed = False
        self._load()

    def _load(self) -> None:
        if self.path is None or not self.path.exists():
            return
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
            now = time.time()
            for key, row in rows.items():
                session = Session(StaffUser(row["name"], row["role"], tuple(row["counters"])), row["stamp"],
                                  float(row["expires"]))
                if session.expires > now:
                    self._table[key] = session
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            self._table = {}
            log.warning("sessions file %s cannot be read (%s): everyone logs in again", self.path, exc)
        log.info("sessions file %s: %d session(s) still open", self.path, len(self._table))

    def _save(self) -> None:
        if self.path is None:
            return
        rows = {k: {"name": s.user.name, "role": s.user.role, "counters": list(s.user.counters), "stamp": s.stamp,
                    "expires": s.expires} for k, s in self._table.items()}
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(rows, f)
            os.replace(tmp, self.path)
            self._save_failed = False
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if not self._save_failed:
                log.warning("sessions file %s cannot be written (%s): sessions are kept in memory only and end "
                            "when the app restarts", self.path, exc.strerror)
            self._save_failed = True

    def create(self, user: StaffUser, stamp: str) -> str:
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._lock:
            self._table = {k: s for k, s in self._table.items() if s.expires > now}
            while len(self._table) >= self.limit:  # the oldest ends first
                self._table.pop(min(self._table, key=lambda k: self._table[k].expires))
            self._table[_digest(sid)] = Session(user, stamp, now + self.seconds)
            self._save()
        return sid

    def get(self, sid: str) -> Session | None:
        key = _digest(sid)
        with self._lock:
            session = self._table.get(key)
            if session is not None and session.expires <= time.time():
                del self._table[key]
                return None
            return session

    def end(self, sid: str) -> None:
        with self._lock:
            if self._table.pop(_digest(sid), None) is not None:
                self._save()

    def __len__(self) -> int:
        return len(self._table)
