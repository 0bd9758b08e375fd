"""The kiosk's Kivy app: app-level state as Kivy properties, screens in kiosk/screens/.

The flow is home -> services -> priority -> confirm -> done (and home -> survey, and
home -> reservasi -> done: the check-in of an online booking, typed or scanned).
Screens never reach into each other: they call the app's methods (`choose_agency`,
`choose_service`, `choose_priority`, `confirm`, `go_home`, ...) and their .kv files
bind to the app's properties. Work that can block -- the broker, the printer --
happens on the `Desk` thread and in paho's network thread; their callbacks hop onto
the UI thread with ``@mainthread``.

After `idle_seconds` without a touch, any screen but home returns home (not while a
ticket is being taken); the "take your ticket" screen leaves sooner once printed.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.core.window import Window
from kivy.graphics import Color, Rectangle
from kivy.metrics import mm
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, ScreenManager

from antrian import bahasa
from antrian.site import Config
from kiosk.options import KioskSettings

from . import contrast, skm, texts
from .checkin import CheckIn
from .desk import Desk, Order, Result
from .link import Link
from .printer import MESSAGES, TicketPrinter
from .scanner import Scanner

__all__ = ["KioskApp", "TOUCH_MM"]

log = logging.getLogger(__name__)

TOUCH_MM = 15  # the smallest touch target
DONE_SECONDS = 12  # "take your ticket" stays this long once printed
TICK_SECONDS = 0.5
BACKGROUND = contrast.PAGE


class KioskApp(CheckIn, App):
    # what the screens bind to
    catalog = ObjectProperty(None, allownone=True)
    site_name = StringProperty("")
    online = BooleanProperty(False)
    problems = ListProperty([])
    alert = StringProperty("")  # the banner: broker down or a printer problem
    # The technician line: a problem the dispatcher's status reports, in words
    # (antrian.adapters.link.NOTICES: its clock is behind).
    tech_line = StringProperty("")
    clock_text = StringProperty("")
    u = NumericProperty(8)  # 1 % of the window's shorter side, in pixels
    touch = NumericProperty(56)  # TOUCH_MM in pixels
    portrait = BooleanProperty(False)
    # the citizen's choices, as catalog entries
    agency = ObjectProperty(None, allownone=True)
    service = ObjectProperty(None, allownone=True)
    priority = ObjectProperty(None, allownone=True)
    order = ObjectProperty(None, allownone=True)
    busy = BooleanProperty(False)  # a ticket is being taken: the confirm button stays disabled
    message = StringProperty("")  # why the last confirmation gave no ticket
    can_retry = BooleanProperty(False)
    result = ObjectProperty(None, allownone=True)
    # the check-in (screens/reservasi.py): the code as typed, the last refusal's error code,
    # the booked service offered as a walk-in when too late, whether a scanner is connected
    checkin_code = StringProperty("")
    checkin_refusal = StringProperty("")
    checkin_offer = ObjectProperty(None, allownone=True)
    scanner_ready = BooleanProperty(False)

    def __init__(self, config: Config, device: str, settings: KioskSettings, link: Link, printer: TicketPrinter,
                 address: tuple[str, int], **kwargs: Any):
        super().__init__(**kwargs)
        self.title = "Antrian MPP"
        self.site_config = config
        self.device = device
        self.settings = settings
        self.link = link
        self.address = address
        self.site_name = config.site.name
        self.desk = Desk(link, printer, on_result=self._on_result, on_problems=self._on_problems)
        link.on_catalog = self._on_catalog
        self._last_touch = time.monotonic()
        self.sm: ScreenManager | None = None
        self.scanner = Scanner(settings.scanner, on_code=self.scanned, on_state=self._on_scanner) \
            if settings.scanner else None

    # -- Kivy lifecycle -------------------------------------------------------------------

    def build(self) -> ScreenManager:
        from .screens import SCREENS

        self._resize(Window, Window.size)
        Window.bind(size=self._resize, on_touch_down=self._touched)
        # Screens switch at once: a transition would redraw two full screens per frame,
        # which a Pi's GPU (or Mesa's software renderer) does slowly.
        self.sm = ScreenManager(transition=NoTransition())
        with self.sm.canvas.before:  # the background, painted by the root so screenshots have it
            Color(*BACKGROUND)
            background = Rectangle(pos=self.sm.pos, size=self.sm.size)
        self.sm.bind(pos=lambda w, pos: setattr(background, "pos", pos),
                     size=lambda w, size: setattr(background, "size", size))
        for name, cls in SCREENS.items():
            self.sm.add_widget(cls(name=name))
        self._tick()
        Clock.schedule_interval(self._tick, TICK_SECONDS)
        return self.sm

    def on_start(self) -> None:
        log.info("kiosk %s: broker %s:%d, printer %s (%s)", self.device, *self.address,
                 self.settings.printer.where, self.settings.printer.profile)
        self.link.start(*self.address)
        self.desk.start()
        if self.scanner is not None:
            self.scanner.start()

    def on_stop(self) -> None:
        if self.scanner is not None:
            self.scanner.stop()
        self.desk.stop()
        self.link.close()

    def _resize(self, window, size) -> None:
        width, height = size
        self.u = min(width, height) / 100
        self.portrait = height > width
        self.touch = mm(TOUCH_MM)

    def _touched(self, window, touch) -> bool:
        self._last_touch = time.monotonic()
        return False

    def _tick(self, *_) -> None:
        self.online = self.link.connected
        self.clock_text = bahasa.tanggal(dt.datetime.now(self.site_config.tz))
        if not self.online:
            self.alert = f"{texts.GANGGUAN}. {texts.GANGGUAN_DETAIL}"
        elif self.problems:
            self.alert = MESSAGES[self.problems[0]]
        else:
            self.alert = ""
        self.tech_line = self.link.dispatcher.notice if self.online else ""
        self._idle_check()

    def _idle_check(self) -> None:
        if self.sm is None or self.sm.current == "home" or self.busy:
            return
        limit = self.settings.idle_seconds
        if self.sm.current == "done" and self.result is not None and self.result.outcome == "printed":
            limit = min(limit, DONE_SECONDS)
        if time.monotonic() - self._last_touch >= limit:
            log.info("kiosk %s: %d s without a touch on %r, back home", self.device, limit, self.sm.current)
            self.go_home()

    # -- from other threads ---------------------------------------------------------------

    @mainthread
    def _on_catalog(self, catalog: dict[str, Any]) -> None:
        self.catalog = catalog
        self.site_name = (catalog.get("site") or {}).get("name") or self.site_name
        # Keep the choices in step: a service may have closed or run out meanwhile.
        if self.agency is not None:
            self.agency = self.find_agency(self.agency["id"]) or self.agency
        if self.service is not None:
            self.service = self.find_service(self.service["code"]) or self.service

    @mainthread
    def _on_problems(self, problems: list[str]) -> None:
        self.problems = problems
        self._tick()

    @mainthread
    def _on_scanner(self, connected: bool, name: str) -> None:
        self.scanner_ready = connected

    @mainthread
    def _on_result(self, result: Result) -> None:
        self.busy = False
        if result.has_ticket:
            self.result = result
            self.message = ""
            self._go("done")
            return
        # No ticket: stay on the confirmation (or the check-in) with the reason; a retry
        # reuses the order.
        self.message = result.message
        self.can_retry = result.outcome in ("unavailable", "printer_problem")
        if result.order.booking is not None:
            self.checkin_refusal = result.code or result.outcome
            self.checkin_offer = self.find_service(result.service) if result.service else None

    # -- catalog lookups --------------------------------------------------------------------

    def find_agency(self, agency_id: str) -> dict[str, Any] | None:
        return next((a for a in (self.catalog or {}).get("agencies", ()) if a.get("id") == agency_id), None)

    def find_service(self, code: str) -> dict[str, Any] | None:
        return next((s for a in (self.catalog or {}).get("agencies", ()) for s in a.get("services", ())
                     if s.get("code") == code), None)

    def priority_groups(self) -> list[dict[str, Any]]:
        groups = (self.catalog or {}).get("priority_groups")
        if groups:
            return list(groups)
        return [{"id": g.id, "name": g.name} for g in self.site_config.priority_groups]

    # -- the citizen's steps ----------------------------------------------------------------

    def _go(self, name: str) -> None:
        self._last_touch = time.monotonic()
        if self.sm is not None:
            self.sm.current = name

    def go_home(self) -> None:
        if self.busy:
            return
        self.agency = self.service = self.priority = self.order = self.result = None
        self.message = ""
        self.can_retry = False
        self._clear_checkin()
        self._go("home")

    def choose_agency(self, agency_id: str) -> None:
        agency = self.find_agency(agency_id)
        if agency is not None:
            self.agency = agency
            self._go("services")

    def choose_service(self, code: str) -> None:
        service = self.find_service(code)
        if service is None or not service.get("open"):
            return  # a closed service shows why and cannot be picked
        self.service = service
        self._go("priority")

    def choose_priority(self, group_id: str | None) -> None:
        if self.service is None:
            return
        self.priority = next((g for g in self.priority_groups() if g["id"] == group_id), None)
        # A new confirmation, a new request id; "Coba lagi" on it reuses this one.
        self.order = Order.new(self.service["code"], self.priority["id"] if self.priority else None)
        self.message = ""
        self.can_retry = False
        self._go("confirm")

    def back(self) -> None:
        if self.busy:
            return
        current = self.sm.current if self.sm is not None else "home"
        self._go({"services": "home", "priority": "services", "confirm": "priority"}.get(current, "home"))

    def confirm(self) -> None:
        """The confirm button: one ticket per confirmation, the button disabled until the reply."""
        if self.busy or self.order is None:
            return
        if not self.online:
            self.message, self.can_retry = f"{texts.GANGGUAN}. {texts.GANGGUAN_DETAIL}", True
            return
        if self.problems:  # known before asking: no ticket the kiosk cannot print
            self.message, self.can_retry = MESSAGES[self.problems[0]], True
            return
        if self.service is not None and not self.service.get("open"):
            self.message, self.can_retry = texts.unavailable(self.service.get("closed_reason")), False
            return
        if self.desk.take(self.order):
            self.busy = True
            self.message = ""

    # -- the survey --------------------------------------------------------------------------

    def open_survey(self) -> None:
        self._go("survey")

    def check_survey_ticket(self, number: str, done) -> None:
        """Whether ticket `number` was served today (off the UI thread); `done(reply or None)`."""
        skm.check_ticket(self.link, number, done)

    def send_survey(self, answers: dict[str, int], ticket: str | None = None,
                    profile: dict[str, str] | None = None) -> bool:
        sent = self.link.send_survey(skm.payload(answers, ticket=ticket, profile=profile))
        log.info("kiosk %s: survey of %s %s", self.device, ticket, "sent" if sent else "not sent, broker unreachable")
        return sent
