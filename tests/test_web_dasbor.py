"""The MPP head's dashboard (/dasbor) in Debian's headless Chromium: a real broker, the
real dispatcher and the staff app on a free port; logins through the real /masuk form.

Screenshots (1366x768, 390x844 and the whole page) go to test-artifacts/ to be looked at.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import time
from pathlib import Path

import pytest
import yaml

from antrian import protocol
from antrian.queue.engine import Engine
from antrian.queue.events import DayStarted
from antrian.queue.stats import day_stats
from antrian.site import load
from conftest import BUTON, allday_site, midday_zone
from test_dispatcher import Client
from web_support import ARTIFACTS, WebProcess, browser, chrome, console_errors, css, screenshot, text, wait, web_app  # noqa: F401

SITE = "buton"
PASSWORD = "Rahasia-MPP-2026"
EVIL = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    """Buton open all day, with a quota of 1 on PBG so one ticket closes it, in a zone where it
    is midday now: the scripted day moves the dispatcher's clock 50 minutes back."""
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    for agency in raw["agencies"]:
        for service in agency["services"]:
            if service["code"] == "PBG":
                service["quota"] = 1
    return allday_site(tmp_path, agencies=raw["agencies"], site={**raw["site"], "timezone": midday_zone()})


@pytest.fixture
def users_file(tmp_path: Path, monkeypatch) -> Path:
    """kepala, admin1 and petugas1 (loket1); a cheap argon2 for the test (the real cost is
    the users module's own business)."""
    from argon2 import PasswordHasher

    from web import passwords, users

    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    path = tmp_path / "web-users"
    people = [users.StaffUser("kepala", "kepala"), users.StaffUser("admin1", "admin"),
              users.StaffUser("petugas1", "petugas", ("loket1",))]
    users.update(path, lambda known: {**known, **{u.name: users.Entry(u, users.hash_password(PASSWORD))
                                                 for u in people}}, create=True)
    return path


@pytest.fixture
def site(run_dispatcher, mqtt_client):
    dispatcher = run_dispatcher()
    client = _client(mqtt_client)
    client.dispatcher = dispatcher
    return client


def _client(mqtt_client) -> Client:
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    return client


def _ready(app) -> None:
    app.wait_broker()
    deadline = time.monotonic() + 10
    hub = app.web.hub
    while not (hub.catalog and hub.board):
        assert time.monotonic() < deadline, "the web app did not get the retained state"
        time.sleep(0.02)


@pytest.fixture
def staff(site, site_file, users_file, web_app):  # noqa: F811
    app = web_app(site_file, "web1", users=users_file)
    _ready(app)
    return app


def login(driver, url: str, name: str = "kepala", password: str = PASSWORD, page: str = "/dasbor") -> None:
    driver.get(url + page)
    wait(driver, lambda d: "/masuk" in d.current_url)
    css(driver, "#nama")[0].send_keys(name)
    css(driver, "#sandi")[0].send_keys(password)
    css(driver, "button[type=submit]")[0].click()


def open_dasbor(driver, url: str, name: str = "kepala") -> None:
    login(driver, url, name)
    wait(driver, lambda d: d.current_url.endswith("/dasbor") and css(d, "#sambungan.live")
         and css(d, '[data-service="KTP"]'), timeout=10)
    driver.get_log("browser")  # the login page's lines (its favicon) are not the dashboard's


def tile(driver, key: str) -> str:
    """A total's value as shown ("16", "8 menit"), without its "dari N"."""
    return (text(driver, f'[data-total="{key}"] .value') or "").split(" dari ")[0]


def status_of(device: str, role: str, online: bool = True, problems=(), **extra) -> dict:
    body = protocol.device_status(device, role, online, list(problems), "test", "2026-11-23T09:15:00+08:00")
    return {**body, **extra}


def no_script_ran(driver) -> None:
    assert driver.execute_script("return window.pwned === undefined")
    assert not css(driver, "main img, main script")


# -- who may look -------------------------------------------------------------------------


