"""The staff app's users file and ``antrian web-user`` (add, remove, list, convert).

- The file holds one line per user, ``name:role:counters:hash`` (counters separated by
  commas, only for a ``petugas``), mode 0600, rewritten atomically (a temporary file
  renamed over it) under an exclusive lock, so ``antrian web-user`` and the app's own
  rehash never lose each other's change. Passwords: web/passwords.py (argon2id).
- The old dashboard's file (``name:scrypt$...`` or ``name:pbkdf2_sha256$...``, made by
  ``antrian dashboard-user``) is read as it is: such a user is a ``kepala``. Their
  hash is replaced by an argon2id hash at their first successful login when the app
  may write the file (:meth:`Users.rehash`); ``convert`` rewrites an old file in this
  format (the old hashes kept: a password cannot be rehashed without knowing it).
- :class:`Users` is the file as the app sees it: read again whenever it changes on disk
  (no restart), a petugas bound to a counter the site file lacks is refused and named
  in the log, a broken line is one error naming the file and the line.
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import getpass
import logging
import os
import re
import secrets
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from antrian.errors import AntrianError
from web.passwords import hash_password, needs_rehash, verify_password

__all__ = ["ROLES", "Entry", "StaffUser", "Users", "UsersError", "add_command", "hash_password", "verify_password"]

log = logging.getLogger("antrian.web")

ROLES = ("kepala", "petugas", "admin")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # a login form is small; argon2 takes any length, but nobody types more
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_COUNTER = re.compile(r"^[a-z0-9_-]{1,40}$")
_OLD = ("scrypt$", "pbkdf2_sha256$")
HEADER = "# Staff of the Antrian MPP web app: made by `antrian web-user`; name:role:counters:hash"


class UsersError(AntrianError, ValueError):
    """A users file that cannot be read or written, or a user that cannot be added."""


@dataclasses.dataclass(frozen=True)
class StaffUser:
    """A logged-in member of staff as the pages see them."""

    name: str
    role: str
    counters: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Entry:
    """One line of the users file."""

    user: StaffUser
    hash: str
    line: int = 0
    old_format: bool = False  # a line of the old dashboard's file

    def text(self) -> str:
        return f"{self.user.name}:{self.user.role}:{','.join(self.user.counters)}:{self.hash}"


def parse(path: Path, text: str) -> dict[str, Entry]:
    """The users of a file's *text*; UsersError naming the file and line of the first bad line."""
    users: dict[str, Entry] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":", 3)
        where = f"users file {path}, line {number}"
        if len(parts) == 2 and parts[1].startswith(_OLD):  # the old dashboard's `name:scrypt$...`
            entry = Entry(StaffUser(parts[0], "kepala"), parts[1], number, old_format=True)
        elif len(parts) == 4:
            counters = tuple(c for c in parts[2].split(",") if c)
            entry = Entry(StaffUser(parts[0], parts[1], counters), parts[3], number)
            if parts[1] not in ROLES:
                raise UsersError(f"{where}: role {parts[1]!r} is not one of {', '.join(ROLES)}")
            if parts[1] == "petugas" and not counters:
                raise UsersError(f"{where}: a petugas needs counters (name:petugas:loket1,loket2:hash)")
            if parts[1] != "petugas" and counters:
                raise UsersError(f"{where}: only a petugas has counters")
            if not all(_COUNTER.match(c) for c in counters):
                raise UsersError(f"{where}: counters {parts[2]!r} are not counter ids separated by commas")
            if not parts[3].startswith(("$argon2",) + _OLD):
                raise UsersError(f"{where}: the hash is not an argon2 (or old scrypt) hash")
        else:
            raise UsersError(f"{where}: not a 'name:role:counters:hash' line made by antrian web-user")
        if not _NAME.match(entry.user.name):
            raise UsersError(f"{where}: user name {entry.user.name!r}: use 1-64 letters, digits, '.', '_', '-', '@'")
        if entry.user.name in users:
            raise UsersError(f"{where}: user {entry.user.name!r} again (first on line {users[entry.user.name].line})")
        users[entry.user.name] = entry
    return users


