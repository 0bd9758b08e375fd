"""The IKM of Permenpan RB 14/2017 against hand computations, grade boundaries included.

Each example below is a small set of complete surveys (U1..U9, 1-4) built so that its
sum is known; with n respondents and all answers summing to S, every NRR is a mean of
n answers and IKM = 25 x S / (9 n), rounded half up to two decimals at the very end.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import pytest
import yaml

from antrian.tools import ikm_report
from antrian.tools.ikm import (GRADES, Ikm, IkmReport, QuickScore, agency_of, grade, min_sample, round2, sample_warning,
                               valid_answers)
from antrian.protocol import SURVEY_ELEMENTS
from antrian.site import build
from helpers import MONDAY, Desk, local
from sites import ALL_DAY, counter, service

U = SURVEY_ELEMENTS


def same(value: int, n: int) -> list[dict[str, int]]:
    return [{k: value for k in U} for _ in range(n)]


def partly(value: int, first: int, rest: int) -> dict[str, int]:
    """One survey answering `value` to the first `first` elements and `rest` to the others."""
    return {k: value if i < first else rest for i, k in enumerate(U)}


# (surveys, the exact IKM as a fraction, its rounded value, grade)
EXAMPLES = {
    # 19 respondents, 80 answers of 3 and 91 of 4: S = 604, IKM = 25 x 604 / 171 = 88.304...
    "88.30": (same(3, 8) + [partly(3, 8, 4)] + same(4, 10), Fraction(25 * 604, 171), "88.30", "B"),
    # 24 respondents, 101 answers of 3 and 115 of 4: S = 763, IKM = 25 x 763 / 216 = 88.310...
    "88.31": (same(3, 11) + [partly(3, 2, 4)] + same(4, 12), Fraction(25 * 763, 216), "88.31", "A"),
    # 19 respondents, 11 answers of 4 and 160 of 3: S = 524, IKM = 25 x 524 / 171 = 76.608...
    "76.61": (same(4, 1) + [partly(4, 2, 3)] + same(3, 17), Fraction(25 * 524, 171), "76.61", "B"),
    # 26 respondents, 15 answers of 4 and 219 of 3: S = 717, IKM = 25 x 717 / 234 = 76.602...
    "76.60": (same(4, 1) + [partly(4, 6, 3)] + same(3, 24), Fraction(25 * 717, 234), "76.60", "C"),
    # 5 respondents, two answering 2 throughout and three 3: every NRR 13/5 = 2.6, IKM exactly 65
    "65.00": (same(2, 2) + same(3, 3), Fraction(65), "65.00", "C"),
    # 38 respondents, 137 answers of 2 and 205 of 3: S = 889, IKM = 25 x 889 / 342 = 64.985...
    "64.99": (same(2, 15) + [partly(2, 2, 3)] + same(3, 22), Fraction(25 * 889, 342), "64.99", "D"),
    "25.00": (same(1, 3), Fraction(25), "25.00", "D"),
    "100.00": (same(4, 7), Fraction(100), "100.00", "A"),
}


@pytest.mark.parametrize("name", EXAMPLES)
def test_hand_computed_examples(name):
    surveys, exact, rounded, letter = EXAMPLES[name]
    ikm = Ikm.of(surveys)
    assert ikm.exact == exact
    assert ikm.value == Decimal(rounded) and str(ikm.value) == rounded
    assert ikm.grade == letter
    assert ikm.respondents == len(surveys)


def test_nrr_is_the_mean_of_each_element():
    ikm = Ikm.of(EXAMPLES["88.30"][0])
    # U1..U8: 9 answers of 3 and 10 of 4; U9: 8 of 3 and 11 of 4
    assert ikm.nrr == {**{k: Fraction(67, 19) for k in U[:8]}, "U9": Fraction(68, 19)}


def test_rounding_happens_only_at_the_end():
    """Rounding the NRRs to two decimals first (3.53 and 3.58) would give 88.39, grade A; the
    regulation's figure from the exact means is 88.30, grade B."""
    ikm = Ikm.of(EXAMPLES["88.30"][0])
    early = sum(Decimal(str(round(float(v), 2))) for v in ikm.nrr.values()) / 9 * 25
    assert early.quantize(Decimal("0.01")) == Decimal("88.39") and grade(early.quantize(Decimal("0.01")))[0] == "A"
    assert (str(ikm.value), ikm.grade, ikm.label) == ("88.30", "B", "Baik")


