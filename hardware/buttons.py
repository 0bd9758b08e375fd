"""A panel's pins: its gpiozero buttons, LEDs and buzzers, and what a button press means.

:class:`Pins` opens the devices of a panel's pin map (hardware.gpio) and turns the
buttons' edges into actions: debounced (hardware.debounce), a button with a hold
action sends its press action on release and its hold action once held for
``hold_time`` seconds; one without, on the press itself. A quick-score button
(``score_buttons``) calls *score(counter, score)* on its press. gpiozero calls these
callbacks on its own threads (on the mock, the one that drives the pin; ``when_held``
on a background thread), so each runs under the panel's lock.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, Callable

from . import gpio, pinmap
from .debounce import Debouncer, Release

__all__ = ["Pins"]

Send = Callable[[str, str], Any]  # (counter, action)
Score = Callable[[str, int], Any]  # (counter, score 1-4)


@dataclasses.dataclass(eq=False)
class _Button:
    spec: Any  # hardware.pinmap.Button
    device: Any  # gpiozero.Button
    debounce: Debouncer
    held: bool = False


class Pins:
    """The gpiozero devices of one panel (*pins*, a hardware.pinmap.PinMap).

    *send(counter, action)* is called, holding *lock*, for every press that counts;
    *clock* gives the monotonic seconds the debouncer measures bounces with.
    """

    def __init__(self, pins: Any, *, lock: threading.RLock, send: Send, clock: Callable[[], float],
                 score: Score | None = None) -> None:
        self.map = pins
        self.buttons: list[_Button] = []
        self.score_buttons: list[_Button] = []
        self._score = score
        self.leds: dict[str, Any] = {}  # counter -> gpiozero LED
        self.buzzers: dict[str, Any] = {}  # counter -> gpiozero Buzzer
        self.mock = False  # gpiozero's mock pins: nothing is wired
        self._lock = lock
        self._send = send
        self._clock = clock
        self._factory: Any = None
        self._owns_factory = False

    def open(self) -> None:
        """Make every device of the pin map; GPIOError on a pin problem (then call close())."""
        self._factory, self._owns_factory = gpio.pin_factory()
        self.mock = gpio.is_mock(self._factory)
        for spec in self.map.buttons:
            device = gpio.make_button(self._factory, spec, self.map.hold_time)
            button = _Button(spec, device, Debouncer(self.map.debounce_time, clock=self._clock))
            self.buttons.append(button)
            device.when_pressed = lambda b=button: self._pressed(b)
            device.when_released = lambda b=button: self._released(b)
            if spec.hold:
                device.when_held = lambda b=button: self._held(b)
        for spec in self.map.score_buttons:
            like = pinmap.Button(spec.pin, spec.counter, f"score {spec.score}", None, spec.path)
            device = gpio.make_button(self._factory, like, self.map.hold_time)
            button = _Button(spec, device, Debouncer(self.map.debounce_time, clock=self._clock))
            self.score_buttons.append(button)
            device.when_pressed = lambda b=button: self._scored(b)
            device.when_released = lambda b=button: self._score_released(b)
        for spec in self.map.leds:
            self.leds[spec.counter] = gpio.make_led(self._factory, spec)
        for spec in self.map.buzzers:
            self.buzzers[spec.counter] = gpio.make_buzzer(self._factory, spec)

    def close(self) -> None:
        """Switch the outputs off and free every pin."""
        for output in list(self.leds.values()) + list(self.buzzers.values()):
            output.off()  # a stopped panel shows nothing rather than a stale "serving"
        for device in ([b.device for b in (*self.buttons, *self.score_buttons)] + list(self.leds.values())
                       + list(self.buzzers.values())):
            device.close()
        self.buttons, self.score_buttons, self.leds, self.buzzers = [], [], {}, {}
        if self._owns_factory and self._factory is not None:
            self._factory.close()
        self._factory = None

    # -- gpiozero's threads ---------------------------------------------------------------

    def _pressed(self, b: _Button) -> None:
        with self._lock:
            if not b.debounce.press():
                return
            b.held = False
            if b.spec.hold is None:
                self._send(b.spec.counter, b.spec.press)

    def _scored(self, b: _Button) -> None:
        with self._lock:
            if b.debounce.press() and self._score is not None:
                self._score(b.spec.counter, b.spec.score)

    def _score_released(self, b: _Button) -> None:
        with self._lock:
            b.debounce.release()  # a score is taken on the press; a bounce needs no second look

    def _released(self, b: _Button) -> None:
        with self._lock:
            result = b.debounce.release()
            if result is Release.END:
                self._press_ended(b)
            elif result is Release.BOUNCE:
                timer = threading.Timer(b.debounce.settle, self._settled, (b,))
                timer.daemon = True
                timer.start()

    def _settled(self, b: _Button) -> None:
        with self._lock:
            if b.device.closed:
                return
            if b.debounce.settled(b.device.is_pressed):
                self._press_ended(b)

    def _press_ended(self, b: _Button) -> None:
        if b.spec.hold is not None and not b.held:
            self._send(b.spec.counter, b.spec.press)

    def _held(self, b: _Button) -> None:
        with self._lock:
            if b.debounce.is_down and not b.held:
                b.held = True
                self._send(b.spec.counter, b.spec.hold)
