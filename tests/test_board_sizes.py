"""The board for a hall of 8, 16 and 40 counters (issue 16, item 2), measured.

A real dispatcher on a copy of the Buton example with that many counters
(tests/board_sites.py) calls a ticket at every open counter; the real Kivy board
(tests/board_driver.py, its own Xvfb screen) shows it at 1920x1080 and 1080x1920, and
the sizes come from its widgets: each tile's number and counter name (font size, and
the drawn text's width against its box), page by page, and each waiting row's name.
The rule: a number at least 50 px and a counter name at least 28 px at 1920x1080
(readable from three metres), no text cut, every counter on some page. The sizes are
written to test-artifacts/board-sizes.json, and a screenshot of every page is kept.

A copy with 40 services (the waiting list's pages): every service on some page, in the
site file's order, the list's heading "Jumlah menunggu — halaman 1 dari 4", nothing cut.
"""

from __future__ import annotations

import json

import pytest

from board_sites import hall_raw, hall_site
from conftest import ROOT
from test_display_ui import Board, Desk
from web_support import web_app  # noqa: F401

ARTIFACTS = ROOT / "test-artifacts"
MIN_NUMBER, MIN_NAME = 50, 28
SIZES = {"landscape": "1920x1080", "portrait": "1080x1920"}


def morning(desk: Desk, config_counters: int) -> list[str]:
    """A ticket called at every counter whose service is open (Bank Sultra's is not), and
    a few more waiting: the numbers called."""
    called = []
    for i in range(1, config_counters + 1):
        if i % 8 in (0, 7):  # Bank Sultra's counters (closed schedule) and the ones closed at start
            continue
        service = {1: "KTP", 2: "KK", 3: "AKTA", 4: "PINDAH", 5: "PBB", 6: "NIB"}[i % 8]
        desk.ticket(service)
        called.append(desk.command(f"loket{i}", "call_next"))
    for service in ("KTP", "KTP", "KK", "PBB", "NIB"):
        desk.ticket(service)
    return called


def _label_ok(label: dict) -> bool:
    return not label["shortened"] and label["extent"] <= label["size"][0] + 1


@pytest.mark.parametrize("counters", [8, 16, 40])
def test_every_number_and_counter_name_is_readable_from_three_metres(counters, tmp_path, broker, run_dispatcher,
                                                                     mqtt_client):
    site = hall_site(tmp_path, counters)
    run_dispatcher(site)
    recorder = mqtt_client(topics=["antrian/buton/#"])
    recorder.wait_for("antrian/buton/board")
    desk = Desk(recorder)
    called = morning(desk, counters)
    report = {}
    for shape, size in SIZES.items():
        board = Board(site, broker.address, tmp_path / f"state-{shape}", size, tmp_path / f"board-{shape}.log")
        try:
            state = board.wait(connected=True, have_board=True, timeout=30)
            state = board.wait(latest_number=called[-1], idle=True, timeout=60)
            seen, pages = {}, []
            for page in range(state["pages"]):
                state = board.ask(cmd="page", page=page)
                sizes = board.ask(cmd="sizes")
                assert sizes["u"] == 1.0
                pages.append(sizes)
                for tile in sizes["tiles"]:
                    seen[tile["name"]["text"]] = tile["number"]["text"]
                board.shot(f"board-{counters}-{shape}-{page + 1}.png")
            if state["pages"] > 1:
                assert state["counters_heading"] == f"Loket — halaman {state['pages']} dari {state['pages']}"
                # The pages turn by themselves, every page_seconds (10 s by default).
                board.ask(cmd="page", page=0)
                board.wait(counters_heading=f"Loket — halaman 2 dari {state['pages']}", timeout=25)
        finally:
            board.close()

        # Every counter is on some page, with the number it serves.
        assert sorted(seen) == sorted(f"Loket {i}" for i in range(1, counters + 1))
        assert sorted(n for n in seen.values() if n != "–") == sorted(called)
        tiles = [t for p in pages for t in p["tiles"]]
        numbers = [t["number"]["font_size"] for t in tiles if t["number"]["text"] != "–"]
        names = [t["name"]["font_size"] for t in tiles]
        assert min(numbers) >= MIN_NUMBER and min(names) >= MIN_NAME, (shape, min(numbers), min(names))
        # Drawn whole: no "…", no text wider than its box.
        bad = [t["name"]["text"] for t in tiles if not (_label_ok(t["name"]) and _label_ok(t["number"]))]
        assert not bad, bad
        waiting = pages[0]["waiting"]
        assert [w["name"]["text"] for w in waiting if not _label_ok(w["name"])] == []
        # Bank Sultra never opens in this copy: its two services say so.
        assert [w["name"]["text"] for w in waiting if w["count"]["text"] == "Tutup"] == ["Tabungan",
                                                                                          "Pajak dan Retribusi"]
        report[shape] = {"grid": pages[0]["grid"], "pages": len(pages), "tile": pages[0]["tiles"][0]["size"],
                         "number_px": min(numbers), "name_px": min(names),
                         "detail_px": min(t["detail"]["font_size"] for t in tiles),
                         "waiting_name_px": min(w["name"]["font_size"] for w in waiting)}
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "board-sizes.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    known[f"kivy-{counters}"] = report
    path.write_text(json.dumps(known, indent=1, sort_keys=True))