def test_only_the_head_and_admins_see_the_dashboard(staff, browser):
    status, headers, _ = staff.request("GET", "/dasbor")
    assert status == 303 and headers["location"] == "/masuk?lanjut=/dasbor"
    status, _, _ = staff.request("GET", "/dasbor/peristiwa", headers={"Accept": "text/event-stream"})
    assert status == 401
    login(browser, staff.url, "petugas1")
    wait(browser, lambda d: "/masuk" not in d.current_url)
    browser.get(staff.url + "/dasbor")
    assert text(browser, "body").strip() == "Akses ditolak."
    browser.delete_all_cookies()
    open_dasbor(browser, staff.url, "admin1")
    assert text(browser, ".user b") == "admin1"


def test_logout_ends_the_session_and_the_stream(staff, browser):
    open_dasbor(browser, staff.url)
    cookie = browser.get_cookie("antrian_sesi")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    css(browser, ".logout")[0].click()
    wait(browser, lambda d: d.current_url.endswith("/masuk"))
    status, _, _ = staff.request("GET", "/dasbor/peristiwa", headers={
        "Cookie": f"antrian_sesi={cookie['value']}", "Accept": "text/event-stream"})
    assert status == 401
    browser.get(staff.url + "/dasbor")
    assert "/masuk" in browser.current_url


# -- what it shows ----------------------------------------------------------------------------


