"""The board for a smart TV: ``/papan/{device}`` in the staff app (issue 13, item 5).

A TV box's browser shows what the Kivy board shows -- the latest call large with its
flash, the counters, who waits, the earlier calls, the running text, the date and time
in the site's zone -- and says each call with the sound the server makes.

Routes (all of one board, all refused with the same plain 404 unless the device is a
``role: display`` with ``browser: true`` and, on a site with credentials, the
address carries its token ``?k=``: antrian/tools/broker_files/boards.py):

- ``/papan/{device}``: the page (web/templates/papan.html, web/static/papan.js, .css);
- ``/papan/{device}/aliran``: its server-sent events (web/stream.py): ``papan`` (the
  board's texts, made by the display wing's ``board_view`` from the retained Board and
  the site file; sent first and after every change of the board, the broker or the
  dispatcher), ``call`` (one call, ``id`` = its ``seq``; after a reconnect the calls
  after ``Last-Event-ID`` from the hub's memory) and ``jam`` (the keep-alive every
  15 s, carrying the server's time: a TV box's own clock is often wrong, and a page
  that hears nothing for long knows its stream is dead);
- ``/papan/{device}/hadir`` (POST, ``?tv=`` the page's id): the page's answer to each
  keep-alive, so the dashboard knows a TV shows the board (web/papan_hadir.py);
- ``/papan/{device}/suara/{seq}.wav``: the announcement of call ``seq`` (web/papan_suara.py);
  with ``?ringkas=1`` its short form, once and without the chime, which the page asks
  for when the call waited behind another (the board's backlog rule, issue 16).

A zoned board (display option ``zone``) gets only its zone's tiles, waiting rows and
calls, and no sound of another zone's call; a board with ``speaks: false`` is told
so and plays nothing.

What the page does with them -- one call at a time in ``seq`` order, each on screen
at least ``min_call_seconds``, never a ``seq`` said twice, also across a reload -- is
in web/static/papan.js.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from antrian import bahasa
from antrian.tools.broker_files.boards import board_path, board_token_ok, browser_boards
from antrian.wings import registry
from web.hub import Event
from web.papan_hadir import Presence, page_id
from web.papan_suara import Sounds
from web.stream import Message, event_stream, message

if TYPE_CHECKING:
    from web.app import Web

__all__ = ["routes"]

KINDS = ("board", "call", "broker", "dispatcher")


class Papan:
    """The browser boards' shared state in one app: the display wing's services and the sounds."""

    def __init__(self, web: Web) -> None:
        self.web = web
        self.config = web.config
        self.sounds = Sounds(web.config)
        self._options: dict[str, dict[str, Any]] = {}
        self._services: dict[str, Any] = {}
        self._views: dict[Any, tuple[int, list[Message]]] = {}
        self._calls: dict[int, list[Message]] = {}
        # Made with the routes, before the hub connects: its first status already lists the boards.
        self.presence = Presence(web) if browser_boards(web.config) else None

    def service(self, name: str) -> Any:
        """A display wing's service (display/webboard.py), loaded once."""
        if name not in self._services:
            self._services[name] = registry().service(name)
        return self._services[name]

    def options(self, device: str) -> dict[str, Any] | None:
        """The display options of *device* when it is a browser board, else None."""
        found = self.config.devices.get(device)
        if found is None or found.role != "display" or (found.options or {}).get("browser") is not True:
            return None  # nothing kept for a name that is not a board: any number of them may be asked
        if device not in self._options:
            self._options[device] = self.service("display_options")(self.config, device)
        return self._options[device]

    def board(self, request: Request) -> tuple[str, dict[str, Any]]:
        """The board a request names, or the plain 404 that does not say what was wrong."""
        device = request.path_params["device"]
        options = self.options(device) if isinstance(device, str) and len(device) <= 64 else None
        if options is None or not board_token_ok(self.config, self.web.secret, device, request.query_params.get("k")):
            raise HTTPException(404)
        return device, options

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.config.tz)

    def view(self, zone: Any = None) -> dict[str, Any]:
        hub = self.web.hub
        with_time = self.now()
        data = self.service("board_view")(self.config, hub.board, now=with_time, broker_connected=hub.broker_connected,
                                offline_for=0.0 if hub.broker_connected else float("inf"),
                                dispatcher=hub.dispatcher.as_dict(), zone=zone)
        data["now"] = int(with_time.timestamp() * 1000)
        return data

    def call(self, call: Any) -> dict[str, Any] | None:
        """A Call as the page shows it, with its age; None for a malformed one."""
        return self.service("call_view")(call, self.now())

    def in_zone(self, zone: Any, call: Any) -> bool:
        return zone is None or (isinstance(call, dict) and call.get("counter") in zone)

    def messages(self, event: Event, zone: Any = None) -> list[Message]:
        """What a hub event sends to a board, made once and shared by every open board of
        one zone (all show the same): the board's view once per hub version and zone, a
        call once per seq (none of another zone)."""
        if event.kind == "call":
            seq = event.data.get("seq") if isinstance(event.data, dict) else None
            if not isinstance(seq, int) or seq not in self._calls:
                shown = self.call(event.data)
                out = [] if shown is None else [message("call", shown, id=shown["seq"])]
                if not isinstance(seq, int):
                    return out
                if len(self._calls) >= 64:
                    self._calls.pop(next(iter(self._calls)))
                self._calls[seq] = out
            return self._calls[seq] if self.in_zone(zone, event.data) else []
        version = self.web.hub.version
        key = None if zone is None else tuple(zone)
        if key not in self._views or self._views[key][0] != version:
            self._views[key] = (version, [message("papan", self.view(zone))])
        return self._views[key][1]


