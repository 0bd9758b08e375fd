"""The clock driven from outside (issue 12, item 1): `antrian dispatcher` as a child process
on a real broker, its wall clock moved by libfaketime (Debian's `faketime`, in ./mpp's
APT_PACKAGES) while it runs, its non-stepping clock (CLOCK_BOOTTIME) left real:

- restarted with the clock at yesterday: a retried request and a retried NEXT get their
  first reply, a new request the next number of the stored day, the board keeps its day,
  the status says clock_behind until the clock is right, and every later restart works;
- a step back across midnight: no number twice in a business day;
- booted with yesterday's saved clock, tickets taken in the morning, then NTP steps to
  today: those citizens stay and are called in order, numbering goes on, and the next real
  midnight starts a new day; the same when the step comes while the dispatcher is down and
  systemd restarts it in the same boot;
- three hours back within the day: no negative wait.

libfaketime 0.9.10 with FAKETIME_DONT_FAKE_MONOTONIC=1 fakes CLOCK_REALTIME only (the
monotonic and boot clocks stay real, so a step can be told from elapsed time), re-reads
FAKETIME_TIMESTAMP_FILE on every call with FAKETIME_NO_CACHE=1 ("@<time>": the clock is
set there and runs on), and makes Python's time.sleep fail with EINVAL (clock_nanosleep
on the monotonic clock); the dispatcher sleeps only to back off a lost broker, which
these tests do not do. Its thread-safe build (libfaketimeMT) it must be: with several
threads reading the clock, the plain libfaketime.so.1 now and then returns the real time
(55 of 80,000 readings in 4 threads here). A reboot is the boot id in the meta table changed while the
dispatcher is stopped: the same boot cannot be left any other way in a test."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest
from helpers import ROOT, SITE, STATUS, DispatcherProcess, Endpoint, assert_consecutive, rows

from antrian import protocol
from antrian.slow import scaled

LIBFAKETIME = next(Path("/usr/lib").glob("*/faketime/libfaketimeMT.so.1"), Path("libfaketimeMT.so.1"))
pytestmark = pytest.mark.skipif(not LIBFAKETIME.exists(), reason="libfaketime is not installed (./mpp installs it)")

WITA = ZoneInfo("Asia/Makassar")
D = dt.date(2026, 11, 24)  # a Tuesday
BOARD = protocol.board(SITE)


def wita(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), WITA)


class FakedDispatcher(DispatcherProcess):
    """The dispatcher process with its wall clock in a file the test writes."""

    def __init__(self, site_file: Path, db: Path, address: str, tmp_path: Path):
        super().__init__(site_file, db, address, tmp_path / "dispatcher.log")
        self.clock_file = tmp_path / "faketime"
        self.db = db

    def set_clock(self, local: dt.datetime) -> None:
        """Step the process's wall clock to `local`, from where it runs on."""
        utc = local.astimezone(dt.timezone.utc)
        new = self.clock_file.with_suffix(".new")  # replaced whole: the process never reads half a time
        new.write_text(f"@{utc:%Y-%m-%d %H:%M:%S}\n", encoding="ascii")
        os.replace(new, self.clock_file)

    def start(self, at: dt.datetime | None = None) -> None:
        if at is not None:
            self.set_clock(at)
        env = {**os.environ, "LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(self.clock_file),
               "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1", "TZ": "UTC"}
        self.starts += 1
        with open(self.log, "ab") as log:
            log.write(f"==== start {self.starts}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)

    def stop(self) -> int:
        """One SIGTERM, as systemd stops it. Under libfaketimeMT the kernel often hands it to
        a thread that is not the main one; the dispatcher's main thread waits in slices, so
        it is heard all the same (test_sigterm_reaches_a_main_thread_among_busy_threads)."""
        self.proc.terminate()
        return self.proc.wait(scaled(10))

    def reboot(self) -> None:
        """What a reboot leaves behind: the stored boot id is another boot's."""
        assert self.proc is None or self.proc.poll() is not None
        con = sqlite3.connect(self.db)
        with con:
            con.execute("UPDATE meta SET value = 'an-earlier-boot' WHERE key = 'clock_boot'")
        con.close()

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8")


def eventually(check: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)


@pytest.fixture
def field(broker, mqtt_client, site_file, tmp_path):
    """The faked dispatcher (not started), a kiosk, loket1's panel, and a watcher of the
    dispatcher's status and the board."""
    dispatcher = FakedDispatcher(site_file, tmp_path / "antrian.db", broker.address, tmp_path)
    watch = mqtt_client(topics=[STATUS, BOARD])
    kiosk = Endpoint("kiosk1", protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1"),
                     broker.host, broker.port)
    loket1 = Endpoint("loket1", protocol.counter_command(SITE, "loket1"), protocol.counter_reply(SITE, "loket1"),
                      broker.host, broker.port)
    try:
        yield dispatcher, kiosk, loket1, watch
    finally:
        kiosk.close()
        loket1.close()
        dispatcher.cleanup()
    assert "Traceback" not in dispatcher.log_text()


def started(dispatcher: FakedDispatcher, watch, at: dt.datetime | None = None) -> None:
    """Start the dispatcher and wait for its fresh 'online' status."""
    before = len(watch.messages)
    dispatcher.start(at)
    eventually(lambda: [m for m in watch.messages[before:] if m.topic == STATUS and m.json().get("online")],
               what="the dispatcher online")


def status(watch) -> dict[str, Any]:
    return [m for m in watch.messages if m.topic == STATUS][-1].json()


def board_day(watch) -> str:
    return [m for m in watch.messages if m.topic == BOARD][-1].json()["business_day"]


def behind(watch, expected: bool) -> None:
    eventually(lambda: status(watch)["online"] and ("clock_behind" in status(watch)["problems"]) is expected,
               what=f"clock_behind {'in' if expected else 'out of'} the status")


def ticket(kiosk: Endpoint, mid: str, service: str = "KTP") -> dict[str, Any]:
    reply = kiosk.ask({"id": mid, "service": service, "priority": None})
    assert reply["ok"], reply
    return reply["ticket"]


def call_next(loket: Endpoint, mid: str) -> str | None:
    reply = loket.ask({"id": mid, "action": "call_next"})
    return reply["ticket"]["number"] if reply["ok"] else reply["error"]["code"]


def stored(db: Path) -> list[tuple[str, str, str, str]]:
    """(day, at, kind, number) of every event, in the order stored."""
    return rows(db, "SELECT day, at, kind, number FROM events ORDER BY id")


def assert_time_only_forward(db: Path) -> None:
    ats = [dt.datetime.fromisoformat(at) for _, at, _, _ in stored(db)]
    assert ats == sorted(ats), "an event stored earlier than the one before it"
    days = [day for day, _, _, _ in stored(db)]
    assert days == sorted(days), "a business day went back"
    issued = [(day, json.loads(data)["service"], number)
              for day, data, number in rows(db, "SELECT day, data, number FROM events WHERE kind = 'issued'")]
    assert_consecutive(issued)


def test_restarted_with_the_clock_at_yesterday(field):
    dispatcher, kiosk, loket1, watch = field
    db = dispatcher.db
    started(dispatcher, watch, wita(D, 9))
    first = {f"r{i}": kiosk.ask({"id": f"r{i}", "service": "KTP", "priority": None}) for i in (1, 2, 3)}
    assert [r["ticket"]["number"] for r in first.values()] == ["A-001", "A-002", "A-003"]
    next_reply = loket1.ask({"id": "n1", "action": "call_next"})
    assert next_reply["ticket"]["number"] == "A-001"
    assert dispatcher.stop() == 0

    dispatcher.reboot()  # the Pi lost power and came back with the time it saved yesterday
    started(dispatcher, watch, wita(D - dt.timedelta(days=1), 17))
    behind(watch, True)
    assert kiosk.ask({"id": "r3", "service": "KTP", "priority": None}) == first["r3"]  # the retry: its first reply
    assert loket1.ask({"id": "n1", "action": "call_next"}) == next_reply  # and NEXT calls nobody new
    fresh = ticket(kiosk, "r4")
    assert (fresh["number"], fresh["business_day"]) == ("A-004", D.isoformat())
    assert dt.datetime.fromisoformat(fresh["issued_at"]) >= wita(D, 9)
    assert board_day(watch) == D.isoformat()
    assert call_next(loket1, "n2") == "A-002"
    assert "behind the last stored event" in dispatcher.log_text()

    # Restarted again while still behind, and then at any clock: it starts, and nothing goes back.
    assert dispatcher.stop() == 0
    started(dispatcher, watch, wita(D - dt.timedelta(days=1), 17, 5))
    behind(watch, True)
    assert ticket(kiosk, "r5")["number"] == "A-005"
    dispatcher.set_clock(wita(D, 9, 30))  # NTP reaches it: the problem goes
    behind(watch, False)
    assert ticket(kiosk, "r6")["number"] == "A-006"
    assert dispatcher.stop() == 0
    dispatcher.reboot()
    started(dispatcher, watch, wita(D + dt.timedelta(days=1), 8))  # the next morning, a right clock
    fresh = ticket(kiosk, "r7")
    assert (fresh["number"], fresh["business_day"]) == ("A-001", "2026-11-25")
    assert status(watch)["problems"] == []
    assert dispatcher.stop() == 0
    assert_time_only_forward(db)


def test_a_step_back_across_midnight_gives_no_number_twice(field):
    dispatcher, kiosk, loket1, watch = field
    db = dispatcher.db
    started(dispatcher, watch, wita(D, 23, 59, 54))
    first = ticket(kiosk, "a")
    assert (first["number"], first["business_day"]) == ("A-001", D.isoformat())
    # Midnight passes in real time: the next day opens by itself, with nobody asking.
    eventually(lambda: board_day(watch) == "2026-11-25", what="the new day on the board")
    second = ticket(kiosk, "b")
    assert (second["number"], second["business_day"]) == ("A-001", "2026-11-25")
    dispatcher.set_clock(wita(D, 23, 58))  # NTP steps back across midnight
    behind(watch, True)
    assert [ticket(kiosk, m)["number"] for m in ("c", "d")] == ["A-002", "A-003"]
    assert board_day(watch) == "2026-11-25"
    dispatcher.set_clock(wita(D + dt.timedelta(days=1), 0, 3))
    behind(watch, False)
    assert ticket(kiosk, "e")["number"] == "A-004"
    assert dispatcher.stop() == 0
    assert_time_only_forward(db)
    assert [(d, n) for d, _, k, n in stored(db) if k == "issued"] == \
        [("2026-11-24", "A-001")] + [("2026-11-25", f"A-00{i}") for i in range(1, 5)]


def test_booted_with_yesterdays_clock_then_ntp_steps_to_today(field):
    dispatcher, kiosk, loket1, watch = field
    db = dispatcher.db
    yesterday = D - dt.timedelta(days=1)
    started(dispatcher, watch, wita(yesterday, 15))
    assert [ticket(kiosk, f"y{i}")["number"] for i in range(3)] == ["A-001", "A-002", "A-003"]
    assert call_next(loket1, "y-n1") == "A-001"
    assert dispatcher.stop() == 0  # closing time: were never called

    dispatcher.reboot()  # the next morning, the clock saved at shutdown
    started(dispatcher, watch, wita(yesterday, 16, 30))
    morning = [ticket(kiosk, f"m{i}") for i in range(3)]
    assert [(t["number"], t["business_day"]) for t in morning] == [
        ("A-004", "2026-11-23"), ("A-005", "2026-11-23"), ("A-006", "2026-11-23")]
    dispatcher.set_clock(wita(D, 8, 41))  # NTP arrives: a step forward across midnight
    eventually(lambda: "a correction, not a new day" in dispatcher.log_text(), what="the correction's log line")
    later = ticket(kiosk, "m3")
    assert (later["number"], later["business_day"]) == ("A-007", "2026-11-23")  # nobody lost, nothing twice
    assert board_day(watch) == "2026-11-23"
    assert dt.datetime.fromisoformat(later["issued_at"]) >= wita(D, 8, 41)
    assert [call_next(loket1, f"n{i}") for i in range(7)] == \
        ["A-002", "A-003", "A-004", "A-005", "A-006", "A-007", "queue_empty"]

    # Restarted by systemd in the same boot: the day holds (the correction is stored).
    assert dispatcher.stop() == 0
    started(dispatcher, watch, wita(D, 9))
    assert ticket(kiosk, "m4")["number"] == "A-008"
    assert board_day(watch) == "2026-11-23"
    # The next real midnight, that of the corrected date, starts a new day (the test gets to
    # the evening by a step that crosses no midnight, then lets the real seconds pass).
    dispatcher.set_clock(wita(D, 23, 59, 55))
    eventually(lambda: board_day(watch) == "2026-11-25", what="the new day on the board")
    fresh = ticket(kiosk, "t1")
    assert (fresh["number"], fresh["business_day"]) == ("A-001", "2026-11-25")
    assert dispatcher.stop() == 0
    assert_time_only_forward(db)
    assert [d for d, _, k, _ in stored(db) if k == "day_started"] == ["2026-11-23", "2026-11-25"]


def test_ntp_steps_while_the_dispatcher_is_down_and_systemd_restarts_it(field):
    """The same morning, but the step comes while the dispatcher is down (killed): the
    restart in the same boot sees it from the boot clock stored with the last batch."""
    dispatcher, kiosk, loket1, watch = field
    yesterday = D - dt.timedelta(days=1)
    started(dispatcher, watch, wita(yesterday, 15))
    assert ticket(kiosk, "y0")["number"] == "A-001"
    assert dispatcher.stop() == 0
    dispatcher.reboot()
    started(dispatcher, watch, wita(yesterday, 16, 30))
    assert [ticket(kiosk, f"m{i}")["number"] for i in range(2)] == ["A-002", "A-003"]
    dispatcher.kill()
    started(dispatcher, watch, wita(D, 8, 41))  # NTP stepped the clock while it was down
    later = ticket(kiosk, "m2")
    assert (later["number"], later["business_day"]) == ("A-004", "2026-11-23")
    assert [call_next(loket1, f"n{i}") for i in range(4)] == ["A-001", "A-002", "A-003", "A-004"]
    assert "a correction, not a new day" in dispatcher.log_text().split("==== start 3")[1]
    assert dispatcher.stop() == 0
    assert_time_only_forward(dispatcher.db)


def test_three_hours_back_gives_no_negative_wait(field):
    dispatcher, kiosk, loket1, watch = field
    db = dispatcher.db
    started(dispatcher, watch, wita(D, 11, 45))
    assert [ticket(kiosk, f"k{i}")["number"] for i in range(4)] == ["A-001", "A-002", "A-003", "A-004"]
    assert call_next(loket1, "n1") == "A-001"
    dispatcher.set_clock(wita(D, 8, 45))  # NTP steps back three hours
    behind(watch, True)
    assert call_next(loket1, "n2") == "A-002"  # A-001 served: a duration of no less than nothing
    assert call_next(loket1, "n3") == "A-003"
    waits = [ticket(kiosk, f"w{i}")["estimated_wait_min"] for i in range(3)]
    assert all(w >= 0 for w in waits), waits
    assert min(dt.datetime.fromisoformat(at) for _, at, k, _ in stored(db) if k in ("served", "called")) \
        >= wita(D, 11, 45)
    assert board_day(watch) == D.isoformat()
    assert dispatcher.stop() == 0
    assert_time_only_forward(db)


BUSY_MAIN = """
import sys, threading, time
from antrian.cli import common

def busy():
    while True:
        time.time()
        sum(range(1000))

stop = common.stop_on_signal()
for _ in range(2):
    threading.Thread(target=busy, daemon=True).start()
print("ready", flush=True)
common.wait_for_signal(stop)
"""


def test_sigterm_reaches_a_main_thread_among_busy_threads(tmp_path):
    """The commands' wait for SIGTERM, under libfaketimeMT with two busy threads: there the
    kernel hands most SIGTERMs to a busy thread (16 of 20 were lost by a main thread that
    waited with no timeout); every one must stop the process, with status 0."""
    clock = tmp_path / "faketime"
    clock.write_text("@2026-11-24 08:00:00\n", encoding="ascii")
    env = {**os.environ, "LD_PRELOAD": str(LIBFAKETIME), "FAKETIME_TIMESTAMP_FILE": str(clock),
           "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1", "TZ": "UTC"}
    for attempt in range(10):
        proc = subprocess.Popen([sys.executable, "-c", BUSY_MAIN], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline() == "ready\n"
            time.sleep(0.1)  # the busy threads running
            proc.terminate()
            assert proc.wait(scaled(5)) == 0, f"attempt {attempt}: SIGTERM did not end it cleanly"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