def test_a_ticket_and_a_call_show_and_a_busy_morning_reads_well(staff, browser, site):
    open_dasbor(browser, staff.url)
    assert text(browser, '[data-service="KTP"] .stat.waiting b') == "0"
    reply = site.request("KTP", kiosk="kiosk1")
    assert reply["ok"] and reply["ticket"]["number"] == "A-001"
    wait(browser, lambda d: css(d, '#tiket [data-ticket="A-001"]')
         and text(d, '[data-service="KTP"] .stat.waiting b') == "1")
    assert "KTP Elektronik" in text(browser, '#tiket [data-ticket="A-001"]')
    assert site.command("loket1", "call_next")["ticket"]["number"] == "A-001"
    wait(browser, lambda d: text(d, '[data-counter="loket1"] .serving .ticket') == "A-001"
         and (text(d, "#panggilan li.latest") or "").startswith("A-001")
         and text(d, '[data-service="KTP"] .stat.waiting b') == "0")

    # A busier morning: more tickets, calls, a pause, a quota used up, devices reporting in.
    for service, priority in [("KTP", None), ("KTP", "lansia"), ("KK", None), ("KK", None), ("AKTA", None),
                              ("PBB", None), ("NIB", None), ("PBG", None), ("TAB", None), ("BAYAR", None),
                              ("BAYAR", "ibu_hamil"), ("KTP", None), ("KIA", None), ("KTP", None), ("KK", None)]:
        assert site.request(service, priority, kiosk="kiosk2")["ok"]
    assert not site.request("PBG", kiosk="kiosk2")["ok"]  # quota of 1: used up
    for counter in ("loket2", "loket3", "loket5", "loket6", "loket7"):
        assert site.command(counter, "call_next")["ok"]
    site.command("loket7", "recall")
    site.command("loket4", "pause", reason="Istirahat salat")
    for device, role, online, problems in [("kiosk1", "kiosk", True, ["rate_limited:kiosk/kiosk1"]),
                                           ("kiosk2", "kiosk", True, ["paper_out"]),
                                           ("board1", "display", True, []), ("board2", "display", False, None),
                                           ("panel1", "panel", True, [])]:
        body = status_of(device, role, online, problems or []) if problems is not None else \
            protocol.device_will(device, role)
        site.rec.publish_json(protocol.status(SITE, device), body, retain=True)
    wait(browser, lambda d: text(d, '[data-counter="loket4"] .pill') == "Istirahat"
         and text(d, '[data-service="PBG"] .pill') == "Tutup"
         and "Kertas habis" in (text(d, '[data-device="kiosk2"]') or "")
         and "Permintaan terlalu sering dari kiosk/kiosk1" in (text(d, '[data-device="kiosk1"]') or "")
         and css(d, '[data-device="board2"].offline')
         and text(d, '[data-counter="loket7"] .tag') == "ulang 1×")
    assert text(browser, '[data-counter="loket8"] .pill') == "Tutup"  # closed at start
    assert "Kuota hari ini sudah habis" in text(browser, '[data-service="PBG"]')
    assert text(browser, '#tiket [data-ticket="G-002"] .tag') == "prioritas"
    wait(browser, lambda d: tile(d, "issued") == "16" and tile(d, "waiting") == "10")
    page = text(browser, "body")
    for label in ("Antrean per instansi dan layanan", "Sisa kuota", "Sedang dilayani", "Panggilan terakhir",
                  "Tiket terakhir diambil", "Perangkat daring", "Disdukcapil", "Istirahat salat", "Tiket diambil",
                  "Selesai dilayani", "Rata-rata tunggu", "Tunggu terlama", "Tidak hadir", "Melebihi target"):
        assert label in page, label
    assert console_errors(browser) == []

    # Readable on a PC and on a phone: nothing sticks out of the page sideways.
    for name, width, height, mobile in [("dasbor-1366", 1366, 768, False), ("dasbor-390", 390, 844, True)]:
        screenshot(browser, ARTIFACTS / f"{name}.png", width, height, mobile)
        screenshot(browser, ARTIFACTS / f"{name}-full.png", width, None, mobile)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    try:
        browser.execute_script("return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
        assert browser.execute_script("return getComputedStyle(document.querySelector('.svc .stat .k')).display") \
            == "block"  # each number with its label on a phone
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_totals_of_a_scripted_day(run_dispatcher, mqtt_client, site_file, users_file, web_app,  # noqa: F811
                                      browser):
    """Issued, served, waiting, the current waits, no-shows and the share over target,
    with the dispatcher's clock moved so the tickets were issued minutes apart."""
    config = load(site_file)
    shift = [dt.timedelta(minutes=50)]
    run_dispatcher(clock=lambda: dt.datetime.now(config.tz) - shift[0])
    site = _client(mqtt_client)
    app = web_app(site_file, "web1", users=users_file)
    _ready(app)
    open_dasbor(browser, app.url)
    # KTP and KK (Disdukcapil, target 30 min), TAB (Bank Sultra, target 15 min).
    for minutes_ago, service in [(50, "KTP"), (45, "KTP"), (20, "KK"), (12, "TAB"), (5, "KTP")]:
        shift[0] = dt.timedelta(minutes=minutes_ago)
        assert site.request(service)["ok"]
    shift[0] = dt.timedelta(0)
    assert site.command("loket1", "call_next")["ticket"]["number"] == "A-001"  # waited 50 min: over
    assert site.command("loket1", "finish")["ok"]
    assert site.command("loket1", "call_next")["ticket"]["number"] == "A-002"  # 45 min: over
    assert site.command("loket1", "no_show")["ok"]
    assert site.command("loket3", "call_next")["ticket"]["number"] == "B-001"  # 20 min: within
    assert site.command("loket3", "finish")["ok"]
    # Left waiting: F-001 (12 min, over TAB's 15? not yet) and A-003 (5 min).
    wait(browser, lambda d: tile(d, "issued") == "5" and tile(d, "served") == "2" and tile(d, "no_show") == "1"
         and tile(d, "waiting") == "2", timeout=10)
    disdukcapil = '[data-agency="disdukcapil"] .over'
    wait(browser, lambda d: text(d, disdukcapil) == "Melebihi target: 67%")  # 2 of 3 first calls
    assert text(browser, '[data-agency="bank_sultra"] .over') == "Melebihi target: —"  # none judged yet
    assert text(browser, '[data-total="over"] .note') == "2 dari 3 tiket"
    assert text(browser, '[data-service="KTP"] .stat.issued b') == "3"
    assert text(browser, '[data-service="KTP"] .stat.served b') == "1"
    assert text(browser, '[data-service="KTP"] .stat.no-show b') == "1"
    if not app.web.hub.queues:  # the QueueList comes from the dispatcher's queues.py, when it publishes it
        for service, number, minutes in [("KTP", "A-003", 5), ("TAB", "F-001", 12)]:
            issued = (dt.datetime.now(config.tz) - dt.timedelta(minutes=minutes)).isoformat(timespec="seconds")
            site.rec.publish_json(protocol.queue_list(SITE, service), {
                "service": service, "waiting": [{"number": number, "priority": None, "issued_at": issued,
                                                 "booking": None, "transferred_from": None}],
                "recallable": [], "updated_at": issued}, retain=True)
    # 12 and 5 minutes: 8 on average (the page counts whole minutes), 12 the longest.
    wait(browser, lambda d: tile(d, "avg") == "8 menit" and tile(d, "longest") == "12 menit", timeout=10)
    assert "Menunggu: A-003" in text(browser, '[data-service="KTP"]')
    screenshot(browser, ARTIFACTS / "dasbor-totals-1366.png", 1366, 768)


def test_day_stats_count_first_calls_and_outcomes_now():
    config = load(BUTON)
    engine = Engine(config)
    t0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=config.tz)
    engine.apply(DayStarted(at=t0, day=t0.date()))

    def do(events):
        engine.apply_all(events.events)
        return events

    do(engine.issue("KTP", None, t0))
    do(engine.issue("KTP", None, t0 + dt.timedelta(minutes=1)))
    at = t0 + dt.timedelta(minutes=40)
    do(engine.command("loket1", "call_next", {}, at))                   # A-001 after 40 min: over 30
    do(engine.command("loket1", "no_show", {}, at))
    do(engine.command("loket1", "call_number", {"number": "A-001"}, at + dt.timedelta(minutes=1)))  # back
    do(engine.command("loket1", "transfer", {"to_service": "KK"}, at + dt.timedelta(minutes=2)))
    do(engine.command("loket3", "call_next", {}, at + dt.timedelta(minutes=3)))  # A-001 in KK
    do(engine.command("loket3", "finish", {}, at + dt.timedelta(minutes=4)))
    do(engine.command("loket2", "call_next", {}, at + dt.timedelta(minutes=5)))  # A-002, its first call
    do(engine.command("loket2", "finish", {}, at + dt.timedelta(minutes=6)))
    stats = day_stats(engine, at)
    assert stats["business_day"] == "2026-11-23"
    assert stats["services"]["KTP"] == {"issued": 2, "called": 2, "over_target": 2, "served": 1, "no_show": 0}
    assert stats["services"]["KK"] == {"issued": 0, "called": 0, "over_target": 0, "served": 1, "no_show": 0}


