"""A browser board is seen on the dashboard (web/papan_hadir.py): the staff app counts the
pages of /papan/board3 and says so in its own retained status (``boards``), which the
dashboard turns into board3's row. Real parts: Mosquitto, the dispatcher, the staff app
(in this process, or as its own `antrian web` process to be killed), headless Chromium
as the TV and as the head's dashboard.
"""

from __future__ import annotations

import http.client
import signal
import time

import pytest
import yaml

from antrian import protocol
from antrian.slow import scaled
from conftest import allday_site, write_site
from test_dispatcher import Client
from test_web_dasbor import open_dasbor, users_file  # noqa: F401
from web import dasbor, papan_hadir, stream
from web_support import (ARTIFACTS, WebProcess, browser, chrome, chrome_driver, quit_driver,  # noqa: F401
                         screenshot, text, wait, web_app)

SITE = "buton"


@pytest.fixture(scope="module")
def tv():
    """A second Chromium: the TV box, beside the head's browser."""
    driver = chrome_driver(1280, 720)
    try:
        yield driver
    finally:
        quit_driver(driver)


@pytest.fixture
def site(tmp_path, run_dispatcher, mqtt_client):
    """Buton open all day with a second staff app, web3 (to look at the site while web1 is
    killed), the dispatcher and a client that records every status."""
    path = allday_site(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["devices"].append({"id": "web3", "role": "web", "name": "Aplikasi staf kedua", "listen": "127.0.0.1:8083"})
    write_site(path, raw)
    run_dispatcher(path)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    client.path = path
    return client


def statuses(client, device="web1"):
    return [m.json() for m in client.rec.messages if m.topic == protocol.status(SITE, device) and m.payload]


def board3_in(status):
    return protocol.browser_boards(status).get("board3")


def wait_board3(client, check, start=0, timeout=10.0, device="web1"):
    """Wait for a status of *device* (from its *start*-th on) whose board3 entry passes
    *check*; that entry."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        found = [e for s in statuses(client, device)[start:] if check(e := board3_in(s))]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no such status of {device}: {statuses(client, device)[-3:]}"
        time.sleep(0.02)


def online(entry):
    return entry is not None and entry["pages"] > 0


def offline(entry):
    return entry is not None and entry["pages"] == 0


def row(driver):
    return (text(driver, '[data-device="board3"] .role') or "", text(driver, '[data-device="board3"] .layar') or "")


def open_board(driver, url):
    driver.get(url)
    wait(driver, lambda d: d.execute_script("return !!window.papanLog"), timeout=scaled(10))


def test_a_tv_showing_board3_puts_it_online_on_the_dashboard_and_closing_it_offline(
        site, users_file, web_app, browser, tv, monkeypatch):  # noqa: F811
    monkeypatch.setattr(papan_hadir, "GRACE", 2.0)  # a closed page is gone 2 s later, not 10
    app = web_app(site.path, "web1", users=users_file)
    app.wait_broker()
    first = wait_board3(site, offline)
    assert first == {"device": "board3", "pages": 0, "since": None, "last_seen": None, "addresses": []}
    open_dasbor(browser, app.url)
    wait(browser, lambda d: row(d) == ("Papan informasi · luring", "Tidak tampil di layar mana pun"))

    mark = len(statuses(site))
    home = tv.current_window_handle
    tv.switch_to.new_window("tab")  # the TV's tab, closed below as a TV's browser closes it
    open_board(tv, app.url + "/papan/board3")
    entry = wait_board3(site, online, mark)
    assert entry["pages"] == 1 and entry["addresses"] == ["127.0.0.1"] and entry["last_seen"] is None
    since = entry["since"][11:16].replace(":", ".")
    wait(browser, lambda d: row(d) == ("Papan informasi · daring", f"Tampil di 1 layar sejak {since} · 127.0.0.1"),
         timeout=scaled(5))
    screenshot(browser, ARTIFACTS / "dasbor-papan-daring.png", 1366)  # the whole page: the devices are at its foot
    assert "board3" not in [m.topic.rsplit("/", 1)[-1] for m in site.rec.messages if "/status/" in m.topic]

    mark = len(statuses(site))
    tv.close()  # the page closes: its stream ends
    tv.switch_to.window(home)
    entry = wait_board3(site, offline, mark)
    assert entry["last_seen"] is not None and entry["since"] is None
    seen = entry["last_seen"][11:16].replace(":", ".")
    wait(browser, lambda d: row(d) == ("Papan informasi · luring", f"Terakhir tampil {seen}"), timeout=scaled(5))


def test_a_reload_and_a_reconnect_neither_flap_nor_count_twice(site, web_app, tv):  # noqa: F811
    app = web_app(site.path, "web1")
    app.wait_broker()
    open_board(tv, app.url + "/papan/board3")
    entry = wait_board3(site, online)
    since, start = entry["since"], len(statuses(site))
    tv.refresh()  # a reload: the same tab, the same id
    open_board(tv, app.url + "/papan/board3")
    app.web.hub.end_streams()  # every stream ends at once: the page's EventSource reconnects by itself
    presence = app.web.extra["papan"].presence
    deadline = time.monotonic() + papan_hadir.GRACE + 3  # past the grace a lost page would be dropped after
    while time.monotonic() < deadline:
        assert presence.pages("board3") == 1
        time.sleep(0.1)
    wait(tv, lambda d: not d.find_element("id", "spanduk").is_displayed(), timeout=scaled(5))  # streaming again
    after = [board3_in(s) for s in statuses(site)[start:]]
    assert all(e["pages"] == 1 and e["since"] == since for e in after), after
    assert board3_in(statuses(site)[-1])["pages"] == 1


def test_a_page_that_stops_answering_is_dropped_and_a_live_one_is_kept(site, web_app, tv, monkeypatch):  # noqa: F811
    # A keep-alive every second and 3 s of silence allowed, so the bound is seen in seconds.
    monkeypatch.setattr(stream, "KEEPALIVE", 1.0)
    monkeypatch.setattr(papan_hadir, "STALE", 3.0)
    app = web_app(site.path, "web1")
    app.wait_broker()
    open_board(tv, app.url + "/papan/board3")
    wait_board3(site, lambda e: e is not None and e["pages"] == 1)
    # A TV switched off: its connection stays open, nothing answers the keep-alives.
    mark = len(statuses(site))
    conn = http.client.HTTPConnection(*app.address, timeout=scaled(20))
    conn.request("GET", "/papan/board3/aliran?tv=switched-off-tv", headers={"Accept": "text/event-stream"})
    resp = conn.getresponse()
    assert resp.status == 200
    wait_board3(site, lambda e: e is not None and e["pages"] == 2, mark)
    opened, mark = time.monotonic(), len(statuses(site))
    wait_board3(site, lambda e: e is not None and e["pages"] == 1, mark, timeout=15)
    took = time.monotonic() - opened
    assert 1.5 < took < scaled(3.0 + papan_hadir.TICK + 3), took
    try:
        while resp.fp.readline():  # the silent page's stream was ended by the app
            pass
    finally:
        conn.close()
    time.sleep(2.0)  # the live page answers every keep-alive: still counted
    assert app.web.extra["papan"].presence.pages("board3") == 1
    assert board3_in(statuses(site)[-1])["pages"] == 1

    # Chromium leaving a board for another page keeps its stream open (the page frozen in
    # the back-forward cache): no clean disconnect either, and dropped the same way.
    home, mark = tv.current_window_handle, len(statuses(site))
    tv.switch_to.new_window("tab")
    try:
        open_board(tv, app.url + "/papan/board3")
        wait_board3(site, lambda e: e is not None and e["pages"] == 2, mark)
        mark = len(statuses(site))
        tv.get("about:blank")
        wait_board3(site, lambda e: e is not None and e["pages"] == 1, mark, timeout=15)
    finally:
        tv.close()
        tv.switch_to.window(home)
    assert app.web.extra["papan"].presence.pages("board3") == 1

    # A stream without the page's id (a TV still on the papan.js of before an upgrade, a
    # script) cannot answer the keep-alives: counted while it is open, never cut off.
    monkeypatch.setattr(papan_hadir, "GRACE", 1.0)
    conn = http.client.HTTPConnection(*app.address, timeout=scaled(20))
    conn.request("GET", "/papan/board3/aliran", headers={"Accept": "text/event-stream"})
    resp = conn.getresponse()
    try:
        assert resp.status == 200
        deadline = time.monotonic() + papan_hadir.STALE + 2 * papan_hadir.TICK + 1
        while time.monotonic() < deadline:
            resp.fp.readline()  # keep-alives keep coming: the stream is not ended
        assert app.web.extra["papan"].presence.pages("board3") == 2
    finally:
        conn.close()
    wait(None, lambda _: app.web.extra["papan"].presence.pages("board3") == 1, timeout=scaled(5))


def test_the_web_app_killed_takes_its_board_offline(site, broker, web_app, tv, tmp_path):  # noqa: F811
    process = WebProcess(site.path, "web1", broker, users=tmp_path / "users")
    app = process.start()
    try:
        app.wait_broker()
        other = web_app(site.path, "web3")  # the dashboard's side, in another staff app
        other.wait_broker()
        open_board(tv, app.url + "/papan/board3")
        wait_board3(site, online)
        wait(None, lambda _: dasbor.snapshot(other.web)["status"]["board3"]["online"] is True, timeout=scaled(5))
        shown = dasbor.snapshot(other.web)["status"]["board3"]
        assert shown["browser"]["pages"] == 1 and shown["browser"]["addresses"] == ["127.0.0.1"]
        process.stop(signal.SIGKILL)
        site.rec.wait_for(protocol.status(SITE, "web1"), lambda m: m.json() == protocol.device_will("web1", "web"),
                          timeout=scaled(10))
        wait(None, lambda _: dasbor.snapshot(other.web)["status"]["board3"]["online"] is False, timeout=scaled(5))
        shown = dasbor.snapshot(other.web)["status"]["board3"]
        assert shown["browser"]["pages"] == 0 and shown["browser"]["last_seen"]
    finally:
        process.stop()
