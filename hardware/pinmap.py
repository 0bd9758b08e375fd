"""The pin map of a button panel: what the ``panel`` devices of the site file may say.

A panel is one Raspberry Pi beside a few counters. Its entry in ``devices:`` names
its buttons, status LEDs, optional buzzers, USB keypads and displays; this module checks that
part of the site file as `SCHEMA` (the field kit of antrian/site/schema.py; pure data,
no gpiozero), the ``panel`` role's schema, so ``antrian check-config`` reports a pin
used twice or an unknown action with its path before any Pi starts, and
docs/site-file.md lists every key::

    - id: panel1
      role: panel
      hold_time: 2            # seconds a button is held for its `hold` action
      debounce_time: 0.3      # seconds; a second press inside it is a bounce
      max_press_age: 10       # seconds a press waits for the broker before it is dropped
      buttons:
        - {pin: 17, counter: loket1, press: call_next, hold: no_show}
        - {pin: 27, counter: loket1, press: recall}
      leds:    [{pin: 22, counter: loket1}]
      buzzers: [{pin: 12, counter: loket1}]
      keypads:
        - {counter: loket1, device: /dev/input/by-id/usb-04d9_1203-event-kbd}
      displays:               # the counter's own small display (hardware.screen)
        - {counter: loket1, kind: ssd1306, i2c_port: 1, i2c_address: 0x3c}
        - {counter: loket2, kind: max7219, spi_port: 0, spi_device: 0}
      score_seconds: 30       # how long after a finished service the citizen may score it
      score_buttons:          # four faces facing the citizen: the quick score 1-4 (not the IKM)
        - {pin: 5, counter: loket1, score: 1}
        - {pin: 6, counter: loket1, score: 2}
        - {pin: 13, counter: loket1, score: 3}
        - {pin: 19, counter: loket1, score: 4}

Pins are BCM GPIO numbers (2..27 on a Pi 4/5 header), never header pin numbers. A
display takes the pins of its bus (I2C bus 1: GPIO 2 and 3; SPI0: GPIO 7-11), which
no button, LED or buzzer of the panel may use (hardware.screenmap).

:func:`panel_map` turns a device's options into a frozen :class:`PinMap` for
``hardware.panel``.
"""

from __future__ import annotations

import dataclasses
import re
from types import MappingProxyType
from typing import Any, Mapping

from antrian.site import Config, ConfigError, Device
from antrian.site.schema import (INVALID, Choice, Field, ListOf, MapOf, Number, Problems, Ref, Report, Rule, Section,
                                 Text, Whole, check, join)
from hardware import screenmap

# Counter actions a button or a key can send on its own. `transfer` and `call_number`
# need an argument (a service, a number) that a button cannot give; a keypad sends
# `call_number` for a typed number. A subset of antrian.protocol.ACTIONS (a test keeps it so).
BUTTON_ACTIONS = ("call_next", "recall", "no_show", "finish", "pause", "open", "close")

PIN_MIN, PIN_MAX = 2, 27
HOLD_TIME = (2.0, 0.5, 10.0)  # default, low, high; in seconds
DEBOUNCE_TIME = (0.3, 0.05, 2.0)
MAX_PRESS_AGE = (10.0, 1.0, 600.0)
SCORE_SECONDS = (30.0, 5.0, 300.0)
SCORES = (1, 2, 3, 4)  # the quick score's faces, worst to best

# Keys of a USB numeric keypad that can carry an action. The digits type a ticket
# number and Enter sends it (call_number); Backspace and Esc clear what was typed.
KEY_NAMES = ("+", "-", "*", "/", ".", "=", "enter", "tab", "numlock")
TYPING_KEYS = tuple("0123456789") + ("backspace", "esc")
# A 17-key keypad has one key left after these, ".", which opens the counter; NumLock
# (top left, of no other use here: the digits work either way) closes it.
DEFAULT_KEYS: Mapping[str, str] = MappingProxyType({"+": "call_next", "*": "recall", "-": "no_show", "/": "finish",
                                                    ".": "open", "numlock": "close"})
STDIN = "stdin"

_INPUT_DEVICE = re.compile(rf"^({STDIN}$|/dev/input/.)")


@dataclasses.dataclass(frozen=True)
class Button:
    pin: int
    counter: str
    press: str
    hold: str | None
    path: str  # where it is in the site file, for error messages on the Pi


@dataclasses.dataclass(frozen=True)
class ScoreButton:
    """One face of a counter's quick score: pressed after a finished service, it sends
    that ticket's Survey with this `score`."""

    pin: int
    counter: str
    score: int
    path: str


@dataclasses.dataclass(frozen=True)
class Output:
    """An LED or a buzzer of one counter."""

    pin: int
    counter: str
    path: str


@dataclasses.dataclass(frozen=True)
class Keypad:
    counter: str
    device: str  # /dev/input/... or "stdin"
    prefix: str  # ticket prefix of a typed number: 12 -> "A-12"
    keys: Mapping[str, str]  # key name -> action
    path: str


