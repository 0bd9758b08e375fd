"""The dispatcher's queue from the store: the latest business day replayed, and the
tickets a site-file edit stranded withdrawn.

Events of a service or counter the site file no longer has are kept aside by the
engine (antrian/queue/state.py), never a crash. A history that cannot be -- a row
that is no event, or an event the tables refuse -- is `DatabaseUnusable`, naming the
file and the row: the dispatcher stops (the command exits 65, which systemd does not
restart on) and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import logging

from antrian.adapters.store import Store
from antrian.errors import DatabaseUnusable, TransitionError
from antrian.queue.engine import Engine
from antrian.site import Config

log = logging.getLogger("antrian.dispatcher")

BOOKING_MARGIN_DAYS = 2


def rebuild(config: Config, store: Store) -> Engine:
    """The engine as the store has it: the latest business day replayed."""
    engine = Engine(config)
    engine.last_seq = store.last_seq()
    day = store.latest_day()
    if day is None:
        return engine
    try:
        opened = dt.date.fromisoformat(day)
    except ValueError:
        raise DatabaseUnusable(f"{store.path}: the latest events row has the day {day!r}, which is not a date") \
            from None
    rows = store.rows(day)
    try:
        # The bookings a day before could still be open: booked up to the longest days_ahead
        # before, and a day's worth after for one that expires late.
        ahead = max((s.booking.days_ahead for s in config.services.values() if s.booking), default=0)
        since = (opened - dt.timedelta(days=ahead + BOOKING_MARGIN_DAYS)).isoformat()
        engine.bookings.load(store.booking_events(since, day))
        engine.replay(opened, [event for _, event in rows])
    except TransitionError as exc:
        where = f"events row {rows[exc.position][0]}" if exc.position is not None else f"the day {day}"
        raise DatabaseUnusable(f"{store.path}: {where}: {exc}") from None
    return engine


def withdraw_stranded(engine: Engine, store: Store, now: dt.datetime) -> None:
    """Withdraw the tickets still waiting or being served whose service, or the counter
    serving them, left the site file: stored first and then applied, so every later
    replay finds the same queue; one log line each."""
    outcome = engine.withdraw_stranded(now)
    if not outcome.events:
        return
    store.commit(outcome.events, [], day=engine.day)
    engine.apply_all(outcome.events)
    for event in outcome.events:
        log.warning("dispatcher: withdrew %s of %s: %s", event.number, engine.day, event.reason)
