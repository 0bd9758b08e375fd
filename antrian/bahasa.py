"""Bahasa Indonesia text: numbers in words, letter names, call announcements, dates.

Everything a citizen hears or reads in Indonesian is built here, so the speech
engine, the board and the ticket printer all say the same thing:

- ``terbilang(123)`` -> "seratus dua puluh tiga" (0 to 999 999)
- ``eja("B")`` -> "be" and ``eja_kata("AB")`` -> "a be" (Indonesian letter names,
  so the voice never says "bi")
- ``announcement("B-012", "Loket 3")`` -> "Nomor antrean be, dua belas, silakan
  menuju loket tiga." with ``check_template`` for the config validator; a remote
  counter's ``location`` is said in the counter's place ("... silakan menuju bilik
  layanan daring.")
- ``announcement(..., recall=True)`` -> "Panggilan ulang, nomor antrean be, dua belas,
  silakan menuju loket tiga." (an officer called the ticket again), and
  ``short_announcement("B-012", "Loket 3")`` -> "be dua belas, loket tiga." (the board
  says it while calls wait behind it: display/announcer.py)
- ``tanggal(dt)`` -> "Senin, 5 Februari 2024, pukul 09.15 WITA", ``zona(dt)``,
  and the ``HARI`` / ``BULAN`` name lists for other modules.

Citizen-facing words follow KBBI spelling (antrean, silakan). Standard library only.
"""

from __future__ import annotations

import re
import string
from datetime import datetime, timedelta

__all__ = [
    "BULAN",
    "DEFAULT_TEMPLATE",
    "HARI",
    "RECALL",
    "announcement",
    "check_template",
    "eja",
    "eja_kata",
    "short_announcement",
    "tanggal",
    "terbilang",
    "zona",
]

HARI = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]  # datetime.weekday() order
BULAN = [
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
]

TERBILANG_MAX = 999_999

_SATUAN = ["", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]


def _ratusan(n: int) -> str:
    """Words for 1 <= n <= 999 (0 gives "", so callers can drop an empty tail)."""
    ratus, sisa = divmod(n, 100)
    if ratus == 0:
        kepala = ""
    elif ratus == 1:
        kepala = "seratus"
    else:
        kepala = f"{_SATUAN[ratus]} ratus"

    puluh, satu = divmod(sisa, 10)
    if sisa == 0:
        ekor = ""
    elif sisa < 10:
        ekor = _SATUAN[sisa]
    elif sisa == 10:
        ekor = "sepuluh"
    elif sisa == 11:
        ekor = "sebelas"
    elif sisa < 20:
        ekor = f"{_SATUAN[satu]} belas"
    else:
        ekor = f"{_SATUAN[puluh]} puluh {_SATUAN[satu]}".rstrip()

    return f"{kepala} {ekor}".strip()


def terbilang(n: int) -> str:
    """Indonesian words for an integer 0 <= n <= 999 999: 1001 -> "seribu satu"."""
    # bool is an int subclass; True would silently read as "satu".
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"terbilang() needs an int, not {type(n).__name__}: {n!r}")
    if not 0 <= n <= TERBILANG_MAX:
        raise ValueError(f"terbilang() reads 0 to {TERBILANG_MAX}; {n} is outside")
    if n == 0:
        return "nol"
    ribu, sisa = divmod(n, 1000)
    if ribu == 0:
        kepala = ""
    elif ribu == 1:
        kepala = "seribu"  # "seribu", but "seratus satu ribu" for 101 000
    else:
        kepala = f"{_ratusan(ribu)} ribu"
    return f"{kepala} {_ratusan(sisa)}".strip()


_NAMA_HURUF = dict(zip(
    string.ascii_lowercase,
    "a be ce de e ef ge ha i je ka el em en o pe ki er es te u fe we eks ye zet".split(),
))


def eja(letter: str) -> str:
    """The Indonesian name of one letter A-Z, either case: "B" -> "be"."""
    if not isinstance(letter, str):
        raise TypeError(f"eja() needs a str, not {type(letter).__name__}: {letter!r}")
    # isascii() first: "\u212a" (Kelvin sign) lower-cases to "k" but is no ticket letter.
    nama = _NAMA_HURUF.get(letter.lower()) if letter.isascii() else None
    if nama is None:
        raise ValueError(f"eja() spells one letter A-Z; {letter!r} is not one")
    return nama


