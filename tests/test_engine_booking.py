"""Bookings in the engine (antrian/queue/booking.py, bookings.py), as tables: what refuses a
booking (capacity, share, one per person, the days and hours it is open), the check-in
window, expiry, a cancel giving the place back, and the one queue -- a checked-in booking
placed by its slot's start among walk-ins and priority tickets. And the booking codes
(antrian/queue/codes.py): a mistyped character or a swap of two neighbours never passes."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from helpers import MONDAY, Desk, local
from sites import WIB, counter, service, site

from antrian.errors import QueueError
from antrian.queue import codes
from antrian.queue.engine import Engine
from antrian.queue.events import DayStarted

BOOKING = {"slot_minutes": 60, "capacity": 2, "share": 0.5, "days_ahead": 3, "opens_at": "07:00",
           "checkin_early_min": 30, "checkin_late_min": 15}
# A: office hours Monday 08:00-15:00 (7 slots of 2), quota 20 of which 10 for bookings; B: walk-ins only.
CONFIG = site(services=[service("A", schedule="office", quota=20, booking=BOOKING),
                        service("B", schedule="office", quota=20)],
              counters=[counter("ca", "A"), counter("cb", "B")], queue={"priority_streak": 2},
              holidays=[{"date": "2026-11-18", "name": "Hari Uji"}],
              schedules={"office": {"senin": ["08:00-15:00"], "selasa": ["08:00-15:00"], "rabu": ["08:00-15:00"],
                                    "kamis": ["08:00-15:00"], "jumat": ["08:00-11:00", "13:00-15:00"]}})
SECRET = b"s" * 32


def phone(i: int) -> str:
    return codes.person_key(SECRET, "phone", f"08123{i:07d}")


def nik(i: int) -> str:
    return codes.person_key(SECRET, "nik", f"{i:016d}")


class BookingDesk(Desk):
    def book(self, slot: str = "09:00", day: dt.date = MONDAY, svc: str = "A", person: int = 0,
             with_nik: int | None = None) -> str:
        """The new booking's code, or the error code."""
        out = self.run(lambda: self.engine.book(svc, day, dt.time.fromisoformat(slot), phone(person),
                                                nik(with_nik) if with_nik is not None else None, self.now))
        return out if isinstance(out, str) else out.events[0].code

    def check_in(self, code: str, priority: str | None = None) -> str:
        out = self.run(lambda: self.engine.check_in(code, priority, self.now))
        return out if isinstance(out, str) else out.ticket

    def at(self, hour: int, minute: int = 0, day: dt.date = MONDAY) -> BookingDesk:
        self.now = local(WIB, day, hour, minute)
        return self


def desk(hour: int = 7, minute: int = 30, day: dt.date = MONDAY) -> BookingDesk:
    return BookingDesk(CONFIG, local(WIB, day, hour, minute))


def error(decide) -> tuple[str, str]:
    with pytest.raises(QueueError) as info:
        decide()
    return info.value.code, info.value.message


# --- what refuses a booking ----------------------------------------------------------------

def _fill(d: BookingDesk, n: int, first_person: int = 100, hour: int = 8) -> None:
    """n bookings by other people, two to a slot from `hour` on."""
    for i in range(n):
        assert len(d.book(f"{hour + i // 2:02d}:00", person=first_person + i)) == 9


