"""An agency's services, each with its published standard (UU 25/2009): requirements,
completion time, fee. A closed, over-quota or out-of-hours service shows the catalog's
reason and cannot be picked."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import ColorProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from .. import texts
from ..widgets import ServiceCard, hex_color

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def requirements_text(service: dict) -> str:
    items = service.get("requirements") or []
    if not items:
        return ""
    return "Persyaratan:\n" + "\n".join(f"\u2022  {item}" for item in items)


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

    def on_kv_post(self, base_widget) -> None:
        self._refresh = Clock.create_trigger(self.refresh)
        self._align = Clock.create_trigger(self.align_rows)
        App.get_running_app().bind(agency=self._refresh, portrait=self._refresh)

    def align_rows(self, *_) -> None:
        """Cards of one row as tall as the tallest (a GridLayout row would leave gaps)."""
        cards = list(reversed(self.ids.grid.children))
        for i in range(0, len(cards), self.cols):
            row = cards[i:i + self.cols]
            tallest = max(card.minimum_height for card in row)
            for card in row:
                card.row_height = tallest

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
        self.cols = 1 if app.portrait else 2
        services = agency.get("services", [])
        cards = list(reversed(grid.children))
        if [card.key for card in cards] != [f"service:{s['code']}" for s in services]:
            grid.clear_widgets()
            cards = []
            for service in services:
                card = ServiceCard(key=f"service:{service['code']}")
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
            card.requirements = requirements_text(service)
            card.standard = standard_text(service)
        self._align()
