"""The pin map of a button panel: what the ``panel`` devices of the site file may say.

A panel is one Raspberry Pi beside a few counters. Its entry in ``devices:`` names
its buttons, status LEDs, optional buzzers and USB keypads; this module checks that
part of the site file -- pure data, no gpiozero -- so ``antrian check-config``
reports a pin used twice or an unknown action with its path, before any Pi starts::

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

Pins are BCM GPIO numbers (2..27 on a Pi 4/5 header), never header pin numbers.
:func:`panel_map` turns a checked device into a frozen :class:`PinMap` for
``hardware.panel``. Importing :mod:`antrian.site` registers the check.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, Callable, Mapping

from antrian.site import Config, ConfigError, Device

# Counter actions a button or a key can send on its own. `transfer` and `call_number`
# need an argument (a service, a number) that a button cannot give; a keypad sends
# `call_number` for a typed number. A subset of antrian.protocol.ACTIONS (a test keeps it so).
BUTTON_ACTIONS = ("call_next", "recall", "no_show", "finish", "pause", "open", "close")

PIN_MIN, PIN_MAX = 2, 27
HOLD_TIME = (2.0, 0.5, 10.0)  # default, low, high; in seconds
DEBOUNCE_TIME = (0.3, 0.05, 2.0)
MAX_PRESS_AGE = (10.0, 1.0, 600.0)

# Keys of a USB numeric keypad that can carry an action. The digits type a ticket
# number and Enter sends it (call_number); Backspace and Esc clear what was typed.
KEY_NAMES = ("+", "-", "*", "/", ".", "=", "enter", "tab")
TYPING_KEYS = tuple("0123456789") + ("backspace", "esc")
DEFAULT_KEYS: Mapping[str, str] = MappingProxyType({"+": "call_next", "*": "recall", "-": "no_show", "/": "finish"})
STDIN = "stdin"

PANEL_KEYS = {"buttons", "leds", "buzzers", "keypads", "hold_time", "debounce_time", "max_press_age"}

Report = Callable[[str, str], None]


@dataclasses.dataclass(frozen=True)
class Button:
    pin: int
    counter: str
    press: str
    hold: str | None
    path: str  # where it is in the site file, for error messages on the Pi


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

    @property
    def counters(self) -> tuple[str, ...]:
        """Every counter this panel serves, in the order the site file names them."""
        seen: dict[str, None] = {}
        for item in (*self.buttons, *self.leds, *self.buzzers, *self.keypads):
            seen.setdefault(item.counter)
        return tuple(seen)


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"{type(value).__name__} {value!r}"


class _Check:
    """One panel's options checked against the config; every problem goes to `report`."""

    def __init__(self, options: Mapping[str, Any], path: str, config: Config, report: Report):
        self.config = config
        self.path = path
        self.report = report
        self.pins: dict[int, str] = {}
        self.ok = True

    def problem(self, path: str, message: str) -> None:
        self.ok = False
        self.report(path, message)

    def mapping(self, value: Any, path: str, allowed: set[str], required: set[str]) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.problem(path, f"must be a mapping, not {_kind(value)}")
            return None
        for key in value:
            if key not in allowed:
                self.problem(f"{path}.{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(required - set(value)):
            self.problem(f"{path}.{key}", "required")
        return value

    def items(self, options: Mapping[str, Any], key: str) -> list[tuple[str, Any]]:
        value = options.get(key)
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            self.problem(f"{self.path}.{key}", f"must be a list, not {_kind(value)}")
            return []
        return [(f"{self.path}.{key}[{i}]", item) for i, item in enumerate(value)]

    def seconds(self, options: Mapping[str, Any], key: str, limits: tuple[float, float, float]) -> float:
        default, low, high = limits
        value = options.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(f"{self.path}.{key}", f"must be a number of seconds, not {_kind(value)}")
            return default
        if not low <= value <= high:
            self.problem(f"{self.path}.{key}", f"{value} is out of range {low:g}..{high:g} seconds")
            return default
        return float(value)

    def pin(self, item: Mapping[str, Any], path: str) -> int | None:
        value = item.get("pin")
        if value is None:
            return None  # reported as required
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{path}.pin", f"must be a whole number (a BCM GPIO number), not {_kind(value)}")
            return None
        if not PIN_MIN <= value <= PIN_MAX:
            self.problem(f"{path}.pin", f"GPIO {value} does not exist: use a BCM number {PIN_MIN}..{PIN_MAX} "
                                        "(not the header pin number)")
            return None
        if value in self.pins:
            self.problem(f"{path}.pin", f"pin {value} is already used by {self.pins[value]}")
            return None
        self.pins[value] = path
        return value

    def counter(self, item: Mapping[str, Any], path: str) -> str | None:
        value = item.get("counter")
        if value is None:
            return None
        if not isinstance(value, str) or value not in self.config.counters:
            self.problem(f"{path}.counter", f"unknown counter {value!r}")
            return None
        return value

    def action(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or value not in BUTTON_ACTIONS:
            self.problem(path, f"{value!r} is not a button action ({', '.join(BUTTON_ACTIONS)})")
            return None
        return value


def check_panel(options: Mapping[str, Any], path: str, config: Config, report: Report) -> PinMap | None:
    """Check a panel's options; report every problem and return the PinMap if there were none."""
    c = _Check(options, path, config, report)
    for key in options:
        if key not in PANEL_KEYS:
            c.problem(f"{path}.{key}", f"unknown key (allowed: {', '.join(sorted(PANEL_KEYS))})")
    hold_time = c.seconds(options, "hold_time", HOLD_TIME)
    debounce_time = c.seconds(options, "debounce_time", DEBOUNCE_TIME)
    max_press_age = c.seconds(options, "max_press_age", MAX_PRESS_AGE)

    button_items, keypad_items = c.items(options, "buttons"), c.items(options, "keypads")
    if not button_items and not keypad_items and isinstance(options.get("buttons", []), (list, tuple)) \
            and isinstance(options.get("keypads", []), (list, tuple)):
        c.problem(path, "a panel needs buttons or keypads")
    buttons = []
    for item_path, raw in button_items:
        item = c.mapping(raw, item_path, {"pin", "counter", "press", "hold"}, {"pin", "counter", "press"})
        if item is None:
            continue
        pin, counter = c.pin(item, item_path), c.counter(item, item_path)
        press = c.action(item["press"], f"{item_path}.press") if "press" in item else None
        hold = c.action(item["hold"], f"{item_path}.hold") if item.get("hold") is not None else None
        if pin is not None and counter and press:
            buttons.append(Button(pin, counter, press, hold, item_path))

    outputs: dict[str, list[Output]] = {"leds": [], "buzzers": []}
    for key, what in (("leds", "an LED"), ("buzzers", "a buzzer")):
        owner: dict[str, str] = {}
        for item_path, raw in c.items(options, key):
            item = c.mapping(raw, item_path, {"pin", "counter"}, {"pin", "counter"})
            if item is None:
                continue
            pin, counter = c.pin(item, item_path), c.counter(item, item_path)
            if counter in owner:
                c.problem(f"{item_path}.counter", f"counter {counter!r} already has {what} ({owner[counter]})")
                continue
            if counter:
                owner[counter] = item_path
            if pin is not None and counter:
                outputs[key].append(Output(pin, counter, item_path))

    keypads = []
    devices: dict[str, str] = {}
    for item_path, raw in keypad_items:
        item = c.mapping(raw, item_path, {"counter", "device", "service", "keys"}, {"counter", "device"})
        if item is None:
            continue
        counter = c.counter(item, item_path)
        device = item.get("device")
        if device is not None:
            if not isinstance(device, str) or not (device == STDIN or device.startswith("/dev/input/")):
                c.problem(f"{item_path}.device", f"{device!r} is not an input device: give a path under "
                                                 f"/dev/input/ (e.g. /dev/input/by-id/...-event-kbd) or '{STDIN}'")
                device = None
            elif device in devices:
                c.problem(f"{item_path}.device", f"{device} is already read by {devices[device]}")
                device = None
            else:
                devices[device] = item_path
        prefix = _keypad_prefix(c, item, item_path, counter)
        keys = _keypad_keys(c, item.get("keys"), f"{item_path}.keys")
        if counter and device and prefix and keys is not None:
            keypads.append(Keypad(counter, device, prefix, keys, item_path))

    if not c.ok:
        return None
    return PinMap("", tuple(buttons), tuple(outputs["leds"]), tuple(outputs["buzzers"]), tuple(keypads),
                  hold_time, debounce_time, max_press_age)


def _keypad_prefix(c: _Check, item: Mapping[str, Any], path: str, counter: str | None) -> str | None:
    """The prefix a typed number gets: that of `service`, or of the counter's first service."""
    if counter is None:
        return None
    served = c.config.counters[counter].services
    code = item.get("service", served[0] if served else None)
    if not isinstance(code, str) or code not in served:
        c.problem(f"{path}.service", f"counter {counter!r} does not serve {code!r} (it serves {', '.join(served)})")
        return None
    return c.config.services[code].prefix


def _keypad_keys(c: _Check, raw: Any, path: str) -> Mapping[str, str] | None:
    if raw is None:
        return MappingProxyType(dict(DEFAULT_KEYS))
    if not isinstance(raw, Mapping):
        c.problem(path, f"must be a mapping of key to action, not {_kind(raw)}")
        return None
    keys, ok = {}, True
    for key, action in raw.items():
        name = str(key).lower()
        if name in TYPING_KEYS:
            c.problem(f"{path}.{key}", "digits, backspace and esc are for typing a ticket number; "
                                       "they cannot carry an action")
            ok = False
        elif name not in KEY_NAMES:
            c.problem(f"{path}.{key}", f"unknown key (allowed: {', '.join(KEY_NAMES)})")
            ok = False
        elif c.action(action, f"{path}.{key}") is None:
            ok = False
        else:
            keys[name] = action
    return MappingProxyType(keys) if ok else None


def check_role(options: Mapping[str, Any], path: str, config: Config, report: Report) -> None:
    check_panel(options, path, config, report)


def panel_map(config: Config, device_id: str) -> PinMap:
    """The checked pin map of a panel device (ConfigError if there is no such panel)."""
    device: Device = config.device(device_id, "panel")
    index = list(config.devices).index(device_id)
    problems: list[tuple[str, str]] = []
    pins = check_panel(device.options, f"devices[{index}]", config, lambda p, m: problems.append((p, m)))
    if pins is None:  # load() already refused such a file; a Config built by hand may not have been
        raise ConfigError(config.source, problems)
    return dataclasses.replace(pins, device=device_id)
