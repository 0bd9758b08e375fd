"""The MQTT wire contract of DESIGN.md: topic names and JSON payloads.

This is the only place topics are built or parsed. Incoming payloads are decoded and
checked here into small frozen objects; anything wrong raises `ProtocolError` with an
Indonesian message fit for a citizen's screen (the wire contract asks for that) and
the sender's id when one could be read, so the dispatcher can answer `bad_request`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from typing import Any

from antrian.errors import ERROR_CODES, ProtocolError

ROOT = "antrian"
QOS = 1
MAX_PAYLOAD = 16 * 1024  # a request is ~100 bytes; anything this big is junk
# What the dispatcher publishes (board, catalog, queue lists, counter states, replies) can
# be far larger: a queue list of 200 waiting tickets is 23 KB, a 40-agency catalog 89 KB.
# Only the dispatcher may write those topics (the ACL), and the broker's packet limit
# (antrian/adapters/mosquitto.py, 512 KiB) bounds them; their readers decode with this.
MAX_STATE_PAYLOAD = 512 * 1024
MAX_ID = 64
# A counter command's actions (DESIGN.md); the engine has one rule per action.
ACTIONS = ("call_next", "recall", "no_show", "finish", "transfer", "call_number", "open", "pause", "close")
SURVEY_ELEMENTS = tuple(f"U{i}" for i in range(1, 10))
# A BookingRequest's actions (DESIGN.md, the browser parts) and the fields each needs.
# The respondent profile of Permenpan RB 14/2017's sample questionnaire, each part optional:
# age in bands (or years on the wire, put into its band), sex, education, occupation.
PROFILE_CHOICES = {
    "umur": ("<20", "20-29", "30-39", "40-49", "50-59", "60+"),
    "jenis_kelamin": ("L", "P"),
    "pendidikan": ("SD", "SMP", "SMA", "D1-D3", "D4/S1", "S2", "S3"),
    "pekerjaan": ("PNS", "TNI", "Polri", "Swasta", "Wirausaha", "Lainnya"),
}
BOOKING_ACTIONS = {"slots": ("service", "date"), "book": ("service", "date", "slot", "name", "phone"),
                   "cancel": ("code", "phone"), "lookup": ("code",)}


def kiosk_request(site: str, kiosk: str) -> str:
    return f"{ROOT}/{site}/kiosk/{kiosk}/request"


def kiosk_reply(site: str, kiosk: str) -> str:
    return f"{ROOT}/{site}/kiosk/{kiosk}/reply"


def counter_command(site: str, counter: str) -> str:
    return f"{ROOT}/{site}/counter/{counter}/command"


def counter_reply(site: str, counter: str) -> str:
    return f"{ROOT}/{site}/counter/{counter}/reply"


def counter_state(site: str, counter: str) -> str:
    return f"{ROOT}/{site}/counter/{counter}/state"


def board(site: str) -> str:
    return f"{ROOT}/{site}/board"


def call(site: str) -> str:
    return f"{ROOT}/{site}/call"


def survey(site: str, device: str) -> str:
    return f"{ROOT}/{site}/survey/{device}"


def status(site: str, device: str) -> str:
    return f"{ROOT}/{site}/status/{device}"


def catalog(site: str) -> str:
    return f"{ROOT}/{site}/catalog"


def queue_list(site: str, service: str) -> str:
    """The retained QueueList of one service: who waits, in call order (numbers only)."""
    return f"{ROOT}/{site}/queue/{service}"


def booking_request(site: str, device: str) -> str:
    """The public app's BookingRequests (its own device id): slots, book, cancel, lookup."""
    return f"{ROOT}/{site}/booking/{device}/request"


def booking_reply(site: str, device: str) -> str:
    return f"{ROOT}/{site}/booking/{device}/reply"


def stats(site: str) -> str:
    """The retained Stats: the business day's totals per service (the head's dashboard)."""
    return f"{ROOT}/{site}/stats"


