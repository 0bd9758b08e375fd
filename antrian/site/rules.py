"""The checks across keys of the core's sections (antrian/site/sections.py).

Each is a rule of the field kit (antrian/site/schema.py): called with the cleaned value
of its field or section as the check passes it, it reports with the same `report`, and
what it learns for a later rule (the schedules before the services, the services before
the counters) it keeps in the check's `context`. A rule's docstring is its line in the
reference docs/site-file.md. A part of the value that had a problem of its own is not
there (a key) or is not a mapping (a list's item), so the rules skip it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from antrian import bahasa, wings
from antrian.site.model import BookingRules
from antrian.site.schema import Report, Rule, join

BOOKING_KEYS = tuple(f.name for f in dataclasses.fields(BookingRules))


def time_zone(tz: str, path: str, report: Report, context: dict) -> None:
    """timezone is a zone of the IANA database."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        report(path, f"unknown time zone {tz!r} (e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura)")


def cert_with_key(tls: dict, path: str, report: Report, context: dict) -> None:
    """cert and key are given together or not at all."""
    if (tls.get("cert") is None) != (tls.get("key") is None):
        report(path, "cert and key go together (the broker's certificate and its private key)")


def username_with_password(central: dict, path: str, report: Report, context: dict) -> None:
    """password_file needs a username."""
    if central.get("password_file") and not central.get("username"):
        report(join(path, "username"), "required with password_file")


def ports_differ(broker: dict, path: str, report: Report, context: dict) -> None:
    """port, tls.port and websocket_port are three different ports."""
    tls = broker.get("tls") or {}
    ports = [(join(path, "port"), broker.get("port")), (join(path, "tls.port"), tls.get("port")),
             (join(path, "websocket_port"), broker.get("websocket_port"))]
    seen: dict[int, str] = {}
    for where, number in ports:
        if number in seen:
            report(where, f"port {number} is already used by {seen[number]}")
        elif number is not None:
            seen[number] = where


def template(text: str, path: str, report: Report, context: dict) -> None:
    """template says {loket}, uses only {huruf}, {angka} and {loket}, each plain."""
    for problem in bahasa.check_template(text):
        report(path, problem)


def unique_ids(what: str) -> Rule:
    def rule(items: list, path: str, report: Report, context: dict) -> None:
        seen: set = set()
        for i, item in enumerate(items):
            ident = item.get("id") if isinstance(item, dict) else None
            if ident is not None and ident in seen:
                report(f"{path}[{i}].id", f"duplicate {what} {ident!r}")
            seen.add(ident)
    rule.__doc__ = f"no two {what}s have the same id."
    return rule


def spans_in_order(spans: list, path: str, report: Report, context: dict) -> None:
    """the spans of a day come in order and do not overlap."""
    last = None
    for j, span in enumerate(spans):
        if not isinstance(span, tuple):
            continue
        if last is not None and span[0] < last:
            report(f"{path}[{j}]", f"'{span_text(span)}' overlaps or comes before the previous span")
        else:
            last = span[1]


def span_text(span: tuple) -> str:
    end = "24:00" if span[1].hour == 23 and span[1].second == 59 else span[1].strftime("%H:%M")
    return f"{span[0].strftime('%H:%M')}-{end}"


def know_schedules(schedules: dict, path: str, report: Report, context: dict) -> None:
    # Not a check: it tells the services' rules below which schedules exist, and their spans.
    context["schedules"] = list(schedules)
    context["schedule_spans"] = schedules


def holidays_once(items: list, path: str, report: Report, context: dict) -> None:
    """no day is listed twice."""
    seen: dict = {}
    for i, item in enumerate(items):
        day = item.get("date") if isinstance(item, dict) else None
        if day is None:
            continue
        if day in seen:
            report(f"{path}[{i}].date", f"{day} is listed twice (also as {seen[day]!r})")
        else:
            seen[day] = item.get("name")


def known_schedule(name: str, path: str, report: Report, context: dict) -> None:
    """schedule names one of the schedules."""
    known = context.get("schedules", [])
    if name not in known:
        report(path, f"unknown schedule {name!r} (known: {', '.join(known) or 'none'})")


