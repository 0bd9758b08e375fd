"""The citizen's live ticket (/t/{token} in the public app), for real: a real broker, a
real dispatcher, the public app in process and Debian's headless Chromium at 360x740.
The page goes from waiting to called to served (the survey reaches the dispatcher once)
and to absent; a forged or unknown token is the plain 404; MQTT-fed text shows as text;
the polling fallback takes over when the event stream is blocked. Screenshots of every
state go to test-artifacts/tiket-*.png."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
import urllib.parse

import pytest
import yaml

from antrian import links, protocol
from antrian.site import load
from conftest import BUTON, allday_site, write_site
from test_dispatcher import SITE, Client
from web.tiket_status import View
from web_support import ARTIFACTS, chrome_driver, css, quit_driver, screenshot, text, wait, web_app  # noqa: F401

PUBLIC_URL = "https://antrean.butonkab.go.id"


@pytest.fixture(scope="module")
def phone():
    """Chromium at a 360x740 phone's size; sound allowed without a tap, as after the
    citizen has tapped "Aktifkan suara dan getar"."""
    driver = chrome_driver(360, 740, "--autoplay-policy=no-user-gesture-required")
    try:
        yield driver
    finally:
        quit_driver(driver)


@pytest.fixture
def browser(phone):
    phone.execute_cdp_cmd("Network.enable", {})
    phone.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    phone.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    phone.get("about:blank")
    return phone


class Hall:
    """The test's MPP: the dispatcher, the public app and a client for kiosks and counters."""

    def __init__(self, client: Client, app, db) -> None:
        self.client = client
        self.app = app
        self.db = db

    def take(self, service: str, priority: str | None = None) -> dict:
        """A ticket from the dispatcher, returned once the public app has it in a queue list:
        the app learns it from the dispatcher's queue list a moment after the kiosk's reply,
        and under load that moment is long enough for a page to say 'gone' (CI saw it)."""
        ticket = self.client.request(service, priority)["ticket"]
        assert ticket["link"].startswith(PUBLIC_URL + "/t/")
        status = self.path(ticket) + "/status"
        wait(None, lambda _: json.loads(self.app.request("GET", status)[2])["state"] != "gone", timeout=10)
        return ticket

    def path(self, ticket: dict) -> str:
        return ticket["link"].removeprefix(PUBLIC_URL)

    def press(self, counter: str, action: str, **extra) -> dict:
        reply = self.client.command(counter, action, **extra)
        assert reply["ok"], reply
        return reply["ticket"]

    def surveys(self) -> list[tuple]:
        con = sqlite3.connect(self.db)
        try:
            return con.execute("SELECT device, ticket, counter, score, answers FROM surveys ORDER BY id").fetchall()
        finally:
            con.close()


def start_hall(site, run_dispatcher, mqtt_client, web_app, tmp_path) -> Hall:  # noqa: F811
    run_dispatcher(site)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    app = web_app(site, "publik1")
    app.wait_broker()
    return Hall(client, app, tmp_path / "antrian.db")


@pytest.fixture
def hall(tmp_path, run_dispatcher, mqtt_client, web_app):  # noqa: F811
    return start_hall(allday_site(tmp_path), run_dispatcher, mqtt_client, web_app, tmp_path)


def open_page(driver, hall: Hall, ticket: dict) -> None:
    driver.get(hall.app.url + hall.path(ticket))
    wait(driver, lambda d: d.execute_script("return document.getElementById('tiket').dataset.mode"), 10)


def shows(driver, selector: str, expected: str, timeout: float = 10.0) -> None:
    try:
        wait(driver, lambda d: text(d, selector) == expected, timeout)
    except Exception:
        raise AssertionError(f"{selector}: {text(driver, selector)!r}, expected {expected!r}") from None


def dataset(driver, key: str) -> str | None:
    return driver.execute_script(f"return document.getElementById('tiket').dataset.{key} || null")


def visible(driver, selector: str) -> bool:
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return !!e && e.getClientRects().length > 0", selector)


PHONE = {"width": 360, "height": 740, "deviceScaleFactor": 1, "mobile": True}


