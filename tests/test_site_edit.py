"""A technician's edit and a damaged history, against `antrian dispatcher` as a child
process on a real broker (issue 12, item 3): a service and a counter removed mid-day
(check-config warns first; the dispatcher restarts, withdraws the stranded tickets with
a stored event and a log line, serves the rest; the report still counts them), and rows
it cannot replay (exit status 65, one line naming the file and the row, nothing
written)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import write_site
from helpers import ROOT, SITE, STATUS, DispatcherProcess, Endpoint, rows

from antrian import protocol
from antrian.errors import EXIT_DATABASE


def antrian(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "antrian.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def without_kia_and_loket7(site_file: Path, out: Path) -> Path:
    """The same site file with the service KIA and the counter loket7 taken out, as a
    technician would: from its agency, from the counters, from the panel's pin map."""
    raw = yaml.safe_load(site_file.read_text(encoding="utf-8"))
    for agency in raw["agencies"]:
        agency["services"] = [s for s in agency["services"] if s["code"] != "KIA"]
    raw["counters"] = [c for c in raw["counters"] if c["id"] != "loket7"]
    for c in raw["counters"]:
        c["services"] = [s for s in c["services"] if s != "KIA"]
    for device in raw.get("devices", []):
        for part in ("buttons", "leds", "buzzers", "keypads"):
            if part in device:
                device[part] = [p for p in device[part] if p.get("counter") != "loket7"]
    return write_site(out, raw)


@pytest.fixture
def field(broker, mqtt_client, site_file, tmp_path):
    """A started dispatcher process, a kiosk, the counters loket1 and loket7, a watcher."""
    db = tmp_path / "antrian.db"
    watch = mqtt_client(topics=[STATUS])
    dispatcher = DispatcherProcess(site_file, db, broker.address, tmp_path / "dispatcher.log")
    ends: dict[str, Endpoint] = {}
    try:
        dispatcher.start()
        watch.wait_for(STATUS, lambda m: m.json().get("online") is True, timeout=15)
        ends["kiosk1"] = Endpoint("kiosk1", protocol.kiosk_request(SITE, "kiosk1"),
                                  protocol.kiosk_reply(SITE, "kiosk1"), broker.host, broker.port)
        for c in ("loket1", "loket7"):
            ends[c] = Endpoint(c, protocol.counter_command(SITE, c), protocol.counter_reply(SITE, c),
                               broker.host, broker.port)
        yield dispatcher, db, ends, watch
    finally:
        for end in ends.values():
            end.close()
        dispatcher.cleanup()


def take(kiosk: Endpoint, service: str, n: int, tag: str) -> list[str]:
    return [kiosk.ask({"id": f"{tag}-{service}-{i}", "service": service, "priority": None})["ticket"]["number"]
            for i in range(n)]


def press(counter: Endpoint, tag: str, action: str = "call_next") -> dict:
    return counter.ask({"id": f"{tag}-{action}", "action": action})


