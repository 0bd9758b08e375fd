"""The queue rules of DESIGN.md, tested on the pure engine with a hand-moved clock: call_next, recall, no_show and call_number.

`Desk` (tests/helpers.py) drives an `Engine` the way the dispatcher does: decide, then
apply the events, and keeps every applied event so a session can be replayed.
"""

from __future__ import annotations

import pytest
from helpers import Desk, kinds, two_services
from sites import counter, service, site

from antrian.queue.events import CALLS, CounterStatus, CounterStatusChanged

# -- call_next: who comes next --------------------------------------------------------


def test_call_next_takes_the_longest_waiting_ticket_among_the_counters_services():
    desk = Desk(site(services=[service("A"), service("B"), service("C")],
                     counters=[counter("multi", "C", "A", "B"), counter("ca", "A")]))
    issued = []
    for svc in "BACACBA":
        issued.append(desk.issue(svc))
        desk.wait(1)
    assert issued == ["B-001", "A-001", "C-001", "A-002", "C-002", "B-002", "A-003"]
    assert desk.calls("multi", 3) == ["B-001", "A-001", "C-001"]
    assert desk.call("ca") == "A-002"  # a counter for A only sees A
    assert desk.calls("multi", 5) == ["C-002", "B-002", "A-003", "queue_empty", "queue_empty"]


# normal A-001..A-003 first, then priority A-004..A-007
@pytest.mark.parametrize("streak, order", [
    (1, ["A-004", "A-001", "A-005", "A-002", "A-006", "A-003", "A-007"]),
    (2, ["A-004", "A-005", "A-001", "A-006", "A-007", "A-002", "A-003"]),
    (3, ["A-004", "A-005", "A-006", "A-001", "A-007", "A-002", "A-003"]),
    (None, ["A-004", "A-005", "A-001", "A-006", "A-007", "A-002", "A-003"]),  # default 2
])
def test_priority_first_but_at_most_a_streak_while_normal_tickets_wait(streak, order):
    desk = Desk(site(queue=None if streak is None else {"priority_streak": streak}))
    desk.issue_many(3)
    desk.wait(5)
    for group in ("lansia", "disabilitas", "ibu_hamil", "anak"):
        desk.issue("A", group)
    assert desk.calls("ca", 8) == order + ["queue_empty"]


def test_priority_keeps_coming_when_no_normal_ticket_waits():
    desk = Desk(site())
    desk.issue_many(3, priority="lansia")
    assert desk.calls("ca", 3) == ["A-001", "A-002", "A-003"]
    desk.issue()  # normal A-004
    desk.issue("A", "lansia")
    # three priority calls in a row: the waiting normal ticket goes first now
    assert desk.calls("ca", 2) == ["A-004", "A-005"]


def test_priority_streak_is_per_counter():
    desk = Desk(two_services())
    desk.issue()  # normal A-001
    desk.issue_many(4, priority="anak")  # A-002..A-005
    assert desk.calls("ca", 2) == ["A-002", "A-003"]  # ca's streak is 2
    assert desk.call("ca2") == "A-004"  # ca2 has no streak yet
    assert desk.call("ca") == "A-001"
    assert desk.call("ca2") == "A-005"


def test_call_number_does_not_change_the_streak():
    desk = Desk(site())
    desk.issue_many(2)  # normal
    desk.issue_many(4, priority="lansia")  # A-003..A-006
    assert desk.call("ca") == "A-003"  # streak 1
    assert desk.call("ca", "call_number", number="A-004") == "A-004"  # out of turn: still 1
    assert desk.call("ca") == "A-005"  # streak 2
    assert desk.call("ca", "call_number", number="A-002") == "A-002"  # a normal one out of turn: still 2
    assert desk.call("ca") == "A-001"  # so the waiting normal ticket comes first
    assert desk.call("ca") == "A-006"


# -- call_next: what it does ----------------------------------------------------------


def test_call_next_finishes_the_ticket_being_served():
    desk = Desk(site())
    desk.issue_many(2)
    first = desk.do("ca", "call_next")
    assert kinds(first) == ["called"] and first.ticket == "A-001"
    second = desk.do("ca", "call_next")
    assert kinds(second) == ["served", "called"]
    assert second.events[0].number == "A-001"
    assert desk.state("ca")["serving"]["number"] == "A-002"
    assert desk.state("ca")["waiting"] == 0