BOOK_TABLE = [
    # (why, the clock (day, hour, minute), before, the request (svc, day, slot, person, nik), expected)
    ("a bookable slot", (MONDAY, 7, 30), None, ("A", MONDAY, "09:00", 1, None), "ok"),
    ("an unknown service", (MONDAY, 7, 30), None, ("X", MONDAY, "09:00", 1, None), "unknown_service"),
    ("a service without booking", (MONDAY, 7, 30), None, ("B", MONDAY, "09:00", 1, None), "booking_closed"),
    ("yesterday", (MONDAY, 7, 30), None, ("A", MONDAY - dt.timedelta(1), "09:00", 1, None), "booking_closed"),
    ("past days_ahead", (MONDAY, 7, 30), None, ("A", MONDAY + dt.timedelta(4), "09:00", 1, None), "booking_closed"),
    ("the last day, open since 07:00", (MONDAY, 7, 0), None, ("A", MONDAY + dt.timedelta(3), "09:00", 1, None),
     "ok"),
    ("the last day, before 07:00", (MONDAY, 6, 59), None, ("A", MONDAY + dt.timedelta(3), "09:00", 1, None),
     "booking_closed"),
    ("a holiday", (MONDAY, 7, 30), None, ("A", MONDAY + dt.timedelta(2), "09:00", 1, None), "booking_closed"),
    ("a closed day (Saturday)", (MONDAY + dt.timedelta(3), 7, 30), None,
     ("A", MONDAY + dt.timedelta(5), "09:00", 1, None), "booking_closed"),
    ("no slot at 08:30", (MONDAY, 7, 30), None, ("A", MONDAY, "08:30", 1, None), "bad_request"),
    ("a slot that has started", (MONDAY, 9, 0), None, ("A", MONDAY, "09:00", 1, None), "booking_closed"),
    ("the same phone again", (MONDAY, 7, 30), lambda d: d.book("10:00", person=1), ("A", MONDAY, "09:00", 1, None),
     "booking_exists"),
    ("the same NIK with another phone", (MONDAY, 7, 30), lambda d: d.book("10:00", person=1, with_nik=7),
     ("A", MONDAY, "09:00", 2, 7), "booking_exists"),
    ("the same phone, another day", (MONDAY, 7, 30), lambda d: d.book("10:00", person=1),
     ("A", MONDAY + dt.timedelta(1), "09:00", 1, None), "ok"),
    ("a full slot", (MONDAY, 7, 30), lambda d: [d.book("09:00", person=p) for p in (5, 6)],
     ("A", MONDAY, "09:00", 1, None), "slot_full"),
    ("the booking share used (10 of quota 20)", (MONDAY, 7, 30), lambda d: _fill(d, 10),
     ("A", MONDAY, "14:00", 1, None), "booking_quota_exhausted"),
    ("one place of the share left", (MONDAY, 7, 30), lambda d: _fill(d, 9), ("A", MONDAY, "14:00", 1, None), "ok"),
    ("a cancel gives the place back", (MONDAY, 7, 30),
     lambda d: d.run(lambda: d.engine.cancel_booking(
         [d.book("09:00", person=5), d.book("09:00", person=6)][0], phone(5), d.now)),
     ("A", MONDAY, "09:00", 1, None), "ok"),
    ("after a cancel the person may book again", (MONDAY, 7, 30),
     lambda d: d.run(lambda: d.engine.cancel_booking(d.book("10:00", person=1), phone(1), d.now)),
     ("A", MONDAY, "09:00", 1, None), "ok"),
]


@pytest.mark.parametrize("why, clock, before, asked, expected", BOOK_TABLE, ids=[r[0] for r in BOOK_TABLE])
def test_book(why, clock, before, asked, expected):
    d = desk(*clock[1:], day=clock[0])
    if before:
        before(d)
    svc, day, slot, person, with_nik = asked
    got = d.book(slot, day, svc, person, with_nik)
    assert (got if got in ("unknown_service", "booking_closed", "bad_request", "booking_exists", "slot_full",
                           "booking_quota_exhausted") else "ok") == expected, got


def test_the_refusals_speak_indonesian():
    d = desk(6, 59)
    d.open_day()
    code, message = error(lambda: d.engine.book("A", MONDAY + dt.timedelta(3), dt.time(9), phone(1), None, d.now))
    assert message == "Reservasi untuk Kamis, 19 November 2026 dibuka Senin, 16 November 2026 pukul 07.00"
    d.at(7, 30)
    d.book("09:00", person=5), d.book("09:00", person=6)
    assert error(lambda: d.engine.book("A", MONDAY, dt.time(9), phone(1), None, d.now)) == (
        "slot_full", "Jam 09.00 sudah penuh; silakan pilih jam lain")


