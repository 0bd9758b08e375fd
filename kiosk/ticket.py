"""The printed ticket as data: what it says (`TicketData`) and how it is laid out (`Layout`).

One layout feeds both renderers, so the PNG preview shows what the printer prints:

    data = TicketData.from_reply(reply["ticket"], catalog)     # at the kiosk
    data = TicketData.sample(config, "KTP")                     # antrian ticket --png
    lay = layout(data, PAPERS["TM-T20II"])
    kiosk.printer.escpos_bytes(lay)      # ESC/POS for python-escpos
    kiosk.ticket_png.render(lay)         # a Pillow image

Lines are wrapped here, to the paper's columns in font A (12 x 24 dots) divided by the
character width, so both renderers break them at the same places. Everything printed
is folded to ASCII: thermal printers have code pages, not Unicode, and an en dash or
a curly quote would come out as '?'.

The QR code holds the Ticket's ``link`` when it has one (the site's public app names a
``public_url``: a phone that scans it opens the ticket's live page), else
``antrian:{site}:{business day}:{number}`` (`qr_text`), enough for a counter's scanner
to find the ticket of the day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import textwrap
import unicodedata
from typing import Any, Mapping, Union

from antrian import bahasa
from antrian.site import Config
from antrian.queue.engine import format_number, iso
from kiosk.options import Paper

__all__ = ["Cut", "Feed", "Layout", "QR", "Rule", "Text", "TicketData", "ahead_text", "fold", "layout",
           "qr_text", "wait_text"]

MAX_CHAR_SIZE = 8  # ESC/POS GS ! takes 1-8 times the width and the height
WAIT_LINE = "Silakan menunggu sampai nomor antrean Anda dipanggil."
_REPLACE = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"',
                          "\u201d": '"', "\u00b1": "+/-", "\u00d7": "x", "\u2026": "..."})


def fold(text: str) -> str:
    """Printable ASCII: dashes and quotes straightened, accents dropped (é -> e)."""
    text = unicodedata.normalize("NFKD", str(text).translate(_REPLACE))
    return "".join(c for c in text if " " <= c <= "~")


def qr_text(site: str, business_day: str, number: str) -> str:
    return f"antrian:{site}:{business_day}:{number}"


def ahead_text(ahead: int) -> str:
    """Citizen-facing: how many are ahead."""
    return "Tidak ada antrean di depan Anda" if ahead <= 0 else f"Di depan Anda: {ahead} orang"


def wait_text(minutes: int) -> str:
    """Citizen-facing: the estimated wait, in minutes or hours and minutes."""
    if minutes <= 0:
        return "Perkiraan waktu tunggu: segera dilayani"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"Perkiraan waktu tunggu: {minutes} menit"
    return f"Perkiraan waktu tunggu: {hours} jam" + (f" {rest} menit" if rest else "")


@dataclasses.dataclass(frozen=True)
class TicketData:
    """Everything a ticket says; built from a dispatcher's reply and the catalog."""

    site_id: str
    site_name: str
    agency_name: str
    service_name: str
    number: str
    business_day: str
    priority: str | None
    priority_name: str | None
    ahead: int
    estimated_wait_min: int
    issued_at: dt.datetime  # aware, in the site's offset
    completion: str
    fee: str
    link: str | None = None  # the ticket's live page (the Ticket's `link`), when the site has one

    @classmethod
    def from_reply(cls, ticket: Mapping[str, Any], catalog: Mapping[str, Any] | None) -> TicketData:
        """From a reply's Ticket; completion, fee and names of the catalog when it has them."""
        catalog = catalog or {}
        site = catalog.get("site") or {}
        service = next((s for a in catalog.get("agencies", ()) for s in a.get("services", ())
                        if s.get("code") == ticket["service"]), {})
        priority = ticket.get("priority")
        names = {g.get("id"): g.get("name") for g in catalog.get("priority_groups", ())}
        return cls(
            site_id=site.get("id", ""), site_name=site.get("name", "Mal Pelayanan Publik"),
            agency_name=ticket["agency_name"], service_name=ticket["service_name"], number=ticket["number"],
            business_day=ticket["business_day"], priority=priority,
            priority_name=names.get(priority, priority) if priority else None,
            ahead=int(ticket.get("ahead") or 0), estimated_wait_min=int(ticket.get("estimated_wait_min") or 0),
            issued_at=dt.datetime.fromisoformat(ticket["issued_at"]),
            completion=service.get("completion", ""), fee=service.get("fee", ""),
            link=ticket.get("link") if isinstance(ticket.get("link"), str) else None)

    @classmethod
    def sample(cls, config: Config, service: str, *, number: int = 12, priority: str | None = None,
               ahead: int = 4, wait_min: int = 32, now: dt.datetime | None = None) -> TicketData:
        """A made-up ticket of a real service of the site file, for the preview."""
        svc = config.services[service]
        agency = config.agency(svc.agency)
        at = (now or dt.datetime.now(config.tz)).astimezone(config.tz)
        names = {g.id: g.name for g in config.priority_groups}
        ticket = {"number": format_number(svc.prefix, number), "service": svc.code, "service_name": svc.name,
                  "agency": agency.id, "agency_name": agency.name, "priority": priority,
                  "issued_at": iso(at, config.tz), "business_day": at.date().isoformat(), "ahead": ahead,
                  "estimated_wait_min": wait_min}
        catalog = {"site": {"id": config.site.id, "name": config.site.name},
                   "agencies": [{"services": [{"code": svc.code, "completion": svc.completion, "fee": svc.fee}]}],
                   "priority_groups": [{"id": k, "name": v} for k, v in names.items()]}
        return cls.from_reply(ticket, catalog)

    @property
    def qr(self) -> str:
        return self.link or qr_text(self.site_id, self.business_day, self.number)


