"""The dispatcher's database file (issue 12, items 2 and 3; antrian/adapters/store_file.py):
every damaged shape stops the real `antrian dispatcher` with exit status 65 and one line
naming the file, the file untouched; --new starts a database only in an empty file; a
database written before schema versions is migrated in place and keeps its days,
numbers and replies; the meta table; and a retry across midnight gets its first reply."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from antrian import protocol
from antrian.adapters import store_file
from antrian.adapters.store import REPLY_WINDOW, Reply, Store
from antrian.errors import EXIT_DATABASE, DatabaseUnusable, StoreError
from antrian.queue.engine import Engine
from antrian.queue.events import DayStarted, to_row
from antrian.site import load
from helpers import DispatcherProcess, rows

SITE = "buton"
WITA = dt.timezone(dt.timedelta(hours=8))

# The schema as the code before versions wrote it (antrian/adapters/store.py until issue 12),
# copied here so that the test keeps making the files a deployed MPP really has.
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id      INTEGER PRIMARY KEY,
    day     TEXT NOT NULL,
    at      TEXT NOT NULL,
    kind    TEXT NOT NULL,
    number  TEXT,
    counter TEXT,
    seq     INTEGER,
    data    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_day ON events(day);
CREATE UNIQUE INDEX IF NOT EXISTS events_seq ON events(seq) WHERE seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS replies (
    day     TEXT NOT NULL,
    sender  TEXT NOT NULL,
    msg_id  TEXT NOT NULL,
    topic   TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (day, sender, msg_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS surveys (
    id      INTEGER PRIMARY KEY,
    day     TEXT NOT NULL,
    at      TEXT NOT NULL,
    device  TEXT NOT NULL,
    ticket  TEXT,
    counter TEXT,
    score   INTEGER,
    answers TEXT
);
"""


def a_day(config, day: dt.date, tickets: int) -> list:
    """One business day's events as the engine decides them: `tickets` KTP tickets, one called."""
    engine = Engine(config)
    now = dt.datetime.combine(day, dt.time(8), WITA)
    events = [DayStarted(at=now, day=day)]
    engine.apply(events[0])
    for decide in [lambda: engine.issue("KTP", None, now)] * tickets + [
            lambda: engine.command("loket1", "call_next", {}, now)]:
        outcome = decide()
        engine.apply_all(outcome.events)
        events += outcome.events
    return events


def a_database(path: Path, site_file: Path, tickets: int = 40) -> Path:
    """A database of ours with one business day in it, closed (its log checkpointed)."""
    config = load(site_file)
    store = Store(path, config.tz)
    now = dt.datetime.now(config.tz)
    store.commit(a_day(config, now.date(), tickets),
                 [Reply("kiosk/kiosk1", f"r{i}", "t", "{}" * 200, now) for i in range(tickets)])
    store.close()
    return path


def killed_writer(path: Path) -> None:
    """More of the day written by a process killed before it closed: its -wal stays."""
    code = ("import datetime as dt, os, sys; from antrian.adapters.store import Reply, Store; "
            "s = Store(sys.argv[1], dt.timezone.utc); now = dt.datetime.now(dt.timezone.utc); "
            "[s.commit([], [Reply('kiosk/kiosk2', f'w{i}', 't', '{}' * 300, now)]) for i in range(60)]; "
            "os._exit(0)")
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=Path(__file__).parent.parent)


# -- every shape it refuses -------------------------------------------------------------------


