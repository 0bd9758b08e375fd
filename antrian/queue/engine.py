"""The queue rules of DESIGN.md, pure: no I/O, the clock passed in.

Every change is an event (events.py). A request or command is first *decided*
against the current state -- which checks the rules and returns the events it
causes, leaving the state untouched -- and the caller applies those events once they
are stored (state.py). Replaying the stored events through `apply` rebuilds exactly
the same state after a restart.

    engine = Engine(config)
    engine.apply(DayStarted(at=now, day=today))   # the owner opens the business day
    outcome = engine.issue("KTP", None, now)      # QueueError if refused
    store.commit(outcome.events, ...) ; engine.apply_all(outcome.events)

The business day is explicit: only a `DayStarted` changes it, and the owner of the
engine (the dispatcher) decides when one is due. Decisions and views work on the
current business day whatever the clock says; they never look at the calendar.
"""

from __future__ import annotations

import heapq
import datetime as dt
from typing import Any

from antrian.errors import QueueError, TransitionError
from antrian.queue.events import (EVENT_KINDS, Called, CounterStatusChanged, DayStarted, Event, Issued, NoShow,
                                  Recalled, Served, Transferred, Withdrawn)
from antrian.queue.rules import (COUNTER_ACTIONS, C, Outcome, T, availability, format_number, iso,
                                 normalize_number)
from antrian.queue.booking import BookingDesk
from antrian.queue.state import RECENT_CALLS, State, _Counter, _Ticket
from antrian.queue.views import Views

__all__ = ["EVENT_KINDS", "RECENT_CALLS", "DayStarted", "Engine", "Event", "Outcome", "QueueError", "TransitionError",
           "availability", "format_number", "iso", "normalize_number"]


