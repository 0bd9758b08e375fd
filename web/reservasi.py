"""Online booking in the public app: ``/reservasi`` (issue 15, item 4).

Plain server-rendered pages and forms (no script needed; web/static/reservasi.js only
adds a print button), one step per page, each a link from the one before:

- ``/reservasi``: the agencies that take bookings, and the forms to find or cancel one;
- ``/reservasi/instansi/{agency}``: its services that take bookings;
- ``/reservasi/layanan/{service}``: the days open for booking (today up to
  ``days_ahead``), whether places are left; the day that opens next is shown with its
  opening time, a closed day as closed;
- ``/reservasi/layanan/{service}/{date}``: the day's slots (a full one shown full and
  not choosable) and the citizen's name, phone and NIK (optional); ``POST`` books;
- the confirmation: the code (large, grouped to read over the phone), its QR, the
  check-in window, the service's requirements; printable (a print style sheet) and
  saveable: ``/reservasi/bukti/{code}`` shows it again from the code (nothing personal:
  the dispatcher keeps no name and no phone), ``.../qr.svg`` is its QR image (with
  ``?unduh=1`` a download);
- ``/reservasi/batal``: cancel with the code and the phone; ``/reservasi/cari``: a code
  typed in goes to its confirmation.

Every decision is the dispatcher's, asked over MQTT (web/reservasi_kirim.py); what the
pages share (the site file's offer, the form's protection, the throttles, what a
confirmation shows) is web/reservasi_dasar.py. Before a ``book`` or ``cancel`` is sent,
and before a look-up, the app counts the attempt per client address and (book, cancel)
per phone number (web/throttle.py), so a flood from one address or about one number is
refused here, in one sentence, and never reaches the dispatcher. Forms carry a CSRF token
bound to a cookie of this browser and must come from this app's own origin (or its
``public_url``). The phone and the NIK are never logged, nor shown back beyond the form
that was sent; the throttle keeps a keyed hash of the phone, not the number.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from antrian import bahasa, protocol
from antrian.queue import codes
from web import bookingqr
from web.reservasi_dasar import (ADDRESS_LIMIT, EXPIRED_FORM, INPUT, NAME_MAX, OUT_OF_RANGE, PHONE_LIMIT, Reservasi,
                                 form_text)
from web.reservasi_kirim import Unanswered, new_id, refusal_text

if TYPE_CHECKING:
    from antrian.site import Service
    from web.app import Web

__all__ = ["ADDRESS_LIMIT", "EXPIRED_FORM", "INPUT", "PHONE_LIMIT", "Reservasi", "routes"]

log = logging.getLogger("antrian.web")

_RID = re.compile(r"^r[bc]-[A-Za-z0-9_-]{16,40}$")
_SLOT = re.compile(r"^\d{2}:\d{2}$")


# -- the pages ---------------------------------------------------------------------------


async def home(r: Reservasi, request: Request, error: str = "", status: int = 200) -> Response:
    return r.render(request, "reservasi.html", status, agencies=[
        {"agency": a, "services": r.services(a.id)} for a in r.agencies()], error=error)


async def agency(r: Reservasi, request: Request) -> Response:
    found = r.agency_of.get(request.path_params["agency"])
    if found is None or not r.services(found.id):
        raise HTTPException(404)
    return r.render(request, "reservasi_layanan.html", agency=found, services=r.services(found.id))


async def dates(r: Reservasi, request: Request, error: str = "", status: int = 200) -> Response:
    svc = r.service(request.path_params["service"])
    days = r.days(svc, r.clock())
    opened = [d for d in days if d["state"] == "open"]
    answers = await asyncio.gather(*(r.desk.slots(svc.code, d["date"]) for d in opened), return_exceptions=True)
    for entry, answer in zip(opened, answers):
        if isinstance(answer, Unanswered):
            error = error or answer.text
        elif isinstance(answer, dict) and answer.get("ok") is True:
            # Whether any place is left, not how many: a slot's `free` is capped by the day's
            # share left, so the slots' sum can be more than the day still takes.
            free = any(isinstance(s, dict) and s.get("free") for s in answer.get("slots", []))
            entry.update(state="open" if free else "full", note="Masih tersedia" if free else "Penuh")
        elif isinstance(answer, dict):
            entry.update(state="closed", note=refusal_text(answer.get("error"), action="slots", tz=r.tz))
        elif isinstance(answer, BaseException):
            raise answer
    return r.render(request, "reservasi_tanggal.html", status, svc=svc, agency=r.agency_of[svc.agency], days=days,
                    error=error)


async def out_of_range(r: Reservasi, request: Request, svc: Service) -> Response:
    """A day no longer (or not yet) in the booking range: the days that are, and why."""
    return await dates(r, request, OUT_OF_RANGE.format(service=svc.name, days=svc.booking.days_ahead), 409)


async def slots_page(r: Reservasi, request: Request, svc: Service, day: dt.date, *, status: int = 200,
                     error: str = "", values: dict[str, str] | None = None, rid: str | None = None) -> Response:
    """The day's slots and the form; *error* a refusal above it, *values* what was typed."""
    slots: list[dict[str, Any]] = []
    closed = ""
    try:
        reply = await r.desk.slots(svc.code, day)
    except Unanswered as exc:
        reply, error, status = None, error or exc.text, exc.status if status == 200 else status
    if reply is not None and reply.get("ok") is True:
        for s in reply.get("slots", []):
            if isinstance(s, dict) and isinstance(s.get("slot"), str) and _SLOT.match(s["slot"]):
                free = s.get("free") if isinstance(s.get("free"), int) else 0
                slots.append({"value": s["slot"], "label": s["slot"].replace(":", "."), "free": free})
        if not any(s["free"] for s in slots):
            closed = refusal_text({"code": "booking_quota_exhausted"}, action="slots", service_name=svc.name, day=day,
                                  tz=r.tz) if slots else "Tidak ada jam reservasi tersisa pada tanggal ini."
    elif reply is not None:
        closed = refusal_text(reply.get("error"), action="slots", service_name=svc.name, day=day, tz=r.tz)
    return r.render(request, "reservasi_jam.html", status, svc=svc, agency=r.agency_of[svc.agency], day=day,
                    day_text=r.day_text(day), slots=slots, closed=closed, error=error,
                    values={"jam": "", "nama": "", "hp": "", "nik": "", **(values or {})},
                    rid=rid or new_id("book"), zone=bahasa.zona(dt.datetime.combine(day, dt.time(), tzinfo=r.tz)))


