"""Pure parts of the board: the display options of the site file and what the screen shows."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
import yaml

from antrian.adapters.link import NOTICES
from antrian.site import ConfigError, build, load
from display.options import DisplayOptions, clip_words, needed_clips, read
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
    assert read(config, "board2") == DisplayOptions(speech="espeak-ng", orientation="portrait")
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
    # The sentence, the prefixes used (A-H, J-M: no I, no O), and numbers up to the biggest quota (200).
    assert {"nomor", "antrean", "silakan", "menuju", "loket", "ha", "je", "em"} <= set(words)
    assert {"satu", "sebelas", "belas", "puluh", "seratus", "ratus"} <= set(words)
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


def test_waiting_rows_keep_the_busiest_services_when_too_many():
    config = load(BUTON)
    board = {"waiting": {"KTP": 4, "KK": 0, "TAB": 9, "BAYAR": 2}}
    rows = view.waiting_rows(config, board, limit=16)
    assert [r.prefix for r in rows] == list("ABCDEFGHJKLM") and rows[0].count == 4
    assert rows[6].name == "Pembayaran pajak daerah"
    assert [(r.prefix, r.count) for r in view.waiting_rows(config, board, limit=3)] == [("A", 4), ("F", 9), ("G", 2)]


def test_recent_rows_are_the_calls_before_the_one_on_the_big_card():
    board = {"recent": [{"seq": s, "number": f"A-00{s}", "counter_name": "Loket 1"} for s in (5, 4, 3, 2, 1)]}
    assert [c["seq"] for c in view.recent_rows(board, shown_seq=4, limit=2)] == [3, 2]
    assert view.recent_rows(None, 4, 3) == []


def test_grid_columns_make_tiles_close_to_the_wanted_shape():
    assert view.grid_columns(8, 1100, 420) == 4
    assert view.grid_columns(8, 1030, 900) == 3
    assert view.grid_columns(40, 1100, 450) >= 7
    assert view.grid_columns(0, 100, 100) == 1


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