def test_call_next_on_an_empty_queue_still_finishes_the_current_ticket():
    desk = Desk(site())
    desk.issue()
    desk.call("ca")
    out = desk.do("ca", "call_next")
    assert out.error.code == "queue_empty" and out.ticket is None
    assert kinds(out) == ["served"]
    assert desk.state("ca")["serving"] is None
    again = desk.do("ca", "call_next")
    assert again.error.code == "queue_empty" and kinds(again) == []


def test_call_next_on_a_paused_counter_resumes_it():
    desk = Desk(site())
    desk.issue()
    desk.do("ca", "pause", reason="Istirahat")
    assert desk.state("ca")["status"] == "paused"
    out = desk.do("ca", "call_next")
    assert kinds(out) == ["counter_status", "called"]
    assert out.events[0] == CounterStatusChanged(at=desk.now, counter="ca", status=CounterStatus.OPEN, reason=None)
    assert desk.state("ca")["status"] == "open" and desk.state("ca")["reason"] is None
    # and on an empty queue it resumes too
    desk.do("ca", "pause")
    out = desk.do("ca", "call_next")
    assert out.error.code == "queue_empty"
    assert kinds(out) == ["served", "counter_status"]
    assert desk.state("ca")["status"] == "open"


@pytest.mark.parametrize("action, args", [
    ("call_next", {}), ("recall", {}), ("call_number", {"number": "A-001"}), ("transfer", {"to_service": "B"}),
])
def test_a_closed_counter_refuses_calls(action, args):
    desk = Desk(two_services())
    desk.issue()
    desk.do("ca", "close")
    assert desk.call("ca", action, **args) == "counter_closed"
    desk.do("ca", "open")
    assert desk.call("ca", "call_next") == "A-001"


def test_a_counter_closed_at_start_must_be_opened():
    desk = Desk(site(counters=[counter("ca", "A", open_at_start=False)]))
    desk.issue()
    assert desk.call("ca") == "counter_closed"
    assert kinds(desk.do("ca", "open")) == ["counter_status"]
    assert desk.call("ca") == "A-001"


@pytest.mark.parametrize("counter_id, action, code", [
    ("nope", "call_next", "unknown_counter"),
    ("ca", "dance", "bad_request"),
])
def test_unknown_counter_or_action(counter_id, action, code):
    desk = Desk(site())
    assert desk.call(counter_id, action) == code


# -- recall ---------------------------------------------------------------------------


def test_recall_needs_a_ticket_being_served():
    desk = Desk(site())
    assert desk.call("ca", "recall") == "not_serving"
    desk.issue()
    desk.call("ca")
    desk.call("ca", "finish")
    assert desk.call("ca", "recall") == "not_serving"


@pytest.mark.parametrize("max_recalls, allowed", [(None, 3), (0, 0), (1, 1), (5, 5)])
def test_recall_limit(max_recalls, allowed):
    desk = Desk(site(queue=None if max_recalls is None else {"max_recalls": max_recalls}))
    desk.issue_many(2)
    desk.call("ca")
    for i in range(allowed):
        out = desk.do("ca", "recall")
        assert kinds(out) == ["recalled"] and out.ticket == "A-001"
        assert out.events[0].seq == i + 2
    assert desk.call("ca", "recall") == "recall_limit"
    assert desk.state("ca")["recalls"] == allowed
    assert desk.board()["seq"] == allowed + 1
    # a new ticket starts with no recalls
    assert desk.call("ca") == "A-002"
    assert desk.state("ca")["recalls"] == 0
    assert desk.call("ca", "recall") == ("A-002" if allowed else "recall_limit")


def test_a_recall_is_a_call_with_a_new_seq():
    desk = Desk(site())
    desk.issue()
    desk.call("ca")
    desk.call("ca", "recall")
    recent = desk.board()["recent"]
    assert [(c["seq"], c["number"], c["recall"]) for c in recent] == [(2, "A-001", True), (1, "A-001", False)]
    assert recent[0]["counter"] == "ca" and recent[0]["counter_name"] == "Loket ca"


