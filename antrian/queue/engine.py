"""The queue rules of DESIGN.md, pure: no I/O, the clock passed in.

Every change is an `Event`. A request or command is first *decided* against the
current state -- which checks the rules and returns the events it causes, leaving the
state untouched -- and the caller applies those events once they are stored. Replaying
the stored events through `apply` rebuilds exactly the same state after a restart.

    engine = Engine(config)
    outcome = engine.issue("KTP", None, now)      # QueueError if refused
    store.append(outcome.events) ; engine.apply_all(outcome.events)

The business day is derived from each event's time in the site's time zone: the
first event (or decision) of a new local day starts numbering again at 1.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
from collections import deque
from typing import Any, Iterable

from antrian.errors import QueueError, TransitionError
from antrian.queue.rules import (COUNTER_ACTIONS, COUNTER_EVENTS, EVENT_KINDS, TICKET_TRANSITIONS, C, CounterStatus,
                                 Event, Outcome, T, TicketStatus, availability, format_number, iso, normalize_number)
from antrian.queue.views import Views
from antrian.site import Config

__all__ = ["EVENT_KINDS", "Engine", "Event", "Outcome", "QueueError", "TransitionError", "availability",
           "format_number", "iso", "normalize_number"]

RECENT_CALLS = 10


@dataclasses.dataclass
class _Ticket:
    number: str
    service: str
    origin: str
    priority: str | None
    issued_at: dt.datetime
    order: int
    status: TicketStatus = T.WAITING
    counter: str | None = None
    recalls: int = 0
    called_at: dt.datetime | None = None
    call_ordinal: int = 0


@dataclasses.dataclass
class _Counter:
    status: CounterStatus
    serving: str | None = None
    streak: int = 0
    reason: str | None = None


class Engine(Views):
    """The queue of one site: decides (issue, command), applies events, and answers
    views (views.py) -- the only things callers read."""

    def __init__(self, config: Config):
        self.config = config
        self.tz = config.tz
        self.last_seq = 0
        self.day: dt.date | None = None
        self._next: Engine | None = None  # the next day's empty queue, for decisions and views
        self._reset_day(None)

    # -- the business day -------------------------------------------------------

    def business_day(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.tz).date()

    def _reset_day(self, day: dt.date | None) -> None:
        self.day = day
        self.tickets: dict[str, _Ticket] = {}
        self.issued: dict[str, int] = {code: 0 for code in self.config.services}
        self.calls_made: dict[str, int] = {code: 0 for code in self.config.services}
        self.waiting: dict[str, int] = {code: 0 for code in self.config.services}
        self.waiting_priority: dict[str, int] = {code: 0 for code in self.config.services}
        # The newest (order) ever queued per service and kind, so the common case --
        # "how many are ahead of the ticket just issued" -- is a count, not a scan.
        self._newest: dict[tuple[str, int], int] = {}
        # Per service, a heap of (order, number) for priority and for normal tickets.
        # Entries are removed lazily: one is live only while its ticket waits there.
        self._heaps: dict[str, tuple[list, list]] = {code: ([], []) for code in self.config.services}
        self.counters = {c.id: _Counter(C.OPEN if c.open_at_start else C.CLOSED) for c in self.config.counters.values()}
        self.recent: deque[dict] = deque(maxlen=RECENT_CALLS)
        self.durations: dict[str, deque[float]] = {
            code: deque(maxlen=self.config.queue.recent_services) for code in self.config.services}
        self._order = 0

    def roll(self, now: dt.datetime) -> bool:
        """Start a new business day if `now` is past local midnight; True if it did.

        Only the owner of the engine calls this (the dispatcher, before a batch), and
        `apply` does it for an event of a new day; decisions and views never do."""
        day = self.business_day(now)
        if self.day is None or day > self.day:
            self._reset_day(day)
            self._next = None
            return True
        return False

    def _at(self, now: dt.datetime) -> Engine:
        """The queue as it stands at `now`, without changing this engine: itself, or
        past local midnight a new day's empty queue (kept until this engine rolls)."""
        day = self.business_day(now)
        if self.day is None or day <= self.day:
            return self
        if self._next is None or self._next.day != day:
            fresh = Engine(self.config)
            fresh.last_seq = self.last_seq
            fresh.roll(now)
            self._next = fresh
        return self._next

    # -- decisions (no state change) -------------------------------------------

    def issue(self, service: str, priority: str | None, now: dt.datetime) -> Outcome:
        if (today := self._at(now)) is not self:
            return today.issue(service, priority, now)
        svc = self.config.services.get(service) if isinstance(service, str) else None
        if svc is None:
            raise QueueError("unknown_service", f"Layanan '{service}' tidak dikenal")
        if priority is not None and priority not in {g.id for g in self.config.priority_groups}:
            raise QueueError("bad_request", f"Kelompok prioritas '{priority}' tidak dikenal")
        reason = availability(self.config, svc, now)
        if reason is not None:
            raise QueueError("service_closed", f"{svc.name}: {reason}")
        if svc.quota is not None and self.issued[svc.code] >= svc.quota:
            raise QueueError("quota_exhausted", f"Kuota {svc.name} hari ini sudah habis")
        number = format_number(svc.prefix, self.issued[svc.code] + 1)
        event = Event("issued", now, {"number": number, "service": svc.code, "priority": priority})
        return Outcome((event,), number)

    def command(self, counter: str, action: str, args: dict[str, Any], now: dt.datetime) -> Outcome:
        if (today := self._at(now)) is not self:
            return today.command(counter, action, args, now)
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
        return [Event("served", now, {"number": state.serving, "counter": counter})]

    def _resume(self, counter: str, state: _Counter, now: dt.datetime) -> list[Event]:
        # Pressing NEXT after a break means the officer is back.
        if state.status == C.PAUSED:
            return [Event("counter_status", now, {"counter": counter, "status": C.OPEN.value, "reason": None})]
        return []

    def _call(self, counter: str, ticket: _Ticket, now: dt.datetime, via: str) -> Event:
        return Event("called", now, {"number": ticket.number, "counter": counter, "seq": self.last_seq + 1,
                                     "via": via})

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
        event = Event("recalled", now, {"number": ticket.number, "counter": counter, "seq": self.last_seq + 1})
        return Outcome((event,), ticket.number)

    def _no_show(self, counter, state, args, now) -> Outcome:
        ticket = self._serving(state)
        return Outcome((Event("no_show", now, {"number": ticket.number, "counter": counter}),), ticket.number)

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
        event = Event("transferred", now, {"number": ticket.number, "counter": counter,
                                           "from_service": ticket.service, "to_service": to})
        return Outcome((event,), ticket.number)

    def _status(self, counter, state, now, status, reason=None) -> Outcome:
        events = self._finish_current(counter, state, now) if status == C.CLOSED else []
        if state.status != status or state.reason != reason:
            events.append(Event("counter_status", now, {"counter": counter, "status": status.value, "reason": reason}))
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

    # -- applying events ----------------------------------------------------------

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: Event) -> None:
        """Apply one stored event; TransitionError, and no change at all, if the tables
        do not allow it (see rules.py)."""
        self._at(event.at)._check(event)
        self.roll(event.at)
        d = event.data
        if event.kind == "issued":
            self._order += 1
            svc = self.config.services[d["service"]]
            self.issued[svc.code] += 1
            t = _Ticket(d["number"], svc.code, svc.code, d["priority"], event.at, self._order)
            self.tickets[t.number] = t
            self._enqueue(t)
            return
        if event.kind == "counter_status":
            c = self.counters[d["counter"]]
            c.status, c.reason = CounterStatus(d["status"]), d.get("reason")
            return
        t, c = self.tickets[d["number"]], self.counters[d["counter"]]
        before, t.status = t.status, TICKET_TRANSITIONS[(t.status, event.kind)]
        if event.kind in ("called", "recalled"):
            self.last_seq = max(self.last_seq, d["seq"])
            if event.kind == "called":
                self._dequeue(t, before)
                t.counter, t.called_at, t.recalls = d["counter"], event.at, 0
                self.calls_made[t.service] += 1
                t.call_ordinal = self.calls_made[t.service]
                c.serving = t.number
                if d.get("via") == "next":
                    c.streak = c.streak + 1 if t.priority else 0
            else:
                t.recalls += 1
            self.recent.appendleft(self._call_payload(t, d["counter"], d["seq"], event.kind == "recalled", event.at))
        elif event.kind in ("served", "no_show"):
            if event.kind == "served" and t.called_at is not None:
                self.durations[t.service].append((event.at - t.called_at).total_seconds() / 60)
            c.serving = None
        elif event.kind == "transferred":
            t.service, t.counter, t.recalls = d["to_service"], None, 0
            c.serving = None
            self._enqueue(t)

    def _check(self, event: Event) -> None:
        """Raise TransitionError unless the tables allow `event` in the current state."""
        d = event.data

        def refuse(why: str) -> None:
            raise TransitionError(f"{event.kind} at {event.at.isoformat()} ({d}): {why}")

        if event.kind not in EVENT_KINDS:
            refuse("unknown event kind")
        if event.kind == "issued":
            if d.get("service") not in self.config.services:
                refuse("no such service in the site file")
            if d.get("number") in self.tickets:
                refuse("that number was already issued today")
            return
        counter = self.counters.get(d.get("counter"))
        if counter is None:
            refuse("no such counter in the site file")
        if event.kind == "counter_status":
            if d.get("status") not in tuple(CounterStatus):
                refuse("not a counter status")
            return
        ticket = self.tickets.get(d.get("number"))
        if ticket is None:
            refuse("no such ticket today")
        if (ticket.status, event.kind) not in TICKET_TRANSITIONS:
            refuse(f"a {ticket.status} ticket cannot be {event.kind}")
        if event.kind not in COUNTER_EVENTS[counter.status]:
            refuse(f"not at a {counter.status} counter")
        if event.kind != "called" and counter.serving != ticket.number:
            refuse("the counter is not serving that ticket")
        if event.kind == "transferred" and d.get("to_service") not in self.config.services:
            refuse("no such service to transfer to")

    def _enqueue(self, t: _Ticket) -> None:
        which = 0 if t.priority else 1
        heapq.heappush(self._heaps[t.service][which], (t.order, t.number))
        key = (t.service, which)
        self._newest[key] = max(self._newest.get(key, 0), t.order)
        self.waiting[t.service] += 1
        if t.priority:
            self.waiting_priority[t.service] += 1

    def _dequeue(self, t: _Ticket, before: TicketStatus) -> None:
        # Only the counts change here; the heap entry dies lazily (see _live).
        if before == T.WAITING:
            self.waiting[t.service] -= 1
            if t.priority:
                self.waiting_priority[t.service] -= 1