@dataclasses.dataclass(frozen=True)
class Text:
    """Lines already wrapped to the paper; width and height are character multipliers (1-8)."""

    lines: tuple[str, ...]
    align: str = "center"
    bold: bool = False
    width: int = 1
    height: int = 1
    invert: bool = False


@dataclasses.dataclass(frozen=True)
class Rule:
    """A dashed line across the paper."""


@dataclasses.dataclass(frozen=True)
class QR:
    data: str
    module: int  # dots per QR module
    native: bool  # GS ( k on the printer, else an image


@dataclasses.dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclasses.dataclass(frozen=True)
class Cut:
    """Feed past the cutter and cut (a printer without one just feeds, to tear off)."""


Element = Union[Text, Rule, QR, Feed, Cut]


@dataclasses.dataclass(frozen=True)
class Layout:
    paper: Paper
    elements: tuple[Element, ...]

    def text(self) -> str:
        """The words of the ticket, one printed line per line (for logs and tests)."""
        out = []
        for el in self.elements:
            if isinstance(el, Text):
                out.extend(el.lines)
            elif isinstance(el, Rule):
                out.append("-" * self.paper.columns)
        return "\n".join(out)


def _text(paper: Paper, text: str, *, width: int = 1, height: int = 1, **style: Any) -> Text:
    columns = max(1, paper.columns // width)
    lines = textwrap.wrap(fold(text), columns, break_on_hyphens=False) or [""]
    return Text(tuple(lines), width=width, height=height, **style)


def number_size(paper: Paper, number: str) -> int:
    """The largest character multiplier at which the number fits on one line."""
    return max(1, min(MAX_CHAR_SIZE, paper.columns // max(1, len(number))))


def layout(data: TicketData, paper: Paper) -> Layout:
    """The ticket of DESIGN.md, top to bottom, for this paper."""
    size = number_size(paper, data.number)
    els: list[Element] = [
        _text(paper, data.site_name.upper(), bold=True),
        Rule(),
        _text(paper, data.agency_name),
        _text(paper, data.service_name, bold=True),
        Feed(1),
        _text(paper, "NOMOR ANTREAN"),
        _text(paper, data.number, bold=True, width=size, height=size),
    ]
    if data.priority_name:
        els.append(_text(paper, f" PRIORITAS: {data.priority_name.upper()} ", bold=True, invert=True))
    els += [
        Feed(1),
        _text(paper, ahead_text(data.ahead)),
        _text(paper, wait_text(data.estimated_wait_min)),
        Rule(),
        _text(paper, bahasa.tanggal(data.issued_at)),
        _text(paper, f"Waktu penyelesaian: {data.completion}", align="left"),
        _text(paper, f"Biaya: {data.fee}", align="left"),
        Feed(1),
        QR(data.qr, module=6 if paper.dots >= 512 else 5, native=paper.qr_native),
        _text(paper, WAIT_LINE, bold=True),
        Cut(),
    ]
    return Layout(paper, tuple(els))
