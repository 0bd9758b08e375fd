"""The dispatcher's clock as a table of clock steps (issue 12, item 1): antrian/dispatcher/
clock.py's pure `read`, one row per situation a Pi's clock puts the dispatcher in, and a
few sequences through `DayClock` with its memory in a real store's meta table.

In the table a time is written "D 10:00" (D the business day, D-1 the day before, D+1
the day after), a non-stepping reading as (boot, seconds since boot)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from antrian.adapters.store import Store
from antrian.dispatcher import clock
from antrian.dispatcher.clock import DayClock, Memory, Steady

WITA = dt.timezone(dt.timedelta(hours=8))
D = dt.date(2026, 11, 24)
H = 3600.0


def day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    return D + dt.timedelta(days=int(text[1:] or 0))


def at(text: str) -> dt.datetime:
    """'D-1 17:00' or 'D 10:00:05' -> an aware time in WITA."""
    d, hm = text.split()
    return dt.datetime.combine(day(d), dt.time.fromisoformat(hm if hm.count(":") > 1 else hm + ":00"), WITA)


@dataclasses.dataclass
class Row:
    name: str
    day: str | None  # the engine's business day
    busy: bool  # citizens of that day waiting or being served
    memory: dict[str, Any]  # last, anchor, wall, steady: what the store/the process remembers
    wall: str  # the wall clock now
    steady: tuple[str, float] | None  # the non-stepping clock now
    stamp: str
    behind: bool = False
    opens: str | None = None
    anchor: str | None = None  # after the reading; default: the day opened, else the day
    corrected: bool = False


def _memory(m: dict[str, Any]) -> Memory:
    ref = m.get("steady")
    return Memory(last=at(m["last"]) if m.get("last") else None, anchor=day(m.get("anchor")),
                  wall=at(m["wall"]) if m.get("wall") else None, steady=Steady(*ref) if ref else None)


# The reference pair of the examples: a batch at 10:00 of day D, 1000 s after boot "b1".
REF = {"last": "D 10:00", "anchor": "D", "wall": "D 10:00", "steady": ("b1", 1000.0)}
LATE = {"last": "D 23:59:50", "anchor": "D", "wall": "D 23:59:50", "steady": ("b1", 1000.0)}

TABLE = [
    # -- the clock keeps pace -------------------------------------------------------------
    Row("the first batch ever opens the day of the clock", None, False, {}, "D 07:30", ("b1", 50.0),
        "D 07:30", opens="D"),
    Row("a minute later on the same day", "D", True, REF, "D 10:01", ("b1", 1060.0), "D 10:01"),
    Row("slewing: 1.5 s apart from the steady clock is no step", "D", True, REF, "D 10:01:01", ("b1", 1059.5),
        "D 10:01:01"),
    Row("an injected wall clock with no steady clock is trusted as it moves", "D", True, REF, "D+1 00:00:30",
        None, "D+1 00:00:30", opens="D+1"),
    # -- midnight in real time ---------------------------------------------------------------
    Row("a real midnight, nobody waiting: a new day", "D", False, LATE, "D+1 00:00:10", ("b1", 1020.0),
        "D+1 00:00:10", opens="D+1"),
    Row("a real midnight with citizens waiting (round the clock): a new day all the same", "D", True, LATE,
        "D+1 00:00:10", ("b1", 1020.0), "D+1 00:00:10", opens="D+1"),
    Row("restarted in the same boot after a night down: midnight passed in real time", "D", True, REF,
        "D+1 07:00", ("b1", 1000.0 + 21 * H), "D+1 07:00", opens="D+1"),
    # -- reboots: the time that passed is unknown, the wall clock is trusted --------------------
    Row("off overnight, booted with a right clock, yesterday's leftovers waiting: a new day", "D", True, REF,
        "D+1 07:30", ("b2", 40.0), "D+1 07:30", opens="D+1"),
    Row("booted with the clock saved at shutdown (the same date): the day goes on", "D", False, REF,
        "D 16:30", ("b2", 40.0), "D 16:30"),
    Row("restarted with the clock at yesterday: the stored day and stamp hold", "D", True, REF, "D-1 17:00",
        ("b2", 40.0), "D 10:00", behind=True),
    # -- forward steps -------------------------------------------------------------------
    Row("NTP steps forward across midnight with citizens waiting: a correction", "D-1", True,
        {"last": "D-1 17:40", "anchor": "D-1", "wall": "D-1 17:40", "steady": ("b1", 3000.0)},
        "D 08:41", ("b1", 3060.0), "D 08:41", anchor="D", corrected=True),
    Row("the same step with nobody waiting: the new day opens", "D-1", False,
        {"last": "D-1 17:40", "anchor": "D-1", "wall": "D-1 17:40", "steady": ("b1", 3000.0)},
        "D 08:41", ("b1", 3060.0), "D 08:41", opens="D"),
    Row("restarted by systemd in the same boot after that step: still a correction", "D-1", True,
        {"last": "D-1 17:40", "anchor": "D-1", "wall": "D-1 17:40", "steady": ("b1", 3000.0)},
        "D 08:45", ("b1", 3300.0), "D 08:45", anchor="D", corrected=True),
    Row("a step and a real midnight both (down 10 h in the same boot): the new day opens", "D-1", True,
        {"last": "D-1 17:40", "anchor": "D-1", "wall": "D-1 17:40", "steady": ("b1", 3000.0)},
        "D 18:00", ("b1", 3000.0 + 10 * H), "D 18:00", opens="D"),
    Row("a small forward step across midnight, citizens waiting: a correction too", "D", True, LATE,
        "D+1 00:20", ("b1", 1001.0), "D+1 00:20", anchor="D+1", corrected=True),
    Row("a forward step within the day changes no day", "D", True, REF, "D 13:00", ("b1", 1001.0), "D 13:00"),
    Row("after a correction the day goes on until the corrected date's midnight", "D-1", True,
        {"last": "D 15:00", "anchor": "D", "wall": "D 15:00", "steady": ("b1", 9000.0)},
        "D 23:59:59", ("b1", 9000.0 + 8 * H + 3599), "D 23:59:59", anchor="D"),
    Row("... and that midnight in real time opens the next day", "D-1", True,
        {"last": "D 23:59:59", "anchor": "D", "wall": "D 23:59:59", "steady": ("b1", 9000.0)},
        "D+1 00:00:01", ("b1", 9002.0), "D+1 00:00:01", opens="D+1"),
    # -- backward steps: the store does not follow ------------------------------------------------
    Row("three hours back within the day", "D", True,
        {"last": "D 11:45", "anchor": "D", "wall": "D 11:45", "steady": ("b1", 5000.0)},
        "D 08:45", ("b1", 5001.0), "D 11:45", behind=True),
    Row("back across midnight: the new day stays, no day is opened again", "D+1", True,
        {"last": "D+1 00:00:05", "anchor": "D+1", "wall": "D+1 00:00:05", "steady": ("b1", 5000.0)},
        "D 23:55", ("b1", 5001.0), "D+1 00:00:05", behind=True),
    Row("behind, the clock passes its own midnight: still the stored day", "D", True,
        {"last": "D 10:00", "anchor": "D", "wall": "D-1 23:59:59", "steady": ("b1", 5000.0)},
        "D 00:00:01", ("b1", 5002.0), "D 10:00", behind=True),
    Row("behind by less than a second is no problem, the stamp still holds", "D", True, REF, "D 09:59:59.500",
        ("b1", 1000.5), "D 10:00"),
    Row("caught up: no longer behind", "D", True,
        {"last": "D 11:45", "anchor": "D", "wall": "D 11:44:59", "steady": ("b1", 5000.0)},
        "D 11:45:01", ("b1", 5002.0), "D 11:45:01"),
    Row("a backward step then a forward one across midnight, citizens waiting: a correction", "D", True,
        {"last": "D 10:00", "anchor": "D", "wall": "D-1 17:00", "steady": ("b1", 5000.0)},
        "D+1 08:00", ("b1", 5060.0), "D+1 08:00", anchor="D+1", corrected=True),
    # -- a memory that lacks parts ------------------------------------------------------------
    Row("a database from before the meta table: the latest event is the floor", "D", True,
        {"last": "D 10:00"}, "D-1 17:00", ("b1", 40.0), "D 10:00", behind=True),
    Row("a stale anchor never takes a day back", "D", True,
        {"last": "D 10:00", "anchor": "D-2", "wall": "D 10:00", "steady": ("b1", 1000.0)},
        "D 10:01", ("b1", 1060.0), "D 10:01"),
]


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_the_table_of_clock_steps(row: Row):
    memory = _memory(row.memory)
    steady = Steady(*row.steady) if row.steady else None
    reading = clock.read(at(row.wall), steady, memory, day(row.day), row.busy)
    assert reading.stamp == at(row.stamp)
    assert reading.behind is row.behind
    assert reading.open_day == day(row.opens)
    assert reading.corrected is row.corrected
    assert reading.memory.anchor == day(row.anchor or row.opens or row.day)
    # The invariants whatever the row: time never goes back, nor does the day.
    if memory.last is not None:
        assert reading.stamp >= memory.last
    if row.day is not None and reading.open_day is not None:
        assert reading.open_day > day(row.day)
        assert reading.open_day == reading.stamp.date()  # a day never starts in the past
    assert reading.memory.anchor >= max(d for d in (memory.anchor, day(row.day), reading.open_day) if d)


def test_a_step_is_reported_with_its_size_and_a_reference_on_the_new_side():
    reading = clock.read(at("D 13:00"), Steady("b1", 1001.0), _memory(REF), D, True)
    assert reading.step == pytest.approx(3 * H - 1) and reading.must_store
    assert reading.memory.wall == at("D 13:00") and reading.memory.steady == Steady("b1", 1001.0)
    calm = clock.read(at("D 10:01"), Steady("b1", 1060.0), _memory(REF), D, True)
    assert calm.step == 0.0 and not calm.must_store
    assert clock.read(at("D 10:01"), Steady("b2", 5.0), _memory(REF), D, True).step is None


# -- DayClock: the memory through a real store ----------------------------------------------------


class Clocks:
    """A wall clock and a steady clock a test moves: `wait` moves both, `step` the wall only."""

    def __init__(self, wall: str, boot: str = "b1", seconds: float = 100.0):
        self.now, self.boot, self.seconds = at(wall), boot, seconds

    def wall(self) -> dt.datetime:
        return self.now

    def steady(self) -> Steady:
        return Steady(self.boot, self.seconds)

    def wait(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
        self.seconds += seconds

    def step(self, to: str) -> None:
        self.now = at(to)

    def reboot(self, wall: str) -> None:
        self.now, self.boot, self.seconds = at(wall), self.boot + "'", 30.0


def batch(days: DayClock, store: Store, engine_day: list, busy: bool, events: bool = True):
    """One batch as the dispatcher does it: read, open a day if due, commit with the meta."""
    reading = days.read(engine_day[0], busy)
    if reading.open_day is not None:
        engine_day[0] = reading.open_day
    stamped = events or reading.open_day is not None
    if stamped or reading.must_store:
        store.commit([], [], day=engine_day[0], meta=days.meta(reading, stamped))
    days.keep(reading, stamped, stored=stamped or reading.must_store)
    return reading


def reopen(path, tz=WITA) -> tuple[Store, Memory]:
    store = Store(path, tz)
    return store, clock.remembered(store.meta, None)


def test_boot_with_yesterdays_clock_then_ntp_jumps_to_today(tmp_path):
    """Yesterday D-1 ended at 16:00. The Pi boots (really D 07:30) with the clock saved at
    D-1 17:30; citizens take tickets; NTP reaches it at 08:40 and steps to D. They keep their
    day and numbers; the next real midnight opens D+1."""
    path = tmp_path / "antrian.db"
    c = Clocks("D-1 08:00")
    store, memory = reopen(path)
    days, engine_day = DayClock(c.wall, c.steady, memory), [None]
    assert batch(days, store, engine_day, busy=False).open_day == day("D-1")
    c.wait(8 * H)
    batch(days, store, engine_day, busy=False)  # the last ticket of D-1 at 16:00
    store.close()

    c.reboot("D-1 17:30")
    store, memory = reopen(path)
    assert memory.anchor == day("D-1") and memory.last == at("D-1 16:00")
    days = DayClock(c.wall, c.steady, memory)
    morning = batch(days, store, engine_day, busy=True)  # the morning's first ticket
    assert morning.open_day is None and morning.stamp == at("D-1 17:30") and not morning.behind
    c.wait(70 * 60)
    c.step("D 08:41")  # NTP
    jump = batch(days, store, engine_day, busy=True, events=False)
    assert jump.corrected and jump.open_day is None and engine_day == [day("D-1")]
    store.close()
    store, memory = reopen(path)  # the correction is stored at once, with no event to carry it
    assert memory.anchor == day("D") and memory.wall == at("D 08:41")

    days = DayClock(c.wall, c.steady, memory)  # restarted by systemd, same boot
    c.wait(60)
    assert batch(days, store, engine_day, busy=True).open_day is None
    c.step("D 23:59:58")  # the test's shortcut to the evening: a step, not across midnight
    assert batch(days, store, engine_day, busy=True).open_day is None
    c.wait(4)
    assert batch(days, store, engine_day, busy=True).open_day == day("D+1")
    store.close()


def test_behind_after_a_restart_then_caught_up(tmp_path):
    path = tmp_path / "antrian.db"
    c = Clocks("D 10:00")
    store, memory = reopen(path)
    days, engine_day = DayClock(c.wall, c.steady, memory), [None]
    batch(days, store, engine_day, busy=True)
    store.close()

    c.reboot("D 09:59:50")  # ten seconds behind the last event
    store, memory = reopen(path)
    days = DayClock(c.wall, c.steady, memory)
    first = batch(days, store, engine_day, busy=True)
    assert first.behind and first.stamp == at("D 10:00")
    c.wait(5)
    assert batch(days, store, engine_day, busy=True).stamp == at("D 10:00")  # never earlier
    c.wait(6)
    caught = batch(days, store, engine_day, busy=True)
    assert not caught.behind and caught.stamp == at("D 10:00:01")
    store.close()


def test_the_meta_table_holds_only_what_changed(tmp_path):
    c = Clocks("D 10:00")
    store, memory = reopen(tmp_path / "antrian.db")
    days, engine_day = DayClock(c.wall, c.steady, memory), [None]
    first = days.read(None, False)
    assert set(days.meta(first, True)) == set(clock.META_KEYS.values())
    store.commit([], [], day=first.open_day, meta=days.meta(first, True))
    days.keep(first, True, stored=True)
    c.wait(1)
    again = days.read(first.open_day, False)
    assert set(days.meta(again, True)) == {"clock_last", "clock_wall", "clock_since_boot"}
    assert days.meta(again, False).keys() == {"clock_wall", "clock_since_boot"}
    store.close()


def test_a_meta_value_that_cannot_be_read_is_left_out(caplog):
    memory = clock.remembered({"clock_last": "yesterday", "clock_anchor": "2026-11-24", "clock_boot": "b1",
                               "clock_since_boot": "x"}, at("D 10:00"))
    assert memory == Memory(last=at("D 10:00"), anchor=D, wall=None, steady=None)
    assert "clock_last" in caplog.text and "clock_since_boot" in caplog.text


def test_the_system_clocks_read():
    steady = clock.system_steady()
    first, second = steady(), steady()
    assert first.boot == second.boot and second.seconds >= first.seconds
