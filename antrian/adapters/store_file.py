"""The dispatcher's SQLite file before anything writes to it: what it is, its schema
version, and the migrations that bring an older one up to date.

A database this code made carries `APPLICATION_ID` and its schema version
(`PRAGMA user_version`) in its header. One written before versions existed has
neither, and exactly the three tables of `BASE_SCHEMA`: it is version 0 and is
migrated in place. Everything else is looked at through a read-only connection first
and refused with `DatabaseUnusable` (one line naming the file, exit status 65) without
a byte of it written: a truncated file, random bytes, another program's database, a
newer schema, one the integrity check finds damaged. Restarting cannot mend any of
these and "repairing" one would destroy the evidence a backup restore needs.

A new database is started where there is nothing to lose: a path that does not exist
yet, always; an existing zero-byte file or an SQLite file without any table only when
told to (`new=True`, `antrian dispatcher --new`), since an empty file where a database
should be usually means the real one was lost and numbering would restart at 001.
A file with anything in it that is not ours is never written, not even with --new.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import Callable

from antrian.errors import DatabaseUnusable, StoreError

log = logging.getLogger("antrian.store")

APPLICATION_ID = 0x416E7472  # "Antr": PRAGMA application_id of every database this code made

SQLITE_MAGIC = b"SQLite format 3\x00"

RESTORE = "keep the file and restore the database from a backup (docs/operations.md)"
CHECK_LINES = 20  # of PRAGMA integrity_check: enough to tell a technician, bounded on a ruin

# Version 0: the layout written before schema versions existed. Frozen: a new database
# starts from it and goes through every migration, so new and migrated files are alike.
BASE_SCHEMA = """
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    day     TEXT NOT NULL,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    number  TEXT,
    counter TEXT,
    seq     INTEGER,
    data    TEXT NOT NULL
);
CREATE INDEX events_day ON events(day);
CREATE UNIQUE INDEX events_seq ON events(seq) WHERE seq IS NOT NULL;
CREATE TABLE replies (
    day     TEXT NOT NULL,
    sender  TEXT NOT NULL,
    msg_id  TEXT NOT NULL,
    topic   TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (day, sender, msg_id)
) WITHOUT ROWID;
CREATE TABLE surveys (
    id      INTEGER PRIMARY KEY,
    day     TEXT NOT NULL,
    at      TEXT NOT NULL,
    device  TEXT NOT NULL,
    ticket  TEXT,
    counter TEXT,
    score   INTEGER,
    answers TEXT
)
"""
BASE_TABLES = frozenset({"events", "replies", "surveys"})


def _replies_by_sender(db: sqlite3.Connection, now: float) -> None:
    """Replies remembered under (sender, id) with the time they were given (unix seconds),
    no longer under the business day, so a retry across midnight finds its first reply.
    A reply of version 0 has no time: it counts as given now (kept for the whole window
    after the upgrade); an id remembered on several days keeps its latest day's reply."""
    db.execute("""CREATE TABLE replies_by_sender (
        sender   TEXT NOT NULL,
        msg_id   TEXT NOT NULL,
        given_at REAL NOT NULL,
        topic    TEXT NOT NULL,
        payload  TEXT NOT NULL,
        PRIMARY KEY (sender, msg_id)
    ) WITHOUT ROWID""")
    # SQLite takes the bare columns of a MAX() aggregate from the row holding the maximum.
    db.execute("INSERT INTO replies_by_sender(sender, msg_id, given_at, topic, payload) "
               "SELECT sender, msg_id, ?, topic, payload FROM "
               "(SELECT sender, msg_id, MAX(day), topic, payload FROM replies GROUP BY sender, msg_id)", (now,))
    db.execute("DROP TABLE replies")
    db.execute("ALTER TABLE replies_by_sender RENAME TO replies")
    db.execute("CREATE INDEX replies_given ON replies(given_at)")


def _meta(db: sqlite3.Connection, now: float) -> None:
    """A key/value table written in the same transaction as a batch (the dispatcher's
    clock keeps its last stamp, anchor and boot there). The value has no declared type:
    an int, a float or a text comes back as it went in."""
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID")


