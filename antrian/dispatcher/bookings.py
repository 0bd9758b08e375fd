"""The dispatcher's side of online booking: a BookingRequest decided against the engine
(antrian/queue/booking.py) into its events and its reply.

Personal data stays out of everything kept or sent: the name is checked and dropped (the
confirmation the public app shows comes from its own form), the phone and the NIK become
keyed hashes under the site secret (antrian/queue/codes.py, antrian/links.py) before the
engine sees them, and no log line carries any of them. What is stored is the Booked event:
code, service, date, slot and the two hashes.

`slots` and `lookup` change nothing, so their replies are not remembered under (sender,
id): answering one again is harmless and costs no write. `book` and `cancel` are
remembered like every other reply, so a retry never books twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from antrian import links, protocol
from antrian.errors import CredentialsError, QueueError
from antrian.queue import codes
from antrian.queue.engine import Engine, Outcome
from antrian.site import Config

log = logging.getLogger("antrian.dispatcher")

READS = ("slots", "lookup")


class BookingDesk:
    """Decides BookingRequests; the site secret is read once, when first needed."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._secret: bytes | None = None

    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = links.site_secret(self.config)
        return self._secret

    def decide(self, engine: Engine, msg: protocol.BookingRequest, now: dt.datetime) -> tuple[Outcome, dict[str, Any]]:
        """(what to store and apply, the reply body); a refusal is a reply with no events."""
        try:
            outcome, body = self._decide(engine, msg, now)
        except QueueError as exc:
            return Outcome(), protocol.reply_error(msg.id, exc.code, exc.message)
        except CredentialsError as exc:
            log.error("dispatcher: booking %r refused: %s", msg.id, exc)
            return Outcome(), protocol.reply_error(msg.id, "internal", "Reservasi sedang tidak tersedia")
        return outcome, body

    def _decide(self, engine: Engine, msg: protocol.BookingRequest, now: dt.datetime):
        if msg.action == "slots":
            return Outcome(), protocol.reply_slots(msg.id, engine.booking_slots(msg.service, msg.date, now))
        if msg.action == "lookup":
            return Outcome(), protocol.reply_booking(msg.id, engine.booking(engine.find_booking(msg.code)))
        phone = codes.person_key(self.secret(), "phone", msg.phone)
        if msg.action == "cancel":
            code = engine.find_booking(msg.code, phone)
            outcome = engine.cancel_booking(code, phone, now)
        else:
            nik = codes.person_key(self.secret(), "nik", msg.nik) if msg.nik else None
            outcome = engine.book(msg.service, msg.date, msg.slot, phone, nik, now)
            code = outcome.events[0].code
        engine.apply_all(outcome.events)
        return outcome, protocol.reply_booking(msg.id, engine.booking(code))