class Engine(State, Views, BookingDesk):
    """The queue of one site: decides (issue, command, and the bookings of booking.py),
    applies events (state.py), and answers views (views.py) -- the only things callers read."""

    # -- decisions (no state change) -------------------------------------------

    def _require_day(self) -> None:
        if self.day is None:
            raise TransitionError("no business day has started: the owner applies a DayStarted first")

    def withdraw_stranded(self, now: dt.datetime) -> Outcome:
        """Withdraw every ticket still waiting or being served whose service, or the
        counter serving it, is no longer in the site file (State.stranded)."""
        return Outcome(tuple(Withdrawn(at=now, number=number, reason=why) for number, why in self.stranded()))

    def issue(self, service: str, priority: str | None, now: dt.datetime) -> Outcome:
        self._require_day()
        svc = self.config.services.get(service) if isinstance(service, str) else None
        if svc is None:
            raise QueueError("unknown_service", f"Layanan '{service}' tidak dikenal")
        if priority is not None and priority not in {g.id for g in self.config.priority_groups}:
            raise QueueError("bad_request", f"Kelompok prioritas '{priority}' tidak dikenal")
        reason = availability(self.config, svc, now)
        if reason is not None:
            raise QueueError("service_closed", f"{svc.name}: {reason}")
        # A service taking bookings keeps the share of its quota they can still use; the rest is for walk-ins.
        quota = self.walk_in_quota(svc.code, now)
        if quota is not None and self.walk_ins(svc.code) >= quota:
            raise QueueError("quota_exhausted", f"Kuota {svc.name} hari ini sudah habis")
        # Past its last_ticket (in availability) or, by the estimate, not called before closing.
        reason = self.too_late(svc.code, now)
        if reason is not None:
            raise QueueError("service_closed", f"{svc.name}: {reason}")
        number = format_number(svc.prefix, self.issued[svc.code] + 1)
        event = Issued(at=now, number=number, service=svc.code, priority=priority)
        return Outcome((event,), number)

    def command(self, counter: str, action: str, args: dict[str, Any], now: dt.datetime) -> Outcome:
        self._require_day()
        if counter not in self.counters:
            raise QueueError("unknown_counter", f"Loket '{counter}' tidak dikenal")
        rule = self._RULES.get(action) if isinstance(action, str) else None
        if rule is None:
            raise QueueError("bad_request", f"Perintah '{action}' tidak dikenal")
        state = self.counters[counter]
        if action not in COUNTER_ACTIONS[state.status]:
            raise QueueError("counter_closed", "Loket sedang tutup; buka loket terlebih dahulu")
        return rule(self, counter, state, args, now)

    def _finish_current(self, counter: str, state: _Counter, now: dt.datetime) -> list[Event]:
        if state.serving is None:
            return []
        return [Served(at=now, number=state.serving, counter=counter)]

    def _resume(self, counter: str, state: _Counter, now: dt.datetime) -> list[Event]:
        # Pressing NEXT after a break means the officer is back.
        if state.status == C.PAUSED:
            return [CounterStatusChanged(at=now, counter=counter, status=C.OPEN, reason=None)]
        return []

    def _call(self, counter: str, ticket: _Ticket, now: dt.datetime, via: str) -> Event:
        return Called(at=now, number=ticket.number, counter=counter, seq=self.last_seq + 1, via=via)

    def _call_next(self, counter, state, args, now) -> Outcome:
        events = self._finish_current(counter, state, now) + self._resume(counter, state, now)
        ticket = self._next_for(counter, state)
        if ticket is None:
            return Outcome(tuple(events), None, QueueError("queue_empty", "Tidak ada antrean yang menunggu"))
        events.append(self._call(counter, ticket, now, "next"))
        return Outcome(tuple(events), ticket.number)

    def _call_number(self, counter, state, args, now) -> Outcome:
        number = normalize_number(args.get("number"))
        if number is None:
            raise QueueError("bad_request", "Nomor antrean tidak valid")
        ticket = self.tickets.get(number)
        if ticket is None:
            raise QueueError("bad_request", f"Nomor {number} tidak ada dalam antrean hari ini")
        if ticket.service not in self.config.counters[counter].services:
            raise QueueError("bad_request", f"Nomor {number} bukan untuk layanan loket ini")
        if ticket.status == T.NO_SHOW:
            later = self.calls_made[ticket.service] - ticket.call_ordinal
            if later >= self.config.queue.late_tolerance:
                raise QueueError("bad_request", f"Nomor {number} sudah melewati batas toleransi keterlambatan")
        elif ticket.status != T.WAITING:
            raise QueueError("bad_request", f"Nomor {number} sudah dipanggil")
        events = self._finish_current(counter, state, now) + self._resume(counter, state, now)
        events.append(self._call(counter, ticket, now, "number"))
        return Outcome(tuple(events), number)

    def _serving(self, state: _Counter) -> _Ticket:
        if state.serving is None:
            raise QueueError("not_serving", "Loket ini tidak sedang melayani nomor antrean")
        return self.tickets[state.serving]

    def _recall(self, counter, state, args, now) -> Outcome:
        ticket = self._serving(state)
        if ticket.recalls >= self.config.queue.max_recalls:
            raise QueueError("recall_limit", f"Nomor {ticket.number} sudah dipanggil ulang "
                                             f"{self.config.queue.max_recalls} kali")
        event = Recalled(at=now, number=ticket.number, counter=counter, seq=self.last_seq + 1)
        return Outcome((event,), ticket.number)

    def _no_show(self, counter, state, args, now) -> Outcome:
        ticket = self._serving(state)
        return Outcome((NoShow(at=now, number=ticket.number, counter=counter),), ticket.number)

    def _finish(self, counter, state, args, now) -> Outcome:
        ticket = self._serving(state)
        return Outcome(tuple(self._finish_current(counter, state, now)), ticket.number)

    def _transfer(self, counter, state, args, now) -> Outcome:
        to = args.get("to_service")
        if not isinstance(to, str) or to not in self.config.services:
            raise QueueError("unknown_service", f"Layanan tujuan '{to}' tidak dikenal")
        ticket = self._serving(state)
        if to == ticket.service:
            raise QueueError("bad_request", f"Nomor {ticket.number} sudah berada di layanan itu")
        event = Transferred(at=now, number=ticket.number, counter=counter, from_service=ticket.service, to_service=to)
        return Outcome((event,), ticket.number)

    def _status(self, counter, state, now, status, reason=None) -> Outcome:
        events = self._finish_current(counter, state, now) if status == C.CLOSED else []
        if state.status != status or state.reason != reason:
            events.append(CounterStatusChanged(at=now, counter=counter, status=status, reason=reason))
        return Outcome(tuple(events), None if status == C.CLOSED else state.serving)

    def _open(self, counter, state, args, now) -> Outcome:
        return self._status(counter, state, now, C.OPEN)

    def _pause(self, counter, state, args, now) -> Outcome:
        reason = args.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 200):
            raise QueueError("bad_request", "Alasan jeda harus berupa teks (paling banyak 200 huruf)")
        return self._status(counter, state, now, C.PAUSED, reason)

    def _close(self, counter, state, args, now) -> Outcome:
        return self._status(counter, state, now, C.CLOSED)

    # One rule per action of the wire contract (antrian.protocol.ACTIONS); which of them
    # a counter may use in each status is rules.COUNTER_ACTIONS.
    _RULES = {"call_next": _call_next, "recall": _recall, "no_show": _no_show, "finish": _finish,
              "transfer": _transfer, "call_number": _call_number, "open": _open, "pause": _pause, "close": _close}

    def _live(self, entry: tuple[int, str], service: str) -> bool:
        t = self.tickets.get(entry[1])
        return t is not None and t.status == T.WAITING and t.service == service

    def _head(self, service: str, which: int) -> _Ticket | None:
        heap = self._heaps[service][which]
        while heap and not self._live(heap[0], service):
            heapq.heappop(heap)
        return self.tickets[heap[0][1]] if heap else None

    def _next_for(self, counter: str, state: _Counter) -> _Ticket | None:
        """Longest-waiting ticket among the counter's services, priority first within the streak limit."""
        services = self.config.counters[counter].services
        prio = [t for t in (self._head(s, 0) for s in services) if t]
        normal = [t for t in (self._head(s, 1) for s in services) if t]
        first = min(prio, key=lambda t: t.order, default=None)
        oldest = min(normal, key=lambda t: t.order, default=None)
        if first is not None and (oldest is None or state.streak < self.config.queue.priority_streak):
            return first
        return oldest
