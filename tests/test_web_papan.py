"""The board for a smart TV (/papan/board3 in the staff app), for real: a real broker, a
real dispatcher issuing and calling tickets, the staff app (in process, or as its own
`antrian web` process that is stopped and started), and Debian's headless Chromium
playing the server's WAVs (--autoplay-policy=no-user-gesture-required; Chromium falls
back to a silent output when the machine has no sound card). What the page did is
read from window.papanLog: {seq, ev: shown|play|ended|error|blocked, t}."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
import wave
from io import BytesIO

import pytest
import yaml

from antrian import protocol
from antrian.slow import scaled
from conftest import ROOT, allday_site, write_site
from test_dispatcher import Client
from web_support import (ARTIFACTS, WebProcess, chrome_driver, console_errors, css, quit_driver, screenshot,  # noqa: F401
                         text, wait, web_app)

SITE = "buton"
LOST = "Koneksi terputus — menyambung kembali…"
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"


def papan_site(tmp_path, **board3):
    """The Buton example open all day; board3 (the browser board) with *board3* options."""
    path = allday_site(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for device in raw["devices"]:
        if device["id"] == "board3":
            device.update(board3)
    return write_site(path, raw)


@pytest.fixture(scope="module")
def tv():
    """Headless Chromium allowed to play sound without a tap, as a TV box in kiosk mode."""
    driver = chrome_driver(1920, 1080, AUTOPLAY)
    try:
        yield driver
    finally:
        quit_driver(driver)


@pytest.fixture
def board3():
    """board3's options in a test (parametrize ``board3`` to change them): the sentence
    said quickly, so a test hears several calls in real time without taking minutes."""
    return {"min_call_seconds": 2, "rate": 300}


@pytest.fixture
def hall(board3, tmp_path, broker, run_dispatcher, mqtt_client, web_app, tv):  # noqa: F811
    """The dispatcher, a client that issues and calls, the staff app and a fresh TV."""
    site = papan_site(tmp_path, **board3)
    run_dispatcher()
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    app = web_app(site, "web1", users=tmp_path / "users")
    app.wait_broker()
    tv.get(app.url + "/sehat")
    tv.execute_script("window.localStorage.clear()")
    tv.set_window_size(1920, 1080)
    return client, app, tv, site


def events(driver, ev=None):
    log = driver.execute_script("return window.papanLog || []")
    return [e for e in log if ev is None or e["ev"] == ev]


def wait_event(driver, seq, ev, timeout=20.0):
    wait(driver, lambda d: any(e["seq"] == seq and e["ev"] == ev for e in events(d)), timeout=scaled(timeout))


def call(client, counter="loket1", service="KTP"):
    """Issue a ticket of *service* and call it at *counter*: the Call's seq and number."""
    client.request(service)
    reply = client.command(counter, "call_next")
    assert reply["ok"] is True, reply
    number = reply["ticket"]["number"]
    found = [c for c in client.calls() if c["number"] == number]
    if not found:
        client.rec.wait_for(protocol.call(SITE), lambda m: m.json()["number"] == number)
        found = [c for c in client.calls() if c["number"] == number]
    return found[-1]["seq"], number


def open_board(driver, url):
    driver.get(url)
    wait(driver, lambda d: d.execute_script("return !!window.papanLog"))


def test_the_board_shows_a_call_and_plays_its_sound(hall):
    client, app, tv, _ = hall
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: text(d, "#petak .petak-nama") == "Loket 1", timeout=scaled(10))
    seq, number = call(client)
    wait(tv, lambda d: text(d, "#nomor") == number, timeout=scaled(10))
    assert text(tv, "#loket") == "Loket 1" and text(tv, "#menuju") == "silakan menuju"
    assert text(tv, "#layanan") == "KTP Elektronik"
    wait_event(tv, seq, "play")
    wait_event(tv, seq, "ended")
    assert [e["ev"] for e in events(tv) if e["seq"] == seq] == ["shown", "play", "ended"]
    assert tv.execute_script("return window.papanFlashes") >= 1
    # The tile of Loket 1 shows the number it serves; the date line is Indonesian, in WITA.
    assert number in [e.text for e in css(tv, "#petak .petak-nomor")]
    assert re.fullmatch(r"(Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu), \d{1,2} \w+ \d{4}, pukul \d\d\.\d\d WITA",
                        text(tv, "#tanggal")), text(tv, "#tanggal")
    # The sound is a WAV: the chime, then the sentence (espeak-ng, board3's settings).
    status, headers, _ = app.request("GET", f"/papan/board3/suara/{seq}.wav")
    assert status == 200 and headers["content-type"] == "audio/wav"
    assert [e for e in console_errors(tv) if "favicon" not in e] == []


