"""How the report writes numbers and names: the Indonesian way (1.234,5; 7 j 05 m).

Shared by the files (files.py) and the charts (charts.py), so neither imports the other.
"""

from __future__ import annotations


def angka(x: float | int | None, decimals: int = 0) -> str:
    """A number the Indonesian way: 1.234,5; '–' for none."""
    if x is None:
        return "–"
    text = f"{x:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def persen(share: float | None) -> str:
    return "–" if share is None else f"{angka(100 * share, 1)}%"


def jam(minutes_: float) -> str:
    """Minutes as hours and minutes: '7 j 05 m'."""
    total = round(minutes_)
    return f"{total // 60} j {total % 60:02d} m"


def short_name(name: str, limit: int = 30) -> str:
    """A service name without its parenthesised detail, cut to fit a chart label."""
    base = name.split("(")[0].strip() or name
    return base if len(base) <= limit else base[: limit - 1].rstrip() + "…"
