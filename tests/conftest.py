"""Shared fixtures: a real Mosquitto per test and recording MQTT clients."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from antrian.adapters.mosquitto import LocalBroker
from antrian.adapters.mqtt import parse_address
from antrian.slow import ENV, factor, scaled
from helpers import Recorder


_GIVEN = ENV in os.environ


def pytest_configure(config: Any) -> None:
    """The machine's factor, measured here once (antrian/slow.py), so every child process
    the tests start (windows, dispatchers) inherits it instead of measuring again."""
    factor()


def pytest_report_header(config: Any) -> str:
    return f"{ENV}={factor():g} ({'given' if _GIVEN else 'measured'}): every wait against a hang is scaled by it"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A started broker on a free loopback port, stopped after the test.

    Its data dir (config, log, persistence) is under tmp_path, so pytest keeps
    the broker log of a failed test for a look afterwards.
    """
    local = LocalBroker(data_dir=tmp_path / "broker")
    try:
        local.start()
        yield local
    finally:
        local.stop()


@pytest.fixture
def mqtt_client(broker: LocalBroker) -> Iterator[Callable[..., Recorder]]:
    """Factory: ``mqtt_client(client_id=None, topics=("#",), address=None, **make_client_options)``
    returns a connected, subscribed :class:`Recorder` (on the ``broker`` fixture
    unless *address* is given); all are closed after the test."""
    made: list[Recorder] = []
    numbers = itertools.count(1)

    def make(client_id: str | None = None, *, topics: Any = ("#",), address: str | None = None, **options: Any) -> Recorder:
        recorder = Recorder(client_id or f"test-client-{next(numbers)}", topics=topics, **options)
        made.append(recorder)
        host, port = parse_address(address) if address else (broker.host, broker.port)
        return recorder.start(host, port)

    try:
        yield make
    finally:
        for recorder in made:
            recorder.close()


ROOT = Path(__file__).resolve().parent.parent
BUTON = ROOT / "examples" / "buton.yaml"


def always_open_raw(raw: dict[str, Any]) -> dict[str, Any]:
    """A site-file dict made open round the clock with no holidays: the schedules are
    those of ``Config.always_open()`` written back as site-file spans ("00:00-24:00")."""
    import datetime as dt

    from antrian.site import WEEKDAYS, build

    def span(start: dt.time, end: dt.time) -> str:
        return f"{start:%H:%M}-{'24:00' if end == dt.time.max else format(end, '%H:%M')}"

    opened = build(raw, "always-open").always_open()
    raw = {**raw, "schedules": {name: {day: [span(*s) for s in spans] for day, spans in zip(WEEKDAYS, sched.days)}
                                for name, sched in opened.schedules.items()}}
    raw.pop("holidays", None)
    raw["agencies"] = without_last_ticket(raw["agencies"])
    return raw


def without_last_ticket(agencies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """As Config.always_open(): a last ticket of the real hours would close a service at night."""
    return [{**a, "services": [{k: v for k, v in s.items() if k != "last_ticket"} for s in a["services"]]}
            for a in agencies]


def no_quotas() -> list[dict[str, Any]]:
    """The Buton agencies without daily quotas (nor bookings, a share of the quota), for tests
    that issue more tickets than the example's realistic day holds."""
    import yaml

    agencies = yaml.safe_load(BUTON.read_text(encoding="utf-8"))["agencies"]
    for agency in agencies:
        for service in agency["services"]:
            service.pop("quota", None)
            service.pop("booking", None)
    return agencies


def write_site(path: Path, raw: dict[str, Any]) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# Limits no scripted device reaches: tests drive kiosks and panels at machine speed, which
# the dispatcher's plausibility limits would refuse as a flood (tests/test_guard.py tests them).
NO_LIMITS = {role: {"per_minute": 1e6, "burst": 1_000_000} for role in ("kiosk", "counter", "survey")}


def midday_zone() -> str:
    """An IANA zone where it is between 12:00 and 13:00 now: for a site whose test moves the
    dispatcher's clock back or forth by minutes on the real clock, so the business day never
    turns over under it, whatever hour the suite runs at (Buton's midnight is 16:00 UTC)."""
    offset = 12 - dt.datetime.now(dt.timezone.utc).hour  # -11 .. +12 hours from UTC
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # the POSIX sign: Etc/GMT-8 is UTC+8


def allday_site(tmp_path: Path, **changes: Any) -> Path:
    """The Buton example, open round the clock every day with no holidays, so tests
    that run a real dispatcher on the real clock never meet a closed service, and
    with `NO_LIMITS`. `changes` replace top-level sections (e.g. queue={...};
    limits=None: the dispatcher's default limits)."""
    import yaml

    raw = always_open_raw(yaml.safe_load(BUTON.read_text(encoding="utf-8")))
    raw["limits"] = NO_LIMITS
    raw.update(changes)
    # Agencies given in `changes` are often the example's own, read again with their last tickets.
    raw["agencies"] = without_last_ticket(raw["agencies"])
    return write_site(tmp_path / "site.yaml", raw)


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    return allday_site(tmp_path)


@pytest.fixture
def run_dispatcher(broker: LocalBroker, site_file: Path, tmp_path: Path):
    """Factory: start an in-process Dispatcher on the test broker; stopped after the test."""
    from antrian.site import load
    from antrian.dispatcher import Dispatcher
    from antrian.adapters.store import Store

    started: list[tuple[Dispatcher, Any]] = []

    def start(config_path: Path | None = None, db: Path | None = None, **options: Any) -> Dispatcher:
        config = load(config_path or site_file)
        store = Store(db or tmp_path / "antrian.db", config.tz)
        dispatcher = Dispatcher(config, store, **options)
        dispatcher.start(broker.host, broker.port)
        started.append((dispatcher, store))
        assert dispatcher.connection.wait_connected(scaled(5))
        return dispatcher

    try:
        yield start
    finally:
        for dispatcher, store in started:
            dispatcher.stop()
            store.close()


@pytest.fixture
def secure_site(tmp_path: Path):
    """Factory: ``secure_site(tls=None, central=None, websocket=False, **site_changes)`` -> a
    started :class:`secure.SecureSite`: the site file with broker.credentials_dir, its broker
    files and the project's Mosquitto enforcing them; stopped after the test."""
    from secure import SecureSite

    made: list[SecureSite] = []

    def make(**options: Any) -> SecureSite:
        site = SecureSite(tmp_path, **options)
        made.append(site)
        site.broker.start()
        return site

    try:
        yield make
    finally:
        for site in made:
            site.broker.stop()