def shot(driver, name: str) -> None:
    # A 360-px phone: nothing wider than the screen.
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 360
    screenshot(driver, ARTIFACTS / f"tiket-{name}.png", 360, 740, mobile=True)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)  # the helper cleared it


def test_waiting_then_called_then_served_with_the_survey_sent_once(hall, browser):
    tickets = [hall.take("KK") for _ in range(4)]  # B-001 .. B-004; Loket 2 and 3 serve KK
    mine = tickets[-1]
    assert mine["number"] == "B-004"
    open_page(browser, hall, mine)
    assert text(browser, ".label") == "Nomor antrean Anda" and text(browser, "#number") == "B-004"
    assert text(browser, "#service") == "Kartu Keluarga (baru, perubahan, hilang/rusak)"
    shows(browser, "#ahead", "Di depan Anda: 3 orang")
    assert dataset(browser, "mode") == "stream"
    # No call yet: the site file's service_min (10) over the two open counters of KK.
    assert text(browser, "#wait") == "Perkiraan waktu tunggu: sekitar 15 menit"
    assert text(browser, "#basis") == "Dihitung dari standar waktu layanan."
    assert not visible(browser, "#survei")
    shot(browser, "menunggu")

    hall.press("loket3", "call_next")  # B-001
    shows(browser, "#ahead", "Di depan Anda: 2 orang")
    hall.press("loket2", "call_next")  # B-002
    shows(browser, "#ahead", "Di depan Anda: 1 orang")
    hall.press("loket3", "call_next")  # B-003: three first calls today, the pace takes over
    shows(browser, "#ahead", "Tidak ada antrean di depan Anda")
    assert text(browser, "#wait") == "Perkiraan waktu tunggu: segera dipanggil" and not visible(browser, "#basis")
    assert dataset(browser, "alerts") is None
    # Three first calls of KK today: the estimate follows their pace from now on.
    later = json.loads(hall.app.request("GET", hall.path(hall.take("KK")) + "/status")[2])
    assert (later["ahead"], later["wait_basis"]) == (1, "pace")  # three calls in a second: 0 min each

    called = hall.press("loket3", "call_next")
    assert called["number"] == "B-004"
    shows(browser, "#headline", "Silakan menuju Loket 3")
    assert text(browser, "#note") == "Nomor Anda dipanggil."
    wait(browser, lambda d: dataset(d, "alerts") == "1")
    wait(browser, lambda d: dataset(d, "played") == "1")  # the chime played (the audio element's event)
    assert browser.title == "Silakan menuju Loket 3"
    shot(browser, "dipanggil")
    hall.press("loket3", "recall")
    shows(browser, "#note", "Nomor Anda dipanggil ulang.")
    wait(browser, lambda d: dataset(d, "alerts") == "2")
    # A reload rings nothing again: the seq was rung already.
    open_page(browser, hall, mine)
    shows(browser, "#headline", "Silakan menuju Loket 3")
    time.sleep(0.5)
    assert dataset(browser, "alerts") is None

    hall.press("loket3", "finish")
    shows(browser, "#headline", "Layanan Anda sudah selesai")
    assert visible(browser, "#survey-form") and not visible(browser, "#ahead")
    shot(browser, "selesai")
    browser.find_element("css selector", "label.score-4").click()
    browser.find_element("css selector", "#survei summary").click()
    for n in range(1, 10):
        browser.find_element("css selector", f"input[name=U{n}][value='{3 if n % 2 else 4}'] + span").click()
    # The respondent profile, each question optional: two of the four answered.
    browser.find_element("css selector", "input[name=profil_jenis_kelamin][value=P] + span").click()
    browser.find_element("css selector", "input[name='profil_pendidikan'][value='D4/S1'] + span").click()
    shot(browser, "survei")
    browser.find_element("css selector", "#survey-form button[type=submit]").click()
    wait(browser, lambda d: visible(d, "#survey-sent"), 10)
    assert text(browser, "#survey-sent") == "Terima kasih, penilaian Anda sudah kami terima."
    assert not visible(browser, "#survey-form")
    shot(browser, "terima-kasih")
    answers = {f"U{n}": 3 if n % 2 else 4 for n in range(1, 10)}
    deadline = time.monotonic() + 10
    while not hall.surveys():
        assert time.monotonic() < deadline, "the survey did not reach the dispatcher"
        time.sleep(0.05)
    assert [(d, t, c, s, json.loads(a)) for d, t, c, s, a in hall.surveys()] == [
        ("publik1", "B-004", "loket3", 4, answers)]
    with sqlite3.connect(hall.db) as con:
        assert [json.loads(p) for (p,) in con.execute("SELECT profile FROM surveys")] == [
            {"jenis_kelamin": "P", "pendidikan": "D4/S1"}]

    # Sent again -- the same form posted twice, and once more after the app forgot it
    # sent it (as after its restart): the dispatcher stores it once (the id is the ticket's).
    token = hall.path(mine).removeprefix("/t/")
    form = urllib.parse.urlencode({"csrf": hall.app.web.extra["tiket"].csrf(token), "score": "1"})
    headers = {"Origin": hall.app.url, "Content-Type": "application/x-www-form-urlencoded"}
    assert hall.app.request("POST", f"/t/{token}/survei", form, headers)[0] == 303
    hall.app.web.extra["tiket"].memory.surveyed.clear()
    assert hall.app.request("POST", f"/t/{token}/survei", form, headers)[0] == 303
    survey_topic = protocol.survey(SITE, "publik1")
    hall.client.rec.wait_for(survey_topic, lambda m: m.json()["score"] == 1)
    assert len([m for m in hall.client.rec.messages if m.topic == survey_topic]) == 2
    hall.client.settle()
    assert len(hall.surveys()) == 1 and hall.surveys()[0][3] == 4


