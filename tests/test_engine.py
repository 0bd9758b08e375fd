"""The queue rules of DESIGN.md, tested on the pure engine with a hand-moved clock.

`Desk` drives an `Engine` the way the dispatcher does: decide, then apply the events,
and keeps every applied event so a session can be replayed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest

from antrian.site import Config
from antrian.queue.engine import Engine, Outcome, QueueError, format_number, normalize_number
from sites import OFFICE, WIB, WIT, WITA, counter, service, site

UTC = dt.timezone.utc
MONDAY = dt.date(2026, 11, 16)  # 16-20 Nov 2026 is Monday-Friday


def local(tz: str, day: dt.date = MONDAY, hour: int = 8, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))


class Desk:
    """An engine with a controlled clock; every step decides and then applies, like the dispatcher."""

    def __init__(self, config: Config, now: dt.datetime | None = None):
        self.engine = Engine(config)
        self.now = now or local(config.site.timezone)
        self.events: list = []

    def wait(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)

    def run(self, decide: Callable[[], Outcome]) -> Outcome | str:
        """Apply what `decide` returns; the outcome, or the error code when it is refused."""
        try:
            outcome = decide()
        except QueueError as exc:
            return exc.code
        self.engine.apply_all(outcome.events)
        self.events.extend(outcome.events)
        return outcome

    def issue(self, svc: str = "A", priority: str | None = None) -> str:
        """The new ticket's number, or the error code."""
        out = self.run(lambda: self.engine.issue(svc, priority, self.now))
        return out if isinstance(out, str) else out.ticket

    def issue_many(self, n: int, svc: str = "A", priority: str | None = None) -> list[str]:
        return [self.issue(svc, priority) for _ in range(n)]

    def do(self, counter_id: str, action: str, **args: Any) -> Outcome | str:
        return self.run(lambda: self.engine.command(counter_id, action, args, self.now))

    def call(self, counter_id: str, action: str = "call_next", **args: Any) -> str | None:
        """The ticket number the command answers with, or its error code (also one that came with events)."""
        out = self.do(counter_id, action, **args)
        if isinstance(out, str):
            return out
        return out.error.code if out.error else out.ticket

    def calls(self, counter_id: str, n: int) -> list[str | None]:
        return [self.call(counter_id) for _ in range(n)]

    # views
    def ticket(self, number: str) -> dict[str, Any]:
        return self.engine.ticket(number)

    def state(self, counter_id: str) -> dict[str, Any]:
        return self.engine.counter_state(counter_id, self.now)

    def board(self) -> dict[str, Any]:
        return self.engine.board(self.now)


def kinds(outcome: Outcome) -> list[str]:
    return [e.kind for e in outcome.events]


def snapshot(engine: Engine, now: dt.datetime) -> dict[str, Any]:
    """Every view of the engine, to compare two engines or one engine before and after."""
    return {
        "seq": engine.last_seq,
        "board": engine.board(now),
        "counters": {c: engine.counter_state(c, now) for c in engine.config.counters},
        "tickets": {n: engine.ticket(n) for n in engine.tickets},
        "catalog": engine.catalog(now),
    }


def two_services(**queue: Any) -> Config:
    """A and B with a counter each, a counter for both, and a second A counter."""
    return site(services=[service("A"), service("B")],
                counters=[counter("ca", "A"), counter("ca2", "A"), counter("cb", "B"), counter("cab", "A", "B")],
                queue=queue or None)


# -- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize("prefix, n, expected", [
    ("A", 1, "A-001"), ("A", 12, "A-012"), ("A", 999, "A-999"), ("A", 1000, "A-1000"),
    ("A", 1234, "A-1234"), ("AB", 7, "AB-007"),
])
def test_format_number(prefix, n, expected):
    assert format_number(prefix, n) == expected