def _survey_profile(db: sqlite3.Connection, now: float) -> None:
    """A survey's respondent profile (Permenpan RB 14/2017: age band, sex, education,
    occupation), JSON or NULL; surveys of before have none."""
    db.execute("ALTER TABLE surveys ADD COLUMN profile TEXT")


# The migration from version i to i + 1 is MIGRATIONS[i]; a new one goes at the end and
# never changes once released (a database already past it would not see the change).
MIGRATIONS: tuple[Callable[[sqlite3.Connection, float], None], ...] = (_replies_by_sender, _meta, _survey_profile)
VERSION = len(MIGRATIONS)
TABLES = BASE_TABLES | {"meta"}  # those of VERSION


def open_database(path: str, *, new: bool = False, now: float) -> sqlite3.Connection:
    """A read-write connection (autocommit: the store runs its own transactions) to the
    database at `path`, checked and brought to `VERSION`; a new one where there is none
    (see the module's docstring for when). `now`: unix time, for the migrated replies.
    DatabaseUnusable for a file it refuses, StoreError when it cannot be opened."""
    if path == ":memory:":
        return _create(_connect(path), now)
    file = Path(path)
    if not file.exists():
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size:
            raise DatabaseUnusable(f"{path}: missing, but its write-ahead log {wal.name} is there: the database "
                                   f"file was lost; keep the log and restore the database from a backup "
                                   f"(docs/operations.md)")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from exc
        log.warning("store: %s does not exist: a new database", path)
        return _create(_connect(path), now)
    version = inspect(path)
    if version is None:
        if not new:
            raise DatabaseUnusable(f"{path}: {_emptiness(file)}, not a database of the queue; if the queue is "
                                   f"to start again from 001, run with --new (docs/operations.md)")
        log.warning("store: %s is %s: a new database (--new)", path, _emptiness(file))
        return _create(_connect(path), now)
    return _migrate(_connect(path), path, version, now)


def _emptiness(file: Path) -> str:
    return "an empty file (0 bytes)" if file.stat().st_size == 0 else "an SQLite database without any table"


