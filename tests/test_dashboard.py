"""The MPP head's live dashboard in a real headless Chromium (Selenium + Debian's chromedriver):
a real broker, the real dispatcher and the dashboard server on a free port.

The screenshot is kept in test-artifacts/dashboard.png (git-ignored) for a look.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
import yaml

from antrian.dashboard import users as users_module
from antrian import protocol
from antrian.adapters.mosquitto import free_port
from antrian.site import load
from antrian.dashboard.server import (Dashboard, DashboardError, Hub, Users, hash_password, remove_user, set_user,
                               verify_password)
from conftest import BUTON, ROOT, allday_site
from test_dispatcher import Client

SITE = "buton"
USER, PASSWORD = "kepala", "Rahasia-MPP-2026"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    """Buton open all day, with a quota of 1 on PBG so one ticket closes it."""
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    for agency in raw["agencies"]:
        for service in agency["services"]:
            if service["code"] == "PBG":
                service["quota"] = 1
    return allday_site(tmp_path, agencies=raw["agencies"])


@pytest.fixture
def users_file(tmp_path: Path, monkeypatch) -> Path:
    # A cheaper scrypt for the servers of these tests (~2 ms instead of ~60 ms a hash);
    # the real cost is checked in test_passwords_are_salted_scrypt_and_checked_in_constant_time.
    monkeypatch.setattr(users_module, "_SCRYPT", {"n": 2**10, "r": 8, "p": 1})
    path = tmp_path / "dasbor-users"
    set_user(path, USER, PASSWORD)
    return path


@pytest.fixture
def site(run_dispatcher, mqtt_client):
    run_dispatcher()
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    return client


@pytest.fixture
def dashboard(site, broker, site_file, users_file):
    dash = Dashboard(load(site_file), users_file, ("127.0.0.1", 0)).start(broker.host, broker.port)
    deadline = time.monotonic() + 5
    while not (dash.hub.broker_connected and dash.hub.catalog and dash.hub.board):
        assert time.monotonic() < deadline, "the dashboard did not get the retained state"
        time.sleep(0.01)
    try:
        yield dash
    finally:
        dash.close()


@pytest.fixture(scope="module")
def chrome():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="antrian-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1600,1000", f"--user-data-dir={profile}",
                f"--disk-cache-dir={profile}/cache"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chrome):
    chrome.delete_all_cookies()  # cookies ignore the port: each test starts logged out
    chrome.set_window_size(1600, 1000)
    return chrome


def wait(driver, condition, timeout=5.0, poll=0.01):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=poll).until(condition)


def css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def text(driver, selector):
    """The text of the first match, read in one step in the page (the page redraws
    whole sections, so an element found in one call may be gone by the next)."""
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null", selector)


def screenshot(driver, path, width=1600):
    """The whole page at *width* CSS pixels, however tall it is."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    try:
        height = driver.execute_script("return document.documentElement.scrollHeight")  # after the reflow
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        driver.execute_script("return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def login(driver, url, password=PASSWORD):
    driver.get(url + "/")
    wait(driver, lambda d: d.current_url.endswith("/masuk"))
    css(driver, "#nama")[0].send_keys(USER)
    css(driver, "#sandi")[0].send_keys(password)
    css(driver, "button[type=submit]")[0].click()


def request(dash, method, path, body=None, headers=None):
    host, port = dash.address
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def form(**fields):
    return urllib.parse.urlencode(fields), {"Content-Type": "application/x-www-form-urlencoded"}


def session_cookie(dash):
    body, headers = form(nama=USER, sandi=PASSWORD)
    status, got, _ = request(dash, "POST", "/masuk", body, headers)
    assert status == 303 and got["Location"] == "/"
    return got["Set-Cookie"].split(";")[0]


# -- the browser ---------------------------------------------------------------------------


def test_login_refuses_a_wrong_password(dashboard, browser):
    login(browser, dashboard.url, password="salah-sekali")
    wait(browser, lambda d: css(d, ".error"))
    assert text(browser, ".error") == "Nama pengguna atau kata sandi salah."
    assert browser.current_url.endswith("/masuk")
    assert css(browser, "#nama")[0].get_attribute("value") == USER  # the name stays, the password does not
    assert css(browser, "#sandi")[0].get_attribute("value") == ""
    assert browser.get_cookies() == []
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot(browser, ARTIFACTS / "dashboard-login.png", width=1000)
    browser.get(dashboard.url + "/")
    assert browser.current_url.endswith("/masuk")  # still no way in


def test_a_ticket_shows_within_a_second_and_a_call_shows_on_the_counter(dashboard, browser, site):
    login(browser, dashboard.url)
    wait(browser, lambda d: css(d, "#sambungan.live") and css(d, '[data-service="KTP"]'))
    assert text(browser, ".user b") == USER
    assert text(browser, '[data-service="KTP"] .waiting') == "0"
    # The browser notes the moment each ticket number enters the page.
    browser.execute_script("""
        window.seenAt = {};
        new MutationObserver(() => {
          for (const el of document.querySelectorAll('[data-ticket]'))
            if (!(el.dataset.ticket in window.seenAt)) window.seenAt[el.dataset.ticket] = Date.now();
        }).observe(document.body, {subtree: true, childList: true});""")

    sent = time.time()
    reply = site.request("KTP", kiosk="kiosk1")
    replied = time.time()
    assert reply["ok"] and reply["ticket"]["number"] == "A-001"
    wait(browser, lambda d: css(d, '#tiket [data-ticket="A-001"]'), timeout=2)
    shown = browser.execute_script("return window.seenAt['A-001']") / 1000
    print(f"\nticket: request->reply {1000 * (replied - sent):.0f} ms, reply->page {1000 * (shown - replied):.0f} ms")
    assert shown - replied <= 1.0
    assert shown - sent <= 1.0
    wait(browser, lambda d: text(d, '[data-service="KTP"] .waiting') == "1")
    assert "KTP Elektronik" in text(browser, '#tiket [data-ticket="A-001"]')

    start = time.time()
    assert site.command("loket1", "call_next")["ticket"]["number"] == "A-001"
    wait(browser, lambda d: text(d, '[data-counter="loket1"] .serving .ticket') == "A-001", timeout=2)
    called = time.time() - start
    print(f"call: command->counter on the page {1000 * called:.0f} ms")
    assert called <= 1.0
    # The board (recent calls, waiting counts) comes right after the counter's state.
    wait(browser, lambda d: (text(d, "#panggilan li.latest") or "").startswith("A-001")
         and text(d, '[data-service="KTP"] .waiting') == "0")

    # A busier morning for the screenshot: more tickets, calls, a pause, a quota used up,
    # devices reporting in (the test speaks for them, as any MQTT client may).
    for service, priority in [("KTP", None), ("KTP", "lansia"), ("KK", None), ("KK", None), ("AKTA", None),
                              ("PBB", None), ("NIB", None), ("PBG", None), ("TAB", None), ("BAYAR", None),
                              ("BAYAR", "ibu_hamil"), ("KTP", None), ("KIA", None)]:
        assert site.request(service, priority, kiosk="kiosk2")["ok"]
    assert not site.request("PBG", kiosk="kiosk2")["ok"]  # quota of 1: used up
    for counter in ("loket2", "loket3", "loket5", "loket6", "loket7"):
        assert site.command(counter, "call_next")["ok"]
    site.command("loket7", "recall")
    site.command("loket4", "pause", reason="Istirahat salat")
    now = "2026-11-23T09:15:00+08:00"
    # A problem that names a device after a colon (the dispatcher's limits) is said in words too.
    for device, role, online, problems in [("kiosk1", "kiosk", True, ["rate_limited:kiosk/kiosk1"]),
                                           ("kiosk2", "kiosk", True, ["paper_out"]),
                                           ("board1", "display", True, []), ("board2", "display", False, None),
                                           ("panel1", "panel", True, [])]:
        status = {"device": device, "role": role, "online": online}
        if problems is not None:
            status.update(problems=problems, version="test", at=now)
        site.rec.publish_json(protocol.status(SITE, device), status, retain=True)
    wait(browser, lambda d: text(d, '[data-counter="loket4"] .pill') == "Istirahat"
         and text(d, '[data-service="PBG"] .pill') == "Tutup"
         and "Kertas habis" in (text(d, '[data-device="kiosk2"]') or "")
         and "Permintaan terlalu sering dari kiosk/kiosk1" in (text(d, '[data-device="kiosk1"]') or "")
         and css(d, '[data-device="board2"].offline'))
    assert text(browser, '[data-counter="loket8"] .pill') == "Tutup"  # closed at start
    assert "Kuota hari ini sudah habis" in text(browser, '[data-service="PBG"]')
    assert text(browser, '#tiket [data-ticket="G-002"] .tag') == "prioritas"
    assert text(browser, '[data-counter="loket7"] .tag') == "ulang 1×"

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot(browser, ARTIFACTS / "dashboard.png")
    screenshot(browser, ARTIFACTS / "dashboard-1280.png", width=1280)  # a laptop
    page = text(browser, "body")
    for label in ("Antrean per instansi dan layanan", "Sisa kuota", "Sedang dilayani", "Panggilan terakhir",
                  "Tiket terakhir diambil", "Perangkat daring", "Disdukcapil", "Istirahat salat"):
        assert label in page


def test_logout_ends_the_session_and_the_stream(dashboard, browser):
    login(browser, dashboard.url)
    wait(browser, lambda d: css(d, "#sambungan.live"))
    cookie = browser.get_cookie("antrian_sesi")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    css(browser, ".logout")[0].click()
    wait(browser, lambda d: d.current_url.endswith("/masuk"))
    status, _, _ = request(dashboard, "GET", "/peristiwa", headers={"Cookie": f"antrian_sesi={cookie['value']}"})
    assert status == 401
    browser.get(dashboard.url + "/")
    assert browser.current_url.endswith("/masuk")


def test_the_page_says_when_the_broker_is_gone_and_carries_on_after_it(dashboard, browser, broker, site):
    login(browser, dashboard.url)
    wait(browser, lambda d: css(d, "#sambungan.live") and css(d, '[data-service="KTP"]'))
    assert not css(browser, "#banner:not([hidden])")
    broker.kill()  # as a power cut of the broker's Pi would
    wait(browser, lambda d: "broker antrean terputus" in (text(d, "#banner:not([hidden])") or ""), timeout=3)
    assert text(browser, "#sambungan") == "Broker terputus"
    broker.start()
    wait(browser, lambda d: css(d, "#sambungan.live") and css(d, "#banner[hidden]"), timeout=10)
    assert site.rec.conn.wait_connected(10)
    assert site.request("KK", kiosk="kiosk1")["ticket"]["number"] == "B-001"
    wait(browser, lambda d: css(d, '#tiket [data-ticket="B-001"]'), timeout=2)


def test_the_page_says_in_words_that_the_dispatchers_clock_is_behind(dashboard, browser, site):
    login(browser, dashboard.url)
    wait(browser, lambda d: css(d, "#sambungan.live") and css(d, '[data-device="dispatcher"]'))
    assert not css(browser, "#banner:not([hidden])")
    # The dispatcher's retained status, as it publishes it when its clock is behind the store.
    status = protocol.status(SITE, "dispatcher")
    behind = protocol.device_status("dispatcher", "dispatcher", True, ["clock_behind", "database_error"], "test",
                                    "2026-11-23T09:00:00+08:00")
    site.rec.publish_json(status, behind, retain=True).wait_for_publish(5)
    words = "Jam server tertinggal — hubungi teknisi"
    wait(browser, lambda d: text(d, "#banner:not([hidden])") == words)
    assert text(browser, '[data-device="dispatcher"] .problem') == f"{words}, Basis data bermasalah"
    assert dashboard.hub.snapshot()["dispatcher"] == {"online": True, "problems": ["clock_behind", "database_error"],
                                                      "notice": words}
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot(browser, ARTIFACTS / "dashboard-clock-behind.png")
    # A browser that comes later gets it in its snapshot.
    browser.refresh()
    wait(browser, lambda d: text(d, "#banner:not([hidden])") == words)
    site.rec.publish_json(status, {**behind, "problems": []}, retain=True).wait_for_publish(5)
    wait(browser, lambda d: css(d, "#banner[hidden]"))


# -- HTTP without a browser -----------------------------------------------------------------


def test_nothing_but_the_login_form_without_a_session(dashboard):
    status, headers, body = request(dashboard, "GET", "/peristiwa")
    assert status == 401 and "masuk" in body
    status, headers, _ = request(dashboard, "GET", "/peristiwa", headers={"Cookie": "antrian_sesi=forged"})
    assert status == 401
    status, headers, _ = request(dashboard, "GET", "/")
    assert status == 303 and headers["Location"] == "/masuk"
    status, headers, body = request(dashboard, "GET", "/masuk")
    assert status == 200 and "Kata sandi" in body and "Content-Security-Policy" in headers


def test_the_event_stream_starts_with_a_snapshot_and_then_updates(dashboard, site):
    host, port = dashboard.address
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("GET", "/peristiwa", headers={"Cookie": session_cookie(dashboard)})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/event-stream")

    def next_event():
        name = data = None
        while True:
            line = resp.fp.readline().decode("utf-8").rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and name:
                return name, data

    name, snap = next_event()
    assert name == "snapshot" and snap["broker"] is True
    assert snap["catalog"]["site"]["id"] == SITE and snap["board"]["business_day"]
    assert snap["status"]["dispatcher"]["online"] is True and set(snap["counters"]) >= {"loket1", "loket8"}
    site.request("KK", kiosk="kiosk1")
    kinds = []
    # The dispatcher publishes the retained board before the kiosk's reply (a device that
    # has its reply finds the state it speaks of): both reach the stream, in that order.
    while "ticket" not in kinds:
        name, update = next_event()
        assert name == "update"
        kinds.append(update["kind"])
        if update["kind"] == "ticket":
            assert update["data"]["number"] == "B-001" and update["data"]["kiosk"] == "kiosk1"
    assert kinds.index("board") < kinds.index("ticket")
    conn.close()


def test_bad_requests_get_clear_answers_and_the_server_lives_on(dashboard):
    host, port = dashboard.address
    assert request(dashboard, "GET", "/tidak-ada")[0] == 404
    assert request(dashboard, "DELETE", "/")[0] == 501
    assert request(dashboard, "GET", "/keluar")[0] == 405
    assert request(dashboard, "POST", "/masuk", "x" * 10_000, {"Content-Type": "text/plain"})[0] == 413
    assert request(dashboard, "POST", "/masuk", b"nama=\xff\xfe", {"Content-Length": "7"})[0] == 400
    body, headers = form(nama=USER, sandi="")
    assert request(dashboard, "POST", "/masuk", body, headers)[0] == 400
    junks = (b"\x00\x01\x02 garbage\r\n\r\n", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", b"GET / HTTP/1.1\r\n")
    for junk in junks:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(junk)
            sock.shutdown(socket.SHUT_WR)
            try:
                sock.recv(1024)
            except ConnectionResetError:
                pass
    assert request(dashboard, "GET", "/masuk")[0] == 200


def test_too_many_wrong_passwords_are_refused_for_a_minute(dashboard):
    body, headers = form(nama=USER, sandi="bukan-ini-ya")
    assert [request(dashboard, "POST", "/masuk", body, headers)[0] for _ in range(5)] == [401] * 5
    status, _, text = request(dashboard, "POST", "/masuk", *form(nama=USER, sandi=PASSWORD))
    assert status == 429 and "Terlalu banyak percobaan" in text


def test_a_user_added_while_running_can_log_in(dashboard, users_file):
    set_user(users_file, "wakil", "Wakil-Kepala-1")
    status, headers, _ = request(dashboard, "POST", "/masuk", *form(nama="wakil", sandi="Wakil-Kepala-1"))
    assert status == 303 and headers["Set-Cookie"].startswith("antrian_sesi=")


# -- parts ----------------------------------------------------------------------------------------


def test_passwords_are_salted_scrypt_and_checked_in_constant_time(tmp_path):
    a, b = hash_password("kata-sandi-1"), hash_password("kata-sandi-1")
    assert a != b and a.startswith("scrypt$16384$8$1$")
    assert verify_password("kata-sandi-1", a) and not verify_password("kata-sandi-2", a)
    assert not verify_password("x", "scrypt$bad") and not verify_password("x", "md5$abc")
    path = tmp_path / "users"
    assert set_user(path, "kepala", "kata-sandi-1") is True
    assert set_user(path, "kepala", "kata-sandi-2") is False
    assert oct(path.stat().st_mode & 0o777) == "0o600" and "kata-sandi" not in path.read_text()
    users = Users(path)
    assert users.check("kepala", "kata-sandi-2") and not users.check("kepala", "kata-sandi-1")
    assert not users.check("orang-lain", "kata-sandi-2")
    with pytest.raises(DashboardError, match="at least 8"):
        set_user(path, "kepala", "pendek")
    with pytest.raises(DashboardError, match="user name"):
        set_user(path, "kepala mpp", "cukup-panjang")
    remove_user(path, "kepala")
    with pytest.raises(DashboardError, match="has no users"):
        Users(path)
    with pytest.raises(DashboardError, match="does not exist"):
        Users(tmp_path / "nope")


def test_the_hub_ignores_junk_and_follows_deletions(site_file):
    hub = Hub(load(site_file))
    hub.handle(protocol.board(SITE), b"{not json")
    hub.handle(protocol.board(SITE), b"[1, 2]")
    hub.handle("antrian/other-site/board", b"{}")
    assert hub.board is None
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
    hub.handle(protocol.board(SITE), json.dumps({"business_day": "2026-11-23"}).encode())
    hub.handle(protocol.board(SITE), json.dumps({"business_day": "2026-11-24"}).encode())
    assert list(hub.tickets) == []  # a new day


# -- the command line ---------------------------------------------------------------------------


def antrian(*args, **kw):
    return subprocess.run([sys.executable, "-m", "antrian.cli", *args], capture_output=True, text=True,
                          timeout=30, cwd=ROOT, **kw)


def test_cli_adds_a_user_from_stdin_and_refuses_a_missing_users_file(tmp_path):
    path = tmp_path / "users"
    result = antrian("dashboard-user", str(path), "kepala", input="Rahasia-MPP-2026\n")
    assert result.returncode == 0 and "added kepala" in result.stdout
    assert Users(path).check("kepala", "Rahasia-MPP-2026")
    result = antrian("dashboard-user", str(path), "kepala", input="")
    assert result.returncode == 1 and "no password on stdin" in result.stderr
    result = antrian("dashboard", "--config", str(BUTON), "--users", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("antrian dashboard: users file") and "Traceback" not in result.stderr


def test_cli_serves_the_dashboard_until_ctrl_c(tmp_path, broker, users_file):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "antrian.cli", "dashboard", "--config", str(BUTON),
                             "--users", str(users_file), "--broker", broker.address, "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, proc.stderr.read() if proc.poll() is not None else line
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/masuk")
        assert conn.getresponse().status == 200
        conn.close()
        busy = antrian("dashboard", "--config", str(BUTON), "--users", str(users_file), "--broker", broker.address,
                       "--listen", f"127.0.0.1:{port}")
        assert busy.returncode == 1 and "cannot listen on 127.0.0.1" in busy.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