@pytest.mark.parametrize("typed, expected", [
    ("a12", "A-012"), ("A-012", "A-012"), ("A012", "A-012"), ("a-12", "A-012"), (" A 12 ", "A-012"),
    ("ab7", "AB-007"), ("A1000", "A-1000"),
    ("12", None), ("A-", None), ("", None), ("ABC1", None), ("A-12345", None), (None, None), (12, None),
])
def test_normalize_number(typed, expected):
    assert normalize_number(typed) == expected


def test_numbers_count_per_service():
    desk = Desk(site(services=[service("A"), service("B")]))
    assert [desk.issue("A"), desk.issue("B"), desk.issue("A"), desk.issue("B", "lansia"), desk.issue("A")] == [
        "A-001", "B-001", "A-002", "B-002", "A-003"]


def test_numbers_get_four_digits_past_999():
    desk = Desk(site())
    numbers = desk.issue_many(1000)
    assert numbers[0] == "A-001" and numbers[998] == "A-999" and numbers[999] == "A-1000"
    assert desk.ticket("A-1000")["ahead"] == 999


@pytest.mark.parametrize("tz", [WIB, WITA, WIT])
def test_numbers_restart_at_local_midnight(tz):
    desk = Desk(site(timezone=tz), local(tz, MONDAY, 23, 58))  # the last open minute of 00:00-23:59
    assert desk.issue_many(2) == ["A-001", "A-002"]
    desk.now = local(tz, MONDAY + dt.timedelta(days=1), 0, 1)
    assert desk.issue() == "A-001"
    assert desk.ticket("A-001")["business_day"] == "2026-11-17"
    assert desk.board()["business_day"] == "2026-11-17"
    assert desk.board()["waiting"] == {"A": 1}


@pytest.mark.parametrize("tz, utc_hour", [(WIB, 17), (WITA, 16), (WIT, 15)])
@pytest.mark.parametrize("minutes_after_utc_hour, number, day", [
    (-2, "A-002", "2026-11-16"),  # 23:58 local: still Monday
    (1, "A-001", "2026-11-17"),  # 00:01 local: Tuesday, though the UTC date is still Monday
])
def test_business_day_is_the_local_date_of_a_utc_instant(tz, utc_hour, minutes_after_utc_hour, number, day):
    desk = Desk(site(timezone=tz), local(tz, MONDAY, 10, 0))
    desk.issue()
    instant = dt.datetime(2026, 11, 16, utc_hour, tzinfo=UTC) + dt.timedelta(minutes=minutes_after_utc_hour)
    assert instant.date() == MONDAY  # "yesterday" in UTC either way
    desk.now = instant
    assert desk.issue() == number
    assert desk.ticket(number)["business_day"] == day


def test_waiting_tickets_of_yesterday_are_gone_and_seq_never_goes_back():
    desk = Desk(site())
    desk.issue_many(3)
    assert desk.call("ca") == "A-001"
    assert desk.call("ca", "recall") == "A-001"
    assert desk.engine.last_seq == 2

    desk.now = local(WIB, MONDAY + dt.timedelta(days=1), 7, 30)
    assert desk.call("ca") == "queue_empty"
    board = desk.board()
    assert board["waiting"] == {"A": 0}
    assert board["recent"] == []
    assert board["counters"][0]["serving"] is None
    assert board["seq"] == 2

    assert desk.issue() == "A-001"
    assert desk.call("ca") == "A-001"
    assert desk.board()["recent"][0]["seq"] == 3


def test_counters_start_each_day_as_configured():
    config = site(services=[service("A")], counters=[counter("ca", "A"), counter("late", "A", open_at_start=False)])
    desk = Desk(config)
    assert desk.state("ca")["status"] == "open"
    assert desk.state("late")["status"] == "closed"
    desk.do("ca", "close")
    desk.do("late", "open")
    desk.now += dt.timedelta(days=1)
    desk.issue()  # the first decision of the day starts it
    assert desk.state("ca")["status"] == "open"
    assert desk.state("late")["status"] == "closed"


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
    assert second.events[0].data["number"] == "A-001"
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
    assert out.events[0].data == {"counter": "ca", "status": "open", "reason": None}
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
        assert out.events[0].data["seq"] == i + 2
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
    seqs = [e.data["seq"] for e in desk.events if "seq" in e.data]
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
    assert out.events[0].data["via"] == "number"
    assert desk.ticket("A-002")["ahead"] == 1
    assert desk.calls("ca", 3) == ["A-001", "A-002", "queue_empty"]