MEASURE = """
const px = (e) => parseFloat(getComputedStyle(e).fontSize);
const box = (e) => ({text: e.textContent, font: px(e), width: e.getBoundingClientRect().width,
                     needed: e.scrollWidth, shown: e.clientWidth});
return {
  tiles: [...document.querySelectorAll('#petak > div')].map(t => ({
    name: box(t.querySelector('.petak-nama')), number: box(t.querySelector('.petak-nomor')),
    height: t.getBoundingClientRect().height, width: t.getBoundingClientRect().width})),
  waiting: [...document.querySelectorAll('#menunggu > div')].map(c => ({
    name: box(c.querySelector('.chip-nama')), count: c.querySelector('.chip-jumlah').textContent})),
  heading: document.getElementById('judul-loket').textContent,
  size: [window.innerWidth, window.innerHeight],
};
"""


def _fits(label: dict) -> bool:
    return label["needed"] <= label["shown"] + 1


@pytest.mark.parametrize("counters", [8, 16, 40])
def test_the_browser_board_follows_the_same_rule(counters, tmp_path, broker, run_dispatcher, mqtt_client, web_app):
    """The browser board (/papan/board3, the same view code through display/webboard.py)
    in Chromium at 1920x1080 and 1080x1920, measured with getComputedStyle and
    getBoundingClientRect. board3 is silent here (speaks: false): it fetches no sound."""
    from web_support import chrome_driver, quit_driver, screenshot, wait

    site = hall_site(tmp_path, counters, speaks=False)
    run_dispatcher(site)
    recorder = mqtt_client(topics=["antrian/buton/#"])
    recorder.wait_for("antrian/buton/board")
    called = morning(Desk(recorder), counters)
    app = web_app(site, "web1", users=tmp_path / "users")
    app.wait_broker()
    driver = chrome_driver(1920, 1080)
    report = {}
    try:
        driver.get(app.url + "/papan/board3")
        wait(driver, lambda d: d.execute_script("return !!window.papanLog"))
        for shape, (width, height) in {"landscape": (1920, 1080), "portrait": (1080, 1920)}.items():
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            driver.execute_script("window.dispatchEvent(new Event('resize'))")
            wait(driver, lambda d: d.execute_script(
                "return document.getElementById('nomor').textContent") == called[-1], timeout=30)
            seen, pages = {}, []
            grid = driver.execute_script("return window.papanPage(0)")
            for page in range(grid["pages"]):
                driver.execute_script("window.papanPage(arguments[0])", page)
                sizes = driver.execute_script(MEASURE)
                assert sizes["size"] == [width, height]
                pages.append(sizes)
                seen.update({t["name"]["text"]: t["number"]["text"] for t in sizes["tiles"]})
                screenshot(driver, ARTIFACTS / f"papan-{counters}-{shape}-{page + 1}.png", width, height)
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            assert sorted(seen) == sorted(f"Loket {i}" for i in range(1, counters + 1))
            assert sorted(n for n in seen.values() if n != "–") == sorted(called)
            tiles = [t for p in pages for t in p["tiles"]]
            numbers = [t["number"]["font"] for t in tiles if t["number"]["text"] != "–"]
            names = [t["name"]["font"] for t in tiles]
            assert min(numbers) >= MIN_NUMBER and min(names) >= MIN_NAME, (shape, min(numbers), min(names))
            assert [t["name"]["text"] for t in tiles if not (_fits(t["name"]) and _fits(t["number"]))] == []
            waiting = pages[0]["waiting"]
            assert [w["name"]["text"] for w in waiting if not _fits(w["name"])] == []
            assert [w["name"]["text"] for w in waiting if w["count"] == "Tutup"] == ["Tabungan", "Pajak dan Retribusi"]
            if grid["pages"] > 1:
                assert pages[-1]["heading"] == f"Loket — halaman {grid['pages']} dari {grid['pages']}"
                driver.execute_script("window.papanPage(0)")  # and they turn by themselves
                wait(driver, lambda d: d.execute_script("return document.getElementById('judul-loket').textContent")
                     == f"Loket — halaman 2 dari {grid['pages']}", timeout=25)
            report[shape] = {"grid": [grid["cols"], grid["rows"], grid["perPage"], grid["pages"]],
                             "tile": [round(tiles[0]["width"], 1), round(tiles[0]["height"], 1)],
                             "number_px": round(min(numbers), 1), "name_px": round(min(names), 1),
                             "waiting_name_px": round(min(w["name"]["font"] for w in waiting), 1)}
        # Silent: shown, never played.
        log = driver.execute_script("return window.papanLog")
        assert any(e["ev"] == "shown" for e in log) and not any(e["ev"] in ("play", "blocked") for e in log)
    finally:
        quit_driver(driver)
    path = ARTIFACTS / "board-sizes.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    known[f"browser-{counters}"] = report
    path.write_text(json.dumps(known, indent=1, sort_keys=True))


