"""Reading the site file: YAML text -> checked, frozen `Config` (antrian/site/model.py).

A technician edits one file to add an agency, a service or a counter, so a typo must
never crash a device: `load(path)` collects *every* problem with its path
(``counters[2].services[0]: unknown service 'KTX'``) and raises one `ConfigError`
listing them all. Unknown keys are errors too: a misspelt ``qouta`` silently ignored
would be a service with no quota.

A device's own options (printer, pins, voice) are checked by the wing that owns its
role, found through the registry (antrian/wings.py), so `check-config` reports those
problems as well without loading any device library.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from antrian import bahasa, wings
from antrian.errors import ConfigError
from antrian.site.reader import Reader, freeze, join, kind
from antrian.site.model import (DEFAULT_PRIORITY_GROUPS, WEEKDAYS, Agency, Announcement, Broker, BrokerTLS, Central,
                                Config, Counter, Device, Holiday, PriorityGroup, QueueRules, Schedule, Service, Site)

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_CODE = re.compile(r"^[A-Z0-9]{1,8}$")
_PREFIX = re.compile(r"^[A-Z]{1,2}$")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def load(path: str | Path) -> Config:
    """Read and validate a site file; raise ConfigError listing every problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [("", f"cannot read the file: {exc.strerror}")]) from None
    except UnicodeDecodeError:
        raise ConfigError(source, [("", "the file is not UTF-8 text")]) from None
    return parse(text, source)


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps an impossible date (``2026-02-30``) as text: yaml would
    raise a bare ValueError with no place; the validator reports it with its path."""

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def parse(text: str, source: str = "<site file>") -> Config:
    try:
        raw = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [(where, f"not valid YAML: {problem}")]) from None
    return build(raw, source)


def build(raw: Any, source: str) -> Config:
    r = Reader()
    top = r.mapping(raw, "", {"site", "broker", "queue", "announcement", "priority_groups", "schedules",
                              "holidays", "agencies", "counters", "devices"},
                    {"site", "schedules", "agencies", "counters"})

    site = _site(r, top.get("site"))
    broker = _broker(r, top.get("broker"), source)
    queue = _queue(r, top.get("queue"))
    announcement = _announcement(r, top.get("announcement"))
    groups = _priority_groups(r, top.get("priority_groups"))
    schedules = _schedules(r, top.get("schedules"))
    holidays = _holidays(r, top.get("holidays"))
    agencies, services = _agencies(r, top.get("agencies"), schedules)
    counters = _counters(r, top.get("counters"), services, {a.id for a in agencies})
    devices = _devices(r, top.get("devices"))

    if r.problems:
        raise ConfigError(source, r.problems)
    config = Config(source, site, broker, queue, announcement, groups, MappingProxyType(schedules),
                    MappingProxyType(holidays), agencies, MappingProxyType(services),
                    MappingProxyType(counters), MappingProxyType(devices))
    # Device options are checked against the whole, otherwise valid, config (a pin map
    # names counters), so they come last.
    roles = wings.registry().roles
    for i, dev in enumerate(devices.values()):
        role = roles.get(dev.role)
        if role is not None and role.check is not None:
            role.check(dev.options, f"devices[{i}]", config, r.report)
    if r.problems:
        raise ConfigError(source, r.problems)
    return config


def _site(r: Reader, raw: Any) -> Site:
    m = r.mapping(raw, "site", {"id", "name", "address", "timezone", "logo", "running_text"},
                  {"id", "name", "timezone"})
    tz = r.text(m.get("timezone"), "site.timezone", default="Asia/Jakarta")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        r.report("site.timezone", f"unknown time zone {tz!r} (e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura)")
    return Site(
        id=r.text(m.get("id"), "site.id", pattern=ID, hint="lower-case letters, digits, '-' or '_'"),
        name=r.text(m.get("name"), "site.name"),
        address=r.text(m.get("address"), "site.address", default=""),
        timezone=tz,
        logo=m.get("logo") and r.text(m.get("logo"), "site.logo"),
        running_text=r.text(m.get("running_text"), "site.running_text", default=""),
    )


_SECRET_KEYS = {"password", "passwd", "secret", "passwords", "key_password"}


def _no_secrets(r: Reader, raw: Any, path: str) -> set:
    """Report a password written into the site file; returns those keys (so they are not
    also reported as unknown)."""
    found = {k for k in raw if k in _SECRET_KEYS} if isinstance(raw, dict) else set()
    for key in sorted(found):
        r.report(join(path, key), "passwords do not belong in the site file: put the password in a "
                                   "file and name that file (credentials_dir, password_file)")
    return found


def _path(r: Reader, value: Any, path: str, base: Path | None) -> str | None:
    """A file or folder name; a relative one is read from the site file's folder."""
    if value is None:
        return None
    text = r.text(value, path)
    if text and base is not None and not Path(text).is_absolute():
        text = str(base / text)
    return text or None


