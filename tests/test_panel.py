"""The button panel on gpiozero's mock pins, a real Mosquitto and the real dispatcher.

A press is ``pin(n).drive_low()`` (gpiozero runs when_pressed in this thread), held a
moment, then ``drive_high()``. NEXT (GPIO 17 for loket1, 5 for loket2) has a hold
action, so it sends call_next on release and no_show once held; RECALL (27) sends on
the press itself. Tests wait on the panel's condition or on MQTT messages; the only
sleeps hold a button down.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import yaml

from antrian import protocol
from antrian.site import load
from antrian.slow import scaled
from conftest import ROOT, allday_site
from test_dispatcher import SITE, Client

gpiozero = pytest.importorskip("gpiozero")
from gpiozero import Button, Device  # noqa: E402
from gpiozero.pins.mock import MockFactory  # noqa: E402

from hardware.gpio import GPIOError  # noqa: E402
from hardware.panel import Panel  # noqa: E402

NEXT1, RECALL1, LED1 = 17, 27, 22
NEXT2 = 5
TAP = 0.05  # seconds a finger holds a button for a press (more than the 30 ms settle time)


@pytest.fixture
def site_file(tmp_path):
    """The round-the-clock Buton site with quick panels: hold 0.5 s, debounce 50 ms; panel2
    also has a keypad on loket7 (Bank Sultra, TAB: F-...) read from stdin."""
    path = allday_site(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    panels = {d["id"]: d for d in raw["devices"] if d["role"] == "panel"}
    for panel in panels.values():
        panel.update(hold_time=0.5, debounce_time=0.05, max_press_age=10)
    panels["panel2"]["keypads"] = [{"counter": "loket7", "device": "stdin", "service": "TAB"}]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def pins():
    factory = MockFactory()
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = None
        factory.close()


class ShiftedClock:
    """Real monotonic time plus an offset a test can push forward."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self):
        return time.monotonic() + self.offset


@pytest.fixture
def clock():
    return ShiftedClock()


@pytest.fixture
def start_panel(broker, site_file, pins, clock):
    made = []

    def start(device="panel1", wait=True, **options):
        options.setdefault("clock", clock)
        panel = Panel(load(site_file), device, **options).start(broker.host, broker.port)
        made.append(panel)
        if wait:
            assert panel.wait_until(lambda: panel.link_up, 5)
        return panel

    try:
        yield start
    finally:
        for panel in made:
            panel.close()


@pytest.fixture
def kiosk(run_dispatcher, mqtt_client):
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.dispatcher = run_dispatcher()
    client.wait_ready()
    return client


@pytest.fixture
def tap(pins, clock):
    """Press and release a button; then a second passes on the panel's clock, as it does
    before a hand comes back to a button (a press within 30 ms of a release is the
    contact bouncing, and within the debounce window a double press)."""

    def press(pin, seconds=TAP):
        pins.pin(pin).drive_low()
        time.sleep(seconds)  # the finger on the button
        pins.pin(pin).drive_high()
        clock.offset += 1.0

    return press


def commands(client, counter):
    return [m.json() for m in client.rec.messages if m.topic == protocol.counter_command(SITE, counter)]


def reply_to(client, counter, press_id, timeout=5.0):
    return client.rec.wait_for(protocol.counter_reply(SITE, counter), lambda m: m.json()["id"] == press_id,
                               timeout=timeout).json()


def serving(client, counter, number, timeout=5.0):
    return client.rec.wait_for(protocol.board(SITE), lambda m: any(
        c["counter"] == counter and c["serving"] == number for c in m.json()["counters"]), timeout=timeout)


def test_a_press_calls_the_next_ticket_the_board_shows_it_and_the_led_lights(kiosk, start_panel, pins, tap):
    panel = start_panel()
    number = kiosk.request("KTP")["ticket"]["number"]
    assert not panel.lit("loket1")
    tap(NEXT1)
    serving(kiosk, "loket1", number)
    [command] = commands(kiosk, "loket1")
    assert command["action"] == "call_next" and set(command) == {"id", "action"}
    assert command["id"].startswith("panel1-")
    assert reply_to(kiosk, "loket1", command["id"])["ticket"]["number"] == number
    assert panel.wait_until(lambda: panel.lit("loket1"))
    # RECALL has no hold action: it goes on the press edge, before the release.
    pins.pin(RECALL1).drive_low()
    call = kiosk.rec.wait_for(protocol.call(SITE), lambda m: m.json()["recall"]).json()
    pins.pin(RECALL1).drive_high()
    assert call["number"] == number and call["counter"] == "loket1"


