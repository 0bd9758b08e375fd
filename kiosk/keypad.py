"""The on-screen keypad for booking codes, and how a code is shown while it is typed.

    pad = Keypad()                          # looks in keypad.kv next to this file
    pad.bind(on_char=add, on_erase=back)    # on_char(pad, "7"), on_erase(pad)

The keys are what a booking code can hold (antrian/queue/codes.py): the ten digits,
Crockford's 22 letters (no I, L, O, U) and the five check characters ``* ~ $ = U``,
large enough for a finger (each key at least `app.touch`, 15 mm), plus "Hapus".
Dashes are never typed: `grouped` puts them in. Whether a code is valid is
`codes.parse`'s business alone; `keep` only picks the characters worth showing.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty
from kivy.uix.boxlayout import BoxLayout

from antrian.queue import codes

from .widgets import KioskButton

__all__ = ["Keypad", "PadKey", "ROWS", "grouped", "keep"]

ROWS = ("0123456789", "ABCDEFGHJK", "MNPQRSTVWX", "YZ*~$=U")
CHECK_ONLY = set(codes.CHECK_SYMBOLS) - set(codes.ALPHABET)  # *~$=U: the last character only
LIMIT = len(codes.PREFIX) + 9  # someone may type the RSV printed before the code


def keep(text: str) -> str:
    """The characters of what was typed or scanned that a code can hold, in capitals,
    without the RSV prefix once there are more than 9 of them."""
    chars = "".join(ch for ch in text.upper() if ch in codes.CHECK_SYMBOLS or ch in "ILO")[:LIMIT]
    if len(chars) > 9 and chars.startswith(codes.PREFIX):
        chars = chars[len(codes.PREFIX):]
    return chars


def grouped(typed: str) -> str:
    """``RSV-7K3M-Q2__-_`` while typing: the places still to fill shown as _."""
    body = keep(typed)
    shown = (body + "_" * 9)[:max(9, len(body))]
    return f"{codes.PREFIX}-{shown[:4]}-{shown[4:8]}-{shown[8:]}"


class PadKey(KioskButton):
    """One key: fills its cell of the row; `small` for a word ("Hapus") rather than a character."""

    small = BooleanProperty(False)


class Keypad(BoxLayout):
    """Rows of keys; events `on_char(char)` and `on_erase()`."""

    __events__ = ("on_char", "on_erase")
    gap = NumericProperty(8)
    key_bg = ColorProperty("#1E3A5F")
    check_bg = ColorProperty("#00695C")  # the check characters, which only end a code
    erase_bg = ColorProperty("#B71C1C")

    def on_kv_post(self, base_widget) -> None:
        rows = self.ids.rows
        for n, row in enumerate(ROWS):
            line = BoxLayout(spacing=self.gap)
            for char in row:
                key = PadKey(key=f"key:{char}", text=char, bg=self.check_bg if char in CHECK_ONLY else self.key_bg)
                key.bind(on_release=lambda _w, c=char: self.dispatch("on_char", c))
                line.add_widget(key)
            if n == len(ROWS) - 1:
                erase = PadKey(key="key:erase", text="Hapus", small=True, size_hint_x=3, bg=self.erase_bg)
                erase.bind(on_release=lambda _w: self.dispatch("on_erase"))
                line.add_widget(erase)
            self.bind(gap=line.setter("spacing"))
            rows.add_widget(line)

    def on_char(self, char: str) -> None:
        pass

    def on_erase(self) -> None:
        pass


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
