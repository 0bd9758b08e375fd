"""The end-to-end acceptance run: `antrian morning` on the Buton example, checked from its outputs.

The morning runs once (a subprocess, about 15 s) on the real broker, dispatcher, kiosk desk,
panel on mock pins and announcer; the tests read what it left in its folder: the SQLite
store, morning.json, the ticket files, the WAVs and the report.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import logging
import re
import json
import os
import subprocess
import sys
import time
import wave
from collections import Counter
from pathlib import Path

import pytest

from antrian import bahasa
from antrian.site import load
from antrian.adapters.store import Store
from antrian.slow import scaled
from conftest import BUTON, ROOT

pytest.importorskip("gpiozero")
pytest.importorskip("escpos")

# What the script does, in the order it must come out (see mall/morning/script.py):
# loket1 serves KTP and KIA, loket2 KTP and KK; priority_streak is 2.
EXPECTED_CALLS = [
    ("A-004", "loket1", False),  # the lansia ticket before the three older KTP ones
    ("A-004", "loket1", True),   # RECALL
    ("A-001", "loket1", False),  # then held: no-show
    ("A-002", "loket1", False),  # then transferred to KK
    ("B-002", "loket2", False),  # after the broker restart: priority (disabilitas)
    ("A-007", "loket2", False),  # priority (lansia): the second of the streak
    ("A-002", "loket2", False),  # streak of 2 reached: the oldest other ticket, A-002 now in KK
    ("B-003", "loket2", False),  # priority (ibu hamil)
    ("A-003", "loket2", False),
    ("B-001", "loket2", False),
    ("A-005", "loket2", False),
    ("A-006", "loket2", False),
    ("E-001", "loket1", False),  # KIA, issued just before the broker restart
]


@pytest.fixture(scope="module")
def morning(tmp_path_factory):
    out = tmp_path_factory.mktemp("morning") / "pagi"
    proc = subprocess.run([sys.executable, "-m", "antrian.cli", "morning", "--config", str(BUTON), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=scaled(120))
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads((out / "morning.json").read_text(encoding="utf-8"))
    return out, summary, proc.stdout


@pytest.fixture(scope="module")
def events(morning):
    out, summary, _ = morning
    config = load(out / "site.yaml")
    store = Store(out / "antrian.db", config.tz)
    try:
        return store.events(summary["business_day"])
    finally:
        store.close()


def test_it_exits_0_and_says_where_everything_is(morning):
    out, summary, stdout = morning
    for name in ("tickets", "audio", "report", "antrian.db", "morning.json"):
        assert str(out / name) in stdout
    assert (out / "report" / "laporan.html").is_file()
    assert summary["seconds"] < scaled(60)  # against a hang, not a speed figure
    assert summary["missing"] == []
    if os.environ.get("DISPLAY"):  # under xvfb-run: the board and a kiosk in windows, shot at the end
        for role in ("board", "kiosk"):
            assert summary["screenshots"][role] == str(out / f"{role}.png")
            assert (out / f"{role}.png").stat().st_size > 10_000
    else:
        assert summary["screenshots"]["board"].startswith("skipped: no DISPLAY")


def test_a_morning_that_did_not_make_what_it_promises_exits_1_naming_it(tmp_path, monkeypatch, capsys):
    """A screenshot, a ticket's files or an announcement promised and not made is no success:
    exit 1 and one line saying what is missing (the summary is still printed and written)."""
    import mall.morning
    from antrian.cli.main import main
    from mall.morning.script import missing

    wav = tmp_path / "01-A-001-loket1-1.wav"
    wav.write_bytes(b"RIFF")
    (tmp_path / "report").mkdir()
    summary = {
        "site": "buton", "business_day": "2026-11-23", "folder": str(tmp_path), "seconds": 1.0,
        "kiosk": [{"service": "KTP", "outcome": "printed", "expected": "printed"},
                  {"service": "KK", "outcome": "print_failed", "expected": "printed"}],
        "tickets": [{"number": "A-001", "bin": str(wav), "png": str(tmp_path / "001-A-001.png")}],
        "calls": [{"seq": 1}, {"seq": 2}],
        "announcements": [{"seq": 1, "spoken": True, "wav": [str(wav), str(wav)]},
                          {"seq": 2, "spoken": True, "wav": [str(wav)]}],
        "report": {"folder": str(tmp_path / "report"), "issued": 2, "served": 0, "no_show": 0, "waiting_at_close": 2,
                   "wait_mean_min": None, "wait_max_min": None, "service_mean_min": None},
        "clock": {"factor": 480.0, "start": "2026-11-23T08:00:00+08:00", "end": "2026-11-23T08:08:00+08:00"},
        "screenshots": {"board": "not taken: no answer from its window within 20 s (see board-window.log)",
                        "kiosk": str(tmp_path / "kiosk.png")},
        "machine": {"slow": 6.0, "windows_opened_s": {"kiosk": 21.5}},
    }
    calls = [{"seq": 1, "number": "A-001", "counter": "loket1"}, {"seq": 2, "number": "A-002", "counter": "loket1"},
             {"seq": 3, "number": "A-003", "counter": "loket2"}]
    gaps = missing(summary, calls)
    assert gaps == ["the kiosk's KK ticket (print_failed, expected printed)", "ticket A-001's png file",
                    "the chime and sentence WAVs of A-002 at loket1", "the announcement of A-003 at loket2",
                    "the report (report/laporan.html)",
                    "the board screenshot (not taken: no answer from its window within 20 s (see board-window.log))"]

    monkeypatch.setattr(mall.morning, "run", lambda config, out: {**summary, "missing": gaps})
    assert main(["morning", "--config", str(BUTON), "--out", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "board screen   not taken" in out  # what it did make is still said
    assert "ANTRIAN_SLOW=6 (every wait scaled by it); windows opened in kiosk 21.5 s" in out
    (line,) = err.strip().splitlines()
    assert line.startswith("antrian morning: not made: the kiosk's KK ticket") and "the board screenshot" in line
    summary["missing"] = []
    monkeypatch.setattr(mall.morning, "run", lambda config, out: summary)
    assert main(["morning", "--config", str(BUTON), "--out", str(tmp_path)]) == 0


def test_tickets_are_called_in_the_right_order(events, morning):
    _, summary, _ = morning
    calls = [(e.number, e.counter, e.kind == "recalled") for e in events
             if e.kind in ("called", "recalled")]
    assert calls == EXPECTED_CALLS
    # What the boards received is what the store holds, seq by seq.
    assert [(c["number"], c["counter"], c["recall"]) for c in summary["calls"]] == EXPECTED_CALLS
    assert [c["seq"] for c in summary["calls"]] == list(range(1, len(EXPECTED_CALLS) + 1))


def test_priority_comes_first_within_the_streak_rule(events):
    """Replay the store with a model of the rule: at each NEXT, a priority ticket of the
    counter's services if one waits and the counter's streak is under 2, else the oldest."""
    config = load(BUTON)
    streak = config.queue.priority_streak
    waiting: dict[str, tuple[int, str, bool]] = {}  # number -> (order, service, priority)
    streaks: Counter[str] = Counter()
    serving: dict[str, tuple[int, str, bool]] = {}
    order = 0
    for e in events:
        d = vars(e)  # the event's fields by name
        if e.kind == "issued":
            order += 1
            waiting[d["number"]] = (order, d["service"], bool(d["priority"]))
        elif e.kind == "transferred":
            o, _, p = serving.pop(d["number"])
            waiting[d["number"]] = (o, d["to_service"], p)
        elif e.kind == "called" and d.get("via") == "next":
            services = config.counters[d["counter"]].services
            mine = sorted((o, n, p) for n, (o, s, p) in waiting.items() if s in services)
            prio = [t for t in mine if t[2]]
            other = [t for t in mine if not t[2]]
            expected = prio[0] if prio and (not other or streaks[d["counter"]] < streak) else other[0]
            assert d["number"] == expected[1], f"{d['counter']} called {d['number']}, the rule says {expected[1]}"
            streaks[d["counter"]] = streaks[d["counter"]] + 1 if expected[2] else 0
            serving[d["number"]] = waiting.pop(d["number"])
    assert not waiting


def test_announcements_say_exactly_each_call(events, morning):
    """Every call is said: in full with the chime, or -- when it waited behind another -- once in
    the short form without it (display/announcer.py, issue 16 item 3); a call its counter
    superseded before it was said is only allowed when that counter called again."""
    config = load(BUTON)
    _, summary, _ = morning
    calls = [e for e in events if e.kind in ("called", "recalled")]
    said = {a["seq"]: a for a in summary["announcements"]}
    assert summary["announcements"][0]["text"] == "Nomor antrean a, empat, silakan menuju loket satu."
    for e in calls:
        name = config.counters[e.counter].name
        recall = e.kind == "recalled"
        a = said.get(e.seq)
        if a is None:
            assert any(c.counter == e.counter and c.seq > e.seq for c in calls), f"{e.number} never said"
            continue
        full = bahasa.announcement(e.number, name, template=config.announcement.template,
                                   digits=config.announcement.digits, recall=recall)
        short = bahasa.short_announcement(e.number, name, digits=config.announcement.digits, recall=recall)
        assert a["spoken"] and a["text"] == (short if a["short"] else full), a
        assert len(a["wav"]) == (1 if a["short"] else 2)  # the chime (not in the short form), then the sentence
        for path in a["wav"]:
            with wave.open(path) as w:
                assert w.getnframes() > w.getframerate() * 0.3  # something audible, not an empty file
    assert len(list((Path(summary["folder"]) / "audio").glob("*.wav"))) == sum(len(a["wav"]) for a in said.values())


def test_no_ticket_lost_or_doubled_across_the_broker_restart(events, morning):
    _, summary, _ = morning
    issued = [e.number for e in events if e.kind == "issued"]
    assert len(issued) == len(set(issued))
    by_prefix: dict[str, list[int]] = {}
    for number in issued:
        prefix, n = number.split("-")
        by_prefix.setdefault(prefix, []).append(int(n))
    assert all(ns == list(range(1, len(ns) + 1)) for ns in by_prefix.values()), by_prefix
    # Every ticket the kiosk got is in the store, and nothing else: the refused one
    # (paper out) was never issued.
    got = [k["number"] for k in summary["kiosk"] if k["number"]]
    assert sorted(got) == sorted(issued)
    outcomes = [k["outcome"] for k in summary["kiosk"]]
    assert outcomes.count("printer_problem") == 1 and outcomes.count("printed") == len(issued)
    # The tickets issued just before and after the restart are both there and were served.
    notes = summary["notes"]
    restart = notes.index("broker: restarting")
    before = [n for n in notes[:restart] if n.startswith("kiosk:") and "printed" in n][-1].split()[-1]
    after = [n for n in notes[restart:] if n.startswith("kiosk:") and "printed" in n][0].split()[-1]
    final = {}
    for e in events:
        if e.kind in ("served", "no_show", "transferred"):
            final[e.number] = e.kind
    assert final[before] == "served" and final[after] == "served"
    assert sorted(final) == sorted(issued)  # every ticket reached an end, none twice issued
    assert Counter(final.values()) == {"served": len(issued) - 1, "no_show": 1}


def test_every_printed_ticket_has_escpos_bytes_and_a_png(morning):
    _, summary, _ = morning
    from PIL import Image

    assert summary["printer_jobs"] >= len(summary["tickets"])
    for t in summary["tickets"]:
        data = Path(t["bin"]).read_bytes()
        assert data.startswith(b"\x1b@") and t["number"].encode() in data
        with Image.open(t["png"]) as img:
            assert img.width > 300 and img.height > img.width


def test_the_report_totals_add_up_and_match_the_store(events, morning):
    out, summary, _ = morning
    kinds = Counter(e.kind for e in events)
    r = summary["report"]
    assert r["issued"] == kinds["issued"] == len(summary["tickets"])
    assert r["served"] == kinds["served"]
    assert r["no_show"] == kinds["no_show"] == 1
    assert r["waiting_at_close"] == 0
    with (out / "report" / "harian.csv").open(encoding="utf-8") as f:
        (day,) = list(csv.DictReader(f))
    assert day["day"] == summary["business_day"]
    n = {k: int(day[k]) for k in ("issued", "transferred_in", "served", "no_show", "transferred_out",
                                  "serving_at_close", "waiting_at_close", "priority")}
    assert n["issued"] == kinds["issued"] and n["served"] == kinds["served"]
    assert n["transferred_in"] == n["transferred_out"] == kinds["transferred"] == 1
    assert n["priority"] == sum(1 for e in events if e.kind == "issued" and e.priority)
    assert n["issued"] + n["transferred_in"] == (n["served"] + n["no_show"] + n["transferred_out"]
                                                 + n["serving_at_close"] + n["waiting_at_close"])
    assert dt.date.fromisoformat(summary["business_day"])


def test_up_whole_opens_every_device_and_stops_everything_on_ctrl_c(tmp_path):
    """`./mpp start` with a screen: broker, dispatcher, kiosk, board, virtual panel and the two
    browser apps, then Ctrl-C."""
    import signal

    from antrian import protocol
    from antrian.adapters.mosquitto import free_port
    from helpers import Recorder

    if not os.environ.get("DISPLAY"):
        pytest.skip("no DISPLAY: run the suite under xvfb-run")
    pytest.importorskip("kivy")
    port = free_port()
    data = tmp_path / "var"
    proc = subprocess.Popen([sys.executable, "-m", "antrian.cli", "up", "--config", str(BUTON), "--port", str(port),
                             "--data-dir", str(data), "--whole", "--always-open"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    rec = None
    try:
        first = proc.stdout.readline()
        assert "is running" in first, proc.stderr.read() if proc.poll() is not None else first
        rec = Recorder("whole-test", topics=("antrian/buton/#",)).start("127.0.0.1", port)
        for device in ("kiosk1", "board1", "panel1", "web1", "publik1"):
            rec.wait_for(protocol.status("buton", device), lambda m: m.json().get("online"), timeout=30)
        # The three windows side by side, as the X server has them (`./mpp start` tiles them).
        windows = x_windows(("Antrian MPP", "Antrian Mal Pelayanan", "Panel panel1"))
        screen = x_screen()
        for (name, a), (other, b) in itertools.combinations(windows.items(), 2):
            assert not overlap(a, b), f"{name} {a} overlaps {other} {b}"
        for name, (x, y, w, h) in windows.items():
            assert x >= 0 and y >= 0 and x + w <= screen[0] and y + h <= screen[1], (name, screen)
        # A ticket from another kiosk, called at Loket 1: the board says it (into WAV files,
        # there is no sound card here) and the printer folder gets its picture.
        rec.publish_json(protocol.kiosk_request("buton", "kiosk2"), {"id": "t1", "service": "KTP", "priority": None})
        reply = rec.wait_for(protocol.kiosk_reply("buton", "kiosk2"), lambda m: m.json().get("ok"), timeout=10)
        # Its QR leads to this machine's public app, which knows the ticket.
        import urllib.request

        link = reply.json()["ticket"]["link"]
        assert link.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(link, timeout=scaled(10)) as page:
            assert page.status == 200 and "A-001" in page.read().decode("utf-8")
        rec.publish_json(protocol.counter_command("buton", "loket1"), {"id": "c1", "action": "call_next"})
        rec.wait_for(protocol.call("buton"), lambda m: m.json()["number"] == "A-001", timeout=10)
        folder = data / "mpp"
        deadline = time.monotonic() + scaled(20)
        while time.monotonic() < deadline and not ((folder / "tickets" / "A-001.png").exists()
                                                   and list((folder / "audio").glob("*.wav"))):
            time.sleep(0.2)
        assert (folder / "tickets" / "A-001.png").exists()
        assert list((folder / "audio").glob("*.wav")), (folder / "logs" / "board.log").read_text()[-2000:]
    finally:
        if rec is not None:
            rec.close()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=scaled(40))
    assert proc.returncode == 0, err
    assert "Stopped." in out
    left = subprocess.run(["pgrep", "-f", str(data)], capture_output=True, text=True)
    assert left.stdout == "", f"still running: {left.stdout}"


# -- the windows of ./mpp start, the compressed clock, the staged faults -----------------------------

def x_screen() -> tuple[int, int]:
    out = subprocess.run(["xdpyinfo"], capture_output=True, text=True, timeout=10).stdout
    found = re.search(r"dimensions:\s+(\d+)x(\d+) pixels", out)
    assert found, out[:500]
    return int(found.group(1)), int(found.group(2))


def x_windows(titles, timeout=30.0) -> dict[str, tuple[int, int, int, int]]:
    """The top-level windows whose names start with *titles*: (x, y, width, height), read
    from the X server with xwininfo once every one of them is mapped."""
    deadline = time.monotonic() + scaled(timeout)
    found: dict[str, tuple[int, int, int, int]] = {}
    while time.monotonic() < deadline:
        out = subprocess.run(["xwininfo", "-root", "-children"], capture_output=True, text=True, timeout=10).stdout
        found = {}
        for line in out.splitlines():
            m = re.search(r'"([^"]*)":.*?\s(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)', line)
            if m and any(m.group(1).startswith(t) for t in titles):
                w, h, x, y = (int(m.group(i)) for i in (2, 3, 4, 5))
                found[m.group(1)] = (x, y, w, h)
        if len(found) == len(titles):
            return found
        time.sleep(0.5)
    raise AssertionError(f"windows {titles}: found only {found}")


def overlap(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


@pytest.mark.parametrize("screen", [(800, 600), (1280, 1024), (1366, 768), (1920, 1080), (3840, 2160)])
def test_tiles_never_overlap_and_stay_on_the_screen(screen):
    from mall.whole import tiles

    rects = tiles(*screen)
    assert set(rects) == {"kiosk", "board", "panel"}
    for a, b in itertools.combinations(rects.values(), 2):
        assert not overlap(a, b), rects
    for x, y, w, h in rects.values():
        assert min(w, h) >= 200 and x + w <= screen[0], rects
    # Rows leave room for a window manager's title bar between them.
    assert rects["panel"][1] >= rects["kiosk"][3] + 32


def test_the_demo_clock_runs_fast_from_eight_and_never_ahead_of_the_real_time():
    from mall.morning.pieces import DemoClock

    tz = dt.timezone(dt.timedelta(hours=8))
    real = [dt.datetime(2026, 11, 23, 14, 0, tzinfo=tz)]
    mono = [100.0]
    clock = DemoClock(tz, factor=480, real=lambda: real[0], monotonic=lambda: mono[0])
    assert clock() == dt.datetime(2026, 11, 23, 8, 0, tzinfo=tz)
    mono[0] += 22.5  # 22.5 s of script: three hours of the morning
    assert clock() == dt.datetime(2026, 11, 23, 11, 0, tzinfo=tz)
    mono[0] += 3600  # never past the real time, which the kiosks stamp their requests with
    assert clock() == real[0]
    early = DemoClock(tz, real=lambda: dt.datetime(2026, 11, 23, 9, 30, tzinfo=tz), monotonic=lambda: 0.0)
    assert early.start == dt.datetime(2026, 11, 23, 6, 30, tzinfo=tz)
    night = DemoClock(tz, real=lambda: dt.datetime(2026, 11, 23, 0, 30, tzinfo=tz), monotonic=lambda: 0.0)
    assert night.start == dt.datetime(2026, 11, 23, 0, 1, tzinfo=tz)  # the business day stays the same


def test_the_report_shows_waits_of_minutes(morning):
    """The dispatcher's compressed clock: the morning's waits and service times are minutes."""
    out, summary, stdout = morning
    r = summary["report"]
    assert r["wait_max_min"] >= 1.0 and r["wait_mean_min"] > 0 and r["service_mean_min"] > 0, r
    start, end = (dt.datetime.fromisoformat(summary["clock"][k]) for k in ("start", "end"))
    assert end - start >= dt.timedelta(minutes=30)
    with (out / "report" / "harian.csv").open(encoding="utf-8") as f:
        (day,) = list(csv.DictReader(f))
    assert float(day["wait_max_min"]) >= 1.0
    assert "waits          mean " in stdout and "compressed 480 times" in stdout


def test_staged_faults_are_logged_as_staged_not_as_errors(morning):
    out, _, _ = morning
    lines = (out / "morning.log").read_text(encoding="utf-8").splitlines()
    assert any("WARNING antrian.morning: staged fault: paper out" in line for line in lines)
    assert any("WARNING antrian.morning: staged fault: broker restart" in line for line in lines)
    assert any("INFO" in line and "staged fault (broker restart), as expected:" in line for line in lines)
    assert [line for line in lines if " ERROR " in line or " CRITICAL " in line] == []


def test_a_staged_fault_relabels_only_its_own_consequences():
    from mall.morning.pieces import Staged

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    root = logging.getLogger()
    handler, loud = Keep(logging.DEBUG), Keep(logging.WARNING)
    root.addHandler(handler)
    root.addHandler(loud)
    log = logging.getLogger("antrian.test-staged")
    staged = Staged(log, linger=0.0)
    staged.install()
    try:
        with staged("broker restart", "every piece reconnects", (r"lost its connection",)):
            log.error("MQTT client 'x' lost its connection to 127.0.0.1:1883")
            log.error("the store is full")  # a real error during a staged fault stays one
        time.sleep(0.01)
        log.error("MQTT client 'x' lost its connection to 127.0.0.1:1883")  # after it: an error again
    finally:
        staged.remove()
        root.removeHandler(handler)
        root.removeHandler(loud)
    seen = [(r.levelname, r.getMessage()) for r in records if r.name == log.name]
    assert seen[:2] == [("WARNING", "staged fault: broker restart (every piece reconnects)")] * 2
    assert ("INFO", "staged fault (broker restart), as expected: MQTT client 'x' lost its connection to "
            "127.0.0.1:1883") in seen
    assert seen.count(("ERROR", "the store is full")) == 2  # both handlers
    assert seen[-2:] == [("ERROR", "MQTT client 'x' lost its connection to 127.0.0.1:1883")] * 2
    # The handler that wants warnings did not get the relabelled line.
    assert sum(1 for level, text in seen if level == "INFO" and text.startswith("staged fault (")) == 1