@pytest.mark.parametrize("value, letter, label", [
    ("100.00", "A", "Sangat Baik"), ("88.31", "A", "Sangat Baik"),
    ("88.30", "B", "Baik"), ("76.61", "B", "Baik"),
    ("76.60", "C", "Kurang Baik"), ("65.00", "C", "Kurang Baik"),
    ("64.99", "D", "Tidak Baik"), ("25.00", "D", "Tidak Baik"),
])
def test_grade_boundaries(value, letter, label):
    assert grade(value) == (letter, label)
    assert grade(Decimal(value)) == (letter, label)


@pytest.mark.parametrize("value", ["24.99", "100.01", "0"])
def test_no_grade_outside_25_to_100(value):
    with pytest.raises(ValueError, match="between 25.00 and 100.00"):
        grade(value)


def test_grades_table_is_the_regulation():
    assert [(g, str(low), label) for g, low, label in GRADES] == [
        ("A", "88.31", "Sangat Baik"), ("B", "76.61", "Baik"), ("C", "65.00", "Kurang Baik"),
        ("D", "25.00", "Tidak Baik")]


@pytest.mark.parametrize("x, expected", [
    (Fraction(88305, 1000), "88.31"),  # a tie goes up
    (Fraction(76605, 1000), "76.61"),
    (Fraction(88304999, 1000000), "88.30"),
    (Fraction(6499, 100), "64.99"),
    (Fraction(200, 3), "66.67"),
])
def test_round_half_up_exactly(x, expected):
    assert str(round2(x)) == expected


def test_no_surveys_no_index():
    assert Ikm.of([]) is None


@pytest.mark.parametrize("answers", [
    {k: 3 for k in U[:8]},  # U9 missing
    {**{k: 3 for k in U}, "U10": 2},
    {**{k: 3 for k in U}, "U4": 5},
    {**{k: 3 for k in U}, "U4": True},
    None, "3333",
])
def test_incomplete_or_invalid_answers_are_refused(answers):
    assert valid_answers(answers) is None
    if isinstance(answers, dict):
        with pytest.raises(ValueError, match="U1..U9"):
            Ikm.of([answers])


def test_quick_score_is_counted_apart():
    q = QuickScore.of([4, 4, 3, 1])
    assert (q.n, q.counts, q.mean, q.share(4)) == (4, {1: 1, 2: 0, 3: 1, 4: 2}, 3.0, 0.5)
    assert QuickScore.of([]).mean is None


def two_agencies():
    return build(two_agencies_raw(), "t")


def two_agencies_raw():
    return {
        "site": {"id": "t", "name": "MPP", "timezone": "Asia/Jakarta"},
        "schedules": {"all_day": ALL_DAY},
        "agencies": [{"id": "dukcapil", "name": "Disdukcapil", "services": [service("A"), service("K")]},
                     {"id": "bank", "name": "Bank", "services": [service("B")]}],
        "counters": [counter("c1", "A", "K"), counter("c2", "B")],
    }


def test_each_survey_counts_for_one_agency_and_the_quick_score_never_enters_the_ikm():
    config = two_agencies()
    finals = {("2026-11-16", "A-001"): "B"}  # A-001 was transferred to B and served there
    rows = [
        {"day": "2026-11-16", "ticket": "a1", "counter": None, "score": None, "answers": same(4, 1)[0]},  # -> bank
        {"day": "2026-11-16", "ticket": "A-002", "counter": None, "score": None, "answers": same(3, 1)[0]},  # prefix
        {"day": "2026-11-16", "ticket": None, "counter": "c2", "score": 1, "answers": same(2, 1)[0]},  # counter
        {"day": "2026-11-16", "ticket": None, "counter": None, "score": 4, "answers": None},  # overall only
        {"day": "2026-11-16", "ticket": None, "counter": None, "score": None, "answers": {"U1": 4}},  # rejected
    ]
    rep = IkmReport.of(config, rows, finals)
    assert rep.agencies["bank"].respondents == 2 and str(rep.agencies["bank"].value) == "75.00"  # NRR 3
    assert str(rep.agencies["dukcapil"].value) == "75.00" and rep.agencies["dukcapil"].respondents == 1
    assert rep.overall.respondents == 3 and str(rep.overall.value) == "75.00"
    assert rep.quick_overall.counts == {1: 1, 2: 0, 3: 0, 4: 1}
    assert rep.quick_agencies["bank"].counts[1] == 1 and rep.quick_counters["c2"].n == 1
    assert (rep.unattributed, rep.rejected) == (1, 1)


