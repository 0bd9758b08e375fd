"""How much slower this machine is than the x86 machine the waits were written on: one
factor, ``ANTRIAN_SLOW``, that every wait against a hang (a timeout, a deadline, a
window's start-up) and every time a test gives a device (a kiosk's reply timeout)
is multiplied by -- in the scripted morning (mall/), the benches (bench/) and the tests.

``ANTRIAN_SLOW=6`` says so outright (what arm64 emulated with qemu-user on the x86 test
machine measures); ``ANTRIAN_SLOW=1`` keeps every wait as written. Unset, the factor is measured once per
process tree: a few milliseconds of plain Python work, timed against what the same work
takes on the reference machine, rounded to a half and never below 1 (a loaded fast machine
stays at 1). The result is written back to the environment, so child processes (the
kiosk and board windows, the dispatcher of a test) use the same factor without measuring
again.

Only waits that guard against a hang, or settings a test shortens, follow the factor;
the product's own timing on site (debounce, hold time, retry intervals) does not.
"""

from __future__ import annotations

import os
import time

from antrian.errors import AntrianError

ENV = "ANTRIAN_SLOW"

# What _probe() takes on the reference machine (x86_64, Python 3.11, Debian 12, where the
# suite's waits were written): the best of several runs.
REFERENCE_SECONDS = 0.0025
# Below this a measured factor is noise (another process on the same core, a CPU clocked
# down), not a slower machine: here the best of 7 runs varies between 2.2 and 4.1 ms.
NOISE = 2.0

_factor: float | None = None


class SlowFactorError(AntrianError, ValueError):
    """ANTRIAN_SLOW is set to something that is not a positive number."""


def _probe() -> float:
    """Seconds for a fixed piece of interpreter work: dicts, strings, arithmetic."""
    start = time.perf_counter()
    table: dict[str, int] = {}
    for i in range(6000):
        table[f"A-{i:03d}"] = i * i % 97
    total = sum(len(k) + v for k, v in table.items())
    assert total > 0
    return time.perf_counter() - start


def measure(runs: int = 7) -> float:
    """This machine's factor from the probe: the best of `runs`, against the reference."""
    best = min(_probe() for _ in range(runs))
    ratio = best / REFERENCE_SECONDS
    return 1.0 if ratio < NOISE else round(ratio * 2) / 2


def parse(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise SlowFactorError(f"{ENV}={text!r}: not a positive number (1 on a fast PC, e.g. 6 on an emulated Pi)")
    return value


def factor() -> float:
    """The factor: ANTRIAN_SLOW when set, else measured once and put in the environment."""
    global _factor
    if _factor is None:
        raw = os.environ.get(ENV, "").strip()
        if raw:
            _factor = parse(raw)
        else:
            _factor = measure()
            os.environ[ENV] = f"{_factor:g}"
    return _factor


def scaled(seconds: float) -> float:
    """`seconds` as written for the reference machine, on this one."""
    return seconds * factor()
