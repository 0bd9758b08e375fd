"""The kiosk's own settings in the site file, checked without Kivy or python-escpos.

A kiosk device names its ticket printer and, optionally, its screen settings:

    - id: kiosk1
      role: kiosk
      name: Anjungan 1 (pintu masuk)
      printer: {connection: network, host: 192.168.10.21, port: 9100, profile: TM-T20II}
      idle_seconds: 30
      scanner: auto                 # a USB barcode scanner for booking check-ins (optional)

`SCHEMA` describes these options with the site file's field kit
(antrian/site/schema.py); it is the ``kiosk`` role's schema, so ``antrian
check-config`` reports every problem with its path (``devices[1].printer.port:
70000 is out of range 1..65535``) before a kiosk starts, and docs/site-file.md lists
every key. `kiosk_settings` turns the options into frozen settings with their
defaults; the kiosk and ``antrian ticket`` read them from there and nowhere else.

Printer profiles are python-escpos profile names. `PAPERS` holds what the ticket
layout needs to know about each (dots across, characters per line of font A,
whether it draws QR codes itself and has a cutter), so the layout and the PNG
preview stay pure; a test checks the table against python-escpos' own data.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Mapping

from antrian.errors import ConfigError
from antrian.site.schema import (INVALID, Choice, Field, Flag, Kind, Number, Problems, Section, Tagged, Text, Whole,
                                 check, shown)

__all__ = ["PAPERS", "PRINTER", "SCHEMA", "Paper", "PrinterSettings", "KioskSettings", "kiosk_settings"]


@dataclasses.dataclass(frozen=True)
class Paper:
    """A printer profile as the ticket layout sees it."""

    profile: str
    width_mm: int
    dots: int  # printable dots across
    columns: int  # characters per line in font A (12 x 24 dots)
    qr_native: bool  # the printer draws QR codes itself (GS ( k); else an image is sent
    cutter: bool


PAPERS: dict[str, Paper] = {p.profile: p for p in (
    Paper("POS-5890", 58, 384, 32, qr_native=False, cutter=False),
    Paper("ZJ-5870", 58, 384, 32, qr_native=False, cutter=False),
    Paper("TM-T20II", 80, 576, 48, qr_native=True, cutter=True),
    Paper("TM-T88III", 80, 512, 42, qr_native=True, cutter=True),
    Paper("TM-T88IV", 80, 512, 42, qr_native=True, cutter=True),
    Paper("TM-T88V", 80, 512, 42, qr_native=True, cutter=True),
)}

ROTATIONS = (0, 90, 180, 270)
BAUDRATES = (2400, 4800, 9600, 19200, 38400, 57600, 115200)


@dataclasses.dataclass(frozen=True)
class PrinterSettings:
    """Where the ticket printer is and how to talk to it; times in seconds."""

    connection: str
    profile: str
    host: str | None = None
    port: int = 9100
    vendor_id: int | None = None
    product_id: int | None = None
    in_ep: int = 0x82
    out_ep: int = 0x01
    device: str | None = None
    baudrate: int = 9600
    path: str | None = None
    # connect, write and status-answer limit: a dead printer must not hold a citizen long
    timeout: float = 1.5
    # ask the printer for paper and cover status (DLE EOT); a file cannot answer
    status: bool = True
    # how often the status is checked while nobody takes a ticket
    check_seconds: float = 10.0

    @property
    def paper(self) -> Paper:
        return PAPERS[self.profile]

    @property
    def where(self) -> str:
        """The connection in words for logs: ``network 192.168.10.21:9100``."""
        if self.connection == "network":
            return f"network {self.host}:{self.port}"
        if self.connection == "usb":
            return f"usb {self.vendor_id:04x}:{self.product_id:04x}"
        return f"{self.connection} {self.device or self.path}"


@dataclasses.dataclass(frozen=True)
class KioskSettings:
    printer: PrinterSettings
    idle_seconds: int = 30
    rotation: int = 0
    dpi: float | None = None  # overrides what the screen reports, for touch targets in mm
    scanner: str | None = None  # the USB barcode scanner (kiosk/scanner.py): auto, a path or a name


class UsbId(Kind):
    """A USB id: 0x04b8 (YAML reads it as 1208), 1208, "04b8" or "0x04B8"; cleaned to an int."""

    words = "USB id"

    def check(self, value, path, walk):
        number = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value if 0 <= value <= 0xFFFF else None
        elif isinstance(value, str):
            text = value.strip().lower().removeprefix("0x")
            if 1 <= len(text) <= 4 and all(c in "0123456789abcdef" for c in text):
                number = int(text, 16)
        if number is None:
            walk.report(path, f"{shown(value)} is not a USB id 0x0000-0xFFFF (write it like 0x04b8)")
            return INVALID
        return number

    def limits(self) -> str:
        return "0x0000..0xFFFF"

    def show(self, value: Any) -> Any:
        return f"0x{value:02x}" if isinstance(value, int) else value


_P = PrinterSettings
_STATUS = Field(Flag(), "ask the printer for paper and cover before every ticket (DLE EOT); false for a "
                        "printer that never answers, or answers with bytes that are no status", default=_P.status,
                example=True)
PRINTER = Tagged({
    "connection": Field(Choice(("network", "usb", "serial", "file")), "how the kiosk reaches its printer; each "
                        "connection has keys of its own (below)", True, example="network"),
    "profile": Field(Choice(tuple(PAPERS)), "the printer model: POS-5890, ZJ-5870 (58 mm paper), TM-T20II, "
                     "TM-T88III, TM-T88IV, TM-T88V (80 mm)", True, example="TM-T20II"),
    "timeout": Field(Number(0.1, 30, "seconds"), "how long to wait for the printer to connect, take data or "
                     "answer", default=_P.timeout, example=1.5),
    "check_seconds": Field(Number(1, 3600, "seconds"), "how often the status is asked while nobody takes a "
                           "ticket", default=_P.check_seconds, example=10),
}, "the kiosk's ESC/POS ticket printer", tag="connection", variants={
    "network": {
        "host": Field(Text(), "the printer's address on the LAN", True, example="192.168.10.21"),
        "port": Field(Whole(1, 65535), "its raw printing port", default=_P.port, example=9100),
        "status": _STATUS,
    },
    "usb": {
        "vendor_id": Field(UsbId(), "the vendor id lsusb shows (needs pyusb and a udev rule)", True,
                           example="0x04b8"),
        "product_id": Field(UsbId(), "the product id lsusb shows", True, example="0x0e15"),
        "in_ep": Field(UsbId(), "the USB endpoint read from", default=_P.in_ep, example="0x82"),
        "out_ep": Field(UsbId(), "the USB endpoint written to", default=_P.out_ep, example="0x01"),
        "status": _STATUS,
    },
    "serial": {
        "device": Field(Text(), "the serial device (needs pyserial)", True, example="/dev/ttyUSB0"),
        "baudrate": Field(Choice(BAUDRATES), "its speed", default=_P.baudrate, example=9600),
        "status": _STATUS,
    },
    "file": {
        "path": Field(Text(), "a device such as /dev/usb/lp0, or a file that receives the last ticket's raw "
                      "bytes (testing without a printer); a file cannot answer a status query", True,
                      example="/dev/usb/lp0"),
    },
})

_K = KioskSettings
SCHEMA = Section({
    "printer": Field(PRINTER, "the ticket printer", True,
                     example={"connection": "network", "host": "192.168.10.21", "profile": "TM-T20II"}),
    "idle_seconds": Field(Whole(2, 3600, "seconds"), "back to the first screen after this long without a touch",
                          default=_K.idle_seconds, example=30),
    "rotation": Field(Choice(ROTATIONS), "turn the picture for a screen mounted in portrait", default=_K.rotation,
                      example=90),
    "dpi": Field(Number(50, 600), "the screen's real dots per inch, if it reports a wrong one: buttons are sized "
                 "to at least 15 mm with it", example=160),
    "scanner": Field(Text(re.compile(r"^(/|[^/]*$)"), "auto, an absolute path such as /dev/input/by-id/..., or a "
                          "device name without /"),
                     "the USB barcode scanner for booking check-ins, a keyboard-wedge device read "
                     "through /dev/input and grabbed: `auto` (the first device with keyboard keys), a path "
                     "(/dev/input/by-id/usb-...-event-kbd) or the device's name as evtest shows it; a scanner "
                     "that is missing is looked for again, the on-screen keypad works without one",
                     example="/dev/input/by-id/usb-Newland_Auto-ID_NLS_Scanner-event-kbd"),
}, "a touch kiosk with a ticket printer", what="a kiosk")


def kiosk_settings(options: Mapping[str, Any]) -> KioskSettings:
    """Settings of a kiosk device from its options in the site file, defaults filled in
    (ConfigError if they are wrong: only for options that did not come through `load`)."""
    problems = Problems()
    cleaned = check(SCHEMA, options, "", problems)
    if problems:
        raise ConfigError("kiosk options", problems)
    printer = dict(cleaned["printer"])
    if printer["connection"] == "file":
        printer["status"] = False
    return KioskSettings(printer=PrinterSettings(**printer), idle_seconds=cleaned["idle_seconds"],
                         rotation=cleaned["rotation"], dpi=cleaned["dpi"], scanner=cleaned["scanner"])
