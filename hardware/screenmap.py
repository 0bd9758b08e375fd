"""The ``displays:`` of a panel in the site file: a counter's own small display.

Each counter of a panel may have one display on the officer's desk (hardware.screen
says what it shows, hardware.luma_screen drives it). This module is the site-file
side only, pure data like hardware.pinmap (which makes it the panel's ``displays``
key), so ``antrian check-config`` finds a wrong address or a bus pin that a button
already uses before any Pi starts::

    displays:
      - {counter: loket1, kind: ssd1306, i2c_port: 1, i2c_address: 0x3c, rotate: 180}
      - {counter: loket2, kind: sh1106, i2c_address: 0x3d}
      - {counter: loket3, kind: max7219, spi_port: 0, spi_device: 0}

- ``ssd1306`` and ``sh1106``: a 128x64 monochrome OLED on I2C (0.96" and 1.3").
  Two can share a bus at 0x3c and 0x3d (the module's address jumper or resistor).
- ``max7219``: an 8-digit 7-segment LED module on SPI, one per chip select.

A bus takes its pins for itself: I2C bus 1 is GPIO 2 (SDA) and 3 (SCL); SPI0 is
GPIO 7-11 (CE1, CE0, MISO, MOSI, SCLK) once enabled. No button, LED or buzzer may
use them; two displays may share a bus, not an address or a chip select.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from antrian.site.schema import INVALID, Choice, Field, Kind, ListOf, Ref, Report, Tagged, join, shown

OLEDS = ("ssd1306", "sh1106")
KINDS = (*OLEDS, "max7219")
ROTATIONS = (0, 180)  # the layout is for a wide display
OLED_SIZE = (128, 64)
DIGITS = 8  # of a MAX7219 7-segment module

# The GPIOs a bus takes, by name of pin. I2C buses 3-6 are those of a Pi 4 with the
# bus's dtoverlay at its default pins (/boot/firmware/overlays/README).
I2C_PINS = {1: {"SDA": 2, "SCL": 3}, 3: {"SDA": 4, "SCL": 5}, 4: {"SDA": 6, "SCL": 7},
            5: {"SDA": 12, "SCL": 13}, 6: {"SDA": 22, "SCL": 23}}
SPI_PINS = {0: {"CE1": 7, "CE0": 8, "MISO": 9, "MOSI": 10, "SCLK": 11},
            1: {"CE2": 16, "CE1": 17, "CE0": 18, "MISO": 19, "MOSI": 20, "SCLK": 21}}
SPI_DEVICES = {0: (0, 1), 1: (0, 1, 2)}  # chip selects per SPI bus
I2C_LOW, I2C_HIGH = 0x08, 0x77  # 7-bit addresses a device may have


@dataclasses.dataclass(frozen=True)
class Display:
    """One counter's display, as hardware.luma_screen opens it."""

    counter: str
    kind: str  # one of KINDS
    path: str  # where it is in the site file
    i2c_port: int = 1
    i2c_address: int = 0x3C
    spi_port: int = 0
    spi_device: int = 0
    rotate: int = 0  # degrees, clockwise

    @property
    def oled(self) -> bool:
        return self.kind in OLEDS

    @property
    def where(self) -> str:
        """The bus in words for logs: ``ssd1306 on I2C bus 1 at 0x3c``."""
        if self.oled:
            return f"{self.kind} on I2C bus {self.i2c_port} at 0x{self.i2c_address:02x}"
        return f"{self.kind} on SPI{self.spi_port} CE{self.spi_device}"


class I2CAddress(Kind):
    """A 7-bit I2C address: 0x3c (YAML reads it as 60), 60, or "0x3c"; cleaned to an int."""

    words = "I2C address"

    def check(self, value, path, walk):
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str):
            try:
                number = int(value.strip(), 16)
            except ValueError:
                number = None
        if number is None or not I2C_LOW <= number <= I2C_HIGH:
            written = f"0x{value:02x}" if isinstance(value, int) and not isinstance(value, bool) else shown(value)
            walk.report(path, f"{written} is not an I2C address {self.limits()} (write it like 0x3c; "
                              "i2cdetect -y 1 shows it)")
            return INVALID
        return number

    def limits(self) -> str:
        return f"0x{I2C_LOW:02x}..0x{I2C_HIGH:02x}"

    def show(self, value: Any) -> Any:
        return f"0x{value:02x}" if isinstance(value, int) else value


def _known_counter(counter: Any, path: str, report: Report, context: dict) -> None:
    """counter is one of the site's counters."""
    if not isinstance(counter, str) or counter not in context["config"].counters:
        report(path, f"unknown counter {counter!r}")


