"""Indeks Kepuasan Masyarakat (IKM) of Permenpan RB No. 14 Tahun 2017, from survey answers.

Each complete survey answers the nine elements U1..U9 with 1 (worst) to 4 (best).

- NRR (nilai rata-rata) of an element: the mean of its answers.
- IKM: the mean of the nine NRR, times 25 (the regulation's "NRR tertimbang" with the
  weight 1/9 each, converted to a 25..100 scale), computed exactly and rounded half up
  to two decimals only at the end.
- Grade (mutu pelayanan) of the rounded value: A 88.31-100 Sangat Baik, B 76.61-88.30
  Baik, C 65.00-76.60 Kurang Baik, D 25.00-64.99 Tidak Baik.

    ikm = Ikm.of([{"U1": 4, ..., "U9": 3}, ...])
    ikm.value, ikm.grade, ikm.label          # Decimal('84.72'), 'B', 'Baik'

The quick score a citizen gives with one of four buttons at the counter (1-4) is not
the IKM and is never mixed into it: `QuickScore` reports it on its own.

A survey counts for the agency and the service its ticket ended the day in (after a
transfer, the one that served it); without a known ticket, for the agency of its
counter (the dispatcher fills in the counter that served a ticket the kiosk names);
without either, only in the overall figure.

The regulation's guide asks for a sample of the population served, by Krejcie and
Morgan: s = X²·N·P(1−P) / (d²(N−1) + X²·P(1−P)) with X² = 3,841, P = 0,5, d = 0,05,
rounded to the nearest whole respondent as in their table (N = 50 -> 44, 100 -> 80,
1000 -> 278). `min_sample(N)` gives it and `sample_warning` the plain sentence a scope
with fewer respondents gets. The respondent profile (age band, sex, education,
occupation) of the nine-element surveys is counted in `IkmReport.profile`.
"""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

from antrian.site import Config
from antrian.queue.engine import normalize_number
from antrian.protocol import PROFILE_CHOICES, SURVEY_ELEMENTS

# The element names of the regulation, used by the report and by the kiosk (kiosk/skm.py
# asks the questions).
ELEMENT_NAMES = {
    "U1": "Persyaratan",
    "U2": "Sistem, mekanisme dan prosedur",
    "U3": "Waktu penyelesaian",
    "U4": "Biaya/tarif",
    "U5": "Produk spesifikasi jenis pelayanan",
    "U6": "Kompetensi pelaksana",
    "U7": "Perilaku pelaksana",
    "U8": "Penanganan pengaduan, saran dan masukan",
    "U9": "Sarana dan prasarana",
}

# (grade, lowest rounded IKM of the grade, mutu pelayanan), best first.
GRADES = (
    ("A", Decimal("88.31"), "Sangat Baik"),
    ("B", Decimal("76.61"), "Baik"),
    ("C", Decimal("65.00"), "Kurang Baik"),
    ("D", Decimal("25.00"), "Tidak Baik"),
)

QUICK_LABELS = {1: "Tidak puas", 2: "Kurang puas", 3: "Puas", 4: "Sangat puas"}

# Krejcie and Morgan's constants, as the regulation's guide uses them.
CHI_SQUARE = Fraction(3841, 1000)  # X², one degree of freedom, 95 %
PROPORTION = Fraction(1, 2)  # P
MARGIN = Fraction(5, 100)  # d
NOT_ANSWERED = "-"  # a profile question left unanswered


def min_sample(population: int) -> int:
    """Krejcie and Morgan's sample for a population of `population` served (0 for none)."""
    if population <= 0:
        return 0
    spread = CHI_SQUARE * PROPORTION * (1 - PROPORTION)
    s = spread * population / (MARGIN ** 2 * (population - 1) + spread)
    return math.floor(s + Fraction(1, 2))


def sample_warning(respondents: int, served: int) -> str | None:
    """The sentence under a figure whose respondents are fewer than the minimum sample."""
    need = min_sample(served)
    if respondents >= need:
        return None
    return f"Jumlah responden {respondents} di bawah sampel minimum {need}: hasil belum dapat disimpulkan"


def round2(x: Fraction) -> Decimal:
    """Round half up to two decimals, exactly (no binary floating point on the way)."""
    hundredths = math.floor(x * 100 + Fraction(1, 2))
    return Decimal(hundredths).scaleb(-2)


def grade(value: Decimal | str | float) -> tuple[str, str]:
    """The grade and its Indonesian name for an IKM value (two decimals): ('B', 'Baik')."""
    v = Decimal(str(value))
    if not Decimal("25.00") <= v <= Decimal("100.00"):
        raise ValueError(f"an IKM is between 25.00 and 100.00, not {value}")
    return next((g, label) for g, low, label in GRADES if v >= low)


def valid_answers(answers: Any) -> dict[str, int] | None:
    """The answers as {U1..U9: 1-4}, or None if they are not a complete valid set."""
    if not isinstance(answers, Mapping) or set(answers) != set(SURVEY_ELEMENTS):
        return None
    if not all(isinstance(answers[k], int) and not isinstance(answers[k], bool) and 1 <= answers[k] <= 4
               for k in SURVEY_ELEMENTS):
        return None
    return {k: answers[k] for k in SURVEY_ELEMENTS}