def truncated(db: Path, site_file: Path) -> None:
    a_database(db, site_file)
    size = db.stat().st_size
    with open(db, "r+b") as f:
        f.truncate(size // 2 // 4096 * 4096)


def truncated_mid_page(db: Path, site_file: Path) -> None:
    a_database(db, site_file)
    with open(db, "r+b") as f:
        f.truncate(db.stat().st_size // 2 + 100)


def truncated_beside_its_wal(db: Path, site_file: Path) -> None:
    a_database(db, site_file)
    killed_writer(db)
    assert Path(f"{db}-wal").stat().st_size > 0
    with open(db, "r+b") as f:
        f.truncate(4096)


def random_bytes(db: Path, site_file: Path) -> None:
    db.write_bytes(random.Random(12).randbytes(64 * 1024))


def sqlite_header_then_noise(db: Path, site_file: Path) -> None:
    db.write_bytes(store_file.SQLITE_MAGIC + random.Random(13).randbytes(64 * 1024 - 16))


def zero_bytes(db: Path, site_file: Path) -> None:
    db.write_bytes(b"")


def sqlite(db: Path, *statements: str) -> None:
    con = sqlite3.connect(db)
    try:
        for statement in statements:
            con.execute(statement)
        con.commit()
    finally:
        con.close()


def no_tables(db: Path, site_file: Path) -> None:
    sqlite(db, "CREATE TABLE t (x)", "DROP TABLE t")


def foreign(db: Path, site_file: Path) -> None:
    sqlite(db, "CREATE TABLE users (name TEXT, password TEXT)", "INSERT INTO users VALUES ('ani', 'x')")


def foreign_with_an_events_table(db: Path, site_file: Path) -> None:
    # Another program's versioned database: a table called "events" does not make it ours.
    sqlite(db, "CREATE TABLE events (id INTEGER PRIMARY KEY, title TEXT)", "PRAGMA user_version = 3")


def newer(db: Path, site_file: Path) -> None:
    a_database(db, site_file)
    sqlite(db, f"PRAGMA user_version = {store_file.VERSION + 1}")


def damaged_index(db: Path, site_file: Path) -> None:
    # A row behind its index's back: only the integrity check sees it.
    a_database(db, site_file)
    sqlite(db, "PRAGMA writable_schema = ON",
           "UPDATE sqlite_master SET sql = 'CREATE INDEX events_day ON events(kind)' WHERE name = 'events_day'")


def lost_file_but_its_wal(db: Path, site_file: Path) -> None:
    a_database(db, site_file)
    killed_writer(db)
    db.unlink()


SHAPES = [
    (truncated, "truncated: "),
    (truncated_mid_page, "is not a whole number of 4096-byte pages"),
    (truncated_beside_its_wal, "damaged, SQLite cannot read it"),
    (random_bytes, "not an SQLite database"),
    (sqlite_header_then_noise, "damaged"),
    (zero_bytes, "an empty file (0 bytes)"),
    (no_tables, "an SQLite database without any table"),
    (foreign, "another program (tables users)"),
    (foreign_with_an_events_table, "another program (application_id 0x0, version 3)"),
    (newer, f"schema version {store_file.VERSION + 1}, newer than this antrian knows ({store_file.VERSION})"),
    (damaged_index, "integrity check says"),
    (lost_file_but_its_wal, "the database file was lost"),
]


def fingerprint(db: Path) -> dict[str, str]:
    """The database and its write-ahead log, byte for byte, and which files lie beside it.
    (The -shm file is a reader's scratch index, rebuilt from the log; not content.)"""
    files = sorted(p.name for p in db.parent.iterdir() if p.name.startswith(db.name))
    return {"files": ",".join(files),
            **{p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (db, Path(f"{db}-wal")) if p.exists()}}


def refused(tmp_path: Path, site_file: Path, db: Path, *extra: str, address: str = "127.0.0.1:9") -> str:
    """Run `antrian dispatcher` on `db`: it must exit 65 with one line; that line."""
    log = tmp_path / "dispatcher.log"
    log.unlink(missing_ok=True)
    dispatcher = DispatcherProcess(site_file, db, address, log)
    dispatcher.args += list(extra)
    dispatcher.start()
    try:
        assert dispatcher.proc.wait(30) == EXIT_DATABASE == 65
    finally:
        dispatcher.cleanup()
    out = log.read_text(encoding="utf-8").splitlines()[1:]  # after "==== start 1"
    assert len(out) == 1, out
    assert out[0].startswith(f"antrian dispatcher: {db}: "), out[0]
    return out[0]


@pytest.mark.parametrize("make, why", SHAPES, ids=[m.__name__ for m, _ in SHAPES])
def test_a_database_it_must_not_touch_stops_the_dispatcher_with_exit_65_and_one_line(site_file, tmp_path, make, why):
    db = tmp_path / "data" / "antrian.db"
    db.parent.mkdir()
    make(db, site_file)
    before = fingerprint(db)
    line = refused(tmp_path, site_file, db)
    assert why in line, line
    assert fingerprint(db) == before  # nothing written, nothing left beside it


@pytest.mark.parametrize("make", [foreign, random_bytes, newer, truncated])
def test_new_never_touches_a_file_with_anything_in_it(site_file, tmp_path, make):
    db = tmp_path / "data" / "antrian.db"
    db.parent.mkdir()
    make(db, site_file)
    before = fingerprint(db)
    refused(tmp_path, site_file, db, "--new")
    assert fingerprint(db) == before


@pytest.mark.parametrize("make", [zero_bytes, no_tables])
def test_new_starts_a_database_in_an_empty_file(broker, mqtt_client, site_file, tmp_path, make):
    db = tmp_path / "antrian.db"
    make(db, site_file)
    log = tmp_path / "dispatcher.log"
    dispatcher = DispatcherProcess(site_file, db, broker.address, log)
    dispatcher.args.append("--new")
    dispatcher.start()
    try:
        rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
        rec.wait_for(protocol.board(SITE), timeout=30)
        reply = ask(rec, "kiosk", "kiosk1", {"id": "first", "service": "KTP", "priority": None})
        assert reply["ticket"]["number"] == "A-001"
        assert dispatcher.stop() == 0
    finally:
        dispatcher.cleanup()
    assert rows(db, "PRAGMA user_version") == [(store_file.VERSION,)]
    assert rows(db, "PRAGMA application_id") == [(store_file.APPLICATION_ID,)]
    assert "a new database (--new)" in log.read_text(encoding="utf-8")


def test_a_path_that_does_not_exist_is_a_new_database_without_new(tmp_path):
    store = Store(tmp_path / "a" / "b" / "antrian.db", WITA)
    store.close()
    assert rows(tmp_path / "a" / "b" / "antrian.db", "PRAGMA user_version") == [(store_file.VERSION,)]
    Store(tmp_path / "a" / "b" / "antrian.db", WITA).close()  # and opens again as ours


def ask(rec, role: str, entity: str, obj: dict, timeout: float = 10.0) -> dict:
    """Publish a kiosk request or counter command and wait for the reply to this one."""
    topic, reply = ((protocol.kiosk_request(SITE, entity), protocol.kiosk_reply(SITE, entity)) if role == "kiosk"
                    else (protocol.counter_command(SITE, entity), protocol.counter_reply(SITE, entity)))
    earlier = len([m for m in rec.messages if m.topic == reply and m.json().get("id") == obj["id"]])
    rec.publish_json(topic, obj)
    rec.wait_for(reply, lambda m: len([x for x in rec.messages
                                       if x.topic == reply and x.json().get("id") == obj["id"]]) > earlier,
                 timeout=timeout)
    return [m.json() for m in rec.messages if m.topic == reply and m.json().get("id") == obj["id"]][earlier]


# -- a database written before schema versions -----------------------------------------------


def an_old_database(path: Path, site_file: Path, day1: dt.date, day2: dt.date) -> None:
    """A database as the code before versions wrote it: two business days, replies under
    (day, sender, id), one id used on both days."""
    config = load(site_file)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(OLD_SCHEMA)
    seq = 0
    for day, tickets in ((day1, 5), (day2, 3)):
        for e in a_day(config, day, tickets):
            kind, at, data = to_row(e)
            if getattr(e, "seq", None) is not None:
                seq += 1  # the site's call sequence runs on across days
                data = json.dumps({**json.loads(data), "seq": seq})
            con.execute("INSERT INTO events(day, at, kind, number, counter, seq, data) VALUES (?,?,?,?,?,?,?)",
                        (day.isoformat(), at, kind, getattr(e, "number", None), getattr(e, "counter", None),
                         seq if getattr(e, "seq", None) is not None else None, data))
    for day in (day1, day2):
        for sender, mid in (("kiosk/kiosk1", f"k-{day}"), ("counter/loket1", "same-id")):
            topic = f"antrian/{SITE}/{sender}/reply"
            con.execute("INSERT INTO replies VALUES (?,?,?,?,?)",
                        (day.isoformat(), sender, mid, topic, json.dumps({"id": mid, "ok": True, "from": str(day)})))
    con.execute("INSERT INTO surveys(day, at, device, score) VALUES (?, ?, 'survey1', 4)",
                (day1.isoformat(), f"{day1}T09:00:00+08:00"))
    con.commit()
    con.close()


def test_an_old_database_is_migrated_in_place_and_keeps_its_days_numbers_and_replies(
        run_dispatcher, mqtt_client, site_file, tmp_path):
    day1, day2 = dt.date(2026, 11, 23), dt.date(2026, 11, 24)
    db = tmp_path / "antrian.db"
    an_old_database(db, site_file, day1, day2)
    events_before = rows(db, "SELECT * FROM events ORDER BY id")
    surveys_before = rows(db, "SELECT * FROM surveys")
    assert rows(db, "PRAGMA user_version") == [(0,)]

    run_dispatcher(db=db, clock=lambda: dt.datetime.combine(day2, dt.time(10), WITA))
    assert rows(db, "PRAGMA user_version") == [(store_file.VERSION,)]
    assert rows(db, "PRAGMA application_id") == [(store_file.APPLICATION_ID,)]
    assert rows(db, "SELECT * FROM events ORDER BY id") == events_before
    # Version 3 added the profile column: the rows of before have none.
    assert rows(db, "SELECT * FROM surveys") == [(*row, None) for row in surveys_before]
    assert rows(db, "SELECT key FROM meta") == []
    kept = {(s, m): json.loads(p)["from"] for s, m, p in rows(db, "SELECT sender, msg_id, payload FROM replies")}
    # Every reply kept; an id remembered on both days keeps its latest day's reply.
    assert kept == {("kiosk/kiosk1", f"k-{day1}"): str(day1), ("kiosk/kiosk1", f"k-{day2}"): str(day2),
                    ("counter/loket1", "same-id"): str(day2)}

    rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
    rec.wait_for(protocol.board(SITE))
    # A retry of yesterday's and today's ids: the first replies, word for word; nothing issued.
    for mid, day in ((f"k-{day2}", day2), (f"k-{day1}", day1)):
        assert ask(rec, "kiosk", "kiosk1", {"id": mid, "service": "KTP", "priority": None}) == \
            {"id": mid, "ok": True, "from": str(day)}
    assert ask(rec, "counter", "loket1", {"id": "same-id", "action": "call_next"})["from"] == str(day2)
    assert rows(db, "SELECT * FROM events ORDER BY id") == events_before
    # The business day and its numbering go on: day 2 had A-001..A-003, A-001 called.
    ticket = ask(rec, "kiosk", "kiosk1", {"id": "new", "service": "KTP", "priority": None})["ticket"]
    assert (ticket["number"], ticket["business_day"]) == ("A-004", str(day2))
    assert ask(rec, "counter", "loket1", {"id": "next", "action": "call_next"})["ticket"]["number"] == "A-002"


def test_a_migration_that_fails_leaves_the_old_database_as_it_was(site_file, tmp_path, monkeypatch):
    db = tmp_path / "antrian.db"
    an_old_database(db, site_file, dt.date(2026, 11, 23), dt.date(2026, 11, 24))
    schema = rows(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
    replies = rows(db, "SELECT * FROM replies ORDER BY day, sender, msg_id")

    def broken(db: sqlite3.Connection, now: float) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error (a migration cut short)")

    monkeypatch.setattr(store_file, "MIGRATIONS", (*store_file.MIGRATIONS, broken))
    monkeypatch.setattr(store_file, "VERSION", len(store_file.MIGRATIONS))
    monkeypatch.setattr(store_file, "TABLES", store_file.TABLES | {"half_done"})
    with pytest.raises(StoreError, match="migrating .* from schema version 0: disk I/O error"):
        Store(db, WITA)
    assert rows(db, "PRAGMA user_version") == [(0,)]
    assert rows(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
    assert rows(db, "SELECT * FROM replies ORDER BY day, sender, msg_id") == replies


def test_each_refusal_is_also_an_error_of_the_store_in_process(site_file, tmp_path):
    db = tmp_path / "antrian.db"
    db.write_bytes(b"")
    with pytest.raises(DatabaseUnusable, match="an empty file"):
        Store(db, WITA)
    assert db.read_bytes() == b""
    Store(db, WITA, new=True).close()
    assert rows(db, "PRAGMA user_version") == [(store_file.VERSION,)]


# -- the meta table -----------------------------------------------------------------------------


def test_meta_is_written_with_the_batch_and_read_at_open(tmp_path):
    db = tmp_path / "antrian.db"
    store = Store(db, WITA)
    assert store.meta == {}
    now = dt.datetime(2026, 11, 23, 9, tzinfo=WITA)
    store.commit([], [Reply("kiosk/kiosk1", "a", "t", "{}", now)],
                 meta={"last_stamp": now.isoformat(), "boottime": 1234.5, "anchor": "2026-11-23", "n": 7})
    # A batch that fails writes no meta either, and the store's copy stays as stored.
    with pytest.raises(StoreError):
        store.commit([], [Reply("kiosk/kiosk1", "b", "t", None, now)], meta={"anchor": "2026-11-24"})
    store.commit([], [], meta={"n": None})
    store.close()
    store = Store(db, WITA)
    try:
        assert store.meta == {"last_stamp": now.isoformat(), "boottime": 1234.5, "anchor": "2026-11-23"}
        assert rows(db, "SELECT msg_id FROM replies") == [("a",)]
    finally:
        store.close()


# -- exactly once across midnight ----------------------------------------------------------------


class Clock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_retry_across_midnight_gets_its_first_reply_for_36_hours(run_dispatcher, mqtt_client, tmp_path):
    before_midnight = dt.datetime(2026, 11, 23, 23, 59, 30, tzinfo=WITA)
    clock = Clock(before_midnight)
    run_dispatcher(clock=clock)
    rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
    rec.wait_for(protocol.board(SITE))
    request = {"id": uuid.uuid4().hex, "service": "KTP", "priority": None}
    first = ask(rec, "kiosk", "kiosk1", request)
    assert (first["ticket"]["number"], first["ticket"]["business_day"]) == ("A-001", "2026-11-23")

    clock.now = dt.datetime(2026, 11, 24, 0, 0, 30, tzinfo=WITA)  # a new business day
    other = ask(rec, "kiosk", "kiosk1", {"id": "after-midnight", "service": "KTP", "priority": None})
    assert (other["ticket"]["number"], other["ticket"]["business_day"]) == ("A-001", "2026-11-24")
    assert ask(rec, "kiosk", "kiosk1", request) == first  # the retry: its first reply, word for word
    assert rows(tmp_path / "antrian.db", "SELECT day, number FROM events WHERE kind = 'issued' ORDER BY id") == \
        [("2026-11-23", "A-001"), ("2026-11-24", "A-001")]

    # The memory is a window, not for ever: 36 hours after, the same id is a new request, and
    # replies older than the window are pruned with the next batch (the events never are).
    clock.now = before_midnight + REPLY_WINDOW + dt.timedelta(seconds=1)
    again = ask(rec, "kiosk", "kiosk1", request)
    assert again != first and again["ticket"]["business_day"] == "2026-11-25"
    clock.now += dt.timedelta(seconds=30)
    ask(rec, "kiosk", "kiosk1", {"id": "later", "service": "KTP", "priority": None})
    assert {m for (m,) in rows(tmp_path / "antrian.db", "SELECT msg_id FROM replies")} == \
        {request["id"], "after-midnight", "later"}
    clock.now = before_midnight + 2 * REPLY_WINDOW
    ask(rec, "kiosk", "kiosk1", {"id": "much-later", "service": "KTP", "priority": None})
    assert {m for (m,) in rows(tmp_path / "antrian.db", "SELECT msg_id FROM replies")} == \
        {request["id"], "later", "much-later"}
    assert rows(tmp_path / "antrian.db", "SELECT count(*) FROM events WHERE kind = 'issued'") == [(5,)]



@pytest.mark.parametrize("make", [random_bytes, newer, zero_bytes])
def test_check_config_reads_the_database_as_the_dispatcher_would_and_writes_nothing(site_file, tmp_path, make):
    db = tmp_path / "data" / "antrian.db"
    db.parent.mkdir()
    make(db, site_file)
    before = fingerprint(db)
    proc = subprocess.run([sys.executable, "-m", "antrian.cli", "check-config", str(site_file), "--db", str(db)],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert fingerprint(db) == before
    if make is zero_bytes:
        assert proc.returncode == 0 and f"database  {db}: no events yet" in proc.stdout, proc
    else:
        assert proc.returncode == EXIT_DATABASE, proc
        assert proc.stderr.splitlines() == [proc.stderr.strip()] and \
            proc.stderr.startswith(f"antrian check-config: {db}: "), proc.stderr
