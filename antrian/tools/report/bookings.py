"""The report's bookings (issue 15): per service and in total, online tickets against
walk-ins, what became of the bookings made for the period's days, and how punctually
citizens checked in. Figures here, its CSV rows and HTML section in booking_files.py.

Definitions (the events are the store's, antrian/queue/events.py):

- an *online* ticket is one issued by a booking's check-in (`Issued.booking`), a
  *walk-in* one without; both are counted by the service the ticket was issued into
  (a transfer moves neither count).
- the bookings of a day are the `Booked` events whose `date` is that day, whenever they
  were made: the report reads the booking events of the store from the longest
  `days_ahead` before the period until some days after it (a booking of the period can
  expire late, after days with the dispatcher down).
- a booking ends *checked in* (its Issued), *cancelled* (BookingCancelled) or *expired*
  (BookingExpired: not checked in by the end of its window, a booking no-show); one with
  none of them yet is *still open* (its window has not ended, or its expiry is not
  stored yet).
- no-show rate = expired / (checked in + expired): of the bookings kept (not cancelled)
  and settled. The share *within the window* is the rest: checked in / (checked in +
  expired). Attempts outside the window are refused by the kiosk and leave no event.
- punctuality: the check-in time minus the slot's start, in minutes (negative: early);
  its median and the spread from the 10th to the 90th percentile (PERCENTILE.INC, as
  the rest of the report), and the share checked in before the slot began.
- waiting times of online and walk-in legs are the report's own (figures.py): first
  call minus the check-in or the issue.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction
from typing import Iterable, Sequence

from antrian.queue.bookings import parse_slot, slot_start
from antrian.queue.events import Booked, BookingCancelled, BookingExpired, Event, Issued
from antrian.site import Config
from antrian.tools.report.replay import Day, micros, quantile

# How long after the period a booking of it may still expire (the dispatcher down for days).
LATE_DAYS = 7
# At least this far back for the bookings of the period, whatever the site file says now.
LOOKBACK_DAYS = 31


@dataclasses.dataclass
class BookingRow:
    """One booking for a day of the period, as its events left it."""

    code: str
    service: str
    date: dt.date
    slot: dt.time
    booked_at: dt.datetime
    status: str = "booked"  # booked (still open) | checked_in | cancelled | expired
    ended_at: dt.datetime | None = None
    ticket: str | None = None
    offset_us: int | None = None  # check-in minus slot start, microseconds


def bookings_of(config: Config, events: Iterable[Event], first: dt.date, last: dt.date) -> list[BookingRow]:
    """The bookings for the days `first`..`last` from the store's booking events, in the order made."""
    rows: dict[str, BookingRow] = {}
    for e in events:
        if isinstance(e, Booked):
            if first <= e.date <= last:
                rows[e.code] = BookingRow(e.code, e.service, e.date, parse_slot(e.slot), e.at)
            continue
        code = e.booking if isinstance(e, Issued) else getattr(e, "code", None)
        row = rows.get(code) if code is not None else None
        if row is None or row.status != "booked":
            continue
        row.ended_at = e.at
        if isinstance(e, Issued):
            row.status, row.ticket = "checked_in", e.number
            row.offset_us = micros(e.at - slot_start(config, row.date, row.slot))
        elif isinstance(e, BookingCancelled):
            row.status = "cancelled"
        elif isinstance(e, BookingExpired):
            row.status = "expired"
    return list(rows.values())


@dataclasses.dataclass(frozen=True)
class Offsets:
    """Check-in minus slot start, in minutes (negative: early); None when nobody checked in."""

    n: int = 0
    mean: float | None = None
    median: float | None = None
    p10: float | None = None
    p90: float | None = None
    before_slot: int = 0  # checked in no later than the slot's start

    @classmethod
    def of(cls, micro: Iterable[int]) -> Offsets:
        xs = sorted(micro)
        if not xs:
            return cls()
        unit = 60_000_000
        return cls(len(xs), float(Fraction(sum(xs), len(xs) * unit)), float(quantile(xs, Fraction(1, 2)) / unit),
                   float(quantile(xs, Fraction(1, 10)) / unit), float(quantile(xs, Fraction(9, 10)) / unit),
                   sum(1 for x in xs if x <= 0))

    @property
    def before_slot_share(self) -> float | None:
        return self.before_slot / self.n if self.n else None


