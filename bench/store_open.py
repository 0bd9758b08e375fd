#!/usr/bin/env python3
"""What opening the dispatcher's database costs on a year of events (issue 12, item 3):
the checks of antrian/adapters/store_file.py run at every start.

    .venv/bin/python bench/store_open.py                    # 200,000 events
    .venv/bin/python bench/store_open.py --events 800000 --json out.json

1. A database of `--events` events written by the real engine and store: business days of
   270 tickets each (issued, called, served: about 810 events a day), about
   a year of a busy MPP at 200,000, and the replies of the last 36 hours.
2. `Store(path)` timed: the read-only look (header, tables, PRAGMA integrity_check), then
   the read-write open. Warm: the file in the page cache. Cold: the file's pages dropped
   from the cache first (posix_fadvise DONTNEED after an fsync; no root needed), which is
   what a Pi's first start after a power cut pays, reading from its SD card.
3. PRAGMA quick_check and PRAGMA integrity_check alone, warm and cold, to choose between them.
4. The migration of the same events as the code before schema versions wrote them, with
   a reply for every ticket of every day (that code never pruned them).

Figures are printed, never asserted; docs/benchmarks-faults.md quotes them.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from types import MappingProxyType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from antrian.adapters import store_file  # noqa: E402
from antrian.adapters.store import Reply, Store  # noqa: E402
from antrian.queue.engine import Engine  # noqa: E402
from antrian.queue.events import DayStarted  # noqa: E402
from antrian.site import load  # noqa: E402

TICKETS_A_DAY = 270


def build(path: Path, events: int) -> int:
    """Business days until `events` events are stored; returns how many were."""
    config = load(ROOT / "examples" / "buton.yaml").always_open()
    # One busy service without a quota: the year's size is what counts, not its spread.
    config = dataclasses.replace(config, services=MappingProxyType(
        {**config.services, "KTP": dataclasses.replace(config.services["KTP"], quota=None)}))
    store = Store(path, config.tz)
    day, written, last_seq = dt.date(2026, 1, 5), 0, 0
    while written < events:
        engine = Engine(config)
        engine.last_seq = last_seq
        now = dt.datetime.combine(day, dt.time(8), config.tz)
        batch = [DayStarted(at=now, day=day)]
        engine.apply(batch[0])
        replies = []
        for i in range(TICKETS_A_DAY):
            # NEXT serves the ticket in hand and calls this one: issued, served, called.
            for decide in (lambda: engine.issue("KTP", None, now),
                           lambda: engine.command("loket1", "call_next", {}, now)):
                outcome = decide()
                engine.apply_all(outcome.events)
                batch += outcome.events
            replies.append(Reply("kiosk/kiosk1", f"{day}-{i}", "antrian/buton/kiosk/kiosk1/reply",
                                 json.dumps({"id": f"{day}-{i}", "ok": True, "ticket": engine.ticket(
                                     batch[-1].number)}), now))
        store.commit(batch, replies, day=day)
        written += len(batch)
        last_seq = engine.last_seq
        day += dt.timedelta(days=1)
    store.close()
    return written


def evict(path: Path) -> None:
    for p in (path, Path(f"{path}-wal")):
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def timed(work, path: Path, cold: bool) -> float:
    if cold:
        evict(path)
    start = time.perf_counter()
    work()
    return round(time.perf_counter() - start, 3)


def pragma(path: Path, name: str):
    def run() -> None:
        con = sqlite3.connect(path)
        try:
            assert con.execute(f"PRAGMA {name}").fetchall() == [("ok",)]
        finally:
            con.close()
    return run


def old_copy(new: Path, old: Path) -> None:
    """The same events, as the code before versions wrote them, with every day's replies."""
    con = sqlite3.connect(old)
    con.execute("PRAGMA journal_mode=WAL")
    for statement in store_file.BASE_SCHEMA.split(";"):
        con.execute(statement)
    con.execute("ATTACH DATABASE ? AS new", (str(new),))
    con.execute("INSERT INTO events SELECT * FROM new.events")
    con.execute("INSERT INTO replies SELECT e.day, 'kiosk/kiosk1', e.day || '-' || e.id, 't', "
                "'{\"id\": \"x\", \"ok\": true, \"ticket\": {\"number\": \"' || e.number || '\"}}' "
                "FROM new.events e WHERE kind = 'issued'")
    con.commit()
    con.execute("DETACH DATABASE new")
    con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--dir", help="where the database goes (default: a temporary folder; not a tmpfs)")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        db = Path(tmp) / "antrian.db"
        start = time.perf_counter()
        events = build(db, args.events)
        result = {"machine": f"{platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, "
                             f"SQLite {sqlite3.sqlite_version}",
                  "events": events, "megabytes": round(db.stat().st_size / 1e6, 1),
                  "build_seconds": round(time.perf_counter() - start, 1)}

        def open_store() -> None:
            Store(db, dt.timezone.utc).close()

        for cold in (False, True):
            label = "cold" if cold else "warm"
            result[f"open_{label}_s"] = min(timed(open_store, db, cold) for _ in range(3))
            for name in ("quick_check", "integrity_check"):
                result[f"{name}_{label}_s"] = min(timed(pragma(db, name), db, cold) for _ in range(3))
        old = Path(tmp) / "old.db"
        old_copy(db, old)
        result["old_megabytes"] = round(old.stat().st_size / 1e6, 1)
        result["old_replies"] = sqlite3.connect(old).execute("SELECT count(*) FROM replies").fetchone()[0]
        result["migrate_s"] = timed(lambda: Store(old, dt.timezone.utc).close(), old, True)
    for key, value in result.items():
        print(f"  {key:<24}{value}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
