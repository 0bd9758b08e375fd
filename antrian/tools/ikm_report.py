"""The IKM part of `antrian report` (antrian/tools/report/files.py writes the rest): its
CSV files and its section of the HTML page, for the period the report covers.

- IKM per agency and per service, each with the number served in the period, the
  minimum sample for it (Krejcie and Morgan, `antrian.tools.ikm.min_sample`) and, under
  the tables, the plain warning for every figure with fewer respondents than that.
- The respondent profile of the nine-element surveys (age band, sex, education,
  occupation; Permenpan RB 14/2017's sample questionnaire).
- The counters' quick four-face scores, apart: they are not the nine-element IKM.

CSV columns are stable English keys; the HTML is Indonesian with Indonesian numbers.
"""

from __future__ import annotations

from typing import Any

from antrian.protocol import PROFILE_CHOICES, SURVEY_ELEMENTS
from antrian.skm import PROFILE
from antrian.tools.ikm import ELEMENT_NAMES, NOT_ANSWERED, QUICK_LABELS, Ikm, QuickScore, min_sample, sample_warning

__all__ = ["PROFILE_TITLES", "csv_files", "html", "warnings"]

# The profile's questions and answers in the words the citizen read (antrian/skm.py).
PROFILE_TITLES = {q.key: q.title for q in PROFILE}
PROFILE_WORDS = {q.key: {**dict(q.choices), NOT_ANSWERED: "Tidak diisi"} for q in PROFILE}


def _scopes(report) -> list[tuple[str, str, str, int, Ikm | None]]:
    """(kind, id, name, served, IKM) for each agency, each service and the whole."""
    cfg, ikm = report.config, report.ikm
    out = [("agency", a.id, a.short_name, report.agencies[a.id].served, ikm.agencies[a.id]) for a in cfg.agencies]
    out += [("service", code, f"{code} — {s.name}", report.services[code].served, ikm.services[code])
            for code, s in cfg.services.items()]
    out.append(("all", "", "Semua instansi", report.total.served, ikm.overall))
    return out


def warnings(report) -> list[str]:
    """The sample-size warning of each scope that has one, prefixed with the scope's name."""
    out = []
    for _, _, name, served, value in _scopes(report):
        note = sample_warning(value.respondents if value else 0, served)
        if note is not None and served:
            out.append(f"{name}: {note}")
    return out