def test_call_number_finishes_the_ticket_being_served():
    desk = Desk(site())
    desk.issue_many(3)
    desk.call("ca")
    out = desk.do("ca", "call_number", number="A-003")
    assert kinds(out) == ["served", "called"]
    assert out.events[0].data["number"] == "A-001"


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
    assert out.events[0].data["from_service"] == "A" and out.events[0].data["to_service"] == "B"
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


# -- issue ----------------------------------------------------------------------------


def test_issue_refuses_an_unknown_service_or_priority_group():
    desk = Desk(site())
    assert desk.issue("ZZZ") == "unknown_service"
    assert desk.issue("A", "vip") == "bad_request"
    assert desk.board()["waiting"] == {"A": 0}


@pytest.mark.parametrize("group", [None, "lansia", "disabilitas", "ibu_hamil", "anak"])
def test_issue_accepts_the_priority_groups(group):
    desk = Desk(site())
    number = desk.issue("A", group)
    assert number == "A-001"
    assert desk.ticket(number)["priority"] == group


def office_desk() -> Desk:
    config = site(services=[service("A", schedule="office")],
                  holidays=[{"date": "2026-11-18", "name": "Hari Uji"}])
    return Desk(config)


FRIDAY, SATURDAY, SUNDAY, HOLIDAY = (MONDAY + dt.timedelta(days=d) for d in (4, 5, 6, 2))


@pytest.mark.parametrize("day, hour, minute, reason", [
    (MONDAY, 7, 59, "Layanan buka pukul 08.00"),
    (MONDAY, 15, 0, "Jam layanan hari ini sudah berakhir (tutup pukul 15.00)"),
    (MONDAY, 23, 30, "sudah berakhir"),
    (FRIDAY, 11, 30, "Waktu istirahat, layanan buka kembali pukul 13.30"),
    (FRIDAY, 13, 29, "Waktu istirahat"),
    (SATURDAY, 10, 0, "Layanan ini tidak buka hari ini"),
    (SUNDAY, 10, 0, "Layanan ini tidak buka hari ini"),
    (HOLIDAY, 10, 0, "Hari ini libur: Hari Uji"),
])
def test_issue_outside_opening_hours_is_refused_with_the_reason(day, hour, minute, reason):
    desk = office_desk()
    desk.now = local(WIB, day, hour, minute)
    with pytest.raises(QueueError) as refused:
        desk.engine.issue("A", None, desk.now)
    assert refused.value.code == "service_closed"
    assert reason in refused.value.message and refused.value.message.startswith("Layanan A")
    svc = desk.engine.catalog(desk.now)["agencies"][0]["services"][0]
    assert svc["open"] is False and reason in svc["closed_reason"]


@pytest.mark.parametrize("day, hour, minute", [
    (MONDAY, 8, 0), (MONDAY, 14, 59), (FRIDAY, 11, 29), (FRIDAY, 13, 30), (HOLIDAY + dt.timedelta(days=1), 9, 0),
])
def test_issue_within_opening_hours(day, hour, minute):
    desk = office_desk()
    desk.now = local(WIB, day, hour, minute)
    assert desk.issue() == "A-001"
    assert desk.engine.catalog(desk.now)["agencies"][0]["services"][0]["open"] is True


def test_opening_hours_are_local_time_of_the_site():
    desk = Desk(site(timezone=WIT, services=[service("A", schedule="office")]))
    desk.now = dt.datetime(2026, 11, 15, 23, 30, tzinfo=UTC)  # Monday 08:30 WIT
    assert desk.issue() == "A-001"
    desk.now = dt.datetime(2026, 11, 16, 6, 0, tzinfo=UTC)  # Monday 15:00 WIT
    assert desk.issue() == "service_closed"


