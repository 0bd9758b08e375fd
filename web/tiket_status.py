"""What a citizen's ticket page shows, derived from the hub's state (web/tiket.py serves it).

:class:`View` is the hub's state at one moment indexed by ticket number: built once per
change of the hub's state (``Hub.version``) and shared by every open ticket page (a call
with 200 pages open is one index, not 200 scans). :class:`Memory` is what the app remembers across
views of the business day. :func:`status` puts them together for one ticket:

1. the business day is the Board's; a token of an earlier day is ``expired``;
2. ``called``: a counter's state serves the number; or a Call of the number is newer
   than the Board (the dispatcher publishes the call first, then the queue lists,
   counter states and board of the same batch);
3. ``waiting``: the number is in a QueueList's ``waiting``: its place there is how many
   are ahead; after a transfer it is in the new service's list, with the mark;
4. ``absent``: it is in a ``recallable`` list (an officer can still call it back; the
   page says to go to the counter); a no-show that fell past the late tolerance is
   told from a served ticket only by the memory of having seen it recallable;
5. ``done``: seen called and now nowhere: served; ``gone``: never seen called and now
   nowhere (served before the app was watching, withdrawn, or issued a moment ago and
   not yet in the list the hub has): a neutral sentence, no survey.

A remote counter (served from the agency's own office by video call) sends the citizen
to its ``location`` and, while it calls the ticket, gives its ``meeting_url`` from the
site file (never from the wire; only an http or https address) as ``meeting_url``.

The estimated wait is ``ahead`` × the service's pace: the mean time between its latest
first calls (up to 10 intervals, from the board's and the hub's recent calls), which
already counts every counter serving it; with fewer than three first calls today, the
site file's ``service_min`` ÷ the open counters of the service, as the dispatcher does
before it has service times. Without an open counter there is no estimate.

Every sentence the page shows is made here (``texts``), in Bahasa Indonesia.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from antrian import bahasa, links
from antrian.site import Config

__all__ = ["Memory", "View", "status"]

PACE_CALLS = 11  # the latest first calls whose spacing gives the pace (10 intervals)


@dataclasses.dataclass
class Memory:
    """What one app remembers of the current business day, across views."""

    day: str | None = None
    absent: set[str] = dataclasses.field(default_factory=set)  # numbers seen recallable
    counter: dict[str, str] = dataclasses.field(default_factory=dict)  # number -> the counter that called it
    surveyed: set[str] = dataclasses.field(default_factory=set)  # survey ids sent

    def today(self, day: str) -> None:
        if self.day != day:
            self.day, self.absent, self.counter = day, set(), {}
            self.surveyed = {s for s in self.surveyed if s.startswith(f"tiket:{day}:")}


class View:
    """The hub's state now, indexed by number (see the module docstring)."""

    def __init__(self, hub: Any, config: Config) -> None:
        snap = hub.snapshot()
        self.config = config
        self.online = bool(snap["broker"]) and _dict(snap["dispatcher"]).get("online") is not False
        board = _dict(snap["board"])
        today = board.get("business_day")
        self.today = today if isinstance(today, str) and snap["queues"] else None
        self.board_seq = board.get("seq") if isinstance(board.get("seq"), int) else None
        self.services, self.counter_names = _names(snap["catalog"], config)
        self.counter_status = {cid: _dict(state).get("status") for cid, state in snap["counters"].items()}
        self.serving: dict[str, tuple[str, str | None, Any]] = {}  # number -> (counter, name, service)
        for cid, state in snap["counters"].items():
            ticket = _dict(_dict(state).get("serving"))
            if isinstance(ticket.get("number"), str):
                self.serving[ticket["number"]] = (cid, _text(_dict(state).get("name")), ticket.get("service"))
        self.calls = [c for c in hub.calls_after(0) if str(c.get("at", ""))[:10] == self.today] if self.today else []
        self.last_call = {c["number"]: c for c in self.calls if isinstance(c.get("number"), str)}
        self.waiting: dict[str, tuple[str, int, Any]] = {}  # number -> (service, place, transferred_from)
        self.recallable: dict[str, str] = {}  # number -> service
        for code, lists in sorted(snap["queues"].items()):
            lists = _dict(lists)
            for place, t in enumerate(_list(lists.get("waiting"))):
                if isinstance(_dict(t).get("number"), str):
                    self.waiting.setdefault(t["number"], (code, place, t.get("transferred_from")))
            for t in _list(lists.get("recallable")):
                if isinstance(_dict(t).get("number"), str):
                    self.recallable.setdefault(t["number"], code)
        self._pace: dict[str, float | None] = {}

    def pace(self, service: str) -> float | None:
        """Minutes between the service's latest first calls; None with fewer than three."""
        if service not in self._pace:
            times = []
            for call in self.calls:
                if call.get("service") == service and call.get("recall") is not True:
                    try:
                        times.append(dt.datetime.fromisoformat(call["at"]))
                    except (TypeError, ValueError):
                        continue
            times = times[-PACE_CALLS:]
            self._pace[service] = (max(0.0, (times[-1] - times[0]).total_seconds() / 60 / (len(times) - 1))
                                   if len(times) >= 3 else None)
        return self._pace[service]

    def estimate(self, service: str, ahead: int) -> tuple[int | None, str | None]:
        """(minutes, basis): 'pace' from the latest first calls, 'standard' from the site
        file; (None, None) while no counter of the service is open."""
        pace = self.pace(service)
        if pace is not None:
            return round(ahead * pace), "pace"
        svc = self.config.services.get(service)
        open_counters = sum(1 for cid, c in self.config.counters.items()
                            if service in c.services and self.counter_status.get(cid) == "open")
        if svc is None or not open_counters:
            return None, None
        return round(ahead * svc.service_min / open_counters), "standard"


