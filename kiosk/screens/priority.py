"""Does the citizen need priority service? "Tidak" or one of the catalog's priority groups."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.uix.screenmanager import Screen

from .. import texts
from ..widgets import KioskButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

PRIORITY_COLOR = "#E65100"
NORMAL_COLOR = "#00796B"


class PriorityScreen(Screen):
    def on_kv_post(self, base_widget) -> None:
        self._refresh = Clock.create_trigger(self.refresh)
        App.get_running_app().bind(catalog=self._refresh, portrait=self._refresh, u=self._refresh)

    def on_pre_enter(self, *_) -> None:
        self.refresh()

    def refresh(self, *_) -> None:
        app = App.get_running_app()
        grid = self.ids.grid
        grid.clear_widgets()
        grid.cols = 1 if app.portrait else 2
        height = max(app.touch, app.u * 13)
        choices = [("none", texts.NO_PRIORITY, NORMAL_COLOR, None)]
        choices += [(g["id"], g["name"], PRIORITY_COLOR, g["id"]) for g in app.priority_groups()]
        for key, label, color, group in choices:
            button = KioskButton(key=f"priority:{key}", text=label, bg=color, height=height)
            button.bind(on_release=lambda _b, gid=group: app.choose_priority(gid))
            grid.add_widget(button)
