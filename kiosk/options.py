"""The kiosk's own settings in the site file, checked without Kivy or python-escpos.

A kiosk device names its ticket printer and, optionally, its screen settings:

    - id: kiosk1
      role: kiosk
      name: Anjungan 1 (pintu masuk)
      printer: {connection: network, host: 192.168.10.21, port: 9100, profile: TM-T20II}
      idle_seconds: 30

`check` is registered as the validator of the role ``kiosk``, so ``antrian
check-config`` reports every problem with its path (``devices[1].printer.port:
70000 is out of range 1..65535``) before a kiosk starts. `kiosk_settings` turns
already-checked options into frozen settings with their defaults; the kiosk and
``antrian ticket`` read them from there and nowhere else.

Printer profiles are python-escpos profile names. `PAPERS` holds what the ticket
layout needs to know about each (dots across, characters per line of font A,
whether it draws QR codes itself and has a cutter), so the layout and the PNG
preview stay pure; a test checks the table against python-escpos' own data.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping


__all__ = ["CONNECTIONS", "PAPERS", "Paper", "PrinterSettings", "KioskSettings", "check", "kiosk_settings"]


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

# connection -> (required keys, optional keys), besides the common ones
CONNECTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "network": (frozenset({"host"}), frozenset({"port", "status"})),
    "usb": (frozenset({"vendor_id", "product_id"}), frozenset({"in_ep", "out_ep", "status"})),
    "serial": (frozenset({"device"}), frozenset({"baudrate", "status"})),
    "file": (frozenset({"path"}), frozenset()),
}
_COMMON = frozenset({"connection", "profile", "timeout", "check_seconds"})
KIOSK_KEYS = frozenset({"printer", "idle_seconds", "rotation", "dpi"})
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


Report = Callable[[str, str], None]


def _shown(value: Any) -> str:
    """A value as the technician wrote it: 'bluetooth', 1.5, or "a mapping" for nested YAML."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "empty" if value is None else repr(value)


def _one_of(value: Any, choices: tuple[int, ...]) -> bool:
    """A whole number among `choices` (9600.0 or True would slip through `in`)."""
    return isinstance(value, int) and not isinstance(value, bool) and value in choices


def _number(value: Any, path: str, report: Report, low: float, high: float, *, whole: bool = False) -> None:
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        report(path, f"must be a {'whole ' if whole else ''}number, not {_shown(value)}")
    elif not low <= value <= high:
        report(path, f"{value} is out of range {low:g}..{high:g}")