def read_file(path: Path) -> dict[str, Entry]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsersError(f"users file {path} does not exist; make it with: "
                         f"antrian web-user --users {path} add NAME --role kepala") from None
    except OSError as exc:
        raise UsersError(f"cannot read users file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsersError(f"users file {path} is not UTF-8 text") from None
    return parse(path, text)


def _write(path: Path, users: Iterable[Entry], owner: os.stat_result | None = None) -> None:
    """The new file in place of the old, atomically; run as root, it keeps the old one's
    owner (the app, which must read it, runs as another user)."""
    text = "\n".join([HEADER] + [e.text() for e in users]) + "\n"
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        if owner is not None and os.geteuid() == 0:
            os.fchown(fd, owner.st_uid, owner.st_gid)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsersError(f"cannot write users file {path}: {exc.strerror}") from None


def update(path: Path, change: Callable[[dict[str, Entry]], dict[str, Entry]], create: bool = False) -> None:
    """Read, change and write the file under an exclusive lock on it (a writer that
    replaced the file while this one waited for the lock is seen and read again)."""
    while True:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            if not create:
                raise UsersError(f"users file {path} does not exist") from None
            _write(path, change({}).values())  # a new file: nobody else holds it yet
            return
        except OSError as exc:
            raise UsersError(f"cannot open users file {path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                continue
            with open(fd, encoding="utf-8", closefd=False) as f:
                try:
                    text = f.read()
                except UnicodeDecodeError:
                    raise UsersError(f"users file {path} is not UTF-8 text") from None
                users = parse(path, text)
            _write(path, change(users).values(), os.fstat(fd))
            return
        finally:
            os.close(fd)


class Users:
    """The users file as the app sees it, read again when it changes on disk.

    A missing file is no user at all (logged) until it appears; a broken one at start
    is UsersError, later the users read before are kept and the error logged once."""

    def __init__(self, path: str | Path, counters: Iterable[str] | None = None, site: str = "the site file") -> None:
        self.path = Path(path)
        self.counters = None if counters is None else frozenset(counters)
        self.site = site
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None | str = "unread"
        self._users: dict[str, Entry] = {}
        self._dummy: str | None = None
        self._rehash_failed = False
        self._refresh(first=True)

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
            return st.st_ino, st.st_mtime_ns, st.st_size
        except OSError:
            return None

    def _refresh(self, first: bool = False) -> None:
        stamp = self._stat()
        if stamp == self._stamp:
            return
        self._stamp = stamp
        if stamp is None:
            self._users = {}
            log.warning("users file %s does not exist: nobody can log in until it is made "
                        "(antrian web-user --users %s add NAME --role kepala)", self.path, self.path)
            return
        try:
            users = read_file(self.path)
        except UsersError as exc:
            if first:
                raise
            log.error("%s; keeping the %d user(s) read before", exc, len(self._users))
            return
        self._users = {n: e for n, e in users.items() if self._counters_known(e)}
        old = sum(e.old_format for e in users.values())
        log.info("users file %s read: %d user(s)%s", self.path, len(self._users),
                 f", {old} in the old dashboard's format (kepala)" if old else "")

    def _counters_known(self, entry: Entry) -> bool:
        if self.counters is None:
            return True
        unknown = [c for c in entry.user.counters if c not in self.counters]
        if unknown:
            log.error("users file %s, line %d: petugas %r is bound to %s, not in %s: this user cannot log in "
                      "(antrian web-user --users %s add %s --role petugas --counters ...)", self.path, entry.line,
                      entry.user.name, ", ".join(unknown), self.site, self.path, entry.user.name)
        return not unknown

    def get(self, name: str) -> Entry | None:
        with self._lock:
            self._refresh()
            return self._users.get(name)

    def check(self, name: str, password: str) -> Entry | None:
        """The user if *password* is theirs (blocking: run it in a worker thread). An
        unknown name costs one hash too, so the time does not tell whether it exists."""
        entry = self.get(name)
        if entry is None:
            if self._dummy is None:
                self._dummy = hash_password(secrets.token_hex(16))
            verify_password(password, self._dummy)
            return None
        return entry if verify_password(password, entry.hash) else None

    def rehash(self, entry: Entry, password: str) -> bool:
        """Replace an old or weaker hash of *entry* after a successful login; False (logged)
        when the file cannot be written or the user changed meanwhile."""
        if not needs_rehash(entry.hash):
            return False
        new = hash_password(password)

        def change(users: dict[str, Entry]) -> dict[str, Entry]:
            now = users.get(entry.user.name)
            if now is not None and now.hash == entry.hash:
                users[entry.user.name] = dataclasses.replace(now, hash=new, old_format=False)
            return users

        try:
            update(self.path, change)
        except UsersError as exc:
            if not self._rehash_failed:
                log.warning("%s: old password hashes stay as they are (they still work; `antrian web-user add` "
                            "sets a new password hashed with argon2id)", exc)
            self._rehash_failed = True
            return False
        log.info("users file %s: %s's password rehashed with argon2id", self.path, entry.user.name)
        return True


def read_password(stream: Any = None) -> str:
    """The new password: asked twice on a terminal, else the first line of stdin."""
    stream = stream or sys.stdin
    if stream.isatty():
        first = getpass.getpass("Kata sandi baru: ")
        if getpass.getpass("Ulangi kata sandi: ") != first:
            raise UsersError("the two passwords differ; nothing changed")
        password = first
    else:
        line = stream.readline()
        if not line:
            raise UsersError("no password on stdin (give it as the first line)")
        password = line.rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise UsersError(f"the password must have at least {MIN_PASSWORD} characters; nothing changed")
    if len(password) > MAX_PASSWORD:
        raise UsersError(f"the password must have at most {MAX_PASSWORD} characters; nothing changed")
    return password


def _site_counters(config_file: str | None) -> tuple[frozenset[str] | None, str]:
    if config_file is None:
        return None, ""
    from antrian.site import load

    config = load(config_file)
    return frozenset(config.counters), str(config.source)


def cmd_add(args: argparse.Namespace) -> int:
    path = Path(args.users)
    if not _NAME.match(args.name):
        raise UsersError(f"user name {args.name!r}: use 1-64 letters, digits, '.', '_', '-' or '@'")
    counters = tuple(c.strip() for c in (args.counters or "").split(",") if c.strip())
    if args.role == "petugas" and not counters:
        raise UsersError("a petugas needs --counters (e.g. --counters loket1,loket2)")
    if args.role != "petugas" and counters:
        raise UsersError(f"--counters is only for a petugas, not for a {args.role}")
    bad = [c for c in counters if not _COUNTER.match(c)]
    known, source = _site_counters(args.config)
    if known is not None:
        bad += [c for c in counters if c not in known and c not in bad]
    if bad:
        raise UsersError(f"unknown counter(s) {', '.join(bad)}" + (f" (the counters of {source}: "
                                                                 f"{', '.join(sorted(known))})" if known else ""))
    password = read_password()
    user = StaffUser(args.name, args.role, counters)
    new_hash = hash_password(password)
    was: list[bool] = []

    def change(users: dict[str, Entry]) -> dict[str, Entry]:
        was.append(args.name in users)
        users[args.name] = Entry(user, new_hash)
        return users

    update(path, change, create=True)
    print(f"{'changed' if was[0] else 'added'} {args.name} ({args.role}{': ' + ','.join(counters) if counters else ''})"
          f" in {path}" + ("" if known is not None or not counters else "; counters not checked (no --config)"))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    path = Path(args.users)

    def change(users: dict[str, Entry]) -> dict[str, Entry]:
        if args.name not in users:
            raise UsersError(f"no user {args.name!r} in {path} (known: {', '.join(users) or 'none'})")
        del users[args.name]
        return users

    update(path, change)
    print(f"removed {args.name} from {path}; their sessions end at their next request")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    users = read_file(Path(args.users))
    known, source = _site_counters(args.config)
    for entry in users.values():
        u = entry.user
        notes = []
        if entry.old_format or not entry.hash.startswith("$argon2"):
            notes.append("old scrypt hash: rehashed at the next login")
        unknown = [c for c in u.counters if known is not None and c not in known]
        if unknown:
            notes.append(f"unknown counter(s) {', '.join(unknown)} in {source}")
        print(f"{u.name}\t{u.role}\t{','.join(u.counters) or '-'}" + (f"\t({'; '.join(notes)})" if notes else ""))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    path, old = Path(args.users), Path(args.old)
    found = read_file(old)
    added: list[str] = []

    def change(users: dict[str, Entry]) -> dict[str, Entry]:
        for name, entry in found.items():
            if name in users:
                raise UsersError(f"user {name!r} of {old} is already in {path}; nothing changed")
            users[name] = dataclasses.replace(entry, old_format=False)
            added.append(name)
        return users

    update(path, change, create=True)
    print(f"converted {len(added)} user(s) of {old} into {path}" + (f": {', '.join(added)}" if added else ""))
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    """``antrian web-user --users FILE add|remove|list|convert``."""
    p = sub.add_parser("web-user", help="the staff web app's users: add (password from stdin), remove, list, convert")
    p.add_argument("--users", required=True, metavar="FILE", help="the users file (made if missing)")
    p.add_argument("--config", metavar="FILE", help="the site file: check a petugas's counters against it")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("add", help="add a user or change their password and role (password from stdin, "
                                       "asked twice on a terminal)")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--counters", metavar="LOKET,...", help="a petugas's counters, separated by commas")
    a.set_defaults(func=cmd_add)
    r = actions.add_parser("remove", help="remove a user (their sessions end)")
    r.add_argument("name")
    r.set_defaults(func=cmd_remove)
    actions.add_parser("list", help="name, role and counters of every user (never the hashes)").set_defaults(
        func=cmd_list)
    c = actions.add_parser("convert", help="take the users of an old dashboard users file (as kepala)")
    c.add_argument("old", metavar="OLD")
    c.set_defaults(func=cmd_convert)

