"""Copies of the Buton example with more counters, for the board's layout tests (issue 16).

    path = hall_site(tmp_path, 40)

The copy is open round the clock (tests/conftest.py allday_site) except Bank Sultra's
schedule, which never opens, so its services show "Tutup" on the waiting list, and
without quotas. Its
counters are Loket 1 .. Loket N: counter i serves what Buton's counter ((i - 1) mod 8)
+ 1 serves, for the same agency; every eighth one starts the day closed, as Loket 8
does. The example's panels, which name loket1 .. loket8, stay valid.

    path = hall_site(tmp_path, 16, services=40)

gives the copy 40 services (the waiting list's pages): the example's 12 and, after each
agency's own, more of that agency ("Layanan Disdukcapil 1", on the board "Disdukcapil 1"; prefixes NA, NB, ...), served
by that agency's counters. `service_codes(raw)` lists them in the site file's order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from conftest import allday_site, write_site

CLOSED_SCHEDULE = {day: [] for day in ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")}


def hall_raw(tmp_path: Path, counters: int, services: int = 0) -> dict[str, Any]:
    raw = yaml.safe_load(allday_site(tmp_path).read_text(encoding="utf-8"))
    originals = [c for c in raw["counters"] if not c.get("remote")]
    made = []
    for i in range(1, counters + 1):
        pattern = originals[(i - 1) % len(originals)]
        made.append({"id": f"loket{i}", "name": f"Loket {i}", "agency": pattern["agency"],
                     "services": list(pattern["services"]), "open_at_start": i % 8 != 0})
    raw["counters"] = made
    if services:
        _more_services(raw, services)
    raw["schedules"]["bank"] = CLOSED_SCHEDULE
    # A hall this size issues more than the example's quotas: no quota, no booking share.
    for agency in raw["agencies"]:
        for service in agency["services"]:
            service.pop("quota", None)
            service.pop("booking", None)
    return raw


def _more_services(raw: dict[str, Any], total: int) -> None:
    """Services added round the agencies until the site has *total*, each served by
    every counter of its agency."""
    agencies = raw["agencies"]
    have = sum(len(a["services"]) for a in agencies)
    for n in range(total - have):
        agency = agencies[n % len(agencies)]
        template = agency["services"][0]
        code = f"X{n + 1:02d}"
        short = agency.get("short_name") or agency["id"]
        agency["services"].append({**template, "code": code, "prefix": "N" + "ABCDEFGHJKLMNPQRSTUVWXYZ"[n % 24]
                                   if n < 24 else "P" + "ABCDEFGHJKLMNPQRSTUVWXYZ"[n - 24],
                                   "name": f"Layanan {short} {n // len(agencies) + 1}",
                                   "board_name": f"{short} {n // len(agencies) + 1}"})
        for counter in raw["counters"]:
            if counter.get("agency") == agency["id"]:
                counter["services"].append(code)


def service_codes(raw: dict[str, Any]) -> list[str]:
    return [s["code"] for a in raw["agencies"] for s in a["services"]]


def hall_site(tmp_path: Path, counters: int, services: int = 0, **board3: Any) -> Path:
    """The copy as a site file (with *services* services when given); *board3* options
    are set on the browser board."""
    raw = hall_raw(tmp_path, counters, services)
    for device in raw["devices"]:
        if device["id"] == "board3":
            device.update(board3)
    return write_site(tmp_path / "site.yaml", raw)
