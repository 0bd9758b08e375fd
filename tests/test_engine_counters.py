"""The queue rules of DESIGN.md, tested on the pure engine with a hand-moved clock: finish, transfer, open/pause/close and the counter and board views.

`Desk` (tests/helpers.py) drives an `Engine` the way the dispatcher does: decide, then
apply the events, and keeps every applied event so a session can be replayed.
"""

from __future__ import annotations

import pytest
from helpers import Desk, kinds, snapshot, two_services
from sites import site

from antrian.queue.engine import (
    Engine,
)

# -- finish ---------------------------------------------------------------------------


def test_finish_serves_the_ticket_and_leaves_the_counter_idle():
    desk = Desk(site())
    desk.issue_many(2)
    assert desk.call("ca", "finish") == "not_serving"
    desk.call("ca")
    out = desk.do("ca", "finish")
    assert kinds(out) == ["served"] and out.ticket == "A-001"
    assert desk.state("ca")["serving"] is None and desk.state("ca")["status"] == "open"
    assert desk.call("ca", "finish") == "not_serving"
    assert desk.call("ca") == "A-002"


# -- transfer -------------------------------------------------------------------------


def test_transfer_keeps_the_number_and_joins_by_original_issue_time():
    desk = Desk(two_services())
    assert desk.issue("B") == "B-001"  # 08:00
    desk.wait(1)
    assert desk.issue("A") == "A-001"  # 08:01
    desk.wait(1)
    assert desk.issue("B") == "B-002"  # 08:02
    desk.wait(10)
    desk.call("ca")
    out = desk.do("ca", "transfer", to_service="B")
    assert kinds(out) == ["transferred"] and out.ticket == "A-001"
    assert out.events[0].from_service == "A" and out.events[0].to_service == "B"
    assert desk.state("ca")["serving"] is None
    moved = desk.ticket("A-001")
    assert (moved["number"], moved["service"], moved["ahead"]) == ("A-001", "B", 1)
    assert moved["issued_at"] == "2026-11-16T08:01:00+07:00"
    assert desk.ticket("B-002")["ahead"] == 2
    assert desk.board()["waiting"] == {"A": 0, "B": 3}
    assert desk.calls("cb", 4) == ["B-001", "A-001", "B-002", "queue_empty"]


@pytest.mark.parametrize("args, code", [
    ({"to_service": "X"}, "unknown_service"),
    ({}, "unknown_service"),
    ({"to_service": "A"}, "bad_request"),  # already there
])
def test_transfer_refusals(args, code):
    desk = Desk(two_services())
    desk.issue()
    desk.call("ca")
    assert desk.call("ca", "transfer", **args) == code
    assert desk.state("ca")["serving"]["number"] == "A-001"


def test_transfer_needs_a_ticket_being_served():
    desk = Desk(two_services())
    assert desk.call("ca", "transfer", to_service="B") == "not_serving"


@pytest.mark.parametrize("pressed_next_in_between", [False, True])
def test_a_ticket_transferred_away_and_back_is_counted_once(pressed_next_in_between):
    desk = Desk(two_services())
    desk.issue_many(4)  # A-001..A-004
    desk.call("ca")
    desk.call("ca", "transfer", to_service="B")
    if pressed_next_in_between:
        assert desk.call("ca2") == "A-002"
    desk.call("cb")  # A-001 at B
    desk.call("cb", "transfer", to_service="A")
    # A-001 waits in A again, by its issue time: first
    assert desk.ticket("A-001")["ahead"] == 0
    assert desk.ticket("A-003")["ahead"] == (1 if pressed_next_in_between else 2)
    assert desk.ticket("A-004")["ahead"] == (2 if pressed_next_in_between else 3)
    assert desk.board()["waiting"]["A"] == (3 if pressed_next_in_between else 4)
    replayed = Engine(desk.engine.config)
    replayed.apply_all(desk.events)
    assert snapshot(replayed, desk.now) == snapshot(desk.engine, desk.now)


# -- open, pause, close ---------------------------------------------------------------


def test_pause_with_a_reason_and_open_again():
    desk = Desk(site())
    out = desk.do("ca", "pause", reason="Sholat Jumat")
    assert kinds(out) == ["counter_status"]
    assert (desk.state("ca")["status"], desk.state("ca")["reason"]) == ("paused", "Sholat Jumat")
    assert desk.board()["counters"][0]["status"] == "paused"
    assert kinds(desk.do("ca", "pause", reason="Sholat Jumat")) == []  # nothing changes
    assert kinds(desk.do("ca", "open")) == ["counter_status"]
    assert desk.state("ca")["status"] == "open"
    assert kinds(desk.do("ca", "open")) == []


@pytest.mark.parametrize("reason", [42, "x" * 201, ["a"]])
def test_pause_refuses_a_bad_reason(reason):
    desk = Desk(site())
    assert desk.call("ca", "pause", reason=reason) == "bad_request"


def test_pause_keeps_the_ticket_being_served():
    desk = Desk(site())
    desk.issue()
    desk.call("ca")
    assert desk.do("ca", "pause").ticket == "A-001"
    assert desk.state("ca")["serving"]["number"] == "A-001"


def test_close_finishes_the_ticket_being_served():
    desk = Desk(site())
    desk.issue_many(2)
    desk.call("ca")
    out = desk.do("ca", "close")
    assert kinds(out) == ["served", "counter_status"] and out.ticket is None
    state = desk.state("ca")
    assert (state["status"], state["serving"], state["waiting"]) == ("closed", None, 1)
    assert kinds(desk.do("ca", "close")) == []
    assert desk.call("ca", "finish") == "not_serving"


# -- views of a counter and the board -------------------------------------------------


def test_counter_state_and_board():
    desk = Desk(two_services())
    desk.issue_many(2)
    desk.issue("B")
    desk.call("cab")
    state = desk.state("cab")
    assert state["counter"] == "cab" and state["name"] == "Loket cab" and state["status"] == "open"
    assert state["serving"] == desk.ticket("A-001")
    assert (state["recalls"], state["waiting"], state["updated_at"]) == (0, 2, "2026-11-16T08:00:00+07:00")
    board = desk.board()
    assert board["business_day"] == "2026-11-16" and board["seq"] == 1
    assert board["waiting"] == {"A": 1, "B": 1}
    assert {c["counter"]: (c["serving"], c["service_name"]) for c in board["counters"]} == {
        "ca": (None, None), "ca2": (None, None), "cb": (None, None), "cab": ("A-001", "Layanan A")}


def test_board_keeps_the_ten_most_recent_calls():
    desk = Desk(site())
    desk.issue_many(12)
    desk.calls("ca", 12)
    recent = desk.board()["recent"]
    assert [c["seq"] for c in recent] == list(range(12, 2, -1))
