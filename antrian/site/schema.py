"""The declarative field kit of the site file: kinds of value, fields, sections, and `check`.

Every part of the site file is described once, as data: a `Section` of `Field`s, each
with its kind (`Text`, `Whole`, `Number`, `Flag`, `Choice`, `Span`, `Date`, `Ref`,
`ListOf`, `MapOf`, `Section`, `Tagged`), its limits, default, whether it is required, a
one-line description for the technician and an example. The same description checks a
value (`check`) and writes the reference docs/site-file.md (antrian/site/reference.py),
so the two cannot drift apart. The core's sections are in antrian/site/sections.py;
each wing describes its role's options in its own module (`Role.schema`).

`check(kind, value, path, report, context)` walks a value and calls
``report(path, message)`` for every problem. It returns the value cleaned up (texts
stripped, floats where a number may be a fraction, defaults filled in); a key whose
value was wrong is left out of its mapping, a wrong item of a list is `INVALID` in its
place. Only a value that gave no problem at all is ever built into objects.

One wording everywhere: a value of the wrong type is "must be <what>, not <its type>"
(``must be a whole number, not the text 'banyak'``); a value of the right type that is
not allowed names the value (``'tv' is not one of ...``, ``0 is out of range 1..9999``,
``'a' is not valid: 1 or 2 capital letters``); a missing key is "required"; an unknown
key is "unknown key (allowed: ...)".

What no single field can say (a counter naming an unknown service, a pin used twice)
is a `rule`: a small function on a field or a section, called with the cleaned value
as the walk passes it, which reports with the same `report` and shares the check's
`context` (what earlier rules learnt, or the `Config` a device's options are checked
against). A rule's docstring is its line in the reference.
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
    """One of `values`, of the same type (9600.0 or true are not 9600 or 1)."""

    values: tuple
    words = "one of"

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


@dataclasses.dataclass(frozen=True)
class ListOf(Kind):
    item: Kind
    min_items: int = 0
    too_few: str = ""  # the problem when there are fewer than min_items

    @property
    def words(self) -> str:  # type: ignore[override]
        return f"list of {self.item.words}"

    def check(self, value, path, walk):
        if not isinstance(value, (list, tuple)):
            return self.wrong(value, "a list", path, walk)
        if len(value) < self.min_items:
            walk.report(path, self.too_few)
        # An item that was wrong stays as INVALID, so rules still see every item at its index.
        return [self.item.check(v, join(path, i), walk) for i, v in enumerate(value)]

    def limits(self) -> str:
        return f"at least {self.min_items}" if self.min_items else ""


@dataclasses.dataclass(frozen=True)
class MapOf(Kind):
    """A mapping of names the technician picks (`keys`) to values of one kind."""

    keys: Kind
    values: Kind
    min_items: int = 0
    too_few: str = ""

    @property
    def words(self) -> str:  # type: ignore[override]
        return f"mapping of {self.keys.words} to {self.values.words}"

    def check(self, value, path, walk):
        if not isinstance(value, Mapping):
            return self.wrong(value, "a mapping", path, walk)
        if len(value) < self.min_items:
            walk.report(path, self.too_few)
        out = {}
        for key, item in value.items():
            where = join(path, str(key))
            name = self.keys.check(key, where, walk)
            if name is INVALID:  # its value is not checked: one problem per place
                continue
            item = self.values.check(item, where, walk)
            if item is not INVALID:
                out[name] = item
        return out

    def limits(self) -> str:
        return self.keys.limits()


@dataclasses.dataclass(frozen=True)
class Field:
    """One key of a section: its kind, whether it must be there, its default, what it is for.

    An optional key that is missing or written with no value takes the default; a
    required one written with no value is a problem of its kind ("must be ..., not empty").
    """

    kind: Kind
    description: str
    required: bool = False
    default: Any = None
    example: Any = None
    rule: Rule | None = None  # called with the cleaned value, or the default unless None


def _required(field: Field) -> str:
    if isinstance(field.kind, Choice):
        return f"required: one of {field.kind.limits()}"
    return "required"


@dataclasses.dataclass(frozen=True)
class Section(Kind):
    """A mapping of named fields. A key that is no field is a problem, unless the
    section keeps such keys as they are under the name `rest` (a device keeps its role's
    options for the role's own schema). `refused` keys get their own problem (a password
    written into the file). `what` names the thing in the unknown-key problem."""

    fields: Mapping[str, Field]
    description: str = ""
    what: str = ""
    refused: Mapping[str, str] = dataclasses.field(default_factory=dict)
    rest: str | None = None
    rule: Rule | None = None  # called with the cleaned mapping once its fields are checked
    words = "mapping"

    def check(self, value, path, walk):
        if not isinstance(value, Mapping):
            return self.wrong(value, "a mapping", path, walk)
        return self.check_fields(value, path, walk, self.fields, self._unknown)

    def _unknown(self, key: str, fields: Mapping[str, Field]) -> str:
        where = f" for {self.what}" if self.what else ""
        return f"unknown key{where} (allowed: {', '.join(sorted(fields))})"

    def check_fields(self, value: Mapping, path: str, walk: Walk, fields: Mapping[str, Field],
                     unknown: Callable[[str, Mapping[str, Field]], str]) -> dict:
        out: dict[str, Any] = {}
        for key in value:
            if key in fields:
                continue
            if key in self.refused:
                walk.report(join(path, str(key)), self.refused[key])
            elif self.rest is not None:
                out.setdefault(self.rest, {})[key] = value[key]
            else:
                walk.report(join(path, str(key)), unknown(str(key), fields))
        for key in sorted(k for k, f in fields.items() if f.required and k not in value):
            walk.report(join(path, key), _required(fields[key]))
        for key, field in fields.items():
            where = join(path, key)
            if key in value and (value[key] is not None or field.required):
                cleaned = field.kind.check(value[key], where, walk)
            elif field.required:
                continue
            else:
                cleaned = field.default
            if cleaned is INVALID:
                continue
            out[key] = cleaned
            if field.rule is not None and cleaned is not None:
                field.rule(cleaned, where, walk.report, walk.context)
        if self.rule is not None:
            self.rule(out, path, walk.report, walk.context)
        return out


@dataclasses.dataclass(frozen=True)
class Tagged(Section):
    """A section whose allowed fields depend on one of them, the `tag` (a printer's
    `connection`): `fields` are common to all, `variants[tag value]` adds its own."""

    tag: str = ""
    variants: Mapping[str, Mapping[str, Field]] = dataclasses.field(default_factory=dict)

    def check(self, value, path, walk):
        if not isinstance(value, Mapping):
            return self.wrong(value, "a mapping", path, walk)
        tag_field = self.fields[self.tag]
        if value.get(self.tag) is None:
            walk.report(join(path, self.tag), _required(tag_field))
            return INVALID
        tag = tag_field.kind.check(value[self.tag], join(path, self.tag), walk)
        if tag is INVALID:
            return INVALID

        def unknown(key: str, fields: Mapping[str, Field]) -> str:
            other = [t for t, extra in self.variants.items() if key in extra]
            hint = f"used with {self.tag} {' or '.join(other)}" if other else f"allowed: {', '.join(sorted(fields))}"
            return f"unknown key for {self.tag} {tag} ({hint})"

        return self.check_fields(value, path, walk, {**self.fields, **self.variants[tag]}, unknown)


def check(kind_: Kind, value: Any, path: str, report: Report, context: dict | None = None) -> Any:
    """Check `value` against `kind_`, reporting every problem with its path; the cleaned
    value, or INVALID. `context` is shared by the rules of this one check."""
    return kind_.check(value, path, Walk(report, {} if context is None else context))


class Problems(list):
    """A report that keeps the problems as (path, message), each once, in order."""

    def __call__(self, path: str, message: str) -> None:
        if (path, message) not in self:
            self.append((path, message))
