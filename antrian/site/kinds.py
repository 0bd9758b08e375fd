"""The kinds of single values in the site file, and the words its problems are said in.

Part of the field kit (antrian/site/schema.py, which also exports everything here):
`Kind` is a type of value with its `check` and the `words` and `limits` the reference
shows; `Text`, `Whole`, `Number`, `Flag`, `Choice`, `Span`, `Date` and `Ref` are the
kinds of one value. A wing may add its own kind (a USB id, a GPIO pin) by subclassing
`Kind` in the module of its options.

One wording everywhere: a value of the wrong type is "must be <what>, not <its type>"
(`kind`: ``must be a whole number, not the text 'banyak'``); a value of the right type
that is not allowed names the value (`shown`: ``'tv' is not one of ...``, ``0 is out
of range 1..9999``, ``'a' is not valid: 1 or 2 capital letters``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any, Callable, Mapping

Report = Callable[[str, str], None]
# rule(value, path, report, context): value is the cleaned value of its field or section
Rule = Callable[[Any, str, Report, dict], None]


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


INVALID: Any = _Invalid()  # what a kind's check returns for a value that had a problem


def kind(value: Any) -> str:
    """A value named by its type, after "must be ..., not": "the text 'x'", "float 1.5"."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def shown(value: Any) -> str:
    """A value as the technician wrote it, before "is not one of": 'x', 45, true."""
    if value is None or isinstance(value, (bool, Mapping, list, tuple)):
        return kind(value)
    return repr(value)


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _g(number: float) -> str:
    return f"{number:g}"


@dataclasses.dataclass
class Walk:
    """One check under way: where problems go and what its rules share."""

    report: Report
    context: dict


class Kind:
    """A kind of value. `check` reports problems and returns the cleaned value or INVALID;
    `words` (the type) and `limits` describe it in the reference."""

    words = "any value"

    def check(self, value: Any, path: str, walk: Walk) -> Any:
        return value

    def limits(self) -> str:
        return ""

    def show(self, value: Any) -> Any:
        """A cleaned value (a default) as the technician would write it, for the reference."""
        return value

    @staticmethod
    def wrong(value: Any, what: str, path: str, walk: Walk) -> Any:
        walk.report(path, f"must be {what}, not {kind(value)}")
        return INVALID


@dataclasses.dataclass(frozen=True)
class Text(Kind):
    """A non-empty text, optionally matching `pattern` (explained by `hint`); cleaned stripped."""

    pattern: re.Pattern[str] | None = None
    hint: str = ""
    words = "text"

    def check(self, value, path, walk):
        if not isinstance(value, str) or not value.strip():
            return self.wrong(value, "a non-empty text", path, walk)
        if self.pattern is not None and not self.pattern.match(value):
            walk.report(path, f"{value!r} is not valid: {self.hint}")
            return INVALID
        return value.strip()

    def limits(self) -> str:
        return self.hint


@dataclasses.dataclass(frozen=True)
class Whole(Kind):
    """A whole number in low..high, in `unit` if it has one (seconds)."""

    low: float
    high: float
    unit: str = ""

    @property
    def words(self) -> str:  # type: ignore[override]
        return self._noun()[2:]

    def _noun(self) -> str:
        return "a whole number" + (f" of {self.unit}" if self.unit else "")

    def _types(self) -> tuple[type, ...]:
        return (int,)

    def check(self, value, path, walk):
        if isinstance(value, bool) or not isinstance(value, self._types()):
            return self.wrong(value, self._noun(), path, walk)
        if not self.low <= value <= self.high:
            walk.report(path, f"{value} is out of range {self.limits()}")
            return INVALID
        return value

    def limits(self) -> str:
        return f"{_g(self.low)}..{_g(self.high)}" + (f" {self.unit}" if self.unit else "")


@dataclasses.dataclass(frozen=True)
class Number(Whole):
    """A number, whole or not, in low..high; cleaned to a float."""

    def _noun(self) -> str:
        return "a number" + (f" of {self.unit}" if self.unit else "")

    def _types(self) -> tuple[type, ...]:
        return (int, float)

    def check(self, value, path, walk):
        value = super().check(value, path, walk)
        return value if value is INVALID else float(value)


class Flag(Kind):
    words = "true or false"

    def check(self, value, path, walk):
        if not isinstance(value, bool):
            return self.wrong(value, "true or false", path, walk)
        return value


@dataclasses.dataclass(frozen=True)
class Choice(Kind):
    """One of `values`, of the same type (9600.0 or true are not 9600 or 1); `what` names
    such a value in the reference (a button action)."""

    values: tuple
    what: str = ""

    @property
    def words(self) -> str:  # type: ignore[override]
        return self.what or "one of the limits"

    def check(self, value, path, walk):
        if any(type(value) is type(v) and value == v for v in self.values):
            return value
        walk.report(path, f"{shown(value)} is not one of {self.limits()}")
        return INVALID

    def limits(self) -> str:
        return ", ".join(str(v) for v in self.values)


class Span(Kind):
    """An opening span 'HH:MM-HH:MM'; 24:00 is the end of the day. Cleaned to (start, end)."""

    words = "time span"
    _FORM = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")

    def check(self, value, path, walk):
        m = self._FORM.match(value) if isinstance(value, str) else None
        if not m:
            walk.report(path, f"{value!r} is not a span like '08:00-12:00'")
            return INVALID
        h1, m1, h2, m2 = map(int, m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            walk.report(path, f"{value!r} is not a valid time of day")
            return INVALID
        # "24:00" closes at the very end of the day (a round-the-clock service).
        start, end = dt.time(h1, m1), dt.time.max if h2 == 24 else dt.time(h2, m2)
        if end <= start:
            walk.report(path, f"{value!r} ends before it starts")
            return INVALID
        return (start, end)

    def limits(self) -> str:
        return "00:00-24:00"


class TimeOfDay(Kind):
    """A time of day 'HH:MM' (quoted: YAML reads 07:00 unquoted as a number). Cleaned to a time."""

    words = "time of day"
    _FORM = re.compile(r"^(\d{2}):(\d{2})$")

    def check(self, value, path, walk):
        m = self._FORM.match(value) if isinstance(value, str) else None
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            walk.report(path, f"{value!r} is not a time of day like '07:00' (quote it)")
            return INVALID
        return dt.time(int(m.group(1)), int(m.group(2)))

    def show(self, value):
        return value.strftime("%H:%M") if isinstance(value, dt.time) else value

    def limits(self) -> str:
        return "00:00..23:59"


class Date(Kind):
    """A calendar day, 2026-12-25 (YAML reads it as a date; a text in that form is taken too)."""

    words = "date"

    def check(self, value, path, walk):
        day = value
        if isinstance(day, str):
            try:
                day = dt.date.fromisoformat(day)
            except ValueError:
                pass
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            walk.report(path, f"{value!r} is not a date like 2026-12-25")
            return INVALID
        return day


@dataclasses.dataclass(frozen=True)
class Ref(Kind):
    """The name of something defined elsewhere (a service code, an agency id): a rule
    checks that it exists, so any value passes here."""

    what: str

    @property
    def words(self) -> str:  # type: ignore[override]
        return self.what
