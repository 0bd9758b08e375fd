"""/reservasi's side of the wire: BookingRequests to the dispatcher and their replies,
and what a refusal says to the citizen (one Indonesian sentence each).

The public app never decides a booking: the dispatcher does (antrian/dispatcher/bookings.py).
:class:`Desk` publishes a BookingRequest on ``booking/{device}/request`` through the app's
one MQTT client (web/hub.py) and waits for the Reply with the same id on
``booking/{device}/reply``, at most REPLY_TIMEOUT seconds. One task reads the hub's
``booking`` events and hands each reply to the request waiting for its id, so a burst of
bookings costs one dictionary look-up per reply, not one per open request.

- While the broker or the dispatcher is gone nothing is published (a booking left with
  the broker would be decided whenever the dispatcher comes back, long after the citizen
  gave up): :class:`Unanswered` with a sentence saying so.
- A ``book`` or ``cancel`` carries the id of the form it came from (made when the form
  was drawn, random): sending the form again -- after a timeout, a reload -- repeats the
  id, and the dispatcher answers a repeated id with its first reply, so nothing is ever
  booked twice.
- ``slots`` replies are kept SLOTS_FRESH seconds per (service, day) and asked for once
  however many pages want them at the same moment (the opening rush: a thousand phones
  looking at the same day). The answer to a ``book`` through this app is written into
  the kept slots (one place fewer; a slot or the day full), a cancel forgets the day's
  entry, so a citizen sees their own outcome at once; the dispatcher's answer to
  ``book`` is what counts anyway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from typing import TYPE_CHECKING, Any

from antrian import bahasa, protocol
from antrian.errors import AntrianError

if TYPE_CHECKING:
    from web.app import Web

__all__ = ["Desk", "REPLY_TIMEOUT", "Unanswered", "new_id", "refusal_text"]

log = logging.getLogger("antrian.web")

REPLY_TIMEOUT = 8.0  # a dispatcher answers in milliseconds; past this the citizen is told to send again
SLOTS_FRESH = 1.0  # seconds a day's slots are shown from the last answer

GONE_BROKER = "Sistem reservasi sedang tidak tersambung. Silakan coba lagi beberapa saat lagi."
GONE_DISPATCHER = "Server antrean sedang tidak aktif. Silakan coba lagi beberapa saat lagi."
NO_REPLY = ("Server antrean belum menjawab. Silakan kirim ulang; reservasi Anda tidak akan tercatat dua kali.")


class Unanswered(AntrianError):
    """No answer from the dispatcher: *status* for the page, *text* for the citizen."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def new_id(action: str) -> str:
    """A BookingRequest id nobody can guess (a form's id is its key to the dispatcher's
    remembered reply): the action's first letter and 128 random bits."""
    return f"r{action[0]}-{secrets.token_urlsafe(16)}"


def _day_text(day: dt.date, tz: dt.tzinfo) -> str:
    return bahasa.tanggal(dt.datetime.combine(day, dt.time(), tzinfo=tz), jam=False)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def refusal_text(error: Any, *, action: str, service_name: str = "", day: dt.date | None = None,
                 slot: str = "", tz: dt.tzinfo = dt.timezone.utc) -> str:
    """One Indonesian sentence for a refused BookingRequest (the Reply's ``error``)."""
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) and isinstance(error.get("message"), str) else ""
    when = f" pada {_day_text(day, tz)}" if day else ""
    jam = slot.replace(":", ".")
    if code == "slot_full":
        return f"Jam {jam} sudah penuh. Silakan pilih jam lain."
    if code == "booking_quota_exhausted":
        return (f"Kuota reservasi {service_name}{when} sudah habis. "
                "Silakan pilih tanggal lain atau datang langsung tanpa reservasi.")
    if code == "booking_exists":
        return f"Nomor HP atau NIK ini sudah memiliki reservasi {service_name}{when}."
    if code == "booking_closed":
        # The dispatcher says which: not open yet (and when it opens), out of range, the
        # service closed that day, the slot already past, a booking no longer cancellable.
        return _sentence(message) if message else "Reservasi untuk tanggal ini belum dibuka atau sudah ditutup."
    if code == "unknown_booking":
        if action == "cancel":
            return "Kode reservasi tidak ditemukan atau nomor HP tidak cocok. Periksa kembali kode dan nomor HP Anda."
        return "Kode reservasi tidak ditemukan. Periksa kembali kodenya."
    if code == "rate_limited":
        return "Sistem reservasi sedang ramai. Silakan coba lagi sebentar lagi."
    if code == "unknown_service":
        return "Layanan ini tidak ditemukan atau tidak menerima reservasi."
    if code == "bad_request":
        return "Data reservasi tidak dapat diproses. Periksa kembali isian Anda."
    return "Reservasi sedang tidak dapat dilayani. Silakan coba lagi nanti."