@dataclasses.dataclass(frozen=True)
class PinMap:
    device: str
    buttons: tuple[Button, ...]
    leds: tuple[Output, ...]
    buzzers: tuple[Output, ...]
    keypads: tuple[Keypad, ...]
    hold_time: float
    debounce_time: float
    max_press_age: float
    displays: tuple[screenmap.Display, ...] = ()
    score_buttons: tuple[ScoreButton, ...] = ()
    score_seconds: float = SCORE_SECONDS[0]

    @property
    def counters(self) -> tuple[str, ...]:
        """Every counter this panel serves, in the order the site file names them."""
        seen: dict[str, None] = {}
        for item in (*self.buttons, *self.leds, *self.buzzers, *self.keypads, *self.displays, *self.score_buttons):
            seen.setdefault(item.counter)
        return tuple(seen)


class Pin(Whole):
    """A BCM GPIO number, never a header pin number."""

    def check(self, value, path, walk):
        if isinstance(value, bool) or not isinstance(value, int):
            return self.wrong(value, "a whole number (a BCM GPIO number)", path, walk)
        if not self.low <= value <= self.high:
            walk.report(path, f"GPIO {value} does not exist: use a BCM number {self.limits()} "
                              "(not the header pin number)")
            return INVALID
        return value


class KeyName(Choice):
    """A key of a USB numeric keypad that can carry an action; cleaned to lower case."""

    def check(self, value, path, walk):
        name = str(value).lower()
        if name in TYPING_KEYS:
            walk.report(path, "digits, backspace and esc are for typing a ticket number; they cannot carry an action")
            return INVALID
        return super().check(name, path, walk)


def _pin_once(pin: int, path: str, report: Report, context: dict) -> None:
    """a pin is used once per panel (buttons, LEDs and buzzers together)."""
    pins = context.setdefault("pins", {})
    if pin in pins:
        report(path, f"pin {pin} is already used by {pins[pin]}")
    else:
        pins[pin] = path.rpartition(".")[0]


def _known_counter(counter: Any, path: str, report: Report, context: dict) -> None:
    """counter is one of the site's counters."""
    if not isinstance(counter, str) or counter not in context["config"].counters:
        report(path, f"unknown counter {counter!r}")


def _one_each(what: str) -> Rule:
    def rule(items: list, path: str, report: Report, context: dict) -> None:
        owner: dict[str, str] = {}
        for i, item in enumerate(items):
            counter = item.get("counter") if isinstance(item, dict) else None
            if not isinstance(counter, str):
                continue
            if counter in owner:
                report(f"{path}[{i}].counter", f"counter {counter!r} already has {what} ({owner[counter]})")
            else:
                owner[counter] = f"{path}[{i}]"
    rule.__doc__ = f"a counter has at most {what}."
    return rule


def _read_once(device: str, path: str, report: Report, context: dict) -> None:
    """no two keypads read the same input device."""
    devices = context.setdefault("input devices", {})
    if device in devices:
        report(path, f"{device} is already read by {devices[device]}")
    else:
        devices[device] = path.rpartition(".")[0]


def _service_served(keypad: dict, path: str, report: Report, context: dict) -> None:
    """a keypad's service is one its counter serves."""
    counters = context["config"].counters
    counter = keypad.get("counter")
    if not isinstance(counter, str) or counter not in counters:
        return
    served = counters[counter].services
    code = keypad.get("service") or (served[0] if served else None)
    if not isinstance(code, str) or code not in served:
        report(join(path, "service"), f"counter {counter!r} does not serve {code!r} (it serves {', '.join(served)})")


def _scores_once(items: list, path: str, report: Report, context: dict) -> None:
    """a counter has each score on one button at most."""
    owner: dict[tuple[str, int], str] = {}
    for i, item in enumerate(items):
        key = (item.get("counter"), item.get("score")) if isinstance(item, dict) else None
        if key is None or not isinstance(key[0], str):
            continue
        if key in owner:
            report(f"{path}[{i}].score", f"counter {key[0]!r} already has a button for score {key[1]} ({owner[key]})")
        else:
            owner[key] = f"{path}[{i}]"


def _has_inputs(panel: dict, path: str, report: Report, context: dict) -> None:
    """a panel has buttons or keypads."""
    if "buttons" in panel and "keypads" in panel and not panel["buttons"] and not panel["keypads"]:
        report(path, "a panel needs buttons or keypads")


PIN = Field(Pin(PIN_MIN, PIN_MAX), "the BCM GPIO number (not the header pin number)", True, example=17,
            rule=_pin_once)
