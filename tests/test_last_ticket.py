"""The last ticket of the day (issue 16, item 4): a service's `last_ticket` time, and with
the site's `queue.close_by_estimate` no ticket that by the estimated wait would not be
called before the service closes. Both refuse with `service_closed` and the words the
kiosk shows (rules.CLOSED_FOR_TODAY); the catalog says the same. Tables, on the pure
engine with a hand-moved clock (tests/helpers.py Desk), and the site file's checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from helpers import MONDAY, Desk, local
from sites import OFFICE, WITA, counter, service, site

from antrian.queue.rules import CLOSED_FOR_TODAY, availability
from antrian.site import ConfigError, build, load
from kiosk import texts

FRIDAY = MONDAY + dt.timedelta(days=4)
CLOSED = f"{CLOSED_FOR_TODAY} (nomor terakhir pukul 14.30)"
LATE = f"{CLOSED_FOR_TODAY} (perkiraan waktu tunggu melewati jam tutup pukul 15.00)"


def office_site(*, last_ticket: str | None = None, counters: int = 1, by_estimate: bool = True, service_min=25):
    extra = {"last_ticket": last_ticket} if last_ticket else {}
    return site(timezone=WITA, services=[service("PBG", "L", schedule="office", service_min=service_min, **extra)],
                counters=[counter(f"c{i}", "PBG") for i in range(1, counters + 1)],
                queue={"close_by_estimate": by_estimate})


# -- last_ticket --------------------------------------------------------------------------

@pytest.mark.parametrize("last_ticket, day, hh, mm, expected", [
    ("14:30", MONDAY, 14, 29, None),
    ("14:30", MONDAY, 14, 30, CLOSED),  # from last_ticket on
    ("14:30", MONDAY, 14, 59, CLOSED),
    ("14:30", MONDAY, 15, 0, "Jam layanan hari ini sudah berakhir (tutup pukul 15.00)"),  # closed is closed
    ("14:30", MONDAY, 7, 59, "Layanan buka pukul 08.00"),
    ("14:30", FRIDAY, 12, 0, "Waktu istirahat, layanan buka kembali pukul 13.30"),
    ("14:30", FRIDAY, 14, 45, CLOSED),
    ("11:00", FRIDAY, 12, 0, f"{CLOSED_FOR_TODAY} (nomor terakhir pukul 11.00)"),  # in the break after it
    ("11:00", FRIDAY, 13, 45, f"{CLOSED_FOR_TODAY} (nomor terakhir pukul 11.00)"),
    (None, MONDAY, 14, 59, None),
])
def test_last_ticket_availability(last_ticket, day, hh, mm, expected):
    config = office_site(last_ticket=last_ticket, by_estimate=False)
    assert availability(config, config.services["PBG"], local(WITA, day, hh, mm)) == expected


@pytest.mark.parametrize("hh, mm, code", [(14, 29, "L-002"), (14, 30, "service_closed"), (14, 59, "service_closed")])
def test_past_the_last_ticket_the_engine_refuses_and_the_catalog_says_why(hh, mm, code):
    desk = Desk(office_site(last_ticket="14:30", by_estimate=False), local(WITA, MONDAY, 8, 0))
    assert desk.issue("PBG") == "L-001"
    desk.now = local(WITA, MONDAY, hh, mm)
    assert desk.issue("PBG") == code
    entry = desk.engine.catalog(desk.now)["agencies"][0]["services"][0]
    assert (entry["open"], entry["closed_reason"]) == ((True, None) if code != "service_closed" else (False, CLOSED))


def test_the_refusal_message_names_the_service_and_the_reason():
    desk = Desk(office_site(last_ticket="14:30", by_estimate=False), local(WITA, MONDAY, 14, 40))
    desk.open_day()
    with pytest.raises(Exception) as refused:
        desk.engine.issue("PBG", None, desk.now)
    assert refused.value.code == "service_closed"
    assert refused.value.message == f"Layanan PBG: {CLOSED}"


# -- by the estimated wait -------------------------------------------------------------------

# (counters in the site file, open ones at the time, tickets waiting, day, time, close_by_estimate,
#  the answer to one more ticket). PBG: 25 minutes a citizen (service_min, no service measured
#  yet); the office closes at 15:00 (Friday: 08:00-11:30 and 13:30-15:00).
ESTIMATE = [
    # The issue's case: 14:10, four waiting at one counter = 100 min, 50 min left.
    (1, 1, 4, MONDAY, (14, 10), True, "service_closed"),
    (1, 1, 4, MONDAY, (14, 10), False, "ok"),  # the site did not ask for it: issued as before
    (1, 1, 2, MONDAY, (14, 10), True, "ok"),  # 50 min for 50 left: called by 15:00
    (1, 1, 3, MONDAY, (14, 10), True, "service_closed"),  # 75 min
    (2, 2, 4, MONDAY, (14, 10), True, "ok"),  # two counters: 50 min
    (2, 2, 8, MONDAY, (14, 10), True, "service_closed"),  # two counters: 100 min
    (2, 1, 4, MONDAY, (14, 10), True, "service_closed"),  # one of them closed: 100 min
    (2, 0, 4, MONDAY, (14, 10), True, "ok"),  # none open yet: every counter that serves it counts
    (1, 1, 0, MONDAY, (14, 59), True, "ok"),  # nobody waiting: called at once
    (1, 1, 12, MONDAY, (9, 0), True, "ok"),  # 300 min of 360 left
    (1, 1, 15, MONDAY, (9, 0), True, "service_closed"),  # 375 min
    (1, 1, 4, FRIDAY, (11, 0), True, "ok"),  # 30 min before the break + 90 after it = 120 min
    (1, 1, 5, FRIDAY, (11, 0), True, "service_closed"),  # 125 min
]


@pytest.mark.parametrize("counters, open_, waiting, day, hhmm, by_estimate, expected", ESTIMATE)
def test_a_ticket_that_would_not_be_called_before_closing_is_refused(counters, open_, waiting, day, hhmm,
                                                                      by_estimate, expected):
    desk = Desk(office_site(counters=counters, by_estimate=by_estimate), local(WITA, day, 8, 0))
    assert "service_closed" not in desk.issue_many(waiting, "PBG")
    for i in range(open_ + 1, counters + 1):
        desk.do(f"c{i}", "close")
    desk.now = local(WITA, day, *hhmm)
    # What the kiosk reads before the tap says what the tap gets.
    entry = desk.engine.catalog(desk.now)["agencies"][0]["services"][0]
    assert (entry["open"], entry["closed_reason"]) == ((True, None) if expected == "ok" else (False, LATE))
    got = desk.issue("PBG")
    assert ("ok" if got.startswith("L-") else got) == expected


def test_the_estimate_follows_the_measured_service_time():
    """A service measured at 10 minutes a citizen, not its 25: four waiting at 14:10 fit."""
    desk = Desk(office_site(), local(WITA, MONDAY, 8, 0))
    for _ in range(3):  # three citizens served in 10 minutes each
        desk.issue("PBG")
        desk.do("c1", "call_next")
        desk.wait(10)
        desk.do("c1", "finish")
    desk.issue_many(4, "PBG")
    desk.now = local(WITA, MONDAY, 14, 10)
    assert desk.engine.mean_service_min("PBG") == 10
    assert desk.issue("PBG").startswith("L-")  # 40 min of 50
    assert desk.issue("PBG").startswith("L-")  # 50 min of 50
    assert desk.issue("PBG") == "service_closed"


def test_round_the_clock_sites_never_close_by_the_estimate():
    """Config.always_open() (demos, the tests' sites) drops last_ticket, and a day open to
    24:00 has no closing to be late for."""
    path = Path(__file__).resolve().parents[1] / "examples" / "buton.yaml"
    config = load(path).always_open()
    assert config.queue.close_by_estimate and all(s.last_ticket is None for s in config.services.values())
    desk = Desk(config, local(config.site.timezone, MONDAY, 23, 50))
    assert "service_closed" not in desk.issue_many(30, "PBG")


@pytest.mark.parametrize("reason, shown", [
    (CLOSED, CLOSED),  # the kiosk says exactly the issue's sentence
    (LATE, LATE),
    ("Kuota hari ini sudah habis", "Nomor antrean tidak dapat diambil. Kuota hari ini sudah habis"),
    ("Layanan buka pukul 08.00", "Nomor antrean tidak dapat diambil. Layanan buka pukul 08.00"),
    (None, "Nomor antrean tidak dapat diambil. Layanan ini sedang tutup"),
])
def test_the_kiosks_confirmation_says_the_catalogs_reason(reason, shown):
    assert texts.unavailable(reason) == shown


# -- the site file -------------------------------------------------------------------------

def raw_site(**service_extra) -> dict:
    service_extra.setdefault("schedule", "office")
    return {"site": {"id": "t", "name": "MPP Uji", "timezone": WITA},
            "schedules": {"office": OFFICE, "half": {**OFFICE, "sabtu": ["08:00-12:00"]}},
            "agencies": [{"id": "a", "name": "A", "services": [service("PBG", "L", **service_extra)]}],
            "counters": [counter("c1", "PBG")]}


def problems_of(raw: dict, source: str = "test") -> list[tuple[str, str]]:
    try:
        build(raw, source)
    except ConfigError as exc:
        return list(exc.problems)
    return []


WHERE = "agencies[0].services[0].last_ticket"


@pytest.mark.parametrize("extra, expected", [
    ({"last_ticket": "14:30"}, []),
    ({"last_ticket": "11:00"}, []),  # Friday's morning span ends 11:30: fine
    ({"last_ticket": "14:30", "schedule": "half"}, []),  # after Saturday's closing: no effect that day
    ({"last_ticket": "08:00"}, [(WHERE, "08:00 is not after the opening on senin (08:00-15:00 of schedule "
                                        "'office'): no ticket at all that day")]),
    ({"last_ticket": "15:00"}, [(WHERE, "15:00 is not before the closing of schedule 'office' on any day: "
                                        "it would never stop a ticket")]),
    ({"last_ticket": "14.30"}, [(WHERE, "'14.30' is not a time of day like '07:00' (quote it)")]),
])
def test_check_config_checks_last_ticket_against_the_opening_hours(extra, expected):
    assert problems_of(raw_site(**extra)) == expected


def test_check_config_checks_that_an_agency_logo_exists(tmp_path):
    raw = raw_site()
    raw["agencies"][0]["logo"] = "logos/a.png"
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as missing:
        load(path)
    assert missing.value.problems == [("agencies[0].logo", f"no file {str(tmp_path / 'logos' / 'a.png')!r}")]
    (tmp_path / "logos").mkdir()
    (tmp_path / "logos" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert load(path).agencies[0].logo == "logos/a.png"


def test_a_booking_checks_in_after_the_last_ticket_and_the_walk_ins_keep_their_share():
    """The 14:00 slot was promised: its check-in at 14:05 gets a ticket though walk-ins stopped
    at 13:30; at 13:00 the walk-ins have their share and the places of the slots that began
    unbooked (antrian/queue/booking.py)."""
    from test_engine_booking import BOOKING, BookingDesk

    config = site(timezone=WITA, services=[service("A", schedule="office", quota=20,
                                                   booking={**BOOKING, "slot_minutes": 30}, last_ticket="13:30")],
                  queue={"close_by_estimate": True})
    d = BookingDesk(config, local(WITA, MONDAY, 7, 30))
    code = d.book("14:00")
    assert len(code) == 9, code  # a code, not an error code
    d.now = local(WITA, MONDAY, 13, 0)
    # 13:30, 14:00 (one booked) and 14:30 can still be booked: 5 places, 1 held, 14 for walk-ins
    assert d.engine.walk_in_quota("A", d.now) == 14 and d.issue() == "A-001"
    d.now = local(WITA, MONDAY, 14, 5)
    assert d.issue() == "service_closed"
    assert d.check_in(code) == "A-002"
