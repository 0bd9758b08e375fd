"""The durable record: an SQLite event log (WAL) plus the replies already given.

The file itself -- checked before use, its schema version and migrations, when a new
one is started -- is antrian/adapters/store_file.py; this module reads and writes rows.

Every queue change is an event row; the dispatcher commits a batch of events together
with the replies they produce *before* it publishes those replies, so whatever a
kiosk or panel was told survives kill -9 and a power cut. At start the queue state is
rebuilt by replaying the events of the latest business day through the engine.

`synchronous=FULL` makes each commit reach the disk (in WAL mode NORMAL can lose the
last commits on power loss); the dispatcher commits once per batch of messages, which
is what keeps the cost of an fsync per ticket away.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from pathlib import Path
from typing import Iterable

from antrian.queue.events import BOOKING_EVENTS, DayStarted, Event, from_row, to_row
from antrian.adapters import store_file
from antrian.errors import DatabaseUnusable, EventError, StoreError

# How long a reply is remembered under (sender, id): a retry sent before midnight and
# answered after it still finds its first reply. Older ones are pruned (events never).
REPLY_WINDOW = dt.timedelta(hours=36)
BOOKING_KINDS = tuple(cls.KIND for cls in BOOKING_EVENTS)


class Reply:
    """A reply to remember: who asked (`sender`, `msg_id`), what was published where, and
    when (`at`, the dispatcher's time: the window of REPLY_WINDOW counts from it)."""

    __slots__ = ("sender", "msg_id", "topic", "payload", "at")

    def __init__(self, sender: str, msg_id: str, topic: str, payload: str, at: dt.datetime):
        self.sender, self.msg_id, self.topic, self.payload, self.at = sender, msg_id, topic, payload, at


def _latest_day(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT day FROM events ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None


def _rows(db: sqlite3.Connection, path: str, day: str | None) -> list[tuple[int, Event]]:
    out = []
    for row_id, at, kind, data in db.execute("SELECT id, at, kind, data FROM events WHERE day = ? ORDER BY id",
                                             (day,)):
        try:
            out.append((row_id, from_row(kind, at, data)))
        except EventError as exc:
            raise DatabaseUnusable(f"{path}: events row {row_id}: {exc}") from None
    return out


def latest_events(path: str | Path) -> tuple[str | None, list[Event]]:
    """The latest business day of the database at `path` and its events, read without
    writing anything, not even a journal (check-config --db, before a site-file edit is
    deployed). StoreError if it cannot be read; DatabaseUnusable for a file the dispatcher
    would refuse (store_file.inspect) or a row that is no event."""
    if store_file.inspect(str(path)) is None:  # an empty file: nothing stored yet
        return None, []
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the database {path}: {exc}") from exc
    try:
        day = _latest_day(db)
        return day, [event for _, event in _rows(db, str(path), day)] if day else []
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the database {path}: {exc}") from exc
    finally:
        db.close()


class Store:
    def __init__(self, path: str | Path, tz: dt.tzinfo, *, new: bool = False):
        """Open the database at `path`, checked and migrated (store_file.py): a path that does
        not exist is a new database; `new` also starts one in a zero-byte or table-less file.
        DatabaseUnusable for a file it refuses; `meta` holds the meta table as read at open."""
        self.path = str(path)
        self.tz = tz
        self.db = store_file.open_database(self.path, new=new, now=time.time())
        try:
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA busy_timeout=5000")
            self.meta: dict[str, str | int | float] = dict(self.db.execute("SELECT key, value FROM meta"))
        except sqlite3.Error as exc:
            self.db.close()
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def latest_day(self) -> str | None:
        return _latest_day(self.db)

    def events(self, day: str | None = None) -> list[Event]:
        """The events of one business day (default: the latest one stored), oldest first."""
        return [event for _, event in self.rows(day)]

    def rows(self, day: str | None = None) -> list[tuple[int, Event]]:
        """(row id, event) of one business day (default: the latest one stored), oldest
        first; DatabaseUnusable, naming the file and the row, for a row that is no event
        (antrian/queue/events.py decodes it)."""
        return _rows(self.db, self.path, day or self.latest_day())

    def booking_events(self, since: str, before: str) -> list[Event]:
        """The events of the business days `since` <= day < `before` (ISO dates) that the book
        of bookings needs (antrian/queue/bookings.py): bookings, cancels, expiries, check-ins."""
        out = []
        for row_id, at, kind, data in self.db.execute(
                "SELECT id, at, kind, data FROM events WHERE day >= ? AND day < ? AND (kind IN (?, ?, ?) "
                "OR (kind = 'issued' AND data LIKE '%\"booking\"%')) ORDER BY id",
                (since, before, *BOOKING_KINDS)):
            try:
                out.append(from_row(kind, at, data))
            except EventError as exc:
                raise DatabaseUnusable(f"{self.path}: events row {row_id}: {exc}") from None
        return out

    def last_seq(self) -> int:
        return self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def surveys(self, first: str, last: str) -> list[dict]:
        """The survey rows of the business days `first`..`last` (ISO dates), answers decoded."""
        rows = self.db.execute("SELECT day, at, device, ticket, counter, score, answers, profile FROM surveys "
                               "WHERE day BETWEEN ? AND ? ORDER BY id", (first, last))
        return [{"day": day, "at": at, "device": device, "ticket": ticket, "counter": counter, "score": score,
                 "answers": json.loads(answers) if answers else None,
                 "profile": json.loads(profile) if profile else None}
                for day, at, device, ticket, counter, score, answers, profile in rows]

    def reply(self, sender: str, msg_id: str, now: dt.datetime) -> Reply | None:
        """The reply given to (`sender`, `msg_id`) within REPLY_WINDOW before `now`, whatever
        the business day (or after `now`, if the clock went back since)."""
        row = self.db.execute("SELECT topic, payload, given_at FROM replies WHERE sender = ? AND msg_id = ? "
                              "AND given_at >= ?", (sender, msg_id, (now - REPLY_WINDOW).timestamp())).fetchone()
        if row is None:
            return None
        topic, payload, given = row
        return Reply(sender, msg_id, topic, payload, dt.datetime.fromtimestamp(given, self.tz))

    @staticmethod
    def _event_rows(events: Iterable[Event], day: dt.date | None) -> list[tuple]:
        """The rows of `events`: each in the business day of the latest DayStarted before
        it, else in `day` (the engine's); never the date of its time."""
        out = []
        for e in events:
            if isinstance(e, DayStarted):
                day = e.day
            if day is None:
                raise StoreError(f"{e.kind} at {e.at.isoformat()} belongs to no business day")
            kind, at, data = to_row(e)
            out.append((day.isoformat(), at, kind, getattr(e, "number", None), getattr(e, "counter", None),
                        getattr(e, "seq", None), data))
        return out

    def commit(self, events: Iterable[Event], replies: Iterable[Reply], surveys: Iterable[dict] = (), *,
               day: dt.date | None = None, meta: dict[str, str | int | float | None] | None = None) -> None:
        """Write one batch atomically; StoreError (and nothing written) if it fails.
        `day`: the business day of the events before any DayStarted among them. `meta`:
        keys of the meta table to set (None removes one), in the same transaction.
        Replies older than REPLY_WINDOW before the batch's newest are pruned with it."""
        rows = self._event_rows(events, day)
        reply_rows = [(r.sender, r.msg_id, r.at.timestamp(), r.topic, r.payload) for r in replies]
        meta = meta or {}
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany(
                    "INSERT INTO events(day, at, kind, number, counter, seq, data) VALUES (?,?,?,?,?,?,?)", rows)
                # REPLACE: a row still there for the same id is older than the window (the
                # dispatcher looked it up first), so this reply is the one to remember.
                self.db.executemany(
                    "INSERT OR REPLACE INTO replies(sender, msg_id, given_at, topic, payload) VALUES (?,?,?,?,?)",
                    reply_rows)
                if reply_rows:
                    newest = max(given for _, _, given, _, _ in reply_rows)
                    self.db.execute("DELETE FROM replies WHERE given_at < ?",
                                    (newest - REPLY_WINDOW.total_seconds(),))
                self.db.executemany(
                    "INSERT INTO surveys(day, at, device, ticket, counter, score, answers, profile) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    [(s["day"], s["at"], s["device"], s.get("ticket"), s.get("counter"), s.get("score"),
                      json.dumps(s["answers"]) if s.get("answers") is not None else None,
                      json.dumps(s["profile"]) if s.get("profile") else None) for s in surveys])
                self.db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                                    [(k, v) for k, v in meta.items() if v is not None])
                self.db.executemany("DELETE FROM meta WHERE key = ?", [(k,) for k, v in meta.items() if v is None])
                self.db.execute("COMMIT")
            except BaseException:
                # SQLite has already rolled back by itself after some errors (SQLITE_FULL:
                # a full disk); a second ROLLBACK would raise "no transaction is active"
                # and hide the real reason from the log.
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the database {self.path}: {exc}") from exc
        for key, value in meta.items():
            if value is None:
                self.meta.pop(key, None)
            else:
                self.meta[key] = value