COUNTER = Field(Ref("a counter id"), "the counter it belongs to", True, example="loket1", rule=_known_counter)
ACTION = Choice(BUTTON_ACTIONS, "button action")
BUTTON = Section({
    "pin": PIN,
    "counter": COUNTER,
    "press": Field(ACTION, "the action of a short press", True, example="call_next"),
    "hold": Field(ACTION, "the action of a long press (held hold_time); a button with one sends its press "
                  "action when released sooner", example="no_show"),
}, "a call button, between its GPIO and GND (internal pull-up)")
SCORE_BUTTON = Section({
    "pin": PIN,
    "counter": COUNTER,
    "score": Field(Choice(SCORES, "score"), "the face's score: 1 tidak puas, 2 kurang puas, 3 puas, 4 sangat puas",
                   True, example=4),
}, "a quick-score button facing the citizen, between its GPIO and GND (internal pull-up)")
OUTPUT = Section({"pin": PIN, "counter": COUNTER}, "an LED (through 330 ohm to GND) or a buzzer of one counter")
KEYPAD = Section({
    "counter": COUNTER,
    "device": Field(Text(_INPUT_DEVICE, "a path under /dev/input/ (e.g. /dev/input/by-id/...-event-kbd) "
                                        f"or '{STDIN}'"),
                    f"its stable name under /dev/input/by-id/ (ls there after plugging it in), or {STDIN} to "
                    "type on the terminal for a test", True,
                    example="/dev/input/by-id/usb-SEM_USB_Keyboard-event-kbd", rule=_read_once),
    "service": Field(Ref("a service code"), "the service whose prefix a typed number gets (12 Enter -> G-012); "
                     "default: the counter's first", example="BAYAR"),
    "keys": Field(MapOf(KeyName(KEY_NAMES, "key name"), ACTION), "key -> action, actions as for a button: "
                  f"{', '.join(BUTTON_ACTIONS)}; digits then Enter call that number out of turn, Backspace or Esc "
                  "clear them", default=DEFAULT_KEYS, example={"enter": "call_next", "+": "recall"}),
}, "a USB numeric keypad of one counter", rule=_service_served)
_SECONDS = "seconds"
SCHEMA = Section({
    "hold_time": Field(Number(*HOLD_TIME[1:], _SECONDS), "how long a button is held for its hold action",
                       default=HOLD_TIME[0], example=2),
    "debounce_time": Field(Number(*DEBOUNCE_TIME[1:], _SECONDS), "a second press within this is the same "
                           "press", default=DEBOUNCE_TIME[0], example=0.3),
    "max_press_age": Field(Number(*MAX_PRESS_AGE[1:], _SECONDS), "how long a press may wait while the broker is "
                           "unreachable; older ones are dropped and the LED says so", default=MAX_PRESS_AGE[0],
                           example=10),
    "buttons": Field(ListOf(BUTTON), "its call buttons", default=()),
    "leds": Field(ListOf(OUTPUT), "status LEDs, one per counter at most", default=(), rule=_one_each("an LED")),
    "buzzers": Field(ListOf(OUTPUT), "buzzers that beep when a press is accepted, one per counter at most",
                     default=(), rule=_one_each("a buzzer")),
    "keypads": Field(ListOf(KEYPAD), "USB numeric keypads", default=()),
    "score_buttons": Field(ListOf(SCORE_BUTTON), "the quick score's four faces (1-4) for the citizen, taken for "
                           "the ticket the counter has just finished (finish or call_next) and sent as a Survey; "
                           "reported apart, never in the IKM", default=(), rule=_scores_once),
    "score_seconds": Field(Number(*SCORE_SECONDS[1:], _SECONDS), "how long after a finished service the score "
                           "buttons take a score", default=SCORE_SECONDS[0], example=30),
    # After the pins: a display's bus pins are checked against them.
    "displays": screenmap.DISPLAYS,
}, "a counter Pi with call buttons, LEDs and keypads", what="a panel", rule=_has_inputs)


def panel_map(config: Config, device_id: str) -> PinMap:
    """The pin map of a panel device (ConfigError if there is no such panel, or if its
    options are wrong: only for a Config that did not come through load())."""
    device: Device = config.device(device_id, "panel")
    path = f"devices[{list(config.devices).index(device_id)}]"
    problems = Problems()
    panel = check(SCHEMA, device.options, path, problems, {"config": config})
    if problems:
        raise ConfigError(config.source, problems)

    def outputs(key: str) -> tuple[Output, ...]:
        return tuple(Output(o["pin"], o["counter"], f"{path}.{key}[{i}]") for i, o in enumerate(panel[key]))

    def prefix(keypad: dict) -> str:
        code = keypad["service"] or config.counters[keypad["counter"]].services[0]
        return config.services[code].prefix

    return PinMap(
        device_id,
        tuple(Button(b["pin"], b["counter"], b["press"], b["hold"], f"{path}.buttons[{i}]")
              for i, b in enumerate(panel["buttons"])),
        outputs("leds"), outputs("buzzers"),
        tuple(Keypad(k["counter"], k["device"], prefix(k), MappingProxyType(dict(k["keys"])), f"{path}.keypads[{i}]")
              for i, k in enumerate(panel["keypads"])),
        panel["hold_time"], panel["debounce_time"], panel["max_press_age"],
        screenmap.displays(panel["displays"], path),
        tuple(ScoreButton(b["pin"], b["counter"], b["score"], f"{path}.score_buttons[{i}]")
              for i, b in enumerate(panel["score_buttons"])),
        panel["score_seconds"])