def test_the_wav_is_the_chime_and_the_sentence_made_once(hall):
    import http.client

    client, app, _, _ = hall
    seq, _ = call(client)
    # A TV asks once its stream brought the call; here the app must have it first.
    deadline = time.monotonic() + scaled(10)
    while not [c for c in app.web.hub.calls_after(seq - 1) if c["seq"] == seq]:
        assert time.monotonic() < deadline, f"the app never saw call {seq}"
        time.sleep(0.02)
    conn = http.client.HTTPConnection(*app.address, timeout=10)
    conn.request("GET", f"/papan/board3/suara/{seq}.wav")
    body = conn.getresponse().read()
    with wave.open(BytesIO(body)) as w:
        seconds = w.getnframes() / w.getframerate()
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
    assert seconds > 2.5  # the chime alone is 1.8 s
    sounds = app.web.extra["papan"].sounds
    made = sounds.made
    for _ in range(3):
        assert app.request("GET", f"/papan/board3/suara/{seq}.wav")[0] == 200
    assert sounds.made == made  # from the cache
    assert app.request("GET", "/papan/board3/suara/99999.wav")[0] == 404


def test_two_calls_within_a_second_are_played_one_after_the_other(hall):
    client, app, tv, _ = hall
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: text(d, "#petak .petak-nama") == "Loket 1", timeout=scaled(10))
    client.request("KTP")
    client.request("KK")
    started = time.monotonic()
    first = client.command("loket1", "call_next")
    second = client.command("loket3", "call_next")
    assert time.monotonic() - started < 1.0 and first["ok"] and second["ok"]
    seqs = sorted(c["seq"] for c in client.calls() if c["number"] in (first["ticket"]["number"],
                                                                      second["ticket"]["number"]))
    assert len(seqs) == 2
    wait_event(tv, seqs[1], "ended", timeout=40)
    log = [(e["seq"], e["ev"]) for e in events(tv) if e["seq"] in seqs]
    assert log == [(seqs[0], "shown"), (seqs[0], "play"), (seqs[0], "ended"),
                   (seqs[1], "shown"), (seqs[1], "play"), (seqs[1], "ended")]
    shown = {e["seq"]: e["t"] for e in events(tv, "shown")}
    assert shown[seqs[1]] - shown[seqs[0]] >= 2000 - 50  # min_call_seconds: 2
    assert text(tv, "#nomor") == second["ticket"]["number"]
    # The first call moved down to the earlier calls.
    assert text(tv, "#sebelumnya li b") == first["ticket"]["number"]


def test_a_reload_replays_nothing(hall):
    client, app, tv, _ = hall
    open_board(tv, app.url + "/papan/board3")
    seq, number = call(client)
    wait_event(tv, seq, "ended")
    for _ in range(2):
        tv.refresh()
        wait(tv, lambda d: text(d, "#nomor") == number, timeout=scaled(10))
        time.sleep(scaled(2))
        assert [e["ev"] for e in events(tv)] == ["shown"], events(tv)
    # A new call after the reload is said as usual.
    seq2, number2 = call(client, "loket2")
    wait_event(tv, seq2, "ended")
    assert [(e["seq"], e["ev"]) for e in events(tv) if e["ev"] != "shown"] == [(seq2, "play"), (seq2, "ended")]


