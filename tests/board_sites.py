"""Copies of the Buton example with more counters, for the board's layout tests (issue 16).

    path = hall_site(tmp_path, 40)

The copy is open round the clock (tests/conftest.py allday_site) except Bank Sultra's
schedule, which never opens, so its services show "Tutup" on the waiting list, and
without quotas. Its
counters are Loket 1 .. Loket N: counter i serves what Buton's counter ((i - 1) mod 8)
+ 1 serves, for the same agency; every eighth one starts the day closed, as Loket 8
does. The example's panels, which name loket1 .. loket8, stay valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from conftest import allday_site, write_site

CLOSED_SCHEDULE = {day: [] for day in ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")}


def hall_raw(tmp_path: Path, counters: int) -> dict[str, Any]:
    raw = yaml.safe_load(allday_site(tmp_path).read_text(encoding="utf-8"))
    originals = [c for c in raw["counters"] if not c.get("remote")]
    made = []
    for i in range(1, counters + 1):
        pattern = originals[(i - 1) % len(originals)]
        made.append({"id": f"loket{i}", "name": f"Loket {i}", "agency": pattern["agency"],
                     "services": list(pattern["services"]), "open_at_start": i % 8 != 0})
    raw["counters"] = made
    raw["schedules"]["bank"] = CLOSED_SCHEDULE
    # A hall this size issues more than the example's quotas: no quota, no booking share.
    for agency in raw["agencies"]:
        for service in agency["services"]:
            service.pop("quota", None)
            service.pop("booking", None)
    return raw


def hall_site(tmp_path: Path, counters: int, **board3: Any) -> Path:
    """The copy as a site file; *board3* options are set on the browser board."""
    raw = hall_raw(tmp_path, counters)
    for device in raw["devices"]:
        if device["id"] == "board3":
            device.update(board3)
    return write_site(tmp_path / "site.yaml", raw)