def test_absent_then_called_back_and_a_transfer(hall, browser):
    first = hall.take("KTP")
    second = hall.take("KTP")
    open_page(browser, hall, first)
    shows(browser, "#ahead", "Tidak ada antrean di depan Anda")
    hall.press("loket1", "call_next")
    shows(browser, "#headline", "Silakan menuju Loket 1")
    hall.press("loket1", "no_show")
    shows(browser, "#headline", "Anda tidak hadir saat dipanggil")
    assert text(browser, "#note") == "Segera temui petugas di Loket 1: nomor Anda masih dapat dipanggil kembali."
    assert visible(browser, "#survey-form")
    shot(browser, "tidak-hadir")
    # The officer calls it back by its number: called again, and it rings again.
    hall.press("loket2", "call_number", number="A-001")
    shows(browser, "#headline", "Silakan menuju Loket 2")
    wait(browser, lambda d: dataset(d, "alerts") == "2")
    # Sent on to the KK queue: waiting again, in its new service, with the mark.
    hall.press("loket2", "transfer", to_service="KK")
    shows(browser, "#service", "Kartu Keluarga (baru, perubahan, hilang/rusak)")
    shows(browser, "#ahead", "Tidak ada antrean di depan Anda")
    assert text(browser, "#note") == ("Nomor Anda dialihkan dari layanan KTP Elektronik (perekaman, cetak, "
                                      "penggantian).")
    shot(browser, "dialihkan")
    # A-002 falls past the late tolerance after five later calls: absent for good.
    open_page(browser, hall, second)
    hall.press("loket1", "call_next")
    hall.press("loket1", "no_show")
    shows(browser, "#headline", "Anda tidak hadir saat dipanggil")
    for _ in range(5):
        hall.take("KTP")
    for _ in range(5):
        hall.press("loket1", "call_next")
    shows(browser, "#note", "Nomor ini sudah tidak dapat dipanggil kembali. Silakan ambil nomor antrean baru bila "
                            "masih memerlukan layanan.")


class FakeHub:
    """What View reads of a hub: a snapshot and the recent calls."""

    def __init__(self, calls=(), counters=None):
        self.calls = list(calls)
        self.counters = counters or {}

    def snapshot(self):
        return {"broker": True, "dispatcher": {"online": True}, "board": {"business_day": "2026-12-04", "seq": 0},
                "catalog": None, "counters": self.counters, "queues": {"KK": {}}}

    def calls_after(self, seq):
        return self.calls