def test_a_call_older_than_catch_up_is_shown_only(tmp_path, broker, run_dispatcher, mqtt_client, web_app, tv):  # noqa: F811
    site = papan_site(tmp_path, catch_up_seconds=0)
    run_dispatcher()
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    app = web_app(site, "web1", users=tmp_path / "users")
    app.wait_broker()
    _, number = call(client)
    time.sleep(0.5)
    tv.get(app.url + "/sehat")
    tv.execute_script("window.localStorage.clear()")
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: text(d, "#nomor") == number, timeout=scaled(10))
    time.sleep(scaled(2))
    assert [e["ev"] for e in events(tv)] == ["shown"]


def test_the_stream_survives_a_restart_of_the_web_process(tmp_path, broker, run_dispatcher, mqtt_client, tv):
    site = papan_site(tmp_path, min_call_seconds=1)
    run_dispatcher()
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    process = WebProcess(site, "web1", broker, users=tmp_path / "users")
    app = process.start()
    try:
        app.wait_broker()
        tv.get(app.url + "/sehat")
        tv.execute_script("window.localStorage.clear()")
        open_board(tv, app.url + "/papan/board3")
        seq, number = call(client)
        wait_event(tv, seq, "ended")
        process.stop()
        wait(tv, lambda d: text(d, "#spanduk") == LOST and d.find_element("id", "spanduk").is_displayed(),
             timeout=scaled(10))
        # A call made while the web process is down is caught up from the retained board.
        seq2, number2 = call(client, "loket2")
        process.start()
        wait_event(tv, seq2, "ended", timeout=30)
        assert text(tv, "#nomor") == number2
        wait(tv, lambda d: not d.find_element("id", "spanduk").is_displayed(), timeout=scaled(5))
        assert [e["ev"] for e in events(tv) if e["seq"] == seq] == ["shown", "play", "ended"]
    finally:
        process.stop()


def test_the_stream_survives_a_restart_of_the_broker(hall, broker):
    client, app, tv, _ = hall
    open_board(tv, app.url + "/papan/board3")
    seq, _ = call(client)
    wait_event(tv, seq, "ended")
    broker.stop()
    offline = "Koneksi ke server antrean terputus. Nomor di layar mungkin belum terbaru."
    wait(tv, lambda d: text(d, "#spanduk") == offline and d.find_element("id", "spanduk").is_displayed(),
         timeout=scaled(15))
    broker.start()
    app.wait_broker(timeout=scaled(20))
    # Until the dispatcher and this client are back, a request may go unanswered: the same
    # ids again (exactly once) until it is.
    ids = {"request": uuid.uuid4().hex, "command": uuid.uuid4().hex}
    for attempt in range(6):
        try:
            client.request("KTP", mid=ids["request"])
            reply = client.command("loket2", "call_next", mid=ids["command"])
            break
        except AssertionError:
            assert attempt < 5, "the dispatcher did not answer after the broker's restart"
    number2 = reply["ticket"]["number"]
    client.rec.wait_for(protocol.call(SITE), lambda m: m.json()["number"] == number2)
    seq2 = [c for c in client.calls() if c["number"] == number2][-1]["seq"]
    wait_event(tv, seq2, "ended", timeout=30)
    assert text(tv, "#nomor") == number2
    wait(tv, lambda d: not d.find_element("id", "spanduk").is_displayed(), timeout=scaled(10))


def test_only_a_browser_board_is_served_and_every_refusal_is_the_same_404(tmp_path, broker, web_app):  # noqa: F811
    site = papan_site(tmp_path)
    app = web_app(site, "web1", users=tmp_path / "users")
    unknown = app.request("GET", "/tidak-ada")
    assert unknown[:1] == (404,) and unknown[2] == "Halaman tidak ditemukan."
    # Without credentials_dir the address alone serves (a laptop, the tests).
    assert app.request("GET", "/papan/board3")[0] == 200
    for path in ("/papan/board1", "/papan/board2", "/papan/kiosk1", "/papan/web1", "/papan/nope",
                 "/papan/board1/aliran", "/papan/nope/suara/1.wav", "/papan/" + "x" * 300):
        status, _, body = app.request("GET", path)
        assert (status, body) == (404, unknown[2]), path