def _papan(web: Web) -> Papan:
    papan = web.extra.get("papan")
    if papan is None:
        papan = web.extra["papan"] = Papan(web)
    return papan


def _page(web: Web):
    async def page(request: Request) -> Response:
        papan = _papan(web)
        device, options = papan.board(request)
        token = request.query_params.get("k") or ""
        base = board_path(web.config, None, device)
        suffix = f"?k={token}" if web.config.broker.credentials_dir is not None else ""
        now = papan.now()
        offset = now.utcoffset() or dt.timedelta(0)
        data = {"device": device, "aliran": f"{base}/aliran{suffix}", "hadir": f"{base}/hadir{suffix}",
                "suara": f"{base}/suara/",
                "k": token if suffix else "", "orientasi": options["orientation"],
                "min-call": options["min_call_seconds"], "catch-up": options["catch_up_seconds"],
                "bicara": "1" if options["speaks"] else "0", "halaman": options["page_seconds"],
                "zona": bahasa.zona(now), "offset": int(offset.total_seconds() // 60),
                "hari": json.dumps(bahasa.HARI), "bulan": json.dumps(bahasa.BULAN), "now": int(time.time() * 1000)}
        site = web.config.site
        return web.render(request, "papan.html", data=data, running_text=" ".join(site.running_text.split()),
                          device=device)

    return page


def _stream(web: Web):
    async def stream(request: Request) -> Response:
        papan = _papan(web)
        device, options = papan.board(request)
        zone = options["zone"]

        def first(last_id: str | None) -> list[Message]:
            out = [message("papan", papan.view(zone))]
            if last_id is not None and last_id.isdigit():
                for call in web.hub.calls_after(int(last_id)):
                    shown = papan.call(call) if papan.in_zone(zone, call) else None
                    if shown is not None:
                        out.append(message("call", shown, id=shown["seq"]))
            return out

        def convert(event: Event) -> list[Message]:
            out = papan.messages(event, zone)
            if event.kind == "call" and out and options["speaks"]:
                papan.sounds.warm(device, event.data)
            return out

        page = page_id(request.query_params.get("tv"))
        address = request.client.host if request.client is not None else None

        def watch(listener):
            return papan.presence.opened(device, page, address, listener)

        response = event_stream(web, request, kinds=KINDS, first=first, convert=convert,
                                watch=watch if papan.presence is not None else None)
        # The keep-alive as an event the page can see (a comment is not), with the time.
        response.ping_message_factory = lambda: message("jam", {"now": int(time.time() * 1000)})
        return response

    return stream


def _sound(web: Web):
    async def sound(request: Request) -> Response:
        papan = _papan(web)
        device, options = papan.board(request)
        seq = request.path_params["seq"]
        call = next((c for c in web.hub.calls_after(seq - 1) if c["seq"] == seq), None)
        heard = options["speaks"] and papan.in_zone(options["zone"], call)
        if call is None or papan.call(call) is None or not heard:
            raise HTTPException(404)
        data = await papan.sounds.wav(device, call, short=request.query_params.get("ringkas") == "1")
        if data is None:
            raise HTTPException(503)
        return Response(data, media_type="audio/wav", headers={"Cache-Control": "private, max-age=3600"})

    return sound


def _alive(web: Web):
    async def alive(request: Request) -> Response:
        papan = _papan(web)
        device, _options = papan.board(request)
        known = papan.presence is not None and papan.presence.alive(device, page_id(request.query_params.get("tv")))
        # 404 for a page with no stream here: its stream was ended (it reconnects) or never opened.
        return Response(status_code=204 if known else 404, headers={"Cache-Control": "no-store"})

    return alive


def routes(web: Web) -> list[Route]:
    _papan(web)  # the boards' presence is in the app's first status
    return [Route("/papan/{device}", _page(web)),
            Route("/papan/{device}/aliran", _stream(web)),
            Route("/papan/{device}/hadir", _alive(web), methods=["POST"]),
            Route("/papan/{device}/suara/{seq:int}.wav", _sound(web))]
