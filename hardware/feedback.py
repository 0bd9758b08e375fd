"""What a counter's LED and buzzer say, as data; pure, with the time passed in.

The officer has one LED per counter and perhaps a buzzer, no screen. The LED is

- steady on while the counter serves a ticket (from the retained counter state,
  so it is right again after a reconnect or a reboot), off otherwise;
- blinking 0.5 s on / 0.5 s off, without end, while the broker (or the dispatcher)
  cannot be reached: presses are then held back (see hardware.outbox);
- a short pattern after a refused press or a dropped one, then back to the above.
  Every pattern starts and ends dark so it is seen on a lit LED too:

  =================  =========================================  ======================
  pattern            meaning                                    looks like
  =================  =========================================  ======================
  ``queue_empty``    NEXT pressed, nobody is waiting            2 short blinks
  ``not_serving``    RECALL/NO-SHOW/FINISH with no ticket       3 short blinks
  ``recall_limit``   the ticket was recalled too often          4 short blinks
  ``counter_closed`` the counter is closed: open it first       2 long blinks
  ``press_dropped``  a press waited too long for the broker     3 long blinks
  ``error``          any other refusal (bad number, ...)        6 fast blinks
  ``unreachable``    broker or dispatcher down (repeats)        0.5 s on / 0.5 s off
  =================  =========================================  ======================

The buzzer beeps once (``beep``) when a press was accepted.

    lamp = Lamp()
    lamp.serving = True
    lamp.play("queue_empty", now)
    lit, wake = lamp.level(now + 0.1)   # lit now?, and when to look again
"""

from __future__ import annotations

from typing import Mapping

Steps = tuple[tuple[bool, float], ...]  # (lit, seconds), in order


def blinks(count: int, on: float, off: float, gap: float = 0.4) -> Steps:
    """`count` blinks of `on` seconds, `off` apart, with `gap` seconds dark before and after."""
    steps: list[tuple[bool, float]] = [(False, gap)]
    for i in range(count):
        steps.append((True, on))
        steps.append((False, off if i < count - 1 else gap))
    return tuple(steps)


PATTERNS: Mapping[str, Steps] = {
    "queue_empty": blinks(2, 0.15, 0.2),
    "not_serving": blinks(3, 0.15, 0.2),
    "recall_limit": blinks(4, 0.15, 0.2),
    "counter_closed": blinks(2, 0.6, 0.3),
    "press_dropped": blinks(3, 0.6, 0.3),
    "error": blinks(6, 0.07, 0.07),
}
UNREACHABLE: Steps = ((True, 0.5), (False, 0.5))  # repeats while the link is down
BEEP: Steps = ((True, 0.08),)


def pattern_for(code: str) -> str:
    """The LED pattern for a reply's error code (``error`` for codes without their own)."""
    return code if code in PATTERNS else "error"


def duration(steps: Steps) -> float:
    return sum(seconds for _, seconds in steps)


def _at(steps: Steps, elapsed: float) -> tuple[bool, float]:
    """Level at `elapsed` seconds into `steps`, and the seconds until it changes."""
    for lit, seconds in steps:
        if elapsed < seconds:
            return lit, seconds - elapsed
        elapsed -= seconds
    return steps[-1][0], 0.0


class Lamp:
    """The state behind one LED: what it shows at a given moment.

    serving: a ticket is being served (steady on).
    link_down: the broker or the dispatcher is unreachable (repeating blink).
    """

    def __init__(self) -> None:
        self.serving = False
        self.link_down = False
        self._down_since = 0.0
        self._pattern: Steps | None = None
        self._pattern_since = 0.0

    def set_link_down(self, down: bool, now: float) -> None:
        if down and not self.link_down:
            self._down_since = now
        self.link_down = down

    def play(self, name: str, now: float) -> None:
        """Play a one-shot pattern from PATTERNS now (a running one is replaced)."""
        self._pattern, self._pattern_since = PATTERNS[name], now

    @property
    def playing(self) -> bool:
        return self._pattern is not None

    def level(self, now: float) -> tuple[bool, float | None]:
        """(lit, seconds until the level may change, or None if it will not by itself)."""
        if self._pattern is not None:
            elapsed = now - self._pattern_since
            if elapsed < duration(self._pattern):
                return _at(self._pattern, elapsed)
            self._pattern = None
        if self.link_down:
            return _at(UNREACHABLE, (now - self._down_since) % duration(UNREACHABLE))
        return self.serving, None


class Beeper:
    """The state behind one buzzer: a beep is a one-shot pattern, silent otherwise."""

    def __init__(self) -> None:
        self._since: float | None = None

    def beep(self, now: float) -> None:
        self._since = now

    def level(self, now: float) -> tuple[bool, float | None]:
        if self._since is not None:
            elapsed = now - self._since
            if elapsed < duration(BEEP):
                return _at(BEEP, elapsed)
            self._since = None
        return False, None
