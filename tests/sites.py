"""Small site files for tests, built as dicts and turned into a Config by `antrian.site.build`.

    config = site(services=[service("A"), service("B", quota=2)],
                  counters=[counter("c1", "A", "B")], queue={"priority_streak": 1})

Every service is served by some counter (the validator insists), so pass counters that
cover the services, or leave `counters` out for one counter per service.
"""

from __future__ import annotations

from typing import Any

from antrian.site import WEEKDAYS, Config, build

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"

# Open (almost) round the clock every day: 23:59 is the latest end a span can name, and
# a span's end is exclusive, so the last open minute is 23:58.
ALL_DAY = {day: ["00:00-23:59"] for day in WEEKDAYS}

# A government office week: Friday prayer break, closed at the weekend.
OFFICE = {
    "senin": ["08:00-15:00"],
    "selasa": ["08:00-15:00"],
    "rabu": ["08:00-15:00"],
    "kamis": ["08:00-15:00"],
    "jumat": ["08:00-11:30", "13:30-15:00"],
    "sabtu": [],
    "minggu": [],
}


def service(code: str, prefix: str | None = None, *, schedule: str = "all_day", **extra: Any) -> dict[str, Any]:
    """A service whose prefix is its code's first letter unless given; extra keys
    (quota, service_min, ...) go into the site file as they are."""
    return {
        "code": code,
        "prefix": prefix or code[0],
        "name": f"Layanan {code}",
        "schedule": schedule,
        "requirements": ["KTP-el asli"],
        "completion": "1 hari kerja",
        "fee": 0,
        "target_wait_min": 30,
        **extra,
    }


def counter(cid: str, *services: str, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "name": f"Loket {cid}", "services": list(services), **extra}


def site(
    *,
    timezone: str = WIB,
    services: list[dict[str, Any]] | None = None,
    counters: list[dict[str, Any]] | None = None,
    queue: dict[str, Any] | None = None,
    holidays: list[dict[str, Any]] | None = None,
    schedules: dict[str, dict[str, list[str]]] | None = None,
) -> Config:
    services = services if services is not None else [service("A")]
    counters = counters if counters is not None else [counter(f"c{s['code'].lower()}", s["code"]) for s in services]
    raw: dict[str, Any] = {
        "site": {"id": "test", "name": "MPP Uji", "timezone": timezone},
        "schedules": schedules or {"all_day": ALL_DAY, "office": OFFICE},
        "agencies": [{"id": "dukcapil", "name": "Disdukcapil", "services": services}],
        "counters": counters,
    }
    if queue is not None:
        raw["queue"] = queue
    if holidays is not None:
        raw["holidays"] = holidays
    return build(raw, "test")