def test_slots_show_capacity_free_places_and_only_slots_to_come():
    d = desk(9, 10)
    d.book("10:00", person=1)
    slots = d.engine.booking_slots("A", MONDAY, d.now)
    assert [s["slot"] for s in slots] == ["10:00", "11:00", "12:00", "13:00", "14:00"]
    assert slots[0] == {"slot": "10:00", "capacity": 2, "free": 1} and slots[1]["free"] == 2
    _fill(d, 8, first_person=200, hour=11)  # 9 of the 10 places: at most one left in any slot
    assert {s["free"] for s in d.engine.booking_slots("A", MONDAY, d.now)} <= {0, 1}
    assert error(lambda: d.engine.booking_slots("A", MONDAY + dt.timedelta(2), d.now))[0] == "booking_closed"


# --- the check-in window, expiry ------------------------------------------------------------

CHECKIN_TABLE = [
    # (the kiosk's clock, expected: a ticket, or the refusal and its message)
    ((8, 29), ("checkin_early", "Silakan kembali mulai pukul 08.30")),
    ((8, 30), "A-001"),
    ((9, 0), "A-001"),
    ((9, 15), "A-001"),
    ((9, 16), ("checkin_late", "Batas lapor diri reservasi ini pukul 09.15 sudah lewat; "
                               "silakan ambil nomor antrean biasa")),
]


@pytest.mark.parametrize("clock, expected", CHECKIN_TABLE, ids=[f"{h:02d}.{m:02d}" for (h, m), _ in CHECKIN_TABLE])
def test_check_in_window(clock, expected):
    d = desk()
    code = d.book("09:00", person=1)
    d.at(*clock)
    if isinstance(expected, tuple):
        assert error(lambda: d.engine.check_in(code, None, d.now)) == expected
    else:
        assert d.check_in(code) == expected
        assert d.ticket(expected)["booking"] == codes.display(code)
        # twice: the same ticket again, nothing new
        assert d.engine.check_in(code, None, d.now).events == ()
        assert d.check_in(codes.parse(codes.display(code))) == expected
        assert d.engine.booking(code)["status"] == "checked_in" and d.engine.booking(code)["ticket"] == expected


def test_a_day_ahead_is_too_early_with_the_day_named():
    d = desk()
    code = d.book("09:00", day=MONDAY + dt.timedelta(1), person=1)
    assert error(lambda: d.engine.check_in(code, None, d.now)) == (
        "checkin_early", "Silakan kembali Selasa, 17 November 2026 mulai pukul 08.30")


def test_unknown_and_cancelled_codes():
    d = desk()
    code = d.book("09:00", person=1)
    assert error(lambda: d.engine.check_in(codes.new_code(), None, d.now))[0] == "unknown_booking"
    assert error(lambda: d.engine.cancel_booking(code, phone(2), d.now))[0] == "unknown_booking"
    d.run(lambda: d.engine.cancel_booking(code, phone(1), d.now))
    assert d.engine.cancel_booking(code, phone(1), d.now).events == ()  # cancelled twice: nothing more
    d.at(8, 45)
    assert error(lambda: d.engine.check_in(code, None, d.now)) == ("unknown_booking", "Reservasi ini sudah dibatalkan")


def test_a_booking_not_checked_in_expires_at_the_end_of_its_window_and_counts_as_a_no_show():
    d = desk()
    code, other = d.book("09:00", person=1), d.book("10:00", person=2)
    d.at(9, 15)
    assert d.engine.expire_due(d.now).events == ()
    d.at(9, 15, )
    d.now += dt.timedelta(seconds=1)
    outcome = d.run(lambda: d.engine.expire_due(d.now))
    assert [(e.kind, e.code) for e in outcome.events] == [("booking_expired", code)]
    assert d.engine.expire_due(d.now).events == ()
    assert d.engine.booking(code)["status"] == "expired" and d.engine.booking(other)["status"] == "booked"
    assert d.engine.bookings.no_shows[("A", MONDAY)] == 1
    assert error(lambda: d.engine.check_in(code, None, d.now))[0] == "checkin_late"
    # the person may book a later slot of the day again; the expired one kept its (past) place
    assert d.book("11:00", person=1) not in ("booking_exists",)
    assert d.engine.bookings.taken[("A", MONDAY, dt.time(9))] == 1


