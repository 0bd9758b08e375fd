"""Home: the agencies as coloured tiles, the survey button, and the broker/printer banner."""

from __future__ import annotations

import math
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty
from kivy.uix.screenmanager import Screen

from antrian.site import Config

from .. import texts
from ..widgets import AgencyTile, hex_color

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def columns(count: int, portrait: bool) -> int:
    """Tiles per row: few agencies get big tiles, a 40-agency MPP gets a scrolling grid."""
    if portrait:
        return 1 if count <= 3 else 2 if count <= 12 else 3
    return 2 if count <= 4 else 3 if count <= 9 else 4


def logo_path(config: Config, agency_id: str) -> str:
    """The agency's logo file from the site file (relative to its folder), or "" for none
    or one that is not there (check-config says so)."""
    agency = next((a for a in config.agencies if a.id == agency_id), None)
    if agency is None or not agency.logo:
        return ""
    path = Path(agency.logo).expanduser()
    if not path.is_absolute():
        source = Path(config.source)
        path = (source.parent if source.suffix in (".yaml", ".yml") else Path.cwd()) / path
    return str(path) if path.is_file() else ""


class HomeScreen(Screen):
    cols = NumericProperty(2)
    tile_height = NumericProperty(100)

    def on_kv_post(self, base_widget) -> None:
        self._refresh = Clock.create_trigger(self.refresh)
        app = App.get_running_app()
        app.bind(catalog=self._refresh, u=self._refresh, portrait=self._refresh, touch=self._refresh)
        self.ids.scroll.bind(height=self._refresh)

    def refresh(self, *_) -> None:
        """Tiles from the catalog. A new catalog (every few seconds while quotas count down)
        updates the tiles in place: rebuilding them would drop a finger that is on one."""
        app = App.get_running_app()
        grid = self.ids.grid
        agencies = (app.catalog or {}).get("agencies", [])
        if not agencies:
            grid.clear_widgets()
            return
        self.cols = columns(len(agencies), app.portrait)
        rows = math.ceil(len(agencies) / self.cols)
        room = (self.ids.scroll.height - grid.spacing[1] * (rows - 1)) / rows
        self.tile_height = max(app.touch * 1.5, app.u * 16, min(room, app.u * (40 if app.portrait else 30)))
        tiles = list(reversed(grid.children))
        if [tile.key for tile in tiles] != [f"agency:{a['id']}" for a in agencies]:
            grid.clear_widgets()
            tiles = []
            for agency in agencies:
                tile = AgencyTile(key=f"agency:{agency['id']}")
                # on_press: in a ScrollView a tap's press comes when the finger lifts, its
                # release 0.2 s later (Kivy's ScrollView); acting on the press saves that wait.
                tile.bind(on_press=lambda _tile, aid=agency["id"]: app.choose_agency(aid))
                grid.add_widget(tile)
                tiles.append(tile)
        for tile, agency in zip(tiles, agencies, strict=True):
            services = agency.get("services", [])
            short = agency.get("short_name") or agency["name"]
            tile.bg = hex_color(agency.get("color"))
            tile.title = short
            tile.subtitle = agency["name"] if agency["name"] != short else ""
            tile.services = texts.services_hint([s["name"] for s in services])
            tile.logo = logo_path(app.site_config, agency["id"])
            tile.note = texts.services_open(sum(1 for s in services if s.get("open")), len(services))
            tile.height = self.tile_height
