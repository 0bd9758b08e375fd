"""The queue rules of DESIGN.md, tested on the pure engine with a hand-moved clock: decisions change nothing, a replay rebuilds the same views.

`Desk` (tests/helpers.py) drives an `Engine` the way the dispatcher does: decide, then
apply the events, and keeps every applied event so a session can be replayed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import pytest
from helpers import MONDAY, Desk, local, snapshot, two_services
from sites import WIB, WITA, counter, service, site

from antrian.queue.engine import (
    Engine,
    QueueError,
)
from antrian.queue.events import CALLS, DayStarted

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
    opened = max(i for i, e in enumerate(desk.events) if isinstance(e, DayStarted))
    before, today = desk.events[:opened], desk.events[opened:]
    restarted = Engine(config)
    restarted.last_seq = max(e.seq for e in before if isinstance(e, CALLS))
    restarted.replay(desk.now.date(), today)
    assert snapshot(restarted, desk.now) == snapshot(desk.engine, desk.now)

    # a day stored before DayStarted existed: its events alone, the day told by the store
    legacy = Engine(config)
    legacy.last_seq = max(e.seq for e in before if isinstance(e, CALLS))
    legacy.replay(desk.now.date(), today[1:])
    assert snapshot(legacy, desk.now) == snapshot(desk.engine, desk.now)


def test_views_give_times_with_the_site_offset_whatever_zone_the_clock_gives():
    cfg = site(timezone=WITA)
    desk = Desk(cfg, now=local(WITA, hour=9).astimezone(dt.timezone.utc))
    number = desk.issue()
    assert desk.engine.ticket(number)["issued_at"].endswith("+08:00")
    desk.call(next(iter(cfg.counters)))
    board = desk.engine.board(desk.now)
    assert board["updated_at"].endswith("+08:00") and board["recent"][0]["at"].endswith("+08:00")


def test_views_and_decisions_stay_on_the_business_day_until_a_day_is_opened():
    desk = Desk(site(timezone=WIB))
    desk.issue()
    next_day = desk.now + dt.timedelta(days=1)
    assert desk.engine.board(next_day)["business_day"] == MONDAY.isoformat()
    assert desk.engine.issue("A", None, next_day).ticket == "A-002"  # the clock alone opens no day
    desk.now = next_day
    assert desk.issue() == "A-001"  # the Desk opened it, as the dispatcher does
    assert desk.engine.board(next_day)["business_day"] == (MONDAY + dt.timedelta(days=1)).isoformat()
    assert sum(desk.engine.board(next_day)["waiting"].values()) == 1


