"""The queue's state and how each event changes it: one check and one applier per
event class (the tables `_CHECKS` and `_APPLIERS` at the bottom), so `apply` refuses
what rules.py does not allow and then changes the state, or changes nothing at all.

The state is one business day's: `day` changes only by a `DayStarted`. What the site
file no longer has is kept aside, never in the queue: a ticket of a service that is
gone lives in `gone` (its status only, still checked against the tables), and an event
at a counter that is gone changes the ticket but no counter. `stranded` names the
tickets left waiting or being served that way, which the dispatcher withdraws.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
from collections import deque
from typing import Any, Callable, Iterable

from antrian.errors import TransitionError
from antrian.queue.bookings import Bookings, slot_start
from antrian.queue.events import (Booked, BookingCancelled, BookingExpired, Called, CounterStatusChanged, DayStarted,
                                  Event, Issued, NoShow, Recalled, Served, Transferred, Withdrawn)
from antrian.queue.rules import (COUNTER_EVENTS, TICKET_TRANSITIONS, C, CounterStatus, T, TicketStatus, iso,
                                remote_location)
from antrian.site import Config

RECENT_CALLS = 10
_TICKET_EVENTS = (Called, Recalled, Served, NoShow, Transferred, Withdrawn)


@dataclasses.dataclass
class _Ticket:
    number: str
    service: str
    origin: str
    priority: str | None
    issued_at: dt.datetime
    # The place in its service's queue: (issue time, issue count) for a walk-in, (its
    # slot's start, issue count) for a checked-in booking (DESIGN.md, the ordering rule).
    order: tuple[dt.datetime, int]
    status: TicketStatus = T.WAITING
    counter: str | None = None
    recalls: int = 0
    called_at: dt.datetime | None = None
    call_ordinal: int = 0
    first_called_at: dt.datetime | None = None  # the day's totals: the wait before the first call
    booking: str | None = None  # the code of the booking it checked in


@dataclasses.dataclass
class _Gone:
    """A ticket in a service the site file no longer has: its status and counter only."""

    number: str
    service: str
    status: TicketStatus = T.WAITING
    counter: str | None = None


@dataclasses.dataclass
class _Counter:
    status: CounterStatus
    serving: str | None = None
    streak: int = 0
    reason: str | None = None


class State:
    """The queue of one site on its current business day, changed only by `apply`."""

    def __init__(self, config: Config):
        self.config = config
        self.tz = config.tz
        self.last_seq = 0
        self.bookings = Bookings(config)  # not one day's: it outlives DayStarted (bookings.py)
        self._reset_day(None)

    def _reset_day(self, day: dt.date | None) -> None:
        self.day = day
        self.tickets: dict[str, _Ticket] = {}
        self.gone: dict[str, _Gone] = {}
        self.issued: dict[str, int] = {code: 0 for code in self.config.services}
        self.checked_in: dict[str, int] = {code: 0 for code in self.config.services}  # of issued: bookings
        self.calls_made: dict[str, int] = {code: 0 for code in self.config.services}
        self.waiting: dict[str, int] = {code: 0 for code in self.config.services}
        self.waiting_priority: dict[str, int] = {code: 0 for code in self.config.services}
        # The newest (order) ever queued per service and kind, so the common case --
        # "how many are ahead of the ticket just issued" -- is a count, not a scan.
        self._newest: dict[tuple[str, int], tuple[dt.datetime, int]] = {}
        # Per service, a heap of (order, number) for priority and for normal tickets.
        # Entries are removed lazily: one is live only while its ticket waits there.
        self._heaps: dict[str, tuple[list, list]] = {code: ([], []) for code in self.config.services}
        self.counters = {c.id: _Counter(C.OPEN if c.open_at_start else C.CLOSED) for c in self.config.counters.values()}
        self.recent: deque[dict] = deque(maxlen=RECENT_CALLS)
        self.durations: dict[str, deque[float]] = {
            code: deque(maxlen=self.config.queue.recent_services) for code in self.config.services}
        self._order = 0

    # -- applying -------------------------------------------------------------------

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        """Apply one event; TransitionError, and no change at all, if the tables do not
        allow it here (see rules.py)."""
        kind = type(event)
        if kind not in _APPLIERS:
            self._refuse(event, "unknown event kind")
        if self.day is None and kind is not DayStarted:
            self._refuse(event, "no business day has started")
        _CHECKS[kind](self, event)
        _APPLIERS[kind](self, event)

    def replay(self, day: dt.date, events: Iterable[Event]) -> None:
        """Apply the stored events of business day `day`. A day stored before days were
        opened by an event starts with another event: the day is opened for it here.
        TransitionError, with `position` the index of the refused event, if one cannot be."""
        events = list(events)
        if events and not isinstance(events[0], DayStarted):
            self.apply(DayStarted(at=events[0].at, day=day))
        for i, event in enumerate(events):
            try:
                self.apply(event)
            except TransitionError as exc:
                exc.position = i
                raise

    def stranded(self) -> list[tuple[str, str]]:
        """(number, why) of the tickets still waiting or being served that nobody can
        serve: their service, or the counter serving them, left the site file."""
        out = [(g.number, f"service {g.service} is no longer in the site file")
               for g in self.gone.values() if g.status in (T.WAITING, T.SERVING)]
        out += [(t.number, f"counter {t.counter} is no longer in the site file")
                for t in self.tickets.values() if t.status == T.SERVING and t.counter not in self.counters]
        return out

    # -- checks: raise TransitionError, change nothing ----------------------------------

    @staticmethod
    def _refuse(event: Event, why: str) -> None:
        fields = ", ".join(f"{k}={v}" for k, v in vars(event).items() if k != "at")
        raise TransitionError(f"{event.kind or type(event).__name__} at {event.at.isoformat()} ({fields}): {why}")

    def _check_day(self, e: DayStarted) -> None:
        if self.day is not None and e.day <= self.day:
            self._refuse(e, f"the business day {self.day} is open; a day never goes back")

    def _check_issued(self, e: Issued) -> None:
        if e.number in self.tickets or e.number in self.gone:
            self._refuse(e, "that number was already issued today")
        if e.booking is not None:
            self.bookings.check(e)

    def _check_booking(self, e: Any) -> None:
        self.bookings.check(e)

    def _check_ticket(self, e: Any) -> None:
        ticket = self.tickets.get(e.number) or self.gone.get(e.number)
        if ticket is None:
            self._refuse(e, "no such ticket today")
        if (ticket.status, type(e)) not in TICKET_TRANSITIONS:
            self._refuse(e, f"a {ticket.status} ticket cannot be {e.kind}")
        if isinstance(e, Withdrawn):
            return
        if not isinstance(e, Called) and ticket.counter != e.counter:
            self._refuse(e, "the counter is not serving that ticket")
        counter = self.counters.get(e.counter)
        if counter is None:
            return  # a counter the site file no longer has: the ticket changes, no counter does
        if type(e) not in COUNTER_EVENTS[counter.status]:
            self._refuse(e, f"not at a {counter.status} counter")
        if isinstance(e, Called) and counter.serving is not None:
            self._refuse(e, f"the counter is still serving {counter.serving}")
        if not isinstance(e, Called) and e.number in self.tickets and counter.serving != e.number:
            self._refuse(e, "the counter is not serving that ticket")

    def _check_status(self, e: CounterStatusChanged) -> None:
        if e.status not in tuple(CounterStatus):
            self._refuse(e, "not a counter status")

    # -- appliers: the tables allowed it --------------------------------------------------

    def _on_day(self, e: DayStarted) -> None:
        self._reset_day(e.day)
        self.bookings.forget_before(e.day - dt.timedelta(days=1))  # yesterday's still looked up

    def _on_issued(self, e: Issued) -> None:
        if e.service not in self.config.services:
            self.gone[e.number] = _Gone(e.number, e.service)
            if e.booking is not None:
                self.bookings.apply(e)
            return
        self._order += 1
        self.issued[e.service] += 1
        queued_at = e.at
        if e.booking is not None:
            self.bookings.apply(e)
            self.checked_in[e.service] += 1
            b = self.bookings.get(e.booking)  # None: a day replayed without its bookings (a report)
            queued_at = slot_start(self.config, b.date, b.slot) if b is not None else e.at
        t = _Ticket(e.number, e.service, e.service, e.priority, e.at, (queued_at, self._order), booking=e.booking)
        self.tickets[t.number] = t
        self._enqueue(t)

    def _on_booking(self, e: Any) -> None:
        self.bookings.apply(e)

    def _moved(self, e: Any) -> _Ticket | None:
        """Move a ticket along the table; the queue's ticket, or None for one kept aside."""
        t = self.tickets.get(e.number) or self.gone[e.number]
        before, t.status = t.status, TICKET_TRANSITIONS[(t.status, type(e))]
        if isinstance(t, _Gone):
            return None
        if before == T.WAITING and t.status != T.WAITING:
            self._dequeue(t)
        return t

    def _on_called(self, e: Called) -> None:
        self.last_seq = max(self.last_seq, e.seq)
        if (t := self._moved(e)) is None:
            self.gone[e.number].counter = e.counter
            return
        t.counter, t.called_at, t.recalls = e.counter, e.at, 0
        t.first_called_at = t.first_called_at or e.at
        self.calls_made[t.service] += 1
        t.call_ordinal = self.calls_made[t.service]
        if (c := self.counters.get(e.counter)) is not None:
            c.serving = t.number
            if e.via == "next":
                c.streak = c.streak + 1 if t.priority else 0
            self.recent.appendleft(self._call_payload(t, e.counter, e.seq, False, e.at))

    def _on_recalled(self, e: Recalled) -> None:
        self.last_seq = max(self.last_seq, e.seq)
        if (t := self._moved(e)) is not None:
            t.recalls += 1
            if e.counter in self.counters:
                self.recent.appendleft(self._call_payload(t, e.counter, e.seq, True, e.at))

    def _on_served(self, e: Served) -> None:
        t = self._moved(e)
        if t is not None and t.called_at is not None:
            # A day stored before stamps were kept from going back (a Pi's clock stepped
            # back mid-service) can hold a negative duration: it counts as zero, never as
            # a negative estimated wait.
            self.durations[t.service].append(max(0.0, (e.at - t.called_at).total_seconds() / 60))
        self._free(e.counter, e.number)

    def _on_no_show(self, e: NoShow) -> None:
        self._moved(e)
        self._free(e.counter, e.number)

    def _on_transferred(self, e: Transferred) -> None:
        t = self._moved(e)
        self._free(e.counter, e.number)
        if t is None:
            g = self.gone[e.number]
            g.service, g.counter = e.to_service, None
        elif e.to_service in self.config.services:
            t.service, t.counter, t.recalls = e.to_service, None, 0
            self._enqueue(t)
        else:  # into a service the site file no longer has: aside from now on
            del self.tickets[t.number]
            self.gone[t.number] = _Gone(t.number, e.to_service)

    def _on_status(self, e: CounterStatusChanged) -> None:
        if (c := self.counters.get(e.counter)) is not None:
            c.status, c.reason = CounterStatus(e.status), e.reason

    def _on_withdrawn(self, e: Withdrawn) -> None:
        t = self._moved(e)
        if t is not None and t.counter is not None:
            self._free(t.counter, t.number)

    def _free(self, counter: str, number: str) -> None:
        c = self.counters.get(counter)
        if c is not None and c.serving == number:
            c.serving = None

    def _enqueue(self, t: _Ticket) -> None:
        which = 0 if t.priority else 1
        heapq.heappush(self._heaps[t.service][which], (t.order, t.number))
        key = (t.service, which)
        self._newest[key] = max(self._newest.get(key, t.order), t.order)
        self.waiting[t.service] += 1
        if t.priority:
            self.waiting_priority[t.service] += 1

    def _dequeue(self, t: _Ticket) -> None:
        # Only the counts change here; the heap entry dies lazily (engine.py, _live).
        self.waiting[t.service] -= 1
        if t.priority:
            self.waiting_priority[t.service] -= 1

    def _call_payload(self, t: _Ticket, counter: str, seq: int, recall: bool, at: dt.datetime) -> dict[str, Any]:
        """The Call message of the wire contract (docs/protocol.md)."""
        svc = self.config.services[t.service]
        desk = self.config.counters[counter]
        return {"seq": seq, "number": t.number, "service": svc.code, "service_name": svc.name,
                "counter": counter, "counter_name": desk.name, "recall": recall, "at": iso(at, self.tz),
                **remote_location(desk), **_booked(t)}


# One check and one applier per event class: `apply` dispatches through these.
_CHECKS: dict[type[Event], Callable[[State, Any], None]] = {
    DayStarted: State._check_day, Issued: State._check_issued, CounterStatusChanged: State._check_status,
    **{cls: State._check_ticket for cls in _TICKET_EVENTS},
    **{cls: State._check_booking for cls in (Booked, BookingCancelled, BookingExpired)}}
_APPLIERS: dict[type[Event], Callable[[State, Any], None]] = {
    DayStarted: State._on_day, Issued: State._on_issued, Called: State._on_called, Recalled: State._on_recalled,
    Served: State._on_served, NoShow: State._on_no_show, Transferred: State._on_transferred,
    CounterStatusChanged: State._on_status, Withdrawn: State._on_withdrawn,
    **{cls: State._on_booking for cls in (Booked, BookingCancelled, BookingExpired)}}


def _booked(t: _Ticket) -> dict[str, Any]:
    """`"booking": true` for a checked-in booking's ticket (boards mark it), never its code;
    absent for a walk-in."""
    return {"booking": True} if t.booking else {}