def test_the_estimate_follows_the_pace_of_the_latest_first_calls():
    config = load(BUTON)

    def calls(*minutes, service="KK"):
        at = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        return [{"seq": i, "service": service, "recall": False, "at": (at + dt.timedelta(minutes=m)).isoformat()}
                for i, m in enumerate(minutes)]

    def estimate(found, ahead, counters=None):
        return View(FakeHub(found, counters), config).estimate("KK", ahead)

    # Four first calls 0, 6, 12, 18 minutes in: one every 6 minutes; three ahead: 18.
    assert estimate(calls(0, 6, 12, 18), 3) == (18, "pace")
    # Recalls and other services do not count; only the latest 11 first calls do.
    assert estimate(calls(0, 6, 12) + [{**calls(13)[0], "recall": True}] + calls(14, service="KTP"), 2) == (12, "pace")
    assert estimate(calls(*range(0, 200, 10), 200, 201, 202), 1)[0] == round((202 - 120) / 10)
    # Fewer than three: the site file's service_min (10) over the open counters of KK.
    assert estimate(calls(0, 6), 3, {"loket2": {"status": "open"}, "loket3": {"status": "paused"}}) == (
        30, "standard")
    assert estimate([], 3) == (None, None)


def test_a_ticket_of_another_day_and_forged_or_unknown_tokens(hall, browser):
    config = hall.app.web.config
    secret = hall.app.web.secret
    yesterday = dt.date.fromisoformat(hall.take("KTP")["business_day"]) - dt.timedelta(days=1)
    old = links.ticket_token(secret, SITE, yesterday, "A-001")
    browser.get(f"{hall.app.url}/t/{old}")
    shows(browser, "#headline", "Tiket ini sudah tidak berlaku")
    day = dt.datetime.combine(yesterday, dt.time(), tzinfo=config.tz)
    from antrian import bahasa

    assert text(browser, "#note") == (f"Tiket ini untuk {bahasa.tanggal(day, jam=False)}. "
                                      "Silakan ambil nomor antrean baru.")
    shot(browser, "kedaluwarsa")

    good = links.ticket_token(secret, SITE, yesterday + dt.timedelta(days=1), "A-001")
    unknown = hall.app.request("GET", "/tidak-ada")
    assert unknown[0] == 404 and unknown[2] == "Halaman tidak ditemukan."
    forged = [good[:-1] + ("a" if good[-1] != "a" else "b"), good.replace("A-001", "A-002"),
              links.ticket_token(b"another secret of 32 characters..", SITE, yesterday, "A-001"), "A-001",
              "..%2F..%2Fetc%2Fpasswd", "x" * 300]
    for token in forged:
        for suffix in ("", "/status", "/peristiwa"):
            status, _, body = hall.app.request("GET", f"/t/{token}{suffix}")
            assert (status, body) == (404, unknown[2]), (token, suffix)
        status, _, body = hall.app.request("POST", f"/t/{token}/survei", "score=4",
                                           {"Origin": hall.app.url,
                                            "Content-Type": "application/x-www-form-urlencoded"})
        assert (status, body) == (404, unknown[2])
    assert hall.app.request("GET", f"/t/{good}")[0] == 200


