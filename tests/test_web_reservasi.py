"""Online booking in the public app (/reservasi), for real: a real broker, a real
dispatcher (in process, on a fixed clock: Monday 16 November 2026, 08:10 WITA, the
Buton site's real opening hours) and the public app in process on the same clock. Every
refusal's sentence, the rate limits (counted before anything reaches the dispatcher),
cancelling, CSRF and Origin, the dispatcher or the broker gone, one question for the
slots however many pages ask, nothing personal in the logs; and headless Chromium on a
360-px phone books a slot through the pages, reads the code, and the code checks in at
a kiosk for a ticket. Screenshots go to test-artifacts/reservasi-*.png."""

from __future__ import annotations

import datetime as dt
import html
import http.client
import logging
import re
import time
import urllib.parse

import pytest
import yaml

from antrian import protocol
from antrian.queue import codes
from conftest import BUTON, NO_LIMITS, write_site
from test_dispatcher import SITE, Client
from web import reservasi
from web_support import ARTIFACTS, chrome_driver, css, quit_driver, screenshot, text, wait, web_app  # noqa: F401

TZ = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.date(2026, 11, 16)
NAME, PHONE, NIK = "Wa Ode Sitti Aisyah", "0812 3456 7890", "7404015501900001"
REQUEST = protocol.booking_request(SITE, "publik1")
KTP = "KTP Elektronik (perekaman, cetak, penggantian)"


class Clock:
    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def booking_site(tmp_path, **ktp):
    """Buton as it is (its hours; no holiday that week), the kiosks unlimited; KTP's
    booking opens at 09:00 (so at 08:10 the last day is not open yet) and takes `ktp`."""
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    raw["limits"] = NO_LIMITS
    svc = raw["agencies"][0]["services"][0]
    assert svc["code"] == "KTP"
    svc["quota"] = ktp.pop("quota", svc["quota"])
    svc["booking"].update({"opens_at": "09:00", **ktp})
    return write_site(tmp_path / "site.yaml", raw)


class Session:
    """A browser without a browser: one cookie jar, the last page's form fields."""

    def __init__(self, app, address: str | None = None):
        self.app = app
        self.cookies: dict[str, str] = {}
        self.address = address  # X-Forwarded-For, as the reverse proxy (127.0.0.1) sends it
        self.last = ""

    def go(self, method: str, path: str, form: dict | None = None, origin: str | None = "own",
           headers: dict | None = None) -> tuple[int, str]:
        conn = http.client.HTTPConnection(*self.app.address, timeout=15)
        head = dict(headers or {})
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.address:
            head["X-Forwarded-For"] = self.address
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            head["Content-Type"] = "application/x-www-form-urlencoded"
            if origin == "own":
                head["Origin"] = self.app.url
            elif origin:
                head["Origin"] = origin
        try:
            conn.request(method, path, body=body, headers=head)
            resp = conn.getresponse()
            for key, value in resp.getheaders():
                if key.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";")[0]
            if resp.status in (301, 302, 303):
                return resp.status, resp.getheader("Location")
            self.last = resp.read().decode("utf-8")
            return resp.status, self.last
        finally:
            conn.close()

    def field(self, name: str) -> str:
        found = re.search(rf'name="{name}" value="([^"]*)"', self.last)
        assert found, f"no {name} field in the page"
        return html.unescape(found.group(1))

    def book(self, day: dt.date, slot: str, phone: str = PHONE, name: str = NAME, nik: str = "",
             service: str = "KTP", **more) -> tuple[int, str]:
        path = f"/reservasi/layanan/{service}/{day.isoformat()}"
        if not self.last or 'name="rid"' not in self.last or path not in self.last:
            status, _ = self.go("GET", path)
            assert status == 200, self.last
        form = {"csrf": self.field("csrf"), "rid": self.field("rid"), "jam": slot, "nama": name, "hp": phone,
                "nik": nik, **more}
        return self.go("POST", path, {k: v for k, v in form.items() if v is not None})

    def cancel(self, code: str, phone: str) -> tuple[int, str]:
        if 'id="batal"' not in self.last:
            self.go("GET", "/reservasi/batal")
        return self.go("POST", "/reservasi/batal", {"csrf": self.field("csrf"), "rid": self.field("rid"),
                                                   "kode": code, "hp": phone})


