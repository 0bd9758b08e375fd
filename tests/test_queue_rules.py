"""The queue's transition tables (antrian/queue/rules.py): every action has one rule,
`apply` refuses what the tables do not allow and leaves the state as it was, and
decisions and views never change the engine, not even across midnight."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from antrian import protocol
from antrian.errors import TransitionError
from antrian.queue.engine import Engine, Event
from antrian.queue.rules import COUNTER_ACTIONS, COUNTER_EVENTS, EVENT_KINDS, CounterStatus
from antrian.site import load

ROOT = Path(__file__).resolve().parents[1]
CONFIG = load(ROOT / "examples" / "buton.yaml").always_open()
TZ = CONFIG.tz
MORNING = dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def at(minutes: int) -> dt.datetime:
    return MORNING + dt.timedelta(minutes=minutes)


def engine_with_two_tickets() -> Engine:
    """A-001 being served at loket1, A-002 waiting, loket8 closed."""
    engine = Engine(CONFIG)
    for i in range(2):
        engine.apply_all(engine.issue("KTP", None, at(i)).events)
    engine.apply_all(engine.command("loket1", "call_next", {}, at(2)).events)
    return engine


def snapshot(engine: Engine) -> tuple:
    return (engine.day, engine.last_seq, copy.deepcopy(engine.tickets), copy.deepcopy(engine.counters),
            dict(engine.issued), dict(engine.waiting), list(engine.recent))


def test_every_action_of_the_contract_has_one_rule_and_every_status_a_row():
    assert set(Engine._RULES) == set(protocol.ACTIONS)
    assert set(COUNTER_ACTIONS) == set(COUNTER_EVENTS) == set(CounterStatus)
    assert all(actions <= set(protocol.ACTIONS) for actions in COUNTER_ACTIONS.values())
    assert all(kinds <= set(EVENT_KINDS) for kinds in COUNTER_EVENTS.values())


ILLEGAL = [
    ("served_while_waiting", Event("served", at(5), {"number": "A-002", "counter": "loket1"}),
     "a waiting ticket cannot be served"),
    ("called_twice", Event("called", at(5), {"number": "A-001", "counter": "loket2", "seq": 2, "via": "number"}),
     "a serving ticket cannot be called"),
    ("recalled_elsewhere", Event("recalled", at(5), {"number": "A-001", "counter": "loket2", "seq": 2}),
     "the counter is not serving that ticket"),
    ("called_at_a_closed_counter", Event("called", at(5), {"number": "A-002", "counter": "loket8", "seq": 2,
                                                             "via": "next"}),
     "not at a closed counter"),
    ("unknown_service", Event("issued", at(5), {"number": "Z-001", "service": "ZZZ", "priority": None}),
     "no such service"),
    ("number_issued_twice", Event("issued", at(5), {"number": "A-001", "service": "KTP", "priority": None}),
     "already issued"),
    ("unknown_kind", Event("teleported", at(5), {"number": "A-002", "counter": "loket1"}), "unknown event kind"),
    ("unknown_counter", Event("no_show", at(5), {"number": "A-001", "counter": "loket99"}), "no such counter"),
    ("unknown_ticket", Event("served", at(5), {"number": "A-099", "counter": "loket1"}), "no such ticket"),
    ("bad_counter_status", Event("counter_status", at(5), {"counter": "loket1", "status": "sleeping"}),
     "not a counter status"),
    ("transfer_nowhere", Event("transferred", at(5), {"number": "A-001", "counter": "loket1", "from_service": "KTP",
                                                       "to_service": "NOPE"}), "no such service to transfer to"),
]


@pytest.mark.parametrize("event, why", [c[1:] for c in ILLEGAL], ids=[c[0] for c in ILLEGAL])
def test_apply_refuses_an_illegal_event_and_changes_nothing(event, why):
    engine = engine_with_two_tickets()
    before = snapshot(engine)
    with pytest.raises(TransitionError, match=why):
        engine.apply(event)
    assert snapshot(engine) == before


def test_an_illegal_event_of_the_next_day_does_not_roll_the_day():
    engine = engine_with_two_tickets()
    before = snapshot(engine)
    with pytest.raises(TransitionError):
        engine.apply(Event("served", at(60 * 24), {"number": "A-001", "counter": "loket1"}))
    assert snapshot(engine) == before


def test_a_no_show_can_be_called_back_but_a_served_ticket_cannot():
    engine = engine_with_two_tickets()
    engine.apply_all(engine.command("loket1", "no_show", {}, at(3)).events)
    engine.apply_all(engine.command("loket1", "call_number", {"number": "A-001"}, at(4)).events)
    assert engine.counter_state("loket1", at(4))["serving"]["number"] == "A-001"
    engine.apply_all(engine.command("loket1", "finish", {}, at(5)).events)
    with pytest.raises(TransitionError, match="a served ticket cannot be called"):
        engine.apply(Event("called", at(6), {"number": "A-001", "counter": "loket1", "seq": 9, "via": "number"}))


def test_decisions_and_views_leave_the_engine_alone_across_midnight():
    engine = engine_with_two_tickets()
    before = snapshot(engine)
    tomorrow = at(60 * 24)
    outcome = engine.issue("KTP", None, tomorrow)
    assert outcome.ticket == "A-001"  # the new day numbers from 1 ...
    board = engine.board(tomorrow)
    assert board["business_day"] == "2026-11-24" and board["waiting"]["KTP"] == 0
    assert engine.counter_state("loket1", tomorrow)["serving"] is None
    assert engine.catalog(tomorrow)["agencies"]
    calls = engine.command("loket1", "call_next", {}, tomorrow)
    assert calls.error is not None and calls.error.code == "queue_empty"
    assert snapshot(engine) == before  # ... and yesterday's engine is untouched until an event is applied
    engine.apply_all(outcome.events)
    assert engine.day == dt.date(2026, 11, 24)
    assert engine.board(tomorrow)["waiting"]["KTP"] == 1
    assert engine.last_seq == before[1]  # seq never goes back across the day
