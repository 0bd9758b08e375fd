"""The queue rules of DESIGN.md, tested on the pure engine with a hand-moved clock: numbers, issuing, the ticket view and the estimated wait.

`Desk` (tests/helpers.py) drives an `Engine` the way the dispatcher does: decide, then
apply the events, and keeps every applied event so a session can be replayed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import MONDAY, UTC, Desk, local
from sites import WIB, WIT, WITA, counter, service, site

from antrian.queue.engine import (
    QueueError,
    format_number,
    normalize_number,
)

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
    desk.open_day()
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
        "business_day": "2026-11-16", "ahead": 0, "booking": None, "estimated_wait_min": 0}


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