# -- what it must survive -----------------------------------------------------------------------


def test_html_in_every_mqtt_field_shows_as_text(staff, browser, site):
    open_dasbor(browser, staff.url)
    tz = load(staff.web.config.source).tz
    now = dt.datetime.now(tz).isoformat(timespec="seconds")
    catalog = json.loads(json.dumps(staff.web.hub.catalog))
    ktp = catalog["agencies"][0]["services"][0]
    ktp.update(name=EVIL + " (perekaman)", prefix=EVIL, closed_reason=EVIL, open=False)
    catalog["agencies"][0].update(name=EVIL, short_name=EVIL, color='red;background:url(x)')
    catalog["priority_groups"][0]["name"] = EVIL
    board = json.loads(json.dumps(staff.web.hub.board))
    board["counters"][0].update(name=EVIL, serving=EVIL, service_name=EVIL, status=EVIL)
    board["recent"] = [{"seq": 1, "number": EVIL, "service": "KTP", "service_name": EVIL, "counter": "loket1",
                        "counter_name": EVIL, "recall": True, "at": EVIL}]
    board["business_day"] = EVIL
    pub = site.rec.publish_json
    pub(protocol.catalog(SITE), catalog, retain=True)
    pub(protocol.board(SITE), board, retain=True)
    pub(protocol.counter_state(SITE, "loket2"), {"counter": "loket2", "name": EVIL, "status": "paused",
                                                  "reason": EVIL, "serving": {"number": EVIL, "service_name": EVIL},
                                                  "recalls": 2, "waiting": 3, "updated_at": now}, retain=True)
    pub(protocol.status(SITE, "kiosk1"), status_of("kiosk1", EVIL, problems=[EVIL, "paper_out"]), retain=True)
    pub(protocol.stats(SITE), {"business_day": EVIL, "services": {"KTP": {"issued": EVIL}}}, retain=True)
    pub(protocol.queue_list(SITE, "KK"), {"service": "KK", "waiting": [{"number": EVIL, "issued_at": EVIL}],
                                           "recallable": [], "updated_at": now}, retain=True)
    pub(protocol.kiosk_reply(SITE, "kiosk1"), {"id": "x", "ok": True, "ticket": {
        "number": EVIL, "service": "KTP", "service_name": EVIL, "agency": "disdukcapil", "agency_name": EVIL,
        "priority": "lansia", "issued_at": EVIL, "business_day": None}})
    wait(browser, lambda d: EVIL in (text(d, '[data-service="KTP"] .svc-name') or "")
         and EVIL in (text(d, '[data-device="kiosk1"] .problem') or "")
         and EVIL in (text(d, '[data-counter="loket2"]') or "")
         and EVIL in (text(d, "#tiket") or "") and EVIL in (text(d, "#panggilan") or "")
         and "Menunggu: " + EVIL in (text(d, '[data-service="KK"]') or ""), timeout=10)
    for selector in ('[data-service="KTP"] .prefix', '[data-service="KTP"] .reason', '[data-agency="disdukcapil"] h3',
                     '[data-counter="loket1"] .svc-name', '[data-counter="loket2"] .ticket',
                     '[data-counter="loket2"] .reason'):
        assert EVIL in text(browser, selector), selector
    assert "Kertas habis" in text(browser, '[data-device="kiosk1"] .problem')
    no_script_ran(browser)
    assert console_errors(browser) == []  # an inline handler would have been refused by the CSP, and logged
    screenshot(browser, ARTIFACTS / "dasbor-html-payloads.png", 1366, None)


