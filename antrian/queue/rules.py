"""The queue's rules as tables: what each status allows, and where each event is legal.

Read these first (h11's `_state.py` is the model): every change of the queue is one
of the event classes of events.py, and an event is legal only where the tables below
say so. The engine (engine.py) decides against the tables and `apply` (state.py)
refuses anything else with `TransitionError`, leaving the state as it was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from antrian.errors import QueueError
from antrian.protocol import ACTIONS
from antrian.queue.events import (EVENT_KINDS, Called, CounterStatus, CounterStatusChanged, Event, Issued, NoShow,
                                  Recalled, Served, TicketStatus, Transferred, Withdrawn)
from antrian.site import Config, Counter, Service

__all__ = ["CLOSED_FOR_TODAY", "COUNTER_ACTIONS", "COUNTER_EVENTS", "EVENT_KINDS", "TICKET_TRANSITIONS", "C",
           "CounterStatus", "Outcome", "T", "TicketStatus", "availability", "format_number", "iso", "minutes_left",
           "normalize_number"]

_NUMBER = re.compile(r"^\s*([A-Za-z]{1,2})\s*-?\s*(\d{1,4})\s*$")

T, C = TicketStatus, CounterStatus

# The life of a ticket: (status before, event class) -> status after. None before
# Issued: the ticket does not exist yet. A no-show comes back only through a call
# (call_number, within the late tolerance, which the engine checks when deciding).
# Withdrawn ends a ticket whose service or counter left the site file.
TICKET_TRANSITIONS: dict[tuple[TicketStatus | None, type[Event]], TicketStatus] = {
    (None, Issued): T.WAITING,
    (T.WAITING, Called): T.SERVING,
    (T.NO_SHOW, Called): T.SERVING,
    (T.SERVING, Recalled): T.SERVING,
    (T.SERVING, Served): T.SERVED,
    (T.SERVING, NoShow): T.NO_SHOW,
    (T.SERVING, Transferred): T.WAITING,
    (T.WAITING, Withdrawn): T.WITHDRAWN,
    (T.SERVING, Withdrawn): T.WITHDRAWN,
}

# What an officer may ask of a counter in each status. A closed counter only finishes
# what it was doing or changes its status; the rest is refused with counter_closed.
# A paused counter takes every action: NEXT after a break means the officer is back.
_ALL = frozenset(ACTIONS)
COUNTER_ACTIONS: dict[CounterStatus, frozenset[str]] = {
    C.OPEN: _ALL,
    C.PAUSED: _ALL,
    C.CLOSED: frozenset({"no_show", "finish", "open", "pause", "close"}),
}

# Events a counter takes part in, by its status: a call needs an open counter (the
# engine opens a paused one with a CounterStatusChanged first); a closed one can still
# end the ticket it was serving. CounterStatusChanged is legal in every status, and a
# ticket withdrawn from a counter leaves it whatever its status.
_ENDS = frozenset({Served, NoShow, CounterStatusChanged, Withdrawn})
COUNTER_EVENTS: dict[CounterStatus, frozenset[type[Event]]] = {
    C.OPEN: _ENDS | {Called, Recalled, Transferred},
    C.PAUSED: _ENDS | {Recalled, Transferred},
    C.CLOSED: _ENDS,
}


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a decision causes: events to store, the ticket to answer with, or an error.

    An error can come with events: `call_next` on an empty queue still finishes the
    ticket that was being served.
    """

    events: tuple[Event, ...] = ()
    ticket: str | None = None
    error: QueueError | None = None


def format_number(prefix: str, n: int) -> str:
    """`A-001`: zero-padded to 3 digits, 4 past 999."""
    return f"{prefix}-{n:03d}"


def normalize_number(text: str) -> str | None:
    """Accept what a keypad or an officer types (`a12`, `A-012`) as `A-012`; None if not a number."""
    m = _NUMBER.match(text) if isinstance(text, str) else None
    return format_number(m.group(1).upper(), int(m.group(2))) if m else None


# Why a service takes no more tickets today although it is still open: its last_ticket
# has passed, or a new ticket would not be called before it closes (Views.too_late).
CLOSED_FOR_TODAY = "Nomor antrean hari ini sudah ditutup untuk layanan ini"


def availability(config: Config, service: Service, now: dt.datetime) -> str | None:
    """None when the service takes tickets now, else the Indonesian reason it does not."""
    local = now.astimezone(config.tz)
    holiday = config.holidays.get(local.date())
    if holiday is not None:
        return f"Hari ini libur: {holiday.name}"
    spans = config.schedules[service.schedule].spans(local.date())
    if not spans:
        return "Layanan ini tidak buka hari ini"
    t = local.time()
    last = service.last_ticket
    if last is not None and last <= t < spans[-1][1]:
        return f"{CLOSED_FOR_TODAY} (nomor terakhir pukul {last:%H.%M})"
    for i, (start, end) in enumerate(spans):
        if t < start:
            if i == 0:
                return f"Layanan buka pukul {start:%H.%M}"
            return f"Waktu istirahat, layanan buka kembali pukul {start:%H.%M}"
        if t < end:
            return None
    return f"Jam layanan hari ini sudah berakhir (tutup pukul {spans[-1][1]:%H.%M})"


def minutes_left(config: Config, service: Service, now: dt.datetime) -> tuple[float, dt.time] | None:
    """(minutes the service is still open today from `now`, breaks left out; its closing
    time), or None when it does not close today: open until midnight (24:00), where the
    business day ends but the service goes on (a round-the-clock site), or closed all day."""
    local = now.astimezone(config.tz)
    spans = config.schedules[service.schedule].spans(local.date())
    if not spans or spans[-1][1] == dt.time.max:
        return None
    at = dt.datetime.combine(dt.date.min, local.time())
    left = 0.0
    for start, end in spans:
        begin = max(at, dt.datetime.combine(dt.date.min, start))
        left += max(0.0, (dt.datetime.combine(dt.date.min, end) - begin).total_seconds() / 60)
    return left, spans[-1][1]


def iso(t: dt.datetime, tz: dt.tzinfo) -> str:
    """ISO 8601 with the site's UTC offset, whatever zone the clock gave."""
    return t.astimezone(tz).isoformat(timespec="seconds")


def remote_location(counter: Counter) -> dict[str, str]:
    """``{"location": ...}`` for a remote counter (a site-file Counter), else {}: the key a
    Call, the Board's and the Catalog's counters carry only for such a counter, so clients
    that predate it see nothing new (docs/protocol.md, "Remote counters")."""
    return {"location": counter.location} if counter.remote and counter.location else {}