def error_of(page: str) -> str | None:
    found = re.search(r'<p class="galat" id="galat" role="alert">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else None


def code_of(page: str) -> str:
    found = re.search(r'data-kode="([^"]+)"', page)
    assert found, page[:3000]
    return html.unescape(found.group(1))


class Hall:
    def __init__(self, client: Client, app, dispatcher, clock: Clock):
        self.client, self.app, self.dispatcher, self.clock = client, app, dispatcher, clock
        self.desk = app.web.extra["reservasi"]

    def requests(self) -> list[dict]:
        return [m.json() for m in self.client.rec.messages if m.topic == REQUEST]


def start_hall(site, run_dispatcher, mqtt_client, web_app, at: dt.time = dt.time(8, 10)) -> Hall:  # noqa: F811
    clock = Clock(dt.datetime.combine(MONDAY, at, tzinfo=TZ))
    dispatcher = run_dispatcher(config_path=site, clock=clock)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    app = web_app(site, "publik1")
    app.web.extra["reservasi"].clock = clock
    app.wait_broker()
    return Hall(client, app, dispatcher, clock)


@pytest.fixture
def hall(tmp_path, run_dispatcher, mqtt_client, web_app):  # noqa: F811
    return start_hall(booking_site(tmp_path), run_dispatcher, mqtt_client, web_app)


# -- the pages, step by step -------------------------------------------------------------------


def test_agency_service_date_slot_and_the_confirmation(hall, caplog):
    caplog.set_level(logging.DEBUG)
    s = Session(hall.app)
    status, page = s.go("GET", "/reservasi")
    assert status == 200 and "Dinas Kependudukan dan Pencatatan Sipil" in page
    assert "/reservasi/instansi/disdukcapil" in page
    status, page = s.go("GET", "/reservasi/instansi/disdukcapil")
    assert status == 200 and "/reservasi/layanan/KTP" in page and "/reservasi/layanan/KK" in page
    assert "/reservasi/layanan/AKTA" not in page  # no booking block: walk-ins only
    status, page = s.go("GET", "/reservasi/layanan/KTP")
    assert status == 200
    # today's and the next five working days are open; the weekend is closed; the 23rd
    # opens today at 09.00 (days_ahead 7, opens_at 09:00)
    assert 'href="/reservasi/layanan/KTP/2026-11-16"' in page and 'href="/reservasi/layanan/KTP/2026-11-20"' in page
    assert re.search(r'data-tanggal="2026-11-21" data-keadaan="closed"><strong>Sabtu, 21 November 2026</strong> '
                     r'<span>Tutup</span>', page)
    assert re.search(r'data-tanggal="2026-11-23" data-keadaan="soon">.*Dibuka pukul 09.00 WITA', page)
    assert page.count("Masih tersedia") == 5
    assert "Surat pengantar" in page or "Kartu Keluarga" in page  # the requirements

    status, page = s.go("GET", "/reservasi/layanan/KTP/2026-11-16")
    assert status == 200
    assert 'value="08:00"' not in page and 'value="08:30"' in page  # 08.00 has begun
    assert 'value="11:30"' in page and 'value="12:00"' not in page and 'value="13:00"' in page  # the break
    status, page = s.book(MONDAY, "09:00", nik=NIK)
    assert status == 200, error_of(page)
    code = code_of(page)
    assert codes.parse(code) and code.startswith("RSV-")
    assert "Reservasi berhasil." in page and 'id="qr" src="/reservasi/bukti/' in page
    assert "Datang antara pukul 08.30 dan 09.15 WITA" in page
    assert "Senin, 16 November 2026" in page and "09.00 WITA" in page
    assert NAME in page  # as typed, on this page only
    for secret in ("3456", NIK):
        assert secret not in page
    assert "Fotokopi Kartu Keluarga" in page or "Kartu Keluarga" in page  # the requirements

    # saveable: its address shows it again from the code (nothing personal), and the QR downloads
    path = "/reservasi/bukti/" + urllib.parse.quote(code)
    assert path in page
    status, again = s.go("GET", path)
    assert status == 200 and code_of(again) == code and NAME not in again and "Reservasi berhasil." not in again
    assert "Datang antara pukul 08.30 dan 09.15 WITA" in again
    status, svg = s.go("GET", path + "/qr.svg")
    assert status == 200 and svg.startswith("<svg")
    conn = http.client.HTTPConnection(*hall.app.address, timeout=5)
    conn.request("GET", path + "/qr.svg?unduh=1")
    download = conn.getresponse()
    assert download.getheader("Content-Disposition") == f'attachment; filename="reservasi-{code}.svg"'
    assert download.getheader("Content-Type") == "image/svg+xml"
    conn.close()
    status, where = s.go("GET", "/reservasi/cari?kode=" + urllib.parse.quote(code.lower().replace("-", " ")))
    assert status == 303 and where == path

    # nothing of the citizen in the logs, nor the code (who holds it checks in)
    for secret in (NAME, "81234567890", "3456 7890", NIK, code, codes.parse(code)):
        assert secret not in caplog.text, secret


def test_every_refusal_is_one_indonesian_sentence(hall):
    s = Session(hall.app)
    day = MONDAY.isoformat()
    # the citizen's own input: nothing is sent
    before = len(hall.requests())
    cases = [({"jam": "09:00", "hp": "0812"}, reservasi.INPUT["phone"]),
             ({"jam": "09:00", "nik": "12345"}, reservasi.INPUT["nik"]),
             ({"jam": "09:00", "name": "  "}, reservasi.INPUT["name"]),
             ({"jam": "09:00", "name": "x" * 150}, reservasi.INPUT["name_long"]),
             ({"jam": ""}, reservasi.INPUT["slot"])]
    for change, sentence in cases:
        args = {"slot": change.pop("jam"), "phone": change.pop("hp", PHONE), "name": change.pop("name", NAME),
                "nik": change.pop("nik", "")}
        status, page = s.book(MONDAY, **args)
        assert (status, error_of(page)) == (400, sentence)
    hall.client.settle()
    assert [r["action"] for r in hall.requests()[before:]] in ([], ["slots"])  # the page's slots, once (kept 1 s)

    assert s.book(MONDAY, "09:00")[0] == 200
    s.last = ""
    status, page = s.book(MONDAY, "10:00")
    assert (status, error_of(page)) == (409, f"Nomor HP atau NIK ini sudah memiliki reservasi {KTP} pada Senin, "
                                             "16 November 2026.")
    # a slot of five: four more fill it, the sixth is refused
    for n in range(4):
        s.last = ""
        assert s.book(MONDAY, "09:00", phone=f"0813 0000 000{n}")[0] == 200
    s.last = ""
    status, page = s.book(MONDAY, "09:00", phone="0813 0000 0009")
    assert (status, error_of(page)) == (409, "Jam 09.00 sudah penuh. Silakan pilih jam lain.")
    assert re.search(r'<label class="slot penuh">\s*<input type="radio" name="jam" value="09:00" required disabled>',
                     page)
    # a slot already begun; a time that is no slot
    status, page = s.book(MONDAY, "08:00", phone="0813 0000 0010")
    assert (status, error_of(page)) == (409, "Jam 08.00 sudah lewat; silakan pilih jam lain.")
    status, page = s.book(MONDAY, "09:10", phone="0813 0000 0011")
    assert (status, error_of(page)) == (409, "Data reservasi tidak dapat diproses. Periksa kembali isian Anda.")
    # not open yet: the 23rd opens at 09.00 today; the page says when
    status, page = s.book(MONDAY + dt.timedelta(days=7), "09:00", phone="0813 0000 0012")
    assert (status, error_of(page)) == (409, "Reservasi untuk Senin, 23 November 2026 dibuka Senin, 16 November "
                                             "2026 pukul 09.00.")
    # out of range (a page left open since yesterday; a day too far): the days that are, and why
    out = f"Tanggal itu di luar rentang reservasi: {KTP} dapat dipesan untuk hari ini sampai 7 hari ke depan."
    status, page = s.go("GET", "/reservasi/layanan/KTP/2026-11-24")
    assert (status, error_of(page)) == (409, out) and 'href="/reservasi/layanan/KTP/2026-11-17"' in page
    s.go("GET", f"/reservasi/layanan/KTP/{day}")
    status, page = s.go("POST", "/reservasi/layanan/KTP/2026-11-15", {
        "csrf": s.field("csrf"), "rid": s.field("rid"), "jam": "09:00", "nama": NAME, "hp": "0813 0000 0013"})
    assert (status, error_of(page)) == (409, out)
    assert s.go("GET", "/reservasi/layanan/KTP/kemarin")[0] == 404
    assert s.go("GET", "/reservasi/layanan/AKTA")[0] == 404
    # the same id again (a reload, a retry after a timeout) is the same booking, never a second one
    s.last = ""
    s.go("GET", f"/reservasi/layanan/KTP/{day}")
    form = {"csrf": s.field("csrf"), "rid": s.field("rid"), "jam": "10:30", "nama": NAME, "hp": "0813 0000 0020",
            "nik": ""}
    first = s.go("POST", f"/reservasi/layanan/KTP/{day}", form)
    again = s.go("POST", f"/reservasi/layanan/KTP/{day}", form)
    assert first[0] == again[0] == 200 and code_of(first[1]) == code_of(again[1])


def test_the_booking_share_used_and_unknown_codes(tmp_path, run_dispatcher, mqtt_client, web_app):  # noqa: F811
    hall = start_hall(booking_site(tmp_path, quota=8), run_dispatcher, mqtt_client, web_app)  # 2 places
    s = Session(hall.app)
    assert s.book(MONDAY, "09:00", phone="0813 1000 0001")[0] == 200
    s.last = ""
    assert s.book(MONDAY, "09:30", phone="0813 1000 0002")[0] == 200
    s.last = ""
    status, page = s.book(MONDAY, "10:00", phone="0813 1000 0003")
    assert (status, error_of(page)) == (409, f"Kuota reservasi {KTP} pada Senin, 16 November 2026 sudah habis. "
                                             "Silakan pilih tanggal lain atau datang langsung tanpa reservasi.")
    status, page = s.go("GET", "/reservasi/layanan/KTP")
    assert "Penuh" in page
    # a code nobody holds (a right check character), and one mistyped
    unknown = codes.display(codes.new_code())
    status, page = s.go("GET", "/reservasi/bukti/" + urllib.parse.quote(unknown))
    assert (status, error_of(page)) == (404, "Kode reservasi tidak ditemukan. Periksa kembali kodenya.")
    status, page = s.go("GET", "/reservasi/cari?kode=RSV-0000-0000-Z")
    assert (status, error_of(page)) == (400, reservasi.INPUT["code"])


def test_cancel_with_code_and_phone_gives_the_place_back(hall):
    s = Session(hall.app)
    status, page = s.book(MONDAY, "09:00", phone="+62 812-3456-7890")
    code = code_of(page)
    # a wrong phone, a mistyped code: refused, nothing cancelled
    status, page = s.cancel(code, "0813 9999 9999")
    assert (status, error_of(page)) == (409, "Kode reservasi tidak ditemukan atau nomor HP tidak cocok. Periksa "
                                             "kembali kode dan nomor HP Anda.")
    status, page = s.cancel(code[:-1] + ("0" if code[-1] != "0" else "1"), PHONE)
    assert (status, error_of(page)) == (400, reservasi.INPUT["code"])
    status, page = s.cancel(code, "12")
    assert (status, error_of(page)) == (400, reservasi.INPUT["phone"])
    s.last = ""
    status, page = s.cancel(code.lower(), PHONE)
    assert status == 200 and 'id="dibatalkan"' in page and code in page, error_of(page)
    assert "09.00 WITA" in page and "sudah dibatalkan" in page
    status, page = s.go("GET", "/reservasi/bukti/" + urllib.parse.quote(code))
    assert status == 200 and "Reservasi ini sudah dibatalkan." in page and "Datang antara" not in page
    # the place came back, and the same phone may book again
    status, page = s.go("GET", "/reservasi/layanan/KTP/2026-11-16")
    assert re.search(r'value="09:00" required>\s*<span><strong>09.00</strong><small>sisa 5</small>', page)
    s.last = ""
    assert s.book(MONDAY, "09:30")[0] == 200


def test_forms_need_their_token_and_their_own_origin(hall, caplog):
    s = Session(hall.app)
    s.go("GET", "/reservasi/layanan/KTP/2026-11-16")
    good = {"csrf": s.field("csrf"), "rid": s.field("rid"), "jam": "09:00", "nama": NAME, "hp": PHONE}
    path = "/reservasi/layanan/KTP/2026-11-16"
    before = len(hall.requests())
    for form, origin, cookies in (({**good, "csrf": ""}, "own", None),
                                  ({**good, "csrf": "x" * 43}, "own", None),
                                  (good, "https://penipu.example", None),
                                  (good, None, None),
                                  (good, "own", {})):  # the token of another browser's cookie
        other = Session(hall.app)
        other.cookies = dict(s.cookies) if cookies is None else cookies
        status, page = other.go("POST", path, form, origin=origin)
        assert (status, error_of(page)) == (403, reservasi.EXPIRED_FORM)
    status, page = s.go("POST", "/reservasi/batal", {"csrf": "", "kode": "RSV-0000-0000-0", "hp": PHONE})
    assert (status, error_of(page)) == (403, reservasi.EXPIRED_FORM)
    hall.client.settle()
    assert [r["action"] for r in hall.requests()[before:]] in ([], ["slots"])  # no book, no cancel sent
    assert "CSRF token" in caplog.text and "origin 'https://penipu.example'" in caplog.text
    # the page that refused carries a fresh form: sending it again books
    status, page = s.go("POST", path, good, origin=None, headers={"Referer": hall.app.url + path})
    assert status == 200, error_of(page)


def test_rate_limits_per_address_and_per_phone_before_the_dispatcher(hall):
    # one address: 20 attempts at once, then refused until the score falls (one every 3 s)
    s = Session(hall.app, address="10.1.2.3")
    s.go("GET", "/reservasi/batal")
    before = len(hall.requests())
    for n in range(reservasi.ADDRESS_LIMIT):
        status, page = s.cancel("RSV-0000-0000-0", f"0813 2000 {n:04d}")
        assert status == 409, error_of(page)
    status, page = s.cancel("RSV-0000-0000-0", "0813 2000 9999")
    assert status == 429 and re.fullmatch(r"Terlalu banyak permintaan dari perangkat Anda\. Silakan coba lagi "
                                          r"dalam \d detik\.", error_of(page)), error_of(page)
    status, page = s.book(MONDAY, "09:00", phone="0813 2000 9998")
    assert status == 429 and error_of(page).startswith("Terlalu banyak permintaan dari perangkat Anda.")
    hall.client.settle()
    sent = [r for r in hall.requests()[before:] if r["action"] != "slots"]
    assert len(sent) == reservasi.ADDRESS_LIMIT  # the refused ones never reached the dispatcher
    # another address is not held up by it
    assert Session(hall.app, address="10.1.2.4").book(MONDAY, "09:00", phone="0813 2000 9997")[0] == 200
    # one phone number from many addresses: 5, then refused
    for n in range(reservasi.PHONE_LIMIT):
        status, page = Session(hall.app, address=f"10.2.0.{n + 1}").cancel("RSV-0000-0000-0", "0813 3000 0000")
        assert status == 409, error_of(page)
    status, page = Session(hall.app, address="10.2.0.99").book(MONDAY, "09:00", phone="0813 3000 0000")
    assert status == 429 and re.fullmatch(r"Terlalu banyak permintaan untuk nomor HP ini\. Silakan coba lagi dalam "
                                          r"\d+ detik\.", error_of(page)), error_of(page)
    # looking up codes counts per address too
    look = Session(hall.app, address="10.3.0.1")
    for _ in range(reservasi.ADDRESS_LIMIT):
        look.go("GET", "/reservasi/bukti/RSV-0000-0000-0")
    status, page = look.go("GET", "/reservasi/bukti/RSV-0000-0000-0")
    assert status == 429 and error_of(page).startswith("Terlalu banyak permintaan dari perangkat Anda.")


def test_a_dispatcher_that_is_gone_or_silent_is_one_sentence(hall, mqtt_client):
    s = Session(hall.app)
    s.go("GET", "/reservasi/layanan/KTP/2026-11-16")
    form = {"csrf": s.field("csrf"), "rid": s.field("rid"), "jam": "09:00", "nama": NAME, "hp": PHONE}
    hall.dispatcher.stop()  # its will: offline
    deadline = time.monotonic() + 10
    while hall.app.web.hub.dispatcher.online is not False:
        assert time.monotonic() < deadline, "the app did not see the dispatcher go"
        time.sleep(0.05)
    status, page = s.go("POST", "/reservasi/layanan/KTP/2026-11-16", form)
    assert (status, error_of(page)) == (503, "Server antrean sedang tidak aktif. Silakan coba lagi beberapa saat "
                                             "lagi.")
    assert 'value="0812 3456 7890"' in page  # what was typed stays in the form
    status, page = s.go("GET", "/reservasi/layanan/KTP")
    assert (status, error_of(page)) == (200, "Server antrean sedang tidak aktif. Silakan coba lagi beberapa saat lagi.")
    # a dispatcher that says it is online but never answers: the wait ends with a sentence
    fake = mqtt_client(topics=[])
    fake.client.publish(protocol.status(SITE, "dispatcher"), protocol.encode(
        protocol.device_status("dispatcher", "dispatcher", True, [], "0", "2026-11-16T08:10:00+08:00")),
        qos=1, retain=True)
    deadline = time.monotonic() + 10
    while hall.app.web.hub.dispatcher.online is not True:
        assert time.monotonic() < deadline, "the app did not see the fake dispatcher"
        time.sleep(0.05)
    hall.desk.desk.timeout = 0.5
    status, page = s.go("POST", "/reservasi/layanan/KTP/2026-11-16", form)
    assert (status, error_of(page)) == (504, "Server antrean belum menjawab. Silakan kirim ulang; reservasi Anda "
                                             "tidak akan tercatat dua kali.")
    assert f'name="rid" value="{form["rid"]}"' in page  # sent again, the same id: never booked twice


# -- a phone books in Chromium; the kiosk checks the code in ---------------------------------

PHONE_SCREEN = {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True}


@pytest.fixture(scope="module")
def phone():
    driver = chrome_driver(360, 740)
    try:
        yield driver
    finally:
        quit_driver(driver)


def shot(driver, name: str, width: int = 360) -> None:
    if width == 360:
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 360, name  # nothing wider
    screenshot(driver, ARTIFACTS / f"reservasi-{name}-{width}.png", width, None, mobile=width == 360)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE_SCREEN)


