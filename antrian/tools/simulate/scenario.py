"""A simulated day's set-up: who is expected per service and hour, and which
counters are staffed when (the defaults, or an arrivals file; see the package docstring).
"""


from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

from antrian.site import Config, ConfigError, Counter
from antrian.site.sections import ID
from antrian.site.reader import Reader
from antrian.errors import SimulationError


# Relative arrival intensity per local hour: the morning rush of an Indonesian public
# office, a dip at lunch and a tail in the afternoon.
PEAK = {7: 0.6, 8: 1.6, 9: 1.8, 10: 1.5, 11: 1.1, 12: 0.7, 13: 0.9, 14: 0.7, 15: 0.5, 16: 0.4}
DEFAULT_CV = 0.5  # spread of service times: standard deviation / mean
DEFAULT_NO_SHOW = 0.05
DEFAULT_PRIORITY = 0.08
MIN_SERVICE_MIN = 0.5
NO_SHOW_WAIT_MIN = 2.0  # how long an officer waits for a called citizen before pressing no-show
# Bookings (issue 15): the share of a booking service's citizens who book is the site
# file's booking share unless the scenario says otherwise; of those who booked, this
# share never comes (a booking no-show), and the others come to the kiosk around their
# slot's start: OFFSET minutes after it on average (negative: early), SPREAD minutes
# standard deviation (normal). Assumptions, not measurements: see examples/simulasi-buton.yaml.
DEFAULT_BOOKING_NO_SHOW = 0.15
DEFAULT_BOOKING_OFFSET = -10.0
DEFAULT_BOOKING_SPREAD = 10.0
HARD_STOP = dt.time(23, 30)  # everyone goes home: the business day (and numbering) ends at midnight
_SPEC = re.compile(r"^(?P<id>[a-z0-9][a-z0-9_-]{0,31})(?:=(?P<copy>[a-z0-9][a-z0-9_-]{0,31}))?"
                   r"(?:@(?P<hours>[0-9:+\-]+))?$")
_HOURS = re.compile(r"^(\d{1,2})(?::(\d{2}))?-(\d{1,2})(?::(\d{2}))?$")


@dataclasses.dataclass(frozen=True)
class BookingPlan:
    """Who of a service's citizens books a slot online, and how they come to check in."""

    share: float  # of the service's citizens: book a slot near the time they would come
    no_show: float  # of those who booked: never come (the booking expires)
    offset_min: float  # mean of arrival at the kiosk minus the slot's start (negative: early)
    spread_min: float  # its standard deviation


NO_BOOKING = BookingPlan(0.0, DEFAULT_BOOKING_NO_SHOW, DEFAULT_BOOKING_OFFSET, DEFAULT_BOOKING_SPREAD)


@dataclasses.dataclass(frozen=True)
class ServicePlan:
    per_hour: Mapping[int, float]  # local hour -> citizens per open hour
    service_min: float
    cv: float
    no_show: float
    priority: float
    booking: BookingPlan = NO_BOOKING

    def expected(self, config: Config, code: str, day: dt.date) -> float:
        """Citizens expected that day (before the quota turns anybody away)."""
        return sum(self.per_hour.get(h, 0) * (b - a) / 60 for a, b, h in open_pieces(config, code, day))


@dataclasses.dataclass(frozen=True)
class Scenario:
    config: Config  # the site, with any added counters
    day: dt.date
    services: Mapping[str, ServicePlan]
    staffing: Mapping[str, tuple[tuple[float, float], ...] | None]  # counter -> spans in minutes, None: all day

    @classmethod
    def build(cls, config: Config, day: dt.date, *, arrivals: Mapping[str, Any] | None = None,
              counters: str | None = None, demand: float = 1.0, source: str = "arrivals") -> Scenario:
        raw = arrivals or {}
        r = Reader()
        top = r.mapping(raw, "", {"services", "defaults", "counters"})
        defaults = r.mapping(top.get("defaults") or {}, "defaults",
                             {"cv", "no_show", "priority", "demand", "booking"})
        base = {
            "cv": r.number(defaults.get("cv"), "defaults.cv", default=DEFAULT_CV, low=0, high=3),
            "no_show": r.number(defaults.get("no_show"), "defaults.no_show", default=DEFAULT_NO_SHOW, low=0, high=1),
            "priority": r.number(defaults.get("priority"), "defaults.priority", default=DEFAULT_PRIORITY,
                                 low=0, high=1),
            "demand": r.number(defaults.get("demand"), "defaults.demand", default=1.0, low=0, high=100) * demand,
            "booking": _booking_defaults(r, defaults.get("booking")),
        }
        given = r.mapping(top.get("services") or {}, "services", set(config.services))
        plans = {code: _plan(r, config, day, code, given.get(code) or {}, f"services.{code}", base)
                 for code in config.services}
        config, staffing = _staffing(r, config, day, top.get("counters"), counters)
        if r.problems:
            raise ConfigError(source, r.problems)
        return cls(config, day, MappingProxyType(plans), MappingProxyType(staffing))