def test_quota():
    desk = Desk(site(services=[service("A", quota=2)]))

    def catalog_entry():
        return desk.engine.catalog(desk.now)["agencies"][0]["services"][0]

    assert catalog_entry()["quota_left"] == 2
    assert desk.issue_many(2) == ["A-001", "A-002"]
    desk.calls("ca", 2)  # served tickets still count
    with pytest.raises(QueueError) as refused:
        desk.engine.issue("A", "lansia", desk.now)
    assert refused.value.code == "quota_exhausted" and "Kuota Layanan A" in refused.value.message
    entry = catalog_entry()
    assert (entry["quota_left"], entry["open"], entry["closed_reason"]) == (0, False, "Kuota hari ini sudah habis")

    desk.now += dt.timedelta(days=1)
    assert desk.issue() == "A-001"
    assert (catalog_entry()["quota_left"], catalog_entry()["open"]) == (1, True)


def test_no_quota_means_unlimited():
    desk = Desk(site())
    assert desk.engine.catalog(desk.now)["agencies"][0]["services"][0]["quota_left"] is None


# -- the ticket view and the estimated wait -------------------------------------------


def test_ticket_view():
    desk = Desk(site(timezone=WITA), local(WITA, MONDAY, 9, 15))
    desk.issue()
    assert desk.ticket("A-001") == {
        "number": "A-001", "service": "A", "service_name": "Layanan A", "agency": "dukcapil",
        "agency_name": "Disdukcapil", "priority": None, "issued_at": "2026-11-16T09:15:00+08:00",
        "business_day": "2026-11-16", "ahead": 0, "estimated_wait_min": 0}


def test_ahead_counts_the_priority_tickets_before_a_normal_one():
    desk = Desk(site())
    desk.issue_many(2)
    desk.issue("A", "lansia")
    desk.issue("A", "anak")
    assert [desk.ticket(f"A-00{i}")["ahead"] for i in range(1, 5)] == [2, 3, 0, 1]
    desk.call("ca")
    assert [desk.ticket(f"A-00{i}")["ahead"] for i in range(1, 5)] == [1, 2, 0, 0]


@pytest.mark.parametrize("service_min, open_counters, expected", [
    (6, 1, 12), (6, 2, 6), (7, 3, 5),  # 2 ahead x 7 / 3 = 4.67
])
def test_estimated_wait_before_any_service_uses_service_min(service_min, open_counters, expected):
    counters = [counter(f"c{i}", "A") for i in range(3)]
    desk = Desk(site(services=[service("A", service_min=service_min)], counters=counters))
    for c in counters[open_counters:]:
        desk.do(c["id"], "close")
    desk.issue_many(3)
    assert desk.ticket("A-003")["ahead"] == 2
    assert desk.ticket("A-003")["estimated_wait_min"] == expected


@pytest.mark.parametrize("first_min, second_min, open_counters, expected", [
    (4, 6, 2, 8),  # 3 x 5 / 2 = 7.5 -> round() -> 8
    (3, 6, 2, 7),  # 3 x 4.5 / 2 = 6.75
    (4, 6, 1, 15),  # the other counter paused
    (1, 2, 2, 2),  # 3 x 1.5 / 2 = 2.25
])
def test_estimated_wait_uses_recent_service_times(first_min, second_min, open_counters, expected):
    desk = Desk(site(services=[service("A", service_min=30)], counters=[counter("c1", "A"), counter("c2", "A")]))
    desk.issue_many(6)
    desk.call("c1")  # A-001 at 08:00
    desk.call("c2")  # A-002 at 08:00
    desk.wait(first_min)
    desk.call("c1", "finish")
    desk.wait(second_min - first_min)
    desk.call("c2", "finish")
    if open_counters == 1:
        desk.do("c2", "pause")
    assert desk.ticket("A-006")["ahead"] == 3
    assert desk.engine.mean_service_min("A") == pytest.approx((first_min + second_min) / 2)
    assert desk.ticket("A-006")["estimated_wait_min"] == expected == round(3 * (first_min + second_min) / 2 / open_counters)


