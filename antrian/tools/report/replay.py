"""The replay of one business day for the report: the events of the store, through
the real engine, into legs (one ticket's stay with one service) and counter days.
The definitions are in the package's figures.py docstring.

Events of a service or counter the site file no longer has stay in the report: their
legs and counter days are kept (the engine keeps them aside, antrian/queue/state.py),
and figures.py counts them in the totals and names them in a note.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from fractions import Fraction
from typing import Iterable, Sequence

from antrian.errors import ReportError, TransitionError
from antrian.queue.engine import Engine
from antrian.queue.events import (Called, CounterStatusChanged, DayStarted, Event, Issued, NoShow, Recalled, Served,
                                  Transferred, Withdrawn)
from antrian.site import Config


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
    outcome: str = "waiting"  # served | no_show | transferred | withdrawn | serving | waiting
    recalls: int = 0
    service_us: int | None = None  # service time in microseconds, once served
    booking: str | None = None  # the booking it checked in (an online ticket); None: a walk-in

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
    withdrawn: int = 0
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
    if events and not isinstance(events[0], DayStarted):  # a day stored before days were opened by an event
        engine.apply(DayStarted(at=events[0].at, day=day))
    legs: list[Leg] = []
    current: dict[str, Leg] = {}
    last_call: dict[str, dt.datetime] = {}
    counters: dict[str, CounterDay] = defaultdict(CounterDay)
    busy_since: dict[str, dt.datetime] = {}
    status: dict[str, list[tuple[dt.datetime, str]]] = defaultdict(list)

    def end_busy(cid: str, at: dt.datetime) -> None:
        since = busy_since.pop(cid, None)
        if since is not None:
            counters[cid].busy.append((since, at))

    for event in events:
        at = event.at
        try:
            match event:
                case Issued(number=number, service=service, priority=priority):
                    leg = Leg(day, number, service, priority, at, "issued", booking=event.booking)
                    legs.append(leg)
                    current[number] = leg
                case Called(number=number, counter=c):
                    leg = current[number]
                    if engine.knows_ticket(number) and engine.ticket_service(number) != leg.service:
                        raise ReportError(f"{day}: {number} is in {engine.ticket_service(number)} "
                                          f"for the engine, in {leg.service} for the report")
                    end_busy(c, at)  # a counter calls only when free; this guards a broken log
                    busy_since[c] = at
                    counters[c].calls += 1
                    last_call[number] = at
                    if leg.first_call is None:
                        leg.first_call = at
                    leg.counter, leg.outcome, leg.end = c, "serving", None
                case Recalled(number=number, counter=c):
                    current[number].recalls += 1
                    counters[c].recalls += 1
                case Served() | NoShow() | Transferred():
                    leg, c = current[event.number], event.counter
                    end_busy(c, at)
                    leg.outcome, leg.end = event.kind, at
                    if isinstance(event, Served):
                        called = engine.called_at(leg.number) if engine.knows_ticket(leg.number) else None
                        leg.service_us = micros(at - (called or last_call[leg.number]))
                        counters[c].served += 1
                        counters[c].service_us.append(leg.service_us)
                    elif isinstance(event, NoShow):
                        counters[c].no_show += 1
                    else:
                        counters[c].transferred += 1
                        moved = Leg(day, leg.number, event.to_service, leg.priority, at, "transferred",
                                    booking=leg.booking)
                        legs.append(moved)
                        current[leg.number] = moved
                case Withdrawn(number=number):
                    leg = current[number]
                    if leg.outcome == "serving" and leg.counter is not None:
                        end_busy(leg.counter, at)
                        counters[leg.counter].withdrawn += 1
                    leg.outcome, leg.end = "withdrawn", at
                case CounterStatusChanged(counter=c, status=new):
                    status[c].append((at, str(new)))
            engine.apply(event)
        except (KeyError, TransitionError) as exc:
            raise ReportError(f"{day}: the {event.kind} event at {at.isoformat()} does not fit the day's earlier "
                              f"events ({exc})") from None

    span = opening(config, config.services, day)
    ends = [events[-1].at] if events else []
    ends += [span[1]] if span else []
    close = max(ends, default=_at(day, dt.time.max, config.tz))
    for cid in list(busy_since):  # still serving when the day closed
        end_busy(cid, close)
    for cid in config.counters:
        cday = counters[cid]
        cday.busy_min = sum((minutes(b - a) for a, b in cday.busy), Fraction(0))
        cday.open_min = _open_minutes(config, cid, day, cday, status[cid])
    for cid in set(counters) - set(config.counters):  # a counter gone from the site file: busy time only
        counters[cid].busy_min = sum((minutes(b - a) for a, b in counters[cid].busy), Fraction(0))
    return Day(day, close, legs, dict(counters))


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
