"""What the dispatcher publishes after each batch: the retained messages (queue lists,
counter states, board, stats, catalog, its own status), each only when its content
changed, and the calls and replies as they are.

:class:`Publisher` keeps what was last sent on each retained topic (without its
``updated_at``), so a batch that changed nothing sends nothing; a forced republish (the
start, a broker that came back, a new business day) sends everything again.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, Callable

from antrian import protocol
from antrian.queue.engine import Engine
from antrian.queue.events import Event, Issued
from antrian.queue.stats import day_stats
from antrian.site import Config

__all__ = ["Publisher", "TICK_SECONDS"]

TICK_SECONDS = 1.0
# quota_left changes with every ticket; a catalog per ticket would be noise, so small
# changes wait this long while opening, closing and a quota running out go at once.
CATALOG_THROTTLE_SECONDS = 5.0


def _without_time(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "updated_at"}


class Publisher:
    """The dispatcher's outgoing side: `client` gives the paho client (or None, offline)."""

    def __init__(self, config: Config, device_id: str, client: Callable[[], Any]) -> None:
        self.config = config
        self.site = config.site.id
        self.device_id = device_id
        self.client = client
        self.published: dict[str, dict[str, Any]] = {}
        self._catalog_at = 0.0
        self._catalog_checked = 0.0

    def raw(self, topic: str, payload: bytes, retain: bool = False):
        client = self.client()
        if not payload or client is None:
            return None
        return client.publish(topic, payload, qos=protocol.QOS, retain=retain)

    def state(self, engine: Engine, queues, status: Callable[[dt.datetime], dict[str, Any]],
              now: dt.datetime, *, force: bool, changed: bool, quota_hit: bool = False) -> list[tuple[str, bytes]]:
        """Publish the retained messages whose content changed (all of them if `force`)."""
        sent = []

        def put(topic: str, payload: dict[str, Any]) -> None:
            key = _without_time(payload)
            if force or self.published.get(topic) != key:
                self.published[topic] = key
                data = protocol.encode(payload)
                self.raw(topic, data, retain=True)
                sent.append((topic, data))

        if force or changed:
            queues.publish(put, engine, now, force)  # before the states: queues.py
            for counter in self.config.counters:
                put(protocol.counter_state(self.site, counter), engine.counter_state(counter, now))
            put(protocol.board(self.site), engine.board(now))
            put(protocol.stats(self.site), day_stats(engine, now))
        # The catalog changes with the clock (hours) and with quotas: look at it once a
        # second, and at once when a ticket was the last of its quota.
        if force or quota_hit or time.monotonic() - self._catalog_checked >= TICK_SECONDS:
            self._catalog_checked = time.monotonic()
            catalog = engine.catalog(now)
            topic = protocol.catalog(self.site)
            last = self.published.get(topic)
            if force or last is None or _openings(last) != _openings(catalog) or (
                    last != catalog and time.monotonic() - self._catalog_at >= CATALOG_THROTTLE_SECONDS):
                self._catalog_at = time.monotonic()
                put(topic, catalog)
        if force:
            put(protocol.status(self.site, self.device_id), status(now))
        return sent


def last_of_quota(config: Config, engine: Engine, event: Event) -> bool:
    """Whether *event* issued the last walk-in ticket of its service's quota."""
    if not isinstance(event, Issued) or event.service not in config.services:
        return False
    quota = engine.walk_in_quota(event.service, event.at)  # the walk-ins' part, what the kiosk offers
    return quota is not None and engine.walk_ins(event.service) >= quota


def _openings(catalog: dict[str, Any]) -> list[tuple[str, bool, Any]]:
    return [(s["code"], s["open"], s["closed_reason"]) for a in catalog["agencies"] for s in a["services"]]
