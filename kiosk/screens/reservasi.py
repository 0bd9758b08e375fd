""""Sudah reservasi?": the check-in of an online booking at the kiosk.

The citizen scans the booking's QR code with the USB scanner (kiosk/scanner.py: read
on its own thread whatever screen is showing, handed to `app.scanned`) or types the
code on the keypad (kiosk/keypad.py). The code shows as it grows, grouped like the
printed one (RSV-7K3M-Q2XA-5); its check character catches a mistyped one here,
before anything is sent (codes.parse). The app sends the check-in (`app.check_in`);
a ticket goes to the done screen like any other, a refusal stays here in words:
too early (the time to come back), too late (with a button for a walk-in ticket for
the booked service), unknown.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.uix.screenmanager import Screen

from .. import texts
from ..keypad import Keypad, grouped  # noqa: F401  (Keypad: used by the .kv file)

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

TONES = {"checkin_early": "#E65100"}  # coming back later is no mistake: amber, not red


def hint(scanner_ready: bool) -> str:
    return texts.CHECKIN_SCAN if scanner_ready else texts.CHECKIN_TYPE


def tone(code: str | None) -> str:
    return TONES.get(code or "", "#C62828")


def offer_walk_in(refusal: str) -> bool:
    """Too late for the booking: a walk-in ticket is offered instead."""
    return refusal == "checkin_late"


def submit_label(busy: bool) -> str:
    return "Mohon tunggu..." if busy else "Lapor Diri"


class ReservasiScreen(Screen):
    grouped = staticmethod(grouped)
    hint = staticmethod(hint)
    tone = staticmethod(tone)
    offer_walk_in = staticmethod(offer_walk_in)
    submit_label = staticmethod(submit_label)

    def type_char(self, char: str) -> None:
        App.get_running_app().type_code(char)

    def erase(self) -> None:
        App.get_running_app().erase_code()
