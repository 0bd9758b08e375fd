"""The kiosk's shared widgets; their looks are in widgets.kv next to this file.

Every touchable widget is at least `app.touch` high (15 mm at the screen's dpi) and
carries a `key` ("agency:disdukcapil", "service:KTP", "confirm", ...) that names what
it does, for logs and for the tests that tap it.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

__all__ = ["AgencyTile", "Banner", "Header", "KioskButton", "ServiceCard", "hex_color"]


def hex_color(text: str, default: str = "#00695C") -> tuple[float, float, float, float]:
    """'#1565C0' -> an RGBA tuple (a bad value falls back to `default`)."""
    value = text if isinstance(text, str) and len(text) == 7 and text.startswith("#") else default
    try:
        return tuple(int(value[i:i + 2], 16) / 255 for i in (1, 3, 5)) + (1.0,)
    except ValueError:
        return hex_color(default)


class KioskButton(ButtonBehavior, Label):
    """A big rounded button with wrapped text."""

    key = StringProperty("")
    bg = ColorProperty("#00796B")


class AgencyTile(ButtonBehavior, BoxLayout):
    """An agency on the home screen: its colour, logo (a file, or ""), short name, full
    name, two or three of its services and how many services are open."""

    key = StringProperty("")
    bg = ColorProperty("#00796B")
    logo = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    services = StringProperty("")
    note = StringProperty("")


class ServiceCard(ButtonBehavior, BoxLayout):
    """A service and its published standard; a closed one shows why and cannot be picked."""

    key = StringProperty("")
    service = ObjectProperty(None, allownone=True)
    available = BooleanProperty(True)
    title = StringProperty("")
    status = StringProperty("")
    requirements = StringProperty("")
    standard = StringProperty("")
    row_height = NumericProperty(0)  # the tallest card of its row, so a row's cards line up
    scale = NumericProperty(1.0)  # its text's size: below 1 where many services share a screen


class Banner(Label):
    """A full-width coloured message; it takes no room when its text is empty."""

    bg = ColorProperty("#C62828")


class Header(BoxLayout):
    """The top bar: a title and the date and time."""

    title = StringProperty("")
    bg = ColorProperty("#0D3B66")


Builder.load_file(str(Path(__file__).with_name("widgets.kv")))
