"""The simulated day itself: the citizens drawn up front, and the event loop around
the real engine that issues, calls and closes.
"""


from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import math
import random
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence


from antrian.queue.engine import Engine, QueueError
from antrian.queue.events import DayStarted, Event
from antrian.tools.simulate.bookings import Bookings
from antrian.tools.simulate.scenario import HARD_STOP, MIN_SERVICE_MIN, NO_SHOW_WAIT_MIN, Scenario, open_pieces


@dataclasses.dataclass(frozen=True)
class Citizen:
    arrival: float  # minutes after local midnight (a booker: when they would have come, the slot they ask for)
    service: str
    priority: str | None
    duration: float  # minutes at the counter once called
    no_show: bool
    books: bool = False  # books a slot online beforehand (the scenario's booking share)
    offset: float = 0.0  # a booker's arrival at the kiosk minus the slot's start, minutes
    stays_away: bool = False  # a booker who never comes (the booking expires)


def citizens(scenario: Scenario, seed: int) -> list[Citizen]:
    """Everybody who comes that day, drawn per service from its own stream, by arrival time."""
    cfg, out = scenario.config, []
    groups = [g.id for g in cfg.priority_groups]
    for code, plan in scenario.services.items():
        rng = random.Random(f"{seed}/{code}")
        b = plan.booking
        sigma = math.sqrt(math.log(1 + plan.cv ** 2))
        mu = math.log(plan.service_min) - sigma ** 2 / 2
        for lo, hi, hour in open_pieces(cfg, code, scenario.day):
            rate = plan.per_hour.get(hour, 0) / 60  # per minute
            t = lo
            while rate > 0:
                t += rng.expovariate(rate)
                if t >= hi:
                    break
                priority = rng.choice(groups) if groups and rng.random() < plan.priority else None
                duration = max(MIN_SERVICE_MIN, rng.lognormvariate(mu, sigma) if sigma else plan.service_min)
                no_show = rng.random() < plan.no_show
                # Drawn for everybody, so a scenario with another booking share meets the same citizens.
                books, offset, away = rng.random(), rng.gauss(b.offset_min, b.spread_min), rng.random()
                out.append(Citizen(t, code, priority, duration, no_show, books < b.share, offset,
                                   books < b.share and away < b.no_show))
    out.sort(key=lambda c: (c.arrival, c.service))
    return out


# -- the day ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Result:
    scenario: Scenario
    seed: int
    citizens: list[Citizen]
    events: list[Event]
    tickets: dict[str, Citizen]
    refused: dict[str, dict[str, int]]  # service -> error code -> citizens turned away
    seconds: float  # wall-clock time of the run
    bookings: Bookings | None = None  # who booked, and how it went (bookings.py)

    @property
    def stayed_away(self) -> int:
        """Bookers who never came: every citizen is a ticket, refused, or one of these."""
        return sum(1 for c in self.bookings.booked.values() if c.stays_away) if self.bookings else 0

    def report(self, **options):
        """The ordinary report of the simulated day, from a temporary store."""
        from antrian.tools.report import figures as report
        from antrian.adapters.store import Store

        with tempfile.TemporaryDirectory(prefix="antrian-sim-") as tmp:
            store = Store(Path(tmp) / "simulasi.db", self.scenario.config.tz)
            try:
                store.commit(self.events, [])
                return report.from_store(self.scenario.config, store, self.scenario.day, **options)
            finally:
                store.close()


class _Desk:
    """One counter's officer: staffed or not, busy or not, leaving after this citizen or not."""

    __slots__ = ("id", "services", "staffed", "busy", "leaving", "all_day", "done_after")

    def __init__(self, cid: str, services: Sequence[str], all_day: bool, done_after: float):
        self.id, self.services, self.all_day, self.done_after = cid, set(services), all_day, done_after
        self.staffed = self.busy = self.leaving = False


