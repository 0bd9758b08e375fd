"""Site files and places shared by the kiosk's tests and bench/kiosk.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from conftest import ROOT, allday_site

from antrian.slow import scaled

ARTIFACTS = ROOT / "test-artifacts"  # screenshots kept for a look (git-ignored)


def kiosk_site(tmp_path: Path, printer_port: int, *, printer: dict[str, Any] | None = None,
               kiosk: dict[str, Any] | None = None, services: dict[str, dict[str, Any]] | None = None,
               closed: tuple[str, ...] = ()) -> Path:
    """The all-day Buton site, kiosk1's printer on 127.0.0.1:`printer_port` (TM-T20II).

    `services` changes services by code ({"KTP": {"quota": 1}}); `closed` services get a
    schedule with no opening hours at all. The kiosk never goes home by itself (idle_seconds
    3600, the most) unless `kiosk` says otherwise: on a slow machine a test's screenshot
    can take longer than the 30 s of the example."""
    path = allday_site(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    device = next(d for d in raw["devices"] if d["id"] == "kiosk1")
    # The printer's timeout guards against a hang of the fake printer in the test process: scaled.
    device["printer"] = {"connection": "network", "host": "127.0.0.1", "port": printer_port, "profile": "TM-T20II",
                         "timeout": scaled(0.5), "check_seconds": 1, **(printer or {})}
    device.update({"idle_seconds": 3600, **(kiosk or {})})
    if closed:
        raw["schedules"]["tutup"] = {}
    for agency in raw["agencies"]:
        for service in agency["services"]:
            service.update((services or {}).get(service["code"], {}))
            if service["code"] in closed:
                service["schedule"] = "tutup"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
