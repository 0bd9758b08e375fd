"""The panel's pure parts, fed events with a fake clock: debounce, LED patterns, the
outbox of waiting presses, the keypad decoder and the Linux input-event reader."""

from __future__ import annotations

import os
import struct
import threading
from types import MappingProxyType

import pytest

from hardware.pinmap import DEFAULT_KEYS, Keypad
from hardware import feedback
from hardware.debounce import Debouncer, Release
from hardware.feedback import Lamp, blinks, pattern_for
from hardware.keypad import EVENT, BadEntry, KeyDecoder, read_input_device, read_stream
from hardware.outbox import Outbox


class Clock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# --- debounce ----------------------------------------------------------------------------


def test_a_bouncing_contact_is_one_press():
    clock = Clock()
    d = Debouncer(0.3, clock=clock)
    accepted = []
    for _ in range(5):  # five press edges within 50 ms, releases between them
        accepted.append(d.press())
        clock.advance(0.005)
        d.release()
        clock.advance(0.005)
    assert accepted == [True, False, False, False, False]


def test_a_double_press_inside_the_window_is_one_press_and_a_deliberate_one_after_it_is_another():
    clock = Clock()
    d = Debouncer(0.3, clock=clock)
    assert d.press()
    clock.advance(0.1)
    assert d.release() is Release.END
    clock.advance(0.1)  # 200 ms after the first: a double press
    assert not d.press()
    clock.advance(0.05)
    assert d.release() is Release.IGNORED
    clock.advance(0.1)  # 350 ms after the first
    assert d.press()


def test_a_release_right_after_the_press_is_a_bounce_until_the_pin_settles():
    clock = Clock()
    d = Debouncer(0.3, clock=clock)
    assert d.press()
    clock.advance(0.004)
    assert d.release() is Release.BOUNCE and d.is_down
    clock.advance(0.03)
    assert not d.settled(is_pressed=True)  # bounced back down: still the same press
    assert d.is_down
    clock.advance(0.5)
    assert d.release() is Release.END and not d.is_down


def test_a_very_short_tap_ends_when_the_pin_has_settled():
    clock = Clock()
    d = Debouncer(0.3, clock=clock)
    d.press()
    clock.advance(0.002)
    assert d.release() is Release.BOUNCE
    assert d.settle_at == pytest.approx(100.03)
    clock.advance(0.03)
    assert d.settled(is_pressed=False) and not d.is_down
    assert not d.settled(is_pressed=False)  # only once


def test_the_release_of_a_long_press_bouncing_is_not_a_new_press():
    clock = Clock()
    d = Debouncer(0.3, clock=clock)
    d.press()
    clock.advance(2.5)  # held for a no-show
    assert d.release() is Release.END
    clock.advance(0.003)
    assert not d.press()  # the contact bouncing as it opens
    clock.advance(0.003)
    assert d.release() is Release.IGNORED
    clock.advance(0.2)
    assert d.press()  # a real press later


def test_a_lost_release_does_not_block_the_next_press():
    clock = Clock()
    d = Debouncer(0.3, clock=clock)
    d.press()
    clock.advance(1.0)
    assert d.press()


def test_window_must_cover_the_settle_time():
    with pytest.raises(ValueError):
        Debouncer(0.01)


# --- feedback ---------------------------------------------------------------------------


def test_patterns_start_and_end_dark_and_differ():
    for name, steps in feedback.PATTERNS.items():
        assert steps[0][0] is False and steps[-1][0] is False, name
    assert len(set(feedback.PATTERNS.values())) == len(feedback.PATTERNS)
    assert blinks(2, 0.1, 0.2, gap=0.5) == ((False, 0.5), (True, 0.1), (False, 0.2), (True, 0.1), (False, 0.5))


@pytest.mark.parametrize("code, pattern", [
    ("queue_empty", "queue_empty"), ("not_serving", "not_serving"), ("recall_limit", "recall_limit"),
    ("counter_closed", "counter_closed"), ("bad_request", "error"), ("internal", "error"),
])
def test_every_error_code_has_a_pattern(code, pattern):
    assert pattern_for(code) == pattern