def test_the_status_json_the_chime_and_the_landing_page(hall):
    for _ in range(3):
        hall.take("KTP", "lansia")
    ticket = hall.take("KTP")
    status, headers, body = hall.app.request("GET", hall.path(ticket) + "/status")
    assert status == 200 and headers["cache-control"] == "no-store"
    data = json.loads(body)
    assert data["state"] == "waiting" and data["ahead"] == 3 and data["service"] == "KTP"
    assert data["texts"]["ahead"] == "Di depan Anda: 3 orang"
    assert set(data) == {"number", "day", "state", "service", "service_name", "ahead", "wait_min", "wait_basis",
                         "counter", "counter_name", "call_seq", "recall", "transferred_from", "recallable",
                         "survey", "online", "location", "meeting_url", "texts"}  # numbers, names of services
    # and counters, a remote counter's location and meeting link; no person
    status, headers, body = hall.app.request("GET", hall.path(ticket))
    assert status == 200 and headers["referrer-policy"] == "same-origin"
    assert "script-src 'self'" in headers["content-security-policy"] and "<script>" not in body
    status, headers, _ = hall.app.request("GET", "/t/bunyi.wav")
    assert status == 200 and headers["content-type"] == "audio/wav"
    chime = hall.app.web.extra["tiket"].chime
    assert chime[:4] == b"RIFF" and chime[8:12] == b"WAVE" and 10_000 < len(chime) < 100_000
    status, _, body = hall.app.request("GET", "/")
    assert status == 200 and "Pindai kode QR" in body
    assert 'href="/reservasi"' in body  # the example books KTP, KK and NIB online


def test_the_survey_form_is_refused_without_its_token_or_from_another_origin(hall, caplog):
    ticket = hall.take("KTP")
    hall.press("loket1", "call_next")
    token = hall.path(ticket).removeprefix("/t/")
    csrf = hall.app.web.extra["tiket"].csrf(token)
    form = "Content-Type", "application/x-www-form-urlencoded"
    path = f"/t/{token}/survei"
    # Not done yet: nothing is sent.
    status, headers, _ = hall.app.request("POST", path, f"csrf={csrf}&score=4", dict([form, ("Origin", hall.app.url)]))
    assert status == 303 and headers["location"].endswith("?survei=belum#survei")
    hall.press("loket1", "finish")
    for body, origin in ((f"csrf={csrf}&score=4", None), (f"csrf={csrf}&score=4", "https://jahat.example"),
                         (f"csrf={csrf}&score=4", "null"), ("score=4", hall.app.url), (f"csrf=x{csrf}&score=4",
                                                                                        hall.app.url)):
        headers = dict([form] + ([("Origin", origin)] if origin else []))
        assert hall.app.request("POST", path, body, headers)[0] == 403, (body, origin)
    # The public app's own address behind the reverse proxy is its origin too.
    status, headers, _ = hall.app.request("POST", path, f"csrf={csrf}&score=9", dict([form, ("Origin", PUBLIC_URL)]))
    assert status == 303 and headers["location"].endswith("?survei=pilih#survei")
    status, headers, _ = hall.app.request("POST", path, f"csrf={csrf}&score=3&U1=4",
                                          dict([form, ("Origin", PUBLIC_URL)]))
    assert headers["location"].endswith("?survei=lengkapi#survei")
    hall.client.settle()
    assert hall.surveys() == []
    assert "refused" in caplog.text


def test_the_polling_fallback_when_the_event_stream_is_blocked(hall, browser):
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/peristiwa*"]})
    ticket = hall.take("KK")
    browser.get(hall.app.url + hall.path(ticket))
    wait(browser, lambda d: dataset(d, "mode") == "poll", 30)
    shows(browser, "#ahead", "Tidak ada antrean di depan Anda")
    hall.press("loket3", "call_next")
    shows(browser, "#headline", "Silakan menuju Loket 3", timeout=15)
    wait(browser, lambda d: dataset(d, "alerts") == "1")
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


def test_html_in_a_service_name_shows_as_text(tmp_path, run_dispatcher, mqtt_client, web_app, browser):  # noqa: F811
    evil = '<img src=x id=evil onerror="document.title=\'diretas\'">Kartu <b>Keluarga</b>'
    raw = yaml.safe_load(allday_site(tmp_path).read_text(encoding="utf-8"))
    for agency in raw["agencies"]:
        for service in agency["services"]:
            if service["code"] == "KK":
                service["name"] = evil
    site = write_site(tmp_path / "evil.yaml", raw)
    assert load(site).services["KK"].name == evil
    hall = start_hall(site, run_dispatcher, mqtt_client, web_app, tmp_path)
    ticket = hall.take("KK")
    open_page(browser, hall, ticket)
    shows(browser, "#service", evil)
    hall.press("loket3", "call_next")
    shows(browser, "#headline", "Silakan menuju Loket 3")
    assert text(browser, "#service") == evil
    assert css(browser, "#evil") == [] and css(browser, "b") == []
    assert "diretas" not in browser.title
    shot(browser, "nama-html")