def _usb_id(value: Any) -> int | None:
    """0x04b8 (YAML reads it as 1208), 1208, "04b8" or "0x04B8" -> 1208; None if not an id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 0xFFFF else None
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("0x")
        if 1 <= len(text) <= 4 and all(c in "0123456789abcdef" for c in text):
            return int(text, 16)
    return None


def _text(value: Any, path: str, report: Report) -> None:
    if not isinstance(value, str) or not value.strip():
        report(path, f"must be a non-empty text, not {_shown(value)}")


def _check_printer(raw: Any, path: str, report: Report) -> None:
    if not isinstance(raw, Mapping):
        report(path, f"must be a mapping such as {{connection: network, host: 192.168.10.21, "
                     f"profile: TM-T20II}}, not {_shown(raw)}")
        return
    connection = raw.get("connection")
    if connection is None:
        report(f"{path}.connection", f"required: one of {', '.join(CONNECTIONS)}")
        return
    if not isinstance(connection, str) or connection not in CONNECTIONS:
        report(f"{path}.connection", f"{_shown(connection)} is not one of {', '.join(CONNECTIONS)}")
        return
    required, optional = CONNECTIONS[connection]
    allowed = _COMMON | required | optional
    for key in raw:
        if key not in allowed:
            other = [c for c, (req, opt) in CONNECTIONS.items() if key in req | opt]
            hint = f"used with connection {' or '.join(other)}" if other else f"allowed: {', '.join(sorted(allowed))}"
            report(f"{path}.{key}", f"unknown key for connection {connection} ({hint})")
    for key in sorted((required | {"profile"}) - set(raw)):
        report(f"{path}.{key}", "required")

    profile = raw.get("profile")
    if profile is not None and (not isinstance(profile, str) or profile not in PAPERS):
        report(f"{path}.profile", f"{_shown(profile)} is not a known printer profile (known: {', '.join(PAPERS)})")
    if "host" in raw:
        _text(raw["host"], f"{path}.host", report)
    if "port" in raw:
        _number(raw["port"], f"{path}.port", report, 1, 65535, whole=True)
    for key in ("vendor_id", "product_id", "in_ep", "out_ep"):
        if key in raw and _usb_id(raw[key]) is None:
            report(f"{path}.{key}", f"{_shown(raw[key])} is not a USB id 0x0000-0xFFFF (write it like 0x04b8)")
    for key in ("device", "path"):
        if key in raw:
            _text(raw[key], f"{path}.{key}", report)
    if "baudrate" in raw and not _one_of(raw["baudrate"], BAUDRATES):
        report(f"{path}.baudrate", f"{_shown(raw['baudrate'])} is not one of {', '.join(map(str, BAUDRATES))}")
    if "timeout" in raw:
        _number(raw["timeout"], f"{path}.timeout", report, 0.1, 30)
    if "check_seconds" in raw:
        _number(raw["check_seconds"], f"{path}.check_seconds", report, 1, 3600)
    if "status" in raw and not isinstance(raw["status"], bool):
        report(f"{path}.status", f"must be true or false, not {_shown(raw['status'])}")


def check(options: Mapping[str, Any], path: str, config: Any, report: Report) -> None:
    """The validator of the role ``kiosk``: report(path, message) for every problem."""
    for key in options:
        if key not in KIOSK_KEYS:
            report(f"{path}.{key}", f"unknown key for a kiosk (allowed: id, role, name, "
                                    f"{', '.join(sorted(KIOSK_KEYS))})")
    if "printer" not in options:
        report(f"{path}.printer", "required: the kiosk's ticket printer, e.g. "
                                  "{connection: network, host: 192.168.10.21, profile: TM-T20II}")
    else:
        _check_printer(options["printer"], f"{path}.printer", report)
    if "idle_seconds" in options:
        _number(options["idle_seconds"], f"{path}.idle_seconds", report, 2, 3600, whole=True)
    if "rotation" in options and not _one_of(options["rotation"], ROTATIONS):
        report(f"{path}.rotation", f"{_shown(options['rotation'])} is not one of {', '.join(map(str, ROTATIONS))}")
    if "dpi" in options:
        _number(options["dpi"], f"{path}.dpi", report, 50, 600)


def printer_settings(raw: Mapping[str, Any]) -> PrinterSettings:
    """Settings from checked printer options, defaults filled in."""
    names = {f.name for f in dataclasses.fields(PrinterSettings)}
    values: dict[str, Any] = {k: v for k, v in raw.items() if k in names}
    for key in ("vendor_id", "product_id", "in_ep", "out_ep"):
        if key in values:
            values[key] = _usb_id(values[key])
    if raw.get("connection") == "file":
        values["status"] = False
    for key in ("timeout", "check_seconds"):
        if key in values:
            values[key] = float(values[key])
    return PrinterSettings(**values)


def kiosk_settings(options: Mapping[str, Any]) -> KioskSettings:
    """Settings of a kiosk device whose options `check` accepted."""
    dpi = options.get("dpi")
    return KioskSettings(printer=printer_settings(options["printer"]),
                         idle_seconds=options.get("idle_seconds", KioskSettings.idle_seconds),
                         rotation=options.get("rotation", 0),
                         dpi=float(dpi) if dpi is not None else None)