async def day_page(r: Reservasi, request: Request) -> Response:
    svc = r.service(request.path_params["service"])
    day = r.bookable_day(svc, request.path_params["date"])
    return await slots_page(r, request, svc, day) if day else await out_of_range(r, request, svc)


async def book(r: Reservasi, request: Request) -> Response:
    svc = r.service(request.path_params["service"])
    day = r.bookable_day(svc, request.path_params["date"])
    if day is None:
        return await out_of_range(r, request, svc)
    form = await r.form(request)
    if form is None:
        return await slots_page(r, request, svc, day, status=403, error=EXPIRED_FORM)
    values = {"jam": form_text(form, "jam", 5), "nama": form_text(form, "nama", 300), "hp": form_text(form, "hp", 30),
              "nik": form_text(form, "nik", 30)}
    rid = form_text(form, "rid", 60)
    rid = rid if _RID.match(rid) and rid.startswith("rb-") else new_id("book")
    phone, nik = protocol.phone_digits(values["hp"]), protocol.nik_digits(values["nik"])
    problem = ("slot" if not _SLOT.match(values["jam"]) else "name" if not values["nama"]
               else "name_long" if len(values["nama"]) > NAME_MAX else "phone" if phone is None
               else "nik" if values["nik"] and nik is None else None)
    if problem:
        return await slots_page(r, request, svc, day, status=400, error=INPUT[problem], values=values, rid=rid)
    refused = r.throttled(request, "book", phone)
    if refused:
        return await slots_page(r, request, svc, day, status=429, error=refused, values=values, rid=rid)
    payload = {"id": rid, "action": "book", "service": svc.code, "date": day.isoformat(), "slot": values["jam"],
               "name": values["nama"], "phone": phone}
    if nik:
        payload["nik"] = nik
    started = time.monotonic()
    try:
        reply = await r.desk.ask(payload)
    except Unanswered as exc:  # the same id again: the dispatcher's first answer, never two bookings
        return await slots_page(r, request, svc, day, status=exc.status, error=exc.text, values=values, rid=rid)
    if reply.get("ok") is not True or not isinstance(reply.get("booking"), dict):
        error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        r.desk.note(svc.code, day, values["jam"], str(error.get("code")))
        log.info("reservasi: book %s %s %s refused: %s (%.0f ms)", svc.code, day, values["jam"], error.get("code"),
                 1000 * (time.monotonic() - started))
        text = refusal_text(error, action="book", service_name=svc.name, day=day, slot=values["jam"], tz=r.tz)
        return await slots_page(r, request, svc, day, status=409, error=text, values=values)
    r.desk.note(svc.code, day, values["jam"], "booked")
    log.info("reservasi: booked %s %s %s (%.0f ms)", svc.code, day, values["jam"], 1000 * (time.monotonic() - started))
    return r.render(request, "reservasi_bukti.html", b=r.confirmation(reply["booking"]), fresh=True,
                    name=values["nama"])


