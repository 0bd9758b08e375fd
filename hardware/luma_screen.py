"""The one luma adapter of the panel: opens a counter's display and draws on it.

luma.oled drives the SSD1306 and SH1106 OLEDs over I2C, luma.led_matrix the MAX7219
7-segment module over SPI (hardware.screenmap says which, where). Which device class
is chosen at run time from the site file; on gpiozero's mock pins (a laptop, the
tests) every display is luma's ``dummy`` device, which keeps the last picture in
``device.image``. The luma libraries are imported only when a display is opened: a
panel without displays needs none of them.

A display that is missing, or whose bus fails (an unplugged OLED: ``OSError: [Errno
121] Remote I/O error``), never stops the panel: :class:`Screen` logs it once, the
panel reports ``display_error`` in its status, the buttons keep working, and the
display is opened again every RETRY seconds until it answers.

:class:`Screens` is the panel's drawing thread: it takes the Views of
hardware.screen under the panel's lock and draws them outside it, so a slow bus
(an OLED frame is about 25 ms at 400 kHz) never holds a button press back.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Mapping

from hardware import screenmap
from hardware.screen import ScreenState, View, draw

log = logging.getLogger(__name__)

RETRY = 10.0  # seconds between attempts to open a display that failed

Opener = Callable[[screenmap.Display, bool], Any]  # (spec, dummy) -> a luma device


def open_device(spec: screenmap.Display, dummy: bool = False) -> Any:
    """A luma device for `spec`; luma's dummy device instead when `dummy`."""
    rotate = spec.rotate // 90
    if dummy:
        from luma.core.device import dummy as dummy_device

        width, height = screenmap.OLED_SIZE if spec.oled else (screenmap.DIGITS, 8)
        return dummy_device(width=width, height=height, rotate=rotate, mode="1")
    if spec.oled:
        from luma.core.interface.serial import i2c
        from luma.oled.device import sh1106, ssd1306

        kind = ssd1306 if spec.kind == "ssd1306" else sh1106
        serial = i2c(port=spec.i2c_port, address=spec.i2c_address)
        try:
            # Is anybody there? A NOP command (0xE3 on both chips) first: a luma device
            # registers an exit hook that keeps it, and its open bus, for good, so a
            # missing OLED retried every RETRY seconds must fail before one is made.
            serial.command(0xE3)
        except Exception:
            serial.cleanup()
            raise
        return kind(serial, rotate=rotate)
    from luma.core.interface.serial import noop, spi
    from luma.led_matrix.device import max7219

    # The MAX7219 needs no D/C or reset line: noop() keeps luma from claiming GPIO 24/25.
    # SPI has no answer: a module that is not there cannot be noticed, only a bus that is off.
    return max7219(spi(port=spec.spi_port, device=spec.spi_device, gpio=noop()), cascaded=1)


class Screen:
    """One counter's display: opened when first drawn on, reopened after a failure."""

    def __init__(self, spec: screenmap.Display, opener: Opener, dummy: bool) -> None:
        self.spec = spec
        self.device: Any = None
        self.error: str | None = None  # why the display does not work now, for the log
        self.shown: View | None = None  # the View on it now
        self._opener = opener
        self._dummy = dummy
        self._segments: Any = None
        self._retry_at = 0.0

    def due(self, view: View, now: float) -> bool:
        """Whether `view` should be drawn now (it is new, and no failure is being waited out)."""
        return view != self.shown and now >= self._retry_at

    def show(self, view: View, now: float) -> None:
        try:
            if self.device is None:
                self.device = self._opener(self.spec, self._dummy)
                log.info("display of %s: %s%s", self.spec.counter, self.spec.where,
                         " (luma's dummy device: mock pins)" if self._dummy else "")
            self._draw(view)
        except Exception as exc:  # each bus and library fails its own way (OSError, luma's errors, ImportError)
            self._failed(exc, now)
            return
        self.shown = view
        if self.error is not None:
            log.info("display of %s (%s) works again", self.spec.counter, self.spec.where)
            self.error = None

    def _draw(self, view: View) -> None:
        if self.spec.oled:
            from luma.core.render import canvas

            with canvas(self.device) as surface:
                draw(surface, self.device.size, view)
            return
        if self._segments is None:
            from luma.core.virtual import sevensegment
            from luma.led_matrix.segment_mapper import dot_muncher

            self._segments = sevensegment(self.device, segment_mapper=dot_muncher)
        self._segments.text = view.digits

    def _failed(self, exc: Exception, now: float) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if error != self.error:
            log.warning("display of %s (%s, %s) does not work: %s; retrying every %g s", self.spec.counter,
                        self.spec.where, self.spec.path, error, RETRY)
        self.error = error
        self.shown = None
        self._retry_at = now + RETRY
        self._forget()

    def _forget(self) -> None:
        device, self.device, self._segments = self.device, None, None
        if device is None:
            return
        try:
            device.cleanup()  # switches the display off, then closes its bus
        except Exception as exc:  # the bus that just failed fails again on the way out
            log.debug("display of %s: cleanup: %s", self.spec.counter, exc)
            # ...and the bus would stay open: a loose cable failing again and again must
            # not use up the panel's file descriptors. luma has no public name for it.
            serial = getattr(device, "_serial_interface", None)
            try:
                if serial is not None:
                    serial.cleanup()
            except Exception as again:  # already closed, or a library of its own
                log.debug("display of %s: closing its bus: %s", self.spec.counter, again)

    def close(self) -> None:
        """Clear the display and free its bus: a stopped panel shows nothing stale."""
        self._forget()


class Screens:
    """The panel's drawing thread for its counters' displays.

    states: counter -> ScreenState, changed by the panel under `changed`'s lock;
    link_up() is read under that lock; on_error(bool) says whether any display fails.
    """

    def __init__(self, specs: tuple[screenmap.Display, ...], states: Mapping[str, ScreenState],
                 changed: threading.Condition, link_up: Callable[[], bool], on_error: Callable[[bool], None],
                 opener: Opener, dummy: bool) -> None:
        self.screens = {spec.counter: Screen(spec, opener, dummy) for spec in specs}
        self._states = states
        self._changed = changed
        self._link_up = link_up
        self._on_error = on_error
        self._failing = False

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with self._changed:
                now = time.monotonic()
                todo, wake = self._views(now)
                if not todo:
                    self._changed.wait(wake)
                    continue
            for counter, view in todo.items():  # outside the lock: the bus may be slow
                self.screens[counter].show(view, now)
            with self._changed:
                failing = any(screen.error for screen in self.screens.values())
                if failing != self._failing:
                    self._failing = failing
                    self._on_error(failing)
                self._changed.notify_all()

    def _views(self, now: float) -> tuple[dict[str, View], float]:
        todo, wake = {}, 1.0
        down = not self._link_up()
        for counter, state in self._states.items():
            state.link_down = down
            view, change = state.view(now)
            screen = self.screens[counter]
            if screen.due(view, now):  # a failed display waits out RETRY (woken each second)
                todo[counter] = view
            if change is not None:
                wake = min(wake, max(change, 0.005))
        return todo, wake

    def close(self) -> None:
        for screen in self.screens.values():
            screen.close()