def test_a_hold_records_a_no_show(kiosk, start_panel, pins, tap):
    panel = start_panel()
    first = kiosk.request("KTP")["ticket"]["number"]
    kiosk.request("KTP")
    tap(NEXT1)
    serving(kiosk, "loket1", first)
    assert panel.wait_until(lambda: panel.lit("loket1"))
    pins.pin(NEXT1).drive_low()
    try:
        held = kiosk.rec.wait_for(protocol.counter_command(SITE, "loket1"), lambda m: m.json()["action"] == "no_show",
                                  timeout=3).json()
    finally:
        pins.pin(NEXT1).drive_high()
    assert reply_to(kiosk, "loket1", held["id"])["ticket"]["number"] == first
    assert panel.wait_until(lambda: not panel.lit("loket1"))  # nobody served now
    kiosk.settle()
    assert [c["action"] for c in commands(kiosk, "loket1")] == ["call_next", "no_show"]  # nothing on release
    assert [c["number"] for c in kiosk.calls()] == [first]


def test_five_edges_within_50_ms_call_exactly_one_ticket(kiosk, start_panel, pins, clock):
    panel = start_panel()
    numbers = [kiosk.request("KTP")["ticket"]["number"] for _ in range(3)]

    def bounce(pin):  # a bouncing contact: five closings, with openings between them
        start = time.monotonic()
        for _ in range(5):
            pins.pin(pin).drive_low()
            pins.pin(pin).drive_high()
        assert time.monotonic() - start < 0.05

    bounce(NEXT1)  # sent when the press ends (NEXT has a hold action)
    serving(kiosk, "loket1", numbers[0])
    # The settle check has run (the press ended), so nothing more can come from it.
    assert panel.wait_until(lambda: not any(b.debounce.is_down for b in panel.io.buttons))
    clock.offset += 1.0
    bounce(RECALL1)  # sent on the first closing
    kiosk.rec.wait_for(protocol.call(SITE), lambda m: m.json()["recall"])
    kiosk.settle()
    assert [c["action"] for c in commands(kiosk, "loket1")] == ["call_next", "recall"]
    assert [(c["number"], c["recall"]) for c in kiosk.calls()] == [(numbers[0], False), (numbers[0], True)]


def test_two_counters_pressing_at_once_call_two_different_tickets(kiosk, start_panel, pins):
    start_panel()
    numbers = {kiosk.request("KTP")["ticket"]["number"] for _ in range(2)}
    barrier = threading.Barrier(2)

    def officer(pin):
        barrier.wait()
        pins.pin(pin).drive_low()
        time.sleep(TAP)  # the finger on the button
        pins.pin(pin).drive_high()

    officers = [threading.Thread(target=officer, args=(pin,)) for pin in (NEXT1, NEXT2)]
    for t in officers:
        t.start()
    for t in officers:
        t.join(5)
    got = set()
    for counter in ("loket1", "loket2"):
        command = kiosk.rec.wait_for(protocol.counter_command(SITE, counter)).json()
        got.add(reply_to(kiosk, counter, command["id"])["ticket"]["number"])
    assert got == numbers


