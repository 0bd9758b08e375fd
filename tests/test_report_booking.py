"""The report's bookings (antrian/tools/report/bookings.py): online against walk-in tickets,
bookings made, checked in, cancelled, expired and still open, and the punctuality of the
check-ins -- from a script run through the real engine into a real store, over three
business days, every figure worked out by hand below.

Service A takes bookings (slots of an hour, 2 a slot, window 30 min before to 15 after
the slot's start); B takes walk-ins only. Monday 16 November 2026 (WIB), office 08:00-15:00.

- Saturday 07:00 (booking opens three days ahead): b1, b2 book 09:00; b3, b4 10:00; b5
  11:00; b6 13:00; b8 14:00 -- and b7 books Tuesday 10:00 (not a day of the report).
- Sunday 12:00: b6 is cancelled.
- Monday: walk-ins A-001 08:00, A-002 08:30; B-001..B-003 at 08:00, 08:10, 08:20.
  b1 checks in 08:40 (-20 min: A-003), b2 09:05 (+5: A-004), b4 tries 09:00 (too early,
  no event) and never returns (expires at 10:16), b3 09:50 (-10: A-005), b5 11:14 (+14:
  A-006). b8's window (13:30-14:15) is not over when the day's events end: still open.
  Counter ca calls A-001 08:45 (wait 45), A-002 08:50 (20), A-003 09:10 (30: its slot
  09:00 puts it after the walk-ins of 08:00 and 08:30), A-004 09:20 (15), A-005 09:55 (5),
  A-006 11:20 (6). cb calls B-001 08:05 (5), B-002 08:15 (5), B-003 08:30 (10).

So for A: online 4, walk-in 2; made 7 (b7 is Tuesday's), checked in 4, cancelled 1,
expired 1, still open 1; no-show rate 1/5; offsets sorted -20, -10, +5, +14: median -2.5,
P10 -20 + 0.3 x 10 = -17, P90 5 + 0.7 x 9 = 11.3, mean -11/4; two of four before the
slot; waits online (30+15+5+6)/4 = 14, walk-in (45+20)/2 = 32.5.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from helpers import MONDAY, local
from sites import WIB, counter, service, site

from antrian.adapters.store import Store
from antrian.errors import QueueError
from antrian.queue import codes
from antrian.queue.engine import Engine
from antrian.queue.events import DayStarted
from antrian.tools.report import files as report_files
from antrian.tools.report import figures as report

BOOKING = {"slot_minutes": 60, "capacity": 2, "share": 0.5, "days_ahead": 3, "opens_at": "07:00",
           "checkin_early_min": 30, "checkin_late_min": 15}
OFFICE = {"senin": ["08:00-15:00"], "selasa": ["08:00-15:00"]}
CONFIG = site(services=[service("A", schedule="office", quota=20, booking=BOOKING),
                        service("B", schedule="office", quota=20)],
              counters=[counter("ca", "A"), counter("cb", "B")], schedules={"office": OFFICE})
SATURDAY, SUNDAY, TUESDAY = (MONDAY + dt.timedelta(days=d) for d in (-2, -1, 1))


class Script:
    """The engine and every event it decided, applied as the dispatcher would."""

    def __init__(self):
        self.engine = Engine(CONFIG)
        self.events = []
        self.phones: dict[str, str] = {}  # booking code -> the phone's keyed hash

    def apply(self, outcome):
        self.engine.apply_all(outcome.events)
        self.events += outcome.events
        return outcome

    def day(self, day: dt.date, hour: int = 7):
        started = DayStarted(at=local(WIB, day, hour), day=day)
        self.engine.apply(started)
        self.events.append(started)

    def book(self, person: int, slot: str, day: dt.date = MONDAY) -> str:
        key = codes.person_key(b"s" * 32, "phone", f"08123{person:07d}")
        out = self.apply(self.engine.book("A", day, dt.time.fromisoformat(slot), key, None,
                                          local(WIB, SATURDAY, 7) + dt.timedelta(seconds=person)))
        self.phones[out.events[0].code] = key
        return out.events[0].code

    def at(self, hour: int, minute: int) -> dt.datetime:
        return local(WIB, MONDAY, hour, minute)

    def check_in(self, code: str, hour: int, minute: int) -> str:
        return self.apply(self.engine.check_in(code, None, self.at(hour, minute))).ticket

    def issue(self, svc: str, hour: int, minute: int) -> str:
        return self.apply(self.engine.issue(svc, None, self.at(hour, minute))).ticket

    def call(self, cid: str, hour: int, minute: int) -> str:
        return self.apply(self.engine.command(cid, "call_next", {}, self.at(hour, minute))).ticket


def run_script() -> Script:
    s = Script()
    s.day(SATURDAY)
    b = {i: s.book(i, slot) for i, slot in [(1, "09:00"), (2, "09:00"), (3, "10:00"), (4, "10:00"), (5, "11:00"),
                                             (6, "13:00"), (8, "14:00")]}
    b[7] = s.book(7, "10:00", TUESDAY)
    s.day(SUNDAY)
    s.apply(s.engine.cancel_booking(b[6], s.phones[b[6]], local(WIB, SUNDAY, 12)))
    s.day(MONDAY)
    assert [s.issue("A", 8, 0), s.issue("B", 8, 0)] == ["A-001", "B-001"]
    assert s.call("cb", 8, 5) == "B-001"
    assert s.issue("B", 8, 10) == "B-002"
    assert s.call("cb", 8, 15) == "B-002"
    assert s.issue("B", 8, 20) == "B-003"
    assert [s.issue("A", 8, 30), s.call("cb", 8, 30)] == ["A-002", "B-003"]
    assert s.check_in(b[1], 8, 40) == "A-003"
    assert [s.call("ca", 8, 45), s.call("ca", 8, 50)] == ["A-001", "A-002"]
    with pytest.raises(QueueError) as early:
        s.engine.check_in(b[4], None, s.at(9, 0))
    assert early.value.code == "checkin_early"
    assert s.check_in(b[2], 9, 5) == "A-004"
    assert [s.call("ca", 9, 10), s.call("ca", 9, 20)] == ["A-003", "A-004"]
    assert s.check_in(b[3], 9, 50) == "A-005"
    assert s.call("ca", 9, 55) == "A-005"
    assert [e.code for e in s.apply(s.engine.expire_due(s.at(10, 16))).events] == [b[4]]
    assert s.check_in(b[5], 11, 14) == "A-006"
    assert s.call("ca", 11, 20) == "A-006"
    s.apply(s.engine.command("ca", "finish", {}, s.at(11, 30)))
    s.apply(s.engine.command("cb", "finish", {}, s.at(11, 30)))
    return s


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    script = run_script()
    store = Store(tmp_path_factory.mktemp("booking") / "uji.db", CONFIG.tz)
    store.commit(script.events, [])
    yield store
    store.close()


@pytest.fixture(scope="module")
def rep(stored) -> report.Report:
    return report.from_store(CONFIG, stored, MONDAY)


def test_online_and_walk_in_tickets_per_service_and_in_total(rep):
    b = rep.bookings
    assert (b.services["A"].online, b.services["A"].walk_in) == (4, 2)
    assert (b.services["B"].online, b.services["B"].walk_in) == (0, 3)
    assert (b.total.online, b.total.walk_in, b.total.online_share) == (4, 5, pytest.approx(4 / 9))
    # the ticket counts of the report agree: every ticket is one or the other
    assert rep.services["A"].issued == 6 and rep.total.issued == 9


def test_what_became_of_the_bookings_of_the_day(rep):
    a = rep.bookings.services["A"]
    assert (a.made, a.checked_in, a.cancelled, a.expired, a.still_open) == (7, 4, 1, 1, 1)
    assert a.balanced and rep.bookings.total.made == 7  # Tuesday's booking is not Monday's
    assert a.no_show_rate == pytest.approx(1 / 5) and a.in_window_share == pytest.approx(4 / 5)
    assert rep.bookings.services["B"].made == 0 and rep.bookings.services["B"].no_show_rate is None


def test_check_in_punctuality_by_hand(rep):
    o = rep.bookings.services["A"].offsets
    assert o.n == 4
    assert (o.mean, o.median, o.p10, o.p90) == pytest.approx((-2.75, -2.5, -17.0, 11.3))
    assert o.before_slot == 2 and o.before_slot_share == 0.5


def test_online_tickets_wait_by_their_slot(rep):
    a = rep.bookings.services["A"]
    assert a.online_wait_mean == pytest.approx(14.0) and a.walk_in_wait_mean == pytest.approx(32.5)
    assert rep.bookings.total.walk_in_wait_mean == pytest.approx((45 + 20 + 5 + 5 + 10) / 5)


def test_the_files_carry_the_booking_figures(rep, tmp_path: Path):
    names = report_files.write(rep, tmp_path, charts=False)
    assert {"reservasi.csv", "reservasi_daftar.csv"} <= set(names)
    with (tmp_path / "reservasi.csv").open(encoding="utf-8") as fh:
        rows = {(r["scope"], r["id"]): r for r in csv.DictReader(fh)}
    a = rows[("service", "A")]
    assert (a["online_tickets"], a["walk_in_tickets"], a["bookings_made"], a["checked_in"], a["cancelled"],
            a["expired"], a["still_open"]) == ("4", "2", "7", "4", "1", "1", "1")
    assert (a["no_show_rate"], a["checkin_offset_median_min"], a["checkin_offset_p10_min"],
            a["checkin_offset_p90_min"], a["before_slot_share"], a["in_window_share"]) == (
        "0.2000", "-2.50", "-17.00", "11.30", "0.5000", "0.8000")
    assert rows[("all", "")]["online_share"] == "0.4444"
    assert rows[("agency", CONFIG.services["A"].agency)]["bookings_made"] == "7"
    with (tmp_path / "reservasi_daftar.csv").open(encoding="utf-8") as fh:
        listing = list(csv.DictReader(fh))
    assert sorted(r["status"] for r in listing) == ["booked", "cancelled", "checked_in", "checked_in", "checked_in",
                                                      "checked_in", "expired"]
    assert "code" not in listing[0] and not any("08123" in v for r in listing for v in r.values())
    with (tmp_path / "tiket.csv").open(encoding="utf-8") as fh:
        online = {r["number"]: r["online"] for r in csv.DictReader(fh)}
    assert [n for n, v in sorted(online.items()) if v == "1"] == ["A-003", "A-004", "A-005", "A-006"]
    page = (tmp_path / "laporan.html").read_text(encoding="utf-8")
    assert "<h2>Reservasi daring</h2>" in page
    section = page[page.index("<h2>Reservasi daring</h2>"):]
    counts = section[section.index("A — Layanan A"):]
    times = counts[counts.index("A — Layanan A", 1):]
    assert ("<td>4</td><td>2</td><td>66,7%</td><td>7</td><td>4</td><td>1</td><td>1</td><td>1</td><td>20,0%</td></tr>"
            in counts[:counts.index("</tr>") + 5])
    assert ("<td>−2,5</td><td>−17,0</td><td>+11,3</td><td>50,0%</td><td>80,0%</td><td>14,0</td><td>32,5</td></tr>"
            in times[:times.index("</tr>") + 5])
    assert "Tiket daring · tidak datang" in page and "44,4% · 20,0%" in page


def test_the_chart_of_online_and_walk_in_tickets(rep, tmp_path: Path):
    pytest.importorskip("matplotlib")
    names = report_files.write(rep, tmp_path)
    assert "reservasi-daring.png" in names and (tmp_path / "reservasi-daring.png").stat().st_size > 1000
    assert "<img src='reservasi-daring.png' alt='Reservasi daring'>" in (tmp_path / "laporan.html").read_text(
        encoding="utf-8")


def test_a_site_without_bookings_has_no_booking_section(tmp_path: Path):
    config = site(services=[service("B", schedule="office")], schedules={"office": OFFICE})
    engine = Engine(config)
    events = [DayStarted(at=local(WIB, MONDAY, 7), day=MONDAY)]
    engine.apply(events[0])
    outcome = engine.issue("B", None, local(WIB, MONDAY, 8))
    events += outcome.events
    rep = report.build(config, [report.replay(config, MONDAY, events)])
    assert not rep.bookings.shown and rep.bookings.total.walk_in == 1
    names = report_files.write(rep, tmp_path)
    assert "Reservasi daring" not in (tmp_path / "laporan.html").read_text(encoding="utf-8")
    assert not any("reservasi" in name for name in names[:-1] if name.endswith(".png"))


def test_a_day_with_only_bookings_made_is_no_day_of_the_report(stored):
    rep = report.from_store(CONFIG, stored, SATURDAY, MONDAY)
    assert [d.day for d in rep.days] == [MONDAY] and rep.bookings.total.made == 7
