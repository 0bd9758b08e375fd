"""The report written out: CSV files for spreadsheets and one HTML page for the MPP head.

CSV columns are stable English keys (a script can read them next year), minutes with
two decimals and shares as fractions, decimal point. The HTML page is Indonesian, with
the decimal comma and the thousands dot of Indonesian writing ("1.234", "12,5").
"""

from __future__ import annotations

import csv
import datetime as dt
import html
from pathlib import Path
from typing import Any, Iterable

from antrian import bahasa
from antrian.tools import ikm_report
from antrian.tools.report import booking_files
from antrian.tools.report.figures import CounterFigures, Figures, Report, Stats
from antrian.tools.report.words import angka, jam, persen

HTML_NAME = "laporan.html"


def _pukul(at: dt.datetime | None, tz) -> str:
    return "–" if at is None else at.astimezone(tz).strftime("%H.%M")


def _csv_min(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}"


def _csv_share(x: float | None) -> str:
    return "" if x is None else f"{x:.4f}"


# -- CSV ----------------------------------------------------------------------------------

FIGURE_COLUMNS = ["issued", "priority", "transferred_in", "served", "no_show", "transferred_out", "withdrawn",
                  "serving_at_close", "waiting_at_close", "wait_n", "wait_mean_min", "wait_median_min", "wait_p90_min", "wait_max_min",
                  "judged", "over_target", "over_target_share", "service_n", "service_mean_min",
                  "service_median_min", "service_p90_min", "peak_queue", "peak_at"]


def figure_cells(f: Figures) -> list[Any]:
    return [f.issued, f.priority, f.transferred_in, f.served, f.no_show, f.transferred_out, f.withdrawn,
            f.serving_at_close, f.waiting_at_close, f.wait.n, _csv_min(f.wait.mean), _csv_min(f.wait.median), _csv_min(f.wait.p90),
            _csv_min(f.wait.max), f.judged, f.over_target, _csv_share(f.over_target_share), f.service.n,
            _csv_min(f.service.mean), _csv_min(f.service.median), _csv_min(f.service.p90), f.peak_queue,
            f.peak_at.isoformat() if f.peak_at else ""]