def _forty_services(tmp_path, recorder, **board3):
    """The 16-counter copy with 40 services, two tickets in its first added service and one
    in its last: the board names of all 40 in order, and the Board's seq that has them."""
    # hall_raw writes the plain example to site.yaml on its way: read it before the copy.
    names = [s.get("board_name") or s["name"] for a in hall_raw(tmp_path, 16, 40)["agencies"] for s in a["services"]]
    site = hall_site(tmp_path, 16, services=40, **board3)
    desk = Desk(recorder)
    for service in ("X01", "X01", "X28"):
        desk.ticket(service)
    board = recorder.wait_for("antrian/buton/board", lambda m: m.json()["waiting"].get("X28") == 1).json()
    return site, names, board["seq"]


def test_forty_services_page_on_the_kivy_board(tmp_path, broker, run_dispatcher, mqtt_client):
    recorder = mqtt_client(topics=["antrian/buton/#"])
    run_dispatcher(hall_site(tmp_path, 16, services=40))
    recorder.wait_for("antrian/buton/board")
    site, names, seq = _forty_services(tmp_path, recorder)
    for shape, size in SIZES.items():
        board = Board(site, broker.address, tmp_path / f"state-{shape}", size, tmp_path / f"board-{shape}.log")
        try:
            state = board.wait(connected=True, board_seq=seq, timeout=30)
            assert state["waiting_pages"] == 4
            shown, headings = [], []
            for page in range(4):
                state = board.ask(cmd="page", page=page)
                sizes = board.ask(cmd="sizes")
                shown += state["waiting"]
                headings.append(state["waiting_heading"])
                # Every page keeps the counters readable, and every waiting name whole.
                numbers = [t["number"]["font_size"] for t in sizes["tiles"]]
                assert min(numbers) >= MIN_NUMBER and min(t["name"]["font_size"] for t in sizes["tiles"]) >= MIN_NAME
                assert [w["name"]["text"] for w in sizes["waiting"] if not _label_ok(w["name"])] == []
                assert min(w["name"]["font_size"] for w in sizes["waiting"]) >= 22
                board.shot(f"board-40-layanan-{shape}-{page + 1}.png")
            assert headings == [f"Jumlah menunggu — halaman {p} dari 4" for p in range(1, 5)]
            assert [w[1] for w in shown] == names  # each once, in the site file's order
            counts = {w[1]: w[2] for w in shown}
            assert (counts["Disdukcapil 1"], counts[names[-1]], counts["Tabungan"]) == (2, 1, "Tutup")
            # They turn by themselves, with the counters (every page_seconds).
            board.ask(cmd="page", page=0)
            board.wait(waiting_heading="Jumlah menunggu — halaman 2 dari 4", timeout=25)
        finally:
            board.close()


