"""The reader that walks parsed YAML and records problems with their paths.

Used by the site file's loader (load.py) and by the day simulator's arrivals file
(antrian/tools/simulate.py), so both report mistakes in the same words.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any


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