def booking_fits(svc: dict, path: str, report: Report, context: dict) -> None:
    """a booking needs a quota; slot_minutes divides every opening span of the service's schedule;
    the slots of its longest day hold share × quota."""
    booking = svc.get("booking")
    week = context.get("schedule_spans", {}).get(svc.get("schedule"))
    if not isinstance(booking, dict) or len(booking) < len(BOOKING_KEYS):
        return  # no booking, or one with problems of its own
    where = join(path, "booking")
    if "quota" not in svc:
        return  # a quota with a problem of its own
    quota = svc["quota"]
    if quota is None:
        report(where, "a service without a quota cannot take bookings: share is a share of the quota")
        return
    rules = BookingRules(**booking)
    wanted = rules.share * quota  # less than one: no place for bookings, every ticket a walk-in's
    if not isinstance(week, dict):
        return
    said: set = set()
    best: tuple[int, str] = (0, "")
    for day, spans in week.items():
        for span in spans:
            if not isinstance(span, tuple):
                continue
            minutes = (span[1].hour * 60 + span[1].minute + (span[1] == dt.time.max)) - (span[0].hour * 60
                                                                                        + span[0].minute)
            if minutes % rules.slot_minutes and span not in said:
                said.add(span)
                report(join(where, "slot_minutes"),
                       f"{rules.slot_minutes} minutes do not divide the span {span_text(span)} of schedule "
                       f"{svc['schedule']!r} ({minutes} minutes)")
        count = len(rules.starts(tuple(s for s in spans if isinstance(s, tuple))))
        best = max(best, (count, day))
    if best[0] == 0 and any(week.values()):
        report(where, f"schedule {svc['schedule']!r} has no slot of {rules.slot_minutes} minutes on any day")
    elif best[0] and best[0] * rules.capacity < int(wanted + 1e-9):  # a schedule never open: no slot to fill
        report(join(where, "capacity"),
               f"{best[0]} slots × capacity {rules.capacity} = {best[0] * rules.capacity} bookings on {best[1]}, "
               f"fewer than share × quota = {rules.share:g} × {quota} = {int(wanted + 1e-9)}: raise capacity or "
               "lower share")


def service_fits(svc: dict, path: str, report: Report, context: dict) -> None:
    """a booking needs a quota; slot_minutes divides every opening span of the service's schedule;
    the slots of its longest day hold share × quota; last_ticket comes after the opening on every
    day the schedule opens and before the closing on at least one (else it closes a whole day, or
    never does anything)."""
    booking_fits(svc, path, report, context)
    last_ticket_in_hours(svc, path, report, context)


def last_ticket_in_hours(svc: dict, path: str, report: Report, context: dict) -> None:
    # Part of service_fits (its docstring is the reference's line).
    last = svc.get("last_ticket")
    week = context.get("schedule_spans", {}).get(svc.get("schedule"))
    if last is None or not isinstance(week, dict):
        return
    days = {day: [s for s in spans if isinstance(s, tuple)] for day, spans in week.items()}
    days = {day: spans for day, spans in days.items() if spans}
    where = join(path, "last_ticket")
    early = next((day for day, spans in days.items() if last <= spans[0][0]), None)
    if early is not None:
        report(where, f"{last:%H:%M} is not after the opening on {early} ({span_text(days[early][0])} of schedule "
                      f"{svc['schedule']!r}): no ticket at all that day")
    elif days and all(last >= spans[-1][1] for spans in days.values()):
        report(where, f"{last:%H:%M} is not before the closing of schedule {svc['schedule']!r} on any day: "
                      "it would never stop a ticket")


def file_exists(name: str, path: str, report: Report, context: dict) -> None:
    """the file exists (a relative one in the site file's folder)."""
    source = context.get("source")
    base = Path(source).resolve().parent if source and Path(source).is_file() else None
    target = Path(name).expanduser()
    if not target.is_absolute():
        if base is None:
            return  # text with no file around it (a test, an upload): nothing to look in
        target = base / target
    if not target.is_file():
        report(path, f"no file {str(target)!r}")


