"""The kiosk's barcode scanner reader (kiosk/scanner.py) without Kivy: the US layout and
the line assembly as pure functions; the reader thread on a named pipe of input events
(unplugged and plugged again, missing at start); on a real device through the kernel's
uinput where /dev/uinput can be opened."""

from __future__ import annotations

import os
import queue
import time

import pytest

from antrian.queue import codes
from antrian.slow import scaled
from kiosk import scanner
from kiosk.scanner import EV_KEY, KEY_ENTER, KEY_LEFTSHIFT, Decoder, Scanner, char_of

# Keys of a US keyboard by character: (key code, shift), from the layout table itself.
KEYS = {ch: (code, shifted) for code, pair in sorted(scanner.US_LAYOUT.items(), reverse=True)
        for shifted, ch in ((False, pair[0]), (True, pair[1]))}


def keystrokes(text: str, enter: bool = True) -> list[tuple[int, int]]:
    """What a wedge scanner sends for `text`: Shift held around shifted characters."""
    out: list[tuple[int, int]] = []
    for ch in text:
        code, shift = KEYS[ch]
        if shift:
            out.append((KEY_LEFTSHIFT, 1))
        out += [(code, 1), (code, 0)]
        if shift:
            out.append((KEY_LEFTSHIFT, 0))
    if enter:
        out += [(KEY_ENTER, 1), (KEY_ENTER, 0)]
    return out


def events(text: str) -> bytes:
    """`keystrokes` as struct input_event records, each key followed by a SYN_REPORT."""
    data = b""
    for code, value in keystrokes(text):
        data += scanner.EVENT.pack(0, 0, EV_KEY, code, value) + scanner.EVENT.pack(0, 0, 0, 0, 0)
    return data


@pytest.mark.parametrize("code, shift, caps, char", [
    (30, False, False, "a"), (30, True, False, "A"), (30, False, True, "A"), (30, True, True, "a"),
    (2, False, False, "1"), (2, True, False, "!"), (9, True, False, "*"), (5, True, False, "$"),
    (41, True, False, "~"), (13, False, False, "="), (12, False, False, "-"), (22, True, False, "U"),
    (2, False, True, "1"),  # Caps Lock turns letters only
    (55, True, False, "*"), (79, True, False, "1"),  # the keypad ignores Shift
    (KEY_ENTER, False, False, None), (KEY_LEFTSHIFT, True, False, None), (999, False, False, None),
])
def test_char_of_a_us_keyboard(code, shift, caps, char):
    assert char_of(code, shift, caps) == char


def test_the_layout_table_names_the_kernels_key_codes():
    evdev = pytest.importorskip("evdev")
    e = evdev.ecodes
    assert (e.KEY_1, e.KEY_0, e.KEY_Q, e.KEY_A, e.KEY_Z, e.KEY_SPACE, e.KEY_KPENTER) == (2, 11, 16, 30, 44, 57, 96)
    assert (e.KEY_ENTER, e.KEY_LEFTSHIFT, e.KEY_RIGHTSHIFT, e.KEY_CAPSLOCK) == (28, 42, 54, 58)
    assert scanner.EVENT.size == 24  # struct input_event on a 64-bit kernel


def test_every_booking_code_character_is_typed_and_read_back():
    decoder = Decoder()
    for text in ("RSV-0123-4567-*", "RSV-89AB-CDEF-~", "RSV-GHJK-MNPQ-$", "RSV-RSTV-WXYZ-=", "rsv-wxyz-0000-U"):
        lines = [line for code, value in keystrokes(text) if (line := decoder.feed(code, value))]
        assert lines == [text]


def test_the_decoder_keeps_lines_apart_and_ignores_repeats_and_empty_lines():
    decoder = Decoder()
    feed = [(KEY_ENTER, 1)] + keystrokes("AB", enter=False) + [(30, 2)] + keystrokes("1")
    assert [line for code, value in feed if (line := decoder.feed(code, value))] == ["AB1"]
    # Caps Lock on: letters come out as capitals, Shift turns them back
    caps = [(58, 1), (58, 0), (30, 1), (30, 0), (KEY_LEFTSHIFT, 1), (30, 1), (30, 0), (KEY_LEFTSHIFT, 0),
            (KEY_ENTER, 1)]
    assert [line for code, value in caps if (line := decoder.feed(code, value))] == ["Aa"]
    long = keystrokes("7" * 100)
    assert [line for code, value in long if (line := decoder.feed(code, value))] == ["7" * scanner.MAX_LINE]


