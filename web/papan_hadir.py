"""Which TVs show each browser board: its presence, said in the staff app's own status.

A browser board (``role: display`` with ``browser: true``) is a page of this app
(web/papan.py), not a client of the broker, so nothing on the broker would say that a
TV shows it. :class:`Presence` counts the pages of each board and puts them in the
app's own retained DeviceStatus, as ``boards`` (antrian.protocol.browser_board): how
many pages show each board, since when, their addresses; with none, when the last one
went. The app's will is its plain "offline", so a killed app takes its boards with it.

- A page is one tab of a TV's browser, named by the id papan.js keeps in its
  sessionStorage and sends with its stream (``?tv=``): an SSE reconnect or a reload
  comes back under the same id and is counted once. A stream without an id (a page
  still running the papan.js of before, which no upgrade reloads; a script) is a page
  of its own, counted while it is open: it answers no keep-alive, so it is never dropped
  as silent.
- A page with no open stream stays counted for GRACE seconds (the browser reconnects
  after 2 s, a reload takes a few), so a reconnect does not flap the status.
- A page says it is alive on every keep-alive of its stream (``POST
  /papan/<device>/hadir``, every 15 s). One silent for STALE seconds has its stream
  ended and is dropped at once: a TV switched off leaves a TCP connection the server
  may keep writing to for a quarter of an hour.
- The status is published again at most once a TICK, and only when what it says changed.

:func:`board_statuses` is the other side, for the dashboard (web/dasbor.py): the
browser boards' statuses made from the site's web apps' statuses.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from antrian import protocol
from antrian.tools.broker_files.boards import browser_boards

if TYPE_CHECKING:
    from antrian.site import Config
    from web.app import Web
    from web.hub import Listener

__all__ = ["GRACE", "STALE", "TICK", "Presence", "board_statuses", "page_id"]

GRACE = 10.0  # s a page without a stream is still counted (an SSE reconnect, a reload)
STALE = 40.0  # s a page may stay silent (two keep-alives and a margin) before it is dropped
TICK = 1.0  # s between the checks (and at most one new status per tick)
PAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,40}")


def page_id(value: str | None) -> str | None:
    """The page's id as papan.js sends it, or None for a missing or odd one."""
    return value if isinstance(value, str) and PAGE_ID.fullmatch(value) else None


@dataclasses.dataclass
class _Page:
    board: str
    address: str | None
    alive: float  # monotonic: the last sign of life (its stream opened, a keep-alive answered)
    seen: str  # the same moment as the site's wall time, for last_seen
    named: bool  # it sent its id, so it answers the keep-alives
    listeners: set[Any] = dataclasses.field(default_factory=set)
    gone: float | None = None  # monotonic: when its last stream closed