def bridge(site: str) -> str:
    """Mosquitto's notice of the site's bridge to the central broker, retained at both ends:
    "1" while it is connected, "0" once it is not (at the centre, the bridge's will). Outside
    the site's own topics on purpose: the site's "0" of an outage would otherwise wait in the
    bridge's queue and reach the centre after the "1" of the reconnect."""
    return f"{ROOT}/bridge/{site}"


BRIDGE_UP, BRIDGE_DOWN = b"1", b"0"


def site_filter(site: str) -> str:
    """Every topic of a site: what the dispatcher owns and what a bridge carries out."""
    return f"{ROOT}/{site}/#"


def dispatcher_subscriptions(site: str) -> list[str]:
    """What the dispatcher listens to: requests, commands and surveys."""
    return [kiosk_request(site, "+"), counter_command(site, "+"), survey(site, "+"), booking_request(site, "+")]


@dataclasses.dataclass(frozen=True)
class Topic:
    """A parsed topic: `kind` is kiosk_request, counter_command, survey, ... and `entity` its id."""

    kind: str
    entity: str | None


_SHAPES = {
    ("kiosk", "request"): "kiosk_request", ("kiosk", "reply"): "kiosk_reply",
    ("counter", "command"): "counter_command", ("counter", "reply"): "counter_reply",
    ("counter", "state"): "counter_state",
    ("booking", "request"): "booking_request", ("booking", "reply"): "booking_reply",
}


def parse_topic(site: str, topic: str) -> Topic | None:
    """The kind of a topic of this site, or None for anything else."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != ROOT or parts[1] != site:
        return None
    rest = parts[2:]
    if len(rest) == 1 and rest[0] in ("board", "call", "catalog", "stats"):
        return Topic(rest[0], None)
    if len(rest) == 2 and rest[0] in ("survey", "status") and rest[1]:
        return Topic(rest[0], rest[1])
    if len(rest) == 2 and rest[0] == "queue" and rest[1]:
        return Topic("queue_list", rest[1])
    if len(rest) == 3 and (rest[0], rest[2]) in _SHAPES and rest[1]:
        return Topic(_SHAPES[(rest[0], rest[2])], rest[1])
    return None


@dataclasses.dataclass(frozen=True)
class Request:
    id: str
    service: str
    priority: str | None
    at: dt.datetime | None = None  # when the citizen pressed (the kiosk's clock), if it says
    booking: str | None = None  # a booking code as typed or scanned: the check-in (service is then None)
    survey_ticket: str | None = None  # a ticket number typed for the survey: a lookup, nothing issued


@dataclasses.dataclass(frozen=True)
class Command:
    id: str
    action: str
    args: dict[str, Any]
    at: dt.datetime | None = None  # when the officer pressed (optional; a remote console's app sets it)


@dataclasses.dataclass(frozen=True)
class Survey:
    id: str
    ticket: str | None
    counter: str | None
    score: int | None
    answers: dict[str, int] | None
    profile: dict[str, str] | None = None  # PROFILE_CHOICES, only the parts answered


def decode(payload: bytes, limit: int = MAX_PAYLOAD) -> dict[str, Any]:
    """A JSON object from raw bytes, or ProtocolError (with no id: none could be read).
    *limit*: MAX_PAYLOAD for what devices send, MAX_STATE_PAYLOAD for what the dispatcher publishes."""
    if len(payload) > limit:
        raise ProtocolError(f"Pesan terlalu besar ({len(payload)} byte)")
    try:
        obj = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError, not only JSONDecodeError: an integer of more than 4300 digits
        # raises a plain ValueError (Python's int_max_str_digits limit).
        raise ProtocolError("Pesan bukan JSON yang valid") from None
    if not isinstance(obj, dict):
        raise ProtocolError("Pesan harus berupa objek JSON")
    try:
        # A "\ud800" escape decodes to a lone surrogate, which no reply, log line or
        # database row can hold: refuse it here rather than fail halfway through.
        encode(obj)
    except (UnicodeEncodeError, RecursionError):
        raise ProtocolError("Pesan berisi teks yang tidak valid", message_id(obj)) from None
    return obj


def message_id(obj: dict[str, Any]) -> str | None:
    """The sender's id if it is a valid one, else None (an error reply then carries null)."""
    mid = obj.get("id")
    if not isinstance(mid, str) or not 1 <= len(mid) <= MAX_ID:
        return None
    try:
        mid.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: it could not be echoed
        return None
    return mid


