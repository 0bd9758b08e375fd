"""docs/site-file.md, the technicians' reference of the site file, written from the schemas.

    python -m antrian.site.reference > docs/site-file.md

Every key of every section (antrian/site/sections.py), then every role's options (each
role's `schema`, from the installed wings in antrian/wings.py): its type, limits,
default, whether it is required, what it is for and an example; below each section,
the checks that span several keys (the docstrings of its rules). The file is
generated, never edited by hand: tests/test_site_reference.py fails when the
committed file differs from what this module writes.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, Iterator, Mapping

import yaml

from antrian import wings
from antrian.site.schema import Field, Kind, ListOf, MapOf, Rule, Section, Tagged
from antrian.site.sections import DEVICE, TOP

COMMAND = "python -m antrian.site.reference > docs/site-file.md"

INTRO = f"""# The site file, key by key

<!-- Generated from the schemas by `{COMMAND}`: do not edit by hand.
     The core's keys are in antrian/site/sections.py, each role's options in its wing
     (kiosk/options.py, display/options.py, hardware/pinmap.py); tests/test_site_reference.py
     fails when this file is stale. -->

One YAML file describes a whole MPP, and every device reads it. `antrian check-config FILE`
checks it and lists every problem with its place (`counters[2].services[0]: unknown service
'KTX'`); [examples/buton.yaml](../examples/buton.yaml) is a complete, commented example.

How to read the tables: a key marked *yes* under *required* must be there; any other key may
be left out (or written with no value) and then takes its *default*. *Limits* are the values
allowed. A key that is in no table is a mistake, reported as an unknown key. In a heading,
`agencies[]` means each item of the list `agencies`, and `schedules.<name>` each name under
`schedules`. A relative file or folder is read from the site file's folder.
"""


def _plain(text: str, inside: bool) -> bool:
    """Whether YAML reads `text` written without quotes as the same text (or as the number
    or date the technician means), in a flow list or mapping too if `inside`."""
    if inside and not re.fullmatch(r"[\w/(][\w./() -]*", text):
        return False
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    # 14:30 unquoted is YAML 1.1's sexagesimal 870, never what a time of day means.
    return not (value is None or isinstance(value, (bool, list, dict)) or (isinstance(value, str) and value != text)
                or (isinstance(value, int) and ":" in text))


def _scalar(value: Any, inside: bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return text if _plain(text, inside) else json.dumps(text, ensure_ascii=False)


def yaml_value(value: Any, inside: bool = False) -> str:
    """A value as it is written in the site file (YAML flow style)."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{yaml_value(k, True)}: {yaml_value(v, True)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(v, True) for v in value) + "]"
    return _scalar(value, inside)


def _inner(kind: Kind) -> tuple[Kind, str]:
    """The kind inside a list or mapping kind, and how a heading extends the path for it."""
    if isinstance(kind, ListOf):
        return kind.item, "[]"
    if isinstance(kind, MapOf):
        return kind.values, ".<name>"
    return kind, ""


def _type(kind: Kind) -> str:
    inner, _ = _inner(kind)
    if not isinstance(inner, Section):
        return kind.words
    if isinstance(kind, ListOf):
        return "list of mappings (below)"
    if isinstance(kind, MapOf):
        return f"mapping of {kind.keys.words} to mappings (below)"
    return "mapping (below)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(kind: Kind, value: Any) -> str:
    return "" if value is None else f"`{yaml_value(kind.show(value))}`"


def table(fields: Mapping[str, Field]) -> list[str]:
    lines = ["| key | type | limits | required | default | description | example |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for key, f in fields.items():
        default = "" if f.required else _code(f.kind, f.default)
        lines.append("| " + " | ".join(_cell(c) for c in (
            f"`{key}`", _type(f.kind), f.kind.limits(), "yes" if f.required else "", default, f.description,
            _code(f.kind, f.example))) + " |")
    return lines + [""]


def _checks(rules: list[tuple[str, Rule | None]]) -> list[str]:
    """The checks spanning several keys, `(key or "", rule)`: their docstrings, a rule
    shared by several keys said once."""
    by_doc: dict[str, list[str]] = {}
    for key, rule in rules:
        doc = " ".join((rule.__doc__ or "").split()) if rule is not None else ""
        if doc:
            by_doc.setdefault(doc, []).append(key)
    lines = [f"- {', '.join(f'`{k}`' for k in keys if k)}{': ' if any(keys) else ''}{doc}"
             for doc, keys in by_doc.items()]
    return ["Also checked:", "", *lines, ""] if lines else []


def _rules(fields: Mapping[str, Field]) -> list[tuple[str, Rule | None]]:
    return [(key, f.rule) for key, f in fields.items()]


def _nested(fields: Mapping[str, Field], path: str) -> Iterator[tuple[str, Section]]:
    for key, f in fields.items():
        inner, suffix = _inner(f.kind)
        if isinstance(inner, Section):
            yield f"{path}.{key}{suffix}" if path else f"{key}{suffix}", inner


def _sentence(text: str) -> str:
    return f"{text[0].upper()}{text[1:]}." if text else ""


def section(path: str, sec: Section, level: int, note: str = "", heading: bool = True) -> list[str]:
    """A heading, `sec`'s description, the table of its keys and its checks, then its
    nested sections one level down. `note` follows the path in the headings (the role)."""
    lines = [f"{'#' * level} `{path}`{note}", "", _sentence(sec.description), ""] if heading else []
    if isinstance(sec, Tagged):
        lines += [f"The keys below, and those of its `{sec.tag}` (the tables after them).", ""]
    lines += table(sec.fields) if sec.fields else ["No keys of its own.", ""]
    lines += _checks([("", sec.rule), *_rules(sec.fields)])
    if sec.refused:
        lines += [f"Never written here: {', '.join(f'`{k}`' for k in sec.refused)}: "
                  f"{next(iter(sec.refused.values()))}.", ""]
    for tag, extra in (sec.variants.items() if isinstance(sec, Tagged) else ()):
        lines += [f"{'#' * (level + 1)} `{path}`{note} with `{sec.tag}: {tag}`", ""]
        lines += (table(extra) if extra else ["No further keys.", ""]) + _checks(_rules(extra))
        for sub_path, sub in _nested(extra, path):
            lines += section(sub_path, sub, level + 2, note)
    for sub_path, sub in _nested(sec.fields, path):
        lines += section(sub_path, sub, level + 1, note)
    return lines


def render() -> str:
    """The whole of docs/site-file.md."""
    lines = [INTRO, "## The top level", "", *table(TOP.fields), *_checks(_rules(TOP.fields))]
    for sub_path, sub in _nested(TOP.fields, ""):
        if sub is not DEVICE:
            lines += section(sub_path, sub, 2)
    lines += section("devices[]", DEVICE, 2)
    lines += ["Each role below is brought by a wing (antrian/wings.py); the other keys of a device are "
              "the options of its role.", ""]
    registry = wings.registry()
    owner = {role.name: wing.name for wing in registry.wings.values() for role in wing.roles}
    for name, role in sorted(registry.roles.items()):
        lines += [f"### role: `{name}`", "", f"{_sentence(role.summary)} From the {owner[name]} wing.", ""]
        if role.schema is None:
            lines += ["Its options are not checked.", ""]
        else:
            lines += section("devices[]", role.schema, 3, f" ({name})", heading=False)
    return "\n".join(line for i, line in enumerate(lines)
                     if line or (i and lines[i - 1])).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