class Presence:
    """The pages of this app's browser boards, and the ``boards`` of its status."""

    def __init__(self, web: Web) -> None:
        self.config = web.config
        self.hub = web.hub
        self.boards = browser_boards(web.config)
        self._lock = threading.Lock()  # fields() is also read on paho's thread (the status on a reconnect)
        self._pages: dict[tuple[str, str], _Page] = {}
        self._since: dict[str, str | None] = {b: None for b in self.boards}
        self._last_seen: dict[str, str | None] = {b: None for b in self.boards}
        self._said: dict[str, Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._anonymous = 0
        self.hub.status.extra = self.fields

    # -- the pages (on the event loop) ---------------------------------------------------

    def opened(self, board: str, page: str | None, address: str | None, listener: Listener) -> Callable[[], None]:
        """A stream of *page* on *board* starts; the function to call when it ends."""
        if page is None:
            self._anonymous += 1
            page = f"~{self._anonymous}"  # never a page_id: a stream without an id is a page of its own
        key = (board, page)
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                if not any(p.board == board for p in self._pages.values()):
                    self._since[board] = self._wall()
                found = self._pages[key] = _Page(board, address, time.monotonic(), self._wall(),
                                                 not page.startswith("~"))
            found.listeners.add(listener)
            found.address, found.alive, found.seen, found.gone = address, time.monotonic(), self._wall(), None
        self._schedule()

        def done() -> None:
            with self._lock:
                if key in self._pages and listener in self._pages[key].listeners:
                    self._pages[key].listeners.discard(listener)
                    if not self._pages[key].listeners:
                        self._pages[key].gone = time.monotonic()
                        self._pages[key].seen = self._wall()
            self._schedule()

        return done

    def alive(self, board: str, page: str | None) -> bool:
        """A page's keep-alive: True if it has a stream open here (else it is not counted)."""
        with self._lock:
            found = self._pages.get((board, page)) if page is not None else None
            if found is None or not found.listeners:
                return False
            found.alive, found.seen = time.monotonic(), self._wall()
            return True

    def pages(self, board: str) -> int:
        with self._lock:
            return sum(1 for p in self._pages.values() if p.board == board)

    # -- the status -----------------------------------------------------------------------

    def fields(self) -> dict[str, Any]:
        """What this app's DeviceStatus says of its browser boards (every one of the site)."""
        with self._lock:
            entries = []
            for board in self.boards:
                pages = [p for p in self._pages.values() if p.board == board]
                addresses = sorted({p.address for p in pages if p.address})
                entries.append(protocol.browser_board(board, len(pages), self._since[board] if pages else None,
                                                      None if pages else self._last_seen[board], addresses))
        return {protocol.BOARDS: entries}

    def _schedule(self) -> None:
        if self._timer is None:
            self._loop = self._loop or asyncio.get_running_loop()
            self._timer = self._loop.call_later(TICK, self._tick)

    def _tick(self) -> None:
        self._timer = None
        now = time.monotonic()
        ended: list[Any] = []
        with self._lock:
            for key, page in list(self._pages.items()):
                stale = page.named and page.listeners and now - page.alive > STALE
                if stale or (not page.listeners and page.gone is not None and now - page.gone > GRACE):
                    ended += page.listeners
                    del self._pages[key]
                    if not any(p.board == page.board for p in self._pages.values()):
                        self._since[page.board] = None
                        self._last_seen[page.board] = page.seen
            busy = bool(self._pages)
        for listener in ended:
            listener.end()  # its stream ends; a browser still there reconnects and is counted again
        said = self.fields()
        if said != self._said:
            self._said = said
            self.hub.publish_status()
        if busy:
            self._schedule()

    def _wall(self) -> str:
        return dt.datetime.now(self.config.tz).isoformat(timespec="seconds")


def board_statuses(config: Config, statuses: dict[str, Any], gone: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each browser board's status as the dashboard shows it, from the statuses of the
    site's web apps (*statuses* by device) and when one stopped listing it (*gone*, the
    hub's boards_gone): online while a page of an online app shows it, with ``browser``
    (antrian.protocol.browser_board: pages summed over the apps, the earliest since, the
    addresses); else offline, with the latest last_seen known. A board's own status
    (a client under its id) counts when it says it is online."""
    web_apps = [d for d, device in config.devices.items() if device.role == "web"]
    out: dict[str, dict[str, Any]] = {}
    for board in browser_boards(config):
        entries = [e for d in web_apps if (e := protocol.browser_boards(statuses.get(d)).get(board))]
        pages = sum(e["pages"] for e in entries)
        own = statuses.get(board)
        if pages:
            since = min((e["since"] for e in entries if e["pages"] and e["since"]), key=_instant, default=None)
            addresses = sorted({a for e in entries for a in e["addresses"]})
            # Shaped like a DeviceStatus, so the page draws it as any device's; never published.
            out[board] = {"device": board, "role": "display", "online": True, "problems": [], "at": since,
                          "browser": protocol.browser_board(board, pages, since, None, addresses)}
        elif isinstance(own, dict) and own.get("online") is True:
            out[board] = own
        else:
            seen = [e["last_seen"] for e in entries if e["last_seen"]] + ([gone[board]] if board in gone else [])
            last = max(seen, key=_instant, default=None)
            out[board] = {"device": board, "role": "display", "online": False, "at": last,
                          "browser": protocol.browser_board(board, 0, None, last, [])}
    return out


def _instant(text: str) -> float:
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return float("-inf")
