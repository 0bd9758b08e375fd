"""The board on screen, driven by a real dispatcher through a real Mosquitto.

Each board runs in its own process (one Kivy window per process) under its own Xvfb
screen big enough for a portrait TV; tests/board_driver.py answers what it shows.
Screenshots are kept in test-artifacts/ at the repository root. Timeouts are in seconds
on the reference machine, scaled to this one (antrian/slow.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from PIL import Image

from antrian import bahasa, protocol
from antrian.slow import scaled
from antrian.site import load
from conftest import ROOT
from display import view

SITE = "buton"
DRIVER = Path(__file__).with_name("board_driver.py")
ARTIFACTS = ROOT / "test-artifacts"


class Board:
    """A board_driver.py process: send a command, read its one-line JSON answer."""

    def __init__(self, site_file: Path, address: str, state_dir: Path, size: str, log: Path, device: str = "board1"):
        cmd = [sys.executable, str(DRIVER), str(site_file), device, address, str(state_dir), size]
        if shutil.which("xvfb-run"):
            # Its own X screen: a 1080x1920 window would not fit the suite's 1280x1024 one.
            cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1920x24", *cmd]
        env = dict(os.environ, KIVY_HOME=str(state_dir / "kivy"), PYTHONPATH=str(ROOT))
        self.log = log
        self._log = open(log, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                     text=True, env=env, start_new_session=True)

    def ask(self, **command) -> dict:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"board exited ({self.proc.poll()}); log:\n{self.log.read_text()[-3000:]}")
        answer = json.loads(line)
        assert "error" not in answer, answer
        return answer

    def wait(self, timeout: float = 15, **until) -> dict:
        return self.ask(cmd="wait", until=until, timeout=scaled(timeout))

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.ask(cmd="shot", path=str(path))
        return path

    def kill(self) -> None:
        """SIGKILL, as a power cut: the broker then publishes the board's will."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(scaled(10))

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(scaled(10))
            except (BrokenPipeError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(scaled(10))
        self._log.close()


@pytest.fixture
def board(broker, site_file, tmp_path):
    made = []

    def start(size: str, device: str = "board1") -> Board:
        b = Board(site_file, broker.address, tmp_path / f"state-{len(made)}", size, tmp_path / f"board-{len(made)}.log",
                  device)
        made.append(b)
        return b

    yield start
    for b in made:
        b.close()


class Desk:
    """Kiosk and counter messages as a test sends them (the dispatcher's own contract)."""

    def __init__(self, recorder):
        self.rec = recorder

    def send(self, topic, reply_topic, obj):
        self.rec.publish_json(topic, obj)
        return self.rec.wait_for(reply_topic, lambda m: m.json().get("id") == obj["id"]).json()

    def ticket(self, service):
        reply = self.send(protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1"),
                          {"id": uuid.uuid4().hex, "service": service, "priority": None})
        assert reply["ok"], reply
        return reply["ticket"]["number"]

    def command(self, counter, action, **extra):
        reply = self.send(protocol.counter_command(SITE, counter), protocol.counter_reply(SITE, counter),
                          {"id": uuid.uuid4().hex, "action": action, **extra})
        assert reply["ok"], reply
        return reply["ticket"]["number"] if reply["ticket"] else None


@pytest.fixture
def desk(run_dispatcher, mqtt_client):
    run_dispatcher()
    recorder = mqtt_client(topics=[f"antrian/{SITE}/#"])
    recorder.wait_for(protocol.board(SITE))
    return Desk(recorder)


def _issue_morning(desk):
    for service, n in (("KTP", 5), ("KK", 3), ("AKTA", 2), ("PBB", 2), ("NIB", 1), ("TAB", 2), ("BAYAR", 4)):
        for _ in range(n):
            desk.ticket(service)


def _call_round(desk):
    """Six calls in a row, a pause and a recall: returns the calls in order (number, counter name)."""
    calls = []
    for counter, name in (("loket1", "Loket 1"), ("loket3", "Loket 3"), ("loket5", "Loket 5"),
                          ("loket7", "Loket 7"), ("loket2", "Loket 2"), ("loket6", "Loket 6")):
        calls.append((desk.command(counter, "call_next"), name))
    desk.command("loket4", "pause", reason="Istirahat")
    return calls


def _looks_drawn(path: Path) -> bool:
    """The screenshot shows the board: its header colour in the corner, and detail."""
    image = Image.open(path).convert("RGB")
    colours = image.resize((192, 108)).getcolors(maxcolors=100_000)
    return image.getpixel((4, 4)) == (15, 42, 82) and len(colours) > 100


@pytest.mark.parametrize("size", ["1920x1080", "1280x720", "1080x1920"])
def test_a_sequence_of_calls_on_the_board(desk, board, size):
    _issue_morning(desk)
    shown = board(size)
    shown.wait(connected=True, have_board=True)
    calls = _call_round(desk)
    last_number, last_counter = calls[-1]
    # Calls made together are said short, without their repeat (issue 16): count the calls said.
    state = shown.wait(latest_number=last_number, idle=True, spoken=len(calls))
    path = shown.shot(f"board-{size}.png")

    width, height = (int(x) for x in size.split("x"))
    assert state["size"] == [width, height] and state["portrait"] == (height > width)
    assert Image.open(path).size == (width, height)
    assert _looks_drawn(path), "the screenshot shows no board"
    # Every call spoken once, with at least one chime, and each one flashed the big card.
    assert state["spoken"] == len(calls) and state["flashes"] >= len(calls)
    assert len(calls) < state["played"] <= 3 * len(calls)  # board1: a chime and up to two readings each
    assert state["latest_counter"] == last_counter == "Loket 6"
    assert state["latest_service"] == "Nomor Induk Berusaha"
    assert state["site_name"] == "Mal Pelayanan Publik Kabupaten Buton"
    assert re.fullmatch(r"(Senin|Selasa|Rabu|Kamis|Jumat|Sabtu|Minggu), \d{1,2} \w+ \d{4}, pukul \d\d\.\d\d WITA",
                        state["date"]), state["date"]
    assert state["banner"] == ""
    assert state["running_text"].startswith("Selamat datang di Mal Pelayanan Publik Kabupaten Buton.")

    tiles = {name: (number, detail, status) for name, number, detail, status in state["counters"]}
    assert tiles["Loket 1"] == ("A-001", "KTP Elektronik", "open")
    assert tiles["Loket 3"] == ("B-001", "Kartu Keluarga", "open")
    assert tiles["Loket 5"] == ("H-001", "PBB-P2", "open")
    assert tiles["Loket 7"] == ("F-001", "Tabungan", "open")
    assert tiles["Loket 2"] == ("A-002", "KTP Elektronik", "open")
    assert tiles["Loket 4"] == (view.NO_NUMBER, "Istirahat", "paused")
    assert tiles["Loket 8"] == (view.NO_NUMBER, "Tutup", "closed")

    waiting = {prefix: count for prefix, _name, count in state["waiting"]}
    assert waiting == {"A": 3, "B": 2, "C": 2, "D": 0, "E": 0, "F": 1, "G": 4, "H": 1, "J": 0, "K": 0,
                       "L": 0, "M": 0}
    # Earlier calls, newest first, without the one on the big card.
    expected = [[n, c] for n, c in reversed(calls[:-1])][:len(state["recent"])]
    assert state["recent"] == expected and len(expected) >= 3


def test_a_remote_counters_call_sends_the_hall_to_its_location(desk, board):
    """Issue 14, item 7: daring1 serves IZIN by video call; the big card names its location."""
    shown = board("1920x1080")
    shown.wait(connected=True, have_board=True)
    # Idle, the tile's small line is its agency line (detail or agency): here the location.
    assert [t.agency for t in view.counter_tiles(load(ROOT / "examples" / "buton.yaml"), None)
            if t.name == "Daring 1"] == ["Bilik Layanan Daring"]
    number = desk.ticket("IZIN")
    assert desk.command("daring1", "call_next") == number
    state = shown.wait(latest_number=number, idle=True, spoken=1)
    assert state["latest_counter"] == "Bilik Layanan Daring" and state["latest_service"] == "Perizinan lain"
    tiles = {name: (n, detail) for name, n, detail, _status in state["counters"]}
    assert tiles["Daring 1"] == (number, "Perizinan lain")
    path = shown.shot("board-daring.png")
    assert _looks_drawn(path)


def test_banner_when_the_broker_stops_and_gone_when_it_returns(desk, board, broker, mqtt_client):
    watcher = mqtt_client(topics=[protocol.status(SITE, "board1")])
    shown = board("1280x720")
    shown.wait(connected=True, have_board=True, banner="")
    watcher.wait_for(protocol.status(SITE, "board1"), lambda m: m.json().get("online") is True)

    broker.kill()
    state = shown.wait(banner=view.BANNER["offline"], timeout=10)
    assert state["connected"] is False
    shown.shot("board-broker-down-1280x720.png")

    seen = len(watcher.messages)
    broker.start()
    shown.wait(connected=True, banner="", timeout=20)
    # Back online: the retained status says so again, and the board follows new calls.
    watcher.wait_for(protocol.status(SITE, "board1"),
                     lambda m: watcher.messages.index(m) >= seen and m.json().get("online") is True, timeout=20)
    desk.ticket("KTP")
    number = desk.command("loket1", "call_next")
    shown.wait(latest_number=number, idle=True)

    # A board that dies leaves its will: offline.
    shown.kill()
    watcher.wait_for(protocol.status(SITE, "board1"), lambda m: m.json().get("online") is False, timeout=60)


def test_the_banner_says_in_words_that_the_dispatchers_clock_is_behind(desk, board, mqtt_client):
    shown = board("1280x720")
    shown.wait(connected=True, have_board=True, banner="")
    # The dispatcher's retained status, as it publishes it when its clock is behind the store.
    status = protocol.status(SITE, "dispatcher")
    behind = protocol.device_status("dispatcher", "dispatcher", True, ["clock_behind"], "test",
                                    "2026-11-23T09:00:00+08:00")
    publisher = mqtt_client(topics=[])
    publisher.publish_json(status, behind, retain=True).wait_for_publish(5)
    shown.wait(banner="Jam server tertinggal — hubungi teknisi", timeout=10)
    shown.shot("board-clock-behind-1280x720.png")
    publisher.publish_json(status, {**behind, "problems": []}, retain=True).wait_for_publish(5)
    shown.wait(banner="", timeout=10)
    # Offline outranks it: the hall first needs to know nothing moves.
    publisher.publish_json(status, protocol.device_will("dispatcher", "dispatcher"), retain=True).wait_for_publish(5)
    shown.wait(banner=view.BANNER["dispatcher"], timeout=10)


def test_the_date_line_is_the_bahasa_date():
    # The board shows bahasa.tanggal verbatim; this pins the format the UI test matches.
    import datetime as dt
    from zoneinfo import ZoneInfo

    assert bahasa.tanggal(dt.datetime(2026, 11, 22, 9, 5, tzinfo=ZoneInfo("Asia/Makassar"))) == \
        "Minggu, 22 November 2026, pukul 09.05 WITA"


def test_antrian_display_runs_says_online_and_stops_cleanly_on_sigterm(broker, site_file, mqtt_client, tmp_path):
    watcher = mqtt_client(topics=[protocol.status(SITE, "board2")])
    env = {k: v for k, v in os.environ.items() if k != "KIVY_HOME"}  # the board keeps Kivy's files itself
    cmd = [sys.executable, "-m", "antrian.cli", "display", "--config", str(site_file), "--device", "board2",
           "--broker", broker.address, "--state-dir", str(tmp_path / "state"), "--windowed", "--size", "1280x720"]
    # A 1280x720 window fits the suite's X screen (or SDL's offscreen one without X).
    # board2 is set to portrait: the window is turned, as on a TV hung upright.
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        online = watcher.wait_for(protocol.status(SITE, "board2"), lambda m: m.json().get("online"), timeout=20)
        assert set(online.json()) == {"device", "role", "online", "problems", "version", "at"}
        assert online.json()["problems"] == []
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=scaled(20))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    offline = watcher.wait_for(protocol.status(SITE, "board2"), lambda m: m.json().get("online") is False)
    assert offline.json() == {"device": "board2", "role": "display", "online": False}
    assert (tmp_path / "state" / "kivy").is_dir()


