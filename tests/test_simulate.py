"""The day simulator: it drives the real engine, it is repeatable, it reads like a report,
and more counters never predict longer waits."""

from __future__ import annotations

import datetime as dt
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from antrian.tools import simulate
from antrian.site import ConfigError, load
from antrian.queue.engine import Engine
from antrian.tools.report.replay import micros, replay
from conftest import BUTON, ROOT
from sites import OFFICE, counter, service, site

MONDAY = dt.date(2026, 11, 16)
ARTIFACTS = ROOT / "test-artifacts" / "simulasi"
EXAMPLE = ROOT / "examples" / "simulasi-buton.yaml"


@pytest.fixture(scope="module")
def buton():
    return load(BUTON)


def simulate_day(config, counters: str | None = None, seed: int = 1, **options):
    scenario = simulate.Scenario.build(config, MONDAY, counters=counters, **options)
    return simulate.run(scenario, seed)


def test_the_buton_example_simulates_a_whole_day_within_5_seconds():
    """The command as the MPP head runs it, report and charts included (kept in test-artifacts/).

    The limit is on the CPU time the command uses, so a busy test machine cannot fail it;
    the wall-clock time is printed beside it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "simulate", "--config", str(BUTON), "--date",
                             MONDAY.isoformat(), "--seed", "1", "--out", str(ARTIFACTS)],
                            capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert result.returncode == 0, result.stderr
    print(f"antrian simulate (Buton, whole day): {cpu:.2f} s CPU, {wall:.2f} s wall; {result.stdout.strip()}")
    assert cpu <= 5.0
    page = (ARTIFACTS / "laporan.html").read_text(encoding="utf-8")
    assert "Simulasi Hari Pelayanan" in page and "Hasil simulasi, bukan data nyata" in page
    for name in ("kedatangan-per-jam.png", "waktu-tunggu-per-layanan.png", "beban-loket.png", "antrean-menunggu.png",
                 "layanan.csv", "loket.csv", "simulasi.csv"):
        assert (ARTIFACTS / name).stat().st_size > 100, name


def test_the_simulated_day_reads_like_a_report_and_adds_up(buton):
    result = simulate_day(buton)
    rep = result.report()
    assert rep.balanced
    assert rep.total.issued == len(result.tickets)
    refused = sum(n for per in result.refused.values() for n in per.values())
    assert len(result.citizens) == len(result.tickets) + refused + result.stayed_away
    assert rep.total.served > 0 and rep.total.wait.n > 0 and rep.total.no_show > 0 and rep.total.priority > 0
    assert all(f.peak_queue > 0 for f in rep.agencies.values())
    # the day ends with every staffed counter closed
    engine = Engine(result.scenario.config)
    engine.apply_all(result.events)
    assert {c.status for c in engine.counters.values()} == {"closed"}


def test_it_is_the_engine_that_decides_quotas_and_opening_hours():
    """A rule changed in the site file changes the simulated day: the simulator has no rules of its own."""
    config = site(services=[service("A", schedule="office", quota=5, service_min=5)])
    result = simulate.run(simulate.Scenario.build(config, MONDAY, arrivals={
        "services": {"A": {"per_hour": {8: 30}}}}), seed=3)
    assert len(result.tickets) == 5 and result.refused["A"] == {"quota_exhausted": len(result.citizens) - 5}
    issued = [e.at for e in result.events if e.kind == "issued"]
    assert all(dt.time(8) <= t.time() < dt.time(9) for t in issued)

    friday = MONDAY + dt.timedelta(days=4)  # OFFICE: closed for Friday prayer 11:30-13:30
    config = site(services=[service("A", schedule="office", service_min=5)])
    result = simulate.run(simulate.Scenario.build(config, friday, arrivals={
        "services": {"A": {"per_hour": {h: 20 for h in range(8, 15)}}}}), seed=3)
    times = [e.at.time() for e in result.events if e.kind == "issued"]
    assert times and not any(dt.time(11, 30) <= t < dt.time(13, 30) for t in times)
    assert OFFICE["jumat"] == ["08:00-11:30", "13:30-15:00"]


def test_priority_citizens_go_first_within_the_engines_streak():
    config = site(services=[service("A", schedule="office", service_min=10)], queue={"priority_streak": 1})
    result = simulate.run(simulate.Scenario.build(config, MONDAY, arrivals={
        "defaults": {"priority": 0.5, "no_show": 0},
        "services": {"A": {"per_hour": {8: 30}}}}), seed=2)
    called = [e.number for e in result.events if e.kind == "called"]
    priority = {n for n, p in result.tickets.items() if p.priority}
    streaks = [a in priority and b in priority for a, b in zip(called, called[1:])]
    assert priority and not all(streaks)
    # with a streak limit of 1, two priority calls in a row only when no normal ticket waited
    replayed = replay(config, MONDAY, result.events)
    waiting_normal_at = {leg.number: (leg.start, leg.first_call) for leg in replayed.legs if not leg.priority}
    for a, b, ev in zip(called, called[1:], [e for e in result.events if e.kind == "called"][1:]):
        if a in priority and b in priority:
            assert not any(start <= ev.at < (first or ev.at + dt.timedelta(1))
                           for start, first in waiting_normal_at.values()), (a, b)


def test_same_seed_same_day_other_seed_other_day(buton):
    one, again, other = simulate_day(buton, seed=7), simulate_day(buton, seed=7), simulate_day(buton, seed=8)
    assert one.events == again.events
    assert one.citizens != other.citizens


def test_the_same_citizens_come_whatever_the_counters(buton):
    assert simulate_day(buton, seed=4).citizens == simulate_day(buton, "all,loket9=loket1", seed=4).citizens


def predicted(config, counters: str | None, seed: int, **options) -> tuple[dict, dict]:
    """Per service: mean wait of those called, and mean time waited by the end of the day
    for everybody (a ticket never called waited until the simulation stopped)."""
    result = simulate_day(config, counters, seed, **options)
    day = replay(result.scenario.config, MONDAY, result.events)
    horizon = dt.datetime.combine(MONDAY, simulate.HARD_STOP, tzinfo=config.tz)
    called, censored = {}, {}
    for leg in day.legs:
        censored.setdefault(leg.service, []).append(micros((leg.first_call or horizon) - leg.start))
        if leg.first_call is not None:
            called.setdefault(leg.service, []).append(leg.wait_us)
    mean = {code: sum(v) / len(v) for code, v in called.items()}
    mean_all = {code: sum(v) / len(v) for code, v in censored.items()}
    return mean, mean_all


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("more", ["default,loket8", "default,loket9=loket1", "all,loket9=loket5,loket10=loket6"])
@pytest.mark.parametrize("demand", [1.0, 2.0])
def test_more_counters_never_predict_longer_waits(buton, seed, more, demand):
    """Same seed, so the same citizens with the same service times: opening another counter
    (or adding one) never makes the predicted wait longer. Per service by at most a minute:
    counters serve several services, longest-waiting first, so a counter more for one
    service can change by a little which ticket of another is called first."""
    base_called, base_all = predicted(buton, None, seed, demand=demand)
    more_called, more_all = predicted(buton, more, seed, demand=demand)
    minute = 60_000_000
    for code in base_all:
        assert more_all[code] <= base_all[code] + minute, code
        assert more_called.get(code, 0) <= base_called.get(code, 0) + minute, code
    assert sum(more_all.values()) <= sum(base_all.values())


@pytest.mark.parametrize("seed", range(1, 6))
def test_one_service_first_come_first_served_no_citizen_waits_longer_with_more_counters(seed):
    """With one service, no priority and no no-shows the queue is first come, first served at
    identical counters, where every single citizen's wait can only shrink with a counter more
    (one counter cannot serve them all: who is never called waited until the stop)."""
    config = site(services=[service("A", schedule="office", service_min=9)],
                  counters=[counter(f"c{i}", "A", open_at_start=i == 1) for i in range(1, 5)])
    arrivals = {"defaults": {"priority": 0, "no_show": 0},
                "services": {"A": {"per_hour": {h: 20 for h in range(8, 15)}}}}
    horizon = dt.datetime.combine(MONDAY, simulate.HARD_STOP, tzinfo=config.tz)
    waits = []
    for n in range(1, 5):
        spec = ",".join(f"c{i}" for i in range(1, n + 1))
        result = simulate.run(simulate.Scenario.build(config, MONDAY, arrivals=arrivals, counters=spec), seed)
        day = replay(config, MONDAY, result.events)
        waits.append({leg.number: micros((leg.first_call or horizon) - leg.start) for leg in day.legs})
    for fewer, more in zip(waits, waits[1:]):
        assert fewer.keys() == more.keys()
        assert all(more[n] <= fewer[n] for n in fewer)
    assert sum(waits[0].values()) > sum(waits[-1].values())


def test_a_shift_is_kept_and_the_citizen_at_the_counter_is_finished(buton):
    result = simulate_day(buton, "default,loket8@09-10:30")
    mine = [e for e in result.events if getattr(e, "counter", None) == "loket8"]
    calls = [e.at.time() for e in mine if e.kind == "called"]
    assert calls and all(dt.time(9) <= t <= dt.time(10, 30) for t in calls)
    statuses = [(e.at.time(), e.status) for e in mine if e.kind == "counter_status"]
    assert statuses[0] == (dt.time(9), "open") and statuses[-1][1] == "closed" and statuses[-1][0] >= dt.time(10, 30)
    assert mine[-1].kind == "counter_status"  # its last citizen was served before the close


def test_default_arrivals_bring_the_quota_with_a_morning_peak(buton):
    scenario = simulate.Scenario.build(buton, MONDAY)
    for code, plan in scenario.services.items():
        assert plan.expected(buton, code, MONDAY) == pytest.approx(buton.services[code].quota)
    ktp = scenario.services["KTP"].per_hour
    assert ktp[9] > ktp[13] > ktp[14] and 12 not in ktp  # reguler: lunch break 12:00-13:00
    assert simulate.Scenario.build(buton, MONDAY, demand=0.5).services["KTP"].expected(buton, "KTP", MONDAY) \
        == pytest.approx(buton.services["KTP"].quota / 2)
    assert simulate.Scenario.build(buton, MONDAY + dt.timedelta(days=5)).services["KTP"].per_hour == {}  # Saturday


def test_the_example_arrivals_file(buton):
    scenario = simulate.Scenario.build(buton, MONDAY, arrivals=simulate.load_arrivals(EXAMPLE))
    assert scenario.services["KTP"].per_hour[9] == 14 and scenario.services["KTP"].service_min == 8
    assert scenario.services["KTP"].expected(buton, "KTP", MONDAY) == pytest.approx(buton.services["KTP"].quota)
    assert scenario.services["BAYAR"].cv == 0.3 and scenario.services["KK"].no_show == 0.05
    assert scenario.services["KK"].expected(buton, "KK", MONDAY) == pytest.approx(buton.services["KK"].quota)
    assert scenario.services["PBG"].expected(buton, "PBG", MONDAY) == pytest.approx(0.7 * buton.services["PBG"].quota)
    assert scenario.services["KK"].booking == simulate.BookingPlan(0.2, 0.15, -10, 10)  # the site file's share
    assert scenario.services["NIB"].booking.offset_min == -15 and scenario.services["AKTA"].booking.share == 0
    assert scenario.staffing["loket8"] == ((540.0, 720.0),) and "loket9" not in scenario.staffing
    result = simulate.run(scenario, seed=1)
    rep = result.report()
    assert rep.balanced and rep.bookings.services["KTP"].online > 0


def test_problems_in_a_scenario_are_listed_with_their_place(buton):
    with pytest.raises(ConfigError) as err:
        simulate.Scenario.build(buton, MONDAY, source="arrivals.yaml", arrivals={
            "services": {"KTX": {}, "KTP": {"per_hour": {25: 3, 9: -1}, "cv": "wide"}},
            "counters": {"loket99": "all_day", "loket9": {"copy_of": "loket42"}, "loket1": ["8-25"]}})
    text = str(err.value)
    for part in ("arrivals.yaml: services.KTX: unknown key", "services.KTP.per_hour.25: not an hour",
                 "services.KTP.per_hour.9: -1 is out of range", "services.KTP.cv: must be a number",
                 "counters.loket99: unknown counter 'loket99'", "counters.loket9: cannot copy unknown counter",
                 "counters.loket1.hours[0]: '8-25' is not a span of one day"):
        assert part in text, part
    with pytest.raises(ConfigError, match=r"--counters\[0\]: 'Loket 1' is not like"):
        simulate.Scenario.build(buton, MONDAY, counters="Loket 1", source="--counters")
    with pytest.raises(ConfigError, match="a new counter needs a new id"):
        simulate.Scenario.build(buton, MONDAY, counters="loket2=loket1")


def test_the_simulate_command_reports_bad_input_in_one_line(tmp_path: Path):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "antrian.cli", "simulate", "--config", str(BUTON),
                               "--out", str(tmp_path / "out"), *args], capture_output=True, text=True, timeout=60)

    bad = run("--counters", "loket1,nope")
    assert bad.returncode == 2 and "--counters[1]: unknown counter 'nope'" in bad.stderr
    missing = run("--arrivals", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2 and "cannot read the file" in missing.stderr
    assert "Traceback" not in bad.stderr + missing.stderr


def test_the_default_day_is_the_next_open_one(buton):
    saturday = MONDAY + dt.timedelta(days=5)
    assert simulate.first_open_day(buton, saturday) == MONDAY + dt.timedelta(days=7)
    assert simulate.first_open_day(buton, dt.date(2026, 12, 25)) == dt.date(2026, 12, 28)  # Christmas is a Friday


def test_a_shorter_day_gets_its_part_of_the_quota_by_its_hours(buton):
    """The bank is open 08-14 Monday to Thursday and 08-11.30, 13.30-14 on Friday (prayer
    break): its quota of 15 TAB tickets is Monday's demand; Friday has Monday's hourly rates
    for the hours it is open, so fewer citizens, not 15 crowded into four hours."""
    from antrian.tools.simulate.scenario import open_pieces

    def day_of(day: dt.date) -> tuple[float, dict[int, float]]:
        rates = simulate.default_rates(buton, "TAB", day, 1.0, 4.0)
        return sum(rates[h] * (b - a) / 60 for a, b, h in open_pieces(buton, "TAB", day)), rates

    (monday, on_monday), (friday, on_friday) = day_of(dt.date(2026, 11, 23)), day_of(dt.date(2026, 11, 27))
    assert buton.services["TAB"].quota == 15 and monday == pytest.approx(15)
    assert set(on_monday) == {8, 9, 10, 11, 12, 13} and set(on_friday) == {8, 9, 10, 11, 13}
    assert all(on_friday[h] == pytest.approx(on_monday[h]) for h in on_friday)
    assert friday == pytest.approx(15 - on_monday[11] / 2 - on_monday[12] - on_monday[13] / 2)
    assert 11 < friday < 12  # the lost hours are the quiet afternoon ones
    assert simulate.default_rates(buton, "TAB", dt.date(2026, 11, 28), 1.0, 4.0) == {}  # Saturday: closed
