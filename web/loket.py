"""The officer's console in the staff app (role ``petugas``): ``/loket``.

- ``/loket``: the officer's counters to pick from (straight to the counter when they
  have one); ``/loket/{counter}`` the console; ``/loket/{counter}/peristiwa`` its event
  stream; ``POST /loket/{counter}/perintah`` one press. ``kepala`` and ``admin`` get 403:
  their page is /dasbor, and a console that cannot press is of no use to them.
- Every route checks on the server that the counter is one the officer is bound to in
  the users file (web/users.py), whatever the page or a forged request says: 403,
  logged. The broker cannot check it (web/wing.py says why).
- Exactly once from a browser (docs/protocol.md, "How a client behaves"): the page makes
  a fresh id for each press and sends the same id again when it retries; the server
  checks the form (CSRF token, Origin), listens for the counter's replies, publishes the
  Command and waits for the Reply with that id, at most REPLY_TIMEOUT seconds. No reply
  in time is a 504 the page shows as "try again", and the retry's repeated id gets the
  first reply from the dispatcher, so a press is never applied twice. While the broker
  or the dispatcher is gone nothing is published (a press left with the broker would be
  applied whenever the dispatcher comes back, long after the officer gave up on it).
  A remote officers' app (``central: true``) also puts ``at`` in the Command, the
  press's time by this server's clock: a press made after the site's link went down and
  before the centre knew (up to 45 s) waits in the bridge's queue, and the dispatcher
  answers it ``expired`` when it arrives more than the counter's ``max_age_seconds``
  (30 s) later. On the LAN no ``at`` is sent, so a staff Pi's clock cannot stop a counter.
- The stream sends one ``view`` of the counter for every change that touches it (its
  state, its services' queue lists, its calls, the broker, the dispatcher): see
  :func:`view`. The page puts every value in with textContent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from antrian import protocol
from antrian.adapters.link import NOTICES
from web import auth
from web.hub import Event
from web.stream import Message, event_stream, message
from web.users import StaffUser

if TYPE_CHECKING:
    from web.app import Web

__all__ = ["REPLY_TIMEOUT", "ROLES", "routes", "view"]

log = logging.getLogger("antrian.web")

ROLES = ("petugas",)
KINDS = ("counter", "queue", "call", "broker", "dispatcher")
REPLY_TIMEOUT = 5.0  # the contract's retry time: no reply by then, the officer presses again
_ID = re.compile(r"^[A-Za-z0-9-]{16,64}$")
LIMITS = {"number": 8, "to_service": 32, "reason": 200}

GONE_BROKER = "Tidak tersambung ke server antrean. Tunggu sampai sambungan pulih, lalu tekan lagi."
GONE_DISPATCHER = "Server antrean sedang mati. Tunggu sampai menyala kembali, lalu tekan lagi."
GONE_BRIDGE = f"{NOTICES['bridge_down']}. Tunggu sampai tersambung kembali, lalu tekan lagi."
NO_REPLY = ("Belum ada jawaban dari server antrean. Tekan tombol yang sama lagi untuk mencoba ulang; "
            "nomor tidak akan dipanggil dua kali.")
NO_REASON = "Tuliskan alasan jeda."


def _now(web: Web) -> str:
    return dt.datetime.now(web.config.tz).isoformat(timespec="milliseconds")


def _bound(web: Web, request: Request, counter: str) -> StaffUser:
    """The logged-in petugas if *counter* is one of theirs; else 403, logged."""
    user = auth.require(web, request, *ROLES)
    if counter not in user.counters or counter not in web.config.counters:
        log.warning("%s (petugas of %s) refused %s %s: not their counter", user.name, ",".join(user.counters),
                    request.method, request.url.path[:200])
        raise HTTPException(403)
    return user


# -- what the page shows ------------------------------------------------------------------


def _rows(queue: Any, key: str) -> list[dict[str, Any]]:
    rows = queue.get(key) if isinstance(queue, dict) else None
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _called_at(web: Web, counter: str, number: Any) -> str | None:
    """When *number* was last called (not recalled) at *counter*, from the calls the hub
    holds (the live ones and the board's recent list); None when it does not know."""
    if not isinstance(number, str):
        return None
    for call in reversed(web.hub.calls_after(-1)):
        if call.get("counter") == counter and call.get("number") == number and not call.get("recall"):
            return call.get("at") if isinstance(call.get("at"), str) else None
    return None


def view(web: Web, counter: str) -> dict[str, Any]:
    """The console's picture of *counter*: its CounterState as the dispatcher sent it,
    the waiting tickets of its services merged in call order (priority tickets first,
    then the others, each by issue time, as the dispatcher takes them; the priority
    streak can still let a normal ticket go before a later priority one), the no-shows
    it may call back, when the ticket being served was called, and the links."""
    snap = web.hub.snapshot()
    services = web.config.counters[counter].services
    state = snap["counters"].get(counter)
    lists = {s: snap["queues"].get(s) for s in services}
    # Each list keeps the dispatcher's order; merging them by (priority, issue time) only
    # interleaves the services.
    per_service = [[{**r, "service": s} for r in _rows(q, "waiting")] for s, q in lists.items()]
    waiting = list(heapq.merge(*per_service, key=lambda r: (0 if r.get("priority") else 1,
                                                            str(r.get("issued_at", "")))))
    recallable = [{**r, "service": s} for s, q in lists.items() for r in _rows(q, "recallable")]
    recallable.sort(key=lambda r: str(r.get("no_show_at", "")))
    serving = state.get("serving") if isinstance(state, dict) else None
    return {"counter": counter, "state": state, "waiting": waiting, "recallable": recallable,
            "lists": sorted(s for s, q in lists.items() if q is not None),
            "called_at": _called_at(web, counter, serving.get("number") if isinstance(serving, dict) else None),
            "broker": snap["broker"], "dispatcher": snap["dispatcher"], "now": _now(web)}


def _status(state: Any) -> str | None:
    status = state.get("status") if isinstance(state, dict) else None
    return status if status in ("open", "paused", "closed") else None


def _touches(web: Web, counter: str, event: Event) -> bool:
    if event.kind == "counter":
        return event.key == counter
    if event.kind == "queue":
        return event.key in web.config.counters[counter].services
    if event.kind == "call":
        return isinstance(event.data, dict) and event.data.get("counter") == counter
    return True  # broker, dispatcher


def _page_data(web: Web, counter: str) -> dict[str, str]:
    """What the page's script needs from the site file, as data-* attributes."""
    config = web.config
    names = {code: s.name for code, s in config.services.items()}
    return {"services": json.dumps([[c, names[c]] for c in config.counters[counter].services], ensure_ascii=False),
            "all_services": json.dumps([[c, n] for c, n in names.items()], ensure_ascii=False),
            "priority": json.dumps({g.id: g.name for g in config.priority_groups}, ensure_ascii=False),
            "max_recalls": str(config.queue.max_recalls)}


# -- a press --------------------------------------------------------------------------------


def _refuse(status: int, text: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": {"code": "web", "message": text}, **extra}, status_code=status,
                        headers={"Cache-Control": "no-store"})


def _command(form: Any) -> dict[str, Any] | str:
    """The Command of a posted form, or the Indonesian reason it is not one."""
    mid, action = form.get("id"), form.get("action")
    if not isinstance(mid, str) or not _ID.match(mid):
        return "Permintaan tidak dapat diproses."
    if action not in protocol.ACTIONS:
        return "Perintah tidak dikenal."
    payload: dict[str, Any] = {"id": mid, "action": action}
    need = {"transfer": "to_service", "call_number": "number", "pause": "reason"}.get(action)
    if need:
        value = form.get(need)
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            return NO_REASON if need == "reason" else "Lengkapi isian terlebih dahulu."
        if len(value) > LIMITS[need]:
            return "Isian terlalu panjang."
        payload[need] = value
    return payload


async def _press(web: Web, request: Request, counter: str) -> Response:
    form = await auth.check_form(web, request)
    user = _bound(web, request, counter)
    payload = _command(form)
    if isinstance(payload, str):
        return _refuse(400, payload)
    hub = web.hub
    if not hub.broker_connected:
        return _refuse(503, GONE_BROKER, retry=True)
    if hub.dispatcher.online is False:
        return _refuse(503, GONE_BRIDGE if hub.bridge_up is False else GONE_DISPATCHER, retry=True)
    if hub.central:
        payload["at"] = _now(web)
    mid = payload["id"]
    listener = hub.listen(("reply",))  # before publishing: a reply is not retained
    try:
        if not hub.publish(protocol.counter_command(hub.site, counter), payload):
            return _refuse(503, GONE_BROKER, retry=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REPLY_TIMEOUT
        while True:
            try:
                event = await asyncio.wait_for(listener.next(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                event = None
            if event is None:
                log.warning("%s at %s: no reply to %s %s within %.0f s", user.name, counter, payload["action"], mid,
                            REPLY_TIMEOUT)
                return _refuse(504, NO_REPLY, retry=True)
            reply = event.data
            if event.key == counter and isinstance(reply, dict) and reply.get("id") == mid:
                break
    finally:
        hub.unlisten(listener)
    error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
    log.info("%s at %s: %s %s -> %s", user.name, counter, payload["action"], mid,
             "ok" if reply.get("ok") is True else error.get("code"))
    return JSONResponse(reply, headers={"Cache-Control": "no-store"})


# -- routes ---------------------------------------------------------------------------------


def routes(web: Web) -> list[Route]:
    async def choose(request: Request) -> Response:
        user = auth.require(web, request, *ROLES)
        mine = [c for c in user.counters if c in web.config.counters]
        if len(mine) == 1:
            return RedirectResponse(f"/loket/{mine[0]}", 303)
        states = web.hub.snapshot()["counters"]
        counters = [{"id": c, "name": web.config.counters[c].name,
                     "services": [web.config.services[s].name for s in web.config.counters[c].services],
                     "status": _status(states.get(c))} for c in mine]
        response = web.render(request, "loket_pilih.html", user=user, counters=counters,
                              csrf=auth.csrf_token(web, request))
        response.headers["Cache-Control"] = "no-store"
        return response

    async def page(request: Request) -> Response:
        counter = request.path_params["counter"]
        user = _bound(web, request, counter)
        response = web.render(request, "loket.html", user=user, counter=web.config.counters[counter],
                              csrf=auth.csrf_token(web, request), data=_page_data(web, counter),
                              several=len(user.counters) > 1)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def stream(request: Request) -> Response:
        counter = request.path_params["counter"]
        _bound(web, request, counter)
        return event_stream(web, request, kinds=KINDS, first=lambda _last: [message("view", view(web, counter))],
                            convert=lambda event: _convert(web, counter, event))

    async def press(request: Request) -> Response:
        return await _press(web, request, request.path_params["counter"])

    return [Route("/loket", choose, methods=["GET"]),
            Route("/loket/{counter}", page, methods=["GET"]),
            Route("/loket/{counter}/peristiwa", stream, methods=["GET"]),
            Route("/loket/{counter}/perintah", press, methods=["POST"])]


def _convert(web: Web, counter: str, event: Event) -> list[Message]:
    return [message("view", view(web, counter))] if _touches(web, counter, event) else []
