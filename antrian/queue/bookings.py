"""The bookings of a site: their life as a table, the book that holds them, and the
slots and windows of the site file's `booking:` blocks.

Bookings outlive a business day (a slot is booked days ahead), so the book is not part
of one day's state: the engine keeps one `Bookings` beside it (state.py), fed by the
same events from the same store -- `Booked`, `BookingCancelled`, `BookingExpired`, and
the `Issued` that checks one in. The dispatcher rebuilds it at start from the booking
events of the days a booking can still be open (antrian/dispatcher/history.py).

Counting, which the decisions of booking.py read:

- a slot's and a day's places are taken by every booking not cancelled (an expired one
  kept its place: the slot is past), so a cancel gives the place back;
- a person (the keyed hash of a phone or a NIK) has at most one *active* booking -- booked
  or checked in -- per service and day; a cancelled or expired one does not count.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
from collections import Counter
from typing import Any, Iterable

from antrian.errors import TransitionError
from antrian.queue.codes import display
from antrian.queue.events import BOOKING_EVENTS, Booked, BookingCancelled, BookingExpired, BookingStatus, Event, Issued
from antrian.queue.rules import iso
from antrian.site import Config, Service

__all__ = ["BOOKING_TRANSITIONS", "B", "Bookings", "checkin_window", "slot_start", "slot_starts"]

B = BookingStatus

# The life of a booking: (status before, event class) -> status after; None: not booked yet.
BOOKING_TRANSITIONS: dict[tuple[BookingStatus | None, type[Event]], BookingStatus] = {
    (None, Booked): B.BOOKED,
    (B.BOOKED, Issued): B.CHECKED_IN,
    (B.BOOKED, BookingCancelled): B.CANCELLED,
    (B.BOOKED, BookingExpired): B.EXPIRED,
}
# The statuses that hold a place in their slot and day, and those that are a person's one booking.
HOLDS_PLACE = frozenset({B.BOOKED, B.CHECKED_IN, B.EXPIRED})
ACTIVE = frozenset({B.BOOKED, B.CHECKED_IN})


def slot_starts(config: Config, svc: Service, day: dt.date) -> tuple[dt.time, ...]:
    """The start times of a service's slots on `day` (none on a holiday or a closed day)."""
    if svc.booking is None or day in config.holidays:
        return ()
    return svc.booking.starts(config.schedules[svc.schedule].spans(day))


def slot_start(config: Config, day: dt.date, slot: dt.time) -> dt.datetime:
    """A slot's start as a time in the site's zone."""
    return dt.datetime.combine(day, slot, tzinfo=config.tz)


def checkin_window(config: Config, service: str, day: dt.date, slot: dt.time) -> tuple[dt.datetime, dt.datetime]:
    """(from, until) of a booking's check-in at the kiosk; a service that lost its
    booking block since keeps a window of its slot's start only."""
    start = slot_start(config, day, slot)
    svc = config.services.get(service)
    rules = svc.booking if svc is not None else None
    if rules is None:
        return start, start
    return (start - dt.timedelta(minutes=rules.checkin_early_min),
            start + dt.timedelta(minutes=rules.checkin_late_min))


