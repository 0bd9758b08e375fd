"""The queue's transition tables (antrian/queue/rules.py): every action has one rule,
`apply` refuses what the tables do not allow and leaves the state as it was, the
business day changes only by a DayStarted, and decisions and views never change the
engine, not even across midnight."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from pathlib import Path
from typing import ClassVar

import pytest

from antrian import protocol
from antrian.errors import TransitionError
from antrian.queue.engine import Engine
from antrian.queue.events import (EVENT_CLASSES, Called, CounterStatusChanged, DayStarted, Event, Issued, NoShow,
                                  Recalled, Served, Withdrawn)
from antrian.queue.rules import COUNTER_ACTIONS, COUNTER_EVENTS, TICKET_TRANSITIONS, CounterStatus
from antrian.site import load

ROOT = Path(__file__).resolve().parents[1]
CONFIG = load(ROOT / "examples" / "buton.yaml").always_open()
TZ = CONFIG.tz
MORNING = dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
TODAY = MORNING.date()


def at(minutes: int) -> dt.datetime:
    return MORNING + dt.timedelta(minutes=minutes)


def engine_with_two_tickets() -> Engine:
    """A-001 being served at loket1, A-002 waiting, loket8 closed."""
    engine = Engine(CONFIG)
    engine.apply(DayStarted(at=at(0), day=TODAY))
    for i in range(2):
        engine.apply_all(engine.issue("KTP", None, at(i)).events)
    engine.apply_all(engine.command("loket1", "call_next", {}, at(2)).events)
    return engine


def snapshot(engine: Engine) -> tuple:
    return (engine.day, engine.last_seq, copy.deepcopy(engine.tickets), copy.deepcopy(engine.gone),
            copy.deepcopy(engine.counters), dict(engine.issued), dict(engine.waiting), list(engine.recent))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Teleported(Event):
    KIND: ClassVar[str] = "teleported"
    number: str


def test_every_action_of_the_contract_has_one_rule_and_every_status_a_row():
    assert set(Engine._RULES) == set(protocol.ACTIONS)
    assert set(COUNTER_ACTIONS) == set(COUNTER_EVENTS) == set(CounterStatus)
    assert all(actions <= set(protocol.ACTIONS) for actions in COUNTER_ACTIONS.values())
    assert all(kinds <= set(EVENT_CLASSES) for kinds in COUNTER_EVENTS.values())
    assert {kind for _, kind in TICKET_TRANSITIONS} <= set(EVENT_CLASSES)


ILLEGAL = [
    ("served_while_waiting", Served(at=at(5), number="A-002", counter="loket1"), "a waiting ticket cannot be served"),
    ("called_twice", Called(at=at(5), number="A-001", counter="loket2", seq=2, via="number"),
     "a serving ticket cannot be called"),
    ("recalled_elsewhere", Recalled(at=at(5), number="A-001", counter="loket2", seq=2),
     "the counter is not serving that ticket"),
    ("called_at_a_closed_counter", Called(at=at(5), number="A-002", counter="loket8", seq=2, via="next"),
     "not at a closed counter"),
    ("called_while_serving", Called(at=at(5), number="A-002", counter="loket1", seq=2, via="next"),
     "still serving A-001"),
    ("number_issued_twice", Issued(at=at(5), number="A-001", service="KTP", priority=None), "already issued"),
    ("unknown_kind", Teleported(at=at(5), number="A-002"), "unknown event kind"),
    ("a_counter_that_is_not_the_tickets", NoShow(at=at(5), number="A-001", counter="loket99"),
     "the counter is not serving that ticket"),
    ("unknown_ticket", Served(at=at(5), number="A-099", counter="loket1"), "no such ticket"),
    ("bad_counter_status", CounterStatusChanged(at=at(5), counter="loket1", status="sleeping", reason=None),
     "not a counter status"),
    ("day_goes_back", DayStarted(at=at(5), day=TODAY - dt.timedelta(days=1)), "a day never goes back"),
    ("same_day_again", DayStarted(at=at(5), day=TODAY), "a day never goes back"),
    ("withdrawn_unknown", Withdrawn(at=at(5), number="A-099", reason="test"), "no such ticket"),
]


@pytest.mark.parametrize("event, why", [c[1:] for c in ILLEGAL], ids=[c[0] for c in ILLEGAL])
def test_apply_refuses_an_illegal_event_and_changes_nothing(event, why):
    engine = engine_with_two_tickets()
    before = snapshot(engine)
    with pytest.raises(TransitionError, match=why):
        engine.apply(event)
    assert snapshot(engine) == before


def test_nothing_but_a_day_is_applied_before_a_day_has_started():
    engine = Engine(CONFIG)
    with pytest.raises(TransitionError, match="no business day has started"):
        engine.apply(Issued(at=at(0), number="A-001", service="KTP", priority=None))
    with pytest.raises(TransitionError, match="no business day has started"):
        engine.issue("KTP", None, at(0))
    assert engine.day is None and not engine.tickets


def test_a_withdrawn_ticket_leaves_the_queue_and_its_counter_and_cannot_be_withdrawn_again():
    engine = engine_with_two_tickets()
    engine.apply_all([Withdrawn(at=at(3), number="A-001", reason="test"),
                      Withdrawn(at=at(3), number="A-002", reason="test")])
    assert engine.serving("loket1") is None and engine.waiting_count("KTP") == 0
    with pytest.raises(TransitionError, match="a withdrawn ticket cannot be withdrawn"):
        engine.apply(Withdrawn(at=at(4), number="A-002", reason="again"))


def test_an_event_of_a_later_time_belongs_to_the_open_business_day():
    engine = engine_with_two_tickets()
    engine.apply(Issued(at=at(60 * 24), number="A-003", service="KTP", priority=None))
    assert engine.day == TODAY and engine.waiting_count("KTP") == 2
    assert engine.ticket("A-003")["business_day"] == TODAY.isoformat()


def test_a_no_show_can_be_called_back_but_a_served_ticket_cannot():
    engine = engine_with_two_tickets()
    engine.apply_all(engine.command("loket1", "no_show", {}, at(3)).events)
    engine.apply_all(engine.command("loket1", "call_number", {"number": "A-001"}, at(4)).events)
    assert engine.counter_state("loket1", at(4))["serving"]["number"] == "A-001"
    engine.apply_all(engine.command("loket1", "finish", {}, at(5)).events)
    with pytest.raises(TransitionError, match="a served ticket cannot be called"):
        engine.apply(Called(at=at(6), number="A-001", counter="loket1", seq=9, via="number"))


def test_decisions_and_views_never_look_at_the_calendar():
    engine = engine_with_two_tickets()
    before = snapshot(engine)
    tomorrow = at(60 * 24)
    assert engine.issue("KTP", None, tomorrow).ticket == "A-003"  # still today's numbering ...
    board = engine.board(tomorrow)
    assert board["business_day"] == TODAY.isoformat() and board["waiting"]["KTP"] == 1
    assert engine.counter_state("loket1", tomorrow)["serving"]["number"] == "A-001"
    assert engine.catalog(tomorrow)["agencies"]
    assert snapshot(engine) == before  # ... and nothing changed
    engine.apply(DayStarted(at=tomorrow, day=TODAY + dt.timedelta(days=1)))  # only this opens a day
    outcome = engine.issue("KTP", None, tomorrow)
    assert outcome.ticket == "A-001"
    engine.apply_all(outcome.events)
    assert engine.day == TODAY + dt.timedelta(days=1)
    assert engine.board(tomorrow)["waiting"]["KTP"] == 1
    assert engine.serving("loket1") is None
    assert engine.last_seq == before[1]  # seq never goes back across the day
