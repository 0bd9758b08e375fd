"""The events of the queue: one frozen class per kind, and the statuses they speak of.

Every change of the queue is one of these. The engine decides them (engine.py), the
tables of rules.py say where each is legal, state.py applies them, and the store keeps
each as a row: its `KIND` (the name on disk, "issued", "called", ...) and its fields
other than `at` as JSON. `to_row` and `from_row` are the one place that encoding lives;
a row that is no event of this module -- an unknown kind, a field missing, extra or of
the wrong type -- is an `EventError`, never a half-read event.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import typing
from typing import Any, ClassVar, Iterable

from antrian.errors import EventError


class TicketStatus(enum.StrEnum):
    WAITING = "waiting"
    SERVING = "serving"
    SERVED = "served"
    NO_SHOW = "no_show"
    WITHDRAWN = "withdrawn"


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class CounterStatus(enum.StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """What every event has: the moment it happened (the dispatcher's stamp)."""

    KIND: ClassVar[str] = ""
    at: dt.datetime

    @property
    def kind(self) -> str:
        return self.KIND


@dataclasses.dataclass(frozen=True, kw_only=True)
class DayStarted(Event):
    """A business day opens: numbering starts again at 1, yesterday's queue is gone.
    The only way the engine's day changes (docs/architecture.md, the business day)."""

    KIND: ClassVar[str] = "day_started"
    day: dt.date


@dataclasses.dataclass(frozen=True, kw_only=True)
class Issued(Event):
    """A ticket issued; `booking`: the code of the booking it checks in (None: a walk-in).
    A checked-in booking joins its service's queue by its slot's start (state.py)."""

    KIND: ClassVar[str] = "issued"
    number: str
    service: str
    priority: str | None
    booking: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Called(Event):
    """A ticket called to a counter; `via` says how: "next" (NEXT) or "number" (typed)."""

    KIND: ClassVar[str] = "called"
    number: str
    counter: str
    seq: int
    via: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Recalled(Event):
    KIND: ClassVar[str] = "recalled"
    number: str
    counter: str
    seq: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Served(Event):
    KIND: ClassVar[str] = "served"
    number: str
    counter: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class NoShow(Event):
    KIND: ClassVar[str] = "no_show"
    number: str
    counter: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Transferred(Event):
    KIND: ClassVar[str] = "transferred"
    number: str
    counter: str
    from_service: str
    to_service: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class CounterStatusChanged(Event):
    KIND: ClassVar[str] = "counter_status"
    counter: str
    status: CounterStatus
    reason: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Withdrawn(Event):
    """A ticket taken out of the queue by the dispatcher, not by an officer: its service
    (or the counter serving it) is no longer in the site file. `reason` is for the log
    and the report."""

    KIND: ClassVar[str] = "withdrawn"
    number: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Booked(Event):
    """A slot booked online (antrian/queue/bookings.py). `code` is the canonical booking
    code; `phone` and `nik` are keyed hashes (antrian/queue/codes.py), never the numbers."""

    KIND: ClassVar[str] = "booked"
    code: str
    service: str
    date: dt.date
    slot: str
    phone: str
    nik: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class BookingCancelled(Event):
    """A booking cancelled by its citizen: its place is free again."""

    KIND: ClassVar[str] = "booking_cancelled"
    code: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class BookingExpired(Event):
    """A booking not checked in by the end of its window: a booking no-show."""

    KIND: ClassVar[str] = "booking_expired"
    code: str


EVENT_CLASSES: tuple[type[Event], ...] = (DayStarted, Issued, Called, Recalled, Served, NoShow, Transferred,
                                          CounterStatusChanged, Withdrawn, Booked, BookingCancelled, BookingExpired)
BOOKING_EVENTS = (Booked, BookingCancelled, BookingExpired)
BY_KIND: dict[str, type[Event]] = {cls.KIND: cls for cls in EVENT_CLASSES}
EVENT_KINDS: tuple[str, ...] = tuple(BY_KIND)
# Events that give a call its place in the hall's order (the board and the voice).
CALLS = (Called, Recalled)


def named(events: Iterable[Event]) -> tuple[set[str], set[str]]:
    """The services and the counters these events name."""
    services, counters = set(), set()
    for e in events:
        services.update(getattr(e, name) for name in ("service", "to_service") if hasattr(e, name))
        if hasattr(e, "counter"):
            counters.add(e.counter)
    return services, counters


def _fields(cls: type[Event]) -> dict[str, Any]:
    """The data fields of a class (all but `at`) and their types."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name != "at"}


_FIELDS: dict[type[Event], dict[str, Any]] = {cls: _fields(cls) for cls in EVENT_CLASSES}
# Fields added later with a default (Issued.booking): a row without them is read with the
# default, and a value equal to it is not written, so older rows and older readers agree.
_OPTIONAL: dict[type[Event], dict[str, Any]] = {
    cls: {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
    for cls in EVENT_CLASSES}


def data_of(event: Event) -> dict[str, Any]:
    """The fields other than `at`, as the JSON of a row has them."""
    out = {}
    optional = _OPTIONAL[type(event)]
    for name in _FIELDS[type(event)]:
        value = getattr(event, name)
        if name in optional and value == optional[name]:
            continue
        out[name] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def to_row(event: Event) -> tuple[str, str, str]:
    """(kind, at, data JSON) of one event; EventError for an object that is no event here."""
    if type(event) not in _FIELDS:
        raise EventError(f"{type(event).__name__} is not an event of the queue")
    return event.KIND, event.at.isoformat(), json.dumps(data_of(event), ensure_ascii=False)


def _value(name: str, kind: Any, value: Any) -> Any:
    """`value` as field `name` of type `kind` wants it; EventError if it does not fit."""
    if kind is dt.date:
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            pass
    elif kind == str | None:
        if value is None or isinstance(value, str):
            return value
    elif kind is str:
        if isinstance(value, str):
            return value
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        noun = f"one of {', '.join(m.value for m in kind)}"
    else:
        noun = {dt.date: "an ISO date", int: "a whole number", str: "text"}.get(kind, "text or null")
    raise EventError(f"{name} is {value!r}, not {noun}")


def from_row(kind: str, at: str, data: str) -> Event:
    """The event of a stored row; EventError, saying what is wrong, if it does not fit."""
    cls = BY_KIND.get(kind)
    if cls is None:
        raise EventError(f"unknown event kind {kind!r} (known: {', '.join(EVENT_KINDS)})")
    try:
        when = dt.datetime.fromisoformat(at)
    except (TypeError, ValueError):
        raise EventError(f"{kind}: the time {at!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise EventError(f"{kind}: the time {at!r} has no UTC offset")
    try:
        obj = json.loads(data)
    except (TypeError, ValueError):
        raise EventError(f"{kind}: the data is not JSON") from None
    if not isinstance(obj, dict):
        raise EventError(f"{kind}: the data is not a JSON object")
    fields = _FIELDS[cls]
    missing, extra = sorted(set(fields) - set(obj) - set(_OPTIONAL[cls])), sorted(set(obj) - set(fields))
    if missing or extra:
        said = [f"missing {', '.join(missing)}"] * bool(missing) + [f"unexpected {', '.join(extra)}"] * bool(extra)
        raise EventError(f"{kind}: {'; '.join(said)}")
    try:
        values = {name: _value(name, t, obj[name]) for name, t in fields.items() if name in obj}
    except EventError as exc:
        raise EventError(f"{kind}: {exc}") from None
    return cls(at=when, **values)