def _broker(r: Reader, raw: Any, source: str = "") -> Broker:
    if raw is None:
        return Broker()
    base = Path(source).resolve().parent if source and not source.startswith("<") else None
    allowed = {"host", "port", "credentials_dir", "tls", "websocket_port", "central"}
    m = r.mapping(raw, "broker", allowed | _no_secrets(r, raw, "broker"))
    port = r.integer(m.get("port"), "broker.port", default=1883, low=1, high=65535)
    tls = None
    if m.get("tls") is not None:
        t = r.mapping(m["tls"], "broker.tls", {"ca", "port", "cert", "key"}, {"ca"})
        tls = BrokerTLS(ca=_path(r, t.get("ca"), "broker.tls.ca", base) or "",
                        port=r.integer(t.get("port"), "broker.tls.port", default=8883, low=1, high=65535),
                        cert=_path(r, t.get("cert"), "broker.tls.cert", base),
                        key=_path(r, t.get("key"), "broker.tls.key", base))
        if (tls.cert is None) != (tls.key is None):
            r.report("broker.tls", "cert and key go together (the broker's certificate and its private key)")
    ws = r.integer(m.get("websocket_port"), "broker.websocket_port", default=None, low=1, high=65535)
    ports = [("broker.port", port), ("broker.tls.port", tls.port if tls else None), ("broker.websocket_port", ws)]
    seen: dict[int, str] = {}
    for where, number in ports:
        if number is not None and number in seen:
            r.report(where, f"port {number} is already used by {seen[number]}")
        elif number is not None:
            seen[number] = where
    central = None
    if m.get("central") is not None:
        raw_c = m["central"]
        c = r.mapping(raw_c, "broker.central", {"host", "port", "username", "password_file", "ca"}
                      | _no_secrets(r, raw_c, "broker.central"), {"host"})
        central = Central(host=r.text(c.get("host"), "broker.central.host"),
                          port=r.integer(c.get("port"), "broker.central.port", default=1883, low=1, high=65535),
                          username=c.get("username") and r.text(c.get("username"), "broker.central.username"),
                          password_file=_path(r, c.get("password_file"), "broker.central.password_file", base),
                          ca=_path(r, c.get("ca"), "broker.central.ca", base))
        if central.password_file and not central.username:
            r.report("broker.central.username", "required with password_file")
    return Broker(host=r.text(m.get("host"), "broker.host", default="127.0.0.1"), port=port,
                  credentials_dir=_path(r, m.get("credentials_dir"), "broker.credentials_dir", base),
                  tls=tls, websocket_port=ws, central=central)


def _queue(r: Reader, raw: Any) -> QueueRules:
    if raw is None:
        return QueueRules()
    m = r.mapping(raw, "queue", {f.name for f in dataclasses.fields(QueueRules)})
    d = QueueRules()
    return QueueRules(
        priority_streak=r.integer(m.get("priority_streak"), "queue.priority_streak",
                                  default=d.priority_streak, low=1, high=100),
        max_recalls=r.integer(m.get("max_recalls"), "queue.max_recalls", default=d.max_recalls, low=0, high=20),
        late_tolerance=r.integer(m.get("late_tolerance"), "queue.late_tolerance",
                                 default=d.late_tolerance, low=0, high=1000),
        recent_services=r.integer(m.get("recent_services"), "queue.recent_services",
                                  default=d.recent_services, low=1, high=1000),
    )


def _announcement(r: Reader, raw: Any) -> Announcement:
    if raw is None:
        return Announcement()
    m = r.mapping(raw, "announcement", {"template", "digits"})
    template = r.text(m.get("template"), "announcement.template", default=bahasa.DEFAULT_TEMPLATE)
    for problem in bahasa.check_template(template):
        r.report("announcement.template", problem)
    return Announcement(template=template, digits=r.flag(m.get("digits"), "announcement.digits", False))


def _priority_groups(r: Reader, raw: Any) -> tuple[PriorityGroup, ...]:
    if raw is None:
        return tuple(PriorityGroup(i, n) for i, n in DEFAULT_PRIORITY_GROUPS)
    groups, seen = [], set()
    for i, item in enumerate(r.seq(raw, "priority_groups")):
        path = f"priority_groups[{i}]"
        m = r.mapping(item, path, {"id", "name"}, {"id", "name"})
        gid = r.text(m.get("id"), f"{path}.id", pattern=ID, hint="lower-case letters, digits, '_'")
        if gid in seen:
            r.report(f"{path}.id", f"duplicate priority group {gid!r}")
        seen.add(gid)
        groups.append(PriorityGroup(gid, r.text(m.get("name"), f"{path}.name")))
    return tuple(groups)


