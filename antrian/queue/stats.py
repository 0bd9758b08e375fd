"""The business day's totals per service, from the engine's state: the retained Stats
payload (docs/protocol.md, "Day totals") that the head's dashboard shows.

What a browser cannot work out from the other retained messages is counted here:
tickets issued, first calls and how many of them came after the service's target
wait, tickets served and tickets marked absent. The live part (who waits now and for
how long) is in the QueueList of each service; the dashboard adds the two.

- ``issued`` and ``called`` and ``over_target`` count a ticket in the service it was
  issued for; ``called`` is a ticket's first call (a recall or a call after a
  transfer is no new call), ``over_target`` a first call later than the service's
  ``target_wait_min`` after the ticket was issued.
- ``served`` and ``no_show`` count a ticket in the service that served it (after a
  transfer: the new one) by its status now: a ticket called back after being marked
  absent is no longer a no-show.

One pass over the day's tickets (a few thousand at most) per batch that changed the
queue; nothing here changes the state.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from antrian.queue.rules import T, iso

if TYPE_CHECKING:
    from antrian.queue.engine import Engine

__all__ = ["day_stats"]

FIELDS = ("issued", "called", "over_target", "served", "no_show")


def day_stats(engine: Engine, now: dt.datetime) -> dict[str, Any]:
    """The Stats payload of the engine's current business day."""
    services = engine.config.services
    totals = {code: dict.fromkeys(FIELDS, 0) for code in services}
    for code in services:
        totals[code]["issued"] = engine.issued_count(code)
    for t in engine.tickets.values():
        origin = totals.get(t.origin)
        if origin is not None and t.first_called_at is not None:
            origin["called"] += 1
            target = services[t.origin].target_wait_min * 60
            if (t.first_called_at - t.issued_at).total_seconds() > target:
                origin["over_target"] += 1
        here = totals.get(t.service)
        if here is not None and t.status == T.SERVED:
            here["served"] += 1
        elif here is not None and t.status == T.NO_SHOW:
            here["no_show"] += 1
    return {"business_day": engine.day.isoformat() if engine.day else None, "services": totals,
            "updated_at": iso(now, engine.tz)}
