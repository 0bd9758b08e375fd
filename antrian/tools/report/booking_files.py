"""The bookings part of the report written out (the figures and their definitions are in
bookings.py): reservasi.csv (per service, per agency and in total), reservasi_daftar.csv
(one row per booking, without its code or any personal data) and the HTML section
"Reservasi daring". Like files.py: stable English CSV keys with a decimal point, the
page in Indonesian with the decimal comma.
"""

from __future__ import annotations

from typing import Any, Callable

from antrian.tools.report.bookings import BookingFigures, BookingReport
from antrian.tools.report.words import angka, persen

CSV_NAME = "reservasi.csv"
LIST_NAME = "reservasi_daftar.csv"
COLUMNS = ["online_tickets", "walk_in_tickets", "online_share", "bookings_made", "checked_in", "cancelled",
           "expired", "still_open", "no_show_rate", "checkin_n", "checkin_offset_mean_min",
           "checkin_offset_median_min", "checkin_offset_p10_min", "checkin_offset_p90_min", "before_slot_share",
           "in_window_share", "online_wait_mean_min", "walk_in_wait_mean_min"]


def _min(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}"


def _share(x: float | None) -> str:
    return "" if x is None else f"{x:.4f}"


def cells(f: BookingFigures) -> list[Any]:
    o = f.offsets
    return [f.online, f.walk_in, _share(f.online_share), f.made, f.checked_in, f.cancelled, f.expired, f.still_open,
            _share(f.no_show_rate), o.n, _min(o.mean), _min(o.median), _min(o.p10), _min(o.p90),
            _share(o.before_slot_share), _share(f.in_window_share), _min(f.online_wait_mean),
            _min(f.walk_in_wait_mean)]


def csv_files(report) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(file name, header, rows) of the bookings' CSV files."""
    cfg, b = report.config, report.bookings
    summary = ([["service", code, s.name, *cells(b.services[code])] for code, s in cfg.services.items()]
               + [["agency", a.id, a.name, *cells(b.agencies[a.id])] for a in cfg.agencies]
               + [["all", "", "Jumlah", *cells(b.total)]])
    listing = [[r.date.isoformat(), r.service, f"{r.slot:%H:%M}", r.booked_at.isoformat(), r.status,
                r.ended_at.isoformat() if r.ended_at else "", r.ticket or "",
                _min(r.offset_us / 60_000_000) if r.offset_us is not None else ""] for r in b.rows]
    return [(CSV_NAME, ["scope", "id", "name", *COLUMNS], summary),
            (LIST_NAME, ["day", "service", "slot", "booked_at", "status", "ended_at", "ticket", "checkin_offset_min"],
             listing)]


# Two tables, so the page needs no sideways scrolling: the counts, then punctuality and waits.
COUNT_HEADER = ["Tiket daring", "Tiket langsung", "Porsi daring", "Reservasi dibuat", "Lapor diri", "Dibatalkan",
                "Tidak datang (kedaluwarsa)", "Masih berlaku", "Tingkat tidak datang"]
COUNT_GROUPS = [("Tiket", 3), ("Reservasi untuk periode ini", 6)]
TIME_HEADER = ["Median", "P10", "P90", "Sebelum jam slot", "Dalam jendela", "Daring", "Langsung"]
TIME_GROUPS = [("Lapor diri − jam slot (menit)", 5), ("Rata-rata tunggu (menit)", 2)]


def _signed(x: float | None) -> str:
    """Minutes with their sign: '−5,0' early, '+3,0' late (the report's comma)."""
    if x is None:
        return "–"
    return ("+" if x > 0 else "−" if x < 0 else "") + angka(abs(x), 1)


def row(f: BookingFigures) -> list[str]:
    o = f.offsets
    return [angka(f.online), angka(f.walk_in), persen(f.online_share), angka(f.made), angka(f.checked_in),
            angka(f.cancelled), angka(f.expired), angka(f.still_open), persen(f.no_show_rate), _signed(o.median),
            _signed(o.p10), _signed(o.p90), persen(o.before_slot_share), persen(f.in_window_share),
            angka(f.online_wait_mean, 1), angka(f.walk_in_wait_mean, 1)]


NOTE = ("<p class=sub><b>Tiket daring</b>: tiket dari lapor diri reservasi di anjungan; <b>tiket langsung</b>: "
        "tanpa reservasi. <b>Reservasi dibuat</b>: reservasi untuk hari-hari periode ini, kapan pun dibuat; masing-"
        "masing berakhir lapor diri, dibatalkan, atau kedaluwarsa (tidak lapor diri sampai batas jendela: reservasi "
        "tidak datang); yang belum berakhir masih berlaku. <b>Tingkat tidak datang</b> = kedaluwarsa ÷ (lapor diri + "
        "kedaluwarsa); <b>dalam jendela</b> = lapor diri ÷ (lapor diri + kedaluwarsa). <b>Lapor diri − jam slot</b>: "
        "negatif berarti lebih awal dari jam slot; median, persentil ke-10 dan ke-90. Reservasi yang sudah lapor "
        "diri diantrekan menurut jam slotnya.</p>")


def html(report, table: Callable[..., str]) -> str:
    """The section "Reservasi daring" (empty when the period has no booking and no online ticket)."""
    cfg, b = report.config, report.bookings
    if b is None or not b.shown:
        return ""
    codes = [code for code in cfg.services if cfg.services[code].booking is not None
             or b.services[code].made or b.services[code].online]
    names = [[cfg.agency(cfg.services[c].agency).short_name, f"{c} — {cfg.services[c].name}"] for c in codes]
    rows = [[*n, *row(b.services[c])] for n, c in zip(names, codes)] + [["", "Jumlah (semua layanan)", *row(b.total)]]
    split = len(COUNT_HEADER)
    return ("<h2>Reservasi daring</h2><h3>Tiket dan reservasi</h3>"
            + table(["Instansi", "Layanan", *COUNT_HEADER], [r[:2 + split] for r in rows], text_cols=2, sums=1,
                    groups=[("", 2), *COUNT_GROUPS])
            + "<h3>Lapor diri dan waktu tunggu</h3>"
            + table(["Instansi", "Layanan", *TIME_HEADER], [r[:2] + r[2 + split:] for r in rows], text_cols=2,
                    sums=1, groups=[("", 2), *TIME_GROUPS])
            + NOTE)


def card(report) -> tuple[str, str] | None:
    """The summary card: the online share of the tickets and the booking no-shows."""
    b = report.bookings
    if b is None or not b.shown:
        return None
    return ("Tiket daring · tidak datang", f"{persen(b.total.online_share)} · {persen(b.total.no_show_rate)}")
