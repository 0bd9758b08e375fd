"""check-config measures the kiosk's tickets: does every service's ticket fit the kiosk's paper?

The ``kiosk`` role's schema (kiosk/wing.py) runs `fits_paper` on each kiosk of the site file,
with the site's `Config`. For every service it lays out the tickets that service can print --
without priority and with each priority group, walk-in and (if it takes bookings) booked -- with
`kiosk.ticket.fit`, the very layout the printer gets, on the kiosk's printer profile, and:

- a ticket over the limit (110 mm on 58 mm paper, 100 mm on 80 mm: `kiosk.ticket.LIMIT_MM`) even
  without the completion time, the site's name and the fee is one WARNING line naming the
  service, the kiosk, its profile, the length, the limit and the texts to shorten::

      site.yaml: agencies[0].services[0]: a ticket of KTP on kiosk2 (POS-5890, 58 mm paper) is
      116.6 mm, over the 110 mm limit even without the completion time, the site's name and the fee
      (the longest: priority lansia, a wait over an hour); the kiosk prints it longer; shorten the
      service's name (agencies[0].services[0].name, 8 lines), the priority group's name
      (priority_groups[0].name, 2 lines)

- a ticket that leaves out one of those to fit is a WARNING too.

Warnings, not problems: the kiosk prints every ticket (one too long with its own WARNING,
kiosk/ticket.py), and a site file refused for a paper length would keep every device, the
dispatcher first, from starting. check-config prints them on stderr; every device that reads
the file logs them at its start.

The tickets measured are the longest the site file can make: the date with the longest line
(a Tuesday in September, "Selasa, 29 September 2026, pukul 09.15 WITA"), a three-digit number,
the QR of the site's real link (its public app's ``public_url``) or of ``antrian:...`` without
one. The problem counts a wait of hours ("2 jam 45 menit": two lines on 58 mm paper); the warning
a wait under an hour, so it speaks of the usual ticket, and a ticket that leaves something out
only on a busy hour is the layout doing its job (docs/operations.md, "The ticket").

Imports no printer library, Pillow or Kivy; without qrcode (a dispatcher's Pi has no kiosk
extra) the QR is sized from the QR standard's table (`kiosk.ticket.qr_modules`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, Mapping

from antrian import links
from antrian.site import Config
from kiosk.options import PAPERS, Paper

if TYPE_CHECKING:  # imported when a site file with a kiosk is checked: `antrian --help` needs none of it
    from kiosk.ticket import Layout

__all__ = ["LONG_WAIT", "SHORT_WAIT", "fits_paper", "measure"]

log = logging.getLogger(__name__)

SHORT_WAIT = 32  # minutes: "Perkiraan waktu tunggu: 32 menit", one line on every paper
LONG_WAIT = 165  # "... 2 jam 45 menit": two lines on 58 mm paper
NUMBER = 999  # a three-digit number, as long as every number below 1000
BOOKING = "RSV-7K3M-Q2XA-T"  # a booking code: they all have this length
_MAC_KEY = b"check-config"  # any key: only the length of the link counts
WORDS = {"completion": "the completion time", "site": "the site's name", "fee": "the fee"}


def _longest_date(config: Config) -> dt.datetime:
    # Selasa and September: the longest weekday and month, with a two-digit day.
    return dt.datetime(2026, 9, 29, 9, 15, tzinfo=config.tz)


@dataclasses.dataclass(frozen=True)
class Measured:
    """One service's longest tickets on one paper: `over` the worst one with a wait of hours (None
    when every one fits), `dropping` the one that leaves the most out with a wait under an hour
    (None when none leaves anything out); with what each shows in words."""

    over: tuple[Layout, str] | None
    dropping: tuple[Layout, Layout, str] | None  # fitted, whole, what ticket


def measure(config: Config, code: str, paper: Paper) -> Measured:
    """The tickets of service `code` on `paper`, laid out as the printer lays them out."""
    from kiosk.ticket import TicketData, fit, layout, limit_mm

    svc = config.services[code]
    base = TicketData.sample(config, code, number=NUMBER, ahead=4, wait_min=LONG_WAIT, now=_longest_date(config))
    url = links.public_url(config)
    if url:
        base = dataclasses.replace(base, link=links.ticket_link(url, _MAC_KEY, config.site.id, base.business_day,
                                                                  base.number))
    # The plain ticket first: of tickets equally long, the one named is the most common.
    groups = [(None, None)] + [(g.id, g.name) for g in config.priority_groups]
    bookings = (None, BOOKING) if svc.booking else (None,)
    long = [(fit(data, paper), data, _words(gid, booking)) for gid, name in groups for booking in bookings
            for data in (dataclasses.replace(base, priority=gid, priority_name=name, booking=booking),)]
    worst, _, what = max(long, key=lambda one: one[0].dots())
    over = None
    if worst.mm() > limit_mm(paper):
        over = (worst, ", ".join(filter(None, (what, "a wait over an hour"))))
    dropping = None
    if over is None and any(lay.dropped for lay, _, _ in long):
        # The usual wait: what most tickets leave out (a wait of hours may cost one line more).
        short = [(fit(d, paper), d, what) for _, data, what in long
                 for d in (dataclasses.replace(data, estimated_wait_min=SHORT_WAIT),)]
        # The most left out, and of those the most common ticket (the plain one comes first).
        lay, data, what = max(short, key=lambda one: len(one[0].dropped))
        if lay.dropped:
            dropping = (lay, layout(data, paper, drop=()), what)
    return Measured(over, dropping)


def _words(group: str | None, booking: str | None) -> str:
    parts = [f"priority {group}"] if group else []
    return ", ".join(parts + (["booked"] if booking else []))


def _shorten(lay: Layout, config: Config, code: str, where: str, group: str | None) -> str:
    """The site file's texts that take more than one line on `lay`, most lines first, with their
    paths: each line less is 2.8-4.2 mm less paper."""
    agency = next(i for i, a in enumerate(config.agencies) if code in a.services)
    groups = [g.id for g in config.priority_groups]
    texts = [("service", "the service's name", f"{where}.name"),
             ("agency", "the agency's name", f"agencies[{agency}].name"),
             ("priority", "the priority group's name",
              f"priority_groups[{groups.index(group)}].name" if group in groups else "priority_groups"),
             ("served_at", "its counters' names (Dilayani di ...)", "counters"),
             ("site", "the site's name", "site.name"),
             ("completion", "the completion time", f"{where}.completion"),
             ("fee", "the fee", f"{where}.fee")]
    long = sorted(((lay.lines(says), words, path) for says, words, path in texts if lay.lines(says) > 1),
                  key=lambda one: -one[0])
    if not long:
        return "no text of the site file takes more than one line: every line counts, or use 80 mm paper"
    return ", ".join(f"{words} ({path}, {n} lines)" for n, words, path in long)


def _group(what: str) -> str | None:
    return next((part.removeprefix("priority ") for part in what.split(", ") if part.startswith("priority ")), None)


def fits_paper(value: Any, path: str, report, context: dict) -> None:
    """every service's ticket fits the kiosk's paper, measured with the printer's own layout for
    each priority group, booked or not: over 110 mm on 58 mm paper or 100 mm on 80 mm even without
    the completion time, the site's name and the fee, or leaving one of them out to fit, is a
    warning in the log (docs/operations.md, "The ticket")."""
    from kiosk.ticket import DROPPABLE, limit_mm

    config = context.get("config")
    printer = value.get("printer") if isinstance(value, Mapping) else None
    if config is None or not isinstance(printer, Mapping) or printer.get("profile") not in PAPERS:
        return  # kiosk_settings alone, or a printer whose own problems are reported already
    paper = PAPERS[printer["profile"]]
    device = f"{value.get('id')} ({paper.profile}, {paper.width_mm} mm paper)"
    limit = limit_mm(paper)
    for a, agency in enumerate(config.agencies):
        for s, code in enumerate(agency.services):
            where = f"agencies[{a}].services[{s}]"
            found = measure(config, code, paper)
            if found.over is not None:
                # A warning, not a problem: the kiosk still prints the ticket (longer), and a site
                # file refused for a paper length would keep the whole MPP from starting.
                lay, what = found.over
                log.warning("%s: %s: a ticket of %s on %s is %.1f mm, over the %d mm limit even without %s "
                            "(the longest: %s); the kiosk prints it longer; shorten %s", config.source, where, code,
                            device, lay.mm(), limit, _listed(DROPPABLE), what,
                            _shorten(lay, config, code, where, _group(what)))
            elif found.dropping is not None:
                lay, whole, what = found.dropping
                it = "it" if len(lay.dropped) == 1 else "them"
                log.warning("%s: %s: %stickets of %s on %s leave out %s to stay within %d mm (%s: %.1f mm with "
                            "%s); to keep %s, shorten %s", config.source, where, "some " if what else "", code,
                            device, _listed(lay.dropped), limit, what or "without priority", whole.mm(), it, it,
                            _shorten(whole, config, code, where, _group(what)))


def _listed(parts: tuple[str, ...]) -> str:
    words = [WORDS[p] for p in parts]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