@dataclasses.dataclass(frozen=True)
class Ikm:
    respondents: int
    nrr: dict[str, Fraction]  # per element, exact
    exact: Fraction  # mean NRR x 25, before rounding
    value: Decimal  # rounded to two decimals
    grade: str
    label: str

    @classmethod
    def of(cls, answer_sets: Iterable[Mapping[str, int]]) -> Ikm | None:
        """The IKM of complete answer sets (see `valid_answers`); None when there are none."""
        sets = list(answer_sets)
        if not sets:
            return None
        for i, answers in enumerate(sets):
            if valid_answers(answers) is None:
                raise ValueError(f"survey {i}: answers must give 1-4 for each of U1..U9, not {answers!r}")
        nrr = {k: Fraction(sum(a[k] for a in sets), len(sets)) for k in SURVEY_ELEMENTS}
        exact = sum(nrr.values(), Fraction(0)) / len(SURVEY_ELEMENTS) * 25
        value = round2(exact)
        g, label = grade(value)
        return cls(len(sets), nrr, exact, value, g, label)


@dataclasses.dataclass(frozen=True)
class QuickScore:
    counts: dict[int, int]  # score 1..4 -> how many

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float | None:
        return sum(s * c for s, c in self.counts.items()) / self.n if self.n else None

    def share(self, score: int) -> float | None:
        return self.counts[score] / self.n if self.n else None

    @classmethod
    def of(cls, scores: Iterable[int]) -> QuickScore:
        counts = {s: 0 for s in QUICK_LABELS}
        for s in scores:
            counts[s] += 1
        return cls(counts)


@dataclasses.dataclass(frozen=True)
class IkmReport:
    overall: Ikm | None
    agencies: dict[str, Ikm | None]
    services: dict[str, Ikm | None]
    profile: dict[str, dict[str, int]]  # PROFILE_CHOICES key -> choice (or NOT_ANSWERED) -> respondents
    quick_overall: QuickScore
    quick_agencies: dict[str, QuickScore]
    quick_counters: dict[str, QuickScore]
    unattributed: int  # surveys counted only in the overall figures
    rejected: int  # rows with neither a valid score nor a valid set of answers

    @classmethod
    def of(cls, config: Config, surveys: Sequence[Mapping[str, Any]],
           finals: Mapping[tuple[str, str], str] = {}) -> IkmReport:
        """`surveys`: rows with day, ticket, counter, score, answers; `finals`: (day, number) ->
        the service the ticket ended that day in (from the replayed events)."""
        answers: dict[str | None, list[dict[str, int]]] = {a.id: [] for a in config.agencies}
        answers[None] = []
        per_service: dict[str, list[dict[str, int]]] = {code: [] for code in config.services}
        profile = {key: {**{c: 0 for c in choices}, NOT_ANSWERED: 0} for key, choices in PROFILE_CHOICES.items()}
        scores: dict[str | None, list[int]] = {a.id: [] for a in config.agencies}
        scores[None] = []
        by_counter: dict[str, list[int]] = {c: [] for c in config.counters}
        rejected = unattributed = 0
        for row in surveys:
            complete = valid_answers(row.get("answers"))
            score = row.get("score")
            score = score if isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 4 else None
            if complete is None and score is None:
                rejected += 1
                continue
            agency = agency_of(config, row, finals)
            unattributed += agency is None
            if complete is not None:
                answers[agency].append(complete)
                service = service_of(config, row, finals)
                if service is not None:
                    per_service[service].append(complete)
                given = row.get("profile") or {}
                for key, counts in profile.items():
                    value = given.get(key) if isinstance(given, Mapping) else None
                    counts[value if value in counts else NOT_ANSWERED] += 1
            if score is not None:
                scores[agency].append(score)
                if row.get("counter") in by_counter:
                    by_counter[row["counter"]].append(score)
        every = [a for group in answers.values() for a in group]
        return cls(
            overall=Ikm.of(every),
            agencies={a.id: Ikm.of(answers[a.id]) for a in config.agencies},
            services={code: Ikm.of(v) for code, v in per_service.items()},
            profile=profile,
            quick_overall=QuickScore.of(s for group in scores.values() for s in group),
            quick_agencies={a.id: QuickScore.of(scores[a.id]) for a in config.agencies},
            quick_counters={c: QuickScore.of(v) for c, v in by_counter.items()},
            unattributed=unattributed, rejected=rejected)


def service_of(config: Config, row: Mapping[str, Any], finals: Mapping[tuple[str, str], str]) -> str | None:
    """The service of the site file a survey row speaks about: the one its ticket ended the
    day in, else the one its ticket's prefix names; None when nothing says (a counter
    alone may serve several)."""
    number = normalize_number(row.get("ticket")) if row.get("ticket") else None
    if number is None:
        return None
    service = finals.get((str(row.get("day")), number))
    if service in config.services:
        return service
    prefix = number.split("-")[0]
    return next((code for code, s in config.services.items() if s.prefix == prefix), None)


def agency_of(config: Config, row: Mapping[str, Any], finals: Mapping[tuple[str, str], str]) -> str | None:
    """The agency a survey row speaks about: its ticket's service, else its counter's agency,
    else the service its ticket's prefix names; None when nothing says."""
    number = normalize_number(row.get("ticket")) if row.get("ticket") else None
    service = finals.get((str(row.get("day")), number)) if number else None
    if service in config.services:
        return config.services[service].agency
    counter = config.counters.get(row.get("counter") or "")
    if counter is not None and counter.agency:
        return counter.agency
    if number:
        prefix = number.split("-")[0]
        svc = next((s for s in config.services.values() if s.prefix == prefix), None)
        if svc is not None:
            return svc.agency
    return None