def test_seq_grows_by_one_with_every_call_and_recall():
    desk = Desk(two_services())
    desk.issue_many(4)
    desk.issue_many(2, "B")
    steps = [("ca", "call_next", {}), ("cb", "call_next", {}), ("ca", "recall", {}), ("cab", "call_next", {}),
             ("ca", "no_show", {}), ("ca2", "call_number", {"number": "A-001"}), ("cb", "recall", {}),
             ("ca", "call_next", {}), ("cab", "call_next", {}), ("ca2", "recall", {})]
    for cid, action, args in steps:
        assert not isinstance(desk.do(cid, action, **args), str), (cid, action)
    seqs = [e.seq for e in desk.events if isinstance(e, CALLS)]
    assert seqs == list(range(1, 10))
    assert desk.board()["seq"] == 9
    assert [c["seq"] for c in desk.board()["recent"]] == list(range(9, 0, -1))


# -- no_show and call_number ----------------------------------------------------------


def test_no_show_ends_the_ticket():
    desk = Desk(site())
    desk.issue_many(2)
    desk.call("ca")
    out = desk.do("ca", "no_show")
    assert kinds(out) == ["no_show"] and out.ticket == "A-001"
    assert desk.state("ca")["serving"] is None
    assert desk.ticket("A-001")["ahead"] == 0
    assert desk.board()["waiting"] == {"A": 1}
    assert desk.calls("ca", 2) == ["A-002", "queue_empty"]
    assert desk.call("ca", "no_show") == "not_serving"


@pytest.mark.parametrize("tolerance, later_calls, allowed", [
    (None, 0, True), (None, 4, True), (None, 5, False),  # default 5
    (2, 1, True), (2, 2, False), (0, 0, False),
])
def test_a_no_show_can_come_back_within_the_late_tolerance(tolerance, later_calls, allowed):
    desk = Desk(site(queue=None if tolerance is None else {"late_tolerance": tolerance}))
    desk.issue_many(8)
    desk.call("ca")
    desk.call("ca", "no_show")
    desk.calls("ca", later_calls)
    if allowed:
        assert desk.call("ca", "call_number", number="A-001") == "A-001"
        assert desk.state("ca")["serving"]["number"] == "A-001"
    else:
        assert desk.call("ca", "call_number", number="A-001") == "bad_request"


def test_late_tolerance_counts_only_calls_of_the_tickets_own_service():
    desk = Desk(two_services())
    desk.issue_many(2)
    desk.issue_many(6, "B")
    desk.call("cab")
    desk.call("cab", "no_show")
    assert desk.calls("cb", 6) == [f"B-00{i}" for i in range(1, 7)]
    assert desk.call("cab", "call_number", number="a1") == "A-001"
    # once back it is served like any other ticket
    assert kinds(desk.do("cab", "finish")) == ["served"]


def test_late_tolerance_counts_later_tickets_called_at_other_counters():
    desk = Desk(two_services(late_tolerance=2))
    desk.issue_many(4)
    desk.call("ca")
    desk.call("ca", "no_show")
    desk.call("ca2")
    desk.call("cab")
    assert desk.call("ca", "call_number", number="A-001") == "bad_request"


@pytest.mark.parametrize("typed", ["a3", "A-003", "A003", "a-3", " A 03 "])
def test_call_number_calls_a_waiting_ticket_out_of_turn(typed):
    desk = Desk(site())
    desk.issue_many(3)
    out = desk.do("ca", "call_number", number=typed)
    assert out.ticket == "A-003" and kinds(out) == ["called"]
    assert out.events[0].via == "number"
    assert desk.ticket("A-002")["ahead"] == 1
    assert desk.calls("ca", 3) == ["A-001", "A-002", "queue_empty"]


def test_call_number_finishes_the_ticket_being_served():
    desk = Desk(site())
    desk.issue_many(3)
    desk.call("ca")
    out = desk.do("ca", "call_number", number="A-003")
    assert kinds(out) == ["served", "called"]
    assert out.events[0].number == "A-001"


@pytest.mark.parametrize("args, why", [
    ({"number": "A-099"}, "unknown number"),
    ({"number": "xyz"}, "not a number"),
    ({"number": ""}, "empty"),
    ({}, "missing"),
    ({"number": "B-001"}, "another service's ticket"),
    ({"number": "A-001"}, "already served"),
    ({"number": "A-002"}, "being served at another counter"),
])
def test_call_number_refusals(args, why):
    desk = Desk(two_services())
    desk.issue_many(3)
    desk.issue("B")
    desk.calls("ca", 2)  # A-001 served, A-002 serving at ca
    assert desk.call("ca2", "call_number", **args) == "bad_request", why
    assert desk.state("ca2")["serving"] is None