def test_payloads_of_the_wrong_shape_do_not_break_the_page(staff, browser, site):
    open_dasbor(browser, staff.url)
    pub = site.rec.publish_json
    # Today's old dashboard blanks its device list on this one.
    pub(protocol.status(SITE, "kiosk2"), status_of("kiosk2", "kiosk", problems=[]) | {"problems": 5}, retain=True)
    wait(browser, lambda d: text(d, '[data-device="kiosk2"] .problem') == "5")
    assert css(browser, '[data-device="kiosk1"]') and css(browser, '[data-device="board1"]')
    odd = [
        (protocol.status(SITE, "board1"), {"device": ["x"], "online": "ya", "problems": {"a": [1, 2]}}),
        (protocol.status(SITE, "panel1"), {"online": True, "problems": [None, 7, {"k": "v"}]}),
        (protocol.counter_state(SITE, "loket1"), {"counter": 5, "status": ["open"], "serving": "A-9", "waiting": "x",
                                                  "recalls": "y", "reason": {"r": 1}}),
        (protocol.stats(SITE), {"business_day": 5, "services": [1, 2]}),
        (protocol.queue_list(SITE, "KTP"), {"waiting": 9}),
        (protocol.queue_list(SITE, "KK"), {"waiting": [5, "x", None, {"issued_at": 7}]}),
        (protocol.kiosk_reply(SITE, "kiosk1"), {"ok": True, "ticket": {"number": "Z-1", "priority": ["x"]}}),
    ]
    for topic, body in odd:
        pub(topic, body, retain="reply" not in topic)
    wait(browser, lambda d: text(d, '[data-device="panel1"] .problem') == '7, {"k":"v"}'
         and css(d, '#tiket [data-ticket="Z-1"]'))
    assert text(browser, '[data-device="kiosk2"] .problem') == "5"
    assert "luring" in text(browser, '[data-device="board1"]')  # online is not true
    assert css(browser, '[data-service="KTP"]') and css(browser, '[data-counter="loket2"]')
    # The board and the catalog of the wrong shape: the parts say so, the rest stays.
    pub(protocol.board(SITE), {"counters": 5, "recent": "abc", "waiting": [1, 2], "business_day": {"d": 1}},
        retain=True)
    pub(protocol.catalog(SITE), {"agencies": {"a": 1}, "counters": "x", "priority_groups": 3}, retain=True)
    wait(browser, lambda d: not css(d, '[data-service="KTP"]') and text(d, '[data-total="waiting"] .value') == "0")
    assert css(browser, '[data-device="kiosk2"]') and text(browser, "#sambungan") == "Langsung"
    assert console_errors(browser) == []
    # Good payloads again: the page is whole.
    site.dispatcher.inbox.put(("__republish__", b"", 0, 0))
    wait(browser, lambda d: css(d, '[data-service="KTP"]') and css(d, '[data-counter="loket1"] .pill'), timeout=10)
    assert site.request("KK", kiosk="kiosk1")["ok"]
    wait(browser, lambda d: css(d, '#tiket [data-ticket="B-001"]'))