def parse_slot(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


@dataclasses.dataclass
class _Booking:
    code: str
    service: str
    date: dt.date
    slot: dt.time
    phone: str
    nik: str | None
    booked_at: dt.datetime
    status: BookingStatus = B.BOOKED
    ticket: str | None = None


class Bookings:
    """Every booking the engine knows, by code, with the counts the rules need."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.by_code: dict[str, _Booking] = {}
        self.taken: Counter[tuple[str, dt.date, dt.time]] = Counter()  # (service, date, slot) -> places
        self.day_taken: Counter[tuple[str, dt.date]] = Counter()
        self.people: dict[tuple[str, str, dt.date], str] = {}  # (person key, service, date) -> code
        self._deadlines: list[tuple[dt.datetime, str]] = []  # (check-in until, code), lazily pruned
        self.no_shows: Counter[tuple[str, dt.date]] = Counter()

    def forget_before(self, day: dt.date) -> None:
        """Drop the bookings of days before `day` that are settled: over, and a running
        dispatcher must not keep every booking of every day (a restart loads only recent
        days anyway). One still booked stays until it has expired (a booking no-show)."""
        old = [b for b in self.by_code.values() if b.date < day and b.status != B.BOOKED]
        open_days = {(b.service, b.date) for b in self.by_code.values() if b.date < day and b.status == B.BOOKED}
        for b in old:
            del self.by_code[b.code]
            for key in (b.phone, b.nik):
                if key and self.people.get((key, b.service, b.date)) == b.code:
                    del self.people[(key, b.service, b.date)]
        for counts in (self.taken, self.day_taken, self.no_shows):
            for key in [k for k in counts if k[1] < day and (k[0], k[1]) not in open_days]:
                del counts[key]

    def get(self, code: str) -> _Booking | None:
        return self.by_code.get(code)

    def holder(self, keys: Iterable[str | None], service: str, day: dt.date) -> str | None:
        """The code of an active booking of any of these person keys for that service and day."""
        return next((self.people[k] for k in ((key, service, day) for key in keys if key) if k in self.people), None)

    def due(self, now: dt.datetime) -> list[str]:
        """The codes still booked whose check-in window ended before `now`, earliest first."""
        out = []
        while self._deadlines and self._deadlines[0][0] < now:
            _, code = heapq.heappop(self._deadlines)
            b = self.by_code.get(code)
            if b is not None and b.status == B.BOOKED:
                out.append(code)
        for code in out:  # still booked until their BookingExpired is applied
            b = self.by_code[code]
            heapq.heappush(self._deadlines, (checkin_window(self.config, b.service, b.date, b.slot)[1], code))
        return out

    # -- the table --------------------------------------------------------------------

    def check(self, e: Event) -> None:
        """TransitionError unless the table allows `e` for its booking."""
        code = e.booking if isinstance(e, Issued) else e.code
        b = self.by_code.get(code)
        if b is None and not isinstance(e, Booked):
            return  # a booking made on a day this engine was not given (one day replayed for a report)
        before = b.status if b is not None else None
        if (before, type(e)) not in BOOKING_TRANSITIONS:
            raise TransitionError(f"{e.kind} at {e.at.isoformat()} (booking {code}): "
                                  f"not for a booking that is {before or 'unknown'}")
        if isinstance(e, Issued) and e.service != b.service:
            raise TransitionError(f"{e.kind} at {e.at.isoformat()} (booking {code}): "
                                  f"the booking is for {b.service}, not {e.service}")

    def apply(self, e: Event) -> None:
        """Apply an event the table allows (`check` first)."""
        if isinstance(e, Booked):
            slot = parse_slot(e.slot)
            b = _Booking(e.code, e.service, e.date, slot, e.phone, e.nik, e.at)
            self.by_code[e.code] = b
            self.taken[(b.service, b.date, b.slot)] += 1
            self.day_taken[(b.service, b.date)] += 1
            for key in (b.phone, b.nik):
                if key:
                    self.people[(key, b.service, b.date)] = b.code
            heapq.heappush(self._deadlines, (checkin_window(self.config, b.service, b.date, slot)[1], b.code))
            return
        code = e.booking if isinstance(e, Issued) else e.code
        b = self.by_code.get(code)
        if b is None:
            return  # see check
        b.status = BOOKING_TRANSITIONS[(b.status, type(e))]
        if isinstance(e, Issued):
            b.ticket = e.number
        if b.status not in HOLDS_PLACE:
            self.taken[(b.service, b.date, b.slot)] -= 1
            self.day_taken[(b.service, b.date)] -= 1
        if b.status not in ACTIVE:
            for key in (b.phone, b.nik):
                if key and self.people.get((key, b.service, b.date)) == b.code:
                    del self.people[(key, b.service, b.date)]
        if b.status == B.EXPIRED:
            self.no_shows[(b.service, b.date)] += 1

    def load(self, events: Iterable[Event]) -> None:
        """Apply the booking events of the days before the engine's (the rebuild at start);
        the walk-in tickets among them are not the book's business."""
        for e in events:
            if isinstance(e, Issued) and e.booking is None or not isinstance(e, (*BOOKING_EVENTS, Issued)):
                continue
            if not isinstance(e, Booked) and (e.booking if isinstance(e, Issued) else e.code) not in self.by_code:
                continue  # of a booking made before the days loaded: long over
            self.check(e)
            self.apply(e)

    def payload(self, code: str) -> dict[str, Any]:
        """The Booking of the wire contract (docs/protocol.md), without personal data."""
        b = self.by_code[code]
        svc = self.config.services.get(b.service)
        opens, until = checkin_window(self.config, b.service, b.date, b.slot)
        return {"code": display(b.code), "service": b.service, "service_name": svc.name if svc else b.service,
                "date": b.date.isoformat(), "slot": f"{b.slot:%H:%M}", "checkin_from": iso(opens, self.config.tz),
                "checkin_until": iso(until, self.config.tz), "status": str(b.status), "ticket": b.ticket}