def test_antrian_display_names_a_wrong_device_or_size(site_file):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "antrian.cli", "display", "--config", str(site_file), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=scaled(30))

    result = run("--device", "kiosk1")
    assert result.returncode == 2 and "no display device 'kiosk1' (known: board1, board2, board3)" in result.stderr
    result = run("--device", "board1", "--size", "big")
    assert result.returncode == 1 and result.stderr.strip() == "antrian display: --size: 'big' is not like 1920x1080"


def test_a_zoned_board_shows_and_says_only_its_zone_while_the_main_board_says_everything(desk, board):
    """Issue 16, item 1: board2 (Disdukcapil's room, portrait) and board1 (the main hall)."""
    main, room = board("1920x1080"), board("1080x1920", "board2")
    main.wait(connected=True, have_board=True)
    room.wait(connected=True, have_board=True)
    for service in ("KTP", "TAB", "KK"):
        desk.ticket(service)
    ktp = desk.command("loket1", "call_next")
    tab = desk.command("loket7", "call_next")
    kk = desk.command("loket3", "call_next")
    # board1 says all three; board2 only its own two, at the same time as board1.
    main.wait(latest_number=kk, idle=True, spoken=3)
    state = room.wait(latest_number=kk, idle=True, spoken=2)
    assert [t[0] for t in state["counters"]] == ["Loket 1", "Loket 2", "Loket 3", "Loket 4"]
    assert [w[0] for w in state["waiting"]] == ["A", "B", "C", "D", "E"]
    assert state["recent"] == [[ktp, "Loket 1"]] and tab not in json.dumps(state)
    assert _looks_drawn(room.shot("board-zona-disdukcapil-1080x1920.png"))


