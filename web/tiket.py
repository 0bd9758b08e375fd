"""The citizen's live ticket: ``/t/{token}`` in the public app (issue 13, item 6).

The printed ticket's QR holds the Ticket's ``link``, ``{public_url}/t/{token}``; the
token (antrian/links.py) names the business day and the number and is signed with the
site secret, so the page needs no database and a forged or unknown token is the plain
404 of any unknown address. Routes:

- ``/t/{token}``: the page (web/templates/tiket.html, web/static/tiket.js, .css),
  drawn with the ticket's status so it shows something useful without a script;
- ``/t/{token}/peristiwa``: server-sent events (web/stream.py), one ``status`` message
  first and again whenever the hub's state changes it;
- ``/t/{token}/status``: the same status as JSON, for the script's polling fallback
  when the event stream fails again and again;
- ``/t/{token}/survei`` (POST): the satisfaction survey, once the ticket is done;
- ``/t/bunyi.wav``: the short chime the page plays when the ticket is called (under
  ``/t/``, which the reverse proxy passes on: docs/operations.md; no token is a name
  with a dot);
- ``/``: a small landing page (scan the QR on your ticket), for the LAN.

The status is derived from the retained state the hub holds (:meth:`Tiket.status`):

1. the business day: the Board's; a token of an earlier day is ``expired``;
2. ``called``: a counter's state serves the number; or a Call of the number is newer
   than the Board (the dispatcher publishes the call first, then the queue lists,
   counter states and board of the same batch);
3. ``waiting``: the number is in a QueueList's ``waiting`` (its place there is how
   many are ahead; after a transfer it is in the new service's list, with the mark);
4. ``absent``: it is in a ``recallable`` list (an officer can still call it back; the
   page says to go to the counter); a no-show that fell past the late tolerance is
   told from a served ticket only by this app's memory of having seen it recallable;
5. ``done``: called today and now nowhere: served (the survey is offered).

The estimated wait is ``ahead`` × the service's pace: the mean time between its latest
first calls (up to 10, from the board's and this app's recent calls), which already
counts every counter serving it; with fewer than three calls today, the site file's
``service_min`` ÷ the open counters of the service, as the dispatcher does before it
has service times. Without an open counter there is no estimate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import logging
import math
import wave
from array import array
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from antrian import bahasa, links, protocol
from antrian.tools.ikm import ELEMENT_NAMES, QUICK_LABELS
from web.hub import Event
from web.stream import Message, event_stream, message

if TYPE_CHECKING:
    from web.app import Web

__all__ = ["Tiket", "routes"]

log = logging.getLogger("antrian.web")

KINDS = ("board", "call", "counter", "queue", "catalog", "broker", "dispatcher")
FINAL = ("done", "absent")
PACE_CALLS = 11  # the latest first calls whose spacing gives the pace (10 intervals)
ELEMENT_SCALE = ("Tidak baik", "Kurang baik", "Baik", "Sangat baik")
SURVEY_NOTICE = {
    "pilih": "Silakan pilih salah satu nilai kepuasan.",
    "lengkapi": "Jawab kesembilan unsur, atau kosongkan semuanya.",
    "gagal": "Penilaian belum terkirim karena koneksi terputus. Silakan coba lagi.",
    "belum": "Survei dapat diisi setelah layanan Anda selesai.",
}


class Tiket:
    """The pages of the citizens' tickets in one public app, and what they remember."""

    def __init__(self, web: Web) -> None:
        self.web = web
        self.site = web.config.site.id
        self.day: str | None = None
        self.absent: set[str] = set()  # numbers of the day seen recallable (see the module docstring)
        self.counter: dict[str, str] = {}  # number -> the counter that called it last
        self.surveyed: set[str] = set()  # survey ids this app has sent
        self.chime = chime_wav()
        base = links.public_url(web.config) if web.public else None
        self.origins = {_origin(base)} if base else set()

    # -- the token -----------------------------------------------------------------

    def ticket_of(self, token: str) -> tuple[dt.date, str]:
        found = links.read_token(self.web.secret, self.site, token)
        if found is None:
            raise HTTPException(404)
        return found

    def csrf(self, token: str) -> str:
        return hmac.new(self.web.secret, f"tiket-survei\x00{token}".encode(), hashlib.sha256).hexdigest()[:32]

    # -- the status ----------------------------------------------------------------------

    def status(self, day: dt.date, number: str) -> dict[str, Any]:
        """What the page shows of ticket *number* of *day*, from the hub's state now."""
        snap = self.web.hub.snapshot()
        dispatcher = snap["dispatcher"] if isinstance(snap["dispatcher"], dict) else {}
        out: dict[str, Any] = {"number": number, "day": day.isoformat(), "state": "loading", "service": None,
                               "service_name": None, "ahead": None, "wait_min": None, "wait_basis": None, "counter": None,
                               "counter_name": None, "call_seq": None, "recall": False, "transferred_from": None,
                               "recallable": False, "survey": None,
                               "online": bool(snap["broker"]) and dispatcher.get("online") is not False}
        board = _dict(snap["board"])
        today = board.get("business_day")
        if not isinstance(today, str) or not snap["queues"]:
            return _texts(out, self.web)
        if day.isoformat() < today:
            out["state"] = "expired"
            return _texts(out, self.web)
        if day.isoformat() > today:
            return _texts(out, self.web)
        if self.day != today:
            self.day, self.absent, self.counter = today, set(), {}
            self.surveyed = {s for s in self.surveyed if s.startswith(f"tiket:{today}:")}
        services, counters = _names(snap["catalog"], self.web.config)
        calls = [c for c in self.web.hub.calls_after(0) if str(c.get("at", ""))[:10] == today]
        mine = [c for c in calls if c.get("number") == number]
        last = mine[-1] if mine else None
        if last is not None:
            out.update(call_seq=last["seq"], recall=last.get("recall") is True)
            if _text(last.get("counter")):
                self.counter[number] = last["counter"]
        serving = next((cid for cid, state in snap["counters"].items()
                        if _dict(_dict(state).get("serving")).get("number") == number), None)
        if serving is not None:
            state = snap["counters"][serving]
            name = _text(state.get("name")) or (last or {}).get("counter_name") or counters.get(serving)
            return self._called(out, serving, name, _dict(state.get("serving")).get("service"), services)
        if last is not None and isinstance(board.get("seq"), int) and last["seq"] > board["seq"]:
            return self._called(out, _text(last.get("counter")), _text(last.get("counter_name")),
                                last.get("service"), services)
        for code, lists in sorted(snap["queues"].items()):
            lists = _dict(lists)
            waiting = [_dict(t) for t in _list(lists.get("waiting"))]
            place = next((i for i, t in enumerate(waiting) if t.get("number") == number), None)
            if place is not None:
                out.update(state="waiting", service=code, service_name=services.get(code, code), ahead=place,
                           transferred_from=services.get(waiting[place].get("transferred_from")) or
                           _text(waiting[place].get("transferred_from")))
                out["wait_min"], out["wait_basis"] = self._estimate(code, place, calls, snap)
                self.absent.discard(number)
                return _texts(out, self.web)
            if any(_dict(t).get("number") == number for t in _list(lists.get("recallable"))):
                self.absent.add(number)
                out.update(state="absent", recallable=True, service=code, service_name=services.get(code, code))
                return self._final(out, counters)
        # Called and now nowhere: served, or a no-show past the late tolerance (seen as
        # recallable before); never called that this app knows of: served before it
        # was watching (or withdrawn by a site-file edit).
        out["state"] = "absent" if number in self.absent else "done"
        if last is not None:
            out.update(service=last.get("service"), service_name=services.get(last.get("service")) or
                       _text(last.get("service_name")))
        return self._final(out, counters)

    def _called(self, out: dict[str, Any], counter: str | None, name: str | None, service: Any,
                services: dict[str, str]) -> dict[str, Any]:
        number = out["number"]
        self.absent.discard(number)
        if counter:
            self.counter[number] = counter
        out.update(state="called", counter=counter, counter_name=name or counter, service=service,
                   service_name=services.get(service) if isinstance(service, str) else None)
        return _texts(out, self.web)

    def _final(self, out: dict[str, Any], counters: dict[str, str]) -> dict[str, Any]:
        counter = self.counter.get(out["number"])
        out.update(counter=counter, counter_name=counters.get(counter) if counter else None)
        out["survey"] = "sent" if links.survey_id(out["day"], out["number"]) in self.surveyed else "open"
        return _texts(out, self.web)

    def _estimate(self, service: str, ahead: int, calls: list[dict[str, Any]],
                  snap: dict[str, Any]) -> tuple[int | None, str | None]:
        """(minutes, basis): 'pace' from the latest first calls, 'standard' from the
        site file; (None, None) while no counter of the service is open."""
        times = []
        for call in calls:
            if call.get("service") == service and call.get("recall") is not True:
                try:
                    times.append(dt.datetime.fromisoformat(call["at"]))
                except (TypeError, ValueError):
                    continue
        times = times[-PACE_CALLS:]
        if len(times) >= 3:
            pace = max(0.0, (times[-1] - times[0]).total_seconds() / 60 / (len(times) - 1))
            return round(ahead * pace), "pace"
        config = self.web.config
        open_counters = sum(1 for cid, c in config.counters.items() if service in c.services and _dict(
            snap["counters"].get(cid)).get("status") == "open")
        if not open_counters:
            return None, None
        return round(ahead * config.services[service].service_min / open_counters), "standard"

    # -- pages ---------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        token = request.path_params["token"]
        day, number = self.ticket_of(token)
        status = self.status(day, number)
        notice = SURVEY_NOTICE.get(request.query_params.get("survei", ""), "")
        response = self.web.render(
            request, "tiket.html", token=token, status=status, csrf=self.csrf(token), notice=notice,
            labels=[(score, QUICK_LABELS[score]) for score in (4, 3, 2, 1)],
            elements=list(ELEMENT_NAMES.items()), scale=list(enumerate(ELEMENT_SCALE, start=1)))
        # Same-origin referrers, so a browser sends Origin with the survey form (with the
        # app's default no-referrer it sends "Origin: null"); no store: a ticket is live.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    async def status_json(self, request: Request) -> Response:
        day, number = self.ticket_of(request.path_params["token"])
        return JSONResponse(self.status(day, number), headers={"Cache-Control": "no-store"})

    async def events(self, request: Request) -> Response:
        day, number = self.ticket_of(request.path_params["token"])
        sent: list[str] = []

        def changed() -> list[Message]:
            status = self.status(day, number)
            key = repr(sorted(status.items()))
            if sent and sent[-1] == key:
                return []
            sent[:] = [key]
            return [message("status", status)]

        def convert(event: Event) -> list[Message]:
            return changed()

        return event_stream(self.web, request, kinds=KINDS, first=lambda _last: changed(), convert=convert)

    async def survey(self, request: Request) -> Response:
        token = request.path_params["token"]
        day, number = self.ticket_of(token)
        origin = request.headers.get("origin")
        if origin is None or origin.lower() not in self.origins | {_own_origin(request)}:
            log.warning("tiket: survey of %s refused: origin %r", number, origin)
            raise HTTPException(403)
        form = await request.form(max_files=0, max_fields=20)
        sent = form.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, self.csrf(token)):
            log.warning("tiket: survey of %s refused: %s CSRF token", number, "a wrong" if sent else "no")
            raise HTTPException(403)
        back = f"/t/{token}"
        score = _score(form.get("score"))
        answers = {code: _score(form.get(code)) for code in ELEMENT_NAMES}
        given = [v for v in answers.values() if v is not None]
        if score is None:
            return RedirectResponse(f"{back}?survei=pilih#survei", 303)
        if given and len(given) != len(answers):
            return RedirectResponse(f"{back}?survei=lengkapi#survei", 303)
        status = self.status(day, number)
        if status["state"] not in FINAL:
            return RedirectResponse(f"{back}?survei=belum#survei", 303)
        survey_id = links.survey_id(day, number)
        if survey_id not in self.surveyed:
            payload = {"id": survey_id, "ticket": number, "counter": status["counter"], "score": score,
                       "answers": answers if given else None}
            if not self.web.hub.publish(protocol.survey(self.site, self.web.device), payload):
                return RedirectResponse(f"{back}?survei=gagal#survei", 303)
            self.surveyed.add(survey_id)
            log.info("tiket: survey of %s (counter %s) sent", number, status["counter"])
        return RedirectResponse(f"{back}#survei", 303)

    async def sound(self, request: Request) -> Response:
        return Response(self.chime, media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})

    async def home(self, request: Request) -> Response:
        return self.web.render(request, "tiket_depan.html")


