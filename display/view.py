"""What the board shows, as plain data: pure functions from a Board payload and the site file.

The Kivy screen only copies these texts into labels, so the rules -- which counters,
which services when there are more than fit, which calls count as "earlier", when
the hall must be told the data may be out of date -- are tested without a window.
Citizen-facing words are Indonesian (KBBI: antrean, silakan).

A zoned board (display/options.py ``zone``) passes its counters as *zone*: tiles,
waiting rows and calls of other counters are left out. `page_grid` is the layout rule
both boards (Kivy and browser) follow so a number and a counter name stay readable
from three metres: tiles never smaller than TILE_MIN (at 1920x1080), and when more
counters exist than such tiles fit, pages that turn. The waiting list pages the same
way (`waiting_pages`): every service, in the site file's order, WAITING_PAGE rows a page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from antrian.queue.rules import availability
from antrian.site import Config

__all__ = ["BANNER", "Grid", "Tile", "WaitRow", "banner", "board_name", "call_place", "counter_tiles",
           "in_zone", "page_grid", "recent_rows", "short_name", "waiting_heading", "waiting_pages", "waiting_rows",
           "zoned_board"]

NO_NUMBER = "–"
NO_CALL_YET = "Belum ada panggilan"
STATUS_TEXT = {"open": "", "paused": "Istirahat", "closed": "Tutup"}
CLOSED = "Tutup"
BOOKING_TAG = "Reservasi"

# The layout rule (issue 16): in px at u = 1 (a 1920x1080 or 1080x1920 screen). A tile's
# texts are shares of its height (board.kv, papan.css use the same): at the smallest
# tile the number is 0.45 x 116 = 52 px and the counter's name 0.25 x 116 = 29 px, the
# least a reader three metres away needs (about 1 cm on a 43-inch TV).
TILE_MIN_H = 116
TILE_MIN_W = 228
TILE_GAP = 8
NUMBER_SHARE, NAME_SHARE, DETAIL_SHARE = 0.45, 0.25, 0.19
# The waiting rows a page holds at their readable height (board.kv, papan.css: 62 px
# landscape in 3 columns, 56 px portrait in 2): more services go on pages that turn.
WAITING_PAGE = 12
WAITING = "Jumlah menunggu"

BANNER = {
    "offline": "Koneksi ke server antrean terputus. Nomor di layar mungkin belum terbaru.",
    "dispatcher": "Server antrean sedang tidak aktif. Nomor di layar mungkin belum terbaru.",
    "waiting": "Menunggu data antrean dari server…",
    "old_day": "Data antrean belum diperbarui hari ini.",
}
# A broker restart or a Wi-Fi hiccup of a second or two does not deserve a red banner.
GRACE_SECONDS = 2.0


@dataclasses.dataclass(frozen=True)
class Tile:
    counter: str
    name: str
    agency: str
    number: str
    detail: str
    status: str
    booking: bool = False  # the ticket served is a checked-in booking


@dataclasses.dataclass(frozen=True)
class WaitRow:
    service: str
    prefix: str
    name: str
    count: int
    closed: bool = False  # takes no ticket now (hours, holiday): the board says "Tutup"


@dataclasses.dataclass(frozen=True)
class Grid:
    """Counter tiles on screen: *cols* x *rows* per page, *per_page* tiles on each of *pages*."""

    cols: int
    rows: int
    per_page: int
    pages: int


def in_zone(call: dict[str, Any], zone: frozenset[str] | None) -> bool:
    """Whether a Call belongs to a board of *zone* (None: the whole site)."""
    return zone is None or call.get("counter") in zone


def zoned_board(board: dict[str, Any], zone: frozenset[str] | None) -> dict[str, Any]:
    """A Board payload with only the calls of *zone* in ``recent`` (for the announcer's catch-up)."""
    if zone is None or not isinstance(board, dict):
        return board
    return {**board, "recent": [c for c in board.get("recent") or () if isinstance(c, dict) and in_zone(c, zone)]}


def board_name(service: Any) -> str:
    """A service's name on the waiting list: its ``board_name``, else its short name."""
    return getattr(service, "board_name", None) or short_name(service.name)


def short_name(service_name: str) -> str:
    """A service name for a small tile, up to its first bracket or comma:
    "KTP Elektronik (perekaman, cetak)" -> "KTP Elektronik"."""
    head = re.split(r" \(|,", service_name, maxsplit=1)[0].strip()
    return head or service_name


def call_place(call: dict[str, Any]) -> str:
    """Where a call sends the citizen, as the board writes it: a remote counter's
    ``location`` ("Bilik Layanan Daring": its officer is in another office, on a video
    call), else the counter's name ("Loket 3")."""
    location = call.get("location")
    if isinstance(location, str) and location.strip():
        return location
    name = call.get("counter_name")
    return name if isinstance(name, str) else ""


def counter_tiles(config: Config, board: dict[str, Any] | None, zone: frozenset[str] | None = None, *,
                  now: dt.datetime | None = None) -> list[Tile]:
    """One tile per counter of the site file (of *zone*), filled from the board when there
    is one. An open counter that serves nobody while none of its services takes tickets
    (at *now*: Bank Sultra after 14:00) says "Tutup" too."""
    rows = {c.get("counter"): c for c in (board or {}).get("counters") or () if isinstance(c, dict)}
    tiles = []
    for counter in config.counters.values():
        if zone is not None and counter.id not in zone:
            continue
        row = rows.get(counter.id, {})
        status = row.get("status") if row.get("status") in STATUS_TEXT else ("open" if row else "closed")
        serving = row.get("serving") if isinstance(row.get("serving"), str) else None
        agency = config.agency(counter.agency).short_name if counter.agency else ""
        # A remote counter's tile says where its citizens go (the Board's `location`) in
        # the line that otherwise names the agency: its officer is in another office.
        location = row.get("location") if isinstance(row.get("location"), str) and row["location"].strip() else None
        agency = location or (counter.location if counter.remote else None) or agency
        if not row:
            detail = ""
        elif status != "open":
            detail = STATUS_TEXT[status]
        elif serving:
            detail = _service_line(config, row)
        elif now is not None and all(availability(config, config.services[s], now) for s in counter.services):
            detail = CLOSED
        else:
            detail = ""
        booking = bool(serving) and row.get("booking") is True and status != "closed"
        if booking and status == "open":
            detail = f"{BOOKING_TAG} · {detail}" if detail else BOOKING_TAG
        tiles.append(Tile(counter.id, row.get("name") or counter.name, agency,
                          serving if serving and status != "closed" else NO_NUMBER, detail, status, booking))
    return tiles


def _service_line(config: Config, row: dict[str, Any]) -> str:
    """The service a tile's ticket is in: its board name when the site file knows it."""
    name = row.get("service_name") or ""
    service = next((s for s in config.services.values() if s.name == name), None)
    return board_name(service) if service is not None else short_name(name)


def waiting_rows(config: Config, board: dict[str, Any] | None, *, now: dt.datetime | None = None,
                 zone: frozenset[str] | None = None) -> list[WaitRow]:
    """How many wait per service (served by *zone*'s counters), every one, in the site
    file's order (a citizen finds theirs at the same place each time), each named by its
    board name; closed (at *now*) when it takes no ticket. `waiting_pages` pages them."""
    waiting = (board or {}).get("waiting") or {}
    served = None if zone is None else {s for c in zone for s in config.counters[c].services}
    return [WaitRow(s.code, s.prefix, board_name(s), int(waiting.get(s.code) or 0),
                    now is not None and availability(config, s, now) is not None)
            for s in config.services.values() if served is None or s.code in served]


def waiting_pages(rows: list[WaitRow], per_page: int = WAITING_PAGE) -> list[list[WaitRow]]:
    """*rows* on as few pages of at most *per_page* as hold them, shared evenly and in
    order (as `page_grid` shares tiles); one empty page when there are none."""
    if not rows:
        return [[]]
    pages = -(-len(rows) // max(1, per_page))
    size = -(-len(rows) // pages)
    return [rows[i:i + size] for i in range(0, len(rows), size)]


def waiting_heading(page: int, pages: int) -> str:
    """The waiting list's heading: "Jumlah menunggu — halaman 1 dari 3" when it pages."""
    return WAITING if pages <= 1 else f"{WAITING} — halaman {page + 1} dari {pages}"


def recent_rows(board: dict[str, Any] | None, shown_seq: int, limit: int,
                zone: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """The calls (of *zone*) before the one highlighted, newest first: what the hall has already heard.
    One row per ticket, its latest call: a recall is not listed twice, and the ticket on
    the big card is not listed again under it (issue 16)."""
    recent = [c for c in (board or {}).get("recent") or ()
              if isinstance(c, dict) and isinstance(c.get("seq"), int) and in_zone(c, zone)]
    seen = {c.get("number") for c in recent if c["seq"] == shown_seq}
    rows = []
    for c in sorted((c for c in recent if c["seq"] < shown_seq), key=lambda c: -c["seq"]):
        if c.get("number") not in seen:
            seen.add(c.get("number"))
            rows.append(c)
    return rows[:limit]


def page_grid(count: int, width: float, height: float, u: float = 1.0) -> Grid:
    """How *count* tiles go on a width x height area (px; *u*: the screen's unit): all
    on one page when tiles of at least TILE_MIN fit, else on as few pages as hold them
    at that size, shared evenly; each page's tiles come out closest to 1.6:1."""
    count = max(1, count)
    gap = TILE_GAP * u
    max_cols = max(1, int((width + gap) // ((TILE_MIN_W + TILE_GAP) * u)))
    max_rows = max(1, int((height + gap) // ((TILE_MIN_H + TILE_GAP) * u)))
    pages = -(-count // (max_cols * max_rows))
    per_page = -(-count // pages)
    best: tuple[float, int, int] | None = None
    for cols in range(1, min(max_cols, per_page) + 1):
        rows = -(-per_page // cols)
        if rows > max_rows:
            continue
        shape = (width / cols) / max(1.0, height / rows)
        score = abs(shape - 1.6) / 1.6 + 0.02 * (cols * rows - per_page)
        if best is None or score < best[0]:
            best = (score, cols, rows)
    _, cols, rows = best if best is not None else (0, max_cols, max_rows)
    return Grid(cols, rows, per_page, pages)


def banner(*, connected: bool, offline_for: float, have_board: bool, waited_for_board: float,
           dispatcher_online: bool | None, board_day: str | None, now: dt.datetime,
           dispatcher_notice: str = "") -> str:
    """The warning across the board, or "" when the data on screen can be trusted.

    *offline_for* and *waited_for_board* are seconds; *board_day* is the Board's
    ``business_day``; *now* the site's local time; *dispatcher_notice* a problem the
    dispatcher reports, in words (``DeviceLink.dispatcher.notice``: its clock is behind).
    """
    if not connected:
        return BANNER["offline"] if offline_for >= GRACE_SECONDS else ""
    if dispatcher_online is False:
        return BANNER["dispatcher"]
    if not have_board:
        return BANNER["waiting"] if waited_for_board >= GRACE_SECONDS else ""
    # A dispatcher whose clock is behind keeps the stored day: say why, not "old day".
    if dispatcher_notice:
        return dispatcher_notice
    # The dispatcher starts the new day within a second of midnight; give it a minute.
    if board_day is not None and board_day < now.date().isoformat() and (now.hour, now.minute) >= (0, 1):
        return BANNER["old_day"]
    return ""
