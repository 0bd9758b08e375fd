"""The waiting-hall board: a full-screen Kivy app (``antrian display``).

Layout and bindings live in ``board.kv`` next to this file; this module holds the
behaviour. The screen is built for a 1920x1080 TV and scales with one unit ``u``
(1.0 at 1920x1080 or 1080x1920), so 1280x720 is the same picture smaller and a TV
hung in portrait stacks the same parts vertically.

A zoned board (``zone:``) drops the calls of other counters here, before they reach
the announcer; a board with ``speaks: false`` gets a silent engine and sink. Counters
that do not fit one screen at a readable size (view.page_grid) turn pages every
``page_seconds``; so does the waiting list when more services exist than its rows
(view.waiting_pages), on the same timer.

Threads: MQTT messages arrive on paho's thread and calls go straight to the
announcer (its own thread); everything that touches a widget hops onto Kivy's main
thread through ``Clock`` -- a burst of Board messages is merged into one redraw by a
``Clock.create_trigger``.

Call :func:`display.kivy_env.prepare` before importing this module.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import signal
import time
from pathlib import Path
from typing import Any

from kivy.animation import Animation
from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.core.window import Window
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.stencilview import StencilView

from antrian import bahasa
from antrian.adapters.link import DispatcherView
from antrian.site import Config
from display.options import DisplayOptions, resolve_path, zone_counters

from . import view
from .announcer import Announcer, SpokenMemory
from .audio import Audio, AudioSink, NullSink, make_sink
from .link import BoardLink
from .speech import SpeechEngine, make_engine

log = logging.getLogger(__name__)

KV_FILE = Path(__file__).resolve().with_name("board.kv")
FLASHES = 3  # times the latest-call card lights up when a new call is shown
RECENT_ROWS = {False: 3, True: 3}  # landscape, portrait
TICK_SECONDS = 0.5


class CounterTile(BoxLayout):
    name = StringProperty("")
    agency = StringProperty("")
    number = StringProperty("")
    detail = StringProperty("")
    status = StringProperty("open")
    # The small line's colour: amber while the counter pauses, else pale blue ("Tutup" is red in board.kv).
    detail_color = StringProperty("#B8CBE6")

    def on_status(self, _widget: Any, status: str) -> None:
        self.detail_color = "#FFCC80" if status == "paused" else "#B8CBE6"


class WaitChip(BoxLayout):
    prefix = StringProperty("")
    name = StringProperty("")
    count = StringProperty("0")
    closed = BooleanProperty(False)


class SilentEngine(SpeechEngine):
    """The voice of a board with ``speaks: false``: nothing, at once."""

    def synthesize(self, text: str, timeout: float) -> Audio:
        return Audio(22050, 1, 2, b"")


class RecentRow(BoxLayout):
    number = StringProperty("")
    counter = StringProperty("")


class Emblem(Label):
    """The default logo when the site file names none: "MPP" in a ring."""


class Marquee(StencilView):
    """The running text: one line that scrolls from right to left, forever."""

    text = StringProperty("")
    font_size = NumericProperty(40)
    speed = NumericProperty(120)  # pixels per second at u = 1
    offset = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._event = Clock.schedule_interval(self._step, 1 / 30)

    def _step(self, dt_: float) -> None:
        label = self.ids.get("line")
        if label is None or not label.texture_size[0]:
            return
        span = self.width + label.texture_size[0]
        self.offset = (self.offset + self.speed * dt_) % max(1.0, span)


class BoardScreen(FloatLayout):
    """The root widget: every text on the board is a property here or on a tile."""

    site_name = StringProperty("")
    logo = StringProperty("")
    date_text = StringProperty("")
    latest_number = StringProperty(view.NO_NUMBER)
    latest_counter = StringProperty("")
    latest_service = StringProperty("")
    latest_note = StringProperty("")
    latest_booking = BooleanProperty(False)
    counters_heading = StringProperty("Loket")
    waiting_heading = StringProperty(view.WAITING)
    flash = NumericProperty(0)
    banner_text = StringProperty("")
    running_text = StringProperty("")
    portrait = BooleanProperty(False)
    u = NumericProperty(1.0)
    waiting_cols = NumericProperty(3)
    waiting_rows = NumericProperty(4)


class BoardApp(App):
    """A board for display device *device_id*. *engine* and *sink* replace the ones the
    options ask for (tests and benchmarks)."""

    # Kivy loads this file itself before build() (and would also find "board.kv" by the
    # class name): an absolute path, never one relative to the working directory.
    kv_file = str(KV_FILE)

    def __init__(self, config: Config, device_id: str, host: str, port: int, *, options: DisplayOptions,
                 state_dir: str | Path, engine: SpeechEngine | None = None, sink: AudioSink | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config_ = config
        self.device_id = device_id
        self.address = (host, port)
        self.options = options
        self.state_dir = Path(state_dir)
        self.title = f"Antrian {config.site.name}"
        self.board_data: dict[str, Any] | None = None
        self.flashes = 0  # how many times the latest call changed with a flash (tests read it)
        self._pending_board: dict[str, Any] | None = None
        self._dispatcher_online: bool | None = None
        self._started = time.monotonic()
        self._offline_since: float | None = None
        self._shown_seq = 0
        self._flash_anim: Animation | None = None
        self.zone = zone_counters(config, options.zone)
        # Page turns so far: the counters show page % their pages, the waiting list
        # page % its pages (tests set and read it).
        self.page = 0
        self.waiting_pages = 1
        self.grid = view.Grid(1, 1, 1, 1)
        self._minute = -1
        if not options.speaks:
            engine, sink = SilentEngine(), NullSink()
        self.announcer = Announcer(
            engine or make_engine(options),
            sink or make_sink(options.audio, alsa_device=options.alsa_device,
                              wav_dir=options.wav_dir or self.state_dir / "audio"),
            SpokenMemory(self.state_dir / "spoken.json"),
            template=config.announcement.template, digits=config.announcement.digits, repeat=options.repeat,
            min_call_seconds=options.min_call_seconds, chime=options.chime and options.speaks,
            volume=options.volume, speech_timeout=options.speech_timeout,
            catch_up_seconds=options.catch_up_seconds, on_show=self._on_show, on_problems=self._on_problems)
        self.link = BoardLink(config, device_id, on_board=self._on_board, on_call=self._on_call,
                              on_dispatcher=self._on_dispatcher)
        self._board_trigger = Clock.create_trigger(self._apply_board)

    # -- building ------------------------------------------------------------------

    def build(self) -> BoardScreen:
        screen = BoardScreen()
        site = self.config_.site
        screen.site_name = site.name
        screen.running_text = " ".join(site.running_text.split())
        if site.logo:
            path = resolve_path(self.config_, site.logo)
            if path.is_file():
                screen.logo = str(path)
            else:
                log.warning("site.logo %s not found; showing the default emblem", path)
        self._orient()
        Window.bind(size=lambda *_: self._layout())
        self.root = screen
        self._layout()
        self._apply_board()
        self._tick()
        return screen

    def _orient(self) -> None:
        # A TV hung the other way round with no rotation set in the OS.
        want = self.options.orientation
        if want != "auto" and (Window.width > Window.height) != (want == "landscape"):
            Window.rotation = 90

    def _layout(self) -> None:
        screen = self.root
        if screen is None:
            return
        w, h = Window.size
        screen.portrait = h > w
        screen.u = min(w / 1080, h / 1920) if screen.portrait else min(w / 1920, h / 1080)
        self._board_trigger()

    def on_start(self) -> None:
        self.announcer.start()
        self.link.start(*self.address)
        Clock.schedule_interval(self._tick, TICK_SECONDS)
        Clock.schedule_interval(self._turn_page, self.options.page_seconds)

    def on_stop(self) -> None:
        self.link.close()
        self.announcer.stop()

    # -- from other threads --------------------------------------------------------

    def _on_call(self, call: Any) -> bool:
        # Paho's thread: a zoned board neither shows nor says another zone's call.
        if isinstance(call, dict) and not view.in_zone(call, self.zone):
            return False
        return self.announcer.announce(call)

    def _on_board(self, board: dict[str, Any]) -> None:
        # Paho's thread: calls made while offline are caught up first, in order.
        self.announcer.board(view.zoned_board(board, self.zone))
        self._pending_board = board
        self._board_trigger()

    def _on_dispatcher(self, view: DispatcherView) -> None:
        self._dispatcher_online = view.online

    @mainthread
    def _on_show(self, call: dict[str, Any], spoken: bool) -> None:
        screen = self.root
        changed = call["seq"] != self._shown_seq
        self._shown_seq = call["seq"]
        screen.latest_number = call["number"]
        screen.latest_counter = view.call_place(call)
        screen.latest_service = view.short_name(call.get("service_name") or "")
        screen.latest_note = "Panggilan ulang" if call.get("recall") else ""
        screen.latest_booking = call.get("booking") is True
        if changed:
            self.flashes += 1
            if self._flash_anim is not None:
                self._flash_anim.cancel(screen)
            blink = Animation(flash=1, duration=0.18) + Animation(flash=0, duration=0.32)
            self._flash_anim = blink
            for _ in range(FLASHES - 1):
                self._flash_anim = self._flash_anim + Animation(flash=1, duration=0.18) \
                    + Animation(flash=0, duration=0.32)
            self._flash_anim.start(screen)
        self._apply_board()  # the earlier-calls list moves on with the big card, in the same frame

    def _on_problems(self, problems: list[str]) -> None:
        self.link.set_problems(problems)

    # -- on the main thread ---------------------------------------------------------

    def _apply_board(self, *_: Any) -> None:
        screen = self.root
        if screen is None:
            return
        if self._pending_board is not None:
            self.board_data, self._pending_board = self._pending_board, None
        board = self.board_data
        if self._shown_seq == 0:
            screen.latest_note = view.NO_CALL_YET
        now = dt.datetime.now(self.config_.tz)
        tiles = view.counter_tiles(self.config_, board, self.zone, now=now)
        grid = screen.ids.counters
        self.grid = view.page_grid(len(tiles), max(1, grid.width), max(1, grid.height), screen.u)
        page = self.page % self.grid.pages
        shown = tiles[page * self.grid.per_page:(page + 1) * self.grid.per_page]
        # Every page has the same number of places, so tiles keep their size on the last one.
        grid.rows, grid.cols = None, self.grid.cols  # any number of children fits while they change
        _sync(grid, CounterTile, self.grid.cols * self.grid.rows)
        grid.rows = self.grid.rows
        for i, widget in enumerate(reversed(grid.children)):
            tile = shown[i] if i < len(shown) else view.Tile("", "", "", "", "", "open")
            widget.name, widget.agency, widget.number = tile.name, tile.agency, tile.number
            widget.detail, widget.status = tile.detail, tile.status
        screen.counters_heading = "Loket" if self.grid.pages == 1 else \
            f"Loket — halaman {page + 1} dari {self.grid.pages}"

        pages = view.waiting_pages(view.waiting_rows(self.config_, board, now=now, zone=self.zone))
        self.waiting_pages = len(pages)
        page = self.page % len(pages)
        rows = pages[page]
        screen.waiting_heading = view.waiting_heading(page, len(pages))
        screen.waiting_cols = 2 if screen.portrait else 3
        # As many rows on every page as on the first (the fullest): the counters keep their size.
        screen.waiting_rows = max(1, math.ceil(len(pages[0]) / screen.waiting_cols))
        waiting = screen.ids.waiting
        _sync(waiting, WaitChip, len(rows))
        for widget, row in zip(reversed(waiting.children), rows):
            widget.prefix, widget.name, widget.count, widget.closed = row.prefix, row.name, str(row.count), row.closed

        calls = view.recent_rows(board, self._shown_seq, RECENT_ROWS[screen.portrait], self.zone)
        recent = screen.ids.recent
        _sync(recent, RecentRow, RECENT_ROWS[screen.portrait])
        for i, widget in enumerate(reversed(recent.children)):
            call = calls[i] if i < len(calls) else None
            widget.number = call["number"] if call else ""
            widget.counter = view.call_place(call) if call else ""

    def _turn_page(self, *_: Any) -> None:
        if self.grid.pages > 1 or self.waiting_pages > 1:
            self.page += 1
            self._board_trigger()

    def _tick(self, *_: Any) -> None:
        screen = self.root
        now = dt.datetime.now(self.config_.tz)
        screen.date_text = bahasa.tanggal(now)
        if now.minute != self._minute:  # a service opens or closes on the minute: "Tutup" follows
            self._minute = now.minute
            self._board_trigger()
        mono = time.monotonic()
        connected = self.link.connected
        if connected:
            self._offline_since = None
        elif self._offline_since is None:
            self._offline_since = mono
        board = self.board_data
        screen.banner_text = view.banner(
            connected=connected, offline_for=mono - (self._offline_since or mono) if not connected else 0.0,
            have_board=board is not None, waited_for_board=mono - self._started,
            dispatcher_online=self._dispatcher_online, dispatcher_notice=self.link.dispatcher.notice,
            board_day=board.get("business_day") if board else None, now=now)


def _sync(container, cls, count: int) -> None:
    """Give *container* exactly *count* children of *cls*, reusing the ones it has."""
    while len(container.children) > count:
        container.remove_widget(container.children[0])
    while len(container.children) < count:
        container.add_widget(cls())


def run(config: Config, device_id: str, host: str, port: int, *, options: DisplayOptions,
        state_dir: str | Path) -> None:
    """Run the board until its window closes, Ctrl-C or SIGTERM (systemd stop)."""
    app = BoardApp(config, device_id, host, port, options=options, state_dir=state_dir)
    # A signal only sets a flag for Kivy's thread: stopping from the handler itself
    # could interrupt a frame. on_stop then says "offline" and stops the announcer.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: Clock.schedule_once(lambda _dt: app.stop()))
    app.run()
