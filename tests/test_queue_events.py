"""The event classes (antrian/queue/events.py): every class through the row encoding and
back, the names on disk, a row that does not fit refused with the reason; and what the
state keeps aside when the site file no longer has a service or a counter
(antrian/queue/state.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from helpers import Desk, two_services
from sites import WIB, counter, service, site

from antrian.errors import EventError, TransitionError
from antrian.queue.engine import Engine
from antrian.queue.events import (BY_KIND, EVENT_CLASSES, EVENT_KINDS, Booked, BookingCancelled, BookingExpired,
                                  Called, CounterStatus, CounterStatusChanged, DayStarted, Issued, NoShow, Recalled,
                                  Served, Transferred, Withdrawn, from_row, to_row)

AT = dt.datetime(2026, 11, 23, 9, 15, 2, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))

ONE_OF_EACH = [
    DayStarted(at=AT, day=dt.date(2026, 11, 23)),
    Issued(at=AT, number="A-001", service="KTP", priority=None),
    Issued(at=AT, number="A-002", service="KTP", priority="lansia"),
    Called(at=AT, number="A-001", counter="loket1", seq=7, via="next"),
    Recalled(at=AT, number="A-001", counter="loket1", seq=8),
    Served(at=AT, number="A-001", counter="loket1"),
    NoShow(at=AT, number="A-001", counter="loket1"),
    Transferred(at=AT, number="A-001", counter="loket1", from_service="KTP", to_service="KK"),
    CounterStatusChanged(at=AT, counter="loket1", status=CounterStatus.PAUSED, reason="Sholat"),
    CounterStatusChanged(at=AT, counter="loket1", status=CounterStatus.OPEN, reason=None),
    Withdrawn(at=AT, number="A-001", reason="service KTP is no longer in the site file"),
    Booked(at=AT, code="7K3MQ2XA5", service="KTP", date=dt.date(2026, 11, 24), slot="09:30", phone="ab" * 16, nik=None),
    Issued(at=AT, number="A-003", service="KTP", priority=None, booking="7K3MQ2XA5"),
    BookingCancelled(at=AT, code="7K3MQ2XA5"),
    BookingExpired(at=AT, code="7K3MQ2XA5"),
]


def test_a_walk_in_row_is_written_as_before_bookings_existed():
    # Issued.booking is left out when null, so older rows and older readers agree
    assert json.loads(to_row(ONE_OF_EACH[1])[2]) == {"number": "A-001", "service": "KTP", "priority": None}
    assert json.loads(to_row(ONE_OF_EACH[12])[2])["booking"] == "7K3MQ2XA5"


def test_every_class_is_covered_and_the_names_on_disk_stay():
    assert {type(e) for e in ONE_OF_EACH} == set(EVENT_CLASSES)
    # the kinds written before the classes existed keep their names
    assert {"issued", "called", "recalled", "served", "no_show", "transferred", "counter_status"} <= set(EVENT_KINDS)
    assert set(EVENT_KINDS) == set(BY_KIND) and len(EVENT_KINDS) == len(EVENT_CLASSES)


@pytest.mark.parametrize("event", ONE_OF_EACH, ids=lambda e: e.kind)
def test_every_event_round_trips_through_its_row(event):
    kind, at, data = to_row(event)
    assert kind == event.kind and dt.datetime.fromisoformat(at) == event.at
    assert from_row(kind, at, data) == event
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.at = AT


def test_rows_written_before_the_classes_still_read():
    # as the store held them: the same kinds and JSON keys
    assert from_row("called", "2026-11-23T09:15:02+08:00",
                    '{"number": "A-001", "counter": "loket1", "seq": 3, "via": "number"}') == Called(
        at=dt.datetime(2026, 11, 23, 9, 15, 2, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        number="A-001", counter="loket1", seq=3, via="number")
    status = from_row("counter_status", AT.isoformat(), '{"counter": "loket8", "status": "closed", "reason": null}')
    assert status.status is CounterStatus.CLOSED


BAD_ROWS = [
    ("unknown_kind", "teleported", '{"number": "A-001"}', "unknown event kind 'teleported'"),
    ("not_json", "issued", "{number: A-001", "not JSON"),
    ("not_an_object", "issued", "[1, 2]", "not a JSON object"),
    ("missing_field", "served", '{"number": "A-001"}', "missing counter"),
    ("extra_field", "served", '{"number": "A-001", "counter": "c", "x": 1}', "unexpected x"),
    ("seq_as_text", "recalled", '{"number": "A-001", "counter": "c", "seq": "2"}', "seq is '2'"),
    ("seq_as_bool", "recalled", '{"number": "A-001", "counter": "c", "seq": true}', "seq is True"),
    ("number_null", "served", '{"number": null, "counter": "c"}', "number is None"),
    ("bad_status", "counter_status", '{"counter": "c", "status": "sleeping", "reason": null}', "status is 'sleeping'"),
    ("bad_day", "day_started", '{"day": "23-11-2026"}', "day is '23-11-2026'"),
    ("priority_number", "issued", '{"number": "A-001", "service": "KTP", "priority": 3}', "priority is 3"),
]


@pytest.mark.parametrize("kind, data, why", [c[1:] for c in BAD_ROWS], ids=[c[0] for c in BAD_ROWS])
def test_a_row_that_does_not_fit_its_class_is_refused_with_the_reason(kind, data, why):
    with pytest.raises(EventError, match=why.replace("(", r"\(")):
        from_row(kind, AT.isoformat(), data)


def test_the_store_keeps_every_class_in_the_business_day_never_the_date_of_its_time(tmp_path):
    from antrian.adapters.store import Store

    store = Store(tmp_path / "antrian.db", AT.tzinfo)
    after_midnight = AT + dt.timedelta(days=1)  # a stamp past midnight still belongs to the open day
    late = Served(at=after_midnight, number="A-001", counter="loket1")
    store.commit(ONE_OF_EACH, [])
    store.commit([late], [], day=dt.date(2026, 11, 23))
    assert store.latest_day() == "2026-11-23"
    assert store.events("2026-11-23") == [*ONE_OF_EACH, late]
    assert [row_id for row_id, _ in store.rows()] == list(range(1, len(ONE_OF_EACH) + 2))
    store.close()


@pytest.mark.parametrize("at", ["yesterday", "2026-11-23T09:15:02", None])
def test_a_row_whose_time_is_no_time_with_an_offset_is_refused(at):
    with pytest.raises(EventError, match="time"):
        from_row("served", at, json.dumps({"number": "A-001", "counter": "c"}))


# -- what the site file no longer has ---------------------------------------------------


def a_day_with_b(config=None):
    """A morning on A and B: B-001 served at cb, B-002 being served at cab, B-003 and
    A-002 waiting, A-001 served at ca."""
    desk = Desk(config or two_services(), dt.datetime(2026, 11, 16, 9, tzinfo=dt.timezone(dt.timedelta(hours=7))))
    desk.issue_many(3, "B")
    desk.issue_many(2, "A")
    assert desk.call("ca") == "A-001" and desk.call("cb") == "B-001" and desk.call("cab") == "B-002"
    desk.call("cb", "finish")
    desk.call("ca", "finish")
    return desk


def without(services=("A", "B"), counters=("ca", "ca2", "cb", "cab")):
    services_of = {"ca": ("A",), "ca2": ("A",), "cb": ("B",), "cab": ("A", "B")}
    return site(timezone=WIB, services=[service(s) for s in services],
                counters=[counter(c, *[s for s in services_of[c] if s in services]) for c in counters])


def test_a_service_gone_from_the_site_file_is_kept_aside_and_its_open_tickets_are_stranded():
    desk = a_day_with_b()
    engine = Engine(without(services=("A",), counters=("ca", "ca2", "cab")))
    engine.replay(desk.engine.day, desk.events)
    assert sorted(engine.tickets) == ["A-001", "A-002"] and engine.waiting_count("A") == 1
    assert sorted(engine.gone) == ["B-001", "B-002", "B-003"]
    assert engine.serving("cab") is None  # it was serving B-002: no counter state for it
    assert engine.stranded() == [("B-002", "service B is no longer in the site file"),
                                 ("B-003", "service B is no longer in the site file")]
    withdrawals = engine.withdraw_stranded(desk.now).events
    assert [(type(e), e.number) for e in withdrawals] == [(Withdrawn, "B-002"), (Withdrawn, "B-003")]
    engine.apply_all(withdrawals)
    assert engine.stranded() == []
    # the queue goes on: A-002 is called, and a gone ticket still follows the tables
    engine.apply_all(engine.command("cab", "call_next", {}, desk.now).events)
    assert engine.serving("cab") == "A-002"
    with pytest.raises(TransitionError, match="a withdrawn ticket cannot be served"):
        engine.apply(Served(at=desk.now, number="B-003", counter="cb"))


def test_a_counter_gone_from_the_site_file_has_no_state_and_its_ticket_is_stranded():
    desk = a_day_with_b()
    engine = Engine(without(counters=("ca", "ca2", "cb")))
    engine.replay(desk.engine.day, desk.events)
    assert set(engine.counters) == {"ca", "ca2", "cb"}
    assert engine.ticket("B-002")["number"] == "B-002" and engine.waiting_count("B") == 1  # called, not waiting
    assert engine.stranded() == [("B-002", "counter cab is no longer in the site file")]
    engine.apply_all(engine.withdraw_stranded(desk.now).events)
    assert engine.stranded() == [] and engine.waiting_count("B") == 1
    # a served ticket of the gone counter stays served: it is never called again
    assert engine.command("cb", "call_next", {}, desk.now).ticket == "B-003"


def test_a_transfer_into_a_gone_service_puts_the_ticket_aside():
    config = two_services()
    desk = Desk(config, dt.datetime(2026, 11, 16, 9, tzinfo=dt.timezone(dt.timedelta(hours=7))))
    desk.issue("A")
    desk.call("ca")
    desk.call("ca", "transfer", to_service="B")
    engine = Engine(without(services=("A",), counters=("ca", "ca2", "cab")))
    engine.replay(desk.engine.day, desk.events)
    assert list(engine.gone) == ["A-001"] and engine.waiting_count("A") == 0
    assert engine.stranded() == [("A-001", "service B is no longer in the site file")]