class Desk:
    """The app's BookingRequests in flight, and the recent slots of each day."""

    def __init__(self, web: Web, timeout: float = REPLY_TIMEOUT) -> None:
        self.web = web
        self.timeout = timeout
        self._waiting: dict[str, asyncio.Future] = {}
        self._pump: asyncio.Task | None = None
        self._slots: dict[tuple[str, dt.date], tuple[float, dict[str, Any]]] = {}
        self._asking: dict[tuple[str, dt.date], asyncio.Future] = {}

    # -- one request ---------------------------------------------------------------------

    async def ask(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The dispatcher's Reply to *payload* (a BookingRequest with its id); Unanswered
        when it cannot be sent or no reply comes in time."""
        hub = self.web.hub
        if not hub.broker_connected:
            raise Unanswered(503, GONE_BROKER)
        if hub.dispatcher.online is False:
            raise Unanswered(503, GONE_DISPATCHER)
        self._start_pump()
        mid = payload["id"]
        future = self._waiting.get(mid)
        if future is None or future.done():  # the same form sent twice at once shares one wait
            future = self._waiting[mid] = asyncio.get_running_loop().create_future()
        try:
            if not hub.publish(protocol.booking_request(hub.site, self.web.device), payload):
                raise Unanswered(503, GONE_BROKER)
            return await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except asyncio.TimeoutError:
            log.warning("reservasi: no reply to %s %s within %.0f s", payload.get("action"), mid, self.timeout)
            raise Unanswered(504, NO_REPLY) from None
        finally:
            if self._waiting.get(mid) is future:
                del self._waiting[mid]

    def _start_pump(self) -> None:
        if self._pump is None or self._pump.done():
            listener = self.web.hub.listen(("booking",))
            self._pump = asyncio.get_running_loop().create_task(self._read(listener))

    async def _read(self, listener) -> None:
        """Hand every booking reply to the request waiting for its id (on the app's loop)."""
        hub = self.web.hub
        try:
            while True:
                event = await listener.next()
                if event is None:
                    if not listener.dropped:
                        return  # the app stops
                    hub.unlisten(listener)  # fell behind (never in practice): listen afresh
                    listener = hub.listen(("booking",))
                    continue
                reply = event.data
                future = self._waiting.pop(reply.get("id"), None) if isinstance(reply, dict) else None
                if future is not None and not future.done():
                    future.set_result(reply)
        finally:
            hub.unlisten(listener)

    # -- slots -------------------------------------------------------------------------------

    async def slots(self, service: str, day: dt.date) -> dict[str, Any]:
        """The dispatcher's ``slots`` Reply for a service's day, at most SLOTS_FRESH old."""
        key = (service, day)
        loop = asyncio.get_running_loop()
        kept = self._slots.get(key)
        if kept is not None and loop.time() - kept[0] < SLOTS_FRESH:
            return kept[1]
        asking = self._asking.get(key)
        if asking is not None:
            return await asyncio.shield(asking)
        asking = self._asking[key] = loop.create_future()
        try:
            reply = await self.ask({"id": new_id("slots"), "action": "slots", "service": service,
                                    "date": day.isoformat()})
        except BaseException as exc:
            # The pages waiting on this question get its failure; a cancelled asker (the app
            # stopping) must not leave them waiting for ever.
            asking.set_exception(exc if isinstance(exc, Unanswered) else Unanswered(504, NO_REPLY))
            asking.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            self._asking.pop(key, None)
        self._slots[key] = (loop.time(), reply)
        asking.set_result(reply)
        return reply

    def note(self, service: str, day: dt.date, slot: str, outcome: str) -> None:
        """What the answer to a ``book`` says of the day (``booked``, or the refusal's code),
        written into the kept slots: the next page shows it without asking again (asking
        after every booking would ask for every page in a rush)."""
        key = (service, day)
        kept = self._slots.get(key)
        if kept is None or kept[1].get("ok") is not True or not isinstance(kept[1].get("slots"), list):
            return
        slots = []
        for entry in kept[1]["slots"]:
            entry = dict(entry) if isinstance(entry, dict) else entry
            if isinstance(entry, dict) and isinstance(entry.get("free"), int):
                if outcome == "booking_quota_exhausted" or (entry.get("slot") == slot and outcome == "slot_full"):
                    entry["free"] = 0
                elif entry.get("slot") == slot and outcome == "booked":
                    entry["free"] = max(0, entry["free"] - 1)
            slots.append(entry)
        self._slots[key] = (kept[0], {**kept[1], "slots": slots})

    def forget(self, service: str, day: dt.date) -> None:
        """A booking or a cancel changed the day: its slots are asked for again."""
        self._slots.pop((service, day), None)
