"""The counter's own display (issue 14, item 5): hardware.screen, hardware.luma_screen and
the panel driving them.

Every state is drawn through the real adapter on luma's dummy device and compared,
pixel for pixel, with a PNG kept in tests/data/counter-display/ (an OLED's 128x64
picture; for the 7-segment module a drawing of its eight digits made from the
dummy's 8x8 segment bits). A 4x copy of each goes to test-artifacts/counter-display/
for looking at. A picture that changes on purpose is regenerated with

    ANTRIAN_PICTURES=update xvfb-run -a .venv/bin/python -m pytest -q tests/test_counter_display.py

then looked at and committed. The panel tests run on gpiozero's mock pins (so the
displays are dummy devices) against a real Mosquitto and the real dispatcher.
"""

from __future__ import annotations

import dataclasses
import os

import pytest
import yaml
from PIL import Image, ImageDraw

from antrian import protocol
from conftest import ROOT, allday_site
from test_dispatcher import SITE

pytest.importorskip("luma.oled")
pytest.importorskip("gpiozero")

from hardware import luma_screen  # noqa: E402
from hardware.luma_screen import Screen, open_device  # noqa: E402
from hardware.screen import FLASH_SECONDS, FLASH_STEP, MESSAGE_SECONDS, REASONS, ScreenState, View, number_digits  # noqa: E402,E501
from hardware.screenmap import Display  # noqa: E402
from test_panel import NEXT1, RECALL1, clock, kiosk, pins, serving, start_panel, tap  # noqa: E402,F401

PICTURES = ROOT / "tests" / "data" / "counter-display"
LOOK = ROOT / "test-artifacts" / "counter-display"
UPDATE = os.environ.get("ANTRIAN_PICTURES") == "update"

OLED = Display("loket1", "ssd1306", "devices[6].displays[0]")
SEVEN = Display("loket2", "max7219", "devices[6].displays[1]")


def counter_state(number=None, waiting=5, status="open", recalls=0):
    """A CounterState as the dispatcher publishes it."""
    return {"counter": "loket1", "name": "Loket 1", "status": status, "reason": None,
            "serving": {"number": number} if number else None, "recalls": recalls, "waiting": waiting,
            "updated_at": "2026-11-22T09:15:02+08:00"}


def shown(name="Loket 1", *states, link_down=False, refused=None, at=1.0):
    """The View of a ScreenState fed `states` at 0, 1, 2 ... s, then `refused` at 1 s."""
    state = ScreenState(name, max_recalls=3)
    for i, s in enumerate(states):
        state.on_state(s, float(i))
    if refused:
        state.refused(refused, 1.0)
    state.link_down = link_down
    return state.view(at)[0]


SERVING = counter_state("A-012")
STATES = {
    "serving": shown("Loket 1", SERVING),
    "waiting": shown("Loket 1", counter_state(None, waiting=12)),
    # A recall: the same ticket with one more recall; the first frame of the flash.
    "recall-flash": shown("Loket 1", SERVING, counter_state("A-012", recalls=1), at=1.0),
    "recall-between": shown("Loket 1", SERVING, counter_state("A-012", recalls=1), at=1.0 + FLASH_STEP),
    **{f"refused-{reason}": shown("Loket 1", SERVING, refused=reason) for reason in REASONS},
    "refused-other": shown("Loket 1", SERVING, refused="bad_request"),
    "broker-gone": shown("Loket 1", SERVING, link_down=True),
    "connecting": shown("Loket 1"),
    "paused": shown("Loket 1", counter_state(None, status="paused")),
    "closed": shown("Loket 1", counter_state(None, status="closed")),
    "four-digits": shown("Loket 1", counter_state("A-1234", waiting=0)),
    "long": shown("Loket 12 Bank Sultra Pembayaran", counter_state("AB-1234", waiting=1234, recalls=2)),
}


# --- pictures -------------------------------------------------------------------------------


def oled_picture(view: View) -> Image.Image:
    screen = Screen(OLED, open_device, dummy=True)
    screen.show(view, 0.0)
    assert screen.error is None
    return screen.device.image


SEGMENTS = {6: "a", 5: "b", 4: "c", 3: "d", 2: "e", 1: "f", 0: "g"}  # bit (row of luma's image) -> segment


