"""Reading YAML the technician wrote, and walking it with problems recorded by path.

`read_yaml(path)` and `parse_yaml(text, source)` turn a file into plain data, or raise
one `ConfigError` line naming the file and the place. They refuse, before anything is
built, what a mistaken or hostile file could do to a Pi: a file over `MAX_BYTES`
(checked before reading), nesting deeper than `MAX_DEPTH` (counted while composing, so
Python's recursion limit is never reached), aliases that would expand to more than
`MAX_ALIASED` values (a "billion laughs" file: counted from the anchors' sizes while
composing, so nothing is expanded), an alias inside its own anchor (a cycle) and a key
written twice in one mapping (YAML would silently keep the last: quota 200, then 5).
Ordinary anchors and aliases (a schedule written once, reused) and merge keys (``<<``)
work as usual.

`Reader` then walks the data and records problems with their paths. Used by the site
file's loader (load.py) and by the day simulator's arrivals file
(antrian/tools/simulate/), so both report mistakes in the same words.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from antrian.errors import ConfigError

# A 40-counter, 40-agency site file is about 65 KB; the limits are far above any real
# file and far below what hurts a Raspberry Pi (time, memory, the recursion limit).
MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 50
MAX_ALIASED = 100_000
_MERGE = "tag:yaml.org,2002:merge"


class Refused(yaml.MarkedYAMLError):
    """A YAML file refused before it is built: `problem` says why, `problem_mark` where.
    A yaml.YAMLError, so a caller that reports those reports this the same way."""

    def __init__(self, problem: str, mark: Any):
        super().__init__(problem=problem, problem_mark=mark)


class SafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader with the limits of this module (see its doc), and an impossible
    date (``2026-02-30``) kept as text for the checks to report with its path, where
    yaml would raise a bare ValueError with no place."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0  # collections open around the node being composed
        self._path: list[str | int] = []  # keys and indexes down to it, for messages
        # id(node) -> (values, depth) of a finished node with its aliases expanded
        self._measure: dict[int, tuple[int, int]] = {}
        self._aliased = 0  # values reached through aliases so far
        self._keys: dict[int, dict[Any, int]] = {}  # id(mapping node) -> {key: line}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            self._follow(self.peek_event())
        elif self._depth >= MAX_DEPTH:
            raise Refused(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
        step: list[str | int] = []
        if isinstance(parent, MappingNode) and index is not None:  # the value of key node `index`
            self._check_key(parent, index)
            step = [str(index.value) if isinstance(index, ScalarNode) else "?"]
        elif isinstance(parent, SequenceNode):
            step = [index]
        self._path += step
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            del self._path[len(self._path) - len(step):]
        if id(node) not in self._measure:
            self._measure[id(node)] = self._measured(node)
        return node

    def _follow(self, event: Any) -> None:
        target = self.anchors.get(event.anchor)
        if target is None:
            return  # yaml itself reports the undefined alias
        measure = self._measure.get(id(target))
        if measure is None:
            raise Refused(f"the alias *{event.anchor} is used inside its own anchor &{event.anchor} "
                          "(a value that contains itself)", event.start_mark)
        values, depth = measure
        self._aliased += values
        if self._aliased > MAX_ALIASED:
            raise Refused(f"the aliases expand to more than {MAX_ALIASED:,} values (an alias bomb?), "
                          f"at *{event.anchor}", event.start_mark)
        if self._depth + depth > MAX_DEPTH:
            raise Refused(f"nested deeper than {MAX_DEPTH} levels through the alias *{event.anchor}",
                          event.start_mark)

    def _measured(self, node: Any) -> tuple[int, int]:
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            return 1, 1
        measures = [self._measure[id(child)] for child in children]
        return 1 + sum(m[0] for m in measures), 1 + max((m[1] for m in measures), default=0)

    def _check_key(self, mapping: Any, key_node: Any) -> None:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
            return
        # Compared as built (1 and 0x1, yes and true are one key), as the mapping would be.
        key = self.construct_object(key_node)
        line = key_node.start_mark.line + 1
        seen = self._keys.setdefault(id(mapping), {})
        if key in seen:
            raise Refused(f"the key {self._where(str(key_node.value))} is written twice in one mapping "
                          f"(lines {seen[key]} and {line}); YAML would silently keep only the last",
                          key_node.start_mark)
        seen[key] = line

    def _where(self, last: str) -> str:
        path = ""
        for part in [*self._path, last]:
            path = join(path, part)
        return path

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", SafeLoader.construct_yaml_timestamp)


def read_yaml(path: str | Path) -> Any:
    """The YAML file at `path` as plain data; `ConfigError` (one line, naming the file)
    if it cannot be read, is too big (refused unread), is not UTF-8 or not acceptable
    YAML (see the module doc)."""
    source = str(path)
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size <= MAX_BYTES:
                data = file.read(MAX_BYTES + 1)  # a file still growing, or a device, stops here too
                size = len(data)
    except OSError as exc:
        raise ConfigError(source, [("", f"cannot read the file: {exc.strerror or exc}")]) from None
    if size > MAX_BYTES:
        raise ConfigError(source, [("", _too_big(size))])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(source, [("", "the file is not UTF-8 text")]) from None
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str) -> Any:
    """YAML text as plain data, with the limits of this module; `ConfigError` naming
    `source` and the line if it is not acceptable."""
    if len(text) > MAX_BYTES:
        raise ConfigError(source, [("", _too_big(len(text.encode("utf-8"))))])
    try:
        return yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        if isinstance(exc, Refused):
            raise ConfigError(source, [(where, f"refused: {exc.problem}")]) from None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [(where, f"not valid YAML: {problem}")]) from None


def _too_big(size: int) -> str:
    return (f"the file is {size:,} bytes, more than the {MAX_BYTES:,} a YAML file of the project may have "
            "(refused unread)")


class Reader:
    """Walks parsed YAML, recording problems with their paths instead of raising.

    Public because the day simulator reads its arrivals file with the same checks
    and the same wording (antrian/tools/simulate.py)."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def report(self, path: str, message: str) -> None:
        # A missing required key is reported once, as "required", not a second time by
        # the reader of its (absent) value ("must be a non-empty text, not empty").
        if (path, "required") not in self.problems:
            self.problems.append((path, message))

    def mapping(self, value: Any, path: str, allowed: set[str], required: set[str] = frozenset()) -> dict:
        if not isinstance(value, dict):
            self.report(path, f"must be a mapping, not {kind(value)}")
            return {}
        for key in value:
            if key not in allowed:
                self.report(join(path, str(key)), f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(required - set(value)):
            self.report(join(path, key), "required")
        return value

    def seq(self, value: Any, path: str, *, required: bool = True) -> list:
        if value is None and not required:
            return []
        if not isinstance(value, list):
            self.report(path, f"must be a list, not {kind(value)}")
            return []
        return value

    def text(self, value: Any, path: str, *, pattern: re.Pattern | None = None, hint: str = "",
             default: str | None = None) -> str:
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.report(path, f"must be a non-empty text, not {kind(value)}")
            return default or ""
        if pattern is not None and not pattern.match(value):
            self.report(path, f"{value!r} is not valid: {hint}")
        return value.strip()

    def integer(self, value: Any, path: str, *, default: int | None, low: int, high: int) -> int | None:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.report(path, f"must be a whole number, not {kind(value)}")
            return default
        if not low <= value <= high:
            self.report(path, f"{value} is out of range {low}..{high}")
            return default
        return value

    def number(self, value: Any, path: str, *, default: float, low: float, high: float) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.report(path, f"must be a number, not {kind(value)}")
            return default
        if not low <= value <= high:
            self.report(path, f"{value} is out of range {low}..{high}")
            return default
        return float(value)

    def flag(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.report(path, f"must be true or false, not {kind(value)}")
            return default
        return value


def freeze(value: Any) -> Any:
    """Nested YAML data made read-only: mappings become MappingProxyType, lists tuples."""
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def kind(value: Any) -> str:
    if value is None:
        return "empty"
    return {dict: "a mapping", list: "a list", str: f"the text {value!r}", bool: f"{value}"}.get(
        type(value), f"{type(value).__name__} {value!r}")


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key
