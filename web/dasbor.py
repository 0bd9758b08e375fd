"""The MPP head's live dashboard: ``/dasbor`` and its event stream ``/dasbor/peristiwa``
(staff app; roles ``kepala`` and ``admin``).

The page (web/templates/dasbor.html, web/static/dasbor.js) draws everything from one
SSE stream: a ``snapshot`` of what the hub holds when it connects, then one ``update``
per hub event. Everything on it comes from the broker, as for any other client:

- the counters, who waits per service, the services' quota and opening: the retained
  board, counter states and catalog;
- the day's totals: tickets issued, served, absent and the calls over the service's
  target wait from the retained Stats (antrian/queue/stats.py); how many wait now
  from the board; the average and longest current wait, and the waiting tickets
  already over their target, from each service's QueueList (its ``issued_at``),
  measured against this server's clock (sent as ``now``: the browser's may be off);
- the latest tickets from the kiosks' replies, the devices from their statuses, the
  dispatcher's notices in the same words as the board's; a browser board, which is no
  client of the broker, from the ``boards`` of the web apps' statuses
  (web/papan_hadir.py: online while a TV shows it, how many, since when, where); with
  ``broker.central``, the bridge to the central broker as a row named after the centre's
  host (role ``bridge``: connected or not, since when), from the bridge's own state.

Only what the site file names is shown: a status of a device, a counter state or a
queue list of a service the site file does not know is dropped here, never counted.
The payloads are passed on as they came (the page shows a value of the wrong shape as
the text it is; it never puts a value into the page as markup).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from antrian.adapters.link import NOTICES
from web import auth
from web.hub import Event
from web.papan_hadir import board_statuses
from web.stream import Message, event_stream, message

if TYPE_CHECKING:
    from web.app import Web

__all__ = ["KINDS", "PROBLEM_WORDS", "ROLES", "routes", "site_devices", "snapshot"]

ROLES = ("kepala", "admin")
KINDS = ("board", "catalog", "counter", "queue", "stats", "status", "ticket", "broker", "dispatcher", "bridge")

# A device's problems in words for the head (the codes of docs/protocol.md, "Device
# status"); the dispatcher's own notices are the board's words (antrian.adapters.link).
# A code not listed here is shown as it came.
PROBLEM_WORDS = {
    "printer_offline": "Printer tidak tersambung",
    "paper_out": "Kertas habis",
    "cover_open": "Penutup printer terbuka",
    "print_failed": "Gagal mencetak tiket",
    "printer_status_unknown": "Keadaan printer tidak diketahui",
    "database_error": "Basis data bermasalah",
    "speech_error": "Suara panggilan bermasalah",
    "audio_error": "Pengeras suara bermasalah",
    "keypad_missing": "Tombol loket tidak terpasang",
    "display_error": "Layar loket bermasalah",
    "mock_pins": "Tombol tiruan (bukan perangkat keras)",
    **NOTICES,
}


def site_devices(web: Web) -> list[dict[str, Any]]:
    """The devices of the site file (and the dispatcher under its broker user when the
    file names none): the only ones the page lists and counts."""
    config = web.config
    devices = [{"device": d.id, "role": d.role} for d in config.devices.values()]
    for did in config.dispatcher_ids():
        if did not in config.devices:
            devices.insert(0, {"device": did, "role": "dispatcher"})
    if config.broker.central is not None:
        devices.append({"device": config.broker.central.host, "role": "bridge"})
    return devices


def _known(web: Web) -> dict[str, set[str]]:
    known = web.extra.get("dasbor_known")
    if known is None:
        known = {"status": {d["device"] for d in site_devices(web)}, "counter": set(web.config.counters),
                 "queue": set(web.config.services)}
        web.extra["dasbor_known"] = known
    return known


def snapshot(web: Web) -> dict[str, Any]:
    """What a page starts from: the hub's state, only the site file's devices, counters
    and services, with this server's time."""
    snap = web.hub.snapshot()
    known = _known(web)
    return {"catalog": snap["catalog"], "board": snap["board"], "stats": snap["stats"],
            "counters": {k: v for k, v in snap["counters"].items() if k in known["counter"]},
            "queues": {k: v for k, v in snap["queues"].items() if k in known["queue"]},
            "status": {**{k: v for k, v in snap["status"].items() if k in known["status"]}, **_boards(web),
                       **_bridge(web)},
            "tickets": snap["tickets"], "broker": snap["broker"], "dispatcher": snap["dispatcher"],
            "devices": site_devices(web), "now": _now(web)}


def _now(web: Web) -> str:
    return dt.datetime.now(web.config.tz).isoformat(timespec="milliseconds")


def _boards(web: Web) -> dict[str, dict[str, Any]]:
    """The browser boards' statuses (web/papan_hadir.py), made once per hub version."""
    made = web.extra.get("dasbor_boards")
    version = web.hub.version
    if made is None or made[0] != version:
        statuses, gone = web.hub.statuses_now()
        made = web.extra["dasbor_boards"] = (version, board_statuses(web.config, statuses, gone))
    return made[1]


def _bridge(web: Web) -> dict[str, dict[str, Any]]:
    """The bridge's row, keyed by the centre's host, once the hub knows its state."""
    central, state = web.config.broker.central, web.hub.bridge()
    return {central.host: state} if central is not None and state is not None else {}


def _convert(web: Web, event: Event) -> list[Message]:
    if event.kind == "bridge":
        return [_update(web, "status", key, data) for key, data in _bridge(web).items()]
    allowed = _known(web).get(event.kind)
    if allowed is not None and event.key not in allowed:
        return []  # a device, counter or service the site file does not name
    if event.kind == "status":
        boards = _boards(web)
        if boards and (event.key in boards or getattr(web.config.devices.get(event.key), "role", None) == "web"):
            # A browser board's row is made from the web apps' statuses, never passed on as it came.
            out = [] if event.key in boards else [_update(web, event.kind, event.key, event.data)]
            return out + [_update(web, "status", board, data) for board, data in boards.items()]
    return [_update(web, event.kind, event.key, event.data)]


def _update(web: Web, kind: str, key: str | None, data: Any) -> Message:
    return message("update", {"kind": kind, "key": key, "data": data, "now": _now(web)})


def routes(web: Web) -> list[Route]:
    async def page(request: Request) -> Response:
        user = auth.require(web, request, *ROLES)
        response = web.render(request, "dasbor.html", user=user, csrf=auth.csrf_token(web, request),
                              words=json.dumps(PROBLEM_WORDS, ensure_ascii=False))
        response.headers["Cache-Control"] = "no-store"
        return response

    async def stream(request: Request) -> Response:
        auth.require(web, request, *ROLES)
        return event_stream(web, request, kinds=KINDS, first=lambda _last: [message("snapshot", snapshot(web))],
                            convert=lambda event: _convert(web, event))

    return [Route("/dasbor", page, name="dasbor"), Route("/dasbor/peristiwa", stream, name="dasbor_peristiwa")]