# --- one queue --------------------------------------------------------------------------------

ORDER_TABLE = [
    # (why, [(hh:mm, what)], expected call order). what: "W" a walk-in, "P" a priority walk-in,
    # "BK@09:00" the check-in of a booking of that slot.
    ("a booking sits between walk-ins issued before and after its slot's start",
     [("08:20", "W"), ("08:45", "BK@09:00"), ("08:50", "W"), ("09:05", "W")], ["W1", "W2", "BK", "W3"]),
    ("a late check-in goes ahead of walk-ins issued after its slot's start",
     [("09:01", "W"), ("09:05", "W"), ("09:10", "BK@09:00")], ["BK", "W1", "W2"]),
    ("an early check-in waits for the walk-ins issued before its slot's start",
     [("08:31", "BK@09:00"), ("08:40", "W"), ("08:55", "W")], ["W1", "W2", "BK"]),
    ("the priority streak still holds",
     [("08:45", "BK@09:00"), ("09:05", "W"), ("09:06", "P"), ("09:07", "P"), ("09:08", "P")],
     ["P1", "P2", "BK", "P3", "W1"]),
]


@pytest.mark.parametrize("why, steps, expected", ORDER_TABLE, ids=[r[0] for r in ORDER_TABLE])
def test_one_queue(why, steps, expected):
    d = desk()
    code = d.book("09:00", person=1)
    names, counts = {}, {"W": 0, "P": 0}
    for clock, what in steps:
        d.at(*map(int, clock.split(":")))
        if what.startswith("BK"):
            names[d.check_in(code)] = "BK"
        else:
            counts[what] += 1
            names[d.issue("A", "lansia" if what == "P" else None)] = f"{what}{counts[what]}"
    listed = [names[t["number"]] for t in d.engine.queue_lists(["A"])["A"]["waiting"]]
    booked = [t["booking"] for t in d.engine.queue_lists(["A"])["A"]["waiting"]]
    assert booked == [True if n == "BK" else None for n in listed]  # presence only, never the code
    ahead = {names[n]: d.ticket(n)["ahead"] for n in names}
    assert [ahead[n] for n in listed] == list(range(len(listed)))
    d.at(9, 30)
    called = [names[d.call("ca")] for _ in names]
    assert called == expected
    # the list shows priority tickets first (its order does not play out the streak)
    assert listed == [n for n in expected if n.startswith("P")] + [n for n in expected if not n.startswith("P")]


def test_walk_ins_keep_their_share_and_bookings_theirs():
    d = desk(8, 0)
    code = d.book("09:00", person=1)
    assert d.engine.catalog(d.now)["agencies"][0]["services"][0]["quota_left"] == 10
    assert "quota_exhausted" not in d.issue_many(10)
    assert d.issue() == "quota_exhausted"
    assert d.engine.catalog(d.now)["agencies"][0]["services"][0]["quota_left"] == 0
    d.at(8, 40)
    assert d.check_in(code) == "A-011"  # the booked place was kept
    # B takes no bookings: its whole quota is for walk-ins
    assert d.engine.walk_in_quota("B", d.now) == 20


def _booked_at_noon(d: BookingDesk) -> None:
    d.book("12:00", person=1)


def _checked_in_at_noon(d: BookingDesk) -> None:
    code = d.book("12:00", person=1)
    d.at(11, 50)
    assert d.check_in(code) == "A-001"


