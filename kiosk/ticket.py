"""The printed ticket as data: what it says (`TicketData`) and how it is laid out (`Layout`).

One layout feeds both renderers, so the PNG preview shows what the printer prints:

    data = TicketData.from_reply(reply["ticket"], catalog)     # at the kiosk
    data = TicketData.sample(config, "KTP")                     # antrian ticket --png
    lay = layout(data, PAPERS["TM-T20II"])
    kiosk.printer.escpos_bytes(lay)      # ESC/POS for python-escpos
    kiosk.ticket_png.render(lay)         # a Pillow image

Lines are wrapped here, to the paper's columns in font A (12 x 24 dots) or, for the fine
print, font B (9 x 17 dots), divided by the character width, so both renderers break them
at the same places (at spaces, never inside a word). Everything printed is folded to ASCII:
thermal printers have code pages, not Unicode, and an en dash would come out as '?'.

The QR code holds the Ticket's ``link`` when it has one (the site's public app names a
``public_url``: a phone that scans it opens the ticket's live page), else
``antrian:{site}:{business day}:{number}`` (`qr_text`), enough for a counter's scanner
to find the ticket of the day.

Paper: every line feeds its font's pitch (`PITCH`, sent as ``ESC 3 n``; a line with taller
characters feeds their height), the QR its symbol, the end `Cut.lines` pitches to get the
last line past the cutter or tear bar (`Layout.dots` adds it up). A ticket takes at most
`LIMIT_MM` (110 mm on 58 mm paper, 100 mm on 80 mm): a longer one drops the lines a citizen
needs least in the fixed order of `DROPPABLE` (`fit`; `layout` also logs a ticket that is too long
even so). tests/test_kiosk_ticket.py measures every Buton service on every profile;
docs/operations.md, "The ticket", has the figures. `antrian check-config` measures a site file's
tickets with the same `fit` (kiosk/ticket_check.py), so this module imports no printer library,
Pillow or Kivy, and runs without qrcode too (`qr_modules`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import re
import textwrap
import unicodedata
from typing import Any, Iterable, Mapping, Union

from antrian import bahasa
from antrian.site import Config
from antrian.queue.rules import format_number, iso
from kiosk.options import Paper

try:
    import qrcode
except ImportError:  # a dispatcher's Pi checking the site file has no kiosk extra: `qr_modules` counts
    qrcode = None

log = logging.getLogger(__name__)

__all__ = ["CELL", "DPI", "DROPPABLE", "Cut", "Feed", "LIMIT_MM", "Layout", "PITCH", "QR", "Rule", "Text",
           "TicketData", "ahead_text", "columns", "dpi", "fit", "fold", "layout", "limit_mm", "qr_modules", "qr_text",
           "served_at", "wait_text"]

MAX_CHAR_SIZE = 8  # ESC/POS GS ! takes 1-8 times the width and the height
NUMBER_HEIGHT = 4  # the number's height multiplier: 96 dots, 12 mm at 203 dpi
CELL = {"a": (12, 24), "b": (9, 17)}  # character cells in dots, font A and font B
PITCH = {"a": 30, "b": 22}  # dots fed per line (ESC 3 n): the cell and a gap
# Font B columns of the profiles that have it (python-escpos' capabilities, checked by a test);
# a printer missing here (ZJ-5870: python-escpos knows font A only) prints the fine print in
# font A at FINE_PITCH, the cell alone: font A's glyphs keep blank rows above the capitals and
# below the descenders, so lines 24 dots apart do not touch (8-10 mm more paper than font B).
FINE_PITCH = 24
SMALL_COLUMNS = {"POS-5890": 42, "TM-T20II": 64, "TM-T88III": 56, "TM-T88IV": 56, "TM-T88V": 56}
DPI = {"TM-T88III": 180, "TM-T88IV": 180, "TM-T88V": 180}  # python-escpos' media dpi; the rest 203
LIMIT_MM = {58: 110, 80: 100}  # the most paper a ticket may take, by paper width (issue 16)
# What a too-long ticket leaves out, first to last: the completion time (the counter says it), the
# site's name (the citizen stands in it), the fee. Always kept: number, service, agency, place,
# badges, queue and wait, date and time, QR.
DROPPABLE = ("completion", "site", "fee")
QR_MODULE = 4  # dots per QR module: 0.5 mm at 203 dpi, read by any phone at arm's length
QR_QUIET = 12  # dots fed before the QR (ESC J), and after an image QR: three modules of quiet zone
CUT_FEED_LINES = 3  # pitches fed before the cut: the last line passes a cutter 10-12 mm above the head
TEAR_FEED_LINES = 3  # the same to reach the tear bar of a printer without a cutter
_GLUE = "\x00"  # a space that textwrap may not break at
WAIT_LINE = "Silakan menunggu sampai nomor antrean Anda dipanggil."
_REPLACE = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"',
                          "\u201d": '"', "\u00b1": "+/-", "\u00d7": "x", "\u2026": "..."})


@functools.lru_cache(maxsize=1024)
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
    booking: str | None = None  # the booking code of a checked-in online booking (issue 15)
    served_at: str = ""  # where it is called: "Loket 1\u20132, Bilik Layanan Daring" (`served_at`)

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
            link=ticket.get("link") if isinstance(ticket.get("link"), str) else None,
            booking=ticket.get("booking") if isinstance(ticket.get("booking"), str) else None,
            served_at=served_at(ticket["service"], catalog.get("counters", ())))

    @classmethod
    def sample(cls, config: Config, service: str, *, number: int = 12, priority: str | None = None,
               ahead: int = 4, wait_min: int = 32, now: dt.datetime | None = None, booking: str | None = None,
               link: str | None = None) -> TicketData:
        """A made-up ticket of a real service of the site file, for the preview."""
        svc = config.services[service]
        agency = config.agency(svc.agency)
        at = (now or dt.datetime.now(config.tz)).astimezone(config.tz)
        names = {g.id: g.name for g in config.priority_groups}
        ticket = {"number": format_number(svc.prefix, number), "service": svc.code, "service_name": svc.name,
                  "agency": agency.id, "agency_name": agency.name, "priority": priority,
                  "issued_at": iso(at, config.tz), "business_day": at.date().isoformat(), "ahead": ahead,
                  "estimated_wait_min": wait_min, "booking": booking, "link": link}
        catalog = {"site": {"id": config.site.id, "name": config.site.name},
                   "agencies": [{"services": [{"code": svc.code, "completion": svc.completion, "fee": svc.fee}]}],
                   "priority_groups": [{"id": k, "name": v} for k, v in names.items()],
                   "counters": [{"name": c.name, "services": list(c.services), "location": c.location}
                                for c in config.counters.values()]}
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
    font: str = "a"  # "a" (12 x 24 dots) or "b" (9 x 17, the fine print)
    pitch: int = 0  # dots fed per line; 0: the font's PITCH
    # What it prints, for check-config's "shorten ...": site, agency, service, booking, priority, wait,
    # served_at, date, completion, fee; fine print that shares a line joins them with "+".
    says: str = ""

    @property
    def spacing(self) -> int:
        return self.pitch or PITCH[self.font]

    def dots(self) -> int:
        """Paper its lines take: each the spacing, or the characters' height when taller."""
        return len(self.lines) * max(self.spacing, CELL[self.font][1] * self.height)