def status(view: View, memory: Memory, day: dt.date, number: str) -> dict[str, Any]:
    """What the page shows of ticket *number* of *day*."""
    out: dict[str, Any] = {"number": number, "day": day.isoformat(), "state": "loading", "service": None,
                           "service_name": None, "ahead": None, "wait_min": None, "wait_basis": None,
                           "counter": None, "counter_name": None, "call_seq": None, "recall": False,
                           "transferred_from": None, "recallable": False, "survey": None, "online": view.online,
                           "location": None, "meeting_url": None}
    today = view.today
    if today is None or day.isoformat() > today:  # nothing yet, or a day this app has not seen open
        return _texts(out, view.config)
    if day.isoformat() < today:
        out["state"] = "expired"
        return _texts(out, view.config)
    memory.today(today)
    names = view.services
    last = view.last_call.get(number)
    if last is not None:
        out.update(call_seq=last["seq"], recall=last.get("recall") is True)
        if _text(last.get("counter")):
            memory.counter[number] = last["counter"]
    called = None
    if number in view.serving:
        counter, name, service = view.serving[number]
        called = (counter, name or (last or {}).get("counter_name") or view.counter_names.get(counter), service)
    elif last is not None and view.board_seq is not None and last["seq"] > view.board_seq:
        called = (_text(last.get("counter")), _text(last.get("counter_name")), last.get("service"))
    if called is not None:
        counter, name, service = called
        memory.absent.discard(number)
        if counter:
            memory.counter[number] = counter
        out.update(state="called", counter=counter, counter_name=name or counter, service=service,
                   service_name=names.get(service) if isinstance(service, str) else None)
        desk = view.config.counters.get(counter) if counter else None
        if desk is not None and desk.remote:
            out.update(location=desk.location, meeting_url=_web_address(desk.meeting_url))
        return _texts(out, view.config)
    if number in view.waiting:
        service, place, moved = view.waiting[number]
        moved = _text(moved)
        memory.absent.discard(number)
        out.update(state="waiting", service=service, service_name=names.get(service, service), ahead=place,
                   transferred_from=(names.get(moved) or moved) if moved else None)
        out["wait_min"], out["wait_basis"] = view.estimate(service, place)
        return _texts(out, view.config)
    if number in view.recallable:
        service = view.recallable[number]
        memory.absent.add(number)
        out.update(state="absent", recallable=True, service=service, service_name=names.get(service, service))
    elif number in memory.absent:  # a no-show now past the late tolerance
        out["state"] = "absent"
    elif last is None and number not in memory.counter:
        # Never seen called: served before this app was watching, withdrawn, or issued a
        # moment ago and not yet in the list this app has; no survey for it.
        out["state"] = "gone"
        return _texts(out, view.config)
    else:
        out["state"] = "done"
    if not out["recallable"] and last is not None and _text(last.get("service")):
        out.update(service=last["service"], service_name=names.get(last["service"]) or _text(last.get("service_name")))
    counter = memory.counter.get(number)
    out.update(counter=counter, counter_name=view.counter_names.get(counter) if counter else None,
               survey="sent" if links.survey_id(day, number) in memory.surveyed else "open")
    return _texts(out, view.config)