def _bus_pins(display: dict, path: str, report: Report, context: dict) -> None:
    """a display's bus pins are used by no button, LED or buzzer of the panel, nor by
    another bus; two displays share a bus but not an I2C address or an SPI chip select;
    SPI0 has chip selects 0 and 1, SPI1 0, 1 and 2."""
    if display.get("kind") in OLEDS:
        port, address = display.get("i2c_port", 1), display.get("i2c_address", 0x3C)
        bus, pins, key = f"I2C bus {port}", I2C_PINS.get(port, {}), "i2c_port"
        taken, place = ("i2c", port, address), f"address 0x{address:02x} on I2C bus {port}"
    elif display.get("kind") == "max7219":
        port, device = display.get("spi_port", 0), display.get("spi_device", 0)
        bus, pins, key = f"SPI{port}", SPI_PINS.get(port, {}), "spi_port"
        if device not in SPI_DEVICES.get(port, ()):
            report(join(path, "spi_device"), f"SPI{port} has no chip select {device} (it has "
                   f"{', '.join(map(str, SPI_DEVICES.get(port, ())))})")
            return
        taken, place = ("spi", port, device), f"SPI{port} chip select {device}"
    else:
        return
    used = context.setdefault("pins", {})  # hardware.pinmap's: pin -> its button, LED or buzzer
    buses = context.setdefault("bus pins", {})  # pin -> (bus, the first display on it)
    for name, pin in pins.items():
        if pin in used:
            report(join(path, key), f"{bus} needs GPIO {pin} ({name}), already used by {used[pin]}")
        elif buses.setdefault(pin, (bus, path))[0] != bus:
            report(join(path, key), f"{bus} needs GPIO {pin} ({name}), already used by {buses[pin][1]} "
                                    f"({buses[pin][0]})")
    owners = context.setdefault("display buses", {})
    if taken in owners:
        report(path, f"{place} is already used by {owners[taken]}")
    else:
        owners[taken] = path


def _one_each(items: list, path: str, report: Report, context: dict) -> None:
    """a counter has at most one display."""
    owner: dict[str, str] = {}
    for i, item in enumerate(items):
        counter = item.get("counter") if isinstance(item, dict) else None
        if isinstance(counter, str):
            if counter in owner:
                report(f"{path}[{i}].counter", f"counter {counter!r} already has a display ({owner[counter]})")
            owner.setdefault(counter, f"{path}[{i}]")


_D = Display
_ROTATE = Field(Choice(ROTATIONS), "180: turn the picture for a display mounted upside down",
                default=_D.rotate, example=180)
_I2C = {
    "i2c_port": Field(Choice(tuple(I2C_PINS)), "the I2C bus: 1 (GPIO 2 and 3; enable it with raspi-config); 3-6 "
                      "are a Pi 4's extra buses with their dtoverlay", default=_D.i2c_port, example=1),
    "i2c_address": Field(I2CAddress(), "the display's address (i2cdetect -y 1): 0x3c, or 0x3d with the module's "
                         "address jumper moved", default=_D.i2c_address, example="0x3c"),
    "rotate": _ROTATE,
}
DISPLAY = Tagged({
    "counter": Field(Ref("a counter id"), "the counter it shows", True, example="loket1", rule=_known_counter),
    "kind": Field(Choice(KINDS), "ssd1306 or sh1106: a 128x64 OLED on I2C; max7219: an 8-digit 7-segment module on "
                  "SPI", True, example="ssd1306"),
}, "a counter's own display on the officer's desk: the number being served, how many wait, why a press was "
   "refused", tag="kind", rule=_bus_pins, variants={
    "ssd1306": _I2C,
    "sh1106": _I2C,
    "max7219": {
        "spi_port": Field(Choice(tuple(SPI_PINS)), "the SPI bus: 0 (GPIO 7-11; enable it with raspi-config) or 1 "
                          "(GPIO 16-21, dtoverlay=spi1-3cs)", default=_D.spi_port, example=0),
        "spi_device": Field(Choice((0, 1, 2)), "the chip select its CS pin is wired to: 0 (CE0) or 1 (CE1); 2 only "
                            "on SPI1", default=_D.spi_device, example=0),
    },
})
DISPLAYS = Field(ListOf(DISPLAY), "the counters' own displays, one per counter at most (hardware/WIRING.md)",
                 default=(), rule=_one_each)


def displays(items: list[dict], path: str) -> tuple[Display, ...]:
    """The cleaned ``displays`` of a panel as Display objects; `path` is the panel's."""
    fields = {f.name for f in dataclasses.fields(Display)}
    return tuple(Display(path=f"{path}.displays[{i}]", **{k: v for k, v in d.items() if k in fields})
                 for i, d in enumerate(items))