def agencies_apart(agencies: list, path: str, report: Report, context: dict) -> None:
    """agency ids, service codes and ticket prefixes are unique across the file."""
    # The services and agency ids found are kept for the counters' rule.
    unique_ids("agency")(agencies, path, report, context)
    services: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    for i, agency in enumerate(agencies):
        if not isinstance(agency, dict):
            continue
        for j, svc in enumerate(agency.get("services") or ()):
            if not isinstance(svc, dict) or "code" not in svc:
                continue
            code, prefix = svc["code"], svc.get("prefix")
            where = f"{path}[{i}].services[{j}]"
            if code in services:
                report(f"{where}.code", f"duplicate service code {code!r}")
                continue
            if prefix in prefixes:
                report(f"{where}.prefix", f"prefix {prefix!r} is already used by service {prefixes[prefix]!r}")
            elif prefix is not None:
                prefixes[prefix] = code
            # Kept even with a clashing prefix, so counters serving it are not also
            # reported as naming an unknown service.
            services[code] = agency.get("id")
    context["services"] = services
    context["agencies"] = {a.get("id") for a in agencies if isinstance(a, dict)}


def counters_serve(counters: list, path: str, report: Report, context: dict) -> None:
    """counter ids are unique; a counter's services and agency exist, each service is listed
    once per counter, and every service is served by at least one counter."""
    services = context.get("services", {})
    agencies = context.get("agencies", set())
    seen: set = set()
    served: set = set()
    for i, counter in enumerate(counters):
        if not isinstance(counter, dict):
            continue
        where = f"{path}[{i}]"
        if counter.get("id") is not None and counter["id"] in seen:
            report(f"{where}.id", f"duplicate counter {counter['id']!r}")
        seen.add(counter.get("id"))
        codes: list = []
        for j, code in enumerate(counter.get("services") or ()):
            if not isinstance(code, str) or code not in services:  # a list or mapping is unhashable
                report(f"{where}.services[{j}]", f"unknown service {code!r}")
            elif code in codes:
                report(f"{where}.services[{j}]", f"service {code!r} listed twice")
            else:
                codes.append(code)
        agency = counter.get("agency")
        if agency is not None and (not isinstance(agency, str) or agency not in agencies):
            report(f"{where}.agency", f"unknown agency {agency!r}")
        served.update(codes)
    for code in services:
        if code not in served:
            # A ticket for a service no counter serves is a number nobody will call.
            report(path, f"no counter serves service {code!r}")


def remote_counter(counter: dict, path: str, report: Report, context: dict) -> None:
    """a remote counter names its location; location and meeting_url belong to remote counters
    only; meeting_url is an http or https address."""
    remote = counter.get("remote") is True
    if remote and counter.get("location") is None:
        report(join(path, "location"), "required when remote is true (where the citizen goes, "
                                       "e.g. Bilik Layanan Daring)")
    for key in ("location", "meeting_url"):
        if counter.get(key) is not None and counter.get("remote") is False:
            report(join(path, key), "only for a remote counter (remote: true)")
    url = counter.get("meeting_url")
    if isinstance(url, str):
        problem = _url_problem(url)
        if problem:
            report(join(path, "meeting_url"), problem)


def _url_problem(url: str) -> str:
    """Why *url* is no address to put in a citizen's link, or ''."""
    if any(ch.isspace() or ord(ch) < 32 for ch in url) or len(url) > 500:
        return f"{url[:60]!r} is not a web address (no spaces, at most 500 characters)"
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return f"{url[:60]!r} must start with https:// (or http://)"
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return f"{url[:60]!r} must name a host, without a user name or password"
    return ""


def known_role(role: Any, path: str, report: Report, context: dict) -> None:
    """role is one of the roles the installed wings bring (below)."""
    registry = wings.registry()
    roles = registry.roles
    if role not in roles:
        report(path, f"{role!r} is not one of {', '.join(sorted(roles))}{registry.missing()}")
