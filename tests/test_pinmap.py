"""The panel's pin map in the site file (hardware.pinmap): what it gives the panel, and
every mistake a technician can make with it, reported with its path by check-config."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from antrian import protocol
from antrian import site as config
from antrian.site import ConfigError
from antrian.site.sections import DEVICE
from hardware import pinmap
from hardware.screenmap import Display

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "buton.yaml"
SOURCE = "buton.yaml"
# Where panel1 and panel2 are in the example's devices (other devices come and go before them).
_IDS = [d["id"] for d in yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["devices"]]
N1, N2 = _IDS.index("panel1"), _IDS.index("panel2")
P1, P2 = f"devices[{N1}]", f"devices[{N2}]"
ACTIONS = "call_next, recall, no_show, finish, pause, open, close"
PANEL_KEYS = ", ".join(sorted({*DEVICE.fields, *pinmap.SCHEMA.fields}))  # a device's keys and a panel's


@pytest.fixture(scope="module")
def raw_example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def raw(raw_example) -> dict:
    return copy.deepcopy(raw_example)


def test_example_panels_are_where_the_cases_think(raw_example):
    assert [d["id"] for d in raw_example["devices"]][N1:N2 + 1] == ["panel1", "panel2"]


def test_button_actions_are_engine_actions_a_button_can_send():
    assert set(pinmap.BUTTON_ACTIONS) <= set(protocol.ACTIONS)
    # Both need an argument a button cannot give.
    assert set(protocol.ACTIONS) - set(pinmap.BUTTON_ACTIONS) == {"transfer", "call_number"}


def test_the_example_pin_maps():
    cfg = config.load(EXAMPLE)
    p1 = pinmap.panel_map(cfg, "panel1")
    assert p1.device == "panel1"
    assert p1.counters == ("loket1", "loket2", "loket3", "loket4")
    assert (p1.hold_time, p1.debounce_time, p1.max_press_age) == (2.0, 0.3, 10.0)
    assert p1.buttons[0] == pinmap.Button(17, "loket1", "call_next", "no_show", f"{P1}.buttons[0]")
    assert p1.buttons[1].hold is None and p1.buttons[1].press == "recall"
    assert [(o.pin, o.counter) for o in p1.leds] == [(22, "loket1"), (13, "loket2"), (21, "loket3"), (25, "loket4")]
    assert [(o.pin, o.counter) for o in p1.buzzers] == [(12, "loket1")]
    p2 = pinmap.panel_map(cfg, "panel2")
    [keypad] = p2.keypads
    assert keypad.counter == "loket8" and keypad.prefix == "G"  # BAYAR
    assert dict(keypad.keys) == {"+": "call_next", "*": "recall", "-": "no_show", "/": "finish", ".": "open",
                                 "numlock": "close"} == dict(pinmap.DEFAULT_KEYS)
    # Loket 8 starts closed: its desk opens it (a press) and closes it (a hold).
    assert pinmap.Button(16, "loket8", "open", "close", f"{P2}.buttons[8]") in p2.buttons
    assert p1.displays == (Display("loket1", "ssd1306", f"{P1}.displays[0]", i2c_address=0x3C),
                           Display("loket2", "sh1106", f"{P1}.displays[1]", i2c_address=0x3D))
    assert p2.displays == (Display("loket8", "max7219", f"{P2}.displays[0]", spi_port=0, spi_device=0),)
    assert p2.displays[0].where == "max7219 on SPI0 CE0" and p1.displays[0].where == "ssd1306 on I2C bus 1 at 0x3c"


def test_defaults(raw):
    panel = raw["devices"][N1]
    for key in ("hold_time", "debounce_time", "max_press_age"):
        panel.pop(key)
    raw["devices"][N2]["keypads"] = [{"counter": "loket6", "device": "stdin"}]
    cfg = config.build(raw, SOURCE)
    p1 = pinmap.panel_map(cfg, "panel1")
    assert (p1.hold_time, p1.debounce_time, p1.max_press_age) == (2.0, 0.3, 10.0)
    keypad = pinmap.panel_map(cfg, "panel2").keypads[0]
    assert keypad.prefix == "K"  # NIB, the first service of loket6
    assert dict(keypad.keys) == dict(pinmap.DEFAULT_KEYS)


def test_a_keypad_only_panel(raw):
    raw["devices"][N2] = {"id": "panel2", "role": "panel",
                         "keypads": [{"counter": "loket5", "device": "stdin", "service": "BPHTB"}]}
    p2 = pinmap.panel_map(config.build(raw, SOURCE), "panel2")
    assert p2.buttons == () and p2.counters == ("loket5",) and p2.keypads[0].prefix == "J"


def test_panel_map_of_a_device_that_is_not_a_panel():
    with pytest.raises(ConfigError) as info:
        pinmap.panel_map(config.load(EXAMPLE), "kiosk1")
    assert info.value.problems == [("devices", "no panel device 'kiosk1' (known: panel1, panel2)")]


# --- broken variants ------------------------------------------------------------------
# Each case changes one thing in panel1 (P1) or panel2 (P2) of the
# example and lists the exact problems check-config reports.


def button(i, **changes):
    def change(raw):
        raw["devices"][N1]["buttons"][i].update(changes)
    return change


def panel(n, **changes):
    def change(raw):
        raw["devices"][n].update(changes)
    return change


def display(i, **changes):
    def change(raw):
        raw["devices"][N1]["displays"][i].update(changes)
    return change


def keypad(**changes):
    def change(raw):
        raw["devices"][N2]["keypads"][0].update(changes)
    return change


def both(*changes):
    def change(raw):
        for c in changes:
            c(raw)
    return change


def drop(n, key, i=None, sub=None):
    def change(raw):
        node = raw["devices"][n]
        if i is not None:
            node = node[key][i]
            key_ = sub
        else:
            key_ = key
        del node[key_]
    return change


CASES = [
    ("pin_used_twice_by_buttons", button(1, pin=17),
     [(f"{P1}.buttons[1].pin", f"pin 17 is already used by {P1}.buttons[0]")]),
    ("pin_of_a_button_used_by_an_led", panel(N1, leds=[{"pin": 27, "counter": "loket1"}]),
     [(f"{P1}.leds[0].pin", f"pin 27 is already used by {P1}.buttons[1]")]),
    ("pin_of_an_led_used_by_a_buzzer", panel(N1, buzzers=[{"pin": 22, "counter": "loket1"}]),
     [(f"{P1}.buzzers[0].pin", f"pin 22 is already used by {P1}.leds[0]")]),
    ("header_pin_number_instead_of_bcm", button(0, pin=40),
     [(f"{P1}.buttons[0].pin", "GPIO 40 does not exist: use a BCM number 2..27 (not the header pin number)")]),
    ("pin_zero_id_eeprom", button(2, pin=0),
     [(f"{P1}.buttons[2].pin", "GPIO 0 does not exist: use a BCM number 2..27 (not the header pin number)")]),
    ("pin_as_text", button(0, pin="GPIO17"),
     [(f"{P1}.buttons[0].pin", "must be a whole number (a BCM GPIO number), not the text 'GPIO17'")]),
    ("unknown_counter", button(3, counter="loket9"),
     [(f"{P1}.buttons[3].counter", "unknown counter 'loket9'")]),
    ("unknown_counter_of_an_led", both(panel(N1, leds=[{"pin": 22, "counter": "Loket1"}])),
     [(f"{P1}.leds[0].counter", "unknown counter 'Loket1'")]),
    ("unknown_press_action", button(0, press="next"),
     [(f"{P1}.buttons[0].press", f"'next' is not one of {ACTIONS}")]),
    ("unknown_hold_action", button(0, hold="skip"),
     [(f"{P1}.buttons[0].hold", f"'skip' is not one of {ACTIONS}")]),
    ("transfer_needs_a_service", button(1, press="transfer"),
     [(f"{P1}.buttons[1].press", f"'transfer' is not one of {ACTIONS}")]),
    ("call_number_needs_a_number", button(1, hold="call_number"),
     [(f"{P1}.buttons[1].hold", f"'call_number' is not one of {ACTIONS}")]),
    ("missing_press", drop(N1, "buttons", 1, "press"),
     [(f"{P1}.buttons[1].press", f"required: one of {ACTIONS}")]),
    ("missing_pin", drop(N1, "buttons", 4, "pin"),
     [(f"{P1}.buttons[4].pin", "required")]),
    ("misspelt_button_key", button(0, hlod="no_show"),
     [(f"{P1}.buttons[0].hlod", "unknown key (allowed: counter, hold, pin, press)")]),
    ("misspelt_panel_key", panel(N1, hold=2),
     [(f"{P1}.hold", f"unknown key for a panel (allowed: {PANEL_KEYS})")]),
    ("hold_time_too_short", panel(N1, hold_time=0.1),
     [(f"{P1}.hold_time", "0.1 is out of range 0.5..10 seconds")]),
    ("hold_time_in_milliseconds", panel(N1, hold_time=2000),
     [(f"{P1}.hold_time", "2000 is out of range 0.5..10 seconds")]),
    ("hold_time_as_text", panel(N1, hold_time="2s"),
     [(f"{P1}.hold_time", "must be a number of seconds, not the text '2s'")]),
    ("debounce_time_out_of_range", panel(N1, debounce_time=0),
     [(f"{P1}.debounce_time", "0 is out of range 0.05..2 seconds")]),
    ("max_press_age_out_of_range", panel(N2, max_press_age=3600),
     [(f"{P2}.max_press_age", "3600 is out of range 1..600 seconds")]),
    ("second_led_for_a_counter", panel(N1, leds=[{"pin": 22, "counter": "loket1"}, {"pin": 4, "counter": "loket1"}]),
     [(f"{P1}.leds[1].counter", f"counter 'loket1' already has an LED ({P1}.leds[0])")]),
    ("buttons_not_a_list", panel(N1, buttons={"pin": 17}),
     [(f"{P1}.buttons", "must be a list, not a mapping")]),
    ("button_not_a_mapping", both(lambda raw: raw["devices"][N1]["buttons"].__setitem__(0, 17)),
     [(f"{P1}.buttons[0]", "must be a mapping, not int 17")]),
    ("panel_without_inputs", both(drop(N2, "buttons"), drop(N2, "keypads")),
     [(P2, "a panel needs buttons or keypads")]),
    ("keypad_digit_mapped", keypad(keys={"5": "recall"}),
     [(f"{P2}.keypads[0].keys.5", "digits, backspace and esc are for typing a ticket number; "
                                  "they cannot carry an action")]),
    ("keypad_unknown_key", keypad(keys={"plus": "call_next"}),
     [(f"{P2}.keypads[0].keys.plus", "'plus' is not one of +, -, *, /, ., =, enter, tab, numlock")]),
    ("keypad_unknown_action", keypad(keys={"+": "panggil"}),
     [(f"{P2}.keypads[0].keys.+", f"'panggil' is not one of {ACTIONS}")]),
    ("keypad_keys_not_a_mapping", keypad(keys=["+", "call_next"]),
     [(f"{P2}.keypads[0].keys", "must be a mapping, not a list")]),
    ("keypad_service_not_served", keypad(service="KTP"),
     [(f"{P2}.keypads[0].service", "counter 'loket8' does not serve 'KTP' (it serves BAYAR, TAB)")]),
    ("keypad_unknown_counter", keypad(counter="loket0"),
     [(f"{P2}.keypads[0].counter", "unknown counter 'loket0'")]),
    ("keypad_device_not_an_input_device", keypad(device="/dev/ttyUSB0"),
     [(f"{P2}.keypads[0].device", "'/dev/ttyUSB0' is not valid: a path under /dev/input/ "
                                  "(e.g. /dev/input/by-id/...-event-kbd) or 'stdin'")]),
    ("keypad_device_twice", panel(N2, keypads=[{"counter": "loket7", "device": "stdin"},
                                              {"counter": "loket8", "device": "stdin"}]),
     [(f"{P2}.keypads[1].device", f"stdin is already read by {P2}.keypads[0]")]),
    ("keypad_without_device", drop(N2, "keypads", 0, "device"),
     [(f"{P2}.keypads[0].device", "required")]),
    # The counter's own displays (issue 14, item 5).
    ("display_of_an_unknown_counter", display(0, counter="loket9"),
     [(f"{P1}.displays[0].counter", "unknown counter 'loket9'")]),
    ("display_of_an_unknown_kind", display(0, kind="lcd1602"),
     [(f"{P1}.displays[0].kind", "'lcd1602' is not one of ssd1306, sh1106, max7219")]),
    ("display_without_kind", display(0, kind=None),
     [(f"{P1}.displays[0].kind", "required: one of ssd1306, sh1106, max7219")]),
    ("i2c_address_out_of_range", display(0, i2c_address=0x80),
     [(f"{P1}.displays[0].i2c_address", "0x80 is not an I2C address 0x08..0x77 (write it like 0x3c; "
                                        "i2cdetect -y 1 shows it)")]),
    ("i2c_address_as_text", display(0, i2c_address="0x3c"), None),
    ("i2c_address_not_a_number", display(0, i2c_address="oled"),
     [(f"{P1}.displays[0].i2c_address", "'oled' is not an I2C address 0x08..0x77 (write it like 0x3c; "
                                        "i2cdetect -y 1 shows it)")]),
    ("two_displays_at_one_address", display(1, i2c_address=0x3C),
     [(f"{P1}.displays[1]", f"address 0x3c on I2C bus 1 is already used by {P1}.displays[0]")]),
    ("two_displays_for_one_counter", display(1, counter="loket1"),
     [(f"{P1}.displays[1].counter", f"counter 'loket1' already has a display ({P1}.displays[0])")]),
    ("i2c_bus_on_a_button_pin", both(button(0, pin=2)),
     [(f"{P1}.displays[0].i2c_port", f"I2C bus 1 needs GPIO 2 (SDA), already used by {P1}.buttons[0]"),
      (f"{P1}.displays[1].i2c_port", f"I2C bus 1 needs GPIO 2 (SDA), already used by {P1}.buttons[0]")]),
    ("spi_bus_on_a_button_pin", panel(N2, displays=[{"counter": "loket8", "kind": "max7219", "spi_port": 1}]),
     [(f"{P2}.displays[0].spi_port", f"SPI1 needs GPIO 16 (CE2), already used by {P2}.buttons[8]"),
      (f"{P2}.displays[0].spi_port", f"SPI1 needs GPIO 17 (CE1), already used by {P2}.buttons[0]"),
      (f"{P2}.displays[0].spi_port", f"SPI1 needs GPIO 19 (MISO), already used by {P2}.buttons[4]"),
      (f"{P2}.displays[0].spi_port", f"SPI1 needs GPIO 21 (SCLK), already used by {P2}.leds[2]")]),
    ("two_buses_on_one_pin", panel(N2, displays=[{"counter": "loket8", "kind": "max7219"},
                                                 {"counter": "loket7", "kind": "sh1106", "i2c_port": 4}]),
     [(f"{P2}.displays[1].i2c_port", f"I2C bus 4 needs GPIO 6 (SDA), already used by {P2}.buttons[3]"),
      (f"{P2}.displays[1].i2c_port", f"I2C bus 4 needs GPIO 7 (SCL), already used by {P2}.displays[0] (SPI0)")]),
    ("spi0_has_two_chip_selects", panel(N2, displays=[{"counter": "loket8", "kind": "max7219", "spi_device": 2}]),
     [(f"{P2}.displays[0].spi_device", "SPI0 has no chip select 2 (it has 0, 1)")]),
    ("i2c_key_on_a_7_segment_display", panel(N2, displays=[{"counter": "loket8", "kind": "max7219",
                                                             "i2c_address": 0x3C}]),
     [(f"{P2}.displays[0].i2c_address", "unknown key for kind max7219 (used with kind ssd1306 or sh1106)")]),
    ("rotate_sideways", display(0, rotate=90),
     [(f"{P1}.displays[0].rotate", "90 is not one of 0, 180")]),
]


@pytest.mark.parametrize("change, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_variant(raw, change, expected):
    change(raw)
    if expected is None:  # not broken after all
        config.build(raw, SOURCE)
        return
    with pytest.raises(ConfigError) as info:
        config.build(raw, SOURCE)
    assert info.value.problems == expected


def test_every_panel_problem_at_once(raw):
    for change in (button(1, pin=17), button(3, counter="loket9"), panel(N1, hold_time=30), keypad(keys={"x": "y"})):
        change(raw)
    with pytest.raises(ConfigError) as info:
        config.build(raw, SOURCE)
    assert [p for p, _ in info.value.problems] == [f"{P1}.hold_time", f"{P1}.buttons[1].pin",
                                                    f"{P1}.buttons[3].counter", f"{P2}.keypads[0].keys.x"]


def test_check_config_reports_a_pin_used_twice(tmp_path, raw):
    button(1, pin=17)(raw)
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "check-config", str(broken)],
                            capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"{broken}: {P1}.buttons[1].pin: pin 17 is already used by {P1}.buttons[0]",
                                          f"1 problem(s) found in {broken}"]
