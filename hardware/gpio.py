"""The one gpiozero adapter of the panel: pin factory, buttons, LEDs, buzzers.

gpiozero picks its pin factory at run time: lgpio on a Pi 5 (and on older Pis
when installed), RPi.GPIO or pigpio, or whatever ``GPIOZERO_PIN_FACTORY`` names
(``mock`` on a laptop). Off a Pi with nothing named, gpiozero has no factory at
all; the panel then runs on mock pins and says so in one plain log line, so the
whole program can be tried on a laptop. On a Pi that has no working GPIO library
(lgpio missing) it refuses to start instead: mock pins there would be a panel
whose buttons do nothing.

Everything that can go wrong with a pin becomes a :class:`GPIOError` with one
line naming the pin and where the site file puts it, never a traceback:

    factory, mock = pin_factory()
    button = make_button(factory, spec, hold_time=2.0)   # GPIOError if GPIO 17 is busy

Buttons are wired from the GPIO to GND and use the Pi's internal pull-up; an LED or
a buzzer is driven high to switch it on (see hardware/WIRING.md).
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any, Callable

from gpiozero import LED, Button, Buzzer, Device
from gpiozero.exc import BadPinFactory, GPIOPinInUse, PinFactoryFallback
from gpiozero.pins import Factory
from gpiozero.pins.mock import MockFactory

from hardware import pinmap
from antrian.errors import GPIOError

log = logging.getLogger(__name__)

MOCK_LINE = "running on mock pins (no GPIO found)"


def pin_factory() -> tuple[Factory, bool]:
    """(the pin factory to use, True if this call created it and so must close it).

    A factory already set on ``gpiozero.Device.pin_factory`` (a test's MockFactory)
    is used as it is.
    """
    if Device.pin_factory is not None:
        return Device.pin_factory, False
    name = os.environ.get("GPIOZERO_PIN_FACTORY")
    with warnings.catch_warnings(record=True) as fallbacks:
        warnings.simplefilter("always", PinFactoryFallback)
        try:
            # What gpiozero's first device would call; there is no public name for it.
            factory = Device._default_pin_factory()
        except BadPinFactory as exc:
            if name:
                raise GPIOError(f"GPIOZERO_PIN_FACTORY={name}: no such pin factory ({exc})") from None
            for w in fallbacks:
                log.debug("gpiozero: %s", w.message)
            model = board_model()
            if model:
                # On a real Pi, mock pins would be a panel that silently does nothing.
                raise GPIOError(f"no GPIO library works on this {model}: install lgpio "
                                "(pip install lgpio, or apt install python3-lgpio)") from None
            log.warning(MOCK_LINE)
            return MockFactory(), True
        except Exception as exc:  # the named library failed to start (e.g. lgpio off a Pi)
            raise GPIOError(f"GPIOZERO_PIN_FACTORY={name}: cannot use that pin factory: {exc}") from None
    for w in fallbacks:
        log.debug("gpiozero: %s", w.message)
    if isinstance(factory, MockFactory):
        log.warning("running on mock pins (GPIOZERO_PIN_FACTORY=%s)", name)
    else:
        log.info("GPIO pin factory: %s", type(factory).__name__)
    return factory, True


def board_model(path: str = "/proc/device-tree/model") -> str | None:
    """"Raspberry Pi 5 Model B Rev 1.0" on a Pi, None elsewhere."""
    try:
        with open(path, "rb") as f:
            model = f.read().rstrip(b"\0").decode("ascii", "replace").strip()
    except OSError:
        return None
    return model if model.startswith("Raspberry Pi") else None


def is_mock(factory: Factory) -> bool:
    return isinstance(factory, MockFactory)


def _build(make: Callable[[], Any], pin: int, what: str) -> Any:
    try:
        return make()
    except GPIOPinInUse:
        raise GPIOError(f"GPIO {pin} ({what}) is already in use by another device or program") from None
    except Exception as exc:  # each pin library has its own errors (lgpio.error 'GPIO busy', ...)
        raise GPIOError(f"GPIO {pin} ({what}): {type(exc).__name__}: {exc}") from None


def make_button(factory: Factory, spec: pinmap.Button, hold_time: float) -> Button:
    what = f"{spec.path}: {spec.counter} {spec.press} button"
    # bounce_time=None: debouncing is hardware.debounce's job (the mock ignores bounce_time).
    return _build(lambda: Button(spec.pin, pull_up=True, bounce_time=None, hold_time=hold_time,
                                 pin_factory=factory), spec.pin, what)


def make_led(factory: Factory, spec: pinmap.Output) -> LED:
    return _build(lambda: LED(spec.pin, pin_factory=factory), spec.pin, f"{spec.path}: {spec.counter} LED")


def make_buzzer(factory: Factory, spec: pinmap.Output) -> Buzzer:
    return _build(lambda: Buzzer(spec.pin, pin_factory=factory), spec.pin, f"{spec.path}: {spec.counter} buzzer")
