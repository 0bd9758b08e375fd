"""The ticket printer: the one python-escpos adapter of the project.

- `escpos_bytes(layout)` renders a ticket layout into ESC/POS bytes with python-escpos'
  `Dummy` printer and the paper's profile, in memory.
- `TicketPrinter(settings)` sends them through the connection the site file chose
  (`Network`, `Usb`, `Serial` or `File`), and asks the printer how it is with
  ``DLE EOT`` real-time status queries under a short timeout:

      printer = TicketPrinter(kiosk_settings(device.options).printer)
      printer.check()           # [] or ["paper_out"], ["cover_open"], ["printer_offline"]
      printer.print(lay)        # PrinterError(problem) if the ticket may not have come out

`print` writes the whole ticket in one go and then asks for the status again on the
same connection: an answer proves the printer took the job; a closed connection, a
silent printer or "paper end" raise `PrinterError`, so the kiosk shows the number on
screen instead of pretending it printed. A file connection cannot answer; there
`print` succeeds once the bytes are written.

Status bytes (ESC/POS DLE EOT n, one byte each, fixed bits 0xx1xx10):
n=1 printer status, bit 3 offline; n=2 offline cause, bit 2 cover open, bit 5 stopped
at paper end; n=4 roll paper sensor, bits 5-6 paper end (bits 2-3 near end, not a
problem yet).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import qrcode
from escpos import printer as escpos_printer
from escpos.constants import PAPER_FULL_CUT
from escpos.exceptions import Error as EscposError

from kiosk.options import PrinterSettings

from .ticket import PITCH, QR, QR_QUIET, Cut, Feed, Layout, Rule, Text, columns
from antrian.errors import PrinterError

__all__ = ["MESSAGES", "PROBLEMS", "PrinterError", "TicketPrinter", "escpos_bytes", "status_problems"]

log = logging.getLogger(__name__)

PROBLEMS = ("printer_offline", "paper_out", "cover_open", "printer_status_unknown")
# What a citizen reads on the kiosk for each problem.
MESSAGES = {
    "printer_offline": "Printer tiket tidak dapat dihubungi. Silakan hubungi petugas.",
    "paper_out": "Kertas tiket habis. Silakan hubungi petugas.",
    "cover_open": "Penutup printer tiket terbuka. Silakan hubungi petugas.",
    "printer_status_unknown": "Printer tiket tidak dapat diperiksa. Silakan hubungi petugas.",
}
DLE_EOT = b"\x10\x04"
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12  # bits 0, 1, 4, 7 of every status byte


class _QuietEscposInfo(logging.Filter):
    """python-escpos logs "Network printer enabled" / "Closing ..." at INFO on the root
    logger for every connection; with a status check every few seconds that is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or f"{os.sep}escpos{os.sep}" not in record.pathname


logging.getLogger().addFilter(_QuietEscposInfo())


def status_problems(printer: int | None, cause: int | None, paper: int | None) -> list[str]:
    """Problems from the answers to DLE EOT 1, 2 and 4 (None: no answer), pure.

    Every status byte has bits 1 and 4 set and bits 0 and 7 clear. A byte without
    them is not a status answer (a clone printer's reply, stray data, a device that
    is not a printer): what it would say about paper or cover is unknown, and an
    unknown printer is not a healthy one, so it is `printer_status_unknown` (a printer
    that cannot answer DLE EOT is set up with ``status: false``). Problems read from
    the bytes that are valid are still reported.
    """
    if printer is None:
        return ["printer_offline"]

    def valid(b: int | None) -> int | None:
        return b if b is not None and b & _FIXED_MASK == _FIXED_BITS else None

    answers = (printer, cause, paper)
    printer, cause, paper = (valid(b) for b in answers)
    problems = []
    if (paper is not None and paper & 0x60) or (cause is not None and cause & 0x20):
        problems.append("paper_out")
    if cause is not None and cause & 0x04:
        problems.append("cover_open")
    if not problems and printer is not None and printer & 0x08:
        problems.append("printer_offline")
    if None in (printer, cause, paper):
        problems.append("printer_status_unknown")
    return problems


def escpos_bytes(lay: Layout) -> bytes:
    """The ticket as ESC/POS bytes for its paper's profile.

    Every line feeds its element's spacing (``ESC 3 n``: the font's `PITCH`, or the closer
    pitch of fine print on a printer without font B; n in the printer's vertical motion unit:
    one dot on the 203 dpi TM-T20II and 58 mm printers, 1/180 inch, one dot too, on the
    180 dpi TM-T88 family), so the paper a ticket takes is what the preview shows and
    `Layout.dots` counts."""
    p = escpos_printer.Dummy(profile=lay.paper.profile)
    p.hw("INIT")

    def style(font: str = "a", pitch: int = 0, **kw: object) -> None:
        p.set_with_default(font=font, **kw)
        p.line_spacing(pitch or PITCH[font])

    for el in lay.elements:
        if isinstance(el, Text):
            big = (el.width, el.height) != (1, 1)
            style(el.font, el.spacing, align=el.align, bold=el.bold, custom_size=big, width=el.width,
                  height=el.height, invert=el.invert)
            for line in el.lines:
                p.textln(line)
        elif isinstance(el, Rule):
            style(el.font, el.pitch)
            p.textln("-" * columns(lay.paper, el.font))
        elif isinstance(el, Feed):
            style()
            p.ln(el.lines)
        elif isinstance(el, QR):
            style()
            p._raw(b"\x1bJ" + bytes((QR_QUIET,)))  # ESC J n: feed n dots, a quiet zone above the code
            if el.native:
                # qr(native=True, center=True) raises NotImplementedError: align first.
                p.set(align="center")
                p.qr(el.data, size=el.module, native=True)
                p.ln()
            else:
                # As escpos' qr(native=False) draws it, without the three line feeds it adds around it.
                code = qrcode.QRCode(box_size=el.module, border=1, error_correction=qrcode.constants.ERROR_CORRECT_L)
                code.add_data(el.data)
                code.make(fit=True)
                p.image(code.make_image().get_image().convert("RGB"), center=True)
                p._raw(b"\x1bJ" + bytes((QR_QUIET,)))  # and below it: no line feed follows an image
        elif isinstance(el, Cut):
            style()
            p.print_and_feed(el.lines)
            if lay.paper.cutter:
                p._raw(PAPER_FULL_CUT)  # GS V 0: cut here (cut(feed=False) would feed again first)
    return p.output