def click(driver, selector: str) -> None:
    found = css(driver, selector)
    assert found, selector
    found[0].click()


def test_a_phone_books_through_the_pages_and_the_kiosk_checks_the_code_in(hall, phone):
    from web_support import console_errors

    phone.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE_SCREEN)
    phone.get(hall.app.url + "/reservasi")
    shot(phone, "instansi")
    click(phone, 'a[href="/reservasi/instansi/disdukcapil"]')
    wait(phone, lambda d: css(d, 'a[href="/reservasi/layanan/KTP"]'), 10)
    shot(phone, "layanan")
    click(phone, 'a[href="/reservasi/layanan/KTP"]')
    wait(phone, lambda d: css(d, 'a[data-tanggal="2026-11-16"]'), 10)
    shot(phone, "tanggal")
    click(phone, 'a[data-tanggal="2026-11-16"]')
    wait(phone, lambda d: css(d, "#pesan"), 10)
    # a full slot is shown full and cannot be chosen
    for n in range(5):
        assert Session(hall.app, address=f"10.9.0.{n}").book(MONDAY, "10:00", phone=f"0813 4000 000{n}")[0] == 200
    phone.refresh()
    wait(phone, lambda d: css(d, "#pesan"), 10)
    full = css(phone, 'input[name="jam"][value="10:00"]')[0]
    assert full.get_attribute("disabled") is not None and "penuh" in text(phone, "label.slot.penuh small")
    click(phone, 'input[name="jam"][value="08:30"] + span')
    css(phone, "#nama")[0].send_keys(NAME)
    css(phone, "#hp")[0].send_keys("0812 3456")  # too short: one sentence, and what was typed stays
    css(phone, "#nik")[0].send_keys(NIK)
    click(phone, "#kirim")
    wait(phone, lambda d: css(d, "#galat"), 10)
    assert text(phone, "#galat") == reservasi.INPUT["phone"]
    assert css(phone, "#nama")[0].get_attribute("value") == NAME
    assert css(phone, 'input[name="jam"][value="08:30"]')[0].is_selected()
    shot(phone, "galat")
    hp = css(phone, "#hp")[0]
    hp.clear()
    hp.send_keys(PHONE)
    shot(phone, "jam")
    shot(phone, "jam", 1366)
    click(phone, "#kirim")
    wait(phone, lambda d: css(d, "#kode"), 15)
    shown = text(phone, "#kode")
    code = codes.parse(shown)
    assert code is not None, shown
    assert text(phone, "#jendela") == "Datang antara pukul 08.00 dan 08.45 WITA"
    assert text(phone, "#nama") == NAME
    wait(phone, lambda d: d.execute_script("return document.getElementById('qr').naturalWidth") > 0, 10)
    assert not css(phone, "#cetak")[0].get_attribute("hidden")  # the script showed the print button
    shot(phone, "bukti")
    shot(phone, "bukti", 1366)
    phone.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shot(phone, "bukti-cetak", 794)  # A4 at 96 dpi
    finally:
        phone.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    # no CSP refusal, no script error: only the form refused on purpose (400) above
    assert [e for e in console_errors(phone) if "status of 400 (Bad Request)" not in e] == []

    # at the kiosk: the code as typed or scanned gives a ticket marked as a booking
    kiosk = protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1")
    reply = hall.client.send(kiosk[0], {"id": "k1", "booking": shown, "priority": None}, kiosk[1])
    assert reply["ok"], reply
    assert reply["ticket"]["booking"] == codes.display(code) and reply["ticket"]["service"] == "KTP"
    phone.get(hall.app.url + "/reservasi/bukti/" + urllib.parse.quote(codes.display(code)))
    wait(phone, lambda d: css(d, "#keadaan"), 10)
    assert text(phone, "#keadaan") == f"Sudah lapor diri: nomor antrean {reply['ticket']['number']}."
    # cancelling from the phone
    phone.get(hall.app.url + "/reservasi/batal")
    shot(phone, "batal")


