"""The replay of one business day for the report: the events of the store, through
the real engine, into legs (one ticket's stay with one service) and counter days.
The definitions are in the package's figures.py docstring."""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction
from typing import TYPE_CHECKING, Iterable, Sequence

from antrian.site import Config
from antrian.queue.engine import Engine, Event
from antrian.errors import ReportError

if TYPE_CHECKING:
    pass


_MICRO = dt.timedelta(microseconds=1)


def micros(delta: dt.timedelta) -> int:
    """A duration in whole microseconds (the resolution of a datetime): exact, and quick to sort."""
    return delta // _MICRO


def minutes(delta: dt.timedelta) -> Fraction:
    """A duration in minutes, exactly."""
    return Fraction(micros(delta), 60_000_000)


# -- statistics -----------------------------------------------------------------------


def quantile(sorted_values: Sequence[int | Fraction], q: Fraction) -> Fraction:
    """Linear interpolation between closest ranks (PERCENTILE.INC, numpy's default)."""
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    if lo + 1 >= len(sorted_values):
        return Fraction(sorted_values[lo])
    return sorted_values[lo] + (sorted_values[lo + 1] - sorted_values[lo]) * (pos - lo)


# -- one day, replayed ---------------------------------------------------------------


@dataclasses.dataclass
class Leg:
    """One ticket's stay with one service (see the module docstring)."""

    day: dt.date
    number: str
    service: str
    priority: str | None
    start: dt.datetime
    via: str  # "issued" | "transferred"
    first_call: dt.datetime | None = None
    counter: str | None = None  # the counter of the latest call
    end: dt.datetime | None = None
    outcome: str = "waiting"  # served | no_show | transferred | serving | waiting
    recalls: int = 0
    service_us: int | None = None  # service time in microseconds, once served

    @property
    def wait_us(self) -> int | None:
        return None if self.first_call is None else micros(self.first_call - self.start)

    @property
    def wait(self) -> Fraction | None:
        """The waiting time in minutes, exactly."""
        return None if self.first_call is None else minutes(self.first_call - self.start)

    @property
    def service_time(self) -> Fraction | None:
        return None if self.service_us is None else Fraction(self.service_us, 60_000_000)

    def over_target(self, target_min: int, close: dt.datetime) -> bool:
        waited = self.first_call - self.start if self.first_call is not None else close - self.start
        return waited > dt.timedelta(minutes=target_min)


@dataclasses.dataclass
class CounterDay:
    calls: int = 0
    served: int = 0
    no_show: int = 0
    transferred: int = 0
    recalls: int = 0
    service_us: list[int] = dataclasses.field(default_factory=list)
    busy: list[tuple[dt.datetime, dt.datetime]] = dataclasses.field(default_factory=list)
    busy_min: Fraction = Fraction(0)
    open_min: Fraction = Fraction(0)


@dataclasses.dataclass
class Day:
    day: dt.date
    close: dt.datetime
    legs: list[Leg]
    counters: dict[str, CounterDay]


def _at(day: dt.date, t: dt.time, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, t, tzinfo=tz)


def opening(config: Config, services: Iterable[str], day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """The earliest opening and latest closing time of these services on that day, or None."""
    if day in config.holidays:
        return None
    spans = [s for code in services for s in config.schedules[config.services[code].schedule].spans(day)]
    if not spans:
        return None
    return (_at(day, min(a for a, _ in spans), config.tz), _at(day, max(b for _, b in spans), config.tz))


def _union_minutes(intervals: Iterable[tuple[dt.datetime, dt.datetime]], lo: dt.datetime, hi: dt.datetime) -> Fraction:
    total, reach = Fraction(0), lo
    for a, b in sorted(intervals):
        a, b = max(a, reach), min(b, hi)
        if b > a:
            total += minutes(b - a)
            reach = b
    return total


def replay(config: Config, day: dt.date, events: Sequence[Event]) -> Day:
    """Walk one business day's events through a fresh engine and record every leg."""
    engine = Engine(config)
    legs: list[Leg] = []
    current: dict[str, Leg] = {}
    counters = {cid: CounterDay() for cid in config.counters}
    busy_since: dict[str, dt.datetime] = {}
    status: dict[str, list[tuple[dt.datetime, str]]] = {cid: [] for cid in config.counters}

    def end_busy(cid: str, at: dt.datetime) -> None:
        since = busy_since.pop(cid, None)
        if since is not None:
            counters[cid].busy.append((since, at))

    for event in events:
        d, at = event.data, event.at
        try:
            if event.kind == "issued":
                leg = Leg(day, d["number"], d["service"], d["priority"], at, "issued")
                legs.append(leg)
                current[leg.number] = leg
            elif event.kind == "called":
                leg, c = current[d["number"]], d["counter"]
                if engine.ticket_service(leg.number) != leg.service:
                    raise ReportError(f"{day}: {leg.number} is in {engine.ticket_service(leg.number)} "
                                      f"for the engine, in {leg.service} for the report")
                end_busy(c, at)  # a counter calls only when free; this guards a broken log
                busy_since[c] = at
                counters[c].calls += 1
                if leg.first_call is None:
                    leg.first_call = at
                leg.counter, leg.outcome, leg.end = c, "serving", None
            elif event.kind == "recalled":
                current[d["number"]].recalls += 1
                counters[d["counter"]].recalls += 1
            elif event.kind in ("served", "no_show", "transferred"):
                leg, c = current[d["number"]], d["counter"]
                end_busy(c, at)
                leg.outcome, leg.end = event.kind, at
                if event.kind == "served":
                    leg.service_us = micros(at - engine.called_at(leg.number))
                    counters[c].served += 1
                    counters[c].service_us.append(leg.service_us)
                elif event.kind == "no_show":
                    counters[c].no_show += 1
                else:
                    counters[c].transferred += 1
                    moved = Leg(day, leg.number, d["to_service"], leg.priority, at, "transferred")
                    legs.append(moved)
                    current[leg.number] = moved
            elif event.kind == "counter_status":
                status[d["counter"]].append((at, d["status"]))
            engine.apply(event)
        except KeyError as exc:
            raise ReportError(f"{day}: the {event.kind} event at {at.isoformat()} names {exc} which the "
                              f"site file or the day's earlier events do not know") from None

    span = opening(config, config.services, day)
    ends = [events[-1].at] if events else []
    ends += [span[1]] if span else []
    close = max(ends, default=_at(day, dt.time.max, config.tz))
    for cid in list(busy_since):  # still serving when the day closed
        end_busy(cid, close)
    for cid, cday in counters.items():
        cday.busy_min = sum((minutes(b - a) for a, b in cday.busy), Fraction(0))
        cday.open_min = _open_minutes(config, cid, day, cday, status[cid])
    return Day(day, close, legs, counters)


def _open_minutes(config: Config, cid: str, day: dt.date, cday: CounterDay,
                  changes: list[tuple[dt.datetime, str]]) -> Fraction:
    span = opening(config, config.counters[cid].services, day)
    starts = [a for a, _ in cday.busy] + ([span[0]] if span else [])
    ends = [b for _, b in cday.busy] + ([span[1]] if span else [])
    if not starts:
        return Fraction(0)
    lo, hi = min(starts), max(ends)
    intervals = list(cday.busy)
    state, since = ("open" if config.counters[cid].open_at_start else "closed"), lo
    for at, new in changes:
        if state == "open":
            intervals.append((since, at))
        state, since = new, at
    if state == "open":
        intervals.append((since, hi))
    return _union_minutes(intervals, lo, hi)