def _texts(out: dict[str, Any], web: Web) -> dict[str, Any]:
    """The Indonesian sentences of a status, made here once for the page and the script."""
    state, ahead, wait = out["state"], out["ahead"], out["wait_min"]
    texts = {"headline": "", "ahead": "", "wait": "", "basis": "", "note": ""}
    if state == "loading":
        texts["headline"] = "Memuat data antrean…"
        texts["note"] = "Data antrean belum tersedia. Halaman ini akan diperbarui sendiri."
    elif state == "expired":
        day = dt.datetime.combine(dt.date.fromisoformat(out["day"]), dt.time(), tzinfo=web.config.tz)
        texts["headline"] = "Tiket ini sudah tidak berlaku"
        texts["note"] = f"Tiket ini untuk {bahasa.tanggal(day, jam=False)}. Silakan ambil nomor antrean baru."
    elif state == "waiting":
        texts["headline"] = "Silakan menunggu"
        texts["ahead"] = "Tidak ada antrean di depan Anda" if ahead <= 0 else f"Di depan Anda: {ahead} orang"
        texts["wait"] = "Perkiraan waktu tunggu: " + _minutes(wait)
        texts["basis"] = "" if not wait else {"pace": "Dihitung dari kecepatan pemanggilan terakhir layanan ini.",
                          "standard": "Dihitung dari standar waktu layanan."}.get(out.get("wait_basis") or "", "")
        if out["transferred_from"]:
            texts["note"] = f"Nomor Anda dialihkan dari layanan {out['transferred_from']}."
    elif state == "called":
        texts["headline"] = f"Silakan menuju {out['counter_name']}"
        texts["note"] = "Nomor Anda dipanggil ulang." if out["recall"] else "Nomor Anda dipanggil."
    elif state == "absent":
        texts["headline"] = "Anda tidak hadir saat dipanggil"
        where = f" di {out['counter_name']}" if out["counter_name"] else ""
        texts["note"] = (f"Segera temui petugas{where}: nomor Anda masih dapat dipanggil kembali."
                         if out["recallable"] else "Nomor ini sudah tidak dapat dipanggil kembali. "
                         "Silakan ambil nomor antrean baru bila masih memerlukan layanan.")
    elif state == "done":
        texts["headline"] = "Layanan Anda sudah selesai"
        texts["note"] = "Terima kasih telah menggunakan layanan kami."
    out["texts"] = texts
    return out