def test_broker_down_presses_wait_and_go_with_their_ids_old_ones_are_dropped_and_the_led_blinks(
        kiosk, start_panel, pins, broker, mqtt_client, tmp_path, tap, clock):
    """The behaviour of hardware/WIRING.md "When the broker is down"."""
    panel = start_panel()
    numbers = [kiosk.request("KTP")["ticket"]["number"] for _ in range(2)]
    # A persistent session: the broker keeps what this watcher misses while it reconnects.
    watcher = mqtt_client(client_id="watcher", topics=[f"antrian/{SITE}/counter/#"], clean_session=False)

    broker.stop()
    assert panel.wait_until(lambda: not panel.link_up, 5)
    # The LED of an idle counter blinks "unreachable".
    assert panel.wait_until(lambda: panel.lit("loket1"), 2)
    assert panel.wait_until(lambda: not panel.lit("loket1"), 2)

    tap(NEXT1)  # waits, and will be too old
    clock.offset += 10  # max_press_age is 10 s
    tap(NEXT2)  # waits, and will go
    old, young = panel.outbox.pending()
    assert (old.counter, young.counter) == ("loket1", "loket2")

    broker.start()
    assert panel.wait_until(lambda: panel.link_up and len(panel.outbox) == 0, 15)
    assert ("loket1", "press_dropped") in panel.signals
    sent = watcher.wait_for(protocol.counter_command(SITE, "loket2"), timeout=10).json()
    assert sent == {"id": young.id, "action": "call_next"}
    assert reply_to(Client(watcher), "loket2", young.id, timeout=10)["ticket"]["number"] == numbers[0]
    assert panel.wait_until(lambda: panel.lit("loket2"), 5)  # steady: serving again
    assert not [m for m in watcher.messages if m.topic == protocol.counter_command(SITE, "loket1")]
    # The dispatcher's own record: the young press applied once, the old one never.
    db = sqlite3.connect(tmp_path / "antrian.db")
    rows = db.execute("SELECT sender, msg_id FROM replies WHERE sender LIKE 'counter/%'").fetchall()
    assert rows == [("counter/loket2", young.id)]


def test_a_dispatcher_that_says_it_is_offline_holds_presses_back(kiosk, start_panel, pins, run_dispatcher, tap):
    panel = start_panel()
    number = kiosk.request("KTP")["ticket"]["number"]
    kiosk.dispatcher.stop()  # publishes {"online": false}
    assert panel.wait_until(lambda: not panel.link_up, 5)
    tap(NEXT1)
    assert len(panel.outbox) == 1
    run_dispatcher()
    assert panel.wait_until(lambda: panel.link_up and len(panel.outbox) == 0, 10)
    serving(kiosk, "loket1", number)


def test_the_led_follows_the_retained_state_after_a_reboot_and_a_broker_restart(kiosk, start_panel, pins, broker, tap):
    panel = start_panel()
    number = kiosk.request("KTP")["ticket"]["number"]
    tap(NEXT1)
    serving(kiosk, "loket1", number)
    assert panel.wait_until(lambda: panel.lit("loket1"))
    panel.close()  # the Pi reboots
    assert not pins.pin(LED1).state
    panel = start_panel()
    assert panel.wait_until(lambda: panel.lit("loket1"), 5)
    broker.kill()  # a power cut: the broker loses its retained messages
    broker.restart()
    # Back from the dispatcher, which republishes its retained state on reconnect.
    assert panel.wait_until(lambda: panel.link_up and panel.lit("loket1") and not panel.lamps["loket1"].link_down, 15)


def test_refusals_play_their_pattern_and_the_buzzer_beeps_on_success(kiosk, start_panel, pins, tap):
    panel = start_panel()
    tap(NEXT1)  # nobody waiting
    assert panel.wait_until(lambda: ("loket1", "queue_empty") in panel.signals)
    pins.pin(RECALL1).drive_low()
    pins.pin(RECALL1).drive_high()
    assert panel.wait_until(lambda: ("loket1", "not_serving") in panel.signals)
    kiosk.request("KTP")
    buzzer = pins.pin(12)  # loket1's buzzer in the example
    tap(NEXT1)
    assert panel.wait_until(lambda: buzzer.state, 5)
    assert panel.wait_until(lambda: not buzzer.state, 5)


