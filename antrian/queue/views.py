"""What callers read of the queue: the wire payloads of DESIGN.md (Ticket,
CounterState, Board, Call, Catalog) and a few counts, computed from the engine's
state. Nothing here changes the state, and everything speaks of the engine's current
business day (`day`), whatever the time passed in; outside the queue, read these,
never the engine's attributes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Callable, Iterable

from antrian.queue import codes
from antrian.queue.rules import CLOSED_FOR_TODAY, C, T, availability, iso, minutes_left, remote_location

if TYPE_CHECKING:
    from antrian.queue.engine import Engine
    from antrian.queue.state import _Ticket


class Views:
    """Mixed into Engine (engine.py), whose state the methods read."""

    # (business day, number) -> the ticket's live page; set by the dispatcher when the
    # site has a public app (antrian/dispatcher/queues.py), and then every Ticket has `link`.
    links: Callable[[str, str], str] | None = None

    def call_of(self: Engine, seq: int) -> dict[str, Any] | None:
        """The Call payload of one of the recent calls, by its seq."""
        return next((c for c in self.recent if c["seq"] == seq), None)

    def issued_count(self: Engine, service: str) -> int:
        """Tickets of a service issued this business day."""
        return self.issued[service]

    def waiting_count(self: Engine, service: str) -> int:
        return self.waiting[service]

    def counter_status(self: Engine, counter: str) -> str:
        return self.counters[counter].status

    def serving(self: Engine, counter: str) -> str | None:
        """The number a counter is serving, or None."""
        return self.counters[counter].serving

    def ticket_service(self: Engine, number: str) -> str:
        """The service a ticket of today is in now (after any transfer)."""
        return self.tickets[number].service

    def called_at(self: Engine, number: str) -> dt.datetime | None:
        """When a ticket of today was last called."""
        return self.tickets[number].called_at

    def knows_ticket(self: Engine, number: str) -> bool:
        """Whether a ticket of today is in the queue (not kept aside, see state.py)."""
        return number in self.tickets

    def _day_iso(self: Engine) -> str | None:
        """The current business day, ISO; None before the first DayStarted."""
        return self.day.isoformat() if self.day else None

    def ahead(self: Engine, t: _Ticket) -> int:
        """Waiting tickets that will be called before `t` in its service."""
        if t.status != T.WAITING:
            return 0
        which = 0 if t.priority else 1
        if self._newest.get((t.service, which)) == t.order:
            # The newest of its kind: everybody of its kind waiting is ahead, and for a
            # normal ticket every priority ticket too.
            ahead = self.waiting_priority[t.service] if t.priority else self.waiting[t.service]
            return ahead - 1
        prio, normal = self._heaps[t.service]
        # Distinct numbers: a ticket transferred away and back can have two entries in a
        # heap (its old one is live again), and whether the old one was already dropped
        # depends on earlier decisions, which a replay does not repeat.
        if t.priority:
            return len({n for o, n in prio if o < t.order and self._live((o, n), t.service)})
        return (len({n for o, n in prio if self._live((o, n), t.service)})
                + len({n for o, n in normal if o < t.order and self._live((o, n), t.service)}))

    def mean_service_min(self: Engine, service: str) -> float:
        recent = self.durations[service]
        return sum(recent) / len(recent) if recent else self.config.services[service].service_min

    def open_counters(self: Engine, service: str) -> int:
        return sum(1 for cid, c in self.counters.items()
                   if c.status == C.OPEN and service in self.config.counters[cid].services)

    def estimated_wait_min(self: Engine, service: str, ahead: int) -> int:
        return round(ahead * self.mean_service_min(service) / max(1, self.open_counters(service)))

    def too_late(self: Engine, service: str, now: dt.datetime) -> str | None:
        """With the site's queue.close_by_estimate: why a new ticket of `service` would not be
        called before it closes today, by the estimate (the waiting tickets times the mean
        service time, over its open counters, or all the counters that serve it while none is
        open yet), or None. One rule for every ticket, priority or not, so the catalog and the
        engine say the same."""
        if not self.config.queue.close_by_estimate:
            return None
        left = minutes_left(self.config, self.config.services[service], now)
        counters = self.open_counters(service) or sum(1 for c in self.config.counters.values()
                                                      if service in c.services)
        if left is None or not counters:
            return None
        minutes, closing = left
        if self.waiting[service] * self.mean_service_min(service) / counters <= minutes:
            return None
        # No figure in the reason: the catalog goes out whenever a reason changes.
        return f"{CLOSED_FOR_TODAY} (perkiraan waktu tunggu melewati jam tutup pukul {closing:%H.%M})"

    def ticket(self: Engine, number: str) -> dict[str, Any]:
        t = self.tickets[number]
        svc = self.config.services[t.service]
        agency = self.config.agency(svc.agency)
        ahead = self.ahead(t)
        return {"number": t.number, "service": svc.code, "service_name": svc.name, "agency": agency.id,
                "agency_name": agency.name, "priority": t.priority, "issued_at": iso(t.issued_at, self.tz),
                "business_day": self._day_iso(), "ahead": ahead,
                "booking": codes.display(t.booking) if t.booking else None,
                "estimated_wait_min": self.estimated_wait_min(t.service, ahead),
                **({"link": self.links(self._day_iso(), t.number)} if self.links and self.day else {})}

    def queue_lists(self: Engine, services: Iterable[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """Per service (of the site file): ``waiting``, its waiting tickets in call order
        -- priority tickets first, then the others, each by issue (a transferred ticket
        keeps the place of its issue), the order `ahead` counts -- as {number, priority,
        issued_at}; ``recallable``, its no-shows an officer can still call back (fewer
        than late_tolerance later calls of the service), called longest ago first."""
        found = {s: ([], [], []) for s in services if s in self.config.services}
        tolerance = self.config.queue.late_tolerance
        for t in self.tickets.values():
            lists = found.get(t.service)
            if lists is None:
                continue
            if t.status == T.WAITING:
                lists[0 if t.priority else 1].append(t)
            elif t.status == T.NO_SHOW and self.calls_made[t.service] - t.call_ordinal < tolerance:
                lists[2].append(t)
        # `booking`: true for a checked-in booking, never its code (the citizen's secret).
        return {s: {"waiting": [{"number": t.number, "priority": t.priority, "issued_at": iso(t.issued_at, self.tz),
                                 "booking": True if t.booking else None}
                                for t in sorted(prio, key=_order) + sorted(normal, key=_order)],
                    "recallable": [{"number": t.number} for t in sorted(absent, key=lambda t: t.call_ordinal)]}
                for s, (prio, normal, absent) in found.items()}

    def waiting_for(self: Engine, counter: str) -> int:
        return sum(self.waiting[s] for s in self.config.counters[counter].services)

    def counter_state(self: Engine, counter: str, now: dt.datetime) -> dict[str, Any]:
        c = self.counters[counter]
        serving = self.ticket(c.serving) if c.serving else None
        return {"counter": counter, "name": self.config.counters[counter].name, "status": c.status,
                "reason": c.reason, "serving": serving,
                "recalls": self.tickets[c.serving].recalls if c.serving else 0,
                "waiting": self.waiting_for(counter), "updated_at": iso(now, self.tz)}

    def board(self: Engine, now: dt.datetime) -> dict[str, Any]:
        counters = []
        for cid, c in self.counters.items():
            t = self.tickets[c.serving] if c.serving else None
            desk = self.config.counters[cid]
            counters.append({"counter": cid, "name": desk.name, "status": c.status,
                             "serving": t.number if t else None,
                             "service_name": self.config.services[t.service].name if t else None,
                             **remote_location(desk), **({"booking": True} if t and t.booking else {})})
        return {"seq": self.last_seq, "business_day": self._day_iso(), "counters": counters,
                "recent": list(self.recent), "waiting": dict(self.waiting), "updated_at": iso(now, self.tz)}

    def catalog(self: Engine, now: dt.datetime) -> dict[str, Any]:
        cfg = self.config
        agencies = []
        for a in cfg.agencies:
            services = []
            for code in a.services:
                s = cfg.services[code]
                reason = availability(cfg, s, now)
                quota = self.walk_in_quota(code, now)
                left = None if quota is None else max(0, quota - self.walk_ins(code))
                if reason is None and left == 0:
                    reason = "Kuota hari ini sudah habis"
                reason = reason or self.too_late(code, now)
                services.append({"code": code, "prefix": s.prefix, "name": s.name, "open": reason is None,
                                 "closed_reason": reason, "quota_left": left,
                                 "requirements": list(s.requirements), "completion": s.completion, "fee": s.fee,
                                 "target_wait_min": s.target_wait_min, "booking": _booking_terms(s)})
            agencies.append({"id": a.id, "name": a.name, "short_name": a.short_name, "color": a.color,
                             "services": services})
        return {"site": {"id": cfg.site.id, "name": cfg.site.name, "address": cfg.site.address,
                         "timezone": cfg.site.timezone},
                "agencies": agencies,
                "counters": [{"counter": c.id, "name": c.name, "services": list(c.services), **remote_location(c)}
                             for c in cfg.counters.values()],
                "devices": [{"device": d.id, "role": d.role} for d in cfg.devices.values()],
                "priority_groups": [{"id": g.id, "name": g.name} for g in cfg.priority_groups]}


def _order(t: _Ticket) -> tuple[dt.datetime, int]:
    return t.order


def _booking_terms(svc: Any) -> dict[str, Any] | None:
    """What the public app needs to offer a service for booking (the site file's block), or None."""
    b = svc.booking
    if b is None or svc.quota is None:
        return None
    return {"slot_minutes": b.slot_minutes, "days_ahead": b.days_ahead, "opens_at": f"{b.opens_at:%H:%M}",
            "checkin_early_min": b.checkin_early_min, "checkin_late_min": b.checkin_late_min}