def test_on_a_site_with_credentials_the_board_needs_its_token(secure_site, web_app, tmp_path):  # noqa: F811
    site = secure_site()
    out = subprocess.run([sys.executable, "-m", "antrian.cli", "broker-files", "--config", str(site.path),
                          "--data-dir", str(tmp_path / "broker")], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    printed = re.findall(r"/papan/board3\?k=[a-z2-7]+", out.stdout)
    assert len(printed) == 1, out.stdout
    app = web_app(site.path, "web1", users=tmp_path / "users")
    app.wait_broker(timeout=scaled(10))
    good = printed[0]
    token = good.partition("?k=")[2]
    assert app.request("GET", good)[0] == 200
    assert app.request("GET", f"/papan/board3/suara/1.wav?k={token}")[0] == 404  # no such call yet
    unknown = app.request("GET", "/tidak-ada")[2]
    wrong = token[:-1] + ("a" if token[-1] != "a" else "b")
    for path in ("/papan/board3", f"/papan/board3?k={wrong}", "/papan/board3?k=", f"/papan/board1?k={token}",
                 f"/papan/nope?k={token}", f"/papan/board3?k={token}x", "/papan/board3/aliran",
                 f"/papan/board3/aliran?k={wrong}", f"/papan/board3/suara/1.wav?k={wrong}"):
        status, _, body = app.request("GET", path)
        assert (status, body) == (404, unknown), path
    assert stream_status(app, f"/papan/board3/aliran?k={token}") == 200


def stream_status(app, path):
    """The status of a stream that stays open (read from its first line only)."""
    import socket

    with socket.create_connection(app.address, timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n".encode())
        return int(s.recv(200).split(b" ")[1])


def test_html_in_names_from_mqtt_is_shown_as_text(hall, mqtt_client):  # noqa: F811
    client, app, tv, _ = hall
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: text(d, "#petak .petak-nama") == "Loket 1", timeout=scaled(10))
    evil_counter = '<img src=x id=pwned1 onerror="window.pwned=1">Loket 1'
    evil_service = "<script>window.pwned=2</script>KTP"
    board = dict(client.latest(protocol.board(SITE)))
    board["counters"] = [dict(c, name=evil_counter, serving="A-001", service_name=evil_service, status="open")
                         if c["counter"] == "loket1" else c for c in board["counters"]]
    seq = board["seq"] + 1
    evil_call = {"seq": seq, "number": "A-001", "service": "KTP", "service_name": evil_service,
                 "counter": "loket1", "counter_name": evil_counter, "recall": False,
                 "at": board["updated_at"]}
    publisher = mqtt_client(topics=())
    publisher.publish_json(protocol.call(SITE), evil_call)
    publisher.publish_json(protocol.board(SITE), dict(board, recent=[evil_call] + board["recent"]), retain=True)
    wait(tv, lambda d: text(d, "#loket") == evil_counter, timeout=scaled(10))
    assert text(tv, "#layanan") == evil_service
    wait(tv, lambda d: text(d, "#petak .petak-nama") == evil_counter, timeout=scaled(10))
    assert tv.execute_script("return document.querySelectorAll('#layar img, #layar script, #pwned1').length") == 0
    time.sleep(0.5)
    assert tv.execute_script("return window.pwned === undefined")
    wait_event(tv, seq, "ended")  # espeak-ng reads the markup as words; it is only sound


def test_the_overlay_asks_for_a_tap_when_autoplay_is_refused(hall):
    client, app, _, _ = hall
    driver = chrome_driver(1280, 720)  # no autoplay flag: Chromium's default refuses sound before a tap
    try:
        open_board(driver, app.url + "/papan/board3")
        seq, number = call(client)
        wait(driver, lambda d: text(d, "#nomor") == number, timeout=scaled(10))
        wait_event(driver, seq, "blocked")
        overlay = driver.find_element("id", "aktifkan")
        assert overlay.is_displayed() and text(driver, "#tombol-suara") == "Ketuk untuk mengaktifkan suara"
        screenshot(driver, ARTIFACTS / "papan-ketuk-1280x720.png", 1280, 720)
        driver.find_element("id", "tombol-suara").click()
        wait_event(driver, seq, "ended")
        assert not overlay.is_displayed()
        assert [e["ev"] for e in events(driver) if e["seq"] == seq] == ["shown", "blocked", "play", "ended"]
    finally:
        quit_driver(driver)


@pytest.mark.parametrize("board3", [{"catch_up_seconds": 0}])  # calls made before the page opens: shown only
def test_screenshots_and_sizes_readable_from_three_metres(hall):
    client, app, tv, _ = hall
    for service in ("KTP", "KTP", "KK", "PBB", "NIB", "KTP", "AKTA", "TAB"):
        client.request(service)
    for counter in ("loket1", "loket2", "loket3", "loket5"):
        assert client.command(counter, "call_next")["ok"]
    assert client.command("loket1", "recall")["ok"]
    seq, number = call(client, "loket6", "NIB")
    client.command("loket4", "pause", reason="Istirahat")
    client.command("loket7", "close")
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: text(d, "#nomor") == number, timeout=scaled(10))
    sizes = {}
    for width, height in ((1920, 1080), (1280, 720), (1080, 1920)):
        tv.set_window_size(width, height)
        tv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        try:
            time.sleep(4)  # past the flash
            tv.execute_script("window.dispatchEvent(new Event('resize'))")
            time.sleep(0.3)
            sizes[(width, height)] = tv.execute_script(
                """const px = (s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize);
                const clipped = [...document.querySelectorAll('#layar *:not(#teks-berjalan)')].filter((e) => {
                  const r = e.getBoundingClientRect();
                  return r.width && (r.right > innerWidth + 1 || r.bottom > innerHeight + 1); }).length;
                return {nomor: px('#nomor'), loket: px('#loket'), tile_name: px('.petak-nama'),
                        tile_number: px('.petak-nomor'), waiting_name: px('.chip-nama'),
                        waiting_count: px('.chip-jumlah'), recent: px('#sebelumnya b'), date: px('#tanggal'),
                        running: px('#teks-berjalan'), clipped}""")
            tv.save_screenshot(str(ARTIFACTS / f"papan-{width}x{height}.png"))
        finally:
            tv.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    (ARTIFACTS / "papan-sizes.json").write_text(json.dumps({f"{w}x{h}": s for (w, h), s in sizes.items()}, indent=1))
    full = sizes[(1920, 1080)]
    # From 3 m a letter needs about 12 mm (distance / 250); on a 43-inch 1080p TV (0.5 mm a
    # pixel) that is a font of about 34 px. The call number is several times that.
    assert full["nomor"] >= 150
    assert min(full["loket"], full["tile_name"], full["recent"], full["date"]) >= 34, full
    # The waiting list shows each service's board name whole (up to 20 characters in a
    # third of the width: issue 16), so its font is smaller; tests/test_board_sizes.py
    # checks that no name is cut.
    assert full["waiting_name"] >= 24, full
    assert all(s["clipped"] == 0 for s in sizes.values()), sizes


