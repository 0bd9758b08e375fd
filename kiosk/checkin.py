"""The check-in of an online booking, the app's side; mixed into KioskApp (app.py).

The keypad (screens/reservasi.py) and the barcode scanner (scanner.py, `scanned`) end
here. What is typed is kept as `checkin_code` (the app's property, keypad.keep's
characters); `codes.parse` alone decides whether it is a code, so a typo is told on the
screen and never sent. A code goes out as an `Order.checkin` through the app's Desk like
any ticket; the Desk's Result comes back to the app (`KioskApp._on_result`), which sets
`checkin_refusal` and `checkin_offer` for a refused one.
"""

from __future__ import annotations

import logging
import time

from kivy.clock import mainthread

from antrian.queue import codes

from . import texts
from .desk import Order
from .keypad import keep
from .printer import MESSAGES

__all__ = ["CheckIn"]

log = logging.getLogger("kiosk.app")


class CheckIn:
    """The check-in steps of KioskApp (its properties and `desk` are the app's)."""

    def _clear_checkin(self, code: str = "") -> None:
        self.checkin_code = code
        self.checkin_refusal = ""
        self.checkin_offer = None

    def open_checkin(self) -> None:
        self.message = ""
        self._clear_checkin()
        self._go("reservasi")

    def type_code(self, char: str) -> None:
        """A key of the keypad; the check character is tested as soon as the code is whole."""
        if self.busy:
            return
        self._typed(keep(self.checkin_code + char))

    def erase_code(self) -> None:
        if not self.busy:
            self._typed(self.checkin_code[:-1])

    def _typed(self, text: str) -> None:
        self._clear_checkin(text)
        self.can_retry = False
        self.message = texts.CODE_TYPO if len(text) == 9 and codes.parse(text) is None else ""

    @mainthread
    def scanned(self, line: str) -> None:
        """A line from the barcode scanner (its reader thread): checked in from any screen."""
        self._last_touch = time.monotonic()
        if self.busy:
            log.info("kiosk %s: scan ignored, a ticket is being taken", self.device)
            return
        if self.sm is not None and self.sm.current == "survey" and self.sm.current_screen.scanned(line):
            return  # the ticket a survey is about
        log.info("kiosk %s: scanned %d characters", self.device, len(line))
        self.agency = self.service = self.priority = self.result = None
        self._clear_checkin(keep(line))
        self._go("reservasi")
        if codes.parse(line) is None:
            self.message = texts.CODE_TYPO if len(keep(line)) == 9 else texts.CODE_NOT_BOOKING
            return
        self.check_in(line)

    def check_in(self, text: str | None = None) -> None:
        """Send the check-in of the typed (or scanned) code; a typo never leaves the kiosk."""
        if self.busy:
            return
        typed = keep(self.checkin_code if text is None else text)
        code = codes.parse(text if text is not None else typed)
        self.checkin_refusal, self.checkin_offer = "", None
        if code is None:
            self.message = texts.CODE_SHORT if len(typed) < 9 else texts.CODE_TYPO
            return
        if not self.online:
            self.message, self.can_retry = f"{texts.GANGGUAN}. {texts.GANGGUAN_DETAIL}", True
            return
        if self.problems:
            self.message, self.can_retry = MESSAGES[self.problems[0]], True
            return
        # "Coba lagi" after no answer asks again under the same id: one ticket, never two.
        if not (self.can_retry and self.order is not None and self.order.booking == code):
            self.order = Order.checkin(code)
        if self.desk.take(self.order):
            self.busy = True
            self.message = ""
            self.can_retry = False

    def walk_in(self) -> None:
        """Too late for the booking: a walk-in ticket for the booked service, the usual way."""
        service = self.checkin_offer
        if service is None:
            self.go_home()
            return
        agency = next((a for a in (self.catalog or {}).get("agencies", ())
                       if any(s.get("code") == service["code"] for s in a.get("services", ()))), None)
        current = self.find_service(service["code"]) or service
        if not current.get("open"):  # closed meanwhile, or its quota used: say why, stay
            self.message = current.get("closed_reason") or texts.GANGGUAN
            return
        self.message = ""
        self._clear_checkin()
        self.agency = agency
        self.choose_service(service["code"])
