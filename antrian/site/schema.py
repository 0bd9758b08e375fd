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

The kinds of single values and the wording of problems live in antrian/site/kinds.py
and are exported from here too, so a schema imports the whole kit from this module. A
missing key is "required", an unknown key "unknown key (allowed: ...)".

What no single field can say (a counter naming an unknown service, a pin used twice)
is a `rule`: a small function on a field or a section, called with the cleaned value
as the walk passes it, which reports with the same `report` and shares the check's
`context` (what earlier rules learnt, or the `Config` a device's options are checked
against). A rule's docstring is its line in the reference.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from antrian.site.kinds import (INVALID, Choice, Date, Flag, Kind, Number, Ref, Report, Rule, Span, Text, TimeOfDay,
                                Walk, Whole, join, kind, shown)

__all__ = ["INVALID", "Choice", "Date", "Field", "Flag", "Kind", "ListOf", "MapOf", "Number", "Problems", "Ref",
           "Report", "Rule", "Section", "Span", "Tagged", "Text", "TimeOfDay", "Walk", "Whole", "check", "join", "kind",
           "shown"]


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
        return ", ".join(x for x in (self.keys.limits(), f"at least {self.min_items}" if self.min_items else "") if x)


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
