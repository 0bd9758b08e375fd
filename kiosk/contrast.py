"""The kiosk's colours and the arithmetic of their contrast (WCAG 2.x), pure: no Kivy.

Every text the kiosk draws is one of the text/background pairs of `PAIRS`, or text on an
agency's colour from the site file or on a button's colour, whose ink `ink_on` picks: dark on a light colour
(Bapenda's yellow), white on a dark one. Black or white on any colour reaches at least
4.58:1 (the better of the two is never below sqrt(21)), so `ink_on` gives at least that;
tests/test_kiosk_contrast.py checks every pair and every agency colour of a site file
against the 4.5:1 of WCAG level AA.

The .kv files name these colours (``#:import theme kiosk.contrast``: ``theme.INK``), never
numbers of their own.
"""

from __future__ import annotations

from typing import Sequence

__all__ = ["AA", "PAIRS", "contrast", "ink_on", "luminance", "rgba"]

AA = 4.5  # WCAG 2.x level AA for normal text

Colour = Sequence[float]  # r, g, b (and alpha), each 0..1


def rgba(text: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """'#1565C0' -> (r, g, b, alpha) in 0..1; ValueError for anything else."""
    if not (isinstance(text, str) and len(text) == 7 and text.startswith("#")):
        raise ValueError(f"not a colour like '#1565C0': {text!r}")
    return (int(text[1:3], 16) / 255, int(text[3:5], 16) / 255, int(text[5:7], 16) / 255, alpha)


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: Colour) -> float:
    """The relative luminance of WCAG 2.x (0 black .. 1 white)."""
    r, g, b = (_linear(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def over(fg: Colour, bg: Colour) -> tuple[float, float, float]:
    """`fg` drawn with its alpha (1 if it has none) over the opaque `bg`."""
    a = fg[3] if len(fg) > 3 else 1.0
    return tuple(a * f + (1 - a) * b for f, b in zip(fg[:3], bg[:3]))  # type: ignore[return-value]


def contrast(fg: Colour, bg: Colour) -> float:
    """The contrast ratio of text `fg` (its alpha blended) on `bg`, 1..21."""
    lighter, darker = sorted((luminance(over(fg, bg)), luminance(bg)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# -- the theme: every colour a kiosk screen draws text with or behind ------------------------

WHITE = rgba("#FFFFFF")
BLACK = rgba("#000000")
PAGE = rgba("#F2F5F7")  # the app's background (kiosk/app.py BACKGROUND)
CARD = WHITE  # a service card
CARD_DOWN = rgba("#DBEDEB")  # a service card under a finger
CARD_OFF = rgba("#E5E8EB")  # a service card that cannot be picked
INK = rgba("#1A2933")  # body text
INK_SOFT = rgba("#44525C")  # secondary text on the page and on cards
INK_OFF = rgba("#4A555C")  # text of a card that cannot be picked
GOOD = rgba("#00703C")  # "Tersedia"
BAD = rgba("#B71C1C")  # why not, on a card that cannot be picked; the technician line
ACCENT = rgba("#AD4A00")  # the done screen's priority group and booking code
HEADER = rgba("#0D3B66")  # the top bar
ALERT = rgba("#C62828")  # the banner
BUTTON_OFF = rgba("#B0B8BF")  # a disabled button
BUTTON_OFF_INK = rgba("#1A2933")

# (where, text, background): every fixed pair the kiosk's home, services, confirm and
# done screens and its shared widgets draw. Text on an agency's colour, and on a button's
# colour (its `bg` in a .kv file), is ink_on's.
PAIRS: tuple[tuple[str, Colour, Colour], ...] = (
    ("page text", INK, PAGE),
    ("page secondary text", INK_SOFT, PAGE),
    ("technician line", BAD, PAGE),
    ("done screen accent", ACCENT, PAGE),
    ("done screen printed", GOOD, PAGE),
    ("header", WHITE, HEADER),
    ("banner", WHITE, ALERT),
    ("card title", INK, CARD),
    ("card title pressed", INK, CARD_DOWN),
    ("card text", INK_SOFT, CARD),
    ("card available", GOOD, CARD),
    ("card available pressed", GOOD, CARD_DOWN),
    ("card off title", INK_OFF, CARD_OFF),
    ("card off reason", BAD, CARD_OFF),
    ("button disabled", BUTTON_OFF_INK, BUTTON_OFF),
)


def ink_on(bg: Colour) -> tuple[float, float, float, float]:
    """The text colour for an agency's colour: black or white, whichever contrasts more."""
    return WHITE if contrast(WHITE, bg) >= contrast(BLACK, bg) else BLACK