def _spans(r: Reader, raw: Any, path: str) -> tuple[tuple[dt.time, dt.time], ...]:
    spans = []
    for j, text in enumerate(r.seq(raw, path, required=False)):
        m = _SPAN.match(text) if isinstance(text, str) else None
        if not m:
            r.report(f"{path}[{j}]", f"{text!r} is not a span like '08:00-12:00'")
            continue
        h1, m1, h2, m2 = map(int, m.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            r.report(f"{path}[{j}]", f"{text!r} is not a valid time of day")
            continue
        # "24:00" closes at the very end of the day (a round-the-clock service).
        start, end = dt.time(h1, m1), dt.time.max if h2 == 24 else dt.time(h2, m2)
        if end <= start:
            r.report(f"{path}[{j}]", f"{text!r} ends before it starts")
        elif spans and start < spans[-1][1]:
            r.report(f"{path}[{j}]", f"{text!r} overlaps or comes before the previous span")
        else:
            spans.append((start, end))
    return tuple(spans)


def _schedules(r: Reader, raw: Any) -> dict[str, Schedule]:
    out: dict[str, Schedule] = {}
    m = r.mapping(raw, "schedules", set(raw) if isinstance(raw, dict) else set())
    if isinstance(raw, dict) and not raw:
        r.report("schedules", "at least one schedule is needed")
    for name, days_raw in m.items():
        path = f"schedules.{name}"
        days = r.mapping(days_raw, path, set(WEEKDAYS))
        out[str(name)] = Schedule(str(name), tuple(_spans(r, days.get(d), f"{path}.{d}") for d in WEEKDAYS))
    return out


def _holidays(r: Reader, raw: Any) -> dict[dt.date, Holiday]:
    out: dict[dt.date, Holiday] = {}
    for i, item in enumerate(r.seq(raw, "holidays", required=False)):
        path = f"holidays[{i}]"
        m = r.mapping(item, path, {"date", "name"}, {"date", "name"})
        day = m.get("date")
        if isinstance(day, str):
            try:
                day = dt.date.fromisoformat(day)
            except ValueError:
                pass
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            r.report(f"{path}.date", f"{m.get('date')!r} is not a date like 2026-12-25")
            continue
        if day in out:
            r.report(f"{path}.date", f"{day} is listed twice (also as {out[day].name!r})")
        out[day] = Holiday(day, r.text(m.get("name"), f"{path}.name"))
    return out


def _agencies(r: Reader, raw: Any, schedules: dict[str, Schedule]) -> tuple[tuple[Agency, ...], dict[str, Service]]:
    agencies, services, prefixes, ids = [], {}, {}, set()
    items = r.seq(raw, "agencies")
    if isinstance(raw, list) and not raw:
        r.report("agencies", "at least one agency is needed")
    for i, item in enumerate(items):
        path = f"agencies[{i}]"
        m = r.mapping(item, path, {"id", "name", "short_name", "color", "logo", "services"},
                      {"id", "name", "services"})
        aid = r.text(m.get("id"), f"{path}.id", pattern=ID, hint="lower-case letters, digits, '-' or '_'")
        if aid in ids:
            r.report(f"{path}.id", f"duplicate agency {aid!r}")
        ids.add(aid)
        name = r.text(m.get("name"), f"{path}.name")
        color = r.text(m.get("color"), f"{path}.color", pattern=re.compile(r"^#[0-9A-Fa-f]{6}$"),
                       hint="a colour like '#1E88E5'", default="#00695C")
        codes = []
        for j, sraw in enumerate(r.seq(m.get("services"), f"{path}.services")):
            svc = _service(r, sraw, f"{path}.services[{j}]", aid, schedules)
            if svc is None:
                continue
            if svc.code in services:
                r.report(f"{path}.services[{j}].code", f"duplicate service code {svc.code!r}")
                continue
            if svc.prefix in prefixes:
                r.report(f"{path}.services[{j}].prefix",
                         f"prefix {svc.prefix!r} is already used by service {prefixes[svc.prefix]!r}")
            else:
                prefixes[svc.prefix] = svc.code
            # Kept even with a clashing prefix, so counters serving it are not also
            # reported as naming an unknown service.
            services[svc.code] = svc
            codes.append(svc.code)
        agencies.append(Agency(aid, name, r.text(m.get("short_name"), f"{path}.short_name", default=name),
                               color, m.get("logo") and r.text(m.get("logo"), f"{path}.logo"), tuple(codes)))
    return tuple(agencies), services


def _service(r: Reader, raw: Any, path: str, agency: str, schedules: dict[str, Schedule]) -> Service | None:
    m = r.mapping(raw, path, {"code", "prefix", "name", "quota", "schedule", "requirements", "completion",
                              "fee", "target_wait_min", "service_min"},
                  {"code", "prefix", "name", "schedule", "requirements", "completion", "fee", "target_wait_min"})
    if not m:
        return None
    schedule = r.text(m.get("schedule"), f"{path}.schedule")
    if schedule and schedule not in schedules:
        r.report(f"{path}.schedule", f"unknown schedule {schedule!r} (known: {', '.join(schedules) or 'none'})")
    requirements = tuple(r.text(x, f"{path}.requirements[{k}]")
                         for k, x in enumerate(r.seq(m.get("requirements"), f"{path}.requirements")))
    fee = m.get("fee")
    if isinstance(fee, int) and not isinstance(fee, bool):
        fee = "Gratis" if fee == 0 else f"Rp{fee:,}".replace(",", ".")
    return Service(
        code=r.text(m.get("code"), f"{path}.code", pattern=_CODE, hint="1-8 capital letters or digits"),
        prefix=r.text(m.get("prefix"), f"{path}.prefix", pattern=_PREFIX, hint="1 or 2 capital letters"),
        name=r.text(m.get("name"), f"{path}.name"),
        agency=agency,
        quota=r.integer(m.get("quota"), f"{path}.quota", default=None, low=1, high=9999),
        schedule=schedule,
        requirements=requirements,
        completion=r.text(m.get("completion"), f"{path}.completion"),
        fee=r.text(fee, f"{path}.fee"),
        target_wait_min=r.integer(m.get("target_wait_min"), f"{path}.target_wait_min", default=30, low=1, high=1440),
        service_min=r.number(m.get("service_min"), f"{path}.service_min", default=10.0, low=0.5, high=480),
    )


def _counters(r: Reader, raw: Any, services: dict[str, Service], agencies: set[str]) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    served: set[str] = set()
    items = r.seq(raw, "counters")
    if isinstance(raw, list) and not raw:
        r.report("counters", "at least one counter is needed")
    for i, item in enumerate(items):
        path = f"counters[{i}]"
        m = r.mapping(item, path, {"id", "name", "services", "agency", "open_at_start"}, {"id", "name", "services"})
        cid = r.text(m.get("id"), f"{path}.id", pattern=ID, hint="lower-case letters, digits, '-' or '_'")
        if cid in out:
            r.report(f"{path}.id", f"duplicate counter {cid!r}")
        codes = []
        svc_list = r.seq(m.get("services"), f"{path}.services")
        if isinstance(m.get("services"), list) and not svc_list:
            r.report(f"{path}.services", "a counter must serve at least one service")
        for j, code in enumerate(svc_list):
            if not isinstance(code, str) or code not in services:  # a list or mapping is unhashable
                r.report(f"{path}.services[{j}]", f"unknown service {code!r}")
            elif code in codes:
                r.report(f"{path}.services[{j}]", f"service {code!r} listed twice")
            else:
                codes.append(code)
        agency = m.get("agency")
        if agency is not None and (not isinstance(agency, str) or agency not in agencies):
            r.report(f"{path}.agency", f"unknown agency {agency!r}")
        served.update(codes)
        out[cid] = Counter(cid, r.text(m.get("name"), f"{path}.name"), tuple(codes),
                           agency or (services[codes[0]].agency if codes else None),
                           r.flag(m.get("open_at_start"), f"{path}.open_at_start", True))
    for code in services:
        if code not in served and isinstance(raw, list):
            # A ticket for a service no counter serves is a number nobody will call.
            r.report("counters", f"no counter serves service {code!r}")
    return out


def _devices(r: Reader, raw: Any) -> dict[str, Device]:
    out: dict[str, Device] = {}
    registry = wings.registry()
    roles = registry.roles
    for i, item in enumerate(r.seq(raw, "devices", required=False)):
        path = f"devices[{i}]"
        if not isinstance(item, dict):
            r.report(path, f"must be a mapping, not {kind(item)}")
            continue
        did = r.text(item.get("id"), f"{path}.id", pattern=ID, hint="lower-case letters, digits, '-' or '_'")
        role = item.get("role")
        if not isinstance(role, str) or role not in roles:
            r.report(f"{path}.role", f"{role!r} is not one of {', '.join(sorted(roles))}{registry.missing()}")
        if did in out:
            r.report(f"{path}.id", f"duplicate device {did!r}")
        options = {k: freeze(v) for k, v in item.items() if k not in {"id", "role", "name"}}
        out[did] = Device(did, str(role), r.text(item.get("name"), f"{path}.name", default=did),
                          MappingProxyType(options))
    return out
