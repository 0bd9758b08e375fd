"""Survei Kepuasan Masyarakat (SKM) at the kiosk, tied to the ticket it is about.

The citizen first types the number on their ticket (or scans the ticket's QR code);
the dispatcher says whether it is a ticket served today (`check_ticket`, the
``survey_ticket`` request of docs/protocol.md) and where it was served. Then the nine
elements of the questionnaire (antrian/skm.py, Permenpan RB No. 14 Tahun 2017), one per
screen, and the four optional questions of the respondent's profile; the answers go
out on the survey topic:

    payload(answers, ticket="A-012", profile={"umur": "30-39"})
        ->  {"id", "ticket": "A-012", "counter": None, "score": None,
             "answers": {"U1": 3, ..., "U9": 4}, "profile": {"umur": "30-39"}}

The counter stays null: the dispatcher fills in the one that served the ticket.
"""

from __future__ import annotations

import re
import threading
import uuid
from typing import Any, Callable, Mapping

from antrian.protocol import PROFILE_CHOICES, SURVEY_ELEMENTS
from antrian.queue.rules import normalize_number
from antrian.skm import ELEMENTS, PROFILE, SKIP, Element, ProfileQuestion

__all__ = ["ELEMENTS", "Element", "PROFILE", "ProfileQuestion", "SKIP", "check_ticket", "number_from_scan",
           "payload"]

LOOKUP_SECONDS = 5.0  # how long the kiosk waits for the dispatcher's answer about a number

# What the survey screen says (fixed labels live in kiosk/screens/survey.kv).
ASK_TICKET = "Ketik nomor antrean pada tiket Anda, atau pindai kode QR tiket Anda."
TYPE_MORE = "Ketik huruf lalu angka nomor antrean Anda, misalnya A 1 2 untuk A-012."
CHECKING = "Memeriksa nomor antrean..."
NO_ANSWER = "Nomor belum dapat diperiksa karena layanan antrean sedang gangguan. Silakan coba lagi sebentar lagi."
NOT_A_TICKET = "Kode yang dipindai bukan tiket antrean. Silakan ketik nomor pada tiket Anda."
PROFILE_NOTE = "Boleh dilewati. Jawaban ini hanya untuk data responden survei."

# A ticket's QR holds the address of its live page, /t/A-012-20261204-<mac> (antrian/links.py):
# the number is in clear; whether it is a ticket served today is the dispatcher's to say.
_QR = re.compile(r"/t/([A-Za-z]{1,2}-[0-9]{3,4})-[0-9]{8}-")


def number_from_scan(text: str) -> str | None:
    """The ticket number in a scanned ticket QR or a typed number (``a12`` -> ``A-012``)."""
    m = _QR.search(text or "")
    return normalize_number(m.group(1) if m else (text or "").strip())


def served_where(ticket: Mapping[str, Any]) -> str:
    """One line about the ticket the survey is for: "A-012 · KTP Elektronik · Loket 1"."""
    parts = [ticket.get("number"), ticket.get("service_name"), ticket.get("counter_name")]
    return " · ".join(str(p) for p in parts if p)


def check_ticket(link: Any, number: str, done: Callable[[dict[str, Any] | None], None]) -> None:
    """Ask the dispatcher, off the UI thread, whether `number` was served today; `done(reply)`
    is called on that thread with the Reply, or None when none came."""
    def ask() -> None:
        done(link.ask_survey_ticket(uuid.uuid4().hex, number, timeout=LOOKUP_SECONDS))

    threading.Thread(target=ask, name="kiosk-survey-ticket", daemon=True).start()


def payload(answers: Mapping[str, int], *, ticket: str | None = None, profile: Mapping[str, str] | None = None,
            msg_id: str | None = None) -> dict[str, Any]:
    """The Survey message of the wire contract for a complete set of answers."""
    if set(answers) != set(SURVEY_ELEMENTS) or not all(answers[k] in (1, 2, 3, 4) for k in SURVEY_ELEMENTS):
        raise ValueError(f"a survey needs a score 1-4 for each of {', '.join(SURVEY_ELEMENTS)}: {dict(answers)}")
    given = {k: v for k, v in (profile or {}).items() if v is not None}
    if any(k not in PROFILE_CHOICES or v not in PROFILE_CHOICES[k] for k, v in given.items()):
        raise ValueError(f"not a respondent profile: {dict(given)}")
    body: dict[str, Any] = {"id": msg_id or uuid.uuid4().hex, "ticket": ticket, "counter": None, "score": None,
                            "answers": {k: answers[k] for k in SURVEY_ELEMENTS}}
    if given:
        body["profile"] = given
    return body
