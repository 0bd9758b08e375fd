"""The officer's console (/loket) in Debian's headless Chromium: a real broker, the real
dispatcher and the staff app on a free port; logins through the real /masuk form.

Screenshots (360x740 and 1366x768) go to test-artifacts/ to be looked at.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from antrian import protocol
from conftest import allday_site
from test_dispatcher import Client
from web_support import (ARTIFACTS, chrome_driver, console_errors, css, quit_driver, screenshot, text, wait,
                         browser, chrome, web_app)  # noqa: F401 (fixtures)

SITE = "buton"
PASSWORD = "Sandi-Loket-2026"
EVIL = '<img src=x onerror="window.pwned=1">'


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    """Buton open all day; a late citizen may come back within 1 later call (so the test
    reaches the end of the tolerance with two calls)."""
    return allday_site(tmp_path, queue={"priority_streak": 2, "max_recalls": 3, "late_tolerance": 1})


@pytest.fixture
def users_file(tmp_path: Path, monkeypatch) -> Path:
    """budi (loket1), sari (loket2), dua (loket1 and loket2), kepala; a cheap argon2."""
    from argon2 import PasswordHasher

    from web import passwords, users

    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    path = tmp_path / "web-users"
    people = [users.StaffUser("budi", "petugas", ("loket1",)), users.StaffUser("sari", "petugas", ("loket2",)),
              users.StaffUser("dua", "petugas", ("loket1", "loket2")), users.StaffUser("kepala", "kepala")]
    users.update(path, lambda known: {**known, **{u.name: users.Entry(u, users.hash_password(PASSWORD))
                                                 for u in people}}, create=True)
    return path


@pytest.fixture
def site(run_dispatcher, mqtt_client):
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.dispatcher = run_dispatcher()
    client.start_dispatcher = run_dispatcher
    client.wait_ready()
    return client


@pytest.fixture
def staff(site, site_file, users_file, web_app):  # noqa: F811
    app = web_app(site_file, "web1", users=users_file)
    app.wait_broker()
    deadline = time.monotonic() + 10
    while not (app.web.hub.catalog and app.web.hub.dispatcher.online):
        assert time.monotonic() < deadline, "the web app did not get the retained state"
        time.sleep(0.02)
    return app


def login(driver, url: str, name: str, page: str = "/loket") -> None:
    driver.get(url + page)
    wait(driver, lambda d: "/masuk" in d.current_url)
    css(driver, "#nama")[0].send_keys(name)
    css(driver, "#sandi")[0].send_keys(PASSWORD)
    css(driver, "#masuk")[0].click()
    wait(driver, lambda d: "/masuk" not in d.current_url)


def open_console(driver, url: str, name: str = "budi", counter: str = "loket1") -> None:
    login(driver, url, name, f"/loket/{counter}")
    wait(driver, lambda d: d.current_url.endswith(f"/loket/{counter}") and ready(d), timeout=10)
    driver.get_log("browser")  # the login page's lines are not the console's


def ready(driver) -> bool:
    """The stream is live and the counter's state has come."""
    return bool(css(driver, "#sambungan.live")) and text(driver, "#status") not in ("Menunggu data…", None)


def enabled(driver, button: str) -> bool | None:
    return driver.execute_script("const b = document.getElementById(arguments[0]); return b ? !b.disabled : null",
                                 button)


def click(driver, button: str) -> None:
    wait(driver, lambda d: enabled(d, button), timeout=10)
    driver.execute_script("document.getElementById(arguments[0]).click()", button)


def said(driver, expected: str, timeout: float = 10) -> None:
    wait(driver, lambda d: (text(d, "#pesan") or "") == expected, timeout=timeout)


def serving(driver) -> str:
    return text(driver, "#nomor") or ""


def waiting(driver, list_id: str = "menunggu") -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' li.baris .no'), e => e.textContent)",
        list_id)


def calls_at(site: Client, counter: str) -> list[str]:
    return [c["number"] for c in site.calls() if c["counter"] == counter]


def commands_to(site: Client, counter: str) -> list[dict]:
    return [m.json() for m in site.rec.messages if m.topic == protocol.counter_command(SITE, counter)]


def fetch(driver, path: str, fields: dict) -> tuple[int, dict]:
    """A POST from the logged-in page itself (its cookie, its Origin), as a forger in the
    browser would send it."""
    result = driver.execute_async_script("""
        const [path, fields, done] = arguments;
        fetch(path, {method: "POST", body: new URLSearchParams(fields), credentials: "same-origin"})
          .then(async (r) => { let d = null; try { d = await r.json(); } catch (e) {} done([r.status, d]); })
          .catch((e) => done([0, String(e)]));""", path, fields)
    return result[0], result[1] or {}


