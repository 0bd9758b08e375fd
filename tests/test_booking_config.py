"""The site file's booking block (antrian/site/sections.py BOOKING, rules.booking_fits):
check-config says when capacity, share, quota and hours do not agree; and a booking's QR
code (web/bookingqr.py) holds the code as shown."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import qrcode
from sites import service, site

from antrian.errors import ConfigError
from antrian.queue import codes
from antrian.site import load

OK = {"slot_minutes": 60, "capacity": 2, "share": 0.5}
WHERE = "agencies[0].services[0].booking"


def problems(**svc) -> list[tuple[str, str]]:
    try:
        site(services=[service("A", schedule="office", **svc)],
             schedules={"office": {"senin": ["08:00-12:00", "13:00-15:00"], "jumat": ["08:00-11:00"]}})
    except ConfigError as exc:
        return exc.problems
    return []


@pytest.mark.parametrize("svc, expected", [
    ({"quota": 20, "booking": OK}, []),
    ({"booking": OK}, [(WHERE, "a service without a quota cannot take bookings: share is a share of the quota")]),
    ({"quota": 20, "booking": {**OK, "slot_minutes": 45}},
     [(f"{WHERE}.slot_minutes", "45 minutes do not divide the span 08:00-12:00 of schedule 'office' (240 minutes)"),
      (f"{WHERE}.slot_minutes", "45 minutes do not divide the span 13:00-15:00 of schedule 'office' (120 minutes)")]),
    # Monday has 6 slots of 2: 12 places, fewer than 0.5 x 40 = 20
    ({"quota": 40, "booking": OK},
     [(f"{WHERE}.capacity", "6 slots × capacity 2 = 12 bookings on senin, fewer than share × quota = 0.5 × 40 = 20: "
                            "raise capacity or lower share")]),
    ({"quota": 20, "booking": {**OK, "slot_minutes": 240}},
     [(f"{WHERE}.slot_minutes", "240 minutes do not divide the span 13:00-15:00 of schedule 'office' (120 minutes)"),
      (f"{WHERE}.slot_minutes", "240 minutes do not divide the span 08:00-11:00 of schedule 'office' (180 minutes)"),
      (f"{WHERE}.capacity", "1 slots × capacity 2 = 2 bookings on senin, fewer than share × quota = 0.5 × 20 = 10: "
                            "raise capacity or lower share")]),
    ({"quota": 20, "booking": {**OK, "opens_at": 420}},
     [(f"{WHERE}.opens_at", "420 is not a time of day like '07:00' (quote it)")]),
    ({"quota": 20, "booking": {**OK, "share": 1.5}}, [(f"{WHERE}.share", "1.5 is out of range 0.01..1")]),
    ({"quota": 20, "booking": {"capacity": 2, "share": 0.5}}, [(f"{WHERE}.slot_minutes", "required")]),
], ids=["fits", "no quota", "slots do not divide the hours", "share beyond the slots", "one long slot",
        "opens_at unquoted", "share above 1", "slot_minutes missing"])
def test_booking_block(svc, expected):
    assert problems(**svc) == expected


def test_the_example_offers_booking_for_ktp_kk_and_nib():
    config = load("examples/buton.yaml")
    booked = {code for code, s in config.services.items() if s.booking}
    assert booked == {"KTP", "KK", "NIB"}
    ktp = config.services["KTP"].booking
    assert ktp.opens_at == dt.time(7) and ktp.places(200, len(ktp.starts(config.schedules["reguler"].days[0]))) == 50


def test_the_qr_code_holds_the_code_as_shown():
    from web import bookingqr

    code = codes.new_code()
    drawn = bookingqr.svg(codes.display(code).lower())
    assert drawn.startswith("<svg") and drawn == bookingqr.svg(code)
    expected = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    expected.add_data(codes.display(code))
    expected.make(fit=True)
    dark = {(x, y) for y, row in enumerate(expected.get_matrix()) for x, on in enumerate(row) if on}
    drawn_dark = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", drawn)}
    assert drawn_dark == dark
    with pytest.raises(ValueError):
        bookingqr.svg("RSV-7K3M-Q2XA-5")  # a check character that does not fit
