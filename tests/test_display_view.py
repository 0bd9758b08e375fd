"""Pure parts of the board: the display options of the site file and what the screen shows."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
import yaml

from antrian.adapters.link import NOTICES
from antrian.site import ConfigError, build, load
from display.options import DisplayOptions, ZoneSpec, clip_words, needed_clips, read, zone_counters
from display import view
from conftest import BUTON

RAW = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
WITA = dt.timezone(dt.timedelta(hours=8))


def with_board(**options):
    raw = copy.deepcopy(RAW)
    board = next(d for d in raw["devices"] if d["id"] == "board1")
    for key in list(board):
        if key not in ("id", "role", "name"):
            del board[key]
    board.update(options)
    return build(raw, "site.yaml"), [d["id"] for d in raw["devices"]].index("board1")


def test_the_example_boards_read_as_documented():
    config = load(BUTON)
    assert read(config, "board1") == DisplayOptions(voice="id", rate=140, volume=1.0, repeat=2, min_call_seconds=5.0)
    assert read(config, "board2") == DisplayOptions(speech="espeak-ng", orientation="portrait",
                                                    zone=ZoneSpec(agencies=("disdukcapil",)),
                                                    hall="Ruang tunggu Disdukcapil")
    assert zone_counters(config, read(config, "board2").zone) == {"loket1", "loket2", "loket3", "loket4"}
    assert zone_counters(config, read(config, "board1").zone) is None
    with pytest.raises(ConfigError, match="no display device 'kiosk1'"):
        read(config, "kiosk1")


@pytest.mark.parametrize("options,message", [
    ({"speech": "festival"}, "speech: 'festival' is not one of pyttsx3, espeak-ng, clips"),
    ({"rate": 1000}, "rate: 1000 is out of range 60..300"),
    ({"rate": 150.5}, "rate: must be a whole number, not float 150.5"),
    ({"volume": 2}, "volume: 2 is out of range 0..1"),
    ({"repeat": True}, "repeat: must be a whole number, not true"),
    ({"min_call_seconds": -1}, "min_call_seconds: -1 is out of range 0..60"),
    ({"chime": "ya"}, "chime: must be true or false, not the text 'ya'"),
    ({"voice": "id; rm -rf /"}, "voice: 'id; rm -rf /' is not valid"),
    ({"audio": "bluetooth"}, "audio: 'bluetooth' is not one of auto, alsa, wav, none"),
    ({"orientation": "upside-down"}, "orientation: 'upside-down' is not one of auto, landscape, portrait"),
    ({"speech": "clips"}, "clips: required with speech: clips"),
    ({"speech": "clips", "clips": "no/such/folder"}, "clips: folder"),
    ({"voise": "id"}, "voise: unknown key for a display"),
])
def test_bad_display_options_are_reported_with_their_path(options, message):
    with pytest.raises(ConfigError) as caught:
        with_board(**options)
    _, index = with_board()
    problems = [f"{path}: {text}" for path, text in caught.value.problems]
    assert any(p.startswith(f"devices[{index}].{message}") for p in problems), problems


def test_clip_words_and_the_clips_a_site_needs():
    assert clip_words("Nomor antrean be, dua belas, silakan menuju loket tiga.") == [
        "nomor", "antrean", "be", ",", "dua", "belas", ",", "silakan", "menuju", "loket", "tiga", "."]
    words = needed_clips(load(BUTON))
    # The sentence, the prefixes used (A-H, J-M: no I, no O), and numbers up to the biggest quota (60).
    assert {"nomor", "antrean", "silakan", "menuju", "loket", "ha", "je", "em"} <= set(words)
    assert {"satu", "sebelas", "belas", "puluh", "enam"} <= set(words) and "seratus" not in words
    assert "i" not in words and "o" not in words and "ribu" not in words
    # The remote counter daring1's call says its location, Bilik Layanan Daring (issue 14, item 7).
    assert {"bilik", "layanan", "daring"} <= set(words)


def test_a_remote_counter_sends_the_hall_to_its_location():
    config = load(BUTON)
    call = {"seq": 3, "number": "M-004", "counter": "daring1", "counter_name": "Daring 1",
            "location": "Bilik Layanan Daring"}
    assert view.call_place(call) == "Bilik Layanan Daring"
    assert view.call_place({**call, "location": None}) == view.call_place({"counter_name": "Daring 1"}) \
        == "Daring 1"
    board = {"counters": [{"counter": "daring1", "name": "Daring 1", "status": "open", "serving": "M-004",
                           "service_name": "Perizinan lain (izin operasional, izin praktik, reklame)",
                           "location": "Bilik Layanan Daring"}]}
    tiles = {t.counter: t for t in view.counter_tiles(config, board)}
    assert (tiles["daring1"].name, tiles["daring1"].number, tiles["daring1"].agency) == (
        "Daring 1", "M-004", "Bilik Layanan Daring")
    # A board from a dispatcher that predates `location` still finds it in the site file.
    tiles = {t.counter: t for t in view.counter_tiles(config, {"counters": [{**board["counters"][0], "location": None}]})}
    assert tiles["daring1"].agency == "Bilik Layanan Daring" and tiles["loket1"].agency == "Disdukcapil"


def test_counter_tiles_follow_the_board_and_the_site_file():
    config = load(BUTON)
    assert [t.number for t in view.counter_tiles(config, None)] == [view.NO_NUMBER] * 9
    board = {"counters": [
        {"counter": "loket1", "name": "Loket 1", "status": "open", "serving": "A-012",
         "service_name": "KTP Elektronik (perekaman, cetak, penggantian)"},
        {"counter": "loket2", "name": "Loket 2", "status": "paused", "serving": "A-010", "service_name": "KTP"},
        {"counter": "loket3", "name": "Loket 3", "status": "open", "serving": None, "service_name": None},
    ]}
    tiles = {t.counter: t for t in view.counter_tiles(config, board)}
    assert (tiles["loket1"].number, tiles["loket1"].detail) == ("A-012", "KTP Elektronik")
    assert (tiles["loket2"].number, tiles["loket2"].detail, tiles["loket2"].status) == ("A-010", "Istirahat", "paused")
    assert (tiles["loket3"].number, tiles["loket3"].detail, tiles["loket3"].agency) == (view.NO_NUMBER, "", "Disdukcapil")
    assert tiles["loket8"].status == "closed"  # not on the board: shown closed, not invented


def test_waiting_rows_are_every_service_in_the_site_files_order():
    config = load(BUTON)
    board = {"waiting": {"KTP": 4, "KK": 0, "TAB": 9, "BAYAR": 2}}
    rows = view.waiting_rows(config, board)
    assert [r.prefix for r in rows] == list("ABCDEFGHJKLM") and rows[0].count == 4
    # The site file's board names, whole (issue 16): not "Bea Perolehan Hak atas …".
    assert [r.name for r in rows] == ["KTP Elektronik", "Kartu Keluarga", "Akta Kelahiran", "Surat Pindah",
                                      "Kartu Identitas Anak", "Tabungan", "Pajak dan Retribusi", "PBB-P2", "BPHTB",
                                      "NIB (OSS)", "PBG (SIMBG)", "Perizinan lain"]
    assert view.waiting_pages(rows) == [rows]  # twelve fit one page
    assert view.waiting_heading(0, 1) == "Jumlah menunggu"


def test_a_site_of_40_services_pages_its_waiting_list_in_order(tmp_path):
    """Past WAITING_PAGE services the list pages (issue 16): every service on exactly one
    page, in the site file's order (a citizen finds theirs at the same place each time),
    the pages shared evenly, none over WAITING_PAGE rows."""
    from board_sites import hall_raw, hall_site, service_codes

    config = load(hall_site(tmp_path, 16, services=40))
    waiting = {code: i for i, code in enumerate(config.services)}
    rows = view.waiting_rows(config, {"waiting": waiting})
    pages = view.waiting_pages(rows)
    assert len(pages) == 4 and [len(p) for p in pages] == [10, 10, 10, 10]
    assert [r.service for p in pages for r in p] == service_codes(hall_raw(tmp_path, 16, 40)) == list(config.services)
    assert [r.count for p in pages for r in p] == list(range(40))
    assert [view.waiting_heading(i, 4) for i in (0, 3)] == ["Jumlah menunggu — halaman 1 dari 4",
                                                             "Jumlah menunggu — halaman 4 dari 4"]
    for count, shape in ((13, [7, 6]), (24, [12, 12]), (25, [9, 9, 7]), (0, [0])):
        assert [len(p) for p in view.waiting_pages(rows[:count])] == shape
    # A zoned board pages only its zone's services: Disdukcapil's 12 fit one page.
    zone = frozenset(c.id for c in config.counters.values() if c.agency == "disdukcapil")
    zoned = view.waiting_rows(config, None, zone=zone)
    assert len(zoned) == 12 and len(view.waiting_pages(zoned)) == 1


def test_recent_rows_are_the_calls_before_the_one_on_the_big_card():
    board = {"recent": [{"seq": s, "number": f"A-00{s}", "counter_name": "Loket 1"} for s in (5, 4, 3, 2, 1)]}
    assert [c["seq"] for c in view.recent_rows(board, shown_seq=4, limit=2)] == [3, 2]
    assert view.recent_rows(None, 4, 3) == []


def test_a_recalled_ticket_is_listed_once_under_the_earlier_calls():
    """Issue 16, item 3: A-012 called, then B-003, then A-012 recalled, then C-001."""
    calls = [(5, "A-012", False), (6, "B-003", False), (7, "A-012", True), (8, "C-001", False)]
    board = {"recent": [{"seq": s, "number": n, "counter_name": "Loket 1", "recall": r} for s, n, r in calls]}
    rows = lambda shown: [(c["seq"], c["number"]) for c in view.recent_rows(board, shown_seq=shown, limit=3)]
    assert rows(8) == [(7, "A-012"), (6, "B-003")]  # the recall, not the first call as well
    assert rows(7) == [(6, "B-003")]  # A-012 is on the big card (its recall)
    assert rows(6) == [(5, "A-012")]  # the recall not shown yet: the first call is what the hall heard


NOON = dt.datetime(2026, 11, 22, 12, 0, tzinfo=WITA)


@pytest.mark.parametrize("state,expected", [
    ({}, ""),
    ({"connected": False, "offline_for": 1.0}, ""),  # a blip is not worth a red banner
    ({"connected": False, "offline_for": 5.0}, view.BANNER["offline"]),
    ({"dispatcher_online": False}, view.BANNER["dispatcher"]),
    ({"dispatcher_notice": NOTICES["clock_behind"]}, "Jam server tertinggal — hubungi teknisi"),
    ({"dispatcher_notice": NOTICES["clock_behind"], "board_day": "2026-11-21"}, NOTICES["clock_behind"]),
    ({"dispatcher_notice": NOTICES["clock_behind"], "dispatcher_online": False}, view.BANNER["dispatcher"]),
    ({"have_board": False, "waited_for_board": 1.0}, ""),
    ({"have_board": False, "waited_for_board": 3.0}, view.BANNER["waiting"]),
    ({"board_day": "2026-11-21"}, view.BANNER["old_day"]),
    ({"board_day": "2026-11-21", "now": NOON.replace(hour=0, minute=0, second=30)}, ""),
])
def test_the_banner(state, expected):
    args = {"connected": True, "offline_for": 0.0, "have_board": True, "waited_for_board": 10.0,
            "dispatcher_online": True, "board_day": "2026-11-22", "now": NOON, **state}
    assert view.banner(**args) == expected
    assert "antrean" in view.BANNER["offline"] and "antrian" not in " ".join(view.BANNER.values())


def test_a_service_without_a_board_name_keeps_its_short_name_and_a_long_one_is_refused():
    raw = copy.deepcopy(RAW)
    services = raw["agencies"][0]["services"]
    del services[0]["board_name"]
    assert view.waiting_rows(build(raw, "site.yaml"), None)[0].name == "KTP Elektronik"
    services[0]["board_name"] = "Kartu Tanda Penduduk Elektronik"
    with pytest.raises(ConfigError) as caught:
        build(raw, "site.yaml")
    assert ("agencies[0].services[0].board_name", "'Kartu Tanda Penduduk Elektronik' is not valid: at most 20 "
            "characters, so the board shows it whole") in caught.value.problems
    assert "site.yaml" in str(caught.value)


def test_closed_services_say_tutup_by_the_clock():
    """Bank Sultra's cash closes at 14:00 (schedule bank): at 14:10 its two services are
    closed on the board, KTP open until 15:00; at night everything is closed."""
    config = load(BUTON)
    monday = dt.datetime(2026, 11, 23, 14, 10, tzinfo=WITA)
    rows = {r.service: r.closed for r in view.waiting_rows(config, None, now=monday)}
    assert rows["TAB"] and rows["BAYAR"] and not rows["KTP"] and not rows["BPHTB"]
    assert not any(r.closed for r in view.waiting_rows(config, None, now=monday.replace(hour=10)))
    assert all(r.closed for r in view.waiting_rows(config, None, now=monday.replace(hour=20)))
    assert not any(r.closed for r in view.waiting_rows(config, None))  # no clock: nothing said


def test_a_zoned_board_shows_only_its_counters_services_and_calls():
    config = load(BUTON)
    zone = zone_counters(config, read(config, "board2").zone)
    assert [t.counter for t in view.counter_tiles(config, None, zone)] == ["loket1", "loket2", "loket3", "loket4"]
    assert [r.service for r in view.waiting_rows(config, None, zone=zone)] == ["KTP", "KK", "AKTA", "PINDAH",
                                                                                 "KIA"]
    calls = [{"seq": 3, "number": "G-001", "counter": "loket7"}, {"seq": 2, "number": "A-001", "counter": "loket1"},
             {"seq": 1, "number": "H-001", "counter": "loket5"}]
    board = {"seq": 3, "recent": calls}
    assert [c["number"] for c in view.recent_rows(board, 9, 3, zone)] == ["A-001"]
    assert view.zoned_board(board, zone) == {"seq": 3, "recent": [calls[1]]}
    assert view.zoned_board(board, None) is board
    assert view.in_zone(calls[1], zone) and not view.in_zone(calls[0], zone) and view.in_zone(calls[0], None)
    # A zone of counters and agencies together.
    both = zone_counters(config, ZoneSpec(agencies=("bapenda",), counters=("loket7",)))
    assert both == {"loket5", "loket7"}


@pytest.mark.parametrize("options,message", [
    ({"zone": {"agencies": ["dukcapil"]}}, "zone.agencies[0]: unknown agency 'dukcapil' (known: disdukcapil, "
                                          "bank_sultra, bapenda, dpmptsp)"),
    ({"zone": {"counters": ["loket1", "loket99"]}}, "zone.counters[1]: unknown counter 'loket99' (known: loket1"),
    ({"zone": {}}, "zone: a zone names at least one agency or counter"),
    ({"zone": {"loket": ["loket1"]}}, "zone.loket: unknown key for a zone"),
    ({"speaks": "ya"}, "speaks: must be true or false"),
    ({"page_seconds": 1}, "page_seconds: 1 is out of range 3..120"),
])
def test_bad_zones_are_reported_with_their_path(options, message):
    with pytest.raises(ConfigError) as caught:
        with_board(**options)
    _, index = with_board()
    problems = [f"{path}: {text}" for path, text in caught.value.problems]
    assert any(p.startswith(f"devices[{index}].{message}") for p in problems), problems


def _boards(*boards):
    raw = copy.deepcopy(RAW)
    raw["devices"] = [d for d in raw["devices"] if d["role"] != "display"] + [
        {"id": f"tv{i}", "role": "display", **b} for i, b in enumerate(boards, 1)]
    return raw


@pytest.mark.parametrize("boards,clash", [
    # Two boards of one hall that both speak every call: each call said twice at once.
    (({}, {}), "tv1 also speaks the calls of Loket 1, Loket 2, Loket 3, Loket 4, Loket 5, Loket 6 and 3 more"),
    # The whole site and a zone inside it, in one hall.
    (({}, {"zone": {"agencies": ["disdukcapil"]}}), "tv1 also speaks the calls of Loket 1, Loket 2, Loket 3, Loket 4 "
                                                     "in the main hall"),
    # Zones that share one counter.
    (({"zone": {"agencies": ["bapenda"]}, "hall": "Lantai 2"},
      {"zone": {"counters": ["loket5", "loket6"]}, "hall": "Lantai 2"}),
     "tv1 also speaks the calls of Loket 5 in hall 'Lantai 2'"),
    # Apart: zones that share nothing, different halls, a board that only shows.
    (({"zone": {"agencies": ["disdukcapil"]}}, {"zone": {"agencies": ["bapenda", "dpmptsp", "bank_sultra"]}}), None),
    (({}, {"hall": "Lantai 2"}), None),
    (({}, {"speaks": False}), None),
    (({"speaks": False}, {}, {"zone": {"counters": ["loket1"]}, "hall": "Lantai 2"}), None),
])
def test_boards_that_speak_in_one_hall_share_no_counter(boards, clash):
    raw = _boards(*boards)
    if clash is None:
        build(raw, "site.yaml")
        return
    with pytest.raises(ConfigError) as caught:
        build(raw, "site.yaml")
    index = [d["id"] for d in raw["devices"]].index("tv2")
    [(path, text)] = caught.value.problems
    assert path == f"devices[{index}].speaks" and text.startswith(clash), text
    assert "speaks: false" in text


def test_page_grid_keeps_tiles_readable_and_pages_even():
    # The counters' area of a 1920x1080 board (display/board.kv) and a portrait one.
    landscape, portrait = (1183, 426), (1032, 494)
    for area in (landscape, portrait):
        for count in (1, 8, 9, 16, 40, 60):
            grid = view.page_grid(count, *area)
            assert grid.cols * grid.rows >= grid.per_page and grid.per_page * grid.pages >= count
            assert grid.per_page * (grid.pages - 1) < count  # no empty page
            width = (area[0] - view.TILE_GAP * (grid.cols - 1)) / grid.cols
            height = (area[1] - view.TILE_GAP * (grid.rows - 1)) / grid.rows
            assert width >= view.TILE_MIN_W and height >= view.TILE_MIN_H, (count, area, grid)
    assert view.page_grid(9, *landscape) == view.Grid(5, 2, 9, 1)
    assert view.page_grid(40, *landscape) == view.Grid(5, 3, 14, 3)
    assert view.page_grid(16, *portrait) == view.Grid(4, 4, 16, 1)
    # Half the screen (u = 0.5) holds the same tiles.
    assert view.page_grid(40, 1183 / 2, 426 / 2, 0.5) == view.page_grid(40, *landscape)


def test_a_booking_is_marked_on_its_tile():
    config = load(BUTON)
    row = {"counter": "loket1", "name": "Loket 1", "status": "open", "serving": "A-012",
           "service_name": "KTP Elektronik (perekaman, cetak, penggantian)", "booking": True}
    tile = view.counter_tiles(config, {"counters": [row]})[0]
    assert tile.booking and tile.detail == "Reservasi · KTP Elektronik"
    tile = view.counter_tiles(config, {"counters": [{**row, "booking": None}]})[0]
    assert not tile.booking and tile.detail == "KTP Elektronik"


def test_an_open_counter_whose_services_all_closed_says_tutup_when_idle():
    config = load(BUTON)
    monday = dt.datetime(2026, 11, 23, 14, 10, tzinfo=WITA)
    rows = [{"counter": "loket7", "name": "Loket 7", "status": "open", "serving": None, "service_name": None},
            {"counter": "loket8", "name": "Loket 8", "status": "open", "serving": "G-040",
             "service_name": "Pembayaran pajak daerah, PBB, BPHTB dan retribusi"},
            {"counter": "loket1", "name": "Loket 1", "status": "open", "serving": None, "service_name": None}]
    tiles = {t.counter: t for t in view.counter_tiles(config, {"counters": rows}, now=monday)}
    # Still serving the last of the day's tickets: its number and service, not "Tutup".
    assert (tiles["loket7"].detail, tiles["loket8"].detail, tiles["loket1"].detail) == (
        "Tutup", "Pajak dan Retribusi", "")
    assert tiles["loket7"].status == "open"


def test_check_config_names_the_file_and_the_field_of_a_clash(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    raw = _boards({}, {"zone": {"agencies": ["disdukcapil", "dukcapil"]}})
    path = tmp_path / "mpp.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    index = [d["id"] for d in raw["devices"]].index("tv2")
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "check-config", str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert f"{path}: devices[{index}].zone.agencies[1]: unknown agency 'dukcapil'" in out, out
    assert f"{path}: devices[{index}].speaks: tv1 also speaks the calls of Loket 1, Loket 2, Loket 3, Loket 4 in " \
           "the main hall" in out, out