@pytest.fixture
def fast_retry(monkeypatch):
    monkeypatch.setattr(scanner, "RETRY_SECONDS", 0.05)
    monkeypatch.setattr(scanner, "POLL_SECONDS", 0.05)


def run_scanner(spec: str):
    lines: queue.Queue = queue.Queue()
    states: queue.Queue = queue.Queue()
    reader = Scanner(spec, on_code=lines.put, on_state=lambda up, name: states.put((up, name)))
    reader.start()
    return reader, lines, states


def test_a_pipe_of_events_unplugged_and_plugged_again(tmp_path, fast_retry, caplog):
    fifo = tmp_path / "scanner"
    reader, lines, states = run_scanner(str(fifo))
    try:
        # Not there at start: one warning, and it is looked for again.
        time.sleep(0.3)
        assert "scanner" in caplog.text and "on-screen keypad still works" in caplog.text
        assert states.empty()
        os.mkfifo(fifo)
        assert states.get(timeout=scaled(5)) == (True, str(fifo))
        code = codes.display(codes.new_code())
        with open(fifo, "wb", buffering=0) as pipe:
            data = events(code) + events("second line")
            pipe.write(data[:37])  # a record split across two reads
            time.sleep(0.1)
            pipe.write(data[37:])
            assert lines.get(timeout=scaled(5)) == code
            assert lines.get(timeout=scaled(5)) == "second line"
        # The writer closed: unplugged. Opened again, it reads again.
        assert states.get(timeout=scaled(5)) == (False, "")
        assert states.get(timeout=scaled(5)) == (True, str(fifo))
        with open(fifo, "wb", buffering=0) as pipe:
            pipe.write(events("RSV-AAAA-BBBB-C"))
            assert lines.get(timeout=scaled(5)) == "RSV-AAAA-BBBB-C"
    finally:
        reader.stop()
    assert not reader._thread.is_alive()


def test_a_device_that_is_not_there_by_name_or_path(fast_retry, caplog):
    pytest.importorskip("evdev")
    for spec in ("/dev/input/by-id/usb-no-such-scanner-event-kbd", "No Such Scanner 3000"):
        caplog.clear()
        reader, lines, states = run_scanner(spec)
        try:
            time.sleep(0.3)
            assert states.empty() and reader.connected is False
            warnings = [r for r in caplog.records if r.name == "kiosk.scanner"]
            assert len(warnings) == 1, caplog.text  # told once, not at every look
            assert spec in warnings[0].getMessage()
        finally:
            reader.stop()


def uinput_reason() -> str | None:
    """Why a virtual keyboard cannot be made here, or None."""
    try:
        import evdev  # noqa: F401
    except ImportError:
        return "python-evdev is not installed"
    try:
        os.close(os.open("/dev/uinput", os.O_WRONLY))
    except OSError as exc:
        return (f"/dev/uinput cannot be opened ({exc.strerror}): this kernel has no uinput device "
                "(no 'uinput' in /proc/misc), so no virtual keyboard can be made")
    return None


UINPUT = uinput_reason()


@pytest.mark.skipif(UINPUT is not None, reason=str(UINPUT))
def test_a_real_input_device_through_uinput_is_grabbed_and_read(fast_retry):
    import evdev

    name = "Antrian Test Scanner"
    with evdev.UInput(name=name) as keyboard:
        reader, lines, states = run_scanner(name)
        try:
            up, shown = states.get(timeout=scaled(5))
            assert up and name in shown
            # Grabbed: a second reader cannot have it.
            other = evdev.InputDevice(keyboard.device.path)
            with pytest.raises(OSError):
                other.grab()
            other.close()
            for code, value in keystrokes("RSV-7K3M-Q2XA-5"):
                keyboard.write(evdev.ecodes.EV_KEY, code, value)
                keyboard.syn()
            assert lines.get(timeout=scaled(5)) == "RSV-7K3M-Q2XA-5"
        finally:
            reader.stop()