def _minutes(wait: int | None) -> str:
    if wait is None:
        return "belum dapat dihitung (loket layanan ini belum buka)"
    if wait <= 0:
        return "segera dipanggil"
    hours, rest = divmod(wait, 60)
    if not hours:
        return f"sekitar {wait} menit"
    return f"sekitar {hours} jam" + (f" {rest} menit" if rest else "")


def _names(catalog: Any, config: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Service and counter names: the live catalog's, else the site file's."""
    services = {code: s.name for code, s in config.services.items()}
    counters = {cid: c.name for cid, c in config.counters.items()}
    catalog = _dict(catalog)
    for agency in _list(catalog.get("agencies")):
        for s in _list(_dict(agency).get("services")):
            s = _dict(s)
            if isinstance(s.get("code"), str) and isinstance(s.get("name"), str):
                services[s["code"]] = s["name"]
    for c in _list(catalog.get("counters")):
        c = _dict(c)
        if isinstance(c.get("counter"), str) and isinstance(c.get("name"), str):
            counters[c["counter"]] = c["name"]
    return services, counters


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _score(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value in ("1", "2", "3", "4") else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}".lower()


def chime_wav(rate: int = 22050) -> bytes:
    """A short two-note chime (0.7 s, 16-bit mono WAV), made here: nothing from outside."""
    samples = array("h")
    for freq, length in ((880.0, 0.25), (1318.5, 0.45)):
        n = int(rate * length)
        for i in range(n):
            t = i / rate
            envelope = min(1.0, i / (0.004 * rate)) * math.exp(-3.5 * t / length)
            tone = math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(4 * math.pi * freq * t)
            samples.append(int(0.55 * 32767 * envelope * tone / 1.25))
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def routes(web: Web) -> list[Route]:
    tiket = web.extra.setdefault("tiket", Tiket(web))
    return [Route("/", tiket.home), Route("/t/bunyi.wav", tiket.sound),
            Route("/t/{token}", tiket.page), Route("/t/{token}/status", tiket.status_json),
            Route("/t/{token}/peristiwa", tiket.events),
            Route("/t/{token}/survei", tiket.survey, methods=["POST"])]
