"""The daily report over a seeded day of 2,000 tickets whose figures are known by construction.

The day (Monday 16 November 2026, WITA, open 07:00-17:00) is driven through the real
engine and store, in time order, by a script in which every wait and service time is
chosen, so each figure below is worked out by hand from the script:

- A (Disdukcapil, counter ca): 50 batches of 10 at 07:00 + 12 min x b. The k-th ticket
  of a batch is called at +k min (waits 0..9), each served 1 min; the 10th is
  transferred to D at +10 instead of being served.
- B (Disdukcapil, counter cb): 50 batches of 10 at 07:05 + 12 b; the first two are
  priority (lansia). Called at +k; the 5th and 10th do not show up (no-show pressed
  1 min after the call). In batch 0 the 5th comes back late: called again by number
  at +10, served at +11.
- C (Bank, counter cc): 50 batches at 07:00 + 12 b, called at +k, finished at +10 --
  except batch 48 (five called, the fifth still at the counter at close) and batch 49
  (never called).
- D (Bank, counter cd): only A's transfers, each called (b mod 5) min after its
  transfer and served in 3 min.
- E (Bapenda, counters ce1 and ce2): 50 batches at 07:00 + 12 b; at +2j ce1 and ce2
  each call one (waits 0,0,2,2,...,8,8), served in 2 min.
- cx (A and B) stays closed all day.
"""

from __future__ import annotations

import csv
import datetime as dt
import statistics
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from antrian.tools.report import figures as report
from antrian.site import build
from antrian.queue.engine import Engine
from antrian.queue.events import DayStarted
from antrian.adapters.store import Store
from conftest import ROOT

DAY = dt.date(2026, 11, 16)
ARTIFACTS = ROOT / "test-artifacts"
ANSWERS_3 = {f"U{i}": 3 for i in range(1, 10)}
ANSWERS_4 = {f"U{i}": 4 for i in range(1, 10)}


