"""What a counter's own display shows, as data and drawing; pure, with the time passed in.

The officer's display (hardware.screenmap: an OLED or an 8-digit 7-segment module)
shows the number being served and how many wait, from the counter's retained
CounterState; it flashes when the ticket is recalled, says in a word why a press was
refused (the LED still plays its pattern, hardware.feedback), and "--" while the
broker or the dispatcher cannot be reached; while the panel's quick-score faces take a
score for the service just finished, the line below says "Nilai layanan kami: 1-4" (the
officer invites the citizen). :class:`ScreenState` follows one counter
and gives a :class:`View`; :func:`draw` draws a View on a 128x64 canvas (a luma
``canvas`` or any PIL ImageDraw, 1-bit), :attr:`View.digits` is the text of the
7-segment module. The words and forms are documented in hardware/WIRING.md.

    state = ScreenState("Loket 1", max_recalls=3)
    state.on_state(counter_state, now)        # the retained CounterState
    state.refused("queue_empty", now)         # a reply's error code, or a panel reason
    view, wake = state.view(now)              # what to show, and when to look again
    with canvas(device) as d:
        draw(d, device.size, view)
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Mapping

from PIL import ImageFont

MESSAGE_SECONDS = 4.0  # a refusal's word stays this long, unless a press is accepted first
FLASH_SECONDS = 2.4  # a recall flashes the display this long...
FLASH_STEP = 0.3  # ...inverted and normal in turn, this long each
DIGITS = 8  # of the 7-segment module: 4 for the number, 4 for how many wait

# Why a press was refused: a reply's error code, or the panel's own reasons
# (press_dropped: it waited too long for the broker; typing: a keypad mistake).
# reason -> (the OLED's word, its line below, the 7-segment form). The 7-segment
# forms use only letters a 7-segment digit can show clearly (luma's segment table):
# no K, M (written "nn"), V, W, X, so an empty queue is "HAbIS" (antrean habis);
# "S" and "5" look the same, so do "O" and "0".
REASONS: Mapping[str, tuple[str, str, str]] = {
    "queue_empty": ("KOSONG", "Tidak ada yang antre", "HAbIS"),
    "counter_closed": ("TUTUP", "Buka loket dahulu", "tUtUP"),
    "service_closed": ("TUTUP", "Layanan sedang tutup", "tUtUP"),
    "not_serving": ("BELUM", "Belum ada panggilan", "bELUnn"),
    "recall_limit": ("BATAS", "Panggil ulang habis", "bAtAS"),
    "press_dropped": ("ULANGI", "Tekan sekali lagi", "ULAnGI"),
    "typing": ("SALAH", "Ketik ulang nomornya", "SALAH"),
}
OTHER = ("GAGAL", "Perintah ditolak", "GAGAL")  # every other code (bad_request, internal, ...)

SCORE_NOTE = "Nilai layanan kami: 1-4"  # while the quick-score faces wait for the citizen
TITLE_SIZE, NOTE_SIZES, BIG_SIZES = 11, (11, 10, 9), tuple(range(36, 11, -2))


@dataclasses.dataclass(frozen=True)
class View:
    """One picture of the display. `big` is the large word or number, `title` the
    counter's name and `corner` a mark beside it, `note` the line below; `inverted`
    is a recall's flash. `digits` is what a 7-segment module shows (DIGITS long)."""

    title: str
    big: str
    note: str = ""
    corner: str = ""
    inverted: bool = False
    digits: str = " " * DIGITS