def _texts(out: dict[str, Any], config: Config) -> dict[str, Any]:
    """The Indonesian sentences of a status, made here once for the page and the script."""
    state, ahead, wait = out["state"], out["ahead"], out["wait_min"]
    texts = {"headline": "", "ahead": "", "wait": "", "basis": "", "note": ""}
    if state == "loading":
        texts["headline"] = "Memuat data antrean…"
        texts["note"] = "Data antrean belum tersedia. Halaman ini akan diperbarui sendiri."
    elif state == "expired":
        day = dt.datetime.combine(dt.date.fromisoformat(out["day"]), dt.time(), tzinfo=config.tz)
        texts["headline"] = "Tiket ini sudah tidak berlaku"
        texts["note"] = f"Tiket ini untuk {bahasa.tanggal(day, jam=False)}. Silakan ambil nomor antrean baru."
    elif state == "waiting":
        texts["headline"] = "Silakan menunggu"
        texts["ahead"] = "Tidak ada antrean di depan Anda" if ahead <= 0 else f"Di depan Anda: {ahead} orang"
        texts["wait"] = "Perkiraan waktu tunggu: " + _minutes(wait)
        if wait:
            texts["basis"] = {"pace": "Dihitung dari kecepatan pemanggilan terakhir layanan ini.",
                              "standard": "Dihitung dari standar waktu layanan."}.get(out["wait_basis"] or "", "")
        if out["transferred_from"]:
            texts["note"] = f"Nomor Anda dialihkan dari layanan {out['transferred_from']}."
    elif state == "called":
        texts["headline"] = f"Silakan menuju {out['location'] or out['counter_name']}"
        texts["note"] = "Nomor Anda dipanggil ulang." if out["recall"] else "Nomor Anda dipanggil."
        if out["location"]:
            texts["note"] += (" Petugas melayani Anda melalui panggilan video dari kantornya."
                              + (" Bila diminta petugas, buka tautan panggilan video di bawah." if out["meeting_url"]
                                 else ""))
    elif state == "absent":
        texts["headline"] = "Anda tidak hadir saat dipanggil"
        where = f" di {out['counter_name']}" if out["counter_name"] else ""
        texts["note"] = (f"Segera temui petugas{where}: nomor Anda masih dapat dipanggil kembali."
                         if out["recallable"] else "Nomor ini sudah tidak dapat dipanggil kembali. "
                         "Silakan ambil nomor antrean baru bila masih memerlukan layanan.")
    elif state == "done":
        texts["headline"] = "Layanan Anda sudah selesai"
        texts["note"] = "Terima kasih telah menggunakan layanan kami."
    elif state == "gone":
        texts["headline"] = "Nomor ini tidak ada dalam antrean saat ini"
        texts["note"] = "Bila Anda belum dilayani, silakan tanyakan kepada petugas."
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


def _names(catalog: Any, config: Config) -> tuple[dict[str, str], dict[str, str]]:
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


def _web_address(url: str | None) -> str | None:
    """*url* when it is an http or https address with a host (check-config has said so;
    checked again because the page makes a link of it), else None."""
    if not isinstance(url, str) or any(ch.isspace() for ch in url):
        return None
    parts = urlsplit(url)
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