def test_a_checked_in_bookings_call_is_marked_reservasi(desk, board, mqtt_client):
    """Issue 15: a Call with "booking": true (docs/protocol.md) gets a small Reservasi tag
    next to the number; the next walk-in's call has none. The Calls are sent as the
    dispatcher sends them, after the board's retained seq."""
    shown = board("1920x1080")
    state = shown.wait(connected=True, have_board=True)
    publisher = mqtt_client(topics=[])
    at = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).isoformat(timespec="seconds")
    base = {"service": "KTP", "service_name": "KTP Elektronik (perekaman, cetak, penggantian)", "counter": "loket1",
            "counter_name": "Loket 1", "recall": False, "at": at}
    seq = (state["board_seq"] or 0) + 1
    publisher.publish_json(protocol.call(SITE), {**base, "seq": seq, "number": "A-031", "booking": True})
    state = shown.wait(latest_number="A-031", idle=True)
    assert state["latest_booking"] is True
    assert _looks_drawn(shown.shot("board-reservasi-1920x1080.png"))
    publisher.publish_json(protocol.call(SITE), {**base, "seq": seq + 1, "number": "A-032"})
    assert shown.wait(latest_number="A-032", idle=True)["latest_booking"] is False


def test_a_board_that_does_not_speak_shows_the_calls_in_silence(desk, broker, site_file, tmp_path):
    """speaks: false (a second board in a hall whose calls another board says)."""
    import yaml

    from conftest import write_site

    raw = yaml.safe_load(site_file.read_text(encoding="utf-8"))
    next(d for d in raw["devices"] if d["id"] == "board1")["speaks"] = False
    silent = write_site(tmp_path / "silent.yaml", raw)
    shown = Board(silent, broker.address, tmp_path / "state-silent", "1280x720", tmp_path / "silent.log")
    try:
        shown.wait(connected=True, have_board=True)
        desk.ticket("KTP")
        number = desk.command("loket1", "call_next")
        state = shown.wait(latest_number=number, idle=True)
        assert state["played"] == 0 and state["latest_counter"] == "Loket 1"
    finally:
        shown.close()