@pytest.mark.parametrize("board3", [{"orientation": "portrait"}])
def test_a_portrait_board_on_a_landscape_screen_is_turned(hall):
    _, app, tv, _ = hall
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: text(d, "#petak .petak-nama") == "Loket 1", timeout=scaled(10))
    turned = tv.execute_script("""const r = document.getElementById('layar').getBoundingClientRect();
        return {tegak: document.body.classList.contains('tegak'), w: r.width, h: r.height,
                iw: innerWidth, ih: innerHeight}""")
    assert turned["tegak"] and turned["iw"] > turned["ih"]
    # The picture is portrait, turned a quarter to fill the landscape window.
    assert abs(turned["w"] - turned["iw"]) <= 1 and abs(turned["h"] - turned["ih"]) <= 1
    screenshot(tv, ARTIFACTS / "papan-portrait-turned-1600x900.png", 1600, 900)


def test_a_remote_counters_call_sends_the_hall_to_its_location(hall):
    """Issue 14, item 7: daring1 is served by video call; the TV names and says its location."""
    client, app, tv, _ = hall
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: "Bilik Layanan Daring" in [e.text for e in css(d, "#petak .petak-rinci")], timeout=scaled(10))
    seq, number = call(client, "daring1", "IZIN")
    wait(tv, lambda d: text(d, "#nomor") == number, timeout=scaled(10))
    assert text(tv, "#menuju") == "silakan menuju" and text(tv, "#loket") == "Bilik Layanan Daring"
    wait_event(tv, seq, "ended")
    # The sound said the location (the sentence is the end of the sound's cache key).
    sentence = "Nomor antrean em, satu, silakan menuju bilik layanan daring."
    keys = list(app.web.extra["papan"].sounds._cache)
    assert number == "M-001" and any(k.endswith("|" + sentence) for k in keys), keys
    tile = next(e for e in css(tv, "#petak > div") if e.find_element("css selector", ".petak-nama").text == "Daring 1")
    assert tile.find_element("css selector", ".petak-nomor").text == number
    screenshot(tv, ARTIFACTS / "papan-daring.png", 1920, 1080)