def seven_picture(view: View) -> Image.Image:
    """The eight digits of the module as they light up: luma's sevensegment writes one
    column of the dummy's 8x8 image per digit (the leftmost digit in column 7) and one
    row per segment (a = row 6 ... g = row 0, the decimal point row 7)."""
    screen = Screen(SEVEN, open_device, dummy=True)
    screen.show(view, 0.0)
    assert screen.error is None
    bits = screen.device.image.load()
    w, h, t, gap = 30, 56, 5, 12
    out = Image.new("RGB", (8 * (w + gap) + gap, h + 2 * gap), (20, 8, 8))
    d = ImageDraw.Draw(out)
    half = (h - 3 * t) // 2
    for i in range(8):
        x0, y0, column = gap + i * (w + gap), gap, 7 - i
        boxes = {"a": (x0 + t, y0, x0 + w - t, y0 + t), "g": (x0 + t, y0 + half + t, x0 + w - t, y0 + half + 2 * t),
                 "d": (x0 + t, y0 + h - t, x0 + w - t, y0 + h), "f": (x0, y0 + t, x0 + t, y0 + half + t),
                 "b": (x0 + w - t, y0 + t, x0 + w, y0 + half + t), "e": (x0, y0 + half + 2 * t, x0 + t, y0 + h - t),
                 "c": (x0 + w - t, y0 + half + 2 * t, x0 + w, y0 + h - t)}
        for row, segment in SEGMENTS.items():
            d.rectangle(boxes[segment], fill=(255, 45, 30) if bits[column, row] else (55, 18, 18))
        d.ellipse((x0 + w + 2, y0 + h - t, x0 + w + 2 + t, y0 + h), fill=(255, 45, 30) if bits[column, 7] else
                  (55, 18, 18))
    return out


def compare(name: str, picture: Image.Image, scale: int) -> None:
    LOOK.mkdir(parents=True, exist_ok=True)
    picture.convert("RGB").resize((picture.width * scale, picture.height * scale), Image.NEAREST).save(
        LOOK / f"{name}.png")
    kept = PICTURES / f"{name}.png"
    if UPDATE:
        PICTURES.mkdir(parents=True, exist_ok=True)
        picture.save(kept)
        return
    how = ("if the change is meant, regenerate with ANTRIAN_PICTURES=update xvfb-run -a .venv/bin/python -m pytest "
           f"-q tests/test_counter_display.py, look at {LOOK}/ and commit {PICTURES.relative_to(ROOT)}/")
    assert kept.exists(), f"no kept picture {kept}; {how}"
    with Image.open(kept) as old:
        old = old.convert(picture.mode)
        assert old.size == picture.size, f"{name}: size {picture.size}, kept {old.size}; {how}"
        changed = sum(a != b for a, b in zip(old.getdata(), picture.getdata()))
    assert changed == 0, f"{name}: {changed} pixels differ from {kept}; see {LOOK / name}.png; {how}"


@pytest.mark.parametrize("name", list(STATES))
def test_oled_picture(name):
    compare(f"oled-{name}", oled_picture(STATES[name]), 4)


@pytest.mark.parametrize("name", list(STATES))
def test_nothing_is_cut_at_the_edges(name):
    """No ink in the outermost columns and rows (the title's rule excepted): a word
    that does not fit is made smaller, a long counter name loses words."""
    picture = oled_picture(STATES[name])
    if STATES[name].inverted:
        picture = picture.point(lambda v: 255 - v)
    px = picture.load()
    edges = [(x, y) for y in range(64) for x in (0, 127) if y != 13 and px[x, y]]
    edges += [(x, y) for x in range(128) for y in (0, 63) if px[x, y]]
    assert edges == []


@pytest.mark.parametrize("name", list(STATES))
def test_seven_segment_picture(name):
    compare(f"7seg-{name}", seven_picture(STATES[name]), 1)


def test_what_the_states_say():
    """The words of hardware/WIRING.md, in the views the pictures are made of."""
    s = STATES
    assert (s["serving"].big, s["serving"].note, s["serving"].digits) == ("A-012", "Menunggu: 5", " 012   5")
    assert (s["waiting"].big, s["waiting"].digits) == ("SIAP", "----  12")
    assert s["recall-flash"].inverted and s["recall-flash"].corner == "Ulang 1/3"
    assert s["recall-flash"].digits == "       5"  # the number blinks
    assert not s["recall-between"].inverted and s["recall-between"].digits == " 012   5"
    assert (s["refused-queue_empty"].big, s["refused-queue_empty"].digits) == ("KOSONG", "HAbIS   ")
    assert s["refused-counter_closed"].big == s["refused-service_closed"].big == s["closed"].big == "TUTUP"
    assert s["refused-other"].big == "GAGAL"
    assert (s["broker-gone"].big, s["broker-gone"].note, s["broker-gone"].digits) == (
        "--", "Koneksi terputus", "   --   ")
    assert (s["paused"].big, s["paused"].digits) == ("JEDA", "JEdA   5")
    assert s["closed"].digits == "tUtUP   "
    assert s["four-digits"].digits == "1234   0"
    assert (s["long"].big, s["long"].digits, s["long"].corner) == ("AB-1234", "1234 999", "Ulang 2/3")
    assert all(len(v.digits) == 8 for v in s.values())


