"""The dispatcher's side of the satisfaction survey: a survey tied to the ticket it is about.

- `SurveyDesk.lookup`: a kiosk asks, before its questions, whether the number a citizen
  typed or scanned (``survey_ticket`` on its request topic) is a ticket served today. The
  reply is the Ticket with ``counter`` and ``counter_name`` (where it was served), or
  ``unknown_ticket`` with an Indonesian sentence saying why not: no such number today,
  not served yet, not served (a no-show, withdrawn), or its questionnaire already
  answered. A read: nothing is stored, so nothing is remembered under its id.
- `SurveyDesk.row`: the row a Survey is stored as. A survey that names its ticket but
  not its counter (the kiosk's) gets the counter that served the ticket, so the report can
  count it for its agency and service even where the ticket's number is not in the
  replayed day (antrian/tools/ikm.py).

The numbers whose nine-element questionnaire was answered today are read once from the
store per business day and kept up to date as surveys arrive.
"""

from __future__ import annotations

from typing import Any

from antrian import protocol
from antrian.errors import QueueError
from antrian.queue.engine import Engine
from antrian.queue.rules import T, normalize_number

__all__ = ["SurveyDesk"]


class SurveyDesk:
    def __init__(self, store) -> None:
        self.store = store
        self._day: str | None = None
        self._answered: set[str] = set()

    def _today(self, day: str) -> set[str]:
        if self._day != day:
            rows = self.store.surveys(day, day)
            self._day = day
            self._answered = {n for r in rows if r.get("answers") and (n := normalize_number(r.get("ticket") or ""))}
        return self._answered

    def lookup(self, engine: Engine, text: str) -> dict[str, Any]:
        """The Ticket (plus ``counter``, ``counter_name``) of a number served today, or QueueError
        ``unknown_ticket``."""
        number = normalize_number(text)
        if number is None or not engine.knows_ticket(number):
            shown = number or text.strip()[:8]
            raise QueueError("unknown_ticket", f"Nomor {shown} tidak ditemukan pada antrean hari ini; "
                                               "periksa nomor pada tiket Anda")
        t = engine.tickets[number]
        if t.status in (T.WAITING, T.SERVING):
            raise QueueError("unknown_ticket", f"Nomor {number} belum selesai dilayani; survei dapat diisi "
                                               "setelah pelayanan selesai")
        if t.status != T.SERVED:
            raise QueueError("unknown_ticket", f"Nomor {number} tidak tercatat dilayani hari ini")
        if number in self._today(engine.day.isoformat()):
            raise QueueError("unknown_ticket", f"Survei untuk nomor {number} sudah diisi hari ini. Terima kasih")
        counter = engine.config.counters.get(t.counter or "")
        return {**engine.ticket(number), "counter": t.counter, "counter_name": counter.name if counter else None}

    def row(self, engine: Engine, day: str, at: str, device: str, msg: protocol.Survey) -> dict[str, Any]:
        """The store's row of a Survey, its counter filled in from its ticket when it named none."""
        counter = msg.counter
        number = normalize_number(msg.ticket) if msg.ticket else None
        if counter is None and number is not None and engine.knows_ticket(number):
            counter = engine.tickets[number].counter
        if msg.answers is not None and number is not None:
            self._today(day).add(number)
        return {"day": day, "at": at, "device": device, "ticket": msg.ticket, "counter": counter,
                "score": msg.score, "answers": msg.answers, "profile": msg.profile}
