"""What every benchmark here shares: the Buton site made fit for a load run, percentiles,
and `scaled`: a wait against a hang (a connection, a reply, a process that stops, a
settling pause) written for the reference machine, scaled to this one (antrian/slow.py,
ANTRIAN_SLOW). The measured work itself (rates, press gaps, intervals) is never scaled.

The bench scripts run as `python bench/NAME.py`, so this folder is on their import path.
"""

from __future__ import annotations

import copy
import math
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from antrian.slow import scaled  # noqa: E402

__all__ = ["BUTON", "ROOT", "open_buton", "percentile", "scaled"]
BUTON = ROOT / "examples" / "buton.yaml"


def open_buton() -> dict[str, Any]:
    """The Buton example as a dict with no quotas, every counter open at start and no
    plausibility limits (a bench's kiosks ask hundreds of times a second, which the
    dispatcher would refuse as a flood). The benches open it round the clock with
    ``Config.always_open()`` (the dispatcher's ``--always-open``): a benchmark measures
    speed, not the opening hours."""
    raw = copy.deepcopy(yaml.safe_load(BUTON.read_text(encoding="utf-8")))
    raw["limits"] = {role: {"per_minute": 1e6, "burst": 1_000_000} for role in ("kiosk", "counter", "survey")}
    for agency in raw["agencies"]:
        for service in agency["services"]:
            service.pop("quota", None)
            service.pop("booking", None)  # a share of the quota: none without one
    for counter in raw["counters"]:
        counter["open_at_start"] = True
    return raw


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1]