def eja_kata(s: str) -> str:
    """Spell every letter of a short prefix: "AB" -> "a be"."""
    if not isinstance(s, str):
        raise TypeError(f"eja_kata() needs a str, not {type(s).__name__}: {s!r}")
    if not s:
        raise ValueError("eja_kata() needs at least one letter; got an empty string")
    try:
        return " ".join(eja(c) for c in s)
    except ValueError:
        raise ValueError(f"eja_kata() spells letters A-Z only; {s!r} has something else") from None


# ---------------------------------------------------------------------------
# Announcements

DEFAULT_TEMPLATE = "Nomor antrean {huruf}, {angka}, silakan menuju {loket}."
# Said before a call an officer made again, so the hall does not take it for a new one.
RECALL = "Panggilan ulang"

PLACEHOLDERS = ("huruf", "angka", "loket", "nomor")

# [0-9], not \d: \d also matches Arabic-Indic and other digits that int() accepts.
_NOMOR_RE = re.compile(r"([A-Za-z]{1,2})-([0-9]{3,4})")
_DIGITS_RE = re.compile(r"[0-9]+")


def check_template(template: str) -> list[str]:
    """Problems with an announcement template, as sentences; [] when it is usable."""
    if not isinstance(template, str):
        return [f"template must be text, not {type(template).__name__}"]
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:  # unbalanced braces such as "{huruf"
        return [f"template braces are malformed ({exc}); write a literal brace as {{{{ or }}}}"]

    problems: list[str] = []
    seen: set[str] = set()
    for _text, field, spec, conversion in parts:
        if field is None:
            continue
        if field == "" or field.isdigit():
            problems.append(f"positional placeholder {{{field}}} is not allowed; use a name: "
                            + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
        elif field not in PLACEHOLDERS:
            # Also rejects "{nomor.__class__}" style fields: the template comes from the
            # site file, and attribute or index access would reach into Python objects.
            problems.append(f"unknown placeholder {{{field}}}; known: "
                            + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
        else:
            seen.add(field)
        if conversion or spec:
            problems.append(f"placeholder {{{field}}} must be plain, without '!' or ':'")
    # A call that does not say which ticket or which counter is useless to the hall.
    if not seen & {"angka", "nomor"}:
        problems.append("template must say the number: include {angka} (or {nomor})")
    if "loket" not in seen:
        problems.append("template must say the counter: include {loket}")
    return problems


def _nama_loket(counter_name: str) -> str:
    """The counter name as spoken mid-sentence: "Loket 12" -> "loket dua belas"."""
    def angka(m: re.Match[str]) -> str:
        n = int(m.group())
        # Spaces around the words so "12A" reads "dua belas A"; a run too long for
        # terbilang is read digit by digit rather than failing a call.
        words = terbilang(n) if n <= TERBILANG_MAX else " ".join(terbilang(int(d)) for d in m.group())
        return f" {words} "

    words = _DIGITS_RE.sub(angka, counter_name).split()
    if not words:
        raise ValueError(f"counter name {counter_name!r} is empty")
    first = words[0]
    # "Loket" -> "loket", but acronyms such as "BPJS" or "PBB" keep their capitals.
    if len(first) > 1 and first[0].isupper() and first[1:].islower():
        words[0] = first.lower()
    return " ".join(words)


def _nama_tempat(location: str) -> str:
    """A remote counter's location as spoken mid-sentence: every word that is only
    capitalised goes lower case, as a common noun does in Indonesian ("Bilik Layanan
    Daring 2" -> "bilik layanan daring dua"); acronyms (BPJS) keep their capitals."""
    words = _nama_loket(location).split()
    return " ".join(w.lower() if len(w) > 1 and w[0].isupper() and w[1:].islower() else w for w in words)


def _parts(number: str, counter_name: str, location: str | None, digits: bool) -> tuple[str, str, str]:
    """The spoken letters, number and place of a call; TypeError/ValueError for bad input."""
    if not isinstance(number, str):
        raise TypeError(f"ticket number must be a str, not {type(number).__name__}: {number!r}")
    if not isinstance(counter_name, str):
        raise TypeError(f"counter name must be a str, not {type(counter_name).__name__}: "
                        f"{counter_name!r}")
    if location is not None and not isinstance(location, str):
        raise TypeError(f"location must be a str, not {type(location).__name__}: {location!r}")
    m = _NOMOR_RE.fullmatch(number)
    if m is None:
        raise ValueError(f"ticket number {number!r} is not like 'A-012' "
                         "(1-2 letters, a dash, 3 or 4 digits)")
    prefix, angka = m.groups()
    angka_kata = " ".join(terbilang(int(d)) for d in angka) if digits else terbilang(int(angka))
    place = _nama_tempat(location) if location else _nama_loket(counter_name)
    return eja_kata(prefix), angka_kata, place


def _recalled(text: str) -> str:
    """*text* after "Panggilan ulang, ", its first word lower case when it is an ordinary
    capitalised word ("Nomor antrean ..." -> "Panggilan ulang, nomor antrean ...")."""
    first, _, rest = text.partition(" ")
    if len(first) > 1 and first[0].isupper() and first[1:].islower():
        first = first.lower()
    return f"{RECALL}, {first} {rest}".strip()


def short_announcement(number: str, counter_name: str, *, location: str | None = None, digits: bool = False,
                       recall: bool = False) -> str:
    """The short call the board says while other calls wait: "B-012", "Loket 3" ->
    "be dua belas, loket tiga."; with ``recall=True`` "Panggilan ulang, be dua belas,
    loket tiga.". Not templated: it is the site's sentence cut to the ticket and the place."""
    huruf, angka, place = _parts(number, counter_name, location, digits)
    text = f"{huruf} {angka}, {place}."
    return _recalled(text) if recall else text


def announcement(number: str, counter_name: str, *, location: str | None = None,
                 template: str = DEFAULT_TEMPLATE, digits: bool = False, recall: bool = False) -> str:
    """The text handed to the speech engine for calling ticket ``number`` to a counter.

    "B-012", "Loket 3" -> "Nomor antrean be, dua belas, silakan menuju loket tiga."
    The number is read as a value; with ``digits=True`` digit by digit as printed
    ("nol satu dua"). ``template`` is the site file's setting (see check_template).
    A remote counter (served by video call) gives its ``location``, which the sentence
    says in the counter's place: "A-012", "Loket 9", location="Bilik Layanan Daring" ->
    "Nomor antrean a, dua belas, silakan menuju bilik layanan daring." -- the hall hears
    where to go, not the name of a desk that is in another office. ``recall=True``: an
    officer called the ticket again, said as "Panggilan ulang, nomor antrean ...".
    """
    huruf, angka_kata, place = _parts(number, counter_name, location, digits)
    problems = check_template(template)
    if problems:
        raise ValueError(f"announcement template {template!r}: " + "; ".join(problems))
    text = " ".join(template.format(huruf=huruf, angka=angka_kata, loket=place, nomor=number).split())
    return _recalled(text) if recall else text


# ---------------------------------------------------------------------------
# Dates

_ZONA = {
    timedelta(hours=7): "WIB",
    timedelta(hours=8): "WITA",
    timedelta(hours=9): "WIT",
}


def _offset(dt: datetime) -> timedelta:
    if not isinstance(dt, datetime):
        raise TypeError(f"needs a datetime, not {type(dt).__name__}: {dt!r}")
    offset = dt.utcoffset()
    if offset is None:
        raise ValueError(f"datetime {dt.isoformat()} must carry a time zone (it is naive)")
    return offset


def zona(dt: datetime) -> str:
    """Indonesian zone name for an aware datetime: WIB, WITA, WIT, else "UTC+05.30"."""
    offset = _offset(dt)
    if offset in _ZONA:
        return _ZONA[offset]
    tanda = "-" if offset < timedelta(0) else "+"
    # Seconds (old local mean time offsets) are dropped: the clock shows minutes.
    jam, menit = divmod(abs(offset) // timedelta(minutes=1), 60)
    return f"UTC{tanda}{jam:02d}.{menit:02d}"


def tanggal(dt: datetime, *, jam: bool = True) -> str:
    """The date in words in dt's own zone: "Senin, 5 Februari 2024, pukul 09.15 WITA".

    With ``jam=False`` only the date: "Senin, 5 Februari 2024".
    """
    nama_zona = zona(dt)  # checks that dt is aware before anything is formatted
    teks = f"{HARI[dt.weekday()]}, {dt.day} {BULAN[dt.month - 1]} {dt.year}"
    if jam:
        # KBBI writes the time with a full stop: 09.15, not 09:15.
        teks += f", pukul {dt.hour:02d}.{dt.minute:02d} {nama_zona}"
    return teks
