"""A day of an MPP, simulated: citizens arrive, officers call, and the real engine decides.

The simulation is a plain discrete-event loop (a heap of timed happenings) around the
real `Engine`: tickets are issued with `engine.issue`, officers press NEXT with
`engine.command(..., "call_next")` when they are free, hold it for a no-show, close at
the end of their shift -- the queue rules (priority streaks, quotas, opening hours,
longest-waiting first across a counter's services) are the engine's own, never copied.
The events it produces are written into a store and read back by the ordinary report,
so a prediction reads exactly like a real day.

Who comes is drawn up front, per service from its own random stream: arrival time,
priority, service time (lognormal around the service's mean) and whether they will
not show up. Two runs with the same seed therefore meet the same citizens, whatever
the counters do (common random numbers), which is what makes "one more counter" a
fair comparison.

    scenario = Scenario.build(config, day, arrivals=None, counters="default,loket9=loket1")
    result = run(scenario, seed=1)
    report = result.report()          # antrian.tools.report.figures.Report of the simulated day

Arrivals: by default each service expects its daily quota (or, without a quota, what
one counter can serve in its opening hours), spread over its open hours with a
morning peak; a YAML file can set rates per hour, service times, no-show and priority
shares and the staffing (see `examples/simulasi.yaml`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import math
import random
import re
import tempfile
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import yaml

from antrian.site import Config, ConfigError, Counter
from antrian.site.load import ID
from antrian.site.reader import Reader
from antrian.queue.engine import Engine, Event, QueueError
from antrian.errors import SimulationError

# Relative arrival intensity per local hour: the morning rush of an Indonesian public
# office, a dip at lunch and a tail in the afternoon.
PEAK = {7: 0.6, 8: 1.6, 9: 1.8, 10: 1.5, 11: 1.1, 12: 0.7, 13: 0.9, 14: 0.7, 15: 0.5, 16: 0.4}
DEFAULT_CV = 0.5  # spread of service times: standard deviation / mean
DEFAULT_NO_SHOW = 0.05
DEFAULT_PRIORITY = 0.08
MIN_SERVICE_MIN = 0.5
NO_SHOW_WAIT_MIN = 2.0  # how long an officer waits for a called citizen before pressing no-show
HARD_STOP = dt.time(23, 30)  # everyone goes home: the business day (and numbering) ends at midnight
_SPEC = re.compile(r"^(?P<id>[a-z0-9][a-z0-9_-]{0,31})(?:=(?P<copy>[a-z0-9][a-z0-9_-]{0,31}))?"
                   r"(?:@(?P<hours>[0-9:+\-]+))?$")
_HOURS = re.compile(r"^(\d{1,2})(?::(\d{2}))?-(\d{1,2})(?::(\d{2}))?$")


@dataclasses.dataclass(frozen=True)
class ServicePlan:
    per_hour: Mapping[int, float]  # local hour -> citizens per open hour
    service_min: float
    cv: float
    no_show: float
    priority: float

    def expected(self, config: Config, code: str, day: dt.date) -> float:
        """Citizens expected that day (before the quota turns anybody away)."""
        return sum(self.per_hour.get(h, 0) * (b - a) / 60 for a, b, h in open_pieces(config, code, day))


@dataclasses.dataclass(frozen=True)
class Scenario:
    config: Config  # the site, with any added counters
    day: dt.date
    services: Mapping[str, ServicePlan]
    staffing: Mapping[str, tuple[tuple[float, float], ...] | None]  # counter -> spans in minutes, None: all day

    @classmethod
    def build(cls, config: Config, day: dt.date, *, arrivals: Mapping[str, Any] | None = None,
              counters: str | None = None, demand: float = 1.0, source: str = "arrivals") -> Scenario:
        raw = arrivals or {}
        r = Reader()
        top = r.mapping(raw, "", {"services", "defaults", "counters"})
        defaults = r.mapping(top.get("defaults") or {}, "defaults", {"cv", "no_show", "priority", "demand"})
        base = {
            "cv": r.number(defaults.get("cv"), "defaults.cv", default=DEFAULT_CV, low=0, high=3),
            "no_show": r.number(defaults.get("no_show"), "defaults.no_show", default=DEFAULT_NO_SHOW, low=0, high=1),
            "priority": r.number(defaults.get("priority"), "defaults.priority", default=DEFAULT_PRIORITY,
                                 low=0, high=1),
            "demand": r.number(defaults.get("demand"), "defaults.demand", default=1.0, low=0, high=100) * demand,
        }
        given = r.mapping(top.get("services") or {}, "services", set(config.services))
        plans = {code: _plan(r, config, day, code, given.get(code) or {}, f"services.{code}", base)
                 for code in config.services}
        config, staffing = _staffing(r, config, day, top.get("counters"), counters)
        if r.problems:
            raise ConfigError(source, r.problems)
        return cls(config, day, MappingProxyType(plans), MappingProxyType(staffing))


def open_pieces(config: Config, code: str, day: dt.date) -> list[tuple[float, float, int]]:
    """The service's opening time that day cut at every full hour: (start, end, hour) in minutes."""
    if day in config.holidays:
        return []
    pieces = []
    for a, b in config.schedules[config.services[code].schedule].spans(day):
        lo, hi = a.hour * 60 + a.minute, (24 * 60 if b == dt.time.max else b.hour * 60 + b.minute)
        while lo < hi:
            cut = min(hi, (lo // 60 + 1) * 60)
            pieces.append((float(lo), float(cut), lo // 60))
            lo = cut
    return pieces


def _plan(r: Reader, config: Config, day: dt.date, code: str, raw: Any, path: str,
          base: dict[str, float]) -> ServicePlan:
    m = r.mapping(raw, path, {"per_hour", "scale", "service_min", "cv", "no_show", "priority"})
    svc = config.services[code]
    common = dict(
        service_min=r.number(m.get("service_min"), f"{path}.service_min", default=svc.service_min, low=0.5, high=480),
        cv=r.number(m.get("cv"), f"{path}.cv", default=base["cv"], low=0, high=3),
        no_show=r.number(m.get("no_show"), f"{path}.no_show", default=base["no_show"], low=0, high=1),
        priority=r.number(m.get("priority"), f"{path}.priority", default=base["priority"], low=0, high=1))
    if m.get("per_hour") is not None:
        rates = {}
        for key, rate in r.mapping(m["per_hour"], f"{path}.per_hour", set(m["per_hour"] or ())).items():
            hour = int(key) if isinstance(key, (int, str)) and str(key).isdigit() else None
            if hour is None or not 0 <= hour <= 23:
                r.report(f"{path}.per_hour.{key}", "not an hour of the day (0-23)")
                continue
            rates[hour] = r.number(rate, f"{path}.per_hour.{key}", default=0, low=0, high=10000)
        return ServicePlan(MappingProxyType(rates), **common)
    scale = r.number(m.get("scale"), f"{path}.scale", default=1.0, low=0, high=100) * base["demand"]
    return ServicePlan(MappingProxyType(default_rates(config, code, day, scale, common["service_min"])), **common)


def default_rates(config: Config, code: str, day: dt.date, scale: float, service_min: float) -> dict[int, float]:
    """Hourly rates that bring the service's quota (times `scale`) over its open hours, peaking
    in the morning; without a quota, what one counter serves in those hours, times 0.8."""
    pieces = open_pieces(config, code, day)
    open_min = sum(b - a for a, b, _ in pieces)
    if not open_min:
        return {}
    quota = config.services[code].quota
    demand = scale * (quota if quota is not None else 0.8 * open_min / service_min)
    weight = sum(PEAK.get(h, 0.4) * (b - a) / 60 for a, b, h in pieces)
    return {h: demand * PEAK.get(h, 0.4) / weight for h in sorted({h for _, _, h in pieces})}


def _minutes(text: str, path: str, r: Reader) -> tuple[float, float] | None:
    m = _HOURS.match(text.strip())
    if not m:
        r.report(path, f"{text!r} is not hours like '08-12' or '08:00-12:30'")
        return None
    h1, m1, h2, m2 = (int(g or 0) for g in m.groups())
    lo, hi = h1 * 60 + m1, h2 * 60 + m2
    if not (0 <= lo < hi <= 24 * 60 and m1 < 60 and m2 < 60):
        r.report(path, f"{text!r} is not a span of one day")
        return None
    return float(lo), float(hi)


def _staffing(r: Reader, config: Config, day: dt.date, raw: Any, spec: str | None):
    """The counters staffed in the scenario (new ones added to the config) and their hours."""
    entries: list[tuple[str, str | None, list[str] | None, str]] = []  # id, copy_of, spans, path
    if spec:
        for i, item in enumerate(x.strip() for x in spec.split(",") if x.strip()):
            if item in ("default", "all"):
                entries += [(c.id, None, None, f"--counters[{i}]") for c in config.counters.values()
                            if item == "all" or c.open_at_start]
                continue
            m = _SPEC.match(item)
            if not m:
                r.report(f"--counters[{i}]", f"{item!r} is not like loket1, loket1@08-12, loket9=loket1 or default")
                continue
            hours = m.group("hours").split("+") if m.group("hours") else None
            entries.append((m.group("id"), m.group("copy"), hours, f"--counters[{i}]"))
    elif raw is not None:
        for cid, value in r.mapping(raw, "counters", set(raw) if isinstance(raw, dict) else set()).items():
            path, copy, hours = f"counters.{cid}", None, None
            if isinstance(value, dict):
                value = r.mapping(value, path, {"copy_of", "hours"})
                copy, hours = value.get("copy_of"), value.get("hours")
            elif value != "all_day":
                hours = value
            if hours is not None and not (isinstance(hours, list) and all(isinstance(h, str) for h in hours)):
                r.report(path, "hours must be a list like ['08:00-12:00'] or all_day")
                hours = None
            entries.append((str(cid), copy, hours, path))
    else:
        entries = [(c.id, None, None, "") for c in config.counters.values() if c.open_at_start]

    counters = dict(config.counters)
    staffing: dict[str, tuple[tuple[float, float], ...] | None] = {}
    for cid, copy, hours, path in entries:
        if copy is not None:
            if copy not in config.counters:
                r.report(path, f"cannot copy unknown counter {copy!r} (known: {', '.join(config.counters)})")
                continue
            if cid in counters:
                r.report(path, f"a new counter needs a new id; {cid!r} is already a counter")
                continue
            if not ID.match(cid):
                r.report(path, f"{cid!r} is not a valid counter id")
                continue
            t = config.counters[copy]
            counters[cid] = Counter(cid, f"{t.name} ({cid})", t.services, t.agency, open_at_start=False)
        elif cid not in counters:
            r.report(path, f"unknown counter {cid!r} (known: {', '.join(counters)}; add one with NEW=COPY_OF)")
            continue
        spans = None
        if hours is not None:
            spans = tuple(s for j, h in enumerate(hours) if (s := _minutes(h, f"{path}.hours[{j}]", r)))
        staffing[cid] = spans
    return dataclasses.replace(config, counters=MappingProxyType(counters)), staffing


# -- the citizens -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Citizen:
    arrival: float  # minutes after local midnight
    service: str
    priority: str | None
    duration: float  # minutes at the counter once called
    no_show: bool


def citizens(scenario: Scenario, seed: int) -> list[Citizen]:
    """Everybody who comes that day, drawn per service from its own stream, by arrival time."""
    cfg, out = scenario.config, []
    groups = [g.id for g in cfg.priority_groups]
    for code, plan in scenario.services.items():
        rng = random.Random(f"{seed}/{code}")
        sigma = math.sqrt(math.log(1 + plan.cv ** 2))
        mu = math.log(plan.service_min) - sigma ** 2 / 2
        for lo, hi, hour in open_pieces(cfg, code, scenario.day):
            rate = plan.per_hour.get(hour, 0) / 60  # per minute
            t = lo
            while rate > 0:
                t += rng.expovariate(rate)
                if t >= hi:
                    break
                priority = rng.choice(groups) if groups and rng.random() < plan.priority else None
                duration = max(MIN_SERVICE_MIN, rng.lognormvariate(mu, sigma) if sigma else plan.service_min)
                out.append(Citizen(t, code, priority, duration, rng.random() < plan.no_show))
    out.sort(key=lambda c: (c.arrival, c.service))
    return out


# -- the day ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    scenario: Scenario
    seed: int
    citizens: list[Citizen]
    events: list[Event]
    tickets: dict[str, Citizen]
    refused: dict[str, dict[str, int]]  # service -> error code -> citizens turned away
    seconds: float  # wall-clock time of the run

    def report(self, **options):
        """The ordinary report of the simulated day, from a temporary store."""
        from antrian.tools.report import figures as report
        from antrian.adapters.store import Store

        with tempfile.TemporaryDirectory(prefix="antrian-sim-") as tmp:
            store = Store(Path(tmp) / "simulasi.db", self.scenario.config.tz)
            try:
                store.commit(self.events, [])
                return report.from_store(self.scenario.config, store, self.scenario.day, **options)
            finally:
                store.close()


class _Desk:
    """One counter's officer: staffed or not, busy or not, leaving after this citizen or not."""

    __slots__ = ("id", "services", "staffed", "busy", "leaving", "all_day", "done_after")

    def __init__(self, cid: str, services: Sequence[str], all_day: bool, done_after: float):
        self.id, self.services, self.all_day, self.done_after = cid, set(services), all_day, done_after
        self.staffed = self.busy = self.leaving = False


def run(scenario: Scenario, seed: int = 1) -> Result:
    """Simulate the scenario's day with these citizens' draws; the events the engine produced."""
    started = time.perf_counter()
    cfg, day = scenario.config, scenario.day
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=cfg.tz)
    engine = Engine(cfg)
    events: list[Event] = []
    people = citizens(scenario, seed)
    tickets: dict[str, Citizen] = {}
    refused: dict[str, dict[str, int]] = {code: {} for code in cfg.services}
    heap: list[tuple[float, int, int, str, Any]] = []
    order = 0

    def at(minute: float) -> dt.datetime:
        return midnight + dt.timedelta(minutes=minute)

    def push(minute: float, rank: int, kind: str, what: Any) -> None:
        nonlocal order
        order += 1
        heapq.heappush(heap, (minute, rank, order, kind, what))

    def act(cid: str, action: str, now: float) -> str | None:
        """Press a button; the ticket it answers with (None when refused or nobody)."""
        try:
            outcome = engine.command(cid, action, {}, at(now))
        except QueueError:
            return None
        engine.apply_all(outcome.events)
        events.extend(outcome.events)
        return outcome.ticket if outcome.error is None else None

    def call(desk: _Desk, now: float) -> None:
        """NEXT: finish whoever is at the counter and call the next, or wait idle for one."""
        number = act(desk.id, "call_next", now) if engine.waiting_for(desk.id) else None
        if number is None and engine.serving(desk.id):
            act(desk.id, "finish", now)  # the last citizen of a quiet moment: served, counter idle
        desk.busy = number is not None
        if desk.busy:
            person = tickets[number]
            if person.no_show:
                if cfg.queue.max_recalls:
                    push(now + NO_SHOW_WAIT_MIN / 2, 1, "recall", desk)
                push(now + NO_SHOW_WAIT_MIN, 1, "gone", desk)
            else:
                push(now + person.duration, 1, "done", desk)
        elif desk.all_day and now >= desk.done_after and not engine.waiting_for(desk.id):
            close(desk, now)

    def close(desk: _Desk, now: float) -> None:
        """The officer goes home (closing also finishes the citizen being served)."""
        act(desk.id, "close", now)
        desk.staffed = desk.busy = desk.leaving = False

    def free(desk: _Desk, now: float) -> None:
        """The officer is free: leave if the shift is over, else take the next citizen."""
        if desk.leaving:
            close(desk, now)
        else:
            call(desk, now)

    # Desks in the site file's order, so who gets a ticket first never depends on how
    # the staffing was written.
    desks: dict[str, _Desk] = {}
    starts: dict[str, float] = {}
    for cid in cfg.counters:
        if cid not in scenario.staffing:
            continue
        spans, services = scenario.staffing[cid], cfg.counters[cid].services
        pieces = [p for code in services for p in open_pieces(cfg, code, day)]
        ends = max((b for _, b, _ in pieces), default=0.0)
        desk = desks[cid] = _Desk(cid, services, spans is None, ends)
        if spans is None:
            spans = ((min(a for a, _, _ in pieces), ends),) if pieces else ()
        for a, b in spans:
            push(a, 0, "start", desk)
            push(b, 3, "drain" if desk.all_day else "end", desk)
            starts[cid] = min(a, starts.get(cid, a))
    first = min(starts.values(), default=8 * 60.0)
    for cid in cfg.counters:
        if engine.counter_status(cid) == "open" and starts.get(cid, first + 1) > first:
            act(cid, "close", first)  # nobody sits there yet: not an open counter for the estimates
    for person in people:
        push(person.arrival, 2, "arrive", person)
    push(HARD_STOP.hour * 60 + HARD_STOP.minute, 4, "stop", None)

    while heap:
        now, _, _, kind, what = heapq.heappop(heap)
        if kind == "stop":
            for desk in desks.values():
                if desk.staffed:
                    close(desk, now)
            break
        if kind == "arrive":
            try:
                outcome = engine.issue(what.service, what.priority, at(now))
            except QueueError as exc:
                refused[what.service][exc.code] = refused[what.service].get(exc.code, 0) + 1
                continue
            engine.apply_all(outcome.events)
            events.extend(outcome.events)
            tickets[outcome.ticket] = what
            for desk in desks.values():
                if not engine.waiting_count(what.service):
                    break
                if what.service in desk.services and desk.staffed and not desk.busy:
                    call(desk, now)
        elif kind == "start":
            what.staffed, what.leaving = True, False
            if engine.counter_status(what.id) != "open":
                act(what.id, "open", now)
            if not what.busy:
                call(what, now)
        elif kind == "end":
            if what.busy:
                what.leaving = True
            elif what.staffed:
                close(what, now)
        elif kind == "drain":
            if what.staffed and not what.busy and not engine.waiting_for(what.id):
                close(what, now)
        elif kind == "recall":
            act(what.id, "recall", now)
        elif kind == "gone":
            act(what.id, "no_show", now)
            free(what, now)
        elif kind == "done":
            free(what, now)
    return Result(scenario, seed, people, events, tickets, refused, time.perf_counter() - started)


def load_arrivals(path: str | Path) -> dict[str, Any]:
    """The arrivals YAML file, parsed (ConfigError with the file name when it cannot be)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [("", f"cannot read the file: {exc.strerror}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [("", f"not valid YAML: {exc}")]) from None
    return raw or {}


def first_open_day(config: Config, start: dt.date) -> dt.date:
    """`start`, or the first day after it on which some service is open."""
    for i in range(366):
        day = start + dt.timedelta(days=i)
        if any(open_pieces(config, code, day) for code in config.services):
            return day
    raise SimulationError(f"{config.source}: no service opens in the year from {start}")


def _describe_staffing(scenario: Scenario) -> str:
    def hours(spans) -> str:
        if spans is None:
            return "sepanjang hari sampai antrean habis"
        return " dan ".join(f"{int(a) // 60:02d}.{int(a) % 60:02d}–{int(b) // 60:02d}.{int(b) % 60:02d}"
                            for a, b in spans) or "tidak dijaga"

    cfg = scenario.config
    return "; ".join(f"{cfg.counters[cid].name} {hours(spans)}" for cid, spans in scenario.staffing.items())


def notes(result: Result, arrivals_source: str | None) -> list[str]:
    """The Indonesian lines that tell a reader this page is a prediction, and of what."""
    from antrian import bahasa

    sc, cfg = result.scenario, result.scenario.config
    when = bahasa.tanggal(dt.datetime.combine(sc.day, dt.time(12), tzinfo=cfg.tz), jam=False)
    out = [f"Hasil simulasi, bukan data nyata: perkiraan untuk {when} (seed {result.seed}), dihitung oleh mesin "
           f"antrean yang sama dengan yang melayani warga. Kedatangan: "
           + (f"berkas {arrivals_source}" if arrivals_source else "sebanyak kuota harian tiap layanan, "
              "ramai pada pagi hari")
           + f"; {len(result.citizens)} warga datang, {len(result.tickets)} mendapat nomor.",
           f"Loket yang dijaga: {_describe_staffing(sc) or 'tidak ada'}."]
    words = {"quota_exhausted": "kuota habis", "service_closed": "layanan tutup"}
    turned = [f"{code} {n} ({words.get(why, why)})" for code, per in result.refused.items() for why, n in per.items()]
    if turned:
        out.append("Tidak mendapat nomor: " + ", ".join(turned) + ".")
    last = result.events[-1].at if result.events else None
    if last is not None and last.astimezone(cfg.tz).time() >= HARD_STOP:
        out.append(f"Pukul {HARD_STOP:%H.%M} antrean belum habis: simulasi berhenti di situ (nomor antrean berganti "
                   "hari pada tengah malam); yang belum dipanggil tercatat masih menunggu saat tutup.")
    return out


def write(result: Result, out: str | Path, *, arrivals_source: str | None = None, charts: bool = True) -> list[str]:
    """The simulated day's report (CSV, charts, HTML) plus simulasi.csv with the assumptions per service."""
    import csv

    from antrian.tools.report import files as report_files

    out = Path(out)
    rep = result.report(title="Simulasi Hari Pelayanan", notes=notes(result, arrivals_source))
    files = report_files.write(rep, out, charts=charts)
    sc = result.scenario
    drawn: dict[str, int] = {}
    for person in result.citizens:
        drawn[person.service] = drawn.get(person.service, 0) + 1
    issued = {code: 0 for code in sc.config.services}
    for person in result.tickets.values():
        issued[person.service] += 1
    with (out / "simulasi.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["service", "expected_citizens", "citizens", "issued", "refused_quota", "refused_closed",
                    "service_min", "cv", "no_show", "priority", "seed"])
        for code, plan in sc.services.items():
            w.writerow([code, f"{plan.expected(sc.config, code, sc.day):.1f}", drawn.get(code, 0), issued[code],
                        result.refused[code].get("quota_exhausted", 0), result.refused[code].get("service_closed", 0),
                        plan.service_min, plan.cv, plan.no_show, plan.priority, result.seed])
    return files + ["simulasi.csv"]