def open_pieces(config: Config, code: str, day: dt.date) -> list[tuple[float, float, int]]:
    """The service's opening time that day cut at every full hour: (start, end, hour) in minutes."""
    if day in config.holidays:
        return []
    pieces = []
    for a, b in config.schedules[config.services[code].schedule].spans(day):
        lo, hi = a.hour * 60 + a.minute, (24 * 60 if b == dt.time.max else b.hour * 60 + b.minute)
        while lo < hi:
            cut = min(hi, (lo // 60 + 1) * 60)
            pieces.append((float(lo), float(cut), lo // 60))
            lo = cut
    return pieces


def _plan(r: Reader, config: Config, day: dt.date, code: str, raw: Any, path: str,
          base: dict[str, float]) -> ServicePlan:
    m = r.mapping(raw, path, {"per_hour", "scale", "service_min", "cv", "no_show", "priority", "booking"})
    svc = config.services[code]
    common = dict(
        booking=_booking(r, svc, m.get("booking"), f"{path}.booking", base["booking"]),
        service_min=r.number(m.get("service_min"), f"{path}.service_min", default=svc.service_min, low=0.5, high=480),
        cv=r.number(m.get("cv"), f"{path}.cv", default=base["cv"], low=0, high=3),
        no_show=r.number(m.get("no_show"), f"{path}.no_show", default=base["no_show"], low=0, high=1),
        priority=r.number(m.get("priority"), f"{path}.priority", default=base["priority"], low=0, high=1))
    if m.get("per_hour") is not None:
        rates = {}
        for key, rate in r.mapping(m["per_hour"], f"{path}.per_hour", set(m["per_hour"] or ())).items():
            hour = int(key) if isinstance(key, (int, str)) and str(key).isdigit() else None
            if hour is None or not 0 <= hour <= 23:
                r.report(f"{path}.per_hour.{key}", "not an hour of the day (0-23)")
                continue
            rates[hour] = r.number(rate, f"{path}.per_hour.{key}", default=0, low=0, high=10000)
        return ServicePlan(MappingProxyType(rates), **common)
    scale = r.number(m.get("scale"), f"{path}.scale", default=1.0, low=0, high=100) * base["demand"]
    return ServicePlan(MappingProxyType(default_rates(config, code, day, scale, common["service_min"])), **common)


BOOKING_KEYS = {"share", "no_show", "offset_min", "spread_min"}


def _booking_defaults(r: Reader, raw: Any) -> dict[str, float | None]:
    """defaults.booking: every key optional; a share given here applies to every service that takes bookings."""
    m = r.mapping(raw or {}, "defaults.booking", BOOKING_KEYS)
    return {"share": r.number(m["share"], "defaults.booking.share", default=0, low=0, high=1) if "share" in m else None,
            "no_show": r.number(m.get("no_show"), "defaults.booking.no_show", default=DEFAULT_BOOKING_NO_SHOW,
                                low=0, high=1),
            "offset_min": r.number(m.get("offset_min"), "defaults.booking.offset_min", default=DEFAULT_BOOKING_OFFSET,
                                   low=-240, high=240),
            "spread_min": r.number(m.get("spread_min"), "defaults.booking.spread_min", default=DEFAULT_BOOKING_SPREAD,
                                   low=0, high=240)}


def _booking(r: Reader, svc, raw: Any, path: str, base: dict[str, float | None]) -> BookingPlan:
    """A service's bookings: its `booking:` keys over defaults.booking; the share defaults to
    the site file's booking share, and is 0 for a service that takes no bookings."""
    m = r.mapping(raw or {}, path, BOOKING_KEYS)
    takes = svc.booking is not None and svc.quota is not None
    own = base["share"] if base["share"] is not None else (svc.booking.share if takes else 0.0)
    share = r.number(m.get("share"), f"{path}.share", default=own if takes else 0.0, low=0, high=1)
    if share and not takes:
        r.report(f"{path}.share", f"{svc.code} takes no bookings (no booking block, or no quota, in the site file)")
    return BookingPlan(
        share, r.number(m.get("no_show"), f"{path}.no_show", default=base["no_show"], low=0, high=1),
        r.number(m.get("offset_min"), f"{path}.offset_min", default=base["offset_min"], low=-240, high=240),
        r.number(m.get("spread_min"), f"{path}.spread_min", default=base["spread_min"], low=0, high=240))


def _weight(config: Config, code: str, day: dt.date) -> float:
    """The day's open hours, each weighted by the morning peak."""
    return sum(PEAK.get(h, 0.4) * (b - a) / 60 for a, b, h in open_pieces(config, code, day))


def default_rates(config: Config, code: str, day: dt.date, scale: float, service_min: float) -> dict[int, float]:
    """Hourly rates that bring the service's quota (times `scale`) over its open hours, peaking
    in the morning; without a quota, what one counter serves in those hours, times 0.8.

    The quota is what the service's fullest day of the week brings; a shorter day (Friday's long
    prayer break, a half day) has the same hourly rates for the hours it is open, so it gets its
    part: a quota crowded into a Friday's fewer hours would predict a queue no MPP sees then."""
    pieces = open_pieces(config, code, day)
    if not pieces:
        return {}
    quota = config.services[code].quota
    if quota is None:
        demand, weight = scale * 0.8 * sum(b - a for a, b, _ in pieces) / service_min, _weight(config, code, day)
    else:
        demand, weight = scale * quota, max(_weight(config, code, day + dt.timedelta(days=k)) for k in range(7))
    return {h: demand * PEAK.get(h, 0.4) / weight for h in sorted({h for _, _, h in pieces})}


def _minutes(text: str, path: str, r: Reader) -> tuple[float, float] | None:
    m = _HOURS.match(text.strip())
    if not m:
        r.report(path, f"{text!r} is not hours like '08-12' or '08:00-12:30'")
        return None
    h1, m1, h2, m2 = (int(g or 0) for g in m.groups())
    lo, hi = h1 * 60 + m1, h2 * 60 + m2
    if not (0 <= lo < hi <= 24 * 60 and m1 < 60 and m2 < 60):
        r.report(path, f"{text!r} is not a span of one day")
        return None
    return float(lo), float(hi)


def _staffing(r: Reader, config: Config, day: dt.date, raw: Any, spec: str | None):
    """The counters staffed in the scenario (new ones added to the config) and their hours."""
    entries: list[tuple[str, str | None, list[str] | None, str]] = []  # id, copy_of, spans, path
    if spec:
        for i, item in enumerate(x.strip() for x in spec.split(",") if x.strip()):
            if item in ("default", "all"):
                entries += [(c.id, None, None, f"--counters[{i}]") for c in config.counters.values()
                            if item == "all" or c.open_at_start]
                continue
            m = _SPEC.match(item)
            if not m:
                r.report(f"--counters[{i}]", f"{item!r} is not like loket1, loket1@08-12, loket9=loket1 or default")
                continue
            hours = m.group("hours").split("+") if m.group("hours") else None
            entries.append((m.group("id"), m.group("copy"), hours, f"--counters[{i}]"))
    elif raw is not None:
        for cid, value in r.mapping(raw, "counters", set(raw) if isinstance(raw, dict) else set()).items():
            path, copy, hours = f"counters.{cid}", None, None
            if isinstance(value, dict):
                value = r.mapping(value, path, {"copy_of", "hours"})
                copy, hours = value.get("copy_of"), value.get("hours")
            elif value != "all_day":
                hours = value
            if hours is not None and not (isinstance(hours, list) and all(isinstance(h, str) for h in hours)):
                r.report(path, "hours must be a list like ['08:00-12:00'] or all_day")
                hours = None
            entries.append((str(cid), copy, hours, path))
    else:
        entries = [(c.id, None, None, "") for c in config.counters.values() if c.open_at_start]

    counters = dict(config.counters)
    staffing: dict[str, tuple[tuple[float, float], ...] | None] = {}
    for cid, copy, hours, path in entries:
        if copy is not None:
            if copy not in config.counters:
                r.report(path, f"cannot copy unknown counter {copy!r} (known: {', '.join(config.counters)})")
                continue
            if cid in counters:
                r.report(path, f"a new counter needs a new id; {cid!r} is already a counter")
                continue
            if not ID.match(cid):
                r.report(path, f"{cid!r} is not a valid counter id")
                continue
            t = config.counters[copy]
            counters[cid] = Counter(cid, f"{t.name} ({cid})", t.services, t.agency, open_at_start=False)
        elif cid not in counters:
            r.report(path, f"unknown counter {cid!r} (known: {', '.join(counters)}; add one with NEW=COPY_OF)")
            continue
        spans = None
        if hours is not None:
            spans = tuple(s for j, h in enumerate(hours) if (s := _minutes(h, f"{path}.hours[{j}]", r)))
        staffing[cid] = spans
    return dataclasses.replace(config, counters=MappingProxyType(counters)), staffing


# -- the citizens -----------------------------------------------------------------------



def load_arrivals(path: str | Path) -> dict[str, Any]:
    """The arrivals YAML file, parsed (ConfigError with the file name when it cannot be)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [("", f"cannot read the file: {exc.strerror}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [("", f"not valid YAML: {exc}")]) from None
    return raw or {}


def first_open_day(config: Config, start: dt.date) -> dt.date:
    """`start`, or the first day after it on which some service is open."""
    for i in range(366):
        day = start + dt.timedelta(days=i)
        if any(open_pieces(config, code, day) for code in config.services):
            return day
    raise SimulationError(f"{config.source}: no service opens in the year from {start}")