def _cancelled_before_its_slot(d: BookingDesk) -> None:
    code = d.book("13:00", person=1)
    d.at(12, 5)
    d.run(lambda: d.engine.cancel_booking(code, phone(1), d.now))


def _expired_at_noon(d: BookingDesk) -> None:
    d.book("12:00", person=1)
    d.at(12, 16)
    assert len(d.run(lambda: d.engine.expire_due(d.now)).events) == 1


def _ten_booked(d: BookingDesk) -> None:
    _fill(d, 10)


HAND_BACK_TABLE = [
    # (why, what happened from 07:30, the clock, the walk-ins' part of A's quota of 20)
    # A: seven slots of 2 (08:00-14:00) and a booking share of 10
    ("the morning: the booking share kept", None, (8, 1), 10),
    ("every booking place taken", _ten_booked, (8, 1), 10),
    ("slots that began unbooked, while the later ones can still hold the share", None, (9, 1), 10),
    ("10:01: the four slots left hold 8; 2 places go back", None, (10, 1), 12),
    ("11:01: the three slots left hold 6; 4 places go back", None, (11, 1), 14),
    ("the last slot has begun: the whole quota is for walk-ins", None, (14, 1), 20),
    ("a booking of 12:00 not yet checked in keeps its place", _booked_at_noon, (12, 10), 15),
    ("a booking checked in keeps its place", _checked_in_at_noon, (12, 20), 15),
    ("a booking that expired gives its place back", _expired_at_noon, (12, 20), 16),
    ("a cancel before its slot: the place can be booked again", _cancelled_before_its_slot, (12, 10), 16),
]


@pytest.mark.parametrize("why, before, clock, expected", HAND_BACK_TABLE, ids=[r[0] for r in HAND_BACK_TABLE])
def test_booked_places_nobody_can_use_go_back_to_walk_ins(why, before, clock, expected):
    d = desk()
    d.open_day()
    if before is not None:
        before(d)
    d.at(*clock)
    assert d.engine.walk_in_quota("A", d.now) == expected
    assert all(n.startswith("A-") for n in d.issue_many(expected - d.engine.walk_ins("A")))
    assert d.issue() == "quota_exhausted"
    assert d.engine.catalog(d.now)["agencies"][0]["services"][0]["quota_left"] == 0


def test_an_exhausted_walk_in_quota_opens_again_when_a_slot_begins_unbooked():
    d = desk(9, 30)
    assert "quota_exhausted" not in d.issue_many(10)
    assert d.issue() == "quota_exhausted"
    offered = d.engine.catalog(d.now)["agencies"][0]["services"][0]
    assert (offered["open"], offered["quota_left"]) == (False, 0)
    d.at(10, 0).now += dt.timedelta(seconds=1)  # the 10:00 slot began unbooked: 8 places can still be booked
    offered = d.engine.catalog(d.now)["agencies"][0]["services"][0]
    assert (offered["open"], offered["closed_reason"], offered["quota_left"]) == (True, None, 2)
    assert d.issue_many(2) == ["A-011", "A-012"]
    assert d.issue() == "quota_exhausted"


def test_a_replay_rebuilds_the_bookings_and_the_queue():
    d = desk()
    code = d.book("09:00", person=1)
    d.book("10:00", day=MONDAY + dt.timedelta(1), person=2)
    d.at(8, 20)
    d.issue()
    d.at(8, 45)
    d.check_in(code)
    d.at(9, 5)
    d.issue()
    d.at(11, 0)
    d.run(lambda: d.engine.expire_due(d.now))
    again = Engine(CONFIG)
    again.replay(MONDAY, d.events)
    assert {c: again.booking(c) for c in again.bookings.by_code} == {c: d.engine.booking(c)
                                                                     for c in d.engine.bookings.by_code}
    assert again.queue_lists(["A"]) == d.engine.queue_lists(["A"])
    # the next day: yesterday's bookings loaded into a new engine, its own day started
    tomorrow = Engine(CONFIG)
    tomorrow.bookings.load(d.events)
    tomorrow.apply(DayStarted(at=local(WIB, MONDAY + dt.timedelta(1), 7), day=MONDAY + dt.timedelta(1)))
    assert [b["status"] for b in map(tomorrow.booking, tomorrow.bookings.by_code)] == ["checked_in", "booked"]


