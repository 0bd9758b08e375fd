"""An agency's services, each with its published standard (UU 25/2009): completion time,
fee and how many requirements (listed in full on the confirmation). A closed, over-quota,
out-of-hours or past-its-last-ticket service shows the catalog's reason and cannot be picked.

Every service of an agency is on the screen at once, without a drag: the cards take
columns by their number and the window's orientation (`columns`), and their text shrinks
a little when they still do not fit (`ServiceCard.scale`, down to MIN_SCALE). Only past
that -- an agency with very many services on a small screen -- does the list scroll, and
then a line at the bottom says that more follow."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from .. import texts
from ..widgets import ServiceCard, hex_color

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def requirements_text(service: dict) -> str:
    items = service.get("requirements") or []
    if not items:
        return ""
    return "Persyaratan:\n" + "\n".join(f"\u2022  {item}" for item in items)


MIN_SCALE = 0.8


def columns(count: int, portrait: bool) -> int:
    """Cards per row: one column of up to five in portrait, two of up to four in landscape."""
    if portrait:
        return 1 if count <= 5 else 2
    return 2 if count <= 4 else 3 if count <= 9 else 4


def requirements_brief(service: dict) -> str:
    n = len(service.get("requirements") or [])
    return f"Persyaratan: {n} dokumen, dirinci sebelum nomor diambil" if n else ""


def standard_text(service: dict) -> str:
    return f"Waktu penyelesaian: {service.get('completion', '-')}     Biaya: {service.get('fee', '-')}"


def status_text(service: dict) -> str:
    if service.get("open"):
        return texts.quota_left(service.get("quota_left"))
    return f"Tidak dapat dipilih: {service.get('closed_reason') or 'layanan sedang tutup'}"


class ServicesScreen(Screen):
    agency_name = StringProperty("")
    agency_color = ColorProperty("#0D3B66")
    cols = NumericProperty(1)
    scale = NumericProperty(1.0)  # the cards' text size (ServiceCard.scale)
    more_below = BooleanProperty(False)  # the cards do not fit: the hint at the bottom shows

    def on_kv_post(self, base_widget) -> None:
        self._refresh = Clock.create_trigger(self.refresh)
        self._align = Clock.create_trigger(self.align_rows)
        self._fit = Clock.create_trigger(self.fit)
        app = App.get_running_app()
        app.bind(agency=self._refresh, portrait=self._refresh, u=self._resized)
        self.ids.scroll.bind(height=self._resized, scroll_y=self._fit)
        self.ids.grid.bind(height=self._fit)  # the rows' heights settle a frame after the cards

    def _resized(self, *_) -> None:
        self.scale = 1.0  # a new size: start from the full size again
        self._refresh()

    def align_rows(self, *_) -> None:
        """Cards of one row as tall as the tallest (a GridLayout row would leave gaps)."""
        cards = list(reversed(self.ids.grid.children))
        for i in range(0, len(cards), self.cols):
            row = cards[i:i + self.cols]
            tallest = max(card.minimum_height for card in row)
            for card in row:
                card.row_height = tallest
        self._fit()

    def fit(self, *_) -> None:
        """Shrink the cards' text while they are taller than the screen; past
        MIN_SCALE, say that more follow below (until the list is scrolled to its end)."""
        grid, scroll = self.ids.grid, self.ids.scroll
        over = grid.height > scroll.height + 1
        if over and self.scale > MIN_SCALE + 1e-6:
            # Text height follows its size about linearly: one step to the size that fits,
            # another only where the wrapping came out longer.
            self.scale = max(MIN_SCALE, round(self.scale * scroll.height / grid.height - 0.01, 2))
            for card in grid.children:
                card.scale = self.scale
            self._align()
            return
        self.more_below = over and scroll.scroll_y > 0.01

    def refresh(self, *_) -> None:
        """Cards of the chosen agency; a new catalog for the same agency updates them in
        place (a service closing shows at once, a finger on a card is not dropped)."""
        app = App.get_running_app()
        grid = self.ids.grid
        agency = app.agency
        if agency is None:
            grid.clear_widgets()
            return
        self.agency_name = agency["name"]
        self.agency_color = hex_color(agency.get("color"), "#0D3B66")
        services = agency.get("services", [])
        self.cols = columns(len(services), app.portrait)
        cards = list(reversed(grid.children))
        if [card.key for card in cards] != [f"service:{s['code']}" for s in services]:
            grid.clear_widgets()
            cards = []
            self.scale = 1.0
            for service in services:
                card = ServiceCard(key=f"service:{service['code']}", scale=self.scale)
                # on_press, as the home screen's tiles: the ScrollView delays a release by 0.2 s.
                card.bind(on_press=lambda _card, code=service["code"]: app.choose_service(code),
                          minimum_height=self._align)
                grid.add_widget(card)
                cards.append(card)
            self.ids.scroll.scroll_y = 1
        for card, service in zip(cards, services, strict=True):
            card.service = service
            card.available = bool(service.get("open"))
            card.title = service["name"]
            card.status = status_text(service)
            card.requirements = requirements_brief(service)
            card.standard = standard_text(service)
        self._align()
