"""The figures of the daily report, from the store's event log.

Each business day is replayed through the real `Engine`, event by event, so every
figure means what the queue meant when it happened: a ticket's service is the one the
engine held at that moment, and a service time is the engine's own (`served` minus the
ticket's `called_at`, the number it feeds into the estimated wait).

The unit of counting is the *leg*: one ticket's stay with one service. A ticket is
issued into its first leg; a transfer ends that leg (outcome ``transferred``) and opens
a new one in the target service, with the same number. So per service

    issued + transferred_in = served + no_show + transferred_out + withdrawn
                              + serving_at_close + waiting_at_close

always holds (`Figures.balanced`), and a transferred ticket counts under both services:
once as transferred out, once as transferred in. Definitions, per leg:

- waiting time: first call in the leg minus the leg's start (the issue, or the transfer
  that brought it there); a no-show called back keeps its first wait.
- service time: ``served`` minus the last call (the engine's `called_at`).
- outcome: the last thing that happened to the leg by the end of the day; a no-show
  called back and served counts as served (the counter's own row still counts the
  officer's no-show press).
- over target: waited longer than the service's ``target_wait_min``; a ticket never
  called counts as over when the day closed more than the target after its start.
  A service the site file no longer has has no target: its legs are not judged.
- withdrawn: taken out of the queue by the dispatcher because its service (or the
  counter serving it) left the site file. The totals count such services and
  counters; the per-service, per-agency and per-counter tables list the site file's
  own, and a note names the others.
- the day closes at the end of the latest opening span of the day, or at the last
  event if that is later.
- counter utilisation: busy time (a ticket at the counter: call until served, no-show
  or transfer) over open time (status open, or busy, between the earliest opening
  time of its services and the later of their closing time and its last activity).

Statistics are exact (minutes as `Fraction`, turned into floats only at the end):
the median and the 90th percentile interpolate between ranks like a spreadsheet's
MEDIAN and PERCENTILE.INC, so anybody can check a figure from the CSV.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from fractions import Fraction
from typing import TYPE_CHECKING, Iterable, Sequence

from antrian.site import Config
from antrian.errors import ReportError
from antrian.queue.events import BOOKING_EVENTS, DayStarted
from antrian.tools.report.bookings import BookingReport, booking_span
from antrian.tools.report.replay import (Day, Leg, quantile,
                                          replay)

if TYPE_CHECKING:
    from antrian.tools.ikm import IkmReport


@dataclasses.dataclass(frozen=True)
class Stats:
    """Summary of durations in minutes; every figure None when there are none."""

    n: int = 0
    mean: float | None = None
    median: float | None = None
    p90: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, micro: Iterable[int]) -> Stats:
        """From durations in microseconds; the figures in minutes."""
        xs = sorted(micro)
        if not xs:
            return cls()
        unit = 60_000_000
        return cls(len(xs), float(Fraction(sum(xs), len(xs) * unit)), float(quantile(xs, Fraction(1, 2)) / unit),
                   float(quantile(xs, Fraction(9, 10)) / unit), float(Fraction(xs[-1], unit)))


def _levels(legs: Iterable[Leg]) -> list[tuple[dt.datetime, int]]:
    """How many tickets wait (started, not yet called) after each moment anything changes."""
    deltas: dict[dt.datetime, int] = defaultdict(int)
    for leg in legs:
        deltas[leg.start] += 1
        if leg.first_call is not None:
            deltas[leg.first_call] -= 1
    out, level = [], 0
    for at in sorted(deltas):
        level += deltas[at]
        out.append((at, level))
    return out


def peak_queue(legs: Iterable[Leg]) -> tuple[int, dt.datetime | None]:
    """The most tickets waiting at once, and the first moment it happened (0, None: nobody waited)."""
    best, when = 0, None
    for at, level in _levels(legs):
        if level > best:
            best, when = level, at
    return best, when


def queue_profile(legs: Iterable[Leg], tz: dt.tzinfo, until: dt.datetime | None = None,
                  slot_min: int = 15) -> dict[int, int]:
    """Per slot of the local day (minute of the day // slot_min), the most tickets waiting at
    once in it, from the first slot anything happened in to the slot of `until` (the close)."""
    levels = _levels(legs)
    if not levels:
        return {}

    def slot(at: dt.datetime) -> int:
        local = at.astimezone(tz)
        return (local.hour * 60 + local.minute) // slot_min

    last = max(slot(levels[-1][0]), slot(until) if until else 0)
    out: dict[int, int] = {}
    carried, i = 0, 0
    for s in range(slot(levels[0][0]), last + 1):
        # The level a slot starts with is the one the previous slot ended with.
        out[s] = carried
        while i < len(levels) and slot(levels[i][0]) == s:
            carried = levels[i][1]
            out[s] = max(out[s], carried)
            i += 1
    return out


# -- figures for a group of legs --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Figures:
    """The counts and times of a group of legs: a service, an agency, a day or everything."""

    issued: int
    priority: int
    transferred_in: int
    served: int
    no_show: int
    transferred_out: int
    withdrawn: int
    serving_at_close: int
    waiting_at_close: int
    wait: Stats
    service: Stats
    judged: int
    over_target: int
    peak_queue: int
    peak_at: dt.datetime | None

    @property
    def over_target_share(self) -> float | None:
        return self.over_target / self.judged if self.judged else None

    @property
    def entered(self) -> int:
        return self.issued + self.transferred_in

    @property
    def left(self) -> int:
        return (self.served + self.no_show + self.transferred_out + self.withdrawn + self.serving_at_close
                + self.waiting_at_close)

    @property
    def balanced(self) -> bool:
        return self.entered == self.left

    @classmethod
    def of(cls, config: Config, days: Sequence[Day], keep=lambda leg: True) -> Figures:
        legs = [(day, leg) for day in days for leg in day.legs if keep(leg)]
        count = defaultdict(int)
        for _, leg in legs:
            count[leg.outcome] += 1
        peaks = [peak_queue(leg for leg in day.legs if keep(leg)) for day in days]
        peak, peak_at = max(peaks, key=lambda p: p[0], default=(0, None))  # the first day of the highest
        judged = [leg.over_target(config.services[leg.service].target_wait_min, day.close) for day, leg in legs
                  if leg.service in config.services]
        return cls(
            issued=sum(1 for _, leg in legs if leg.via == "issued"),
            priority=sum(1 for _, leg in legs if leg.via == "issued" and leg.priority),
            transferred_in=sum(1 for _, leg in legs if leg.via == "transferred"),
            served=count["served"], no_show=count["no_show"], transferred_out=count["transferred"],
            withdrawn=count["withdrawn"],
            serving_at_close=count["serving"], waiting_at_close=count["waiting"],
            wait=Stats.of(leg.wait_us for _, leg in legs if leg.first_call is not None),
            service=Stats.of(leg.service_us for _, leg in legs if leg.outcome == "served"),
            judged=len(judged), over_target=sum(judged), peak_queue=peak, peak_at=peak_at)


@dataclasses.dataclass(frozen=True)
class CounterFigures:
    calls: int
    served: int
    no_show: int
    transferred: int
    withdrawn: int
    recalls: int
    serving_at_close: int
    service: Stats
    busy_min: float
    open_min: float

    @property
    def utilisation(self) -> float | None:
        return self.busy_min / self.open_min if self.open_min else None

    @property
    def balanced(self) -> bool:
        """Every call ends in a service, a no-show, a transfer, a withdrawal, or is still going at close."""
        return self.calls == self.served + self.no_show + self.transferred + self.withdrawn + self.serving_at_close

    @classmethod
    def of(cls, cid: str, days: Sequence[Day]) -> CounterFigures:
        cds = [d.counters[cid] for d in days]
        busy = sum((c.busy_min for c in cds), Fraction(0))
        opened = sum((c.open_min for c in cds), Fraction(0))
        serving = sum(1 for d in days for leg in d.legs if leg.outcome == "serving" and leg.counter == cid)
        return cls(sum(c.calls for c in cds), sum(c.served for c in cds), sum(c.no_show for c in cds),
                   sum(c.transferred for c in cds), sum(c.withdrawn for c in cds), sum(c.recalls for c in cds), serving,
                   Stats.of(t for c in cds for t in c.service_us), float(busy), float(opened))


# -- the whole report ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Report:
    config: Config
    first: dt.date
    last: dt.date
    days: tuple[Day, ...]
    total: Figures
    agencies: dict[str, Figures]
    services: dict[str, Figures]
    counters: dict[str, CounterFigures]
    daily: dict[dt.date, Figures]
    arrivals: dict[str, dict[int, int]]  # service -> local hour -> tickets issued
    queue: dict[str, dict[int, int]]  # agency -> 15-minute slot -> most waiting at once
    ikm: IkmReport | None = None
    bookings: BookingReport | None = None  # online and walk-in tickets, bookings, check-ins (bookings.py)
    title: str = ""
    notes: tuple[str, ...] = ()

    @property
    def balanced(self) -> bool:
        groups = [self.total, *self.agencies.values(), *self.services.values(), *self.daily.values()]
        return all(f.balanced for f in groups) and all(c.balanced for c in self.counters.values())


def build(config: Config, days: Sequence[Day], *, surveys: Sequence[dict] = (), booking_events: Sequence = (),
          title: str = "", notes: Sequence[str] = ()) -> Report:
    """The figures of these replayed days (and the IKM of these survey rows, and the bookings
    of these booking events: Store.booking_events over bookings.booking_span)."""
    from antrian.tools.ikm import IkmReport

    if not days:
        raise ReportError("no days to report")
    services = {code: Figures.of(config, days, lambda leg, c=code: leg.service == c) for code in config.services}
    agencies = {a.id: Figures.of(config, days, lambda leg, s=set(a.services): leg.service in s)
                for a in config.agencies}
    arrivals: dict[str, dict[int, int]] = {code: defaultdict(int) for code in config.services}
    for day in days:
        for leg in day.legs:
            if leg.via == "issued" and leg.service in arrivals:
                arrivals[leg.service][leg.start.astimezone(config.tz).hour] += 1
    queue: dict[str, dict[int, int]] = {}
    for a in config.agencies:
        merged: dict[int, int] = {}
        for day in days:
            for slot, n in queue_profile((leg for leg in day.legs if leg.service in a.services), config.tz,
                                           day.close).items():
                merged[slot] = max(merged.get(slot, 0), n)
        queue[a.id] = merged
    finals = {(day.day.isoformat(), leg.number): leg.service for day in days for leg in day.legs}
    return Report(
        config=config, first=days[0].day, last=days[-1].day, days=tuple(days),
        total=Figures.of(config, days), agencies=agencies, services=services,
        counters={cid: CounterFigures.of(cid, days) for cid in config.counters},
        daily={day.day: Figures.of(config, [day]) for day in days},
        arrivals={code: dict(v) for code, v in arrivals.items()}, queue=queue,
        ikm=IkmReport.of(config, surveys, finals), bookings=BookingReport.of(config, days, booking_events),
        title=title, notes=(*notes, *gone_notes(config, days)))


def gone_notes(config: Config, days: Sequence[Day]) -> list[str]:
    """A note for the services and counters the days speak of that the site file no
    longer has: the totals count them, the tables of the site file do not."""
    legs = [leg for day in days for leg in day.legs]
    services = sorted({leg.service for leg in legs} - set(config.services))
    counters = sorted({cid for day in days for cid in day.counters} - set(config.counters))
    out = []
    if services:
        counted = ", ".join(f"{code} ({sum(1 for leg in legs if leg.service == code)} tiket)" for code in services)
        out.append(f"Layanan yang tidak ada lagi di berkas situs, dihitung dalam jumlah saja: {counted}")
    if counters:
        out.append(f"Loket yang tidak ada lagi di berkas situs, dihitung dalam jumlah saja: {', '.join(counters)}")
    return out


# -- from the store ---------------------------------------------------------------------------


def days_in(first: dt.date, last: dt.date) -> list[dt.date]:
    if last < first:
        raise ReportError(f"--to {last} is before --date {first}")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def from_store(config: Config, store, first: dt.date, last: dt.date | None = None, **options) -> Report:
    """Replay the stored days from `first` to `last` (inclusive) and build their report.

    Days without a single event (a weekend, a holiday) are left out; a range with no
    events at all is a ReportError.
    """
    days = []
    for day in days_in(first, last or first):
        events = store.events(day.isoformat())
        # a day opened and nothing else (or only bookings made for later days) is no day to report
        if any(not isinstance(e, (DayStarted, *BOOKING_EVENTS)) for e in events):
            days.append(replay(config, day, events))
    if not days:
        span = first.isoformat() if not last or last == first else f"{first} .. {last}"
        raise ReportError(f"no events stored for {span} in {store.path}")
    return build(config, days, surveys=store.surveys(first.isoformat(), (last or first).isoformat()),
                 booking_events=store.booking_events(*booking_span(config, first, last or first)), **options)