def test_only_the_site_files_devices_are_counted(staff, browser, site):
    open_dasbor(browser, staff.url)
    devices = len(staff.web.config.devices)
    wait(browser, lambda d: text(d, '[data-total="devices"] small') == f" dari {devices}")
    before = tile(browser, "devices")
    for stranger in ("stranger", "kiosk99"):
        site.rec.publish_json(protocol.status(SITE, stranger), status_of(stranger, "kiosk", problems=["paper_out"]),
                              retain=True)
    site.rec.publish_json(protocol.counter_state(SITE, "loket99"), {"counter": "loket99", "name": "Loket 99",
                                                                     "status": "open"}, retain=True)
    site.rec.publish_json(protocol.status(SITE, "kiosk1"), status_of("kiosk1", "kiosk"), retain=True)
    wait(browser, lambda d: "daring" in (text(d, '[data-device="kiosk1"] .role') or ""))
    assert not css(browser, '[data-device="stranger"], [data-device="kiosk99"], [data-counter="loket99"]')
    assert text(browser, '[data-total="devices"] small') == f" dari {devices}"
    assert int(tile(browser, "devices")) == int(before) + 1  # kiosk1 came online, the strangers count for nothing
    assert "stranger" not in json.dumps(_first_message(staff))


def _first_message(app) -> dict:
    """The snapshot a new stream starts with, read over plain HTTP with the kepala's cookie."""
    cookie = _session(app)
    conn = http.client.HTTPConnection(*app.address, timeout=5)
    conn.request("GET", "/dasbor/peristiwa", headers={"Cookie": cookie, "Accept": "text/event-stream"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/event-stream")
    try:
        while True:
            line = resp.fp.readline().decode("utf-8").rstrip("\r\n")
            if line.startswith("data: "):
                return json.loads(line[6:])
    finally:
        conn.close()


def _session(app) -> str:
    import re

    status, headers, body = app.request("GET", "/masuk")
    form_cookie = headers["set-cookie"].split(";")[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    status, headers, _ = app.request("POST", "/masuk", f"csrf={csrf}&nama=kepala&sandi={PASSWORD}", {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": form_cookie, "Origin": app.url})
    assert status == 303, status
    return headers["set-cookie"].split(";")[0]


def test_the_page_says_when_the_broker_is_gone_and_carries_on_after_it(staff, browser, broker, site):
    open_dasbor(browser, staff.url)
    assert not css(browser, "#banner.shown")
    broker.kill()  # as a power cut of the broker's Pi would
    wait(browser, lambda d: "broker antrean terputus" in (text(d, "#banner.shown") or ""), timeout=10)
    assert text(browser, "#sambungan") == "Broker terputus"
    screenshot(browser, ARTIFACTS / "dasbor-broker-lost-390.png", 390, 844, True)
    broker.start()
    wait(browser, lambda d: css(d, "#sambungan.live") and not css(d, "#banner.shown"), timeout=15)
    assert site.rec.conn.wait_connected(10)
    assert site.request("KK", kiosk="kiosk1")["ticket"]["number"] == "B-001"
    wait(browser, lambda d: css(d, '#tiket [data-ticket="B-001"]'), timeout=5)


def test_the_page_says_when_its_stream_is_gone_and_comes_back_by_itself(site, site_file, users_file, broker, browser):
    web = WebProcess(site_file, "web1", broker, users=users_file)
    app = web.start()
    try:
        open_dasbor(browser, app.url)
        web.stop()
        wait(browser, lambda d: text(d, "#banner.shown") == "Sambungan ke server dasbor terputus. Menyambung ulang…"
             and text(d, "#sambungan") == "Terputus", timeout=10)
        web.start()
        wait(browser, lambda d: css(d, "#sambungan.live") and not css(d, "#banner.shown"), timeout=20)
        assert site.request("KTP", kiosk="kiosk1")["ok"]
        wait(browser, lambda d: css(d, '#tiket [data-ticket="A-001"]'), timeout=5)
    finally:
        web.stop()


def test_the_page_says_in_words_that_the_dispatchers_clock_is_behind(staff, browser, site):
    open_dasbor(browser, staff.url)
    wait(browser, lambda d: css(d, '[data-device="dispatcher"].online'))
    status = protocol.status(SITE, "dispatcher")
    behind = status_of("dispatcher", "dispatcher", problems=["clock_behind", "database_error"])
    site.rec.publish_json(status, behind, retain=True).wait_for_publish(5)
    words = "Jam server tertinggal — hubungi teknisi"
    wait(browser, lambda d: text(d, "#banner.shown") == words)
    assert text(browser, '[data-device="dispatcher"] .problem') == f"{words}, Basis data bermasalah"
    browser.refresh()  # a page that comes later gets it in its snapshot
    wait(browser, lambda d: text(d, "#banner.shown") == words)
    site.rec.publish_json(status, {**behind, "problems": []}, retain=True).wait_for_publish(5)
    wait(browser, lambda d: not css(d, "#banner.shown"))
    site.rec.publish_json(status, protocol.device_will("dispatcher", "dispatcher"), retain=True)
    wait(browser, lambda d: "dispatcher) luring" in (text(d, "#banner.shown") or ""))


def test_the_stream_starts_with_a_snapshot_of_the_site(staff, site):
    snap = _first_message(staff)
    assert snap["broker"] is True and snap["catalog"]["site"]["id"] == SITE and snap["board"]["business_day"]
    assert snap["dispatcher"]["online"] is True and set(snap["counters"]) >= {"loket1", "loket8"}
    assert [d["device"] for d in snap["devices"]] == list(staff.web.config.devices)
    assert snap["stats"]["services"]["KTP"] == {"issued": 0, "called": 0, "over_target": 0, "served": 0,
                                                "no_show": 0}
    assert dt.datetime.fromisoformat(snap["now"]).utcoffset() is not None


# -- the old command -------------------------------------------------------------------------------


def test_antrian_dashboard_runs_the_staff_app_of_the_site_file(site_file, users_file, broker, tmp_path):
    import signal
    import subprocess
    import sys

    from antrian.adapters.mosquitto import free_port
    from conftest import ROOT, write_site

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "antrian.cli", "dashboard", "--config", str(site_file), "--users",
                             str(users_file), "--broker", f"{broker.host}:{broker.port}", "--listen",
                             f"127.0.0.1:{port}"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/dasbor")
                resp = conn.getresponse()
                break
            except OSError:
                assert time.monotonic() < deadline, "antrian dashboard did not answer"
                time.sleep(0.1)
        assert resp.status == 303 and resp.getheader("Location") == "/masuk?lanjut=/dasbor"
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    # A site file without a staff app: one line that says what to do.
    raw = yaml.safe_load(site_file.read_text(encoding="utf-8"))
    raw["devices"] = [d for d in raw["devices"] if d.get("role") != "web" or d.get("public")]
    bare = write_site(tmp_path / "bare.yaml", raw)
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "dashboard", "--config", str(bare)], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == f"antrian dashboard: {bare} has no staff web app: add a device with role: web " \
                                    "(examples/buton.yaml, web1) and run antrian web --device ID"


def test_the_hub_ignores_junk_and_follows_deletions(site_file):
    from web.hub import Hub

    hub = Hub(load(site_file), "web1")
    hub.handle(protocol.board(SITE), b"{not json")
    hub.handle(protocol.board(SITE), b"[1, 2]")
    hub.handle("antrian/other-site/board", b"{}")
    assert hub.board is None
    hub.handle(protocol.stats(SITE), json.dumps({"business_day": "2026-11-23", "services": {}}).encode())
    assert hub.stats["business_day"] == "2026-11-23"
    hub.handle(protocol.status(SITE, "kiosk1"), json.dumps({"device": "kiosk1", "online": True}).encode())
    assert hub.statuses["kiosk1"]["online"] is True
    hub.handle(protocol.status(SITE, "kiosk1"), b"")  # a retained message cleared
    assert "kiosk1" not in hub.statuses
    refused = {"id": "1", "ok": False, "error": {"code": "quota_exhausted", "message": "Kuota habis"}}
    hub.handle(protocol.kiosk_reply(SITE, "kiosk1"), json.dumps(refused).encode())
    ticket = {"id": "2", "ok": True, "ticket": {"number": "A-001", "business_day": "2026-11-23"}}
    hub.handle(protocol.kiosk_reply(SITE, "kiosk1"), json.dumps(ticket).encode())
    hub.handle(protocol.kiosk_reply(SITE, "kiosk1"), json.dumps(ticket).encode())  # the exactly-once repeat
    assert [t["number"] for t in hub.tickets] == ["A-001"]
    hub.close()