def test_a_checked_in_bookings_call_is_marked_reservasi(hall, mqtt_client):  # noqa: F811
    """Issue 15: a Call with "booking": true gets the Reservasi tag by the number; a walk-in's none."""
    client, app, tv, _ = hall
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: text(d, "#petak .petak-nama") == "Loket 1", timeout=scaled(10))
    board = client.latest(protocol.board(SITE))
    call_ = {"seq": board["seq"] + 1, "number": "A-031", "service": "KTP",
             "service_name": "KTP Elektronik (perekaman, cetak, penggantian)", "counter": "loket1",
             "counter_name": "Loket 1", "recall": False, "at": board["updated_at"], "booking": True}
    publisher = mqtt_client(topics=())
    publisher.publish_json(protocol.call(SITE), call_)
    wait(tv, lambda d: text(d, "#nomor") == "A-031", timeout=scaled(10))
    assert text(tv, "#tanda-reservasi") == "Reservasi" and css(tv, "#tanda-reservasi:not([hidden])")
    screenshot(tv, ARTIFACTS / "papan-reservasi-1920x1080.png", 1920, 1080)
    publisher.publish_json(protocol.call(SITE), {**call_, "seq": call_["seq"] + 1, "number": "A-032", "booking": None})
    wait(tv, lambda d: text(d, "#nomor") == "A-032", timeout=scaled(10))
    assert css(tv, "#tanda-reservasi[hidden]")


@pytest.mark.parametrize("board3", [{"zone": {"counters": ["loket5", "loket6"]}, "min_call_seconds": 1,
                                     "rate": 300}])
def test_a_zoned_browser_board_shows_and_says_only_its_counters(hall):
    """Issue 16, item 1: board3 given Loket 5 and 6 gets their tiles, services and calls
    only; another counter's call is neither shown, nor said, nor its sound served."""
    client, app, tv, _ = hall
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: len(css(d, "#petak > div")) == 2, timeout=scaled(10))
    assert [e.text for e in css(tv, "#petak .petak-nama")] == ["Loket 5", "Loket 6"]
    assert [e.text for e in css(tv, "#menunggu .chip-huruf")] == ["H", "J", "K", "L", "M"]
    other_seq, other = call(client, "loket1", "KTP")
    seq, number = call(client, "loket5", "PBB")
    wait(tv, lambda d: text(d, "#nomor") == number, timeout=scaled(10))
    wait_event(tv, seq, "ended")
    assert not [e for e in events(tv) if e["seq"] == other_seq]
    assert app.request("GET", f"/papan/board3/suara/{other_seq}.wav")[0] == 404
    assert app.request("GET", f"/papan/board3/suara/{seq}.wav")[0] == 200
    assert other not in tv.execute_script("return document.getElementById('layar').textContent")