def test_estimated_wait_uses_the_last_recent_services_only_and_of_today():
    desk = Desk(site(services=[service("A", service_min=20)], queue={"recent_services": 2}))
    desk.issue_many(6)
    for minutes in (10, 2, 4):
        desk.call("ca")
        desk.wait(minutes)
        desk.call("ca", "finish")
    # A-004..A-006 wait; the mean is of the last two: (2 + 4) / 2 = 3
    assert desk.ticket("A-006")["estimated_wait_min"] == 6
    desk.now += dt.timedelta(days=1)
    desk.issue_many(2)
    assert desk.ticket("A-002")["estimated_wait_min"] == 20  # a new day starts from service_min


def test_only_served_tickets_give_service_times():
    desk = Desk(site(services=[service("A", service_min=10)]))
    desk.issue_many(4)
    desk.call("ca")
    desk.wait(1)
    desk.call("ca", "no_show")
    assert desk.ticket("A-004")["estimated_wait_min"] == 20  # 2 ahead x 10


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


# -- decisions and replay -------------------------------------------------------------


def busy_desk() -> Desk:
    desk = Desk(two_services(max_recalls=1))
    desk.issue_many(3)
    desk.issue("A", "lansia")
    desk.issue_many(2, "B")
    desk.call("ca")  # A-004 (priority)
    desk.call("cb")  # B-001
    desk.call("ca2")
    desk.call("ca2", "no_show")
    desk.do("cab", "pause", reason="Rapat")
    return desk


DECISIONS = {
    "issue": lambda e, now: e.issue("A", None, now),
    "issue priority": lambda e, now: e.issue("B", "anak", now),
    "issue refused": lambda e, now: e.issue("A", "vip", now),
    "call_next": lambda e, now: e.command("ca", "call_next", {}, now),
    "call_next paused": lambda e, now: e.command("cab", "call_next", {}, now),
    "recall at limit": lambda e, now: e.command("ca", "recall", {}, now),
    "recall idle": lambda e, now: e.command("ca2", "recall", {}, now),
    "no_show": lambda e, now: e.command("ca", "no_show", {}, now),
    "finish": lambda e, now: e.command("ca", "finish", {}, now),
    "transfer": lambda e, now: e.command("ca", "transfer", {"to_service": "B"}, now),
    "call_number no-show": lambda e, now: e.command("ca2", "call_number", {"number": "A-001"}, now),
    "call_number waiting": lambda e, now: e.command("ca2", "call_number", {"number": "A-003"}, now),
    "pause": lambda e, now: e.command("ca", "pause", {"reason": "Istirahat"}, now),
    "open": lambda e, now: e.command("cab", "open", {}, now),
    "close": lambda e, now: e.command("cb", "close", {}, now),
}


@pytest.mark.parametrize("decide", DECISIONS.values(), ids=DECISIONS.keys())
def test_decisions_do_not_change_state(decide):
    desk = busy_desk()
    desk.call("ca", "recall")  # at the limit of 1 now
    before = snapshot(desk.engine, desk.now)

    def attempt():
        try:
            out = decide(desk.engine, desk.now)
            return out.events, out.ticket, out.error and out.error.code
        except QueueError as exc:
            return exc.code

    first = attempt()
    assert attempt() == first
    assert snapshot(desk.engine, desk.now) == before