class TicketPrinter:
    """A ticket printer reached through the connection of its settings."""

    def __init__(self, settings: PrinterSettings):
        self.settings = settings
        self.detail = ""  # why the last check or print found a problem, for the technician's log

    @property
    def can_answer(self) -> bool:
        return self.settings.status and self.settings.connection != "file"

    def _device(self) -> escpos_printer.Escpos:
        s = self.settings
        # Checked before the object exists: without its library, even its __del__ raises.
        for kind, cls, extra in (("usb", escpos_printer.Usb, "usb"), ("serial", escpos_printer.Serial, "serial")):
            if s.connection == kind and not cls.is_usable():
                raise PrinterError("printer_offline", f"{s.where}: a {kind} printer needs "
                                                      f"pip install 'python-escpos[{extra}]'")
        if s.connection == "network":
            return escpos_printer.Network(s.host, s.port, timeout=s.timeout, profile=s.profile)
        if s.connection == "usb":
            return escpos_printer.Usb(s.vendor_id, s.product_id, timeout=int(s.timeout * 1000),
                                      in_ep=s.in_ep, out_ep=s.out_ep, profile=s.profile)
        if s.connection == "serial":
            return escpos_printer.Serial(s.device, baudrate=s.baudrate, timeout=s.timeout, profile=s.profile)
        return escpos_printer.File(s.path, profile=s.profile)

    def _open(self) -> escpos_printer.Escpos:
        device = self._device()  # PrinterError if its library is missing
        try:
            device.open()
        except EscposError as exc:
            # Network: refused or unreachable; USB: unplugged; serial/file: no such device.
            raise PrinterError("printer_offline", f"{self.settings.where}: {str(exc).strip()}") from None
        except RuntimeError as exc:
            # python-escpos without pyusb / pyserial raises a bare RuntimeError.
            raise PrinterError("printer_offline", f"{self.settings.where}: {exc}") from None
        except OSError as exc:
            raise PrinterError("printer_offline", f"{self.settings.where}: {exc}") from None
        return device

    def _status(self, device: escpos_printer.Escpos) -> list[str]:
        """Ask DLE EOT 1, 2 and 4 in one write and read the three answers: one round trip
        before every ticket instead of three (a printer answers real-time queries in order)."""
        answers = b""
        try:
            device._raw(b"".join(DLE_EOT + bytes((n,)) for n in (1, 2, 4)))
            deadline = time.monotonic() + self.settings.timeout
            while len(answers) < 3 and time.monotonic() < deadline:
                chunk = self._read(device, 3 - len(answers))
                if not chunk:
                    break  # the connection was closed
                answers += chunk
        except (OSError, EscposError) as exc:  # socket.timeout is an OSError
            log.debug("printer %s: status query failed: %s", self.settings.where, exc)
        if len(answers) < 3:
            return status_problems(None, None, None)
        # The last three bytes answer the queries; anything before them arrived unasked.
        return status_problems(*answers[-3:])

    def _read(self, device: escpos_printer.Escpos, missing: int) -> bytes:
        if self.settings.connection == "serial":
            # escpos' Serial._read asks pyserial for 16 bytes, which waits out the whole
            # timeout for three; ask for what is missing.
            return device.device.read(missing)
        return bytes(device._read())  # a TCP recv or a USB transfer returns what has arrived

    def check(self) -> list[str]:
        """The printer's problems now ([] when it can print); never raises."""
        if not self.can_answer:
            if self.settings.connection == "file" and not Path(self.settings.path).parent.is_dir():
                return ["printer_offline"]
            return []
        try:
            device = self._open()
        except PrinterError as exc:
            self.detail = exc.detail
            return [exc.problem]
        try:
            problems = self._status(device)
        finally:
            _close(device)
        self.detail = f"{self.settings.where}: status {', '.join(problems)}" if problems else ""
        if "printer_status_unknown" in problems:
            self.detail += " (its DLE EOT answer is no status byte; a printer that cannot answer needs status: false)"
        return problems

    def print(self, lay: Layout) -> None:
        """Print one ticket, or raise PrinterError if it may not have come out."""
        try:
            self._print(escpos_bytes(lay))
        except PrinterError as exc:
            self.detail = exc.detail
            raise

    def _print(self, data: bytes) -> None:
        device = self._open()
        try:
            try:
                device._raw(data)
            except (OSError, EscposError) as exc:  # BrokenPipe, ConnectionReset, USB timeout
                raise PrinterError("printer_offline", f"{self.settings.where}: lost during the job: {exc}") from None
            if self.can_answer:
                problems = self._status(device)
                if problems:
                    raise PrinterError(problems[0], f"{self.settings.where}: after the job: {', '.join(problems)}")
        finally:
            _close(device)


def _close(device: escpos_printer.Escpos) -> None:
    try:
        device.close()
    except (OSError, EscposError, RuntimeError) as exc:
        log.debug("printer close: %s", exc)