@dataclasses.dataclass(frozen=True)
class Rule:
    """A dashed line across the paper, in the small font where the printer has one."""

    font: str = "a"
    pitch: int = PITCH["a"]


@dataclasses.dataclass(frozen=True)
class QR:
    data: str
    module: int  # dots per QR module
    native: bool  # GS ( k on the printer, else an image

    def dots(self) -> int:
        """The quiet feed above, the symbol (an image has one module of border), and below it
        the line feed that follows a printed symbol or the same quiet feed after an image."""
        if self.native:
            return QR_QUIET + qr_modules(self.data) * self.module + PITCH["a"]
        return QR_QUIET + (qr_modules(self.data) + 2) * self.module + QR_QUIET


@dataclasses.dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclasses.dataclass(frozen=True)
class Cut:
    """Feed past the cutter and cut (a printer without one just feeds, to tear off)."""

    lines: int = CUT_FEED_LINES  # font A pitches fed first


Element = Union[Text, Rule, QR, Feed, Cut]


@dataclasses.dataclass(frozen=True)
class Layout:
    paper: Paper
    elements: tuple[Element, ...]
    dropped: tuple[str, ...] = ()  # what DROPPABLE lines were left out to fit LIMIT_MM

    def dots(self) -> int:
        """The paper the ticket takes, in printer dots (what both renderers feed)."""
        return sum(el.dots() if isinstance(el, (Text, QR)) else el.pitch if isinstance(el, Rule)
                   else el.lines * PITCH["a"] for el in self.elements)

    def mm(self) -> float:
        return self.dots() / dpi(self.paper) * 25.4

    def lines(self, says: str) -> int:
        """Printed lines of the text tagged `says` (a fine line it shares counts; 0 when left out)."""
        return sum(len(el.lines) for el in self.elements if isinstance(el, Text) and says in el.says.split("+"))

    def text(self) -> str:
        """The words of the ticket, one printed line per line (for logs and tests)."""
        out = []
        for el in self.elements:
            if isinstance(el, Text):
                out.extend(el.lines)
            elif isinstance(el, Rule):
                out.append("-" * columns(self.paper, el.font))
        return "\n".join(out)