def test_agency_of_prefers_the_ticket_then_the_counter_then_the_prefix():
    config = two_agencies()
    finals = {("d", "A-001"): "B"}
    assert agency_of(config, {"day": "d", "ticket": "A-001", "counter": "c1"}, finals) == "bank"
    assert agency_of(config, {"day": "d", "ticket": "A-009", "counter": "c2"}, finals) == "bank"
    assert agency_of(config, {"day": "d", "ticket": "A-009", "counter": None}, finals) == "dukcapil"
    assert agency_of(config, {"day": "d", "ticket": "Z-001", "counter": None}, finals) is None
    assert agency_of(config, {"day": "d", "ticket": None, "counter": "nope"}, finals) is None


def test_the_kiosk_and_the_report_agree_on_the_elements():
    """The kiosk asks the questions (kiosk/skm.py); the report names the same nine elements."""
    from antrian.tools.ikm import ELEMENT_NAMES

    skm = pytest.importorskip("kiosk.skm")
    assert {e.code: e.name for e in skm.ELEMENTS} == ELEMENT_NAMES


# -- Krejcie and Morgan's minimum sample ---------------------------------------------------

@pytest.mark.parametrize("served, need", [
    # s = 3.841 N 0.25 / (0.0025 (N - 1) + 3.841 x 0.25), to the nearest whole respondent
    (0, 0), (1, 1),
    (2, 2),  # 1.9205 / 0.96275 = 1.995
    (10, 10),  # 9.6025 / 0.98275 = 9.771
    (50, 44),  # 48.0125 / 1.08275 = 44.34: the brief's example
    (100, 80),  # 96.025 / 1.20775 = 79.51
    (1000, 278),  # 960.25 / 3.45775 = 277.71
    (10000, 370),  # 9602.5 / 25.95775 = 369.93
])
def test_min_sample_is_krejcie_and_morgan(served, need):
    assert min_sample(served) == need


def test_sample_warning_is_one_plain_sentence():
    assert sample_warning(12, 50) == "Jumlah responden 12 di bawah sampel minimum 44: hasil belum dapat disimpulkan"
    assert sample_warning(44, 50) is None and sample_warning(0, 0) is None


# -- the report: IKM per agency and per service from surveys tied to tickets ------------------

def served_day(config):
    """Monday: A-001..A-010 served at c1 (service A), K-001 and K-002 at c1 (K), B-001..B-005
    at c2 (B), and A-011 called at c1, transferred to B and served at c2. Served: A 10,
    K 2, B 6 (A-011 counts where it ended), Disdukcapil 12, Bank 6, all 18."""
    desk = Desk(config, local(config.site.timezone, MONDAY, 9))
    for svc, n in (("A", 10), ("K", 2)):
        for _ in range(n):
            number = desk.issue(svc)
            assert desk.call("c1") == number
            desk.wait(3)
            desk.do("c1", "finish")
    for _ in range(5):
        number = desk.issue("B")
        assert desk.call("c2") == number
        desk.wait(3)
        desk.do("c2", "finish")
    assert desk.issue("A") == "A-011" and desk.call("c1") == "A-011"
    desk.do("c1", "transfer", to_service="B")
    assert desk.call("c2") == "A-011"
    desk.do("c2", "finish")
    return desk