def csrf(driver) -> str:
    return driver.execute_script("return document.getElementById('konsol').dataset.csrf")


def no_page_errors(driver) -> None:
    errors = [e for e in console_errors(driver) if "favicon" not in e]
    assert not errors, errors


# -- who may use it ---------------------------------------------------------------------------


def test_only_officers_and_each_lands_on_their_counter(staff, browser):
    status, headers, _ = staff.request("GET", "/loket")
    assert status == 303 and headers["location"] == "/masuk?lanjut=/loket"
    login(browser, staff.url, "kepala", "/loket")
    assert text(browser, "body").strip() == "Akses ditolak."  # the head's page is /dasbor
    browser.delete_all_cookies()
    login(browser, staff.url, "dua")  # two counters: a choice
    wait(browser, lambda d: d.current_url.endswith("/loket") and css(d, ".pilih-loket"))
    assert [e.text for e in css(browser, ".pilih-nama")] == ["Loket 1", "Loket 2"]
    screenshot(browser, ARTIFACTS / "web-loket-pilih-360x740.png", 360, 740, mobile=True)
    css(browser, '.pilih-loket[href="/loket/loket2"]')[0].click()
    wait(browser, lambda d: d.current_url.endswith("/loket/loket2") and ready(d))
    assert text(browser, ".top h1") == "Loket 2" and text(browser, ".ganti") == "Ganti loket"
    browser.delete_all_cookies()
    open_console(browser, staff.url, "budi")  # one counter: straight to it
    browser.get(staff.url + "/loket")
    wait(browser, lambda d: d.current_url.endswith("/loket/loket1"))
    assert not css(browser, ".ganti")