async def proof(r: Reservasi, request: Request) -> Response:
    code = codes.parse(request.path_params["code"])
    if code is None:
        return await home(r, request, INPUT["code"], 404)
    refused = r.throttled(request, "lookup")
    if refused:
        return await home(r, request, refused, 429)
    try:
        reply = await r.desk.ask({"id": new_id("lookup"), "action": "lookup", "code": code})
    except Unanswered as exc:
        return await home(r, request, exc.text, exc.status)
    if reply.get("ok") is not True or not isinstance(reply.get("booking"), dict):
        return await home(r, request, refusal_text(reply.get("error"), action="lookup", tz=r.tz), 404)
    return r.render(request, "reservasi_bukti.html", b=r.confirmation(reply["booking"]), fresh=False, name="")


@functools.lru_cache(maxsize=2048)
def _qr(code: str) -> bytes:
    return bookingqr.svg(code).encode("utf-8")


async def qr_file(r: Reservasi, request: Request) -> Response:
    """The QR of a code, drawn here and not inside the confirmation: drawing one takes a
    few milliseconds of CPU (qrcode tries its eight masks), which would be on the booking
    POST's path. Any valid code draws (it says nothing the code does not); ``?unduh=1``
    is the download."""
    code = codes.parse(request.path_params["code"])
    if code is None:
        raise HTTPException(404)
    headers = {"Cache-Control": "private, max-age=86400"}
    if request.query_params.get("unduh"):
        headers["Content-Disposition"] = f'attachment; filename="reservasi-{codes.display(code)}.svg"'
    return Response(_qr(code), media_type="image/svg+xml", headers=headers)


async def find(r: Reservasi, request: Request) -> Response:
    code = codes.parse(request.query_params.get("kode", ""))
    if code is None:
        return await home(r, request, INPUT["code"], 400)
    return RedirectResponse("/reservasi/bukti/" + quote(codes.display(code)), 303)


async def cancel_page(r: Reservasi, request: Request, *, status: int = 200, error: str = "", done: Any = None,
                      values: dict[str, str] | None = None, rid: str | None = None) -> Response:
    values = values if values is not None else {"kode": request.query_params.get("kode", "")[:40], "hp": ""}
    return r.render(request, "reservasi_batal.html", status, error=error, done=done, values=values,
                    rid=rid or new_id("cancel"))


async def cancel(r: Reservasi, request: Request) -> Response:
    form = await r.form(request)
    if form is None:
        return await cancel_page(r, request, status=403, error=EXPIRED_FORM, values={"kode": "", "hp": ""})
    values = {"kode": form_text(form, "kode", 40), "hp": form_text(form, "hp", 30)}
    rid = form_text(form, "rid", 60)
    rid = rid if _RID.match(rid) and rid.startswith("rc-") else new_id("cancel")
    code, phone = codes.parse(values["kode"]), protocol.phone_digits(values["hp"])
    problem = "code" if code is None else "phone" if phone is None else None
    if problem:
        return await cancel_page(r, request, status=400, error=INPUT[problem], values=values, rid=rid)
    refused = r.throttled(request, "cancel", phone)
    if refused:
        return await cancel_page(r, request, status=429, error=refused, values=values, rid=rid)
    try:
        reply = await r.desk.ask({"id": rid, "action": "cancel", "code": code, "phone": phone})
    except Unanswered as exc:
        return await cancel_page(r, request, status=exc.status, error=exc.text, values=values, rid=rid)
    if reply.get("ok") is not True or not isinstance(reply.get("booking"), dict):
        error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        log.info("reservasi: cancel refused: %s", error.get("code"))
        return await cancel_page(r, request, status=409, values=values,
                                 error=refusal_text(error, action="cancel", tz=r.tz))
    booking = reply["booking"]
    if isinstance(booking.get("service"), str) and isinstance(booking.get("date"), str):
        r.desk.forget(booking["service"], dt.date.fromisoformat(booking["date"]))
    log.info("reservasi: cancelled a booking of %s %s", booking.get("service"), booking.get("date"))
    return await cancel_page(r, request, done=r.confirmation(booking), values={"kode": "", "hp": ""})


def routes(web: Web) -> list[Route]:
    r: Reservasi = web.extra.setdefault("reservasi", Reservasi(web))

    def page(handler):
        async def endpoint(request: Request) -> Response:
            return await handler(r, request)
        return endpoint

    return [Route("/reservasi", page(home), methods=["GET"]),
            Route("/reservasi/cari", page(find), methods=["GET"]),
            Route("/reservasi/batal", page(cancel_page), methods=["GET"]),
            Route("/reservasi/batal", page(cancel), methods=["POST"]),
            Route("/reservasi/instansi/{agency}", page(agency), methods=["GET"]),
            Route("/reservasi/layanan/{service}", page(dates), methods=["GET"]),
            Route("/reservasi/layanan/{service}/{date}", page(day_page), methods=["GET"]),
            Route("/reservasi/layanan/{service}/{date}", page(book), methods=["POST"]),
            Route("/reservasi/bukti/{code}", page(proof), methods=["GET"]),
            Route("/reservasi/bukti/{code}/qr.svg", page(qr_file), methods=["GET"])]