def _write_csv(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def write_csv(report: Report, out: Path) -> list[str]:
    cfg = report.config
    names = []

    def put(name: str, header: list[str], rows: Iterable[list[Any]]) -> None:
        _write_csv(out / name, header, rows)
        names.append(name)

    put("layanan.csv", ["agency", "service", "name", "target_wait_min", *FIGURE_COLUMNS],
        [[s.agency, code, s.name, s.target_wait_min, *figure_cells(report.services[code])]
         for code, s in cfg.services.items()])
    put("instansi.csv", ["agency", "name", *FIGURE_COLUMNS],
        [[a.id, a.name, *figure_cells(report.agencies[a.id])] for a in cfg.agencies]
        + [["", "Jumlah", *figure_cells(report.total)]])
    put("loket.csv", ["counter", "name", "agency", "services", "calls", "served", "no_show", "transferred",
                      "withdrawn", "recalls", "serving_at_close", "service_n", "service_mean_min", "service_median_min",
                      "service_p90_min", "busy_min", "open_min", "utilisation"],
        [[cid, c.name, c.agency or "", " ".join(c.services), *_counter_cells(report.counters[cid])]
         for cid, c in cfg.counters.items()])
    put("harian.csv", ["day", *FIGURE_COLUMNS],
        [[day.isoformat(), *figure_cells(f)] for day, f in report.daily.items()])
    hours = sorted({h for per in report.arrivals.values() for h in per})
    put("kedatangan_per_jam.csv", ["hour", *cfg.services, "total"],
        [[f"{h:02d}:00", *(report.arrivals[c].get(h, 0) for c in cfg.services),
          sum(report.arrivals[c].get(h, 0) for c in cfg.services)] for h in hours])
    slots = sorted({s for per in report.queue.values() for s in per})
    put("antrean_per_15_menit.csv", ["time", *(a.id for a in cfg.agencies)],
        [[f"{s // 4:02d}:{15 * (s % 4):02d}", *(report.queue[a.id].get(s, 0) for a in cfg.agencies)]
         for s in slots])
    put("tiket.csv", ["day", "number", "service", "priority", "via", "start", "first_call", "counter", "end",
                      "outcome", "recalls", "wait_min", "service_min", "online"],
        [[leg.day.isoformat(), leg.number, leg.service, leg.priority or "", leg.via, leg.start.isoformat(),
          leg.first_call.isoformat() if leg.first_call else "", leg.counter or "",
          leg.end.isoformat() if leg.end else "", leg.outcome, leg.recalls,
          _csv_min(float(leg.wait)) if leg.wait is not None else "",
          _csv_min(float(leg.service_time)) if leg.service_time is not None else "", int(bool(leg.booking))]
         for day in report.days for leg in day.legs])
    if report.bookings is not None:  # online and walk-in tickets, bookings, check-ins (booking_files.py)
        for name, header, rows in booking_files.csv_files(report):
            put(name, header, rows)
    if report.ikm is not None:  # IKM per agency and service, profile, quick scores (antrian/tools/ikm_report.py)
        for name, header, rows in ikm_report.csv_files(report):
            put(name, header, rows)
    return names


def _counter_cells(c: CounterFigures) -> list[Any]:
    return [c.calls, c.served, c.no_show, c.transferred, c.withdrawn, c.recalls, c.serving_at_close, c.service.n,
            _csv_min(c.service.mean), _csv_min(c.service.median), _csv_min(c.service.p90), _csv_min(c.busy_min),
            _csv_min(c.open_min), _csv_share(c.utilisation)]


# -- HTML ---------------------------------------------------------------------------------

CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1200px;color:#212121;padding:0 16px}
h1{margin-bottom:2px}h2{margin-top:36px;border-bottom:2px solid #00695C;padding-bottom:4px}
.sub{color:#555;margin-top:0}.banner{background:#FFF8E1;border-left:6px solid #F9A825;padding:8px 12px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:1.6em}.card span{color:#555;font-size:.9em}
table{border-collapse:collapse;width:100%;font-size:.88em;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:right;white-space:nowrap}
th{background:#E0F2F1;white-space:normal;min-width:4em}
td.t,th.t{text-align:left;white-space:normal;min-width:6em;max-width:22em}th.g{text-align:center}
tr.sum td{font-weight:bold;background:#F5F5F5}.wide{overflow-x:auto}h3{margin-bottom:4px}
img{max-width:100%;border:1px solid #eee;margin:8px 0}.check{font-family:monospace;background:#F5F5F5;padding:6px}
.ok{color:#2E7D32}.bad{color:#C62828}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _table(header: list[str], rows: list[list[Any]], *, text_cols: int = 1, sums: int = 0,
           groups: list[tuple[str, int]] = ()) -> str:
    """An HTML table; `groups` puts a row of (label, columns spanned) above the header."""
    def cell(tag: str, i: int, v: Any) -> str:
        return f"<{tag}{' class=t' if i < text_cols else ''}>{_e(v)}</{tag}>"

    top = "".join(f"<th class=g colspan={span}>{_e(label)}</th>" if label else f"<th colspan={span}></th>"
                  for label, span in groups)
    names = "".join(cell("th", i, h) for i, h in enumerate(header))
    head = (f"<tr>{top}</tr>" if top else "") + f"<tr>{names}</tr>"
    body = []
    for r, row in enumerate(rows):
        cls = " class=sum" if r >= len(rows) - sums else ""
        body.append(f"<tr{cls}>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    return f"<div class=wide><table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table></div>"


COUNT_HEADER = ["Tiket diambil", "Prioritas", "Pindahan masuk", "Dilayani", "Tidak hadir", "Dialihkan",
                "Masih dilayani saat tutup", "Masih menunggu saat tutup"]
TIME_HEADER = ["Rata-rata", "Median", "P90", "Maks", "Melebihi target", "Rata-rata", "Median", "P90",
               "Antrean terpanjang (pukul)"]
TIME_GROUPS = [("Waktu tunggu (menit)", 4), ("", 1), ("Waktu layanan (menit)", 3), ("", 1)]


def _counts_row(f: Figures) -> list[str]:
    return [angka(f.issued), angka(f.priority), angka(f.transferred_in), angka(f.served), angka(f.no_show),
            angka(f.transferred_out), angka(f.serving_at_close), angka(f.waiting_at_close)]


def _times_row(f: Figures, tz) -> list[str]:
    peak = f"{angka(f.peak_queue)} ({_pukul(f.peak_at, tz)})" if f.peak_queue else "0"
    return [*_stats(f.wait), persen(f.over_target_share), *_stats(f.service, with_max=False), peak]


def _figure_tables(names: list[list[str]], figures: list[Figures], tz, name_header: list[str], sums: int = 0) -> str:
    lead = [("", len(name_header))]
    return ("<h3>Jumlah tiket</h3>"
            + _table([*name_header, *COUNT_HEADER], [[*n, *_counts_row(f)] for n, f in zip(names, figures)],
                     text_cols=len(name_header), sums=sums)
            + "<h3>Waktu</h3>"
            + _table([*name_header, *TIME_HEADER], [[*n, *_times_row(f, tz)] for n, f in zip(names, figures)],
                     text_cols=len(name_header), sums=sums, groups=lead + TIME_GROUPS))


def _stats(s: Stats, with_max: bool = True) -> list[str]:
    out = [angka(s.mean, 1), angka(s.median, 1), angka(s.p90, 1)]
    return out + [angka(s.max, 1)] if with_max else out


def _period_text(report: Report) -> str:
    tz = report.config.tz

    def day(d: dt.date) -> str:
        return bahasa.tanggal(dt.datetime.combine(d, dt.time(12), tzinfo=tz), jam=False)

    if report.first == report.last:
        return day(report.first)
    return f"{day(report.first)} s.d. {day(report.last)} ({len(report.days)} hari dengan data)"


def write_html(report: Report, out: Path, charts: dict[str, str]) -> str:
    cfg, tz, t = report.config, report.config.tz, report.total
    title = report.title or ("Laporan Harian" if report.first == report.last else "Laporan Pelayanan")
    parts = [f"<!DOCTYPE html><html lang=id><head><meta charset=utf-8><title>{_e(title)} — {_e(cfg.site.name)}"
             f"</title><style>{CSS}</style></head><body>",
             f"<h1>{_e(title)}</h1><p class=sub>{_e(cfg.site.name)} · {_e(_period_text(report))}</p>"]
    parts += [f"<p class=banner>{_e(n)}</p>" for n in report.notes]

    ikm = report.ikm.overall if report.ikm else None
    cards = [("Tiket diambil", angka(t.issued)), ("Dilayani", angka(t.served)), ("Tidak hadir", angka(t.no_show)),
             ("Dialihkan", angka(t.transferred_out)), ("Masih menunggu saat tutup", angka(t.waiting_at_close)),
             ("Waktu tunggu rata-rata", f"{angka(t.wait.mean, 1)} menit"),
             ("Melebihi target waktu tunggu", persen(t.over_target_share)),
             ("IKM", f"{angka(float(ikm.value), 2)} ({ikm.grade})" if ikm else "–")]
    cards += [c for c in [booking_files.card(report)] if c]
    parts.append("<div class=cards>" + "".join(f"<div class=card><b>{_e(v)}</b><span>{_e(k)}</span></div>"
                                                for k, v in cards) + "</div>")
    ok = report.balanced
    parts.append(f"<p class=check>Tiket diambil {angka(t.issued)} + pindahan masuk {angka(t.transferred_in)} = "
                 f"dilayani {angka(t.served)} + tidak hadir {angka(t.no_show)} + dialihkan "
                 f"{angka(t.transferred_out)}"
                 + (f" + ditarik {angka(t.withdrawn)}" if t.withdrawn else "")
                 + f" + masih dilayani {angka(t.serving_at_close)} + masih menunggu "
                 f"{angka(t.waiting_at_close)} <span class={'ok' if ok else 'bad'}>"
                 f"{'✔ cocok' if ok else '✘ TIDAK COCOK'}</span></p>")

    parts.append("<h2>Per instansi</h2>")
    parts.append(_figure_tables([[a.short_name] for a in cfg.agencies] + [["Jumlah"]],
                                [report.agencies[a.id] for a in cfg.agencies] + [t], tz, ["Instansi"], sums=1))
    parts.append("<h2>Per layanan</h2>")
    parts.append(_figure_tables(
        [[cfg.agency(s.agency).short_name, f"{code} — {s.name}", f"{s.target_wait_min} menit"]
         for code, s in cfg.services.items()],
        [report.services[code] for code in cfg.services], tz, ["Instansi", "Layanan", "Target tunggu"]))
    parts.append(booking_files.html(report, _table))
    parts.append("<h2>Per loket</h2>")
    parts.append(_table(["Loket", "Layanan", "Dipanggil", "Dilayani", "Tidak hadir (tekan)", "Dialihkan",
                         "Panggil ulang", "Masih dilayani saat tutup", "Rata-rata", "Median", "P90", "Waktu sibuk",
                         "Waktu buka", "Utilisasi"],
                        [[c.name, ", ".join(c.services), *_counter_row(report.counters[cid])]
                         for cid, c in cfg.counters.items()], text_cols=2,
                        groups=[("", 8), ("Waktu layanan (menit)", 3), ("", 3)]))

    parts.append("<h2>Grafik</h2>")
    alts = {"arrivals": "Kedatangan per jam", "waits": "Waktu tunggu per layanan", "counters": "Beban loket",
            "queue": "Antrean menunggu", "bookings": "Reservasi daring"}
    parts += [f"<img src='{_e(name)}' alt='{_e(alts[key])}'>" for key, name in charts.items()]

    if report.ikm is not None:
        parts.append(ikm_report.html(report, _table, _e, angka, persen))
    if len(report.days) > 1:
        parts.append("<h2>Per hari</h2>")
        parts.append(_figure_tables([[d.strftime("%d-%m-%Y")] for d in report.daily],
                                    list(report.daily.values()), tz, ["Tanggal"]))
    parts.append(NOTES)
    parts.append("</body></html>")
    (out / HTML_NAME).write_text("\n".join(parts), encoding="utf-8")
    return HTML_NAME


def _counter_row(c: CounterFigures) -> list[str]:
    return [angka(c.calls), angka(c.served), angka(c.no_show), angka(c.transferred), angka(c.recalls),
            angka(c.serving_at_close), *_stats(c.service, with_max=False), jam(c.busy_min), jam(c.open_min),
            persen(c.utilisation)]


NOTES = """<h2>Catatan</h2><ul>
<li><b>Waktu tunggu</b> = panggilan pertama − pengambilan tiket (untuk tiket pindahan: − saat dialihkan).
<b>Waktu layanan</b> = selesai dilayani − panggilan terakhir. Median dan P90 (persentil ke-90) dihitung seperti
MEDIAN dan PERCENTILE.INC di lembar kerja.</li>
<li>Tiket yang <b>dialihkan</b> tetap memakai nomornya: dihitung sebagai <i>dialihkan</i> pada layanan asal dan
sebagai <i>pindahan masuk</i> pada layanan tujuan. Tiket diambil + pindahan masuk = dilayani + tidak hadir +
dialihkan + masih dilayani + masih menunggu.</li>
<li><b>Tidak hadir</b> pada layanan = tiket yang berakhir tidak hadir; pada loket = berapa kali petugas menekan
"tidak hadir" (nomor yang dipanggil kembali lalu dilayani terhitung dilayani).</li>
<li><b>Melebihi target</b>: menunggu lebih lama dari target waktu tunggu layanan; tiket yang belum dipanggil
dihitung melebihi target bila layanan tutup lebih dari target setelah tiket diambil.</li>
<li><b>Utilisasi loket</b> = waktu sibuk (dari panggilan sampai selesai, tidak hadir atau dialihkan) ÷ waktu buka
(loket berstatus buka, dari jam buka layanannya sampai jam tutup atau kegiatan terakhir).</li>
</ul>"""


def write(report: Report, out: Path | str, *, charts: bool = True) -> list[str]:
    """Write every CSV, the PNG charts and the HTML page into `out`; the file names written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = write_csv(report, out)
    drawn: dict[str, str] = {}
    if charts:
        from antrian.tools.report.charts import write_charts

        drawn = write_charts(report, out)
    return names + list(drawn.values()) + [write_html(report, out, drawn)]