def run(scenario: Scenario, seed: int = 1) -> Result:
    """Simulate the scenario's day with these citizens' draws; the events the engine produced."""
    started = time.perf_counter()
    cfg, day = scenario.config, scenario.day
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=cfg.tz)
    engine = Engine(cfg)
    events: list[Event] = []
    people = citizens(scenario, seed)
    tickets: dict[str, Citizen] = {}
    refused: dict[str, dict[str, int]] = {code: {} for code in cfg.services}
    heap: list[tuple[float, int, int, str, Any]] = []
    order = 0

    def at(minute: float) -> dt.datetime:
        return midnight + dt.timedelta(minutes=minute)

    def push(minute: float, rank: int, kind: str, what: Any) -> None:
        nonlocal order
        order += 1
        heapq.heappush(heap, (minute, rank, order, kind, what))

    # Bookings first: made when booking opens, days before (bookings.py); then the day opens.
    booking = Bookings(scenario, engine, events, seed, lambda minute, kind, what: push(minute, 2, kind, what))
    walk_ins, book_later = booking.before_day(people)
    events.append(DayStarted(at=midnight, day=day))
    engine.apply(events[-1])
    for code, when in book_later.items():
        push((when - midnight) / dt.timedelta(minutes=1), 0, "book", code)

    def issue(person: Citizen, when: dt.datetime) -> str | None:
        """A walk-in ticket for this citizen (None: refused, counted)."""
        try:
            outcome = engine.issue(person.service, person.priority, when)
        except QueueError as exc:
            refused[person.service][exc.code] = refused[person.service].get(exc.code, 0) + 1
            return None
        engine.apply_all(outcome.events)
        events.extend(outcome.events)
        return outcome.ticket

    def offer(number: str | None, person: Citizen, now: float) -> None:
        """A new ticket in the queue: a free officer of its service calls."""
        if number is None:
            return
        tickets[number] = person
        for desk in desks.values():
            if not engine.waiting_count(person.service):
                break
            if person.service in desk.services and desk.staffed and not desk.busy:
                call(desk, now)

    def act(cid: str, action: str, now: float) -> str | None:
        """Press a button; the ticket it answers with (None when refused or nobody)."""
        try:
            outcome = engine.command(cid, action, {}, at(now))
        except QueueError:
            return None
        engine.apply_all(outcome.events)
        events.extend(outcome.events)
        return outcome.ticket if outcome.error is None else None

    def call(desk: _Desk, now: float) -> None:
        """NEXT: finish whoever is at the counter and call the next, or wait idle for one."""
        number = act(desk.id, "call_next", now) if engine.waiting_for(desk.id) else None
        if number is None and engine.serving(desk.id):
            act(desk.id, "finish", now)  # the last citizen of a quiet moment: served, counter idle
        desk.busy = number is not None
        if desk.busy:
            person = tickets[number]
            if person.no_show:
                if cfg.queue.max_recalls:
                    push(now + NO_SHOW_WAIT_MIN / 2, 1, "recall", desk)
                push(now + NO_SHOW_WAIT_MIN, 1, "gone", desk)
            else:
                push(now + person.duration, 1, "done", desk)
        elif desk.all_day and now >= desk.done_after and not engine.waiting_for(desk.id):
            close(desk, now)

    def close(desk: _Desk, now: float) -> None:
        """The officer goes home (closing also finishes the citizen being served)."""
        act(desk.id, "close", now)
        desk.staffed = desk.busy = desk.leaving = False

    def free(desk: _Desk, now: float) -> None:
        """The officer is free: leave if the shift is over, else take the next citizen."""
        if desk.leaving:
            close(desk, now)
        else:
            call(desk, now)

    # Desks in the site file's order, so who gets a ticket first never depends on how
    # the staffing was written.
    desks: dict[str, _Desk] = {}
    starts: dict[str, float] = {}
    for cid in cfg.counters:
        if cid not in scenario.staffing:
            continue
        spans, services = scenario.staffing[cid], cfg.counters[cid].services
        pieces = [p for code in services for p in open_pieces(cfg, code, day)]
        ends = max((b for _, b, _ in pieces), default=0.0)
        desk = desks[cid] = _Desk(cid, services, spans is None, ends)
        if spans is None:
            spans = ((min(a for a, _, _ in pieces), ends),) if pieces else ()
        for a, b in spans:
            push(a, 0, "start", desk)
            push(b, 3, "drain" if desk.all_day else "end", desk)
            starts[cid] = min(a, starts.get(cid, a))
    first = min(starts.values(), default=8 * 60.0)
    for cid in cfg.counters:
        if engine.counter_status(cid) == "open" and starts.get(cid, first + 1) > first:
            act(cid, "close", first)  # nobody sits there yet: not an open counter for the estimates
    for person in [p for p in people if not p.books] + walk_ins:
        push(person.arrival, 2, "arrive", person)
    push(HARD_STOP.hour * 60 + HARD_STOP.minute, 4, "stop", None)

    while heap:
        now, _, _, kind, what = heapq.heappop(heap)
        if kind == "stop":
            for desk in desks.values():
                if desk.staffed:
                    close(desk, now)
            break
        if kind == "arrive":
            offer(issue(what, at(now)), what, now)
        elif kind == "checkin":
            offer(booking.check_in(what, now, issue), booking.booked[what], now)
        elif kind == "expire":
            booking.expire(now)
        elif kind == "book":
            for person in booking.book(what, at(now)):
                push(max(now, person.arrival), 2, "arrive", person)
        elif kind == "start":
            what.staffed, what.leaving = True, False
            if engine.counter_status(what.id) != "open":
                act(what.id, "open", now)
            if not what.busy:
                call(what, now)
        elif kind == "end":
            if what.busy:
                what.leaving = True
            elif what.staffed:
                close(what, now)
        elif kind == "drain":
            if what.staffed and not what.busy and not engine.waiting_for(what.id):
                close(what, now)
        elif kind == "recall":
            act(what.id, "recall", now)
        elif kind == "gone":
            act(what.id, "no_show", now)
            free(what, now)
        elif kind == "done":
            free(what, now)
    return Result(scenario, seed, people, events, tickets, refused, time.perf_counter() - started, booking)
