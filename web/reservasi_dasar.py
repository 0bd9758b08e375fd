"""What the /reservasi pages (web/reservasi.py) share: :class:`Reservasi`, the public
app's booking state -- which services and days the site file offers, the CSRF token of a
form (bound to a cookie of this browser; the Origin must be the app's own or its
``public_url``), the throttles per client address and per phone number, and what a
confirmation shows of a Booking -- and the sentences for what the citizen typed wrong.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from antrian import bahasa, links
from antrian.queue import codes
from antrian.queue.bookings import slot_start, slot_starts
from web.reservasi_kirim import Desk
from web.throttle import Throttle, client_key

if TYPE_CHECKING:
    from antrian.site import Service
    from web.app import Web

__all__ = ["ADDRESS_LIMIT", "EXPIRED_FORM", "INPUT", "NAME_MAX", "OUT_OF_RANGE", "PHONE_LIMIT", "Reservasi",
           "form_text"]

log = logging.getLogger("antrian.web")

COOKIE = "antrian_reservasi"  # binds a form's CSRF token to this browser
# Per client address: 20 at once, then one every 3 s (a family or an office behind one
# address books several; behind a carrier's NAT many phones share one). Per phone: 5 at
# once, then one a minute (a slot full, another, a cancel, a new one).
ADDRESS_LIMIT, ADDRESS_DECAY = 20, 3.0
PHONE_LIMIT, PHONE_DECAY = 5, 60.0
NAME_MAX = 100

EXPIRED_FORM = "Formulir sudah kedaluwarsa. Silakan periksa isian Anda lalu kirim lagi."
TOO_MANY_ADDRESS = "Terlalu banyak permintaan dari perangkat Anda. Silakan coba lagi dalam {wait}."
TOO_MANY_PHONE = "Terlalu banyak permintaan untuk nomor HP ini. Silakan coba lagi dalam {wait}."
INPUT = {
    "slot": "Silakan pilih jam kedatangan.",
    "name": "Silakan isi nama lengkap Anda.",
    "name_long": f"Nama terlalu panjang (paling banyak {NAME_MAX} huruf).",
    "phone": "Nomor HP tidak valid. Tulis nomor HP seperti 0812 3456 7890.",
    "nik": "NIK harus 16 angka. Kosongkan bila tidak ingin mengisinya.",
    "code": "Kode reservasi tidak valid. Periksa kembali kodenya, misalnya RSV-7K3M-Q2XA-5.",
}
OUT_OF_RANGE = ("Tanggal itu di luar rentang reservasi: {service} dapat dipesan untuk hari ini sampai {days} hari "
                "ke depan.")


def _wait_text(seconds: float) -> str:
    return f"{max(1, round(seconds))} detik" if seconds <= 60 else f"{-(-int(seconds) // 60)} menit"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Reservasi:
    """The booking pages of one public app and what they keep: the dispatcher desk, the
    throttles, the CSRF key."""

    def __init__(self, web: Web) -> None:
        self.web = web
        self.config = web.config
        self.tz = web.config.tz
        self.desk = Desk(web)
        self.agency_of = {a.id: a for a in web.config.agencies}
        self.addresses = Throttle("address", ADDRESS_LIMIT, ADDRESS_DECAY)
        self.phones = Throttle("phone", PHONE_LIMIT, PHONE_DECAY)
        self.key = hmac.new(web.secret, b"antrian web: reservasi", hashlib.sha256).digest()
        base = links.public_url(web.config) if web.public else None
        self.base = base.rstrip("/") if base else None
        self.origins = {_origin(base)} if base else set()
        self.clock = lambda: dt.datetime.now(dt.timezone.utc)  # the tests may set another

    # -- what the site file offers ----------------------------------------------------------

    def services(self, agency: str | None = None) -> list[Service]:
        return [s for s in self.config.services.values()
                if s.booking is not None and s.quota is not None and (agency is None or s.agency == agency)]

    def agencies(self) -> list[Any]:
        have = {s.agency for s in self.services()}
        return [a for a in self.config.agencies if a.id in have]

    def service(self, code: str) -> Service:
        svc = next((s for s in self.services() if s.code == code), None)
        if svc is None:
            raise HTTPException(404)
        return svc

    def day_text(self, day: dt.date) -> str:
        return bahasa.tanggal(dt.datetime.combine(day, dt.time(), tzinfo=self.tz), jam=False)

    def days(self, svc: Service, now: dt.datetime) -> list[dict[str, Any]]:
        """Today up to days_ahead: each {date, text, state: open|soon|closed, note}."""
        rules = svc.booking
        today = now.astimezone(self.tz).date()
        out = []
        for ahead in range(rules.days_ahead + 1):
            day = today + dt.timedelta(days=ahead)
            starts = slot_starts(self.config, svc, day)
            opens = dt.datetime.combine(day - dt.timedelta(days=rules.days_ahead), rules.opens_at, tzinfo=self.tz)
            entry = {"date": day, "iso": day.isoformat(), "text": self.day_text(day), "state": "open", "note": ""}
            if not starts:
                holiday = self.config.holidays.get(day)
                entry.update(state="closed", note=f"Tutup ({holiday.name})" if holiday else "Tutup")
            elif now < opens:
                entry.update(state="soon", note=f"Dibuka pukul {opens:%H.%M} {bahasa.zona(opens)}")
            elif all(slot_start(self.config, day, s) <= now for s in starts):
                continue  # today, every slot already begun
            out.append(entry)
        return out

    def bookable_day(self, svc: Service, text: str) -> dt.date | None:
        """The day of a page's address; None for one out of the booking range (a page
        left open since yesterday); 404 for no date at all."""
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise HTTPException(404) from None
        today = self.clock().astimezone(self.tz).date()
        return day if today <= day <= today + dt.timedelta(days=svc.booking.days_ahead) else None

    # -- the form's protection -----------------------------------------------------------

    def form_secret(self, request: Request) -> str:
        value = request.cookies.get(COOKIE, "")
        if not (20 <= len(value) <= 64):
            value = getattr(request.state, "form_secret", None) or secrets.token_urlsafe(24)
            request.state.form_secret = value  # set as a cookie by the page
        return value

    def csrf(self, secret: str) -> str:
        mac = hmac.new(self.key, f"form:{secret}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    async def form(self, request: Request) -> FormData | None:
        """The posted form if it has the right token and comes from this app; else None (logged)."""
        form = await request.form(max_files=0, max_fields=20)
        origin = request.headers.get("origin")
        if origin is None and request.headers.get("referer"):
            origin = _origin(request.headers["referer"])
        own = f"{request.url.scheme}://{request.headers.get('host', '')}".lower()
        sent, secret = form.get("csrf"), request.cookies.get(COOKIE, "")
        problem = None
        if origin is None or origin.lower() not in self.origins | {own}:
            problem = f"origin {origin!r}"
        elif not secret or not isinstance(sent, str) or not hmac.compare_digest(sent, self.csrf(secret)):
            problem = "a wrong CSRF token" if sent else "no CSRF token"
        if problem:
            log.warning("reservasi: form %s from %s refused: %s", request.url.path, client_address(request),
                        problem)
            return None
        return form

    def render(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        context.setdefault("csrf", self.csrf(self.form_secret(request)))
        context.setdefault("error", "")
        response = self.web.render(request, template, status_code=status, **context)
        response.headers["Cache-Control"] = "no-store"
        secret = getattr(request.state, "form_secret", None)
        if secret:
            response.set_cookie(COOKIE, secret, path="/reservasi", httponly=True, samesite="lax",
                                secure=self.web.https or request.url.scheme == "https")
        return response

    # -- the throttles ---------------------------------------------------------------------

    def phone_key(self, phone: str) -> str:
        return hmac.new(self.key, f"phone:{phone}".encode(), hashlib.sha256).hexdigest()[:24]

    def throttled(self, request: Request, what: str, phone: str | None = None) -> str | None:
        """Count one attempt (*what*: book, cancel, lookup) of this address (and phone); the
        sentence when it is one too many. The log names the attempt, not the path (a look-up's
        holds the code)."""
        address = client_key(client_address(request))
        key = self.phone_key(phone) if phone else None
        address_wait = self.addresses.wait(address)
        phone_wait = self.phones.wait(key) if key else 0.0
        if address_wait <= 0 and phone_wait <= 0:
            if self.addresses.charge(address) and (key is None or self.phones.charge(key)):
                return None
            address_wait = self.addresses.decay
        log.warning("reservasi: %s from %s refused: too many attempts%s", what, address,
                    " for one phone number" if phone_wait > address_wait else "")
        if phone_wait > address_wait:
            return TOO_MANY_PHONE.format(wait=_wait_text(phone_wait))
        return TOO_MANY_ADDRESS.format(wait=_wait_text(address_wait))

    # -- what a page shows of a booking -------------------------------------------------

    def confirmation(self, booking: dict[str, Any]) -> dict[str, Any]:
        code = codes.parse(booking.get("code")) or ""
        svc = self.config.services.get(booking.get("service"))
        agency = self.agency_of.get(svc.agency) if svc else None
        day = dt.date.fromisoformat(booking["date"])
        start = dt.datetime.combine(day, dt.time.fromisoformat(booking["slot"]), tzinfo=self.tz)
        opens = dt.datetime.fromisoformat(booking["checkin_from"]).astimezone(self.tz)
        until = dt.datetime.fromisoformat(booking["checkin_until"]).astimezone(self.tz)
        shown = codes.display(code) if code else str(booking.get("code"))
        return {"code": shown, "groups": shown.split("-"),
                "service": booking.get("service_name") or booking.get("service"),
                "agency": agency.name if agency else "", "date": self.day_text(day),
                "slot": f"{start:%H.%M} {bahasa.zona(start)}",
                "window": f"Datang antara pukul {opens:%H.%M} dan {until:%H.%M} {bahasa.zona(until)}",
                "requirements": list(svc.requirements) if svc else [], "status": booking.get("status"),
                "ticket": booking.get("ticket"), "path": "/reservasi/bukti/" + quote(shown),
                "link": (self.base or "") + "/reservasi/bukti/" + quote(shown)}


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def form_text(form: FormData, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