def dpi(paper: Paper) -> int:
    return DPI.get(paper.profile, 203)


# Data codewords of QR versions 1-40 at error correction L (ISO/IEC 18004, table 7).
_QR_L_CODEWORDS = (19, 34, 55, 80, 108, 136, 156, 194, 232, 274, 324, 370, 428, 461, 523, 589, 647, 721, 795, 861,
                   932, 1006, 1094, 1174, 1276, 1370, 1468, 1531, 1631, 1735, 1843, 1955, 2071, 2191, 2306, 2434,
                   2566, 2702, 2812, 2956)


@functools.lru_cache(maxsize=256)
def qr_modules(data: str) -> int:
    """Modules across the QR symbol of `data` at error correction L, without border.

    Without qrcode (``check-config`` on a Pi without the kiosk extra) the symbol is the smallest
    whose codewords hold `data` in byte mode: what qrcode picks for a ticket's link, never less
    (qrcode may pack a long run of digits or capitals closer; tests/test_kiosk_ticket_check.py)."""
    if qrcode is None:
        bits = 8 * len(data.encode("utf-8"))
        version = next((v for v, words in enumerate(_QR_L_CODEWORDS, 1)
                        if 4 + (8 if v < 10 else 16) + bits <= 8 * words), 40)
        return 17 + 4 * version
    code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(data)
    # The version make(fit=True) picks, without drawing the symbol and trying its eight masks.
    return 17 + 4 * code.best_fit()


@functools.lru_cache(maxsize=1024)
def _wrap(text: str, columns: int, keep: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Wrapped at spaces, never inside a word; a bracketed part, and each phrase of `keep`,
    that fits on a line is kept whole ("LANSIA / (60 TAHUN KE ATAS)", never "... KE / ATAS)")."""
    def glue(part: str) -> str:
        return part.replace(" ", _GLUE) if len(part) <= columns else part

    glued = re.sub(r"\([^()]*\)", lambda m: glue(m.group(0)), fold(text))
    for phrase in map(fold, keep):
        glued = glued.replace(phrase, glue(phrase))
    return tuple(line.replace(_GLUE, " ") for line in textwrap.wrap(glued, columns, break_on_hyphens=False,
                                                                    break_long_words=True)) or ("",)


def columns(paper: Paper, font: str = "a", width: int = 1) -> int:
    """Characters per line in that font at that width multiplier."""
    per_line = paper.columns if font == "a" else SMALL_COLUMNS.get(paper.profile, paper.columns)
    return max(1, per_line // width)


def _text(paper: Paper, text: str, *, width: int = 1, height: int = 1, font: str = "a", keep: Iterable[str] = (),
          **style: Any) -> Text:
    pitch = 0
    if font == "b" and paper.profile not in SMALL_COLUMNS:
        font, pitch = "a", FINE_PITCH  # a printer without font B prints the fine print in font A, close
    return Text(_wrap(text, columns(paper, font, width), tuple(keep)), width=width, height=height, font=font,
                pitch=pitch, **style)


def _badge(paper: Paper, label: str, rest: str, says: str) -> Text:
    """An inverted badge: "LABEL: REST" on one line when it fits, else the label on a line of its
    own and the rest wrapped at word boundaries; each line padded by a space on both sides."""
    cols = columns(paper) - 2
    one = f"{label}: {rest}" if rest else label
    lines = [one] if len(fold(one)) <= cols else [label, *_wrap(rest, cols)]
    return Text(tuple(f" {line} " for line in lines), bold=True, invert=True, says=says)


def _fine(paper: Paper, *parts: tuple[str, str]) -> list[Element]:
    """Fine print in font B: parts, ``(text, says)``, that fit together share a line (its
    `says` joins theirs with "+")."""
    cols = columns(paper, "b")
    out: list[tuple[str, str]] = []
    for part, says in parts:
        if not part:
            continue
        if out and len(fold(out[-1][0])) + 2 + len(fold(part)) <= cols:
            out[-1] = (f"{out[-1][0]}  {part}", f"{out[-1][1]}+{says}")
        else:
            out.append((part, says))
    return [_text(paper, part, font="b", align="left", says=says) for part, says in out]


def served_at(service: str, counters: Iterable[Mapping[str, Any]]) -> str:
    """Where a service's tickets are called, from the counters that serve it: numbered names
    with the same word collapsed into ranges ("Loket 1\u20133, 5"), a remote counter by its
    location ("Bilik Layanan Daring"), each place once, in the site file's order."""
    places: list[tuple[str, list[int]] | str] = []
    for counter in counters:
        if service not in counter.get("services", ()):
            continue
        if counter.get("location"):
            name = str(counter["location"])
            if name not in places:
                places.append(name)
            continue
        match = re.fullmatch(r"(.*\S)\s+(\d+)", str(counter.get("name", "")))
        if not match:
            if counter.get("name") and counter["name"] not in places:
                places.append(str(counter["name"]))
            continue
        word, num = match.group(1), int(match.group(2))
        group = next((p for p in places if isinstance(p, tuple) and p[0] == word), None)
        if group is None:
            places.append((word, [num]))
        elif num not in group[1]:
            group[1].append(num)
    return ", ".join(p if isinstance(p, str) else f"{p[0]} {_ranges(p[1])}" for p in places)


def _ranges(numbers: list[int]) -> str:
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}\u2013{r[-1]}" for r in runs)