# --- booking codes ------------------------------------------------------------------------------

SAMPLE = [codes.new_code() for _ in range(300)]


def test_codes_are_random_and_shown_in_their_form():
    assert len(set(SAMPLE)) == len(SAMPLE)
    shown = codes.display(SAMPLE[0])
    assert len(shown) == len("RSV-7K3M-Q2XA-5") and shown.startswith("RSV-") and shown.count("-") == 3
    assert all(codes.parse(c) == c for c in SAMPLE)


def test_what_people_type_is_accepted():
    for code in SAMPLE[:50]:
        shown = codes.display(code)
        assert codes.parse(shown) == codes.parse(shown.lower()) == codes.parse(code.lower()) == code
        assert codes.parse(" ".join(code)) == codes.parse(shown.replace("-", " ")) == code
        typed = code[:8].replace("1", random.choice("IiLl")).replace("0", random.choice("Oo")) + code[8:]
        assert codes.parse(typed) == code


def test_a_single_mistyped_character_never_passes():
    for code in SAMPLE:
        for i, right in enumerate(code):
            for wrong in (codes.ALPHABET if i < 8 else codes.CHECK_SYMBOLS):
                if wrong != right:
                    assert codes.parse(code[:i] + wrong + code[i + 1:]) is None, (code, i, wrong)


def test_a_swap_of_two_neighbours_never_passes():
    for code in SAMPLE:
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
                assert codes.parse(swapped) is None, (code, i)


def test_phone_numbers_and_niks_are_kept_as_keyed_hashes():
    assert codes.phone_digits("+62 812-3456-7890") == codes.phone_digits("0812 3456 7890") == "081234567890"
    assert codes.phone_digits("12345") is None and codes.nik_digits("7404 0101 0101 0001") == "7404010101010001"
    key = codes.person_key(SECRET, "phone", "081234567890")
    assert "081234567890" not in key and key != codes.person_key(b"t" * 32, "phone", "081234567890")


def test_a_day_replayed_alone_takes_the_check_ins_of_bookings_made_before_it():
    # A report replays one business day through a fresh engine, without the earlier days
    # the bookings were made on: their check-ins, cancels and expiries still apply.
    d = desk(day=MONDAY - dt.timedelta(days=1), hour=20)
    code = d.book("09:00", day=MONDAY, person=1)
    other = d.book("10:00", day=MONDAY, person=2)
    d.at(8, 40)
    d.check_in(code)
    d.at(11, 0)
    d.run(lambda: d.engine.expire_due(d.now))
    monday = [e for e in d.events if e.at.date() == MONDAY]
    alone = Engine(CONFIG)
    alone.replay(MONDAY, monday)
    assert alone.ticket("A-001")["booking"] == codes.display(code) and other not in alone.bookings.by_code


def test_settled_bookings_of_past_days_are_forgotten_and_open_ones_still_expire():
    d = desk()
    done, missed = d.book("09:00", person=1), d.book("10:00", person=2)
    d.at(8, 40)
    d.check_in(done)
    # the dispatcher was down from 09:00 Monday until Wednesday: the new day opens first
    d.at(8, 0, day=MONDAY + dt.timedelta(days=2))
    d.open_day()
    assert done not in d.engine.bookings.by_code and missed in d.engine.bookings.by_code
    expired = d.run(lambda: d.engine.expire_due(d.now))
    assert [e.code for e in expired.events] == [missed]
    d.at(8, 0, day=MONDAY + dt.timedelta(days=4))
    d.open_day()
    assert not d.engine.bookings.by_code and not d.engine.bookings.taken and not d.engine.bookings.people