def _id(obj: dict[str, Any]) -> str:
    mid = message_id(obj)
    if mid is None:
        raise ProtocolError(f"Kolom 'id' harus berupa teks 1–{MAX_ID} karakter")
    return mid


def _text(obj: dict[str, Any], key: str, mid: str, *, optional: bool = False, limit: int = 64) -> str | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise ProtocolError(f"Kolom '{key}' harus berupa teks 1–{limit} karakter", mid)
    return value


def _score(value: Any, key: str, mid: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        raise ProtocolError(f"Nilai '{key}' harus bilangan 1 sampai 4", mid)
    return value


def _time(obj: dict[str, Any], key: str, mid: str) -> dt.datetime | None:
    """An optional ISO 8601 time with its UTC offset (``2026-11-23T09:15:02+08:00``)."""
    value = obj.get(key)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError(value)
        at = dt.datetime.fromisoformat(value)
        if at.utcoffset() is None:
            raise ValueError(value)
    except ValueError:
        raise ProtocolError(f"Kolom '{key}' harus berupa waktu ISO 8601 dengan zona waktu, "
                            "mis. 2026-11-23T09:15:02+08:00", mid) from None
    return at


def parse_request(obj: dict[str, Any]) -> Request:
    mid = _id(obj)
    if obj.get("survey_ticket") is not None:
        return Request(mid, None, None, _time(obj, "at", mid), survey_ticket=_text(obj, "survey_ticket", mid, limit=8))
    booking = _text(obj, "booking", mid, optional=True, limit=40)
    service = _text(obj, "service", mid, optional=booking is not None)
    return Request(mid, service, _text(obj, "priority", mid, optional=True), _time(obj, "at", mid), booking)


def request(msg_id: str, service: str | None, priority: str | None, at: dt.datetime | None = None,
            booking: str | None = None) -> dict[str, Any]:
    """A kiosk's Request; `at`, when the citizen pressed, lets the dispatcher answer
    `expired` to one that arrives after the citizen has gone. With `booking` (a code as
    typed or scanned) and no service: the check-in of an online booking."""
    body: dict[str, Any] = {"id": msg_id, "service": service, "priority": priority}
    if booking is not None:
        body = {"id": msg_id, "booking": booking, "priority": priority}
    if at is not None:
        body["at"] = at.isoformat(timespec="seconds")
    return body


def survey_lookup(msg_id: str, number: str, at: dt.datetime | None = None) -> dict[str, Any]:
    """A kiosk's question before its survey: was ticket `number` served today? The reply
    carries the Ticket (with ``counter``, where it was served) or an ``unknown_ticket`` error."""
    body: dict[str, Any] = {"id": msg_id, "survey_ticket": number}
    if at is not None:
        body["at"] = at.isoformat(timespec="seconds")
    return body


def parse_command(obj: dict[str, Any]) -> Command:
    mid = _id(obj)
    action = _text(obj, "action", mid)
    if action not in ACTIONS:
        raise ProtocolError(f"Perintah '{action}' tidak dikenal", mid)
    args: dict[str, Any] = {}
    if action == "transfer":
        args["to_service"] = _text(obj, "to_service", mid)
    elif action == "call_number":
        args["number"] = _text(obj, "number", mid, limit=8)
    elif action == "pause":
        args["reason"] = _text(obj, "reason", mid, optional=True, limit=200)
    return Command(mid, action, args, _time(obj, "at", mid))


def parse_survey(obj: dict[str, Any]) -> Survey:
    mid = _id(obj)
    score = obj.get("score")
    answers = obj.get("answers")
    if score is not None:
        score = _score(score, "score", mid)
    if answers is not None:
        if not isinstance(answers, dict) or set(answers) != set(SURVEY_ELEMENTS):
            raise ProtocolError("Kolom 'answers' harus berisi jawaban U1 sampai U9", mid)
        answers = {k: _score(answers[k], k, mid) for k in SURVEY_ELEMENTS}
    if score is None and answers is None:
        raise ProtocolError("Survei harus berisi 'score' atau 'answers'", mid)
    return Survey(mid, _text(obj, "ticket", mid, optional=True, limit=8),
                  _text(obj, "counter", mid, optional=True), score, answers, _profile(obj.get("profile"), mid))


def _profile(value: Any, mid: str) -> dict[str, str] | None:
    """The optional respondent profile: only PROFILE_CHOICES' keys, each one of its values
    (``umur`` may also be whole years, 10-120, kept as its band); empty is None."""
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= set(PROFILE_CHOICES):
        raise ProtocolError(f"Kolom 'profile' hanya boleh berisi {', '.join(PROFILE_CHOICES)}", mid)
    out = {}
    for key, choices in PROFILE_CHOICES.items():
        v = value.get(key)
        if key == "umur" and isinstance(v, int) and not isinstance(v, bool) and 10 <= v <= 120:
            v = age_band(v)
        if v is None:
            continue
        if v not in choices:
            raise ProtocolError(f"Profil '{key}' harus salah satu dari: {', '.join(choices)}", mid)
        out[key] = v
    return out or None


def age_band(years: int) -> str:
    """The band of PROFILE_CHOICES['umur'] for an age in years."""
    bands = PROFILE_CHOICES["umur"]
    return bands[0] if years < 20 else bands[min(years // 10 - 1, len(bands) - 1)]


@dataclasses.dataclass(frozen=True)
class BookingRequest:
    """A BookingRequest, its fields checked for its action; `phone` and `nik` are digits
    only (personal data: the dispatcher keeps them only as keyed hashes, never logs them)."""

    id: str
    action: str
    service: str | None = None
    date: dt.date | None = None
    slot: dt.time | None = None
    name: str | None = None
    phone: str | None = None
    nik: str | None = None
    code: str | None = None


def phone_digits(text: object) -> str | None:
    """An Indonesian mobile number as digits from 08 (``+62 812-3456-7890`` -> 081234567890), or None."""
    if not isinstance(text, str) or len(text) > 30:
        return None
    digits = re.sub(r"[\s\-().]", "", text)
    if digits.startswith("+62"):
        digits = "0" + digits[3:]
    elif digits.startswith("62"):
        digits = "0" + digits[2:]
    return digits if re.fullmatch(r"08\d{7,11}", digits) else None


def nik_digits(text: object) -> str | None:
    """A NIK (16 digits; spaces allowed), or None."""
    if not isinstance(text, str) or len(text) > 30:
        return None
    digits = re.sub(r"\s", "", text)
    return digits if re.fullmatch(r"\d{16}", digits) else None


def parse_booking(obj: dict[str, Any]) -> BookingRequest:
    mid = _id(obj)
    action = _text(obj, "action", mid)
    if action not in BOOKING_ACTIONS:
        raise ProtocolError(f"Permintaan '{action}' tidak dikenal", mid)
    needs = BOOKING_ACTIONS[action]
    fields: dict[str, Any] = {}
    if "service" in needs:
        fields["service"] = _text(obj, "service", mid, limit=8)
    if "date" in needs:
        try:
            fields["date"] = dt.date.fromisoformat(_text(obj, "date", mid, limit=10))
        except ValueError:
            raise ProtocolError("Kolom 'date' harus berupa tanggal seperti 2026-12-07", mid) from None
    if "slot" in needs:
        text = _text(obj, "slot", mid, limit=5)
        if not re.fullmatch(r"\d{2}:\d{2}", text) or int(text[:2]) > 23 or int(text[3:]) > 59:
            raise ProtocolError("Kolom 'slot' harus berupa jam seperti 09:30", mid)
        fields["slot"] = dt.time(int(text[:2]), int(text[3:]))
    if "name" in needs:
        fields["name"] = _text(obj, "name", mid, limit=100).strip() or None
        if fields["name"] is None:
            raise ProtocolError("Nama harus diisi", mid)
    if "phone" in needs:
        fields["phone"] = phone_digits(obj.get("phone"))
        if fields["phone"] is None:
            raise ProtocolError("Nomor HP tidak valid (contoh: 0812 3456 7890)", mid)
    if action == "book" and obj.get("nik") not in (None, ""):
        fields["nik"] = nik_digits(obj.get("nik"))
        if fields["nik"] is None:
            raise ProtocolError("NIK harus 16 angka", mid)
    if "code" in needs:
        fields["code"] = _text(obj, "code", mid, limit=40)
    return BookingRequest(mid, action, **fields)


def reply_slots(msg_id: str, slots: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": msg_id, "ok": True, "slots": slots}


def reply_booking(msg_id: str, booking: dict[str, Any]) -> dict[str, Any]:
    return {"id": msg_id, "ok": True, "booking": booking}


def reply_ok(msg_id: str | None, ticket: dict[str, Any] | None) -> dict[str, Any]:
    return {"id": msg_id, "ok": True, "ticket": ticket}


def reply_error(msg_id: str | None, code: str, message: str, service: str | None = None) -> dict[str, Any]:
    """A refusal; `service`: a refused check-in's booked service (checkin_early, checkin_late)."""
    assert code in ERROR_CODES, code
    error = {"code": code, "message": message}
    if service is not None:
        error["service"] = service
    return {"id": msg_id, "ok": False, "error": error}


def device_status(device: str, role: str | None, online: bool, problems: list[str], version: str,
                  at: str) -> dict[str, Any]:
    """A device's retained status on ``status(site, device)`` (DESIGN.md): who it is, whether
    it is online, its current problems, its software version and when (ISO 8601)."""
    return {"device": device, "role": role, "online": online, "problems": list(problems), "version": version,
            "at": at}


BOARDS = "boards"  # the staff web app's DeviceStatus: the browser boards it serves
MAX_BOARD_ADDRESSES = 4  # a board's TVs named in its entry; the count says how many there are


def browser_board(device: str, pages: int, since: str | None, last_seen: str | None,
                  addresses: list[str]) -> dict[str, Any]:
    """One entry of ``boards`` in a staff web app's DeviceStatus (docs/protocol.md, "Device
    status"): a browser board it serves, how many pages (TVs) show it now and *since* when,
    their *addresses*; with no page, when the last one went (*last_seen*, None: not while
    this app ran). The app's will drops the list with the rest of its status."""
    return {"device": device, "pages": pages, "since": since, "last_seen": last_seen,
            "addresses": list(addresses)[:MAX_BOARD_ADDRESSES]}


def browser_boards(status: Any) -> dict[str, dict[str, Any]]:
    """The ``boards`` of a web app's DeviceStatus by device, each entry as browser_board
    makes it; an entry of the wrong shape is left out, and a status that is not online
    (the will) serves none."""
    if not isinstance(status, dict) or status.get("online") is not True or not isinstance(status.get(BOARDS), list):
        return {}
    found: dict[str, dict[str, Any]] = {}
    for entry in status[BOARDS]:
        if not isinstance(entry, dict) or not isinstance(entry.get("device"), str):
            continue
        pages = entry.get("pages")
        if not isinstance(pages, int) or isinstance(pages, bool) or pages < 0:
            continue
        since, seen, addresses = entry.get("since"), entry.get("last_seen"), entry.get("addresses")
        found[entry["device"]] = browser_board(
            entry["device"], pages, since if isinstance(since, str) else None, seen if isinstance(seen, str) else None,
            [a for a in addresses if isinstance(a, str)] if isinstance(addresses, list) else [])
    return found


def device_will(device: str, role: str | None) -> dict[str, Any]:
    """The retained will (and clean-shutdown status) of a device: ``{"device", "role", "online": false}``."""
    return {"device": device, "role": role, "online": False}


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