def test_replaying_the_events_rebuilds_the_same_views():
    config = site(services=[service("A", quota=9), service("B"), service("C", service_min=4)],
                  counters=[counter("ca", "A"), counter("cb", "B"), counter("cab", "A", "B"),
                            counter("cc", "C", open_at_start=False)],
                  queue={"priority_streak": 1, "max_recalls": 2, "late_tolerance": 2})
    desk = Desk(config, local(WIB, MONDAY, 7, 50))
    refused: list[str | None] = []

    def step(minutes: float, what: Callable[[], Any]) -> None:
        desk.wait(minutes)
        result = what()
        if result in ("quota_exhausted", "counter_closed", "recall_limit", "queue_empty", "bad_request",
                      "not_serving", "unknown_service"):
            refused.append(result)

    def monday() -> None:
        for svc, prio in [("A", None), ("B", None), ("A", "lansia"), ("C", None), ("B", "anak"), ("A", None)]:
            step(1, lambda: desk.issue(svc, prio))
        step(1, lambda: desk.call("cc"))  # closed at start
        step(0, lambda: desk.call("cc", "open"))
        step(2, lambda: desk.call("cc"))
        step(2, lambda: desk.call("ca"))
        step(1, lambda: desk.call("ca", "recall"))
        step(1, lambda: desk.call("ca", "recall"))
        step(1, lambda: desk.call("ca", "recall"))  # limit 2
        step(3, lambda: desk.call("cab"))
        step(4, lambda: desk.call("cab", "transfer", to_service="B"))
        step(1, lambda: desk.call("cb"))
        step(5, lambda: desk.call("cb", "no_show"))
        step(1, lambda: desk.call("ca"))
        step(1, lambda: desk.call("cb", "call_number", number="b1"))
        step(6, lambda: desk.call("cb", "finish"))
        step(0, lambda: desk.call("cab", "pause", reason="Sholat"))
        step(2, lambda: desk.call("cab"))  # resumes
        step(1, lambda: desk.call("cc", "close"))
        step(1, lambda: desk.call("cc"))
        for _ in range(6):
            step(1, lambda: desk.issue("A"))
        step(1, lambda: desk.issue("A", "disabilitas"))
        step(2, lambda: desk.call("ca", "no_show"))
        step(1, lambda: desk.call("ca"))
        step(1, lambda: desk.call("cab"))
        step(1, lambda: desk.call("ca"))
        step(1, lambda: desk.call("ca", "call_number", number="A-001"))
        step(2, lambda: desk.call("cb", "transfer", to_service="X"))

    monday()
    assert "quota_exhausted" in refused and "counter_closed" in refused and "recall_limit" in refused

    # the same engine on the next day, then replay both days
    desk.now = local(WIB, MONDAY + dt.timedelta(days=1), 7, 55)
    monday()

    replayed = Engine(config)
    replayed.apply_all(desk.events)
    assert snapshot(replayed, desk.now) == snapshot(desk.engine, desk.now)
    assert replayed.last_seq == desk.engine.last_seq > 20

    # and replaying only the latest business day after restoring last_seq, as the dispatcher does
    today = [e for e in desk.events if e.at.astimezone(config.tz).date() == desk.now.date()]
    before = desk.events[:len(desk.events) - len(today)]
    restarted = Engine(config)
    restarted.last_seq = max(e.data["seq"] for e in before if "seq" in e.data)
    restarted.apply_all(today)
    assert snapshot(restarted, desk.now) == snapshot(desk.engine, desk.now)


def test_views_give_times_with_the_site_offset_whatever_zone_the_clock_gives():
    cfg = site(timezone=WITA)
    desk = Desk(cfg, now=local(WITA, hour=9).astimezone(dt.timezone.utc))
    number = desk.issue()
    assert desk.engine.ticket(number)["issued_at"].endswith("+08:00")
    desk.call(next(iter(cfg.counters)))
    board = desk.engine.board(desk.now)
    assert board["updated_at"].endswith("+08:00") and board["recent"][0]["at"].endswith("+08:00")


def test_views_on_a_new_day_start_it():
    desk = Desk(site(timezone=WIB))
    desk.issue()
    next_day = desk.now + dt.timedelta(days=1)
    assert desk.engine.board(next_day)["business_day"] == (MONDAY + dt.timedelta(days=1)).isoformat()
    assert sum(desk.engine.board(next_day)["waiting"].values()) == 0