def test_keypad_through_stdin(kiosk, start_panel):
    read, write = os.pipe()
    with os.fdopen(read) as stdin, os.fdopen(write, "w", buffering=1) as keys:
        panel = start_panel("panel2", stdin=stdin)
        numbers = [kiosk.request("TAB")["ticket"]["number"] for _ in range(3)]
        assert numbers == ["F-001", "F-002", "F-003"]

        def typed(text, action, count):
            keys.write(text)
            kiosk.rec.wait_for(protocol.counter_command(SITE, "loket7"),
                               lambda m: len(commands(kiosk, "loket7")) >= count)
            command = commands(kiosk, "loket7")[count - 1]
            assert command["action"] == action
            return command, reply_to(kiosk, "loket7", command["id"])

        assert typed("+\n", "call_next", 1)[1]["ticket"]["number"] == "F-001"
        command, reply = typed("3\n", "call_number", 2)
        assert command["number"] == "F-3" and reply["ticket"]["number"] == "F-003"
        assert typed("*\n", "recall", 3)[1]["ticket"]["number"] == "F-003"
        assert typed("-\n", "no_show", 4)[1]["ticket"]["number"] == "F-003"
        assert typed("9\n", "call_number", 5)[1]["error"]["code"] == "bad_request"  # no F-009 today
        assert panel.wait_until(lambda: ("loket7", "error") in panel.signals)
        keys.write("12+\n")  # a number, then an action key: a typing mistake, nothing sent
        assert panel.wait_until(lambda: panel.signals.count(("loket7", "error")) == 2)
        assert typed("/\n", "finish", 6)[1]["ok"] is False  # not serving: F-003 was a no-show


# --- open and close from the desk (issue 14, item 6) ---------------------------------------

OPEN8 = 16  # panel2's OPEN button of loket8 in the example: press open, hold close


def state_of(client, counter, status, timeout=5.0):
    """Wait until the counter's latest CounterState has `status`; return it."""
    topic = protocol.counter_state(SITE, counter)
    client.rec.wait_for(topic, lambda m: client.latest(topic)["status"] == status, timeout=timeout)
    return client.latest(topic)


def test_loket8_starts_closed_and_its_officer_opens_and_closes_it_with_a_button(kiosk, start_panel, pins, tap):
    start_panel("panel2")
    state_of(kiosk, "loket8", "closed")  # open_at_start: false
    kiosk.request("BAYAR")
    tap(OPEN8)
    assert state_of(kiosk, "loket8", "open")["waiting"] == 1
    [command] = commands(kiosk, "loket8")
    assert command["action"] == "open" and reply_to(kiosk, "loket8", command["id"])["ok"] is True
    pins.pin(OPEN8).drive_low()  # held for hold_time (0.5 s here): close
    try:
        state_of(kiosk, "loket8", "closed", timeout=5)
    finally:
        pins.pin(OPEN8).drive_high()
    kiosk.settle()
    assert [c["action"] for c in commands(kiosk, "loket8")] == ["open", "close"]  # nothing more on release


def test_loket8_opens_from_its_keypad(kiosk, start_panel, site_file):
    """The example's keypad of loket8, read from stdin: "." opens (NumLock, which closes,
    has no character on a terminal; tests/test_panel_logic.py reads it from an input device)."""
    raw = yaml.safe_load(site_file.read_text(encoding="utf-8"))
    example = next(d for d in yaml.safe_load((ROOT / "examples" / "buton.yaml").read_text(encoding="utf-8"))
                   ["devices"] if d["id"] == "panel2")
    [keypad] = example["keypads"]
    assert keypad["counter"] == "loket8" and keypad["keys"]["."] == "open" and keypad["keys"]["numlock"] == "close"
    next(d for d in raw["devices"] if d["id"] == "panel2")["keypads"] = [{**keypad, "device": "stdin"}]
    site_file.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    read, write = os.pipe()
    with os.fdopen(read) as stdin, os.fdopen(write, "w", buffering=1) as keys:
        start_panel("panel2", stdin=stdin)
        state_of(kiosk, "loket8", "closed")
        keys.write(".\n")
        state_of(kiosk, "loket8", "open")
        number = kiosk.request("BAYAR")["ticket"]["number"]
        keys.write("+\n")
        serving(kiosk, "loket8", number)


def test_status_is_retained_with_problems(start_panel, mqtt_client):
    start_panel()
    # The first watcher may subscribe before the panel is up and get its status live (retain 0);
    # one that subscribes after it has seen the status gets the retained copy.
    mqtt_client(topics=[protocol.status(SITE, "panel1")]).wait_for(protocol.status(SITE, "panel1"))
    watcher = mqtt_client(topics=[protocol.status(SITE, "panel1")])
    status = watcher.wait_for(protocol.status(SITE, "panel1"), lambda m: m.retain).json()
    assert status["online"] is True and status["role"] == "panel" and status["device"] == "panel1"
    assert status["problems"] == ["mock_pins"] and status["version"]


