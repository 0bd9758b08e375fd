"""What the dispatcher publishes about tickets beyond the engine's own payloads: the
retained queue lists (``antrian/{site}/queue/{service}``) and the tickets' links.

:class:`QueueLists` lives beside the engine in the dispatcher:

- :meth:`bind` is given every engine rebuilt from the store (at start, and after a
  batch that could not be stored): it sets the engine's ``links`` when the site has
  a public app, and reads the current day's marks back from the store;
- :meth:`stored` takes each batch's events once they are stored (and says whether
  there were any): the marks the engine does not keep (when a ticket was marked
  absent, which service it was transferred from) and the services whose list the
  batch changed;
- :meth:`publish` puts those services' QueueLists (every service's on a forced
  republish: the start, a broker that came back, a new business day with its empty
  lists) through the dispatcher's ``put``, which sends only what changed. The
  dispatcher calls it before the counter states and the board, so a page that sees a
  ticket leave a counter already finds it in the list it went to (a no-show's
  ``recallable``, a transfer's new service).

QueueList: ``{"service", "waiting": [{"number", "priority", "issued_at", "booking",
"transferred_from"}], "recallable": [{"number", "no_show_at"}], "updated_at"}``, numbers
only (docs/protocol.md). ``booking`` is true for a checked-in booking (never its code,
which is the citizen's secret), else null.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Callable

from antrian import links, protocol
from antrian.adapters.store import Store
from antrian.errors import CredentialsError
from antrian.queue.engine import Engine, Event, iso
from antrian.queue.events import DayStarted, Issued, NoShow, Transferred
from antrian.site import Config

__all__ = ["QueueLists"]

log = logging.getLogger("antrian.dispatcher")

Put = Callable[[str, dict[str, Any]], None]


class QueueLists:
    """The queue lists of one site and the marks they need (see the module docstring)."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.site = config.site.id
        self.store = store
        self.links = _link_maker(config)
        self.day: dt.date | None = None
        self.no_show_at: dict[str, dt.datetime] = {}
        self.transferred_from: dict[str, str] = {}
        self.touched: set[str] = set()  # services, and numbers whose service is looked up at publish
        self.numbers: set[str] = set()

    def bind(self, engine: Engine) -> Engine:
        """Take a rebuilt engine: its links, and the marks of its day from the store."""
        engine.links = self.links
        self.day, self.no_show_at, self.transferred_from = engine.day, {}, {}
        if engine.day is not None:
            self.stored(self.store.events(engine.day.isoformat()))
        self.touched, self.numbers = set(), set()
        return engine

    def stored(self, events: list[Event]) -> bool:
        """Note the marks and the touched services of events that are now stored;
        whether there were any."""
        for event in events:
            if isinstance(event, DayStarted):
                self.day, self.no_show_at, self.transferred_from = event.day, {}, {}
            elif isinstance(event, NoShow):
                self.no_show_at[event.number] = event.at
            elif isinstance(event, Transferred):
                self.transferred_from[event.number] = event.from_service
                self.touched.add(event.from_service)
            if isinstance(event, Issued):
                self.touched.add(event.service)
            elif hasattr(event, "number"):
                self.numbers.add(event.number)
        return bool(events)

    def publish(self, put: Put, engine: Engine, now: dt.datetime, force: bool) -> None:
        """Put the QueueList of every service a stored event touched (all if *force*)."""
        if force:
            services = set(self.config.services)
        else:
            services = self.touched | {engine.ticket_service(n) for n in self.numbers if engine.knows_ticket(n)}
        self.touched, self.numbers = set(), set()
        stamp = iso(now, self.config.tz)
        for service, lists in sorted(engine.queue_lists(services).items()):
            put(protocol.queue_list(self.site, service), {
                "service": service,
                "waiting": [{**t, "transferred_from": self.transferred_from.get(t["number"])}
                            for t in lists["waiting"]],
                "recallable": [{"number": t["number"], "no_show_at": self._no_show_at(t["number"], now)}
                               for t in lists["recallable"]],
                "updated_at": stamp})

    def _no_show_at(self, number: str, now: dt.datetime) -> str:
        return iso(self.no_show_at.get(number, now), self.config.tz)


def _link_maker(config: Config) -> Callable[[str, str], str] | None:
    """(day, number) -> the ticket's live page, when the site names a public_url. A site
    secret that cannot be read leaves tickets without a link (the queue goes on) and
    says so once in the journal."""
    base = links.public_url(config)
    if base is None:
        return None
    try:
        secret = links.site_secret(config)
    except CredentialsError as exc:
        log.error("dispatcher: tickets carry no link to their live page: %s", exc)
        return None
    site = config.site.id
    return lambda day, number: links.ticket_link(base, secret, site, day, number)