def _whole(value: Any) -> int:
    """A count of the CounterState; 0 for anything that is not one (the display must
    never be the thing that stops the panel)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _serving(state: dict[str, Any]) -> str:
    """The number of the ticket a CounterState serves, or ""."""
    serving = state.get("serving")
    number = serving.get("number") if isinstance(serving, dict) else None
    return number if isinstance(number, str) else ""


def number_digits(number: str) -> str:
    """The digits of a ticket number for a 7-segment display: "A-012" -> "012".

    A prefix letter is left out: on seven segments B is 8, D and O are 0, S is 5, I is
    1, G is 6 and Z is 2, so "B-012" would read as 8012."""
    return "".join(ch for ch in number.rpartition("-")[2] if ch.isdigit())[-4:]


def _seven(left: str, waiting: int | None = None, number: bool = False) -> str:
    """A word over the whole module, or a field of 4 (a number right-aligned) and how
    many wait right-aligned in the other 4 (999 at most, so a gap always parts them)."""
    if waiting is None:
        return f"{left:<{DIGITS}}"[:DIGITS]
    field = f"{left:>4}" if number else f"{left:<4}"
    return f"{field[:4]}{min(max(waiting, 0), 999):>4}"


class ScreenState:
    """What one counter's display should show, from what the panel learns; not thread-safe
    (the panel holds its lock)."""

    def __init__(self, name: str, max_recalls: int = 3) -> None:
        self.title = name.upper()
        self.max_recalls = max_recalls
        self.link_down = False
        self.state: dict[str, Any] | None = None  # the last CounterState
        self._message: tuple[str, float] | None = None  # (reason, since)
        self._flash_since: float | None = None
        self._score_until: float | None = None  # the quick-score faces take a score until then

    def scoring(self, until: float | None) -> None:
        """The faces take a score until `until` (None: no longer, a score was given)."""
        self._score_until = until

    def on_state(self, state: dict[str, Any], now: float) -> None:
        """A CounterState arrived: a recall of the same ticket flashes. A refusal's word
        stays: NEXT on an empty queue finishes the ticket served, and that state comes
        after the queue_empty reply."""
        old = self.state or {}
        number = _serving(state)
        if number and number == _serving(old) and \
                _whole(state.get("recalls")) > _whole(old.get("recalls")):
            self._flash_since = now
        self.state = state

    def refused(self, reason: str, now: float) -> None:
        """Show why a press was refused (a key of REASONS, or any other error code)."""
        self._message = (reason, now)

    def accepted(self) -> None:
        self._message = None

    def view(self, now: float) -> tuple[View, float | None]:
        """(the View now, seconds until it changes by itself, or None)."""
        wake = None
        if self._message is not None and now - self._message[1] >= MESSAGE_SECONDS:
            self._message = None
        if self._flash_since is not None and now - self._flash_since >= FLASH_SECONDS:
            self._flash_since = None
        state = self.state
        if self.link_down or state is None:
            note = "Koneksi terputus" if self.link_down else "Menghubungkan"
            return View(self.title, "--", note, digits=f"{'--':^{DIGITS}}"), None
        waiting = _whole(state.get("waiting"))
        count = f"Menunggu: {waiting}"
        if self._score_until is not None and now >= self._score_until:
            self._score_until = None
        if self._score_until is not None:
            count, wake = SCORE_NOTE, self._score_until - now
        if self._message is not None:
            reason, since = self._message
            word, note, seven = REASONS.get(reason, OTHER)
            return View(self.title, word, note, digits=_seven(seven)), since + MESSAGE_SECONDS - now
        status = state.get("status")
        number = _serving(state)
        if status == "closed":
            return View(self.title, "TUTUP", count, digits=_seven("tUtUP")), wake
        if status == "paused":
            return View(self.title, "JEDA", count, digits=_seven("JEdA", waiting)), wake
        if not number:
            return View(self.title, "SIAP", count, digits=_seven("----", waiting)), wake
        recalls = _whole(state.get("recalls"))
        corner = f"Ulang {recalls}/{self.max_recalls}" if recalls else ""
        inverted = False
        if self._flash_since is not None:
            elapsed = now - self._flash_since
            step = int(elapsed / FLASH_STEP)
            inverted = step % 2 == 0
            flash = (step + 1) * FLASH_STEP - elapsed
            wake = flash if wake is None else min(wake, flash)
        digits = _seven("" if inverted else number_digits(number), waiting, number=True)
        return View(self.title, number, count, corner, inverted, digits), wake


# --- drawing (a luma canvas is a PIL ImageDraw on the device's 1-bit image) -----------------


@functools.lru_cache(maxsize=None)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's own scalable font (Aileron), the same on every machine with this Pillow:
    the display needs no font package on the Pi."""
    return ImageFont.load_default(size=size)


def _fit(draw: Any, text: str, sizes: tuple[int, ...], width: int, height: int) -> tuple[Any, tuple]:
    """The largest of `sizes` whose ink of `text` fits width x height, and that ink's box."""
    for size in sizes:
        box = draw.textbbox((0, 0), text, font=font(size))
        if box[2] - box[0] <= width and box[3] - box[1] <= height:
            break
    return font(size), box


def draw(d: Any, size: tuple[int, int], view: View) -> None:
    """Draw `view` on a 1-bit canvas of `size` (128x64): the counter's name on top (and
    a mark at its right), the number or word large in the middle, a line below."""
    width, height = size
    ink, paper = ("black", "white") if view.inverted else ("white", "black")
    d.rectangle((0, 0, width - 1, height - 1), fill=paper)
    small = font(TITLE_SIZE)
    room = width - 2
    if view.corner:
        d.text((width - 1, 10), _spaced(view.corner), font=small, fill=ink, anchor="rs")
        room -= int(d.textlength(_spaced(view.corner), font=small)) + 6
    title = _spaced(view.title)
    while " " in title and d.textlength(title, font=small) > room:  # a long name loses words, never drawn over
        title = title.rsplit(" ", 1)[0].rstrip()
    while title and d.textlength(title, font=small) > room:
        title = title[:-1]
    d.text((1, 10), title, font=small, fill=ink, anchor="ls")
    d.line((0, 13, width - 1, 13), fill=ink)
    top, bottom = 15, height - 14  # the big text's band, between the title and the note
    big, box = _fit(d, view.big, BIG_SIZES, width - 4, bottom - top)
    x = (width - (box[2] - box[0])) // 2 - box[0]
    y = top + (bottom - top - (box[3] - box[1])) // 2 - box[1]
    d.text((x, y), view.big, font=big, fill=ink)
    if view.note:
        text = _spaced(view.note)
        note, _ = _fit(d, text, NOTE_SIZES, width - 2, 12)
        d.text((width // 2, height - 3), text, font=note, fill=ink, anchor="ms")


def _spaced(text: str) -> str:
    """Small text with its spaces doubled: at 9-11 px without anti-aliasing a single
    space nearly vanishes ("Koneksiterputus")."""
    return text.replace(" ", "  ")
