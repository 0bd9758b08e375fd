"""The bookings of a simulated day, made and checked in through the engine's own paths
(antrian/queue/booking.py): every rule -- capacity, the booking share, the check-in
window, expiry and the queue place by slot -- is the engine's, never copied here.

- Booking opens `days_ahead` days before the day at `opens_at`; the citizens who book
  (the scenario's booking share of a service's citizens, day.py draws who) all book in
  that opening rush, in a random order, one second apart, through `Engine.book`. Each
  asks for the free slot nearest to the time they would have come; when the booking
  share is used, or no slot is free, they come as walk-ins at that time instead.
- On the day a booker who comes reaches the kiosk at the slot's start plus their drawn
  offset and checks in with `Engine.check_in`: too early, they wait in the hall and try
  again when the window opens; too late, they take a walk-in ticket (what the kiosk
  offers). A booker who stays away is expired by `Engine.expire_due` when the window
  ends, as the dispatcher does.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Callable

from antrian.errors import QueueError
from antrian.queue import codes
from antrian.queue.bookings import checkin_window
from antrian.queue.engine import Engine
from antrian.queue.events import DayStarted, Event

if TYPE_CHECKING:
    from antrian.tools.simulate.day import Citizen
    from antrian.tools.simulate.scenario import Scenario


def opening(scenario: Scenario, code: str) -> dt.datetime:
    """When booking for the scenario's day opens for this service."""
    rules = scenario.config.services[code].booking
    return dt.datetime.combine(scenario.day - dt.timedelta(days=rules.days_ahead), rules.opens_at,
                               tzinfo=scenario.config.tz)


def _minute(t: dt.time) -> float:
    return t.hour * 60 + t.minute + t.second / 60


class Bookings:
    """The booking side of a simulated day; `push(minute, kind, what)` puts a happening on
    the day's heap (kinds "checkin" and "expire", handled by `check_in` and `expire`)."""

    def __init__(self, scenario: Scenario, engine: Engine, events: list[Event], seed: int,
                 push: Callable[[float, str, object], None]):
        self.scenario, self.engine, self.events, self.seed, self.push = scenario, engine, events, seed, push
        self.midnight = dt.datetime.combine(scenario.day, dt.time(0), tzinfo=scenario.config.tz)
        self.booked: dict[str, Citizen] = {}  # booking code -> who booked it
        self.unbooked: dict[str, int] = {code: 0 for code in scenario.config.services}  # came as walk-ins
        self.late: dict[str, int] = {code: 0 for code in scenario.config.services}  # too late: a walk-in ticket
        self.early: dict[str, int] = {code: 0 for code in scenario.config.services}  # waited for the window

    def _apply(self, events) -> None:
        self.engine.apply_all(events)
        self.events.extend(events)

    def before_day(self, people: list[Citizen]) -> tuple[list[Citizen], dict[str, dt.datetime]]:
        """Make the bookings that open before the scenario's day (each opening day started
        in the engine first); (the bookers who will come as walk-ins, the services whose
        booking opens on the day itself: book them with `book` at that moment)."""
        walk_ins: list[Citizen] = []
        later: dict[str, dt.datetime] = {}
        self._bookers = {code: [c for c in people if c.books and c.service == code] for code in self.scenario.services}
        opened: dt.date | None = None
        for when, code in sorted((opening(self.scenario, code), code) for code, who in self._bookers.items() if who):
            if when >= self.midnight:
                later[code] = when
                continue
            if when.date() != opened:
                self._apply([DayStarted(at=when, day=when.date())])
                opened = when.date()
            walk_ins += self.book(code, when)
        return walk_ins, later

    def book(self, code: str, now: dt.datetime) -> list[Citizen]:
        """The opening rush of one service; the bookers who got no booking (walk-ins)."""
        who = list(self._bookers[code])
        rng = random.Random(f"{self.seed}/booking/{code}")
        rng.shuffle(who)

        def draw() -> str:  # a valid code from the seed's stream: the same seed, the same codes
            body = "".join(rng.choice(codes.ALPHABET) for _ in range(codes.LENGTH))
            return body + codes.check_char(body)

        minutes = self.scenario.config.services[code].booking.slot_minutes
        left = []
        for i, person in enumerate(who):
            at = now + dt.timedelta(seconds=i)
            try:
                free = [s for s in self.engine.booking_slots(code, self.scenario.day, at) if s["free"] > 0]
                if not free:
                    raise QueueError("booking_quota_exhausted", "no slot free")
                slot = min(free, key=lambda s: abs(_minute(dt.time.fromisoformat(s["slot"])) + minutes / 2
                                                   - person.arrival))["slot"]
                outcome = self.engine.book(code, self.scenario.day, dt.time.fromisoformat(slot),
                                           f"simulasi:{code}:{i}", None, at, draw)
            except QueueError:
                self.unbooked[code] += 1
                left.append(person)
                continue
            self._apply(outcome.events)
            booked = outcome.events[0]
            self.booked[booked.code] = person
            start = _minute(dt.time.fromisoformat(booked.slot))
            _, until = checkin_window(self.scenario.config, code, self.scenario.day, dt.time.fromisoformat(slot))
            self.push((until - self.midnight) / dt.timedelta(minutes=1) + 1 / 60, "expire", None)
            if not person.stays_away:
                self.push(max(0.0, start + person.offset), "checkin", booked.code)
        return left

    def check_in(self, code: str, now: float, issue: Callable[[Citizen, dt.datetime], str | None]) -> str | None:
        """A booker at the kiosk: the ticket number, or None (back later, or refused)."""
        person = self.booked[code]
        at = self.midnight + dt.timedelta(minutes=now)
        try:
            outcome = self.engine.check_in(code, person.priority, at)
        except QueueError as exc:
            if exc.code == "checkin_early":
                opens, _ = checkin_window(self.scenario.config, person.service, self.scenario.day,
                                          self.engine.bookings.get(code).slot)
                self.early[person.service] += 1
                self.push((opens - self.midnight) / dt.timedelta(minutes=1), "checkin", code)
                return None
            if exc.code == "checkin_late":
                self.late[person.service] += 1
                return issue(person, at)
            raise
        self._apply(outcome.events)
        return outcome.ticket

    def expire(self, now: float) -> None:
        self._apply(self.engine.expire_due(self.midnight + dt.timedelta(minutes=now)).events)