def csv_files(report) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(file name, header, rows) of ikm.csv, skor_cepat.csv and profil_responden.csv."""
    cfg, ikm = report.config, report.ikm
    rows = []
    for kind, key, name, served, value in _scopes(report):
        scope = key if kind == "agency" else ("" if kind == "all" else f"service:{key}")
        cells = ([0, *[""] * len(SURVEY_ELEMENTS), "", "", ""] if value is None else
                 [value.respondents, *(f"{float(value.nrr[k]):.4f}" for k in SURVEY_ELEMENTS), f"{value.value}",
                  value.grade, value.label])
        rows.append([scope, name, *cells, served, min_sample(served)])
    quick = ([["agency", a.id, a.name, *_quick_cells(ikm.quick_agencies[a.id])] for a in cfg.agencies]
             + [["counter", cid, c.name, *_quick_cells(ikm.quick_counters[cid])] for cid, c in cfg.counters.items()]
             + [["all", "", "Semua", *_quick_cells(ikm.quick_overall)]])
    profile = [[key, choice, n] for key, counts in ikm.profile.items() for choice, n in counts.items()]
    return [("ikm.csv", ["scope", "name", "respondents", *SURVEY_ELEMENTS, "ikm", "grade", "mutu", "served",
                         "min_sample"], rows),
            ("skor_cepat.csv", ["kind", "scope", "name", "n", "score_1", "score_2", "score_3", "score_4", "mean"],
             quick),
            ("profil_responden.csv", ["question", "answer", "respondents"], profile)]


def _quick_cells(q: QuickScore) -> list[Any]:
    return [q.n, *(q.counts[s] for s in QUICK_LABELS), "" if q.mean is None else f"{q.mean:.2f}"]


def html(report, table, escape, angka, persen) -> str:
    """The report page's IKM section; `table`, `escape`, `angka`, `persen`: the page's own
    helpers (antrian/tools/report/files.py), so it looks like the rest of the page."""
    ikm = report.ikm
    head = "<h2>Indeks Kepuasan Masyarakat (IKM)</h2>"
    if ikm.overall is None and not ikm.quick_overall.n:
        return (head + "<p>Belum ada survei kepuasan pada periode ini"
                + (f" ({angka(ikm.rejected)} survei tidak sah diabaikan)" if ikm.rejected else "") + ".</p>")

    def cells(served: int, value: Ikm | None, nrr: bool) -> list[str]:
        sample = [angka(served), angka(min_sample(served))]
        if value is None:
            return [*sample, "0", *(["–"] * len(SURVEY_ELEMENTS) if nrr else []), "–", "–", "–"]
        return [*sample, angka(value.respondents),
                *((angka(float(value.nrr[k]), 3) for k in SURVEY_ELEMENTS) if nrr else ()),
                angka(float(value.value), 2), value.grade, value.label]

    scopes = _scopes(report)
    agencies = [[name, *cells(served, v, True)] for kind, _, name, served, v in scopes if kind in ("agency", "all")]
    services = [[name, *cells(served, v, False)] for kind, _, name, served, v in scopes if kind == "service"]
    sample_head = ["Dilayani", "Sampel minimum", "Responden"]
    legend = "; ".join(f"{k} {v}" for k, v in ELEMENT_NAMES.items())
    out = [head,
           "<p>Menurut Permenpan RB No. 14 Tahun 2017: NRR tiap unsur = rata-rata jawaban (1–4); IKM = rata-rata "
           "sembilan NRR × 25, dibulatkan dua desimal. Mutu: A 88,31–100 Sangat Baik; B 76,61–88,30 Baik; "
           "C 65,00–76,60 Kurang Baik; D 25,00–64,99 Tidak Baik. Sampel minimum untuk jumlah yang dilayani pada "
           "periode ini menurut Krejcie dan Morgan: s = X²·N·P(1−P) / (d²(N−1) + X²·P(1−P)), X² = 3,841, P = 0,5, "
           "d = 0,05.</p>",
           "<h3>Per instansi</h3>",
           table(["Instansi", *sample_head, *(f"NRR {k}" for k in SURVEY_ELEMENTS), "IKM", "Mutu", "Kinerja"],
                 agencies, sums=1),
           "<h3>Per layanan</h3>",
           table(["Layanan", *sample_head, "IKM", "Mutu", "Kinerja"], services),
           f"<p class=sub>Unsur: {escape(legend)}.</p>"]
    notes = warnings(report)
    if notes:
        out.append("<div class=banner><b>Sampel belum cukup</b><ul>"
                   + "".join(f"<li>{escape(w)}</li>" for w in notes) + "</ul></div>")
    if ikm.unattributed or ikm.rejected:
        out.append(f"<p class=sub>{angka(ikm.unattributed)} survei tanpa nomor tiket atau loket yang dikenal hanya "
                   f"dihitung pada jumlah semua instansi; {angka(ikm.rejected)} survei tidak sah diabaikan.</p>")
    if ikm.overall is not None:
        n = ikm.overall.respondents
        rows = [[PROFILE_TITLES[key], "; ".join(f"{PROFILE_WORDS[key][c]}: {angka(counts[c])} ({persen(counts[c] / n)})"
                                                 for c in (*PROFILE_CHOICES[key], NOT_ANSWERED))]
                for key, counts in ikm.profile.items()]
        out += [f"<h3>Profil responden (survei sembilan unsur, {angka(n)} responden)</h3>",
                table(["Pertanyaan", "Jawaban: responden (bagian)"], rows, text_cols=2)]
    q_rows = [[a.short_name, *_quick_row(ikm.quick_agencies[a.id], angka, persen)] for a in report.config.agencies]
    q_rows += [[c.name, *_quick_row(ikm.quick_counters[cid], angka, persen)]
               for cid, c in report.config.counters.items() if ikm.quick_counters[cid].n]
    q_rows.append(["Semua", *_quick_row(ikm.quick_overall, angka, persen)])
    out += ["<h2>Skor cepat 1–4 (bukan IKM)</h2>",
            "<p class=sub>Nilai 1–4 yang diberikan warga dengan satu sentuhan sesudah dilayani: tombol wajah di loket "
            "atau empat pilihan di halaman tiket. Skor cepat ini bukan IKM sembilan unsur Permenpan RB No. 14 Tahun "
            "2017 dan tidak dihitung dalam IKM.</p>",
            table(["Instansi / loket", "Jumlah", *(f"{s} {label}" for s, label in QUICK_LABELS.items()),
                   "Rata-rata (1–4)"], q_rows, sums=1)]
    return "\n".join(out)


def _quick_row(q: QuickScore, angka, persen) -> list[str]:
    return [angka(q.n), *(f"{angka(q.counts[s])} ({persen(q.share(s))})" for s in QUICK_LABELS), angka(q.mean, 2)]