def test_a_pin_in_use_is_one_clear_line(broker, site_file, pins):
    busy = Button(NEXT2, pin_factory=pins)
    try:
        panel = Panel(load(site_file), "panel1")
        with pytest.raises(GPIOError) as info:
            panel.start(broker.host, broker.port)
        where = f"devices[{list(load(site_file).devices).index('panel1')}]"
        assert str(info.value) == (f"GPIO 5 ({where}.buttons[2]: loket2 call_next button) is already in use "
                                   "by another device or program")
        # What it had set up is freed again.
        Button(NEXT1, pin_factory=pins).close()
    finally:
        busy.close()


# --- the command ------------------------------------------------------------------------


def antrian_panel(site_file, broker, device="panel1", factory="mock", **kw):
    env = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}
    if factory:
        env["GPIOZERO_PIN_FACTORY"] = factory
    return subprocess.Popen([sys.executable, "-m", "antrian.cli", "panel", "--config", str(site_file),
                             "--device", device, "--broker", broker.address], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_antrian_panel_runs_a_keypad_and_stops_cleanly_on_sigterm(kiosk, site_file, broker):
    proc = antrian_panel(site_file, broker, "panel2", stdin=subprocess.PIPE)
    try:
        kiosk.rec.wait_for(protocol.status(SITE, "panel2"), lambda m: m.json()["online"] is True, timeout=10)
        number = kiosk.request("BAYAR")["ticket"]["number"]
        proc.stdin.write("+\n")
        proc.stdin.flush()
        serving(kiosk, "loket7", number, timeout=10)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=scaled(15))
    assert proc.returncode == 0, err
    assert "running on mock pins (GPIOZERO_PIN_FACTORY=mock)" in err
    assert "Traceback" not in err
    offline = kiosk.rec.wait_for(protocol.status(SITE, "panel2"), lambda m: m.json()["online"] is False).json()
    assert offline["role"] == "panel"


def test_antrian_panel_off_a_pi_runs_on_mock_pins_and_its_will_says_offline(site_file, broker, mqtt_client):
    watcher = mqtt_client(topics=[protocol.status(SITE, "panel1")])
    proc = antrian_panel(site_file, broker, factory=None)
    try:
        status = watcher.wait_for(protocol.status(SITE, "panel1"), lambda m: m.json()["online"], timeout=10).json()
        assert status["problems"] == ["mock_pins"]
    finally:
        proc.kill()  # no goodbye: the broker publishes the will
        out, err = proc.communicate(timeout=scaled(15))
    assert "WARNING hardware.gpio: running on mock pins (no GPIO found)" in err
    will = watcher.wait_for(protocol.status(SITE, "panel1"), lambda m: m.json()["online"] is False).json()
    assert will == {"device": "panel1", "role": "panel", "online": False}


@pytest.mark.parametrize("args, factory, code, line", [
    (["--device", "panel1"], "nonsense", 1,
     "antrian panel: GPIOZERO_PIN_FACTORY=nonsense: no such pin factory (Unable to find pin factory 'nonsense')"),
    (["--device", "kiosk1"], "mock", 2, "{site}: devices: no panel device 'kiosk1' (known: panel1, panel2)"),
])
def test_antrian_panel_errors_are_one_line(site_file, args, factory, code, line):
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": factory}
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "panel", "--config", str(site_file), *args,
                             "--broker", "127.0.0.1:1"], env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == code
    assert line.format(site=site_file) in result.stderr.splitlines()
    assert "Traceback" not in result.stderr


def test_a_pi_without_a_gpio_library_refuses_mock_pins(monkeypatch, tmp_path):
    from hardware import gpio

    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    assert gpio.board_model(str(model)) == "Raspberry Pi 5 Model B Rev 1.0"
    assert gpio.board_model(str(tmp_path / "none")) is None
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(gpio, "board_model", lambda: "Raspberry Pi 5 Model B Rev 1.0")
    assert Device.pin_factory is None
    with pytest.raises(GPIOError) as info:
        gpio.pin_factory()
    assert str(info.value) == ("no GPIO library works on this Raspberry Pi 5 Model B Rev 1.0: install lgpio "
                               "(pip install lgpio, or apt install python3-lgpio)")