def test_number_digits_leave_the_letters_out():
    assert [number_digits(n) for n in ("A-012", "AB-1234", "F-001")] == ["012", "1234", "001"]


# --- timing, with the clock passed in ---------------------------------------------------------


def test_a_refusal_shows_for_a_while_then_the_number_comes_back():
    state = ScreenState("Loket 1")
    state.on_state(SERVING, 0.0)
    state.refused("queue_empty", 10.0)
    view, wake = state.view(10.5)
    assert view.big == "KOSONG" and wake == pytest.approx(MESSAGE_SECONDS - 0.5)
    assert state.view(10.0 + MESSAGE_SECONDS)[0].big == "A-012"


def test_a_refusal_outlives_the_state_after_it_an_accepted_press_ends_it():
    state = ScreenState("Loket 1")
    state.on_state(SERVING, 0.0)
    # NEXT with nobody waiting: the reply says queue_empty, then the state comes with
    # A-012 finished.
    state.refused("queue_empty", 1.0)
    state.on_state(counter_state(None, waiting=0), 1.01)
    assert state.view(2.0)[0].big == "KOSONG"
    assert state.view(1.0 + MESSAGE_SECONDS)[0].big == "SIAP"
    state.refused("queue_empty", 6.0)
    state.accepted()  # the next press went through
    assert state.view(6.1)[0].big == "SIAP"