def test_forty_services_page_on_the_browser_board(tmp_path, broker, run_dispatcher, mqtt_client, web_app):
    from web_support import chrome_driver, quit_driver, screenshot, wait

    recorder = mqtt_client(topics=["antrian/buton/#"])
    run_dispatcher(hall_site(tmp_path, 16, services=40, speaks=False))
    recorder.wait_for("antrian/buton/board")
    site, names, _seq = _forty_services(tmp_path, recorder, speaks=False)
    app = web_app(site, "web1", users=tmp_path / "users")
    app.wait_broker()
    driver = chrome_driver(1920, 1080)
    try:
        driver.get(app.url + "/papan/board3")
        wait(driver, lambda d: d.execute_script("return !!window.papanLog"))
        for shape, (width, height) in {"landscape": (1920, 1080), "portrait": (1080, 1920)}.items():
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            driver.execute_script("window.dispatchEvent(new Event('resize'))")
            wait(driver, lambda d: d.execute_script("return window.papanPage(0)")["waitingPages"] == 4, timeout=30)
            shown, headings = [], []
            for page in range(4):
                driver.execute_script("window.papanPage(arguments[0])", page)
                sizes = driver.execute_script(MEASURE)
                headings.append(driver.execute_script("return document.getElementById('judul-menunggu').textContent"))
                shown += [(w["name"]["text"], w["count"]) for w in sizes["waiting"]]
                assert min(t["number"]["font"] for t in sizes["tiles"]) >= MIN_NUMBER
                assert min(t["name"]["font"] for t in sizes["tiles"]) >= MIN_NAME
                assert [w["name"]["text"] for w in sizes["waiting"] if not _fits(w["name"])] == []
                assert min(w["name"]["font"] for w in sizes["waiting"]) >= 22
                screenshot(driver, ARTIFACTS / f"papan-40-layanan-{shape}-{page + 1}.png", width, height)
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            assert headings == [f"Jumlah menunggu — halaman {p} dari 4" for p in range(1, 5)]
            assert [name for name, _ in shown] == names
            counts = dict(shown)
            assert (counts["Disdukcapil 1"], counts[names[-1]], counts["Tabungan"]) == ("2", "1", "Tutup")
        driver.execute_script("window.papanPage(0)")  # and they turn by themselves
        wait(driver, lambda d: d.execute_script("return document.getElementById('judul-menunggu').textContent")
             == "Jumlah menunggu — halaman 2 dari 4", timeout=25)
    finally:
        quit_driver(driver)