def test_lamp_is_steady_while_serving_and_plays_a_pattern_over_it():
    lamp = Lamp()
    assert lamp.level(0.0) == (False, None)
    lamp.serving = True
    assert lamp.level(0.0) == (True, None)
    lamp.play("queue_empty", 10.0)  # dark 0.4, on 0.15, off 0.2, on 0.15, dark 0.4
    assert lamp.level(10.1) == (False, pytest.approx(0.3))
    assert lamp.level(10.5)[0] is True
    assert lamp.level(10.6)[0] is False
    assert lamp.level(10.8)[0] is True
    assert lamp.level(11.0)[0] is False
    assert lamp.level(11.4) == (True, None) and not lamp.playing


def test_lamp_blinks_while_the_link_is_down():
    lamp = Lamp()
    lamp.serving = True
    lamp.set_link_down(True, 50.0)
    levels = [lamp.level(50.0 + t / 10)[0] for t in range(0, 30, 2)]
    assert levels == [True, True, True, False, False, True, True, True, False, False, True, True, True, False, False]
    lamp.play("press_dropped", 53.0)
    assert lamp.level(53.1)[0] is False  # the pattern first
    lamp.set_link_down(False, 60.0)
    assert lamp.level(60.0) == (True, None)


def test_beeper():
    beeper = feedback.Beeper()
    assert beeper.level(0.0) == (False, None)
    beeper.beep(1.0)
    assert beeper.level(1.05)[0] is True
    assert beeper.level(1.2) == (False, None)


# --- outbox ------------------------------------------------------------------------------


def test_press_ids_are_unique_and_fit_the_protocol():
    box = Outbox("p" * 32, clock=Clock())
    ids = {box.add("loket1", "call_next")[0].id for _ in range(500)}
    assert len(ids) == 500 and max(map(len, ids)) <= 64


def test_payload_is_the_command_of_the_contract():
    box = Outbox("panel1", clock=Clock())
    press, _ = box.add("loket1", "call_number", {"number": "A-12"})
    assert press.payload() == {"id": press.id, "action": "call_number", "number": "A-12"}


def test_flush_resends_young_presses_with_their_ids_and_drops_old_ones():
    clock = Clock()
    box = Outbox("panel1", max_age=10, clock=clock)
    old, _ = box.add("loket1", "call_next")
    clock.advance(5)
    young, _ = box.add("loket2", "recall")
    clock.advance(6)  # old is 11 s, young 6 s
    resend, dropped = box.flush()
    assert resend == [young] and dropped == [old]
    assert box.answered(young.id) == young and len(box) == 0
    assert box.answered(young.id) is None  # a second reply to the same id


def test_too_many_waiting_presses_push_out_the_oldest_of_that_counter():
    box = Outbox("panel1", limit=3, clock=Clock())
    presses = [box.add("loket1", "call_next")[0] for _ in range(3)]
    other, _ = box.add("loket2", "call_next")
    newest, pushed = box.add("loket1", "recall")
    assert pushed == [presses[0]]
    assert box.pending() == presses[1:] + [other, newest]


def test_unanswered_presses_are_forgotten_after_ten_minutes():
    clock = Clock()
    box = Outbox("panel1", clock=clock)
    press, _ = box.add("loket1", "call_next")
    clock.advance(599)
    assert box.forget_old() == []
    clock.advance(2)
    assert box.forget_old() == [press] and len(box) == 0


# --- keypad ------------------------------------------------------------------------------


def keypad(**keys):
    return Keypad("loket1", "stdin", "A", MappingProxyType(keys or dict(DEFAULT_KEYS)), "devices[5].keypads[0]")


def test_default_keys():
    d = KeyDecoder(keypad(), clock=Clock())
    assert [d.key(k) for k in "+*-/"] == [("call_next", {}), ("recall", {}), ("no_show", {}), ("finish", {})]
    assert d.key("enter") is None and d.key("=") is None
    # Open and close from the desk (issue 14, item 6): "." opens, NumLock closes.
    assert d.key(".") == ("open", {}) and d.key("numlock") == ("close", {})
    assert d.key("1") is None
    with pytest.raises(BadEntry):  # a typed number, then open: a typing mistake, nothing sent
        d.key(".")


