"""The queue's rules as tables: the states, what each status allows, the events.

Read these first (h11's `_state.py` is the model): every change of the queue is one
of `EVENT_KINDS`, and an event is legal only where the tables below say so. The
engine (engine.py) decides against the tables and `apply` refuses anything else with
`TransitionError`, leaving the state as it was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from typing import Any

from antrian.errors import QueueError
from antrian.protocol import ACTIONS
from antrian.site import Config, Service

EVENT_KINDS = ("issued", "called", "recalled", "served", "no_show", "transferred", "counter_status")
_NUMBER = re.compile(r"^\s*([A-Za-z]{1,2})\s*-?\s*(\d{1,4})\s*$")


class TicketStatus(enum.StrEnum):
    WAITING = "waiting"
    SERVING = "serving"
    SERVED = "served"
    NO_SHOW = "no_show"


class CounterStatus(enum.StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


T, C = TicketStatus, CounterStatus

# The life of a ticket: (status before, event kind) -> status after. None before
# "issued": the ticket does not exist yet. A no-show comes back only through a call
# (call_number, within the late tolerance, which the engine checks when deciding).
TICKET_TRANSITIONS: dict[tuple[TicketStatus | None, str], TicketStatus] = {
    (None, "issued"): T.WAITING,
    (T.WAITING, "called"): T.SERVING,
    (T.NO_SHOW, "called"): T.SERVING,
    (T.SERVING, "recalled"): T.SERVING,
    (T.SERVING, "served"): T.SERVED,
    (T.SERVING, "no_show"): T.NO_SHOW,
    (T.SERVING, "transferred"): T.WAITING,
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
# engine opens a paused one with a counter_status event first); a closed one can still
# end the ticket it was serving. counter_status is legal in every status.
COUNTER_EVENTS: dict[CounterStatus, frozenset[str]] = {
    C.OPEN: frozenset({"called", "recalled", "served", "no_show", "transferred", "counter_status"}),
    C.PAUSED: frozenset({"recalled", "served", "no_show", "transferred", "counter_status"}),
    C.CLOSED: frozenset({"served", "no_show", "counter_status"}),
}


@dataclasses.dataclass(frozen=True)
class Event:
    kind: str
    at: dt.datetime
    data: dict[str, Any]


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
    for i, (start, end) in enumerate(spans):
        if t < start:
            if i == 0:
                return f"Layanan buka pukul {start:%H.%M}"
            return f"Waktu istirahat, layanan buka kembali pukul {start:%H.%M}"
        if t < end:
            return None
    return f"Jam layanan hari ini sudah berakhir (tutup pukul {spans[-1][1]:%H.%M})"


def iso(t: dt.datetime, tz: dt.tzinfo) -> str:
    """ISO 8601 with the site's UTC offset, whatever zone the clock gave."""
    return t.astimezone(tz).isoformat(timespec="seconds")