def test_the_page_says_when_the_connection_is_lost_and_recovers(hall, browser, broker):
    ticket = hall.take("KK")
    open_page(browser, hall, ticket)
    shows(browser, "#ahead", "Tidak ada antrean di depan Anda")
    assert not visible(browser, "#banner")
    broker.kill()
    wait(browser, lambda d: visible(d, "#banner"), 15)
    assert text(browser, "#banner") == "Koneksi terputus. Data antrean mungkin belum terbaru."
    shot(browser, "terputus")
    broker.restart()
    wait(browser, lambda d: not visible(d, "#banner"), 30)
    hall.client.rec.wait_subscribed(2, timeout=15)
    hall.press("loket3", "call_next")
    shows(browser, "#headline", "Silakan menuju Loket 3", timeout=15)


MEETING = "https://meet.butonkab.go.id/dpmptsp-izin"


def test_a_remote_counter_sends_the_citizen_to_its_location_with_the_meeting_link(hall, browser):
    """Issue 14, item 7: daring1 serves IZIN by video call from DPMPTSP's office."""
    ticket = hall.take("IZIN")  # M-001
    open_page(browser, hall, ticket)
    shows(browser, "#ahead", "Tidak ada antrean di depan Anda")
    assert not visible(browser, "#meeting")  # only once such a counter calls
    hall.press("daring1", "call_next")
    shows(browser, "#headline", "Silakan menuju Bilik Layanan Daring")
    assert text(browser, "#note") == ("Nomor Anda dipanggil. Petugas melayani Anda melalui panggilan video dari "
                                      "kantornya. Bila diminta petugas, buka tautan panggilan video di bawah.")
    wait(browser, lambda d: visible(d, "#meeting"))
    link = browser.find_element("css selector", "#meeting")
    assert link.text == "Buka panggilan video" and link.get_attribute("href") == MEETING
    assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"
    status = json.loads(hall.app.request("GET", hall.path(ticket) + "/status")[2])
    assert (status["location"], status["meeting_url"], status["counter"]) == ("Bilik Layanan Daring", MEETING,
                                                                             "daring1")
    shot(browser, "dipanggil-daring")
    # Drawn by the server too (a page opened while called, before its script runs).
    page = hall.app.request("GET", hall.path(ticket))[2]
    assert f'href="{MEETING}"' in page and "Silakan menuju Bilik Layanan Daring" in page
    hall.press("daring1", "finish")
    shows(browser, "#headline", "Layanan Anda sudah selesai")
    assert not visible(browser, "#meeting")


def test_a_meeting_link_with_html_in_it_stays_one_link(tmp_path, run_dispatcher, mqtt_client, web_app, browser):  # noqa: F811
    url = 'https://meet.example.go.id/r?a=1&b="><b_id=evil>x</b>'
    raw = yaml.safe_load(allday_site(tmp_path).read_text(encoding="utf-8"))
    [daring] = [c for c in raw["counters"] if c["id"] == "daring1"]
    daring["meeting_url"] = url
    site = write_site(tmp_path / "evil.yaml", raw)
    assert load(site).counters["daring1"].meeting_url == url
    hall = start_hall(site, run_dispatcher, mqtt_client, web_app, tmp_path)
    ticket = hall.take("IZIN")
    hall.press("daring1", "call_next")
    open_page(browser, hall, ticket)
    shows(browser, "#headline", "Silakan menuju Bilik Layanan Daring")
    link = browser.find_element("css selector", "#meeting")
    assert browser.execute_script("return arguments[0].getAttribute('href')", link) == url
    assert css(browser, "#meeting-row b") == [] and css(browser, "b") == []
    page = hall.app.request("GET", hall.path(ticket))[2]
    assert "&#34;&gt;&lt;b_id=evil&gt;" in page and "<b_id" not in page
