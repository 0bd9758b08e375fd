"""The booking decisions of the engine, pure like the rest: slots, book, cancel, look up,
check in at the kiosk, and expire. Mixed into Engine (engine.py); the book they read is
`self.bookings` (bookings.py). Like `issue`, each decides without changing anything and
returns an Outcome whose events the owner stores and then applies.

What refuses a booking, in order, is the table `BOOK_RULES`: the first rule that
answers gives the Reply's error code and its Indonesian message. The check-in's three
answers (too early, in time, too late) are `CHECKIN_RULES` in the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Callable

from antrian import bahasa
from antrian.errors import QueueError
from antrian.queue import codes
from antrian.queue.bookings import B, checkin_window, slot_start, slot_starts
from antrian.queue.events import Booked, BookingCancelled, BookingExpired, Issued
from antrian.queue.rules import Outcome, format_number

if TYPE_CHECKING:
    from antrian.queue.engine import Engine
    from antrian.site import Service

__all__ = ["BOOK_RULES", "CHECKIN_RULES", "BookingDesk", "hhmm"]


def hhmm(t: dt.datetime | dt.time) -> str:
    """A time of day as KBBI writes it: 09.30."""
    return f"{t:%H.%M}"


def _date_text(day: dt.date) -> str:
    """"Senin, 7 Desember 2026" (the zone only matters to the time, which is left out)."""
    return bahasa.tanggal(dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc), jam=False)


class _Ask:
    """One `book` request as the rules see it."""

    def __init__(self, engine: Engine, svc: Service, day: dt.date, slot: dt.time | None, keys: tuple, now):
        self.engine, self.svc, self.day, self.slot, self.keys, self.now = engine, svc, day, slot, keys, now
        self.rules = svc.booking
        self.local = now.astimezone(engine.config.tz)
        self.starts = slot_starts(engine.config, svc, day)
        self.places = svc.booking.places(svc.quota or 0, len(self.starts))


def _range(a: _Ask) -> str | None:
    last = a.local.date() + dt.timedelta(days=a.rules.days_ahead)
    if not a.local.date() <= a.day <= last:
        return (f"Tanggal {a.day.isoformat()} di luar rentang reservasi "
                f"(hari ini sampai {a.rules.days_ahead} hari ke depan)")
    return None


def _not_open(a: _Ask) -> str | None:
    opens = dt.datetime.combine(a.day - dt.timedelta(days=a.rules.days_ahead), a.rules.opens_at,
                                tzinfo=a.engine.config.tz)
    if a.now < opens:
        return f"Reservasi untuk {_date_text(a.day)} dibuka {_date_text(opens.date())} pukul {hhmm(opens)}"
    return None


def _closed_day(a: _Ask) -> str | None:
    if not a.starts:
        holiday = a.engine.config.holidays.get(a.day)
        return f"{a.svc.name} tidak buka pada {_date_text(a.day)}" + (f" ({holiday.name})" if holiday else "")
    return None


def _no_such_slot(a: _Ask) -> str | None:
    if a.slot is not None and a.slot not in a.starts:
        return f"Jam {hhmm(a.slot)} bukan jam reservasi {a.svc.name}"
    return None


def _past(a: _Ask) -> str | None:
    if a.slot is not None and slot_start(a.engine.config, a.day, a.slot) <= a.now:
        return f"Jam {hhmm(a.slot)} sudah lewat; silakan pilih jam lain"
    return None


def _exists(a: _Ask) -> str | None:
    if a.engine.bookings.holder(a.keys, a.svc.code, a.day) is not None:
        return f"Anda sudah memiliki reservasi {a.svc.name} pada {_date_text(a.day)}"
    return None


def _slot_full(a: _Ask) -> str | None:
    if a.engine.bookings.taken[(a.svc.code, a.day, a.slot)] >= a.rules.capacity:
        return f"Jam {hhmm(a.slot)} sudah penuh; silakan pilih jam lain"
    return None


def _share_used(a: _Ask) -> str | None:
    if a.engine.bookings.day_taken[(a.svc.code, a.day)] >= a.places:
        return f"Kuota reservasi {a.svc.name} pada {_date_text(a.day)} sudah habis; silakan datang langsung"
    return None


# (error code, rule): the first rule that gives a message refuses the booking. `slots`
# asks the first four (no slot, no person); `book` asks them all.
BOOK_RULES: tuple[tuple[str, Callable[[_Ask], str | None]], ...] = (
    ("booking_closed", _range),
    ("booking_closed", _not_open),
    ("booking_closed", _closed_day),
    ("bad_request", _no_such_slot),
    ("booking_closed", _past),
    ("booking_exists", _exists),
    ("slot_full", _slot_full),
    ("booking_quota_exhausted", _share_used),
)
_SLOTS_RULES = BOOK_RULES[:3]


def _early(now: dt.datetime, opens: dt.datetime, until: dt.datetime) -> str | None:
    if now < opens:
        when = "" if now.date() == opens.date() else f"{_date_text(opens.date())} "
        return f"Silakan kembali {when}mulai pukul {hhmm(opens)}"
    return None


def _late(now: dt.datetime, opens: dt.datetime, until: dt.datetime) -> str | None:
    if now > until:
        return (f"Batas lapor diri reservasi ini pukul {hhmm(until)} sudah lewat; "
                "silakan ambil nomor antrean biasa")
    return None


# The check-in of a booking that is still booked, by the kiosk's time against its window
# [slot start - checkin_early_min, slot start + checkin_late_min]; inside it: a ticket.
CHECKIN_RULES: tuple[tuple[str, Callable[[dt.datetime, dt.datetime, dt.datetime], str | None]], ...] = (
    ("checkin_early", _early),
    ("checkin_late", _late),
)

UNKNOWN = "Kode reservasi tidak dikenal; periksa kembali kodenya"


class BookingDesk:
    """Mixed into Engine: the decisions about bookings."""

    def _booking_service(self: Engine, service: Any) -> Service:
        svc = self.config.services.get(service) if isinstance(service, str) else None
        if svc is None:
            raise QueueError("unknown_service", f"Layanan '{service}' tidak dikenal")
        if svc.booking is None or svc.quota is None:
            raise QueueError("booking_closed", f"{svc.name} tidak menerima reservasi daring")
        return svc

    def booking_slots(self: Engine, service: str, day: dt.date, now: dt.datetime) -> list[dict[str, Any]]:
        """The slots of a day still to come: [{"slot", "capacity", "free"}] (full: free 0;
        every slot free 0 once the day's booking share is used). QueueError if none can be booked."""
        svc = self._booking_service(service)
        ask = _Ask(self, svc, day, None, (), now)
        _refuse(ask, _SLOTS_RULES)
        left = max(0, ask.places - self.bookings.day_taken[(svc.code, day)])
        return [{"slot": f"{s:%H:%M}", "capacity": svc.booking.capacity,
                 "free": min(left, max(0, svc.booking.capacity - self.bookings.taken[(svc.code, day, s)]))}
                for s in ask.starts if slot_start(self.config, day, s) > now]

    def book(self: Engine, service: str, day: dt.date, slot: dt.time, phone: str, nik: str | None,
             now: dt.datetime, draw: Callable[[], str] = codes.new_code) -> Outcome:
        """Book a slot for a person (`phone`, `nik`: keyed hashes, codes.person_key); the
        Outcome's event is the Booked, whose `code` is a new random one."""
        self._require_day()
        svc = self._booking_service(service)
        _refuse(_Ask(self, svc, day, slot, (phone, nik), now), BOOK_RULES)
        code = draw()
        while code in self.bookings.by_code:  # 40 bits: a repeat is rare, but never given twice
            code = draw()
        return Outcome((Booked(at=now, code=code, service=svc.code, date=day, slot=f"{slot:%H:%M}", phone=phone,
                               nik=nik),))

    def find_booking(self: Engine, code: str, phone: str | None = None) -> str:
        """The canonical code of a known booking as typed (codes.parse) -- and its phone's,
        when given; QueueError else."""
        canonical = codes.parse(code)
        if canonical is None:
            raise QueueError("unknown_booking", "Kode reservasi tidak valid; periksa kembali kodenya")
        b = self.bookings.get(canonical)
        if b is None or (phone is not None and b.phone != phone):
            raise QueueError("unknown_booking", UNKNOWN)
        return b.code

    def cancel_booking(self: Engine, code: str, phone: str, now: dt.datetime) -> Outcome:
        """Cancel a booking still booked, told by its code and phone; a cancelled one again: no event."""
        self._require_day()
        b = self.bookings.get(self.find_booking(code, phone))
        if b.status == B.CANCELLED:
            return Outcome()
        if b.status != B.BOOKED:
            raise QueueError("booking_closed", "Reservasi ini sudah digunakan atau sudah lewat waktunya; "
                                               "tidak dapat dibatalkan")
        return Outcome((BookingCancelled(at=now, code=b.code),))

    def check_in(self: Engine, code: str, priority: str | None, now: dt.datetime) -> Outcome:
        """The kiosk's check-in: a ticket for the booked service inside the window; the same
        ticket again for one already checked in; else checkin_early, checkin_late, unknown_booking."""
        self._require_day()
        b = self.bookings.get(self.find_booking(code))
        if priority is not None and priority not in {g.id for g in self.config.priority_groups}:
            raise QueueError("bad_request", f"Kelompok prioritas '{priority}' tidak dikenal")
        if b.status == B.CHECKED_IN and b.ticket in self.tickets:
            return Outcome((), b.ticket)
        if b.status == B.CANCELLED:
            raise QueueError("unknown_booking", "Reservasi ini sudah dibatalkan")
        opens, until = checkin_window(self.config, b.service, b.date, b.slot)
        if b.status != B.BOOKED or b.service not in self.config.services:
            raise QueueError("checkin_late", _late(until + dt.timedelta(seconds=1), opens, until), b.service)
        _refuse_checkin(now.astimezone(self.config.tz), opens.astimezone(self.config.tz),
                        until.astimezone(self.config.tz), b.service)
        svc = self.config.services[b.service]
        number = format_number(svc.prefix, self.issued[svc.code] + 1)
        return Outcome((Issued(at=now, number=number, service=svc.code, priority=priority, booking=b.code),), number)

    def expire_due(self: Engine, now: dt.datetime) -> Outcome:
        """A BookingExpired for every booking still booked whose check-in window has ended."""
        if self.day is None:
            return Outcome()
        return Outcome(tuple(BookingExpired(at=now, code=code) for code in self.bookings.due(now)))

    def booking(self: Engine, code: str) -> dict[str, Any]:
        """The Booking payload of a known booking (docs/protocol.md)."""
        return self.bookings.payload(code)

    def walk_in_quota(self: Engine, service: str, now: dt.datetime) -> int | None:
        """Walk-in tickets of a service today: its quota less the places bookings can still
        use -- those of bookings booked or checked in, and those the booking share can still
        give in slots that have not begun. A place nobody can book or use any more goes back
        to the walk-ins: one of a slot that began unbooked, or of a booking cancelled after
        its slot began or expired (docs/protocol.md, "Booking"). It only grows through the day."""
        svc = self.config.services[service]
        if svc.quota is None or svc.booking is None or self.day is None:
            return svc.quota
        starts = slot_starts(self.config, svc, self.day)
        taken = self.bookings.taken
        bookable = sum(max(0, svc.booking.capacity - taken[(svc.code, self.day, s)])
                       for s in starts if slot_start(self.config, self.day, s) > now)
        key = (svc.code, self.day)
        made = self.bookings.day_taken[key]  # booked, checked in or expired: what the share counts
        can_book = min(max(0, svc.booking.places(svc.quota, len(starts)) - made), bookable)
        return svc.quota - (made - self.bookings.no_shows[key]) - can_book

    def walk_ins(self: Engine, service: str) -> int:
        return self.issued[service] - self.checked_in[service]


def _refuse(ask: _Ask, rules) -> None:
    for code, rule in rules:
        message = rule(ask)
        if message is not None:
            raise QueueError(code, message)


def _refuse_checkin(now: dt.datetime, opens: dt.datetime, until: dt.datetime, service: str) -> None:
    for code, rule in CHECKIN_RULES:
        message = rule(now, opens, until)
        if message is not None:
            raise QueueError(code, message, service)  # the kiosk offers a walk-in for it