def test_a_service_and_a_counter_removed_mid_day(field, site_file, tmp_path):
    dispatcher, db, ends, watch = field
    kiosk, loket1, loket7 = ends["kiosk1"], ends["loket1"], ends["loket7"]
    # The morning: KIA E-001 served at loket1, E-002 being served there, E-003 waiting;
    # KTP A-001 waiting; TAB F-001 served at loket7, F-002 being served there.
    assert take(kiosk, "KIA", 3, "m") == ["E-001", "E-002", "E-003"]
    assert take(kiosk, "KTP", 1, "m") == ["A-001"]
    assert take(kiosk, "TAB", 2, "m") == ["F-001", "F-002"]
    assert press(loket1, "1")["ticket"]["number"] == "E-001"
    assert press(loket1, "2")["ticket"]["number"] == "E-002"
    assert press(loket7, "1")["ticket"]["number"] == "F-001"
    assert press(loket7, "2")["ticket"]["number"] == "F-002"
    assert dispatcher.stop() == 0

    # The technician's edit, checked before it is deployed: legal, so a warning and exit 0.
    edited = without_kia_and_loket7(site_file, tmp_path / "edited.yaml")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    checked = antrian("check-config", str(edited), "--db", str(db))
    assert checked.returncode == 0, checked.stderr
    warnings = [line for line in checked.stdout.splitlines() if "warning" in line]
    assert len(warnings) == 2 and "KIA" in warnings[0] and "loket7" in warnings[1], checked.stdout
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before  # check-config wrote nothing
    assert antrian("check-config", str(site_file), "--db", str(db)).stdout.count("warning") == 0

    # The dispatcher starts on it, withdraws what nobody can serve, and serves the rest.
    dispatcher.args[dispatcher.args.index("--config") + 1] = str(edited)
    dispatcher.start()
    assert press(loket1, "3")["ticket"]["number"] == "A-001"  # E-002 was withdrawn, not finished
    assert take(kiosk, "KTP", 1, "after") == ["A-002"]  # numbering goes on
    refused = kiosk.ask({"id": "after-KIA", "service": "KIA", "priority": None})
    assert refused["error"]["code"] == "unknown_service"
    withdrawn = rows(db, "SELECT number, data FROM events WHERE kind = 'withdrawn' ORDER BY id")
    assert [n for n, _ in withdrawn] == ["E-002", "E-003", "F-002"]
    assert "service KIA" in json.loads(withdrawn[0][1])["reason"]
    assert "counter loket7" in json.loads(withdrawn[2][1])["reason"]
    log = (tmp_path / "dispatcher.log").read_text(encoding="utf-8")
    assert [line for line in log.splitlines() if "withdrew" in line and "E-003" in line]
    assert "Traceback" not in log

    # A second restart replays the same queue and withdraws nothing more.
    assert dispatcher.stop() == 0
    dispatcher.start()
    assert press(loket1, "4", "finish")["ticket"]["number"] == "A-001"
    assert rows(db, "SELECT COUNT(*) FROM events WHERE kind = 'withdrawn'") == [(3,)]
    assert dispatcher.stop() == 0

    # The report, with the edited site file, still counts the KIA and loket7 tickets.
    day = rows(db, "SELECT day FROM events ORDER BY id DESC LIMIT 1")[0][0]
    out = tmp_path / "laporan"
    made = antrian("report", "--config", str(edited), "--db", str(db), "--date", day, "--out", str(out),
                   "--no-charts")
    assert made.returncode == 0, made.stderr
    total = list(csv.DictReader((out / "instansi.csv").open(encoding="utf-8")))[-1]
    assert (total["issued"], total["withdrawn"], total["served"]) == ("7", "3", "3")  # E-001, F-001, A-001
    assert "KIA (3 tiket)" in (out / "laporan.html").read_text(encoding="utf-8")


def a_day_in(db_dir: Path, site_file: Path) -> Path:
    """A database with one business day of a few events, written by the engine itself."""
    from antrian.adapters.store import Store
    from antrian.queue.engine import Engine
    from antrian.queue.events import DayStarted
    from antrian.site import load

    config = load(site_file)
    store = Store(db_dir / "antrian.db", config.tz)
    engine = Engine(config)
    now = dt.datetime.now(config.tz)
    events = [DayStarted(at=now, day=now.date())]
    engine.apply(events[0])
    for decide in (lambda: engine.issue("KTP", None, now), lambda: engine.command("loket1", "call_next", {}, now)):
        outcome = decide()
        engine.apply_all(outcome.events)
        events += outcome.events
    store.commit(events, [])
    store.close()
    return db_dir / "antrian.db"


DAMAGED = [
    ("unknown_kind", "teleported", '{"number": "A-001"}', "unknown event kind 'teleported'"),
    ("bad_data", "called", '{"number": "A-001", "counter": "loket1", "seq": "two", "via": "next"}', "seq is 'two'"),
    ("refused_by_the_tables", "served", '{"number": "A-009", "counter": "loket1"}', "no such ticket today"),
]


@pytest.mark.parametrize("kind, data, why", [d[1:] for d in DAMAGED], ids=[d[0] for d in DAMAGED])
def test_a_row_it_cannot_replay_stops_the_dispatcher_with_one_line_and_exit_65(broker, site_file, tmp_path,
                                                                              kind, data, why):
    db = a_day_in(tmp_path, site_file)
    con = sqlite3.connect(db)
    day, at = con.execute("SELECT day, at FROM events ORDER BY id DESC LIMIT 1").fetchone()
    row = con.execute("INSERT INTO events(day, at, kind, data) VALUES (?, ?, ?, ?)", (day, at, kind, data)).lastrowid
    con.commit()
    con.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()

    dispatcher = DispatcherProcess(site_file, db, broker.address, tmp_path / "dispatcher.log")
    dispatcher.start()
    try:
        assert dispatcher.proc.wait(30) == EXIT_DATABASE == 65
    finally:
        dispatcher.cleanup()
    out = (tmp_path / "dispatcher.log").read_text(encoding="utf-8").splitlines()[1:]  # after "==== start 1"
    assert len(out) == 1, out
    assert out[0].startswith(f"antrian dispatcher: {db}: events row {row}: ") and why in out[0], out[0]
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    # check-config --db reads the rows (it does not replay them): a row that is no event, the same line
    checked = antrian("check-config", str(site_file), "--db", str(db))
    if kind == "served":
        assert checked.returncode == 0
    else:
        assert checked.returncode == 65 and checked.stderr.strip().endswith(out[0].split(": ", 1)[1])