def test_typed_number_then_enter_calls_it():
    d = KeyDecoder(keypad(), clock=Clock())
    assert [d.key(k) for k in "12"] == [None, None]
    assert d.key("enter") == ("call_number", {"number": "A-12"})
    assert d.key("enter") is None  # nothing typed any more


def test_mapped_enter_and_custom_keys():
    d = KeyDecoder(keypad(enter="call_next", **{".": "recall"}), clock=Clock())
    assert d.key("enter") == ("call_next", {})
    assert d.key(".") == ("recall", {})
    assert d.key("+") is None  # not mapped on this keypad


def test_backspace_and_esc_clear_the_digits():
    d = KeyDecoder(keypad(), clock=Clock())
    for k in ("4", "backspace", "7", "esc", "9"):
        d.key(k)
    assert d.key("enter") == ("call_number", {"number": "A-9"})


def test_typing_mistakes():
    d = KeyDecoder(keypad(), clock=Clock())
    for k in "1234":
        d.key(k)
    with pytest.raises(BadEntry):
        d.key("5")
    assert d.digits == ""
    d.key("0")
    with pytest.raises(BadEntry):
        d.key("enter")
    d.key("3")
    with pytest.raises(BadEntry):
        d.key("+")  # a number typed, then an action key: neither is sent
    assert d.key("+") == ("call_next", {})


def test_forgotten_digits_expire():
    clock = Clock()
    d = KeyDecoder(keypad(), clock=clock)
    d.key("8")
    clock.advance(16)
    assert d.key("+") == ("call_next", {})


def test_stdin_characters():
    r, w = os.pipe()
    keys: list[str] = []
    with os.fdopen(r) as reader, os.fdopen(w, "w") as writer:
        writer.write("12\n+*\t-/.=\x7fx\x1b\n")
        writer.close()
        read_stream(reader, keys.append, threading.Event())
    assert keys == ["1", "2", "enter", "+", "*", "tab", "-", "/", ".", "=", "backspace", "esc", "enter"]


def test_linux_input_device_reader(tmp_path):
    """struct input_event records through a FIFO: key-down events only, keypad codes."""
    fifo = tmp_path / "event0"
    os.mkfifo(fifo)
    keys: list[str] = []
    done = threading.Event()
    stop = threading.Event()
    missing: list[bool] = []

    def on_key(name):
        keys.append(name)
        if name == "enter":
            done.set()

    reader = threading.Thread(target=read_input_device, args=(str(fifo), on_key, stop, missing.append), daemon=True)
    reader.start()

    def event(kind, code, value):
        return EVENT.pack(1700000000, 0, kind, code, value)

    with open(fifo, "wb") as device:
        records = [event(4, 4, 0x70059), event(1, 79, 1), event(0, 0, 0), event(1, 79, 0),  # KP1 down, up
                   event(1, 80, 1), event(1, 80, 2), event(1, 80, 0),  # KP2 down, autorepeat, up
                   event(1, 78, 1), event(1, 30, 1),  # KP+, then A (no keypad key)
                   event(1, 83, 1), event(1, 69, 1),  # KP. and NumLock: open and close by default
                   event(1, 96, 1)]  # KP Enter
        data = b"".join(records)
        device.write(data[:10])  # a record split across reads
        device.flush()
        device.write(data[10:])
    assert done.wait(5)
    stop.set()
    reader.join(5)
    assert keys == ["1", "2", "+", ".", "numlock", "enter"]
    assert missing[0] is False
    assert struct.calcsize("llHHi") == EVENT.size


def test_a_missing_input_device_is_reported_and_retried(tmp_path):
    reported = threading.Event()
    stop = threading.Event()
    reader = threading.Thread(target=read_input_device,
                              args=(str(tmp_path / "nope"), lambda k: None, stop, lambda m: m and reported.set()))
    reader.start()
    assert reported.wait(5)
    stop.set()
    reader.join(5)
    assert not reader.is_alive()
