"""The presses a panel has made and not yet seen answered; pure, the clock injected.

What happens to a press when the broker is down (DESIGN.md: "no press is
silently lost"), decided here and documented in hardware/WIRING.md:

1. Every press gets a unique id when it is made, and keeps it.
2. While the link is up (broker connected, dispatcher not known to be offline) a
   press is published at once; while it is down the press waits here.
3. When the link comes back, every press without a reply -- waiting, or published
   but unanswered because the link broke -- is published again *with its original
   id*, oldest first. The dispatcher answers a repeated id with its first reply and
   changes nothing, so a press is never applied twice.
4. ...unless it is older than ``max_age`` seconds (the site file's
   ``max_press_age``, 10 s by default): then it is dropped, and the counter's LED
   plays ``press_dropped``. A "next" pressed a minute ago must not call a citizen
   now; the officer presses again.
5. At most ``limit`` presses wait per counter; older ones are dropped first.

A press already handed to the broker cannot be taken back: if the dispatcher was
down, it is applied when the dispatcher comes back.

    box = Outbox(max_age=10, clock=clock)
    press = box.add("loket1", "call_next")      # publish it if the link is up
    box.answered(press.id)                      # the reply came
    resend, dropped = box.flush()               # on reconnect
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any, Callable

LIMIT = 20  # per counter
FORGET_AFTER = 600.0  # seconds: an unanswered press is not kept for ever


@dataclasses.dataclass(frozen=True)
class Press:
    id: str
    counter: str
    action: str
    args: dict[str, Any]
    at: float  # clock time of the press

    def payload(self) -> dict[str, Any]:
        """The command of the wire contract: ``{"id", "action", ...}``."""
        return {"id": self.id, "action": self.action, **self.args}


def new_id(device: str) -> str:
    """A unique message id (at most 57 characters: a device id has at most 32)."""
    return f"{device}-{uuid.uuid4().hex[:24]}"


class Outbox:
    """Presses not yet answered, oldest first. Not thread-safe: the panel holds its lock."""

    def __init__(self, device: str = "panel", *, max_age: float = 10.0, limit: int = LIMIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.device = device
        self.max_age = max_age
        self.limit = limit
        self.clock = clock
        self._presses: dict[str, Press] = {}

    def __len__(self) -> int:
        return len(self._presses)

    def __contains__(self, press_id: object) -> bool:
        return press_id in self._presses

    def pending(self) -> list[Press]:
        return list(self._presses.values())

    def add(self, counter: str, action: str, args: dict[str, Any] | None = None) -> tuple[Press, list[Press]]:
        """Record a new press; returns it and any presses pushed out by the per-counter limit."""
        press = Press(new_id(self.device), counter, action, dict(args or {}), self.clock())
        self._presses[press.id] = press
        same = [p for p in self._presses.values() if p.counter == counter]
        pushed = same[:-self.limit] if len(same) > self.limit else []
        for p in pushed:
            del self._presses[p.id]
        return press, pushed

    def answered(self, press_id: str) -> Press | None:
        """The press this reply answers (removed), or None if it is not one of ours."""
        return self._presses.pop(press_id, None)

    def flush(self) -> tuple[list[Press], list[Press]]:
        """On a link that came back: (presses to publish again, presses dropped as too old)."""
        now = self.clock()
        resend, dropped = [], []
        for press in list(self._presses.values()):
            if now - press.at > self.max_age:
                dropped.append(self._presses.pop(press.id))
            else:
                resend.append(press)
        return resend, dropped

    def forget_old(self) -> list[Press]:
        """Drop presses nobody answered for FORGET_AFTER seconds (the link was up all along)."""
        now = self.clock()
        old = [p for p in self._presses.values() if now - p.at > FORGET_AFTER]
        for p in old:
            del self._presses[p.id]
        return old