def seeded_raw() -> dict:
    """The seeded site file, as the YAML reader would give it."""
    hours = {d: ["07:00-17:00"] for d in ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")}

    def svc(code: str, target: int) -> dict:
        return {"code": code, "prefix": code, "name": f"Layanan {code}", "schedule": "hari",
                "requirements": ["KTP-el"], "completion": "Selesai di tempat", "fee": 0, "target_wait_min": target}

    return {
        "site": {"id": "uji", "name": "MPP Uji", "timezone": "Asia/Makassar"},
        "queue": {"late_tolerance": 10},
        "schedules": {"hari": hours},
        "agencies": [
            {"id": "dukcapil", "name": "Disdukcapil", "color": "#1565C0", "services": [svc("A", 5), svc("B", 5)]},
            {"id": "bank", "name": "Bank Sultra", "color": "#00897B", "services": [svc("C", 10), svc("D", 5)]},
            {"id": "bapenda", "name": "Bapenda", "color": "#F9A825", "services": [svc("E", 5)]},
        ],
        "counters": [
            {"id": "ca", "name": "Loket 1", "services": ["A"]},
            {"id": "cb", "name": "Loket 2", "services": ["B"]},
            {"id": "cc", "name": "Loket 3", "services": ["C"]},
            {"id": "cd", "name": "Loket 4", "services": ["D"]},
            {"id": "ce1", "name": "Loket 5", "services": ["E"]},
            {"id": "ce2", "name": "Loket 6", "services": ["E"]},
            {"id": "cx", "name": "Loket 7", "services": ["A", "B"], "open_at_start": False},
        ],
    }


def seeded_site():
    return build(seeded_raw(), "seeded")


def seeded_day(config, store: Store) -> None:
    """Run the script above through the engine and commit every event to the store."""
    engine = Engine(config)
    start = dt.datetime.combine(DAY, dt.time(7), tzinfo=config.tz)
    engine.apply(DayStarted(at=start, day=DAY))
    plan: list[tuple[int, int, tuple]] = []

    def at(minute: int, *step) -> None:
        plan.append((minute, len(plan), step))

    for b in range(50):
        t = 12 * b
        at(t, "issue", "A", None, 10)
        for k in range(10):
            at(t + k, "cmd", "ca", "call_next", {}, f"A-{10 * b + k + 1:03d}")
        at(t + 10, "cmd", "ca", "transfer", {"to_service": "D"}, f"A-{10 * b + 10:03d}")
        w = b % 5
        at(t + 10 + w, "cmd", "cd", "call_next", {}, f"A-{10 * b + 10:03d}")
        at(t + 13 + w, "cmd", "cd", "finish", {}, f"A-{10 * b + 10:03d}")

        at(t, "issue", "C", None, 10)
        called = 10 if b < 48 else 5 if b == 48 else 0
        for k in range(called):
            at(t + k, "cmd", "cc", "call_next", {}, f"C-{10 * b + k + 1:03d}")
        if called == 10:
            at(t + 10, "cmd", "cc", "finish", {}, f"C-{10 * b + 10:03d}")

        at(t, "issue", "E", None, 10)
        for j in range(5):
            at(t + 2 * j, "cmd", "ce1", "call_next", {}, f"E-{10 * b + 2 * j + 1:03d}")
            at(t + 2 * j, "cmd", "ce2", "call_next", {}, f"E-{10 * b + 2 * j + 2:03d}")
        at(t + 10, "cmd", "ce1", "finish", {}, f"E-{10 * b + 9:03d}")
        at(t + 10, "cmd", "ce2", "finish", {}, f"E-{10 * b + 10:03d}")

        tb = t + 5
        at(tb, "issue", "B", "lansia", 2)
        at(tb, "issue", "B", None, 8)
        for k in range(10):
            if k == 5:
                at(tb + k, "cmd", "cb", "no_show", {}, f"B-{10 * b + 5:03d}")
            at(tb + k, "cmd", "cb", "call_next", {}, f"B-{10 * b + k + 1:03d}")
        at(tb + 10, "cmd", "cb", "no_show", {}, f"B-{10 * b + 10:03d}")
        if b == 0:
            at(tb + 10, "cmd", "cb", "call_number", {"number": "B-005"}, "B-005")
            at(tb + 11, "cmd", "cb", "finish", {}, "B-005")

    events = [DayStarted(at=start, day=DAY)]
    for minute, _, step in sorted(plan):
        now = start + dt.timedelta(minutes=minute)
        if step[0] == "issue":
            _, service, priority, n = step
            for _ in range(n):
                outcome = engine.issue(service, priority, now)
                engine.apply_all(outcome.events)
                events += outcome.events
        else:
            _, counter, action, args, expected = step
            outcome = engine.command(counter, action, args, now)
            assert outcome.error is None and outcome.ticket == expected, (minute, step, outcome)
            engine.apply_all(outcome.events)
            events += outcome.events
    surveys = [
        {"ticket": "A-010", "counter": None, "score": None, "answers": ANSWERS_4},  # ended the day in D: Bank
        {"ticket": "A-001", "counter": None, "score": None, "answers": ANSWERS_3},  # Disdukcapil
        {"ticket": None, "counter": "ce1", "score": 4, "answers": ANSWERS_3},  # Bapenda, via the counter
        {"ticket": None, "counter": None, "score": None, "answers": ANSWERS_4},  # nobody knows: overall only
        {"ticket": None, "counter": "ca", "score": 2, "answers": None},
        {"ticket": None, "counter": "ca", "score": 3, "answers": None},
    ]
    store.commit(events, [], [{"day": DAY.isoformat(), "at": start.isoformat(), "device": "kiosk1", **s}
                              for s in surveys])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> tuple:
    config = seeded_site()
    path = tmp_path_factory.mktemp("seeded") / "uji.db"
    store = Store(path, config.tz)
    seeded_day(config, store)
    yield config, store, path
    store.close()


@pytest.fixture(scope="module")
def rep(seeded) -> report.Report:
    config, store, _ = seeded
    return report.from_store(config, store, DAY)


def minutes(*values: int) -> list[Fraction]:
    return [Fraction(v) for v in values]


def expected_stats(values: list[Fraction]) -> tuple[float, float, float, float]:
    """Mean, median, p90 and max by the standard library (its 'inclusive' method is PERCENTILE.INC)."""
    return (float(statistics.mean(values)), float(statistics.median(values)),
            float(statistics.quantiles(values, n=10, method="inclusive")[8]), float(max(values)))


def stats(s: report.Stats) -> tuple:
    return s.mean, s.median, s.p90, s.max


# The waits of each service, from the script.
WAITS = {
    "A": minutes(*range(10)) * 50,
    "B": minutes(*range(10)) * 50,
    "C": minutes(*range(10)) * 48 + minutes(0, 1, 2, 3, 4),
    "D": minutes(*(b % 5 for b in range(50))),
    "E": minutes(0, 0, 2, 2, 4, 4, 6, 6, 8, 8) * 50,
}


def test_the_seeded_day_has_2000_tickets_and_every_group_adds_up(rep):
    t = rep.total
    assert (t.issued, t.transferred_in) == (2000, 50)
    assert (t.served, t.no_show, t.transferred_out, t.serving_at_close, t.waiting_at_close) == (1885, 99, 50, 1, 15)
    assert t.issued + t.transferred_in == t.served + t.no_show + t.transferred_out + t.serving_at_close \
        + t.waiting_at_close
    assert rep.balanced
    assert all(f.balanced for f in [*rep.services.values(), *rep.agencies.values(), *rep.daily.values()])
    assert all(c.balanced for c in rep.counters.values())
    assert sum(f.issued for f in rep.agencies.values()) == sum(f.issued for f in rep.services.values()) == 2000


@pytest.mark.parametrize("code, counts", [
    # issued, priority, transferred_in, served, no_show, transferred_out, serving_at_close, waiting_at_close
    ("A", (500, 0, 0, 450, 0, 50, 0, 0)),
    ("B", (500, 100, 0, 401, 99, 0, 0, 0)),
    ("C", (500, 0, 0, 484, 0, 0, 1, 15)),
    ("D", (0, 0, 50, 50, 0, 0, 0, 0)),
    ("E", (500, 0, 0, 500, 0, 0, 0, 0)),
])
def test_counts_per_service(rep, code, counts):
    f = rep.services[code]
    assert (f.issued, f.priority, f.transferred_in, f.served, f.no_show, f.transferred_out, f.serving_at_close,
            f.waiting_at_close) == counts


def test_waiting_times_by_hand():
    # Worked by hand, to anchor the standard-library figures used below: A's 500 waits are
    # 0..9 fifty times each; the median sits between the 250th (4) and 251st (5); p90 at
    # rank 0.9 x 499 = 449.1, between 8 (index 449) and 9 (index 450): 8.1.
    assert expected_stats(WAITS["A"]) == (4.5, 4.5, 8.1, 9.0)
    # C: 485 called; 0..4 49 times, 5..9 48 times. Mean 2170/485; median index 242 -> 4;
    # p90 index 435.6 -> 8 and 8.
    assert expected_stats(WAITS["C"]) == (2170 / 485, 4.0, 8.0, 9.0)
    assert expected_stats(WAITS["D"]) == (2.0, 2.0, 4.0, 4.0)
    assert expected_stats(WAITS["E"]) == (4.0, 4.0, 8.0, 8.0)


@pytest.mark.parametrize("code", "ABCDE")
def test_waiting_times_per_service_are_exact(rep, code):
    assert rep.services[code].wait.n == len(WAITS[code])
    assert stats(rep.services[code].wait) == expected_stats(WAITS[code])


def test_waiting_times_per_agency_and_overall_are_exact(rep):
    groups = {"dukcapil": "AB", "bank": "CD", "bapenda": "E"}
    for agency, codes in groups.items():
        assert stats(rep.agencies[agency].wait) == expected_stats([w for c in codes for w in WAITS[c]]), agency
    assert stats(rep.total.wait) == expected_stats([w for c in "ABCDE" for w in WAITS[c]])


@pytest.mark.parametrize("code, minutes_, n", [("A", 1, 450), ("B", 1, 401), ("C", 1, 484), ("D", 3, 50),
                                               ("E", 2, 500)])
def test_service_times(rep, code, minutes_, n):
    s = rep.services[code].service
    assert (s.n, s.mean, s.median, s.p90, s.max) == (n, minutes_, minutes_, minutes_, minutes_)


@pytest.mark.parametrize("code, over, judged", [
    ("A", 200, 500),  # waits 6..9 of every batch
    ("B", 200, 500),
    ("C", 15, 500),  # only the 15 never called: the day closed 17 and 29 min after they came
    ("D", 0, 50),
    ("E", 200, 500),  # 6, 6, 8, 8
])
def test_share_over_the_target(rep, code, over, judged):
    f = rep.services[code]
    assert (f.over_target, f.judged, f.over_target_share) == (over, judged, over / judged)


def test_totals_over_target(rep):
    assert (rep.total.over_target, rep.total.judged) == (615, 2050)
    assert rep.agencies["dukcapil"].over_target_share == 0.4


def test_arrivals_per_hour(rep):
    for code in "ACE":
        assert rep.arrivals[code] == {h: 50 for h in range(7, 17)}
    assert rep.arrivals["B"] == {h: 50 for h in range(7, 17)}
    assert rep.arrivals["D"] == {}  # a transfer is not an arrival


def test_peak_queues(rep, seeded):
    config = seeded[0]

    def local(minute: int) -> dt.datetime:
        return dt.datetime.combine(DAY, dt.time(7), tzinfo=config.tz) + dt.timedelta(minutes=minute)

    assert (rep.services["A"].peak_queue, rep.services["A"].peak_at) == (9, local(0))
    assert (rep.services["C"].peak_queue, rep.services["C"].peak_at) == (15, local(588))
    # 16:48: A 9, B 2 (batch 48 at +7), C 15, D 1 (batch 48's transfer, called at 16:49), E 8
    assert (rep.total.peak_queue, rep.total.peak_at) == (35, local(588))


@pytest.mark.parametrize("counter, counts, busy, opened", [
    # calls, served, no_show presses, transferred, serving at close; busy and open minutes
    ("ca", (500, 450, 0, 50, 0), 500, 600),  # 10 min a batch; open 07:00-17:00
    ("cb", (501, 401, 100, 0, 0), 501, 603),  # one more call (B-005 back); last no-show 17:03
    ("cc", (485, 484, 0, 0, 1), 480 + 4 + 25, 605),  # C-485 at the counter from 16:40 to the close, 17:05
    ("cd", (50, 50, 0, 0, 0), 150, 605),
    ("ce1", (250, 250, 0, 0, 0), 500, 600),
    ("ce2", (250, 250, 0, 0, 0), 500, 600),
    ("cx", (0, 0, 0, 0, 0), 0, 0),
])
def test_counters(rep, counter, counts, busy, opened):
    c = rep.counters[counter]
    assert (c.calls, c.served, c.no_show, c.transferred, c.serving_at_close) == counts
    assert (c.busy_min, c.open_min) == (busy, opened)
    assert c.utilisation == (busy / opened if opened else None)


def test_recalled_no_show_counts_as_served_with_its_first_wait(rep):
    leg = next(leg for leg in rep.days[0].legs if leg.number == "B-005")
    assert (leg.outcome, leg.wait, leg.service_time) == ("served", 4, 1)
    moved = [leg for leg in rep.days[0].legs if leg.number == "A-010"]
    assert [(m.service, m.via, m.outcome, m.wait) for m in moved] == [("A", "issued", "transferred", 9),
                                                                      ("D", "transferred", "served", 0)]


def test_surveys_count_for_the_agency_the_ticket_ended_in(rep):
    ikm = rep.ikm
    assert ikm.agencies["bank"].value == 100 and ikm.agencies["bank"].respondents == 1  # A-010, served by D
    assert ikm.agencies["dukcapil"].value == 75 and ikm.agencies["bapenda"].value == 75
    # overall: 2 x all-4 and 2 x all-3 -> NRR 3.5 -> 87.50, B
    assert (ikm.overall.respondents, str(ikm.overall.value), ikm.overall.grade) == (4, "87.50", "B")
    assert ikm.unattributed == 1
    assert ikm.quick_agencies["dukcapil"].counts == {1: 0, 2: 1, 3: 1, 4: 0}
    assert ikm.quick_agencies["bapenda"].mean == 4 and ikm.quick_overall.n == 3


def test_files_carry_the_same_figures(rep, tmp_path: Path):
    from antrian.tools.report import files as report_files

    names = report_files.write(rep, tmp_path, charts=False)
    assert {"layanan.csv", "instansi.csv", "loket.csv", "kedatangan_per_jam.csv", "tiket.csv", "ikm.csv",
            "laporan.html"} <= set(names)
    rows = {r["service"]: r for r in csv.DictReader((tmp_path / "layanan.csv").open(encoding="utf-8"))}
    assert (rows["A"]["issued"], rows["A"]["wait_mean_min"], rows["A"]["wait_p90_min"]) == ("500", "4.50", "8.10")
    assert (rows["C"]["waiting_at_close"], rows["C"]["over_target_share"]) == ("15", "0.0300")
    total = list(csv.DictReader((tmp_path / "instansi.csv").open(encoding="utf-8")))[-1]
    assert (total["name"], total["issued"], total["served"]) == ("Jumlah", "2000", "1885")
    assert len(list(csv.DictReader((tmp_path / "tiket.csv").open(encoding="utf-8")))) == 2050
    page = (tmp_path / "laporan.html").read_text(encoding="utf-8")
    for label in ("Laporan Harian", "Tiket diambil", "Dilayani", "Tidak hadir", "Waktu tunggu", "Utilisasi",
                  "Indeks Kepuasan Masyarakat", "Senin, 16 November 2026", "✔ cocok", "2.000"):
        assert label in page, label


def test_the_report_command_writes_the_charts(seeded):
    """`antrian report` on the seeded database; the PNGs are kept in test-artifacts/ to look at."""
    _, _, path = seeded
    out = ARTIFACTS / "laporan-harian"
    out.mkdir(parents=True, exist_ok=True)
    site = out / "uji.yaml"
    site.write_text(yaml.safe_dump(seeded_raw(), allow_unicode=True), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "report", "--config", str(site), "--db", str(path),
                             "--date", DAY.isoformat(), "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "2000 tickets issued, 1885 served" in result.stdout
    page = (out / "laporan.html").read_text(encoding="utf-8")
    for png in ("kedatangan-per-jam.png", "waktu-tunggu-per-layanan.png", "beban-loket.png", "antrean-menunggu.png"):
        assert (out / png).stat().st_size > 10_000, png
        assert f"src='{png}'" in page


def test_the_report_command_explains_what_is_missing(seeded, tmp_path: Path):
    site = tmp_path / "uji.yaml"
    site.write_text(yaml.safe_dump(seeded_raw(), allow_unicode=True), encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "antrian.cli", "report", "--config", str(site), *args],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)

    missing = run("--db", str(tmp_path / "nope.db"), "--date", DAY.isoformat())
    assert missing.returncode == 1 and "no database" in missing.stderr and not (tmp_path / "nope.db").exists()
    empty = run("--db", str(seeded[2]), "--date", "2026-11-20", "--out", str(tmp_path / "r"))
    assert empty.returncode == 1 and "no events stored for 2026-11-20" in empty.stderr
    bad = run("--db", str(seeded[2]), "--date", "16-11-2026")
    assert bad.returncode == 1 and "is not a date like" in bad.stderr
    assert "Traceback" not in missing.stderr + empty.stderr + bad.stderr


def test_a_range_sums_its_days_and_skips_empty_ones(seeded, tmp_path: Path):
    config, store, _ = seeded
    rep = report.from_store(config, store, DAY - dt.timedelta(days=2), DAY + dt.timedelta(days=1))
    assert [d.day for d in rep.days] == [DAY] and rep.total.issued == 2000
    with pytest.raises(report.ReportError, match="no events stored"):
        report.from_store(config, store, DAY + dt.timedelta(days=1))
    with pytest.raises(report.ReportError, match="before"):
        report.from_store(config, store, DAY, DAY - dt.timedelta(days=1))


def test_two_days_add_up(tmp_path: Path):
    config = seeded_site()
    store = Store(tmp_path / "dua.db", config.tz)
    engine = Engine(config)
    events = []
    for day, n in ((DAY, 3), (DAY + dt.timedelta(days=1), 2)):
        now = dt.datetime.combine(day, dt.time(9), tzinfo=config.tz)
        events.append(DayStarted(at=now, day=day))
        engine.apply(events[-1])
        for _ in range(n):
            out = engine.issue("A", None, now)
            engine.apply_all(out.events)
            events += out.events
        out = engine.command("ca", "call_next", {}, now + dt.timedelta(minutes=n))
        engine.apply_all(out.events)
        events += out.events
    store.commit(events, [])
    rep = report.from_store(config, store, DAY, DAY + dt.timedelta(days=1))
    assert [f.issued for f in rep.daily.values()] == [3, 2]
    assert (rep.total.issued, rep.total.serving_at_close, rep.total.waiting_at_close) == (5, 2, 3)
    assert rep.total.wait.mean == 2.5  # 3 min on the first day, 2 on the second
    assert rep.balanced
    store.close()