def test_many_phones_on_one_day_ask_the_dispatcher_once(hall, monkeypatch):
    """The opening rush: the day's slots are asked for once however many pages want them at
    the same moment, and a booking's answer is written into them without asking again."""
    from concurrent.futures import ThreadPoolExecutor

    from web import reservasi_kirim

    monkeypatch.setattr(reservasi_kirim, "SLOTS_FRESH", 60.0)  # a slow machine must not age them here
    path = "/reservasi/layanan/KTP/2026-11-17"
    before = len(hall.requests())
    with ThreadPoolExecutor(20) as pool:
        pages = list(pool.map(lambda n: Session(hall.app, address=f"10.5.0.{n}").go("GET", path), range(40)))
    assert all(status == 200 and 'value="08:00"' in page for status, page in pages)
    hall.client.settle()
    asked = [r for r in hall.requests()[before:] if r["action"] == "slots"]
    assert len(asked) == 1
    s = Session(hall.app)
    s.go("GET", path)
    hall.client.settle()
    before = len(hall.requests())
    status, _ = s.book(MONDAY + dt.timedelta(days=1), "08:00")
    assert status == 200
    status, page = s.go("GET", path)
    hall.client.settle()
    assert re.search(r'value="08:00" required>\s*<span><strong>08.00</strong><small>sisa 4</small>', page)
    assert [r["action"] for r in hall.requests()[before:]] == ["book"]


def test_without_the_broker_the_form_says_so(hall, broker):
    s = Session(hall.app)
    s.go("GET", "/reservasi/layanan/KTP/2026-11-16")
    form = {"csrf": s.field("csrf"), "rid": s.field("rid"), "jam": "09:00", "nama": NAME, "hp": PHONE}
    broker.stop()
    deadline = time.monotonic() + 10
    while hall.app.web.hub.broker_connected:
        assert time.monotonic() < deadline, "the app did not notice the broker gone"
        time.sleep(0.05)
    status, page = s.go("POST", "/reservasi/layanan/KTP/2026-11-16", form)
    assert (status, error_of(page)) == (503, "Sistem reservasi sedang tidak tersambung. Silakan coba lagi beberapa "
                                             "saat lagi.")
