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

What the page shows of a ticket is derived in web/tiket_status.py from the retained
state the hub holds (the Board's day, the calls, the counter states, the queue lists):
waiting with how many are ahead and the estimated wait, called to a counter, absent,
done, expired. One :class:`~web.tiket_status.View` is built per change of the hub and shared
by every open ticket page.
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

from antrian import links, protocol
from antrian.skm import ELEMENTS, PROFILE
from antrian.tools.ikm import QUICK_LABELS
from web.stream import Message, event_stream, message
from web.tiket_status import Memory, View, status

if TYPE_CHECKING:
    from web.app import Web

__all__ = ["Tiket", "routes"]

log = logging.getLogger("antrian.web")

KINDS = ("board", "call", "counter", "queue", "catalog", "broker", "dispatcher")
FINAL = ("done", "absent")
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
        self.memory = Memory()
        self._view: tuple[int, View] | None = None
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

    def view(self) -> View:
        """The hub's state indexed: built once per hub version, shared by every open page."""
        version = self.web.hub.version
        if self._view is not None and self._view[0] == version:
            return self._view[1]
        view = View(self.web.hub, self.web.config)
        self._view = (version, view)
        return view

    def status(self, day: dt.date, number: str) -> dict[str, Any]:
        return status(self.view(), self.memory, day, number)

    # -- pages ---------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        token = request.path_params["token"]
        day, number = self.ticket_of(token)
        status = self.status(day, number)
        notice = SURVEY_NOTICE.get(request.query_params.get("survei", ""), "")
        response = self.web.render(
            request, "tiket.html", token=token, status=status, csrf=self.csrf(token), notice=notice,
            labels=[(score, QUICK_LABELS[score]) for score in (4, 3, 2, 1)],
            elements=ELEMENTS, profile=PROFILE)
        # No store: a ticket is live.
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

        return event_stream(self.web, request, kinds=KINDS, first=lambda _last: changed(),
                            convert=lambda _event: changed())

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
        answers = {e.code: _score(form.get(e.code)) for e in ELEMENTS}
        # The respondent profile (optional, each question on its own): only the offered values.
        profile = {q.key: form.get(f"profil_{q.key}") for q in PROFILE
                   if form.get(f"profil_{q.key}") in {v for v, _ in q.choices}}
        given = [v for v in answers.values() if v is not None]
        if score is None:
            return RedirectResponse(f"{back}?survei=pilih#survei", 303)
        if given and len(given) != len(answers):
            return RedirectResponse(f"{back}?survei=lengkapi#survei", 303)
        status = self.status(day, number)
        if status["state"] not in FINAL:
            return RedirectResponse(f"{back}?survei=belum#survei", 303)
        survey_id = links.survey_id(day, number)
        if survey_id not in self.memory.surveyed:
            payload = {"id": survey_id, "ticket": number, "counter": status["counter"], "score": score,
                       "answers": answers if given else None}
            if profile:
                payload["profile"] = profile
            if not self.web.hub.publish(protocol.survey(self.site, self.web.device), payload):
                return RedirectResponse(f"{back}?survei=gagal#survei", 303)
            self.memory.surveyed.add(survey_id)
            log.info("tiket: survey of %s (counter %s) sent", number, status["counter"])
        return RedirectResponse(f"{back}#survei", 303)

    async def sound(self, request: Request) -> Response:
        return Response(self.chime, media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})

    async def home(self, request: Request) -> Response:
        booking = any(s.booking for s in self.web.config.services.values())
        return self.web.render(request, "tiket_depan.html", reservasi=booking)


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
