"""What a simulated day writes: the ordinary report of that day, with notes on how
it was simulated.
"""


from __future__ import annotations

import datetime as dt
from pathlib import Path


from antrian.tools.simulate.day import Result
from antrian.tools.simulate.scenario import HARD_STOP, Scenario


def _describe_staffing(scenario: Scenario) -> str:
    def hours(spans) -> str:
        if spans is None:
            return "sepanjang hari sampai antrean habis"
        return " dan ".join(f"{int(a) // 60:02d}.{int(a) % 60:02d}–{int(b) // 60:02d}.{int(b) % 60:02d}"
                            for a, b in spans) or "tidak dijaga"

    cfg = scenario.config
    return "; ".join(f"{cfg.counters[cid].name} {hours(spans)}" for cid, spans in scenario.staffing.items())


def notes(result: Result, arrivals_source: str | None) -> list[str]:
    """The Indonesian lines that tell a reader this page is a prediction, and of what."""
    from antrian import bahasa

    sc, cfg = result.scenario, result.scenario.config
    when = bahasa.tanggal(dt.datetime.combine(sc.day, dt.time(12), tzinfo=cfg.tz), jam=False)
    out = [f"Hasil simulasi, bukan data nyata: perkiraan untuk {when} (seed {result.seed}), dihitung oleh mesin "
           f"antrean yang sama dengan yang melayani warga. Kedatangan: "
           + (f"berkas {arrivals_source}" if arrivals_source else "sebanyak kuota harian tiap layanan, "
              "ramai pada pagi hari")
           + f"; {len(result.citizens) - result.stayed_away} warga datang, {len(result.tickets)} mendapat nomor.",
           f"Loket yang dijaga: {_describe_staffing(sc) or 'tidak ada'}."]
    out += _booking_notes(result)
    words = {"quota_exhausted": "kuota habis", "service_closed": "layanan tutup"}
    turned = [f"{code} {n} ({words.get(why, why)})" for code, per in result.refused.items() for why, n in per.items()]
    if turned:
        out.append("Tidak mendapat nomor: " + ", ".join(turned) + ".")
    last = result.events[-1].at if result.events else None
    if last is not None and last.astimezone(cfg.tz).time() >= HARD_STOP:
        out.append(f"Pukul {HARD_STOP:%H.%M} antrean belum habis: simulasi berhenti di situ (nomor antrean berganti "
                   "hari pada tengah malam); yang belum dipanggil tercatat masih menunggu saat tutup.")
    return out


def _booking_notes(result: Result) -> list[str]:
    """What the simulated bookers did, and the assumptions behind it."""
    from antrian.tools.report.words import angka

    b, sc = result.bookings, result.scenario
    if b is None or not b.booked and not any(b.unbooked.values()):
        return []
    made: dict[str, int] = {}
    for person in b.booked.values():
        made[person.service] = made.get(person.service, 0) + 1
    parts = []
    for code, plan in sc.services.items():
        p = plan.booking
        if not p.share:
            continue
        offset = ("+" if p.offset_min > 0 else "−" if p.offset_min < 0 else "") + angka(abs(p.offset_min))
        parts.append(f"{code}: {made.get(code, 0)} reservasi ({angka(100 * p.share)}% warga memesan; pemesan datang "
                     f"{offset} ± {angka(p.spread_min)} menit dari jam slot, {angka(100 * p.no_show)}% tidak datang)")
    out = ["Reservasi daring, dibuat saat pemesanan dibuka dan lapor diri di anjungan dengan aturan mesin antrean: "
           + "; ".join(parts) + "."]
    early, late, unbooked = (sum(d.values()) for d in (b.early, b.late, b.unbooked))
    if early or late or unbooked:
        out.append(f"{early} pemesan datang sebelum jendela lapor diri dan menunggu, {late} terlambat lalu mengambil "
                   f"nomor biasa, {unbooked} tidak kebagian reservasi dan datang langsung; {result.stayed_away} "
                   "pemesan tidak datang (reservasinya kedaluwarsa).")
    return out


def write(result: Result, out: str | Path, *, arrivals_source: str | None = None, charts: bool = True) -> list[str]:
    """The simulated day's report (CSV, charts, HTML) plus simulasi.csv with the assumptions per service."""
    import csv

    from antrian.tools.report import files as report_files

    out = Path(out)
    rep = result.report(title="Simulasi Hari Pelayanan", notes=notes(result, arrivals_source))
    files = report_files.write(rep, out, charts=charts)
    sc = result.scenario
    drawn: dict[str, int] = {}
    for person in result.citizens:
        drawn[person.service] = drawn.get(person.service, 0) + 1
    issued = {code: 0 for code in sc.config.services}
    for person in result.tickets.values():
        issued[person.service] += 1
    with (out / "simulasi.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["service", "expected_citizens", "citizens", "issued", "refused_quota", "refused_closed",
                    "service_min", "cv", "no_show", "priority", "seed", "booking_share", "booking_no_show",
                    "booking_offset_min", "booking_spread_min", "booked", "booked_stayed_away", "booking_refused",
                    "checkin_early", "checkin_late"])
        b = result.bookings
        booked = {code: [p for p in (b.booked.values() if b else ()) if p.service == code] for code in sc.services}
        for code, plan in sc.services.items():
            bp = plan.booking
            w.writerow([code, f"{plan.expected(sc.config, code, sc.day):.1f}", drawn.get(code, 0), issued[code],
                        result.refused[code].get("quota_exhausted", 0), result.refused[code].get("service_closed", 0),
                        plan.service_min, plan.cv, plan.no_show, plan.priority, result.seed, bp.share, bp.no_show,
                        bp.offset_min, bp.spread_min, len(booked[code]), sum(p.stays_away for p in booked[code]),
                        b.unbooked[code] if b else 0, b.early[code] if b else 0, b.late[code] if b else 0])
    return files + ["simulasi.csv"]
