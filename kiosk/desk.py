"""Taking a ticket end to end, on one worker thread, so the screen never freezes.

    desk = Desk(link, printer, on_result=show, on_problems=show_problems)
    desk.start()
    order = Order.new("KTP", None)       # one per confirmation screen: its id is the request id
    desk.take(order)                      # False while a ticket is being taken
    ...                                   # on_result(Result) once it is settled, on the worker thread

The steps follow DESIGN.md's failure rules:

1. broker unreachable -> ``unavailable``: no request is sent, no ticket issued;
2. ask the printer (DLE EOT) -> paper out, cover open, offline: ``printer_problem``,
   no request sent: a citizen never gets a number the kiosk cannot print;
3. request under the order's id, re-sent with the same id after a timeout -> no reply:
   ``unavailable`` (the caller retries with the same order, so the dispatcher answers
   a ticket it issued meanwhile instead of issuing a second one);
4. a refusal (quota, closed) -> ``refused`` with the dispatcher's message;
5. print -> ``printed``, or ``print_failed`` with the ticket: the number is valid and
   goes on screen.

The same thread checks the printer every `check_seconds` while idle (every
`RECOVERY_SECONDS` while it has a problem), so a refilled printer is noticed by itself;
the printer is only ever touched from this thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import threading
import uuid
from typing import Any, Callable

from .link import Link
from .printer import MESSAGES, PrinterError, TicketPrinter, escpos_bytes
from .texts import GANGGUAN
from .ticket import TicketData, layout

__all__ = ["Desk", "Order", "Result", "OUTCOMES"]

log = logging.getLogger(__name__)

REPLY_TIMEOUT = 2.5  # seconds per attempt; a round trip takes a few milliseconds
ATTEMPTS = 3
RECOVERY_SECONDS = 2.0
OUTCOMES = ("printed", "print_failed", "refused", "printer_problem", "unavailable")


@dataclasses.dataclass(frozen=True)
class Order:
    """One confirmation: the request id is made once and reused by every retry."""

    id: str
    service: str | None
    priority: str | None
    booking: str | None = None  # a booking code: the check-in (service None)

    @classmethod
    def new(cls, service: str, priority: str | None) -> Order:
        return cls(uuid.uuid4().hex, service, priority)

    @classmethod
    def checkin(cls, booking: str) -> Order:
        return cls(uuid.uuid4().hex, None, None, booking)


@dataclasses.dataclass(frozen=True)
class Result:
    order: Order
    outcome: str  # one of OUTCOMES
    message: str = ""  # for the citizen
    ticket: dict[str, Any] | None = None
    code: str | None = None  # the dispatcher's error code of a refusal
    service: str | None = None  # a refused check-in: the booked service (error.service)
    again: bool = False  # a check-in of a booking checked in before: its ticket again

    @property
    def has_ticket(self) -> bool:
        return self.ticket is not None


_STOP = object()
_CHECK = object()


class Desk:
    def __init__(self, link: Link, printer: TicketPrinter, *, on_result: Callable[[Result], None],
                 on_problems: Callable[[list[str]], None] | None = None, check_seconds: float | None = None):
        self.link = link
        self.printer = printer
        self.on_result = on_result
        self.on_problems = on_problems
        self.check_seconds = check_seconds or printer.settings.check_seconds
        self.problems: list[str] = []
        self._jobs: queue.Queue = queue.Queue()
        self._busy = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kiosk-desk", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._jobs.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def busy(self) -> bool:
        return self._busy.locked()

    def take(self, order: Order) -> bool:
        """Start taking a ticket for `order`; False (nothing done) if one is under way."""
        if not self._busy.acquire(blocking=False):
            log.info("desk: ticket %s not started, another one is under way", order.id)
            return False
        self._jobs.put(order)
        return True

    def check_now(self) -> None:
        self._jobs.put(_CHECK)

    # -- the worker ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            # python-escpos loads its printer profiles on first use (~0.2 s): not on a citizen's time.
            escpos_bytes(layout(_WARM_UP, self.printer.settings.paper))
        except Exception:
            log.exception("desk: rendering a test ticket failed")
        self._check()
        while True:
            wait = min(self.check_seconds, RECOVERY_SECONDS) if self.problems else self.check_seconds
            try:
                job = self._jobs.get(timeout=wait)
            except queue.Empty:
                job = _CHECK
            if job is _STOP:
                return
            if job is _CHECK:
                self._check()
                continue
            try:
                result = self._serve(job)
            except Exception:  # a bug must not leave the citizen staring at "Mohon tunggu"
                log.exception("desk: taking ticket %s failed", job.id)
                result = Result(job, "unavailable", GANGGUAN)
            finally:
                self._busy.release()
            log.info("desk: order %s (%s): %s%s", job.id, job.service or "check-in", result.outcome,
                     f" {result.ticket['number']}" if result.ticket else "")
            self.on_result(result)

    def _check(self) -> None:
        try:
            self._set_problems(self.printer.check())
        except Exception:  # check() does not raise; a bug in it must not end the thread
            log.exception("desk: printer check failed")

    def _set_problems(self, problems: list[str]) -> None:
        if problems != self.problems:
            if problems:
                log.warning("desk: printer problem %s (%s)", ", ".join(problems), self.printer.detail)
            else:
                log.info("desk: printer ready")
            self.problems = list(problems)
            if self.on_problems is not None:
                self.on_problems(list(problems))
        self.link.set_problems(problems)

    def _serve(self, order: Order) -> Result:
        if not self.link.connected:
            return Result(order, "unavailable", GANGGUAN)
        problems = self.printer.check()
        self._set_problems(problems)
        if problems:
            return Result(order, "printer_problem", MESSAGES[problems[0]])
        reply = self.link.ask(order.id, order.service, order.priority, timeout=REPLY_TIMEOUT, attempts=ATTEMPTS,
                              booking=order.booking)
        if reply is None:
            return Result(order, "unavailable", GANGGUAN)
        if not reply.get("ok") or not reply.get("ticket"):
            error = reply.get("error") or {}
            return Result(order, "refused", error.get("message") or GANGGUAN, code=error.get("code"),
                          service=error.get("service"))
        ticket = reply["ticket"]
        try:
            self.printer.print(layout(TicketData.from_reply(ticket, self.link.catalog), self.printer.settings.paper))
        except PrinterError as exc:
            log.error("desk: ticket %s issued but not printed: %s", ticket["number"], exc)
            self._set_problems([exc.problem])
            return Result(order, "print_failed", MESSAGES[exc.problem], ticket, again=bool(reply.get("again")))
        except Exception:
            log.exception("desk: ticket %s issued but not printed", ticket["number"])
            return Result(order, "print_failed", MESSAGES["printer_offline"], ticket, again=bool(reply.get("again")))
        self._set_problems([])
        return Result(order, "printed", ticket=ticket, again=bool(reply.get("again")))


_WARM_UP = TicketData(site_id="x", site_name="x", agency_name="x", service_name="x", number="A-001",
                      business_day="2026-01-01", priority=None, priority_name=None, ahead=0,
                      estimated_wait_min=0, issued_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                      completion="x", fee="x")