def inspect(path: str) -> int | None:
    """The schema version of the Antrian database at `path` (0: written before versions
    existed), or None for a zero-byte file or an SQLite file without any table; read only,
    nothing written. DatabaseUnusable, naming the file and what is wrong, for anything else."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size == 0:
            return None
        with open(file, "rb") as f:
            header = f.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read the database {path}: {exc}") from exc
    if not header.startswith(SQLITE_MAGIC):
        raise DatabaseUnusable(f"{path}: not an SQLite database (it does not start with 'SQLite format 3': "
                               f"random bytes or another kind of file); {RESTORE}")
    if len(header) < 100:
        raise DatabaseUnusable(f"{path}: truncated: {size} bytes, shorter than an SQLite header; {RESTORE}")
    _check_length(path, header, size)
    return _read(path)


def _check_length(path: str, header: bytes, size: int) -> None:
    """A file cut short: not whole pages, or fewer pages than its header counts. Only
    judged here with no write-ahead log beside it: a checkpoint cut off by a power cut may
    leave page 1 (the header) or part of a page in the file before the rest, and the log,
    which still has them all, mends that at the next open. With a log, SQLite judges."""
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    if page < 512 or page & (page - 1):
        raise DatabaseUnusable(f"{path}: damaged: its header gives a page size of {page}; {RESTORE}")
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:
        return
    if size % page:
        raise DatabaseUnusable(f"{path}: truncated: {size} bytes is not a whole number of {page}-byte pages; "
                               f"{RESTORE}")
    pages = int.from_bytes(header[28:32], "big")
    counted = header[24:28] == header[92:96]  # the count is valid only when these match
    if counted and pages * page > size:
        raise DatabaseUnusable(f"{path}: truncated: {size} bytes where its header counts {pages} pages of "
                               f"{page} bytes ({pages * page} bytes); {RESTORE}")


def _read(path: str) -> int | None:
    """What `inspect` learns through a read-only connection: who wrote the file, its
    version and tables, and SQLite's integrity check. The connection may create the
    -wal and -shm files of a WAL database; those it created are removed again."""
    made = [p for p in (Path(f"{path}-wal"), Path(f"{path}-shm")) if not p.exists()]
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the database {path}: {exc}") from exc
    try:
        app, version = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("application_id", "user_version"))
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                  if not name.startswith("sqlite_")}
        problems = [line for (line,) in db.execute(f"PRAGMA integrity_check({CHECK_LINES})")]
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnusable(f"{path}: damaged, SQLite cannot read it ({exc}); {RESTORE}") from None
    finally:
        db.close()
        for p in made:
            # Only empty ones: a log with pages in it would be someone's writes.
            if p.exists() and (p.name.endswith("-shm") or p.stat().st_size == 0):
                try:
                    os.unlink(p)
                except OSError:
                    pass
    return _judge(path, app, version, tables, problems)


def _judge(path: str, app: int, version: int, tables: set[str], problems: list[str]) -> int | None:
    if problems != ["ok"]:
        more = "" if len(problems) == 1 else \
            f" (and {'at least ' if len(problems) >= CHECK_LINES else ''}{len(problems) - 1} more)"
        raise DatabaseUnusable(f"{path}: damaged, SQLite's integrity check says: {problems[0]}{more}; {RESTORE}")
    if app not in (0, APPLICATION_ID) or (app == 0 and version != 0):
        raise DatabaseUnusable(f"{path}: the database of another program (application_id {app:#x}, version "
                               f"{version}), not Antrian's; nothing was written: give Antrian's with --db")
    if app == 0:
        if not tables:
            return None
        if tables != BASE_TABLES:
            raise DatabaseUnusable(f"{path}: an SQLite database of another program (tables "
                                   f"{', '.join(sorted(tables))}), not Antrian's; nothing was written: give "
                                   f"Antrian's with --db, or move this one away to start a new database")
        return 0
    if version > VERSION:
        raise DatabaseUnusable(f"{path}: schema version {version}, newer than this antrian knows ({VERSION}): "
                               f"written by a newer antrian; run that version, or restore a backup made by this one")
    missing = (TABLES if version == VERSION else BASE_TABLES) - tables
    if version < 1 or missing:
        raise DatabaseUnusable(f"{path}: damaged: schema version {version} without the tables "
                               f"{', '.join(sorted(missing)) or '(none)'}; {RESTORE}")
    return version


def _connect(path: str) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        return db
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the database {path}: {exc}") from exc


def _create(db: sqlite3.Connection, now: float) -> sqlite3.Connection:
    """Version 0 and every migration in one transaction: a new database is what a
    migrated one is."""
    def base(db: sqlite3.Connection) -> None:
        for statement in BASE_SCHEMA.split(";"):
            db.execute(statement)
    return _transaction(db, "a new database", base, 0, now)


def _migrate(db: sqlite3.Connection, path: str, version: int, now: float) -> sqlite3.Connection:
    if version == VERSION:
        return db
    log.warning("store: %s: schema version %d, migrating to %d", path, version, VERSION)
    return _transaction(db, f"migrating {path} from schema version {version}", None, version, now)


def _transaction(db: sqlite3.Connection, what: str, base: Callable[[sqlite3.Connection], None] | None,
                 version: int, now: float) -> sqlite3.Connection:
    """`base` (if any) and the migrations after `version`, with the new version and our
    application id, as one transaction: a power cut leaves the file as it was or done."""
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            if base is not None:
                base(db)
            elif db.execute("PRAGMA user_version").fetchone()[0] != version:
                raise StoreError(f"{what}: another process changed its schema meanwhile")
            for migration in MIGRATIONS[version:]:
                migration(db, now)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {VERSION}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        db.close()
        raise StoreError(f"{what}: {exc}") from exc
    except BaseException:
        db.close()
        raise
    return db
