"""A simulated day with a booking share (antrian/tools/simulate/bookings.py): the bookings are
made, checked in and expired through the engine's own paths, so capacity, share, window and
the queue place by slot are the engine's; the simulated day's report shows them."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sites import counter, service, site

from antrian.site import ConfigError
from antrian.tools import simulate
from antrian.tools.report.replay import replay

MONDAY = dt.date(2026, 11, 16)
BOOKING = {"slot_minutes": 60, "capacity": 3, "share": 0.5, "days_ahead": 2, "opens_at": "07:00",
           "checkin_early_min": 30, "checkin_late_min": 15}
OFFICE = {"senin": ["08:00-15:00"]}
# A takes bookings (7 slots of 3, quota 30 of which 15 for bookings); B is walk-ins only.
CONFIG = site(services=[service("A", schedule="office", quota=30, service_min=8, booking=BOOKING),
                        service("B", schedule="office", quota=30, service_min=5)],
              counters=[counter("ca", "A"), counter("cb", "B")], schedules={"office": OFFICE})


def day(booking: dict | None = None, seed: int = 1, rate: float = 5, **defaults):
    arrivals = {"defaults": {"priority": 0, "no_show": 0, **defaults},
                "services": {"A": {"per_hour": {h: rate for h in range(8, 15)}, **({"booking": booking} if booking
                                                                                    is not None else {})},
                             "B": {"per_hour": {h: 3 for h in range(8, 15)}}}}
    return simulate.run(simulate.Scenario.build(CONFIG, MONDAY, arrivals=arrivals), seed)


def kinds(result, kind: str) -> list:
    return [e for e in result.events if e.kind == kind]


def test_the_site_files_share_books_in_the_opening_rush_within_capacity_and_share():
    result = day(rate=6)  # 42 citizens of A expected: about 21 want to book, 15 places
    booked = kinds(result, "booked")
    plan = result.scenario.services["A"].booking
    assert plan.share == 0.5 and result.scenario.services["B"].booking.share == 0
    opens = dt.datetime(2026, 11, 14, 7, tzinfo=CONFIG.tz)  # two days ahead, 07:00
    assert booked and all(opens <= e.at < opens + dt.timedelta(minutes=1) for e in booked)
    assert all(e.date == MONDAY and e.service == "A" for e in booked)
    assert len(booked) <= 15 and max(Counter(e.slot for e in booked).values()) <= 3
    bookers = sum(1 for c in result.citizens if c.books)
    assert bookers == len(booked) + result.bookings.unbooked["A"] and result.bookings.unbooked["A"] > 0
    assert len(result.citizens) == len(result.tickets) + sum(sum(r.values()) for r in result.refused.values()) \
        + result.stayed_away


def test_checked_in_tickets_are_called_by_their_slot_start_among_walk_ins():
    """At every call of A, no ticket that waited had an earlier place: the slot's start for a
    checked-in booking, the issue for a walk-in (the engine's ordering rule, DESIGN.md)."""
    for seed in (1, 2, 3):
        result = day(rate=8, seed=seed)
        slots = {e.code: e.slot for e in kinds(result, "booked")}
        legs = [leg for leg in replay(result.scenario.config, MONDAY, result.events).legs if leg.service == "A"]
        assert any(leg.booking for leg in legs) and any(not leg.booking for leg in legs)

        def place(leg):
            if leg.booking:
                return dt.datetime.combine(MONDAY, dt.time.fromisoformat(slots[leg.booking]), tzinfo=CONFIG.tz)
            return leg.start

        for leg in legs:
            if leg.first_call is None:
                continue
            waiting = [o for o in legs if o.start <= leg.first_call and (o.first_call is None
                                                                          or o.first_call > leg.first_call)]
            assert all(place(o) >= place(leg) for o in waiting), (seed, leg.number)


def test_early_bookers_wait_for_their_window_and_late_ones_take_a_walk_in_ticket():
    early = day({"offset_min": -60, "spread_min": 0, "no_show": 0})
    checkins = [e for e in kinds(early, "issued") if e.booking]
    slot_of = {e.code: e.slot for e in kinds(early, "booked")}
    assert checkins and len(checkins) == len(slot_of) == early.bookings.early["A"]
    for e in checkins:  # exactly when the window opens: 30 minutes before the slot
        start = dt.datetime.combine(MONDAY, dt.time.fromisoformat(slot_of[e.booking]), tzinfo=CONFIG.tz)
        assert e.at == start - dt.timedelta(minutes=30)

    late = day({"offset_min": 20, "spread_min": 0, "no_show": 0})
    assert not any(e.booking for e in kinds(late, "issued"))
    assert late.bookings.late["A"] == len(kinds(late, "booked")) > 0
    assert len(kinds(late, "booking_expired")) == len(kinds(late, "booked"))  # each expired after its window
    rep = late.report()
    assert rep.bookings.services["A"].online == 0 and rep.bookings.services["A"].no_show_rate == 1.0


def test_bookers_who_stay_away_expire_and_the_report_counts_them():
    result = day({"no_show": 0.5}, rate=6)
    expired = kinds(result, "booking_expired")
    assert result.stayed_away > 0 and len(expired) >= result.stayed_away
    rep = result.report()
    a = rep.bookings.services["A"]
    assert a.made == len(kinds(result, "booked")) and a.expired == len(expired) and a.still_open == 0
    assert a.checked_in == a.online == sum(1 for e in kinds(result, "issued") if e.booking)
    assert a.checked_in + a.expired == a.made and rep.balanced
    came = len(result.citizens) - result.stayed_away
    assert f"{came} warga datang, {len(result.tickets)} mendapat nomor" in simulate.notes(result, None)[0]
    assert a.offsets.n == a.checked_in and -30 <= a.offsets.p10 <= a.offsets.p90 <= 15


def test_the_same_citizens_come_whatever_the_booking_share():
    with_, without = day(), day({"share": 0})
    strip = [(c.arrival, c.service, c.priority, c.duration, c.no_show, c.offset) for c in with_.citizens]
    assert strip == [(c.arrival, c.service, c.priority, c.duration, c.no_show, c.offset) for c in without.citizens]
    assert not kinds(without, "booked") and not any(c.books for c in without.citizens)
    assert day().events == with_.events  # and the same seed the same day, codes included


def test_booking_options_are_checked_with_their_place():
    with pytest.raises(ConfigError) as err:
        simulate.Scenario.build(CONFIG, MONDAY, source="sim.yaml", arrivals={
            "defaults": {"booking": {"share": 2, "lateness": 3}},
            "services": {"B": {"booking": {"share": 0.2}}, "A": {"booking": {"spread_min": -1}}}})
    text = str(err.value)
    for part in ("sim.yaml: defaults.booking.share: 2 is out of range", "defaults.booking.lateness: unknown key",
                 "services.B.booking.share: B takes no bookings", "services.A.booking.spread_min: -1 is out of range"):
        assert part in text, part
    plan = simulate.Scenario.build(CONFIG, MONDAY, arrivals={"defaults": {"booking": {"share": 0.3, "no_show": 0.2}}})
    assert plan.services["A"].booking.share == 0.3 and plan.services["A"].booking.no_show == 0.2
    assert plan.services["B"].booking.share == 0  # the default share only for services that take bookings


def test_booking_that_opens_on_the_day_itself_books_at_its_hour():
    same_day = site(services=[service("A", schedule="office", quota=30, service_min=8,
                                      booking={**BOOKING, "days_ahead": 0, "opens_at": "07:00"})],
                    counters=[counter("ca", "A")], schedules={"office": OFFICE})
    result = simulate.run(simulate.Scenario.build(same_day, MONDAY, arrivals={
        "services": {"A": {"per_hour": {h: 5 for h in range(8, 15)}}}}), 1)
    booked = kinds(result, "booked")
    assert booked and booked[0].at == dt.datetime(2026, 11, 16, 7, tzinfo=same_day.tz)
    assert [e.kind for e in result.events[:2]] == ["day_started", "booked"]  # one business day only
    assert [e.at for e in result.events] == sorted(e.at for e in result.events)
    assert any(e.booking for e in kinds(result, "issued"))
