"""What the board shows, as plain data: pure functions from a Board payload and the site file.

The Kivy screen only copies these texts into labels, so the rules -- which counters,
which services when there are more than fit, which calls count as "earlier", when
the hall must be told the data may be out of date -- are tested without a window.
Citizen-facing words are Indonesian (KBBI: antrean, silakan).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from antrian.site import Config

__all__ = ["BANNER", "Tile", "WaitRow", "banner", "call_place", "counter_tiles", "grid_columns", "recent_rows",
           "short_name", "waiting_rows"]

NO_NUMBER = "–"
NO_CALL_YET = "Belum ada panggilan"
STATUS_TEXT = {"open": "", "paused": "Istirahat", "closed": "Tutup"}

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


@dataclasses.dataclass(frozen=True)
class WaitRow:
    service: str
    prefix: str
    name: str
    count: int


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


def counter_tiles(config: Config, board: dict[str, Any] | None) -> list[Tile]:
    """One tile per counter of the site file, filled from the board when there is one."""
    rows = {c.get("counter"): c for c in (board or {}).get("counters") or () if isinstance(c, dict)}
    tiles = []
    for counter in config.counters.values():
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
        else:
            detail = short_name(row.get("service_name") or "") if serving else ""
        tiles.append(Tile(counter.id, row.get("name") or counter.name, agency,
                          serving if serving and status != "closed" else NO_NUMBER, detail, status))
    return tiles


def waiting_rows(config: Config, board: dict[str, Any] | None, limit: int) -> list[WaitRow]:
    """How many wait per service, in the site file's order. When more services exist
    than *limit* rows fit, the ones with the most people waiting are kept."""
    waiting = (board or {}).get("waiting") or {}
    rows = [WaitRow(s.code, s.prefix, short_name(s.name), int(waiting.get(s.code) or 0))
            for s in config.services.values()]
    if len(rows) > limit:
        keep = sorted(range(len(rows)), key=lambda i: (-rows[i].count, i))[:limit]
        rows = [rows[i] for i in sorted(keep)]
    return rows


def recent_rows(board: dict[str, Any] | None, shown_seq: int, limit: int) -> list[dict[str, Any]]:
    """The calls before the one highlighted, newest first: what the hall has already heard."""
    recent = [c for c in (board or {}).get("recent") or () if isinstance(c, dict) and isinstance(c.get("seq"), int)]
    return sorted((c for c in recent if c["seq"] < shown_seq), key=lambda c: -c["seq"])[:limit]


def grid_columns(count: int, width: float, height: float, aspect: float = 1.6) -> int:
    """Columns for *count* tiles in a width x height area so tiles come out closest to
    *aspect* (width / height)."""
    if count <= 0:
        return 1
    best, best_cols = None, 1
    for cols in range(1, count + 1):
        rows = -(-count // cols)
        shape = (width / cols) / max(1.0, height / rows)
        score = abs(shape - aspect) / aspect + 0.02 * (cols * rows - count)
        if best is None or score < best:
            best, best_cols = score, cols
    return best_cols


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