def _mean_wait(waits: list[int]) -> float | None:
    return float(Fraction(sum(waits), len(waits) * 60_000_000)) if waits else None


@dataclasses.dataclass(frozen=True)
class BookingFigures:
    """Online and walk-in tickets and the bookings of a service, an agency or everything."""

    online: int
    walk_in: int
    made: int
    checked_in: int
    cancelled: int
    expired: int
    still_open: int
    offsets: Offsets
    online_wait_mean: float | None  # minutes
    walk_in_wait_mean: float | None

    @property
    def online_share(self) -> float | None:
        total = self.online + self.walk_in
        return self.online / total if total else None

    @property
    def no_show_rate(self) -> float | None:
        kept = self.checked_in + self.expired
        return self.expired / kept if kept else None

    @property
    def in_window_share(self) -> float | None:
        kept = self.checked_in + self.expired
        return self.checked_in / kept if kept else None

    @property
    def balanced(self) -> bool:
        return self.made == self.checked_in + self.cancelled + self.expired + self.still_open

    @classmethod
    def of(cls, days: Sequence[Day], rows: Sequence[BookingRow], keep=lambda service: True) -> BookingFigures:
        legs = [leg for day in days for leg in day.legs if leg.via == "issued" and keep(leg.service)]
        mine = [r for r in rows if keep(r.service)]
        count = {s: sum(1 for r in mine if r.status == s) for s in ("booked", "checked_in", "cancelled", "expired")}
        return cls(
            online=sum(1 for leg in legs if leg.booking), walk_in=sum(1 for leg in legs if not leg.booking),
            made=len(mine), checked_in=count["checked_in"], cancelled=count["cancelled"], expired=count["expired"],
            still_open=count["booked"],
            offsets=Offsets.of(r.offset_us for r in mine if r.offset_us is not None),
            online_wait_mean=_mean_wait([leg.wait_us for leg in legs if leg.booking and leg.first_call]),
            walk_in_wait_mean=_mean_wait([leg.wait_us for leg in legs if not leg.booking and leg.first_call]))


@dataclasses.dataclass(frozen=True)
class BookingReport:
    """The bookings part of a report: per service (the site file's), per agency, in total."""

    rows: tuple[BookingRow, ...]
    services: dict[str, BookingFigures]
    agencies: dict[str, BookingFigures]
    total: BookingFigures

    @property
    def shown(self) -> bool:
        """Whether there is anything to say: bookings made, or online tickets."""
        return bool(self.total.made or self.total.online)

    @classmethod
    def of(cls, config: Config, days: Sequence[Day], events: Iterable[Event]) -> BookingReport:
        rows = bookings_of(config, events, days[0].day, days[-1].day)
        return cls(
            rows=tuple(rows),
            services={code: BookingFigures.of(days, rows, lambda s, c=code: s == c) for code in config.services},
            agencies={a.id: BookingFigures.of(days, rows, lambda s, own=set(a.services): s in own)
                      for a in config.agencies},
            total=BookingFigures.of(days, rows))


def booking_span(config: Config, first: dt.date, last: dt.date) -> tuple[str, str]:
    """(since, before): the business days (ISO) whose booking events can speak of bookings
    for `first`..`last` (Store.booking_events)."""
    ahead = max((s.booking.days_ahead for s in config.services.values() if s.booking), default=0)
    ahead = max(ahead, LOOKBACK_DAYS)  # a service may have lost its booking block, or shortened days_ahead
    return ((first - dt.timedelta(days=ahead + 1)).isoformat(), (last + dt.timedelta(days=LATE_DAYS + 1)).isoformat())