def test_the_console_shows_the_ticket_the_queue_and_works_from_the_keyboard(staff, site, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    normal = site.request("KTP")["ticket"]["number"]
    site.request("KIA")
    elder = site.request("KTP", priority="lansia")["ticket"]["number"]
    site.request("KK")  # not this counter's
    open_console(browser, staff.url)
    wait(browser, lambda d: len(waiting(d)) == 3)
    assert waiting(browser)[0] == elder  # priority first, then by issue time across KTP and KIA
    assert text(browser, "#menunggu li.baris .tanda.prio") == "Lansia (60 tahun ke atas)"
    assert serving(browser) == "—" and text(browser, "#status") == "Buka"
    assert "Panggil berikutnya" in text(browser, ".pintasan") and "Tidak hadir" in text(browser, ".pintasan")
    assert not enabled(browser, "b-recall") and not enabled(browser, "b-finish") and not enabled(browser, "b-open")
    ActionChains(browser).send_keys("n").perform()  # N: Panggil berikutnya
    said(browser, f"Memanggil {elder}.")
    wait(browser, lambda d: serving(d) == elder and len(waiting(d)) == 2)
    assert (text(browser, "#prioritas") or "").startswith("Prioritas: ")
    assert text(browser, "#layanan").startswith("KTP Elektronik")
    assert text(browser, "#dipanggil") != "—" and text(browser, "#lama") == "0 menit"
    assert text(browser, "#sisa") == "3"
    ActionChains(browser).send_keys("u").perform()  # U: Panggil ulang
    said(browser, f"Memanggil ulang {elder}.")
    wait(browser, lambda d: text(d, "#sisa") == "2")
    assert calls_at(site, "loket1") == [elder, elder]
    for width, height, mobile in ((360, 740, True), (1366, 768, False)):
        screenshot(browser, ARTIFACTS / f"web-loket-{width}x{height}.png", width, height, mobile=mobile)
    screenshot(browser, ARTIFACTS / "web-loket-360-whole.png", 360, None, mobile=True)
    ActionChains(browser).send_keys("s").perform()  # S: Selesai
    said(browser, f"{elder} selesai dilayani.")
    wait(browser, lambda d: serving(d) == "—")
    ActionChains(browser).send_keys("n").perform()
    said(browser, f"Memanggil {normal}.")
    no_page_errors(browser)


def test_every_value_from_the_broker_is_shown_as_text(staff, site, browser):
    open_console(browser, staff.url)
    site.rec.publish_json(protocol.queue_list(SITE, "KIA"), {
        "service": "KIA", "waiting": [{"number": EVIL, "priority": EVIL, "issued_at": EVIL,
                                       "booking": EVIL, "transferred_from": EVIL}],
        "recallable": [{"number": EVIL, "no_show_at": 5}], "updated_at": EVIL}, retain=True)
    wait(browser, lambda d: waiting(d) == [EVIL] and waiting(d, "absen") == [EVIL])
    assert browser.execute_script("return window.pwned === undefined")
    assert not css(browser, "main img")
    # A list the app has not got (cleared here) is named, not shown as empty.
    site.rec.client.publish(protocol.queue_list(SITE, "KIA"), b"", qos=1, retain=True)
    wait(browser, lambda d: (text(d, "#layanan-loket") or "").endswith(
        "Daftar antrean belum diterima untuk: Kartu Identitas Anak (KIA)") and waiting(d) == [])


# -- exactly once ------------------------------------------------------------------------------


def test_two_officers_calling_the_same_service_in_the_same_instant_get_two_tickets(staff, site, browser):
    issued = [site.request("KTP")["ticket"]["number"] for _ in range(2)]
    other = chrome_driver()
    try:
        open_console(browser, staff.url, "budi", "loket1")
        open_console(other, staff.url, "sari", "loket2")
        for driver in (browser, other):
            wait(driver, lambda d: len(waiting(d)) == 2)
        barrier = threading.Barrier(2)

        def press(driver) -> None:
            barrier.wait()
            driver.execute_script("document.getElementById('b-call_next').click()")

        threads = [threading.Thread(target=press, args=(d,)) for d in (browser, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        for driver in (browser, other):
            wait(driver, lambda d: (text(d, "#pesan") or "").startswith("Memanggil "), timeout=10)
        got = sorted([serving(browser), serving(other)])
        assert got == sorted(issued)
        assert sorted(calls_at(site, "loket1") + calls_at(site, "loket2")) == sorted(issued)
    finally:
        quit_driver(other)


def test_a_double_click_calls_one_ticket_and_a_repeated_id_changes_nothing(staff, site, browser):
    from selenium.webdriver.common.action_chains import ActionChains

    first, second, third = (site.request("KTP")["ticket"]["number"] for _ in range(3))
    open_console(browser, staff.url)
    wait(browser, lambda d: len(waiting(d)) == 3)
    ActionChains(browser).double_click(css(browser, "#b-call_next")[0]).perform()
    said(browser, f"Memanggil {first}.")
    site.settle()
    assert calls_at(site, "loket1") == [first]
    assert len(commands_to(site, "loket1")) == 1
    # The same id sent twice (a retry) gets the first reply: no second call.
    fields = {"csrf": csrf(browser), "id": "web-" + "7" * 32, "action": "call_next"}
    replies = [fetch(browser, "/loket/loket1/perintah", fields) for _ in range(2)]
    assert [r[0] for r in replies] == [200, 200] and replies[0][1] == replies[1][1]
    assert replies[0][1]["ticket"]["number"] == second
    site.settle()
    assert calls_at(site, "loket1") == [first, second]
    assert waiting(browser) == [third] or wait(browser, lambda d: waiting(d) == [third])


def test_a_press_without_a_reply_is_retried_with_the_same_id(staff, site, browser, monkeypatch):
    from web import loket

    number = site.request("KTP")["ticket"]["number"]
    site.request("KTP")
    open_console(browser, staff.url)
    monkeypatch.setattr(loket, "REPLY_TIMEOUT", 0.0)  # the reply comes, but after the server gave up
    click(browser, "b-call_next")
    said(browser, loket.NO_REPLY)
    assert enabled(browser, "b-call_next")  # unlocked for the retry
    monkeypatch.setattr(loket, "REPLY_TIMEOUT", 5.0)
    click(browser, "b-call_next")
    said(browser, f"Memanggil {number}.")
    sent = commands_to(site, "loket1")
    assert len(sent) == 2 and sent[0]["id"] == sent[1]["id"]
    site.settle()
    assert calls_at(site, "loket1") == [number]  # called once


# -- the other buttons ---------------------------------------------------------------------------


def test_transfer_to_another_service(staff, site, browser):
    number = site.request("KTP")["ticket"]["number"]
    open_console(browser, staff.url)
    click(browser, "b-call_next")
    said(browser, f"Memanggil {number}.")
    click(browser, "b-transfer")
    wait(browser, lambda d: css(d, "#p-alihkan:not([hidden])"))
    options = browser.execute_script("return Array.from(document.querySelectorAll('#ke option'), o => o.value)")
    assert "KTP" not in options and "KK" in options  # not to its own service
    browser.execute_script("document.getElementById('ke').value = 'KK'")
    screenshot(browser, ARTIFACTS / "web-loket-alihkan-360x740.png", 360, 740, mobile=True)
    css(browser, "#p-alihkan button[data-action=transfer]")[0].click()
    said(browser, f"{number} dialihkan ke Kartu Keluarga (baru, perubahan, hilang/rusak).")
    wait(browser, lambda d: serving(d) == "—")
    kk = site.latest(protocol.queue_list(SITE, "KK"))
    assert kk["waiting"][0]["number"] == number and kk["waiting"][0]["transferred_from"] == "KTP"
    assert css(browser, "#p-alihkan[hidden]")


def test_calling_back_a_no_show_within_and_after_the_tolerance(staff, site, browser):
    late, nxt, _ = (site.request("KTP")["ticket"]["number"] for _ in range(3))
    open_console(browser, staff.url)
    click(browser, "b-call_next")
    said(browser, f"Memanggil {late}.")
    click(browser, "b-no_show")
    said(browser, f"{late} ditandai tidak hadir.")
    wait(browser, lambda d: waiting(d, "absen") == [late])
    # Within the tolerance: back from the list of no-shows.
    browser.execute_script("document.querySelector('#absen button.panggil').click()")
    said(browser, f"Memanggil {late}.")
    wait(browser, lambda d: serving(d) == late and waiting(d, "absen") == [])
    click(browser, "b-no_show")
    wait(browser, lambda d: waiting(d, "absen") == [late])
    click(browser, "b-call_next")  # one later call of KTP: past the tolerance of 1
    said(browser, f"Memanggil {nxt}.")
    wait(browser, lambda d: waiting(d, "absen") == [])
    click(browser, "b-call_number")  # typed: refused in the dispatcher's words
    css(browser, "#nomor-ketik")[0].send_keys(late.lower().replace("-", ""))
    css(browser, "#p-nomor button[data-action=call_number]")[0].click()
    said(browser, f"Nomor {late} sudah melewati batas toleransi keterlambatan")
    assert "bad" in css(browser, "#pesan")[0].get_attribute("class")
    screenshot(browser, ARTIFACTS / "web-loket-ditolak-1366x768.png", 1366, 768)
    assert serving(browser) == nxt


def test_pause_needs_a_reason_then_open_and_close(staff, site, browser):
    open_console(browser, staff.url)
    click(browser, "b-pause")
    wait(browser, lambda d: css(d, "#p-jeda:not([hidden])"))
    css(browser, "#p-jeda button[data-action=pause]")[0].click()
    said(browser, "Tuliskan alasan jeda.")
    status, body = fetch(browser, "/loket/loket1/perintah", {"csrf": csrf(browser), "id": "web-" + "1" * 32,
                                                              "action": "pause", "reason": "  "})
    assert status == 400 and body["error"]["message"] == "Tuliskan alasan jeda."
    browser.get_log("browser")  # that 400 is the test's own
    site.settle()
    assert not commands_to(site, "loket1") and text(browser, "#status") == "Buka"
    css(browser, "#alasan")[0].send_keys("Istirahat salat")
    css(browser, "#p-jeda button[data-action=pause]")[0].click()
    said(browser, "Loket dijeda: Istirahat salat.")
    wait(browser, lambda d: text(d, "#status") == "Jeda: Istirahat salat")
    screenshot(browser, ARTIFACTS / "web-loket-jeda-1366x768.png", 1366, 768)
    assert site.latest(protocol.counter_state(SITE, "loket1"))["reason"] == "Istirahat salat"
    click(browser, "b-open")
    said(browser, "Loket dibuka.")
    wait(browser, lambda d: text(d, "#status") == "Buka")
    click(browser, "b-close")
    css(browser, "#p-tutup button[data-action=close]")[0].click()
    said(browser, "Loket ditutup.")
    wait(browser, lambda d: text(d, "#status") == "Tutup" and not enabled(d, "b-call_next"))
    assert enabled(browser, "b-open") and not enabled(browser, "b-close")
    no_page_errors(browser)


# -- another counter ------------------------------------------------------------------------------


def test_an_officer_cannot_drive_another_counter_even_with_a_forged_request(staff, site, browser, caplog):
    site.request("KTP")
    open_console(browser, staff.url, "budi", "loket1")
    token = csrf(browser)
    fields = {"csrf": token, "id": "web-" + "2" * 32, "action": "call_next"}
    status, _ = fetch(browser, "/loket/loket2/perintah", fields)
    assert status == 403
    assert "budi (petugas of loket1) refused POST /loket/loket2/perintah" in caplog.text
    assert fetch(browser, "/loket/loket99/perintah", fields)[0] == 403  # a counter of nobody's
    cookie = browser.get_cookie("antrian_sesi")["value"]
    head = {"Cookie": f"antrian_sesi={cookie}", "Content-Type": "application/x-www-form-urlencoded"}
    own_origin = staff.url

    def post(path: str, body: dict, origin: str | None) -> int:
        headers = dict(head, **({"Origin": origin} if origin else {}))
        return staff.request("POST", path, urlencode(body), headers)[0]

    assert post("/loket/loket2/perintah", fields, own_origin) == 403  # the right token, the wrong counter
    assert post("/loket/loket1/perintah", fields, "http://evil.example") == 403  # another site
    assert post("/loket/loket1/perintah", {**fields, "csrf": "salah"}, own_origin) == 403
    assert post("/loket/loket1/perintah", {k: v for k, v in fields.items() if k != "csrf"}, own_origin) == 403
    status, _, _ = staff.request("GET", "/loket/loket2", headers={"Cookie": head["Cookie"]})
    assert status == 403
    status, _, _ = staff.request("GET", "/loket/loket2/peristiwa",
                                 headers={"Cookie": head["Cookie"], "Accept": "text/event-stream"})
    assert status == 403
    site.settle()
    assert not commands_to(site, "loket2") and not commands_to(site, "loket1")
    # The same token on the officer's own counter is accepted.
    assert post("/loket/loket1/perintah", {**fields, "id": "web-" + "3" * 32}, own_origin) == 200


# -- the link -------------------------------------------------------------------------------------


def test_the_page_locks_while_the_dispatcher_is_down_and_recovers(staff, site, browser):
    number = site.request("KTP")["ticket"]["number"]
    open_console(browser, staff.url)
    assert enabled(browser, "b-call_next") and not css(browser, "#banner.shown")
    site.dispatcher.stop()
    wait(browser, lambda d: css(d, "#banner.shown") and not enabled(d, "b-call_next"), timeout=15)
    assert text(browser, "#banner") == "Server antrean sedang mati. Tombol dikunci sampai menyala kembali."
    assert text(browser, "#sambungan") == "Terputus"
    status, body = fetch(browser, "/loket/loket1/perintah", {"csrf": csrf(browser), "id": "web-" + "4" * 32,
                                                              "action": "call_next"})
    assert status == 503 and body.get("retry") is True  # nothing published for later
    browser.get_log("browser")  # that 503 is the test's own
    screenshot(browser, ARTIFACTS / "web-loket-terkunci-360x740.png", 360, 740, mobile=True)
    assert not commands_to(site, "loket1")
    site.dispatcher = site.start_dispatcher()
    wait(browser, lambda d: not css(d, "#banner.shown") and enabled(d, "b-call_next"), timeout=15)
    click(browser, "b-call_next")
    said(browser, f"Memanggil {number}.")
    no_page_errors(browser)


def test_the_page_locks_while_the_broker_is_gone_and_recovers(staff, site, browser, broker):
    from web import loket

    open_console(browser, staff.url)
    broker.stop()
    wait(browser, lambda d: css(d, "#banner.shown") and not enabled(d, "b-call_next"), timeout=15)
    assert text(browser, "#banner") == "Tidak tersambung ke server antrean. Tombol dikunci sampai sambungan pulih."
    broker.start()
    staff.wait_broker(timeout=20)
    wait(browser, lambda d: not css(d, "#banner.shown") and enabled(d, "b-call_next"), timeout=20)
    # The dispatcher may need a moment more to be back: the same press again until it is,
    # the page keeping the press's id for that.
    answer = None
    for _ in range(6):
        click(browser, "b-call_next")
        wait(browser, lambda d: text(d, "#pesan") != "Memanggil…" and enabled(d, "b-call_next"), timeout=15)
        answer = text(browser, "#pesan")
        if answer != loket.NO_REPLY:
            break
    assert answer == "Tidak ada antrean yang menunggu"  # nobody took a ticket: the dispatcher's own words
    browser.get_log("browser")  # a 504 of a try before the dispatcher was back
