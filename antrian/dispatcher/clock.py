"""The dispatcher's clock: time only moves forward in the store (issue 12, item 1).

A Raspberry Pi has no battery clock. It boots with the last time it saved until a time
server answers, and chrony then steps the clock, either way, by seconds or by days. The
store must not follow those steps back: an event earlier than the one before it, a day
opened in the past or a number given twice in a day is what went wrong before.

Per batch the dispatcher takes one `Reading` (`read`, pure; `DayClock.read` gives it
the clocks and the memory):

- `stamp`: the time on every event, reply and survey of the batch: the wall clock, but
  never earlier than the latest stamp stored (`max(wall, last)`);
- `behind`: the wall clock is more than `BEHIND_SECONDS` earlier than that stamp: the
  dispatcher's status problem `clock_behind`;
- `open_day`: the business day to open before the batch (a `DayStarted`), or None.

The day never goes back: a day opens only when the local date of the stamp is after the
current day's *anchor* (normally the day itself). Whether the date moved on by the
passage of time or by a step of the clock is told with a clock that does not step: the
wall clock is compared with CLOCK_BOOTTIME since the reference reading (the previous
batch in this process; across a restart in the same boot, the one stored with the last
batch and its boot id). After a reboot the time that passed is unknown and the wall
clock is trusted. A forward step across midnight while citizens of the current day are
waiting or being served is a correction, not a new day: the day (its label and its
numbering) goes on and the anchor moves to the corrected date, so the next day starts
at the next midnight. A midnight passed in real time opens the new day whoever waits
(yesterday's leftovers; a service open round the clock). docs/operations.md, section 12
"The clock", says the rule for technicians.

What this needs kept lives in the store's `meta` table, written in the batch's
transaction (`DayClock.meta`, keys `META_KEYS`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Mapping

log = logging.getLogger("antrian.dispatcher")

# Behind by more than this is `clock_behind`; less is jitter (the stamp still holds).
BEHIND_SECONDS = 1.0
# The wall clock is said to have stepped when it moved more than this apart from the
# clock that does not step: a fixed part, plus a share of the time between the two
# readings for slewing (chrony slews at most 8.3 %, usually far less; a step is hours).
STEP_SECONDS = 2.0
STEP_RATE = 0.01
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")

META_KEYS = {"last": "clock_last", "anchor": "clock_anchor", "wall": "clock_wall", "boot": "clock_boot",
             "since_boot": "clock_since_boot"}


@dataclasses.dataclass(frozen=True)
class Steady:
    """A reading of a clock that does not step: `seconds` since `boot` (the boot id, or
    a token of this process when the boot cannot be told)."""

    boot: str
    seconds: float


@dataclasses.dataclass(frozen=True)
class Memory:
    """What the clock remembers: the latest stamp stored (`last`), the date the business
    day is anchored to (`anchor`), and the reference pair -- a wall reading and the
    non-stepping reading taken with it -- the next reading is compared with."""

    last: dt.datetime | None = None
    anchor: dt.date | None = None
    wall: dt.datetime | None = None
    steady: Steady | None = None


@dataclasses.dataclass(frozen=True)
class Reading:
    """One batch's time. `memory` is the clock's memory once the batch is kept."""

    stamp: dt.datetime
    wall: dt.datetime
    behind: bool
    open_day: dt.date | None
    step: float | None  # seconds the wall clock stepped since the reference (+ forward); None: unknown
    corrected: bool  # a forward step across midnight that kept the business day
    memory: Memory

    @property
    def stepped(self) -> bool:
        return self.step is not None and self.step != 0.0

    @property
    def must_store(self) -> bool:
        """Whether the memory must reach the store with this batch even if it has nothing
        else: after a step (the stored reference must be on the new side of it) and when
        the anchor moved."""
        return self.stepped or self.corrected


def read(wall: dt.datetime, steady: Steady | None, memory: Memory, day: dt.date | None, busy: bool) -> Reading:
    """The Reading for a batch, from the wall clock (`wall`, aware, in the site's zone),
    the non-stepping clock (`steady`, None if there is none), the clock's `memory`, the
    engine's business `day` (None before the first) and whether citizens of that day are
    still waiting or being served (`busy`). Pure: the same inputs, the same Reading."""
    last = memory.last
    stamp = wall if last is None or wall >= last else last.astimezone(wall.tzinfo)
    behind = last is not None and (last - wall).total_seconds() > BEHIND_SECONDS
    step = _step(wall, steady, memory)
    anchor = max((d for d in (memory.anchor, day) if d is not None), default=None)
    date = stamp.date()
    open_day, corrected = None, False
    if day is None:
        open_day = date if anchor is None else max(date, anchor)
    elif date > anchor:
        # Would the date have moved past the anchor without the step? Then midnight passed
        # in real time and the day changes; if only the step carried it over, the citizens
        # waiting keep their day.
        if step is not None and step > 0 and busy:
            unstepped = wall - dt.timedelta(seconds=step)
            if last is not None and unstepped < last:
                unstepped = last
            corrected = unstepped.astimezone(wall.tzinfo).date() <= anchor
        if not corrected:
            open_day = date
    new_anchor = open_day if open_day is not None else (date if corrected else anchor)
    kept = Memory(last=stamp, anchor=new_anchor, wall=wall, steady=steady)
    return Reading(stamp, wall, behind, open_day, step, corrected, kept)


def _step(wall: dt.datetime, steady: Steady | None, memory: Memory) -> float | None:
    """How far the wall clock stepped since the reference reading (0.0: it kept pace
    within the tolerance), or None when the time that passed is unknown (no reference,
    another boot, no non-stepping clock)."""
    then, ref = memory.wall, memory.steady
    if steady is None or ref is None or then is None or steady.boot != ref.boot or steady.seconds < ref.seconds:
        return None
    elapsed = steady.seconds - ref.seconds
    step = (wall - then).total_seconds() - elapsed
    return step if abs(step) > STEP_SECONDS + STEP_RATE * elapsed else 0.0


# -- the clocks themselves, and the memory in the store ----------------------------------------


def system_steady() -> Callable[[], Steady]:
    """The machine's non-stepping clock: CLOCK_BOOTTIME with this boot's id. Where the
    boot id cannot be read the boot is this process (a restart then trusts the wall
    clock); where there is no CLOCK_BOOTTIME, time.monotonic within this process."""
    try:
        boot = BOOT_ID.read_text(encoding="ascii").strip() or None
    except OSError:
        boot = None
    which = getattr(time, "CLOCK_BOOTTIME", None)
    if boot is None or which is None:
        process = f"process-{uuid.uuid4().hex}"
        return lambda: Steady(process, time.monotonic())
    return lambda: Steady(boot, time.clock_gettime(which))


def remembered(meta: Mapping[str, Any], latest: dt.datetime | None) -> Memory:
    """The memory as the store keeps it: its meta table (`META_KEYS`), and the time of its
    latest event (`latest`), which is the floor when the meta table has none (a database
    from before it existed, or a batch stored without it). A value that cannot be read
    is left out with a log line: the clock then knows less, which only trusts the wall
    clock more."""
    def value(name: str, parse: Callable[[Any], Any]) -> Any:
        raw = meta.get(META_KEYS[name])
        if raw is None:
            return None
        try:
            return parse(raw)
        except (TypeError, ValueError):
            log.warning("dispatcher: the meta table's %s is %r, which is not what the clock stored; ignored",
                        META_KEYS[name], raw)
            return None

    def moment(raw: Any) -> dt.datetime:
        at = dt.datetime.fromisoformat(raw)
        if at.tzinfo is None:
            raise ValueError("no zone")
        return at

    last = value("last", moment)
    if latest is not None and (last is None or latest > last):
        last = latest
    boot, since = value("boot", str), value("since_boot", float)
    return Memory(last=last, anchor=value("anchor", dt.date.fromisoformat), wall=value("wall", moment),
                  steady=Steady(boot, since) if boot is not None and since is not None else None)


def meta_of(memory: Memory) -> dict[str, str | float | None]:
    """The meta table's keys for `memory` (None: the key is removed)."""
    return {META_KEYS["last"]: memory.last.isoformat() if memory.last else None,
            META_KEYS["anchor"]: memory.anchor.isoformat() if memory.anchor else None,
            META_KEYS["wall"]: memory.wall.isoformat() if memory.wall else None,
            META_KEYS["boot"]: memory.steady.boot if memory.steady else None,
            META_KEYS["since_boot"]: memory.steady.seconds if memory.steady else None}


class DayClock:
    """The dispatcher's clock: a `Reading` per batch from the wall clock (`wall`) and the
    non-stepping one (`steady`; None: none, the wall clock is trusted as it moves, which
    is what a test's injected clock means), and the memory it keeps in the store."""

    def __init__(self, wall: Callable[[], dt.datetime], steady: Callable[[], Steady] | None, memory: Memory):
        self._wall, self._steady = wall, steady
        self.memory = memory
        self._stored = meta_of(memory)  # what the meta table holds, as far as this clock wrote it
        self._behind = False

    def stamp(self) -> dt.datetime:
        """A stamp outside the batches (the withdrawals at start): never before the last;
        `stamped` must be told once it is stored."""
        wall = self._wall()
        last = self.memory.last
        return wall if last is None or wall >= last else last.astimezone(wall.tzinfo)

    def stamped(self, at: dt.datetime) -> None:
        if self.memory.last is None or at > self.memory.last:
            self.memory = dataclasses.replace(self.memory, last=at)

    def read(self, day: dt.date | None, busy: bool) -> Reading:
        reading = read(self._wall(), self._steady() if self._steady else None, self.memory, day, busy)
        self._log(reading)
        return reading

    def meta(self, reading: Reading, stamped: bool) -> dict[str, str | float | None]:
        """The meta keys to write with the batch of `reading` (only those that change);
        `stamped`: the batch stores something carrying the reading's stamp."""
        wanted = meta_of(self._kept(reading, stamped))
        return {k: v for k, v in wanted.items() if self._stored.get(k) != v}

    def keep(self, reading: Reading, stamped: bool, stored: bool) -> None:
        """The batch of `reading` is done: `stamped` as for `meta`; `stored`: its meta keys
        were committed. Not called for a batch whose commit failed, whose events are gone:
        the next reading decides again from the same memory."""
        self.memory = self._kept(reading, stamped)
        if stored:
            self._stored = meta_of(self.memory)

    def _kept(self, reading: Reading, stamped: bool) -> Memory:
        last = reading.stamp if stamped else self.memory.last
        if self.memory.last is not None and (last is None or self.memory.last > last):
            last = self.memory.last
        return dataclasses.replace(reading.memory, last=last)

    def _log(self, r: Reading) -> None:
        if r.stepped:
            log.warning("dispatcher: the clock stepped %+.0f s (now %s)", r.step, r.wall.isoformat(timespec="seconds"))
        if r.corrected:
            log.warning("dispatcher: the clock stepped across midnight while citizens are waiting: a correction, "
                        "not a new day; the business day goes on and the next one starts after midnight of %s",
                        r.memory.anchor)
        if r.behind != self._behind:
            self._behind = r.behind
            if r.behind:
                log.warning("dispatcher: the clock (%s) is %.0f s behind the last stored event (%s): events are "
                            "stamped %s until it catches up (clock_behind)", r.wall.isoformat(timespec="seconds"),
                            (r.stamp - r.wall).total_seconds(), r.stamp.isoformat(timespec="seconds"),
                            r.stamp.isoformat(timespec="seconds"))
            else:
                log.warning("dispatcher: the clock is no longer behind the store (%s)",
                            r.wall.isoformat(timespec="seconds"))
