"""Debounce for one call button, pure: the clock is injected, nothing here touches a pin.

A mechanical push button does not close once: its contact bounces for a few
milliseconds, and gpiozero reports every bounce as a press and a release. Its own
``bounce_time`` is not used (the mock pin factory ignores it, so it could not be
tested); this is the project's own, leading-edge debounce:

- the first press edge counts at once (no added latency), and any press edge within
  ``window`` seconds of it does not: a bouncing contact or an officer's double press
  sends one command; a deliberate press after the window sends another;
- a release edge within ``SETTLE`` seconds of the accepted press is taken for a
  bounce. The caller then looks at the pin again ``SETTLE`` seconds after the press
  (:meth:`Debouncer.settled`), so a very short tap still ends;
- a press edge within ``SETTLE`` seconds of a release edge is the release
  bouncing, however long the button was held: never a new press.

The end of a press matters for a button with a hold action: a short press sends
its action on release, a long one its hold action (see hardware.panel).

    d = Debouncer(window=0.3, clock=clock)
    d.press()       # True: a new press
    d.press()       # False: a bounce inside the window
    d.release()     # Release.BOUNCE: too soon; call d.settled(is_pressed) at d.settle_at
"""

from __future__ import annotations

import enum
import time
from typing import Callable

WINDOW = 0.3  # seconds: presses closer than this to the last accepted one are one press
SETTLE = 0.03  # seconds: contacts bounce for 1-20 ms; a finger rests far longer than this


class Release(enum.Enum):
    END = "end"  # the press has ended
    BOUNCE = "bounce"  # too soon after the press: check the pin again at settle_at
    IGNORED = "ignored"  # no press in progress (its press edge was a bounce)


class Debouncer:
    """The press/release state of one button.

    window: seconds after an accepted press in which further presses are bounces.
    settle: seconds after a press before a release is believed.
    clock: a monotonic clock in seconds (time.monotonic unless a test passes its own).
    """

    def __init__(self, window: float = WINDOW, *, settle: float = SETTLE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if window < settle:
            raise ValueError(f"debounce window {window} s is shorter than the settle time {settle} s")
        self.window = window
        self.settle = settle
        self.clock = clock
        self._accepted: float | None = None  # when the last accepted press began
        self._released: float | None = None  # the last release edge
        self._down = False

    @property
    def is_down(self) -> bool:
        """True between an accepted press and its (believed) release."""
        return self._down

    @property
    def settle_at(self) -> float:
        """Clock time at which a bounced release should be checked with :meth:`settled`."""
        return (self._accepted or 0.0) + self.settle

    def press(self) -> bool:
        """A press edge; True if it begins a new press."""
        now = self.clock()
        if self._released is not None and now - self._released < self.settle:
            return False
        if self._accepted is not None and now - self._accepted < self.window:
            return False
        if self._down:
            # Past the window yet still "down": the release of the last press was
            # missed (a release edge lost by the GPIO driver). This is a new press.
            self._down = False
        self._accepted, self._down = now, True
        return True

    def release(self) -> Release:
        """A release edge."""
        now = self._released = self.clock()
        if not self._down:
            return Release.IGNORED
        if now - (self._accepted or 0.0) < self.settle:
            return Release.BOUNCE
        self._down = False
        return Release.END

    def settled(self, is_pressed: bool) -> bool:
        """After a BOUNCE, once the contact has settled: True if the press has ended."""
        if self._down and not is_pressed:
            self._down = False
            return True
        return False