def number_size(paper: Paper, number: str) -> tuple[int, int]:
    """The number's character multipliers: as wide as fits on one line, at most NUMBER_HEIGHT high
    (12 mm at 203 dpi: plenty to read, and the paper is not spent on it)."""
    width = max(1, min(MAX_CHAR_SIZE, paper.columns // max(1, len(number))))
    return width, min(width, NUMBER_HEIGHT)


def limit_mm(paper: Paper) -> int:
    """The most paper a ticket may take on this paper (`LIMIT_MM`)."""
    return LIMIT_MM.get(paper.width_mm, LIMIT_MM[58])


def fit(data: TicketData, paper: Paper) -> Layout:
    """The ticket whole when it fits `limit_mm`, else without the first of DROPPABLE, the first
    two, ... (the shortest one when nothing fits: `Layout.mm` then tells by how much). Pure:
    what the kiosk prints and what check-config measures."""
    limit = limit_mm(paper)
    for n in range(len(DROPPABLE) + 1):
        lay = Layout(paper, _elements(data, paper, DROPPABLE[:n]), DROPPABLE[:n])
        if lay.mm() <= limit:
            break
    return lay


def layout(data: TicketData, paper: Paper, drop: tuple[str, ...] | None = None) -> Layout:
    """The ticket of DESIGN.md, top to bottom, for this paper, as `fit` makes it; logged when it
    is too long even so. `drop` leaves out exactly those parts instead (a test's full ticket:
    ``drop=()``)."""
    if drop is not None:
        return Layout(paper, _elements(data, paper, drop), drop)
    lay = fit(data, paper)
    limit = limit_mm(paper)
    if lay.mm() > limit:
        # Still printed (a citizen needs the ticket), but the technician learns which texts to shorten.
        log.warning("ticket %s (%s) is %.0f mm on %d mm paper, over %d mm even without %s: "
                    "shorten the service's name or the site's texts", data.number, data.service_name,
                    lay.mm(), paper.width_mm, limit, ", ".join(DROPPABLE))
    return lay


def _elements(data: TicketData, paper: Paper, drop: tuple[str, ...]) -> tuple[Element, ...]:
    width, height = number_size(paper, data.number)
    site = [] if "site" in drop else [_text(paper, data.site_name.upper(), bold=True, font="b", says="site")]
    els: list[Element] = [
        *site,
        _text(paper, data.agency_name, font="b", says="agency"),
        _text(paper, data.service_name, bold=True, says="service"),
    ]
    if data.booking:
        # In the label's place: a booked ticket says so where the eye lands, at no extra paper.
        els.append(_badge(paper, "RESERVASI", data.booking, "booking"))
    else:
        els.append(_text(paper, "NOMOR ANTREAN"))
    els.append(_text(paper, data.number, bold=True, width=width, height=height))
    if data.priority_name:
        els.append(_badge(paper, "PRIORITAS", data.priority_name.upper(), "priority"))
    els += [
        _text(paper, ahead_text(data.ahead)),
        _text(paper, wait_text(data.estimated_wait_min), says="wait"),
    ]
    if data.served_at:
        # A place is not split over two lines: "Dilayani di Loket 6, / Bilik Layanan Daring".
        els.append(_text(paper, f"Dilayani di {data.served_at}", bold=True, keep=data.served_at.split(", "),
                         says="served_at"))
    small = "b" if paper.profile in SMALL_COLUMNS else "a"  # the rule: less paper, the same line
    completion = "" if "completion" in drop or not data.completion else f"Waktu penyelesaian: {data.completion}"
    fee = "" if "fee" in drop or not data.fee else f"Biaya: {data.fee}"
    els += [
        Rule(small, PITCH[small] if small == "b" else FINE_PITCH),
        *_fine(paper, (bahasa.tanggal(data.issued_at), "date")),
        *_fine(paper, (completion, "completion"), (fee, "fee")),
        QR(data.qr, module=QR_MODULE, native=paper.qr_native),
        _text(paper, WAIT_LINE, bold=True, font="b"),
        Cut(CUT_FEED_LINES if paper.cutter else TEAR_FEED_LINES),
    ]
    return tuple(els)
