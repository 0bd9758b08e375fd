"""Reading the site file: YAML text -> checked, frozen `Config` (antrian/site/model.py).

A technician edits one file to add an agency, a service or a counter, so a typo must
never crash a device: `load(path)` collects *every* problem with its path
(``counters[2].services[0]: unknown service 'KTX'``) and raises one `ConfigError`
listing them all. Unknown keys are errors too: a misspelt ``qouta`` silently ignored
would be a service with no quota.

What is checked is declared once, in antrian/site/sections.py (the core's sections)
and in each role's `schema` (antrian/wings.py): this module runs those checks and
builds the frozen objects from the cleaned values. A device's own options (printer,
pins, voice) are checked with the schema of the wing that owns its role, so
`check-config` reports those problems as well without loading any device library.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType
from typing import Any

from antrian import wings
from antrian.errors import ConfigError
from antrian.site.model import (DEFAULT_PRIORITY_GROUPS, WEEKDAYS, Agency, Announcement, BookingRules, Broker,
                                BrokerTLS, Central, Config, Counter, Device, Holiday, Limits, PriorityGroup, QueueRules,
                                Schedule, Service, Site, SiteLimits)
from antrian.site.reader import freeze, parse_yaml, read_yaml
from antrian.site.schema import Problems, Section, check
from antrian.site.sections import DEVICE, TOP


def load(path: str | Path) -> Config:
    """Read and validate a site file; raise ConfigError listing every problem."""
    return build(read_yaml(path), str(path))


def parse(text: str, source: str = "<site file>") -> Config:
    """Validate the text of a site file; raise ConfigError listing every problem."""
    return build(parse_yaml(text, source), source)


def build(raw: Any, source: str) -> Config:
    """The Config of parsed YAML; ConfigError listing every problem."""
    problems = Problems()
    top = check(TOP, raw, "", problems, {"source": source})  # source: where relative files are
    if problems:
        raise ConfigError(source, problems)
    config = _config(top, source)
    # Device options are checked against the whole, otherwise valid, config (a pin map
    # names counters, a board's word clips depend on the counters' names), so they come last.
    roles = wings.registry().roles
    for i, (entry, device) in enumerate(zip(raw.get("devices") or (), config.devices.values())):
        schema = roles[device.role].schema
        if schema is not None:
            check(device_schema(schema), entry, f"devices[{i}]", problems, {"config": config})
    if problems:
        raise ConfigError(source, problems)
    return config


def device_schema(options: Section) -> Section:
    """A role's option schema as the schema of a whole device entry (id, role, name and
    the options), so an unknown key is named with everything that is allowed."""
    return dataclasses.replace(options, fields={**DEVICE.fields, **options.fields})


def _config(top: dict, source: str) -> Config:
    agencies, services = _agencies(top["agencies"])
    roles = top.get("limits") or {}
    limits = SiteLimits(**{role: _limits(roles.get(role), getattr(SiteLimits, role))
                           for role in ("kiosk", "counter", "survey", "booking")})
    counters = {c["id"]: Counter(c["id"], c["name"], tuple(c["services"]),
                                 c["agency"] or services[c["services"][0]].agency, c["open_at_start"],
                                 _limits(c["limits"], limits.counter) if c.get("limits") else None,
                                 c["remote"], c["location"], c["meeting_url"])
                for c in top["counters"]}
    groups = top["priority_groups"]
    return Config(
        source, Site(**top["site"]), _broker(top["broker"], source),
        QueueRules(**top["queue"]) if top["queue"] else QueueRules(),
        Announcement(**top["announcement"]) if top["announcement"] else Announcement(),
        tuple(PriorityGroup(g["id"], g["name"]) for g in groups) if groups is not None
        else tuple(PriorityGroup(i, n) for i, n in DEFAULT_PRIORITY_GROUPS),
        MappingProxyType({name: Schedule(name, tuple(tuple(week[d]) for d in WEEKDAYS))
                          for name, week in top["schedules"].items()}),
        MappingProxyType({h["date"]: Holiday(h["date"], h["name"]) for h in top["holidays"]}),
        agencies, MappingProxyType(services), MappingProxyType(counters),
        MappingProxyType({d["id"]: _device(d, limits) for d in top["devices"]}), limits)


def _limits(block: dict | None, base: Limits) -> Limits:
    """A `limits:` block over `base`: the keys it leaves out keep base's values."""
    return dataclasses.replace(base, **{k: v for k, v in (block or {}).items() if v is not None})


def _broker(broker: dict | None, source: str) -> Broker:
    if broker is None:
        return Broker()
    # A relative file or folder is read from the site file's folder.
    base = Path(source).resolve().parent if source and not source.startswith("<") else None

    def path(name: str | None) -> str | None:
        if name is None or base is None or Path(name).is_absolute():
            return name
        return str(base / name)

    tls, central = broker["tls"], broker["central"]
    return Broker(
        host=broker["host"], port=broker["port"], credentials_dir=path(broker["credentials_dir"]),
        tls=tls and BrokerTLS(ca=path(tls["ca"]), port=tls["port"], cert=path(tls["cert"]), key=path(tls["key"])),
        websocket_port=broker["websocket_port"],
        central=central and Central(host=central["host"], port=central["port"], username=central["username"],
                                    password_file=path(central["password_file"]), ca=path(central["ca"])))


def _agencies(items: list[dict]) -> tuple[tuple[Agency, ...], dict[str, Service]]:
    agencies, services = [], {}
    for a in items:
        for s in a["services"]:
            booking = s.get("booking") and BookingRules(**s["booking"])
            services[s["code"]] = Service(agency=a["id"], **{**s, "requirements": tuple(s["requirements"]),
                                                             "booking": booking})
        agencies.append(Agency(a["id"], a["name"], a["short_name"] or a["name"], a["color"], a["logo"],
                               tuple(s["code"] for s in a["services"])))
    return tuple(agencies), services


def _device(d: dict, limits: SiteLimits) -> Device:
    own = _limits(d["limits"], limits.kiosk if d["role"] == "kiosk" else limits.survey) if d.get("limits") else None
    return Device(d["id"], d["role"], d["name"] or d["id"],
                  MappingProxyType({k: freeze(v) for k, v in d.get("options", {}).items()}), own)