def test_a_recall_flashes_then_stops_a_new_ticket_does_not_flash():
    state = ScreenState("Loket 1")
    state.on_state(SERVING, 0.0)
    assert not state.view(0.1)[0].inverted
    state.on_state(counter_state("A-012", recalls=1), 5.0)
    frames = [state.view(5.0 + i * FLASH_STEP + 0.01)[0].inverted for i in range(int(FLASH_SECONDS / FLASH_STEP))]
    assert frames == [True, False] * (len(frames) // 2)
    view, wake = state.view(5.0 + FLASH_SECONDS)
    assert not view.inverted and wake is None
    state.on_state(counter_state("A-013", recalls=0), 9.0)
    state.on_state(counter_state("A-014", recalls=1), 10.0)  # another ticket, already recalled once: no flash
    assert not state.view(10.0)[0].inverted


def test_a_strange_state_does_not_stop_the_display():
    state = ScreenState("Loket 1")
    state.on_state({"status": "open", "serving": "A-012", "waiting": "banyak", "recalls": None}, 0.0)
    state.on_state({"status": "open", "serving": {"number": 12}, "waiting": True, "recalls": -1}, 1.0)
    assert state.view(1.0)[0] == View("LOKET 1", "SIAP", "Menunggu: 0", digits="----   0")


def test_broker_gone_beats_everything():
    state = ScreenState("Loket 1")
    state.on_state(SERVING, 0.0)
    state.refused("queue_empty", 0.5)
    state.link_down = True
    assert state.view(1.0)[0].big == "--"


# --- the adapter ------------------------------------------------------------------------------


def test_a_display_that_fails_is_retried_and_reports_why(monkeypatch):
    monkeypatch.setattr(luma_screen, "RETRY", 5.0)
    plugged = False

    def opener(spec, dummy):
        if not plugged:
            raise OSError(121, "Remote I/O error")
        return open_device(spec, dummy=True)

    screen = Screen(OLED, opener, dummy=False)
    screen.show(STATES["serving"], 100.0)
    assert screen.error == "OSError: [Errno 121] Remote I/O error" and screen.shown is None
    assert not screen.due(STATES["serving"], 104.9)
    plugged = True
    assert screen.due(STATES["serving"], 105.0)
    screen.show(STATES["serving"], 105.0)
    assert screen.error is None and screen.shown == STATES["serving"]
    screen.close()
    assert screen.device is None


def test_no_bus_is_an_error_not_a_crash():
    """The real luma classes on a bus that is not there (no /dev/i2c-9, no spidev module
    or no /dev/spidev9.0 here)."""
    for spec in (Display("loket1", "ssd1306", "x", i2c_port=9), Display("loket1", "sh1106", "x", i2c_port=9),
                 Display("loket2", "max7219", "x", spi_port=9)):
        screen = Screen(spec, open_device, dummy=False)
        screen.show(STATES["serving"], 0.0)
        assert screen.error and screen.device is None, spec


def test_a_missing_oled_leaves_no_bus_open(monkeypatch):
    """An OLED unplugged from a bus that is there: every attempt fails with luma's
    "not found" before a device is made, and closes the bus it opened."""
    import smbus2

    opened = []

    class Bus:
        def __init__(self, port):
            self.port, self.closed = port, False
            opened.append(self)

        def write_i2c_block_data(self, address, register, data):
            raise OSError(121, "Remote I/O error")

        def close(self):
            self.closed = True

    monkeypatch.setattr(smbus2, "SMBus", Bus)
    screen = Screen(OLED, open_device, dummy=False)
    for attempt in range(3):
        screen.show(STATES["serving"], attempt * 100.0)
    assert screen.error == "DeviceNotFoundError: I2C device not found on address: 0x3C"
    assert len(opened) == 3 and all(bus.closed for bus in opened) and opened[0].port == 1


@pytest.mark.parametrize("kind", ["ssd1306", "sh1106"])
def test_a_real_oled_class_gets_the_picture(monkeypatch, kind):
    """luma's own SSD1306/SH1106 classes on a stand-in bus that answers: the panel's
    drawing reaches the chip as 1024 bytes of picture (128x64 at one bit a pixel)."""
    import smbus2

    sent = []

    class Bus:
        def __init__(self, port):
            pass

        def write_i2c_block_data(self, address, register, data):
            assert (address, register) == (0x3C, 0x00)  # commands

        def i2c_rdwr(self, *messages):
            sent.extend(bytes(m)[1:] for m in messages)  # data: 0x40, then the picture's bytes

        def close(self):
            pass

    monkeypatch.setattr(smbus2, "SMBus", Bus)
    screen = Screen(Display("loket1", kind, "x", rotate=180), open_device, dummy=False)
    screen.show(STATES["serving"], 0.0)
    assert screen.error is None and screen.shown == STATES["serving"]
    picture = b"".join(sent)
    assert len(picture) >= 2 * 1024  # cleared when made, then drawn
    assert any(picture[-1024:]) and not any(picture[:1024])
    screen.close()


def test_a_bus_that_fails_while_drawing_is_closed_and_retried(monkeypatch):
    """A loose cable: the OLED answered when opened, then a frame fails; the bus is
    closed although switching the display off fails too, and it is opened again later."""
    import smbus2

    buses, failing = [], {"now": False}

    class Bus:
        def __init__(self, port):
            self.closed = False
            buses.append(self)

        def write_i2c_block_data(self, address, register, data):
            if failing["now"]:
                raise OSError(121, "Remote I/O error")

        def i2c_rdwr(self, *messages):
            if failing["now"]:
                raise OSError(121, "Remote I/O error")

        def close(self):
            self.closed = True

    monkeypatch.setattr(smbus2, "SMBus", Bus)
    screen = Screen(OLED, open_device, dummy=False)
    screen.show(STATES["serving"], 0.0)
    assert screen.error is None and len(buses) == 1
    failing["now"] = True
    screen.show(STATES["waiting"], 1.0)
    assert screen.error and screen.device is None and buses[0].closed
    failing["now"] = False
    screen.show(STATES["waiting"], 1.0 + luma_screen.RETRY)
    assert screen.error is None and len(buses) == 2 and not buses[1].closed
    screen.close()


def test_a_closed_display_is_dark():
    device = open_device(OLED, dummy=True)
    screen = Screen(OLED, lambda spec, dummy: device, dummy=True)
    screen.show(STATES["serving"], 0.0)
    assert device.image.getbbox() is not None
    screen.close()
    assert device.image.getbbox() is None


# --- through the panel, with a real broker and dispatcher --------------------------------------


@pytest.fixture
def site_file(tmp_path):
    """The round-the-clock Buton site with quick panels; panel1 has an OLED on loket1 and
    a 7-segment module on loket2."""
    path = allday_site(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for device in raw["devices"]:
        if device["role"] == "panel":
            device.update(hold_time=0.5, debounce_time=0.05, max_press_age=10)
        if device["id"] == "panel1":
            device["displays"] = [{"counter": "loket1", "kind": "ssd1306", "i2c_address": 0x3C},
                                  {"counter": "loket2", "kind": "max7219", "spi_port": 0, "spi_device": 0}]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def showing(panel, counter):
    """The View on a counter's display now (an empty one before the first is drawn)."""
    return panel.screens.screens[counter].shown or View("", "")


def test_next_shows_the_number_on_the_display(kiosk, start_panel, pins, tap):
    panel = start_panel()
    assert panel.wait_until(lambda: showing(panel, "loket1") == View("LOKET 1", "SIAP", "Menunggu: 0",
                                                                     digits="----   0"))
    tap(NEXT1)  # nobody waits
    assert panel.wait_until(lambda: showing(panel, "loket1").big == "KOSONG")
    number = kiosk.request("KTP")["ticket"]["number"]
    assert panel.wait_until(lambda: showing(panel, "loket1").note == "Menunggu: 1")
    assert panel.wait_until(lambda: showing(panel, "loket2").digits == "----   1")  # loket2 serves KTP too
    tap(NEXT1)
    serving(kiosk, "loket1", number)
    expected = View("LOKET 1", number, "Menunggu: 0", digits=f" {number_digits(number)}   0")
    assert panel.wait_until(lambda: showing(panel, "loket1") == expected)
    # What the device shows is that picture (a dummy device keeps it).
    device = panel.screens.screens["loket1"].device
    assert device.image.tobytes() == oled_picture(expected).tobytes()
    seven = panel.screens.screens["loket2"]
    assert panel.wait_until(lambda: seven.shown.digits == "----   0")
    # RECALL: the display flashes (inverted), then shows the number with the recall count.
    pins.pin(RECALL1).drive_low()
    pins.pin(RECALL1).drive_high()
    assert panel.wait_until(lambda: showing(panel, "loket1").inverted, 5)
    assert panel.wait_until(lambda: showing(panel, "loket1") == dataclasses.replace(expected, corner="Ulang 1/3"), 5)
    # NEXT with nobody waiting: the served ticket is finished and the display says why
    # nothing was called (the state that finishes it comes after the reply).
    tap(NEXT1)
    assert panel.wait_until(lambda: showing(panel, "loket1").big == "KOSONG", 5)
    assert panel.wait_until(lambda: panel.screen_states["loket1"].state["serving"] is None, 5)
    assert showing(panel, "loket1").big == "KOSONG"


def test_broker_gone_shows_dashes_and_comes_back(kiosk, start_panel, broker):
    panel = start_panel()
    assert panel.wait_until(lambda: showing(panel, "loket1").big == "SIAP")
    broker.stop()
    assert panel.wait_until(lambda: showing(panel, "loket1").big == "--", 5)
    assert showing(panel, "loket1").note == "Koneksi terputus"
    assert panel.wait_until(lambda: showing(panel, "loket2").digits == "   --   ")
    broker.start()
    assert panel.wait_until(lambda: showing(panel, "loket1").big == "SIAP", 15)


def test_a_failing_display_is_a_problem_and_the_buttons_still_work(kiosk, start_panel, tap, mqtt_client,
                                                                   monkeypatch):
    monkeypatch.setattr(luma_screen, "RETRY", 0.3)
    plugged = {"loket1": False}

    def opener(spec, dummy):
        if not plugged.get(spec.counter, True):
            raise OSError(121, "Remote I/O error")
        return open_device(spec, dummy)

    watcher = mqtt_client(topics=[protocol.status(SITE, "panel1")])
    panel = start_panel(open_display=opener)
    status = watcher.wait_for(protocol.status(SITE, "panel1"), lambda m: "display_error" in m.json()["problems"],
                              timeout=10).json()
    assert status["online"] is True
    number = kiosk.request("KTP")["ticket"]["number"]
    tap(NEXT1)
    serving(kiosk, "loket1", number)  # the press went through all the same
    assert panel.wait_until(lambda: panel.lit("loket1"))
    assert panel.wait_until(lambda: showing(panel, "loket2").digits == "----   0")  # the other display works
    with panel._lock:
        plugged["loket1"] = True  # plugged in again
    assert panel.wait_until(lambda: showing(panel, "loket1").big == number, 10)
    watcher.wait_for(protocol.status(SITE, "panel1"), lambda m: "display_error" not in m.json()["problems"],
                     timeout=10)


def test_the_display_keeps_up_while_buttons_are_pressed(kiosk, start_panel, tap):
    """Three tickets called one after the other: the display ends on the last one."""
    panel = start_panel()
    numbers = [kiosk.request("KIA")["ticket"]["number"] for _ in range(3)]
    for number in numbers:
        tap(NEXT1)
        serving(kiosk, "loket1", number)
    assert panel.wait_until(lambda: showing(panel, "loket1").big == numbers[-1], 5)
    assert panel.screens.screens["loket1"].device.image.tobytes() == oled_picture(showing(panel, "loket1")).tobytes()