def test_report_gives_ikm_per_agency_and_service_with_the_sample_warning(tmp_path):
    from antrian.adapters.store import Store
    from antrian.tools.report.figures import from_store
    from antrian.tools.report.files import HTML_NAME, write

    config = two_agencies()
    desk = served_day(config)
    day = MONDAY.isoformat()

    def kiosk(number, answers, profile=None):  # the kiosk names the ticket only
        return {"day": day, "at": f"{day}T12:00:00+07:00", "device": "kiosk1", "ticket": number, "counter": None,
                "score": None, "answers": answers, "profile": profile}

    rows = [
        # Service A: S = 36 + 27 + 28 = 91 over 3 respondents
        kiosk("A-001", same(4, 1)[0], {"umur": "30-39", "jenis_kelamin": "P", "pendidikan": "SMA"}),
        kiosk("A-002", same(3, 1)[0], {"jenis_kelamin": "L"}),
        kiosk("A-003", partly(3, 8, 4)),
        # Service K: S = 18 + 27 = 45 over 2
        kiosk("K-001", same(2, 1)[0], {"pekerjaan": "Wirausaha"}),
        kiosk("K-002", same(3, 1)[0]),
        # Service B: B-001 all 4 (36) and A-011, which ended the day in B, all 3 (27): S = 63 over 2
        kiosk("B-001", same(4, 1)[0], {"jenis_kelamin": "P", "pendidikan": "D4/S1", "pekerjaan": "PNS"}),
        kiosk("A-011", same(3, 1)[0]),
        # The panels' quick scores: counted apart, never in the IKM
        {"day": day, "at": f"{day}T12:00:00+07:00", "device": "panel1", "ticket": "A-001", "counter": "c1",
         "score": 4, "answers": None},
        {"day": day, "at": f"{day}T12:00:00+07:00", "device": "panel2", "ticket": "B-002", "counter": "c2",
         "score": 1, "answers": None},
    ]
    store = Store(tmp_path / "t.db", config.tz)
    try:
        store.commit(desk.events, [], rows)
        report = from_store(config, store, MONDAY, MONDAY)
    finally:
        store.close()
    ikm = report.ikm

    # Per service: IKM = 25 S / (9 n), rounded half up at the end
    assert (ikm.services["A"].respondents, ikm.services["A"].exact) == (3, Fraction(25 * 91, 27))  # 84.259...
    assert (str(ikm.services["A"].value), ikm.services["A"].grade) == ("84.26", "B")
    assert (str(ikm.services["K"].value), ikm.services["K"].grade) == ("62.50", "D")  # 25 x 45 / 18
    assert (str(ikm.services["B"].value), ikm.services["B"].grade) == ("87.50", "B")  # 25 x 63 / 18
    # Per agency: Disdukcapil S = 91 + 45 = 136 over 5 -> 25 x 136 / 45 = 75.555...; Bank = service B
    assert (ikm.agencies["dukcapil"].respondents, str(ikm.agencies["dukcapil"].value)) == (5, "75.56")
    assert ikm.agencies["dukcapil"].grade == "C"
    assert (ikm.agencies["bank"].respondents, str(ikm.agencies["bank"].value)) == (2, "87.50")
    # All: S = 199 over 7 -> 25 x 199 / 63 = 78.968...
    assert (ikm.overall.respondents, str(ikm.overall.value), ikm.overall.grade) == (7, "78.97", "B")
    assert ikm.quick_overall.counts == {1: 1, 2: 0, 3: 0, 4: 1} and ikm.unattributed == 0
    assert ikm.profile["jenis_kelamin"] == {"L": 1, "P": 2, "-": 4}
    assert ikm.profile["pekerjaan"]["PNS"] == 1 and ikm.profile["umur"]["30-39"] == 1

    # Served in the period and the minimum samples (see test_min_sample_is_krejcie_and_morgan):
    # A 10 -> 10, K 2 -> 2, B 6 -> 5.7615 / 0.97275 = 5.92 -> 6,
    # Disdukcapil 12 -> 11.523 / 0.98775 = 11.67 -> 12, all 18 -> 17.2845 / 1.00275 = 17.24 -> 17
    assert [report.services[c].served for c in "AKB"] == [10, 2, 6] and report.total.served == 18
    assert ikm_report.warnings(report) == [
        "Disdukcapil: Jumlah responden 5 di bawah sampel minimum 12: hasil belum dapat disimpulkan",
        "Bank: Jumlah responden 2 di bawah sampel minimum 6: hasil belum dapat disimpulkan",
        "A — Layanan A: Jumlah responden 3 di bawah sampel minimum 10: hasil belum dapat disimpulkan",
        "B — Layanan B: Jumlah responden 2 di bawah sampel minimum 6: hasil belum dapat disimpulkan",
        "Semua instansi: Jumlah responden 7 di bawah sampel minimum 17: hasil belum dapat disimpulkan",
    ]

    write(report, tmp_path / "out", charts=False)
    with (tmp_path / "out" / "ikm.csv").open(encoding="utf-8") as fh:
        table = {r["scope"]: r for r in csv.DictReader(fh)}
    assert [(table[k]["respondents"], table[k]["ikm"], table[k]["served"], table[k]["min_sample"])
            for k in ("dukcapil", "bank", "service:A", "service:K", "service:B", "")] == [
        ("5", "75.56", "12", "12"), ("2", "87.50", "6", "6"), ("3", "84.26", "10", "10"), ("2", "62.50", "2", "2"),
        ("2", "87.50", "6", "6"), ("7", "78.97", "18", "17")]
    page = (tmp_path / "out" / HTML_NAME).read_text(encoding="utf-8")
    assert "Disdukcapil: Jumlah responden 5 di bawah sampel minimum 12: hasil belum dapat disimpulkan" in page
    assert "Per layanan" in page and "Profil responden" in page and "bukan IKM" in page
    assert (tmp_path / "out" / "profil_responden.csv").is_file()

    # `antrian report` says it in one line too.
    site = tmp_path / "t.yaml"
    site.write_text(yaml.safe_dump(two_agencies_raw(), allow_unicode=True), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "report", "--config", str(site), "--db",
                             str(tmp_path / "t.db"), "--date", day, "--out", str(tmp_path / "cli"), "--no-charts"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "IKM 78.97 (B) from 7 respondent(s); 5 figure(s) below their minimum sample" in result.stdout
