"""The questionnaire of the Survei Kepuasan Masyarakat (SKM): the nine elements of
Permenpan RB No. 14 Tahun 2017, each one question with four answers scored 1 (worst)
to 4 (best), in the wording of the regulation's sample questionnaire, so the index
computed from them (IKM, antrian/tools/ikm.py) is comparable with other units.

Kept in the core because two wings ask it: the kiosk (kiosk/skm.py, one question per
screen) and the citizen's live ticket on a phone (web/tiket.py).

`PROFILE` is the respondent's profile of the regulation's sample questionnaire (age,
sex, education, occupation), each question optional, its answers the wire values of
`antrian.protocol.PROFILE_CHOICES` with the words a citizen reads.
"""

from __future__ import annotations

import dataclasses

from antrian.protocol import PROFILE_CHOICES, SURVEY_ELEMENTS
from antrian.tools.ikm import ELEMENT_NAMES

__all__ = ["ELEMENTS", "Element", "PROFILE", "ProfileQuestion", "SKIP"]


@dataclasses.dataclass(frozen=True)
class Element:
    code: str  # U1 ... U9
    name: str  # the element as the regulation names it
    question: str
    answers: tuple[str, str, str, str]  # for scores 1, 2, 3, 4


def _element(code: str, question: str, answers: tuple[str, str, str, str]) -> Element:
    # The element names are the regulation's, kept once in antrian.tools.ikm for the report too.
    return Element(code, ELEMENT_NAMES[code], question, answers)


ELEMENTS: tuple[Element, ...] = (
    _element("U1",
             "Bagaimana pendapat Anda tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
             ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai")),
    _element("U2",
             "Bagaimana pemahaman Anda tentang kemudahan prosedur pelayanan di unit ini?",
             ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah")),
    _element("U3",
             "Bagaimana pendapat Anda tentang kecepatan waktu dalam memberikan pelayanan?",
             ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat")),
    _element("U4",
             "Bagaimana pendapat Anda tentang kewajaran biaya/tarif dalam pelayanan?",
             ("Sangat mahal", "Cukup mahal", "Murah", "Gratis")),
    _element("U5",
             "Bagaimana pendapat Anda tentang kesesuaian produk pelayanan antara yang tercantum dalam "
             "standar pelayanan dengan hasil yang diberikan?",
             ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai")),
    _element("U6",
             "Bagaimana pendapat Anda tentang kompetensi/kemampuan petugas dalam pelayanan?",
             ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten")),
    _element("U7",
             "Bagaimana pendapat Anda tentang perilaku petugas dalam pelayanan terkait kesopanan dan keramahan?",
             ("Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah", "Sangat sopan dan ramah")),
    _element("U8",
             "Bagaimana pendapat Anda tentang penanganan pengaduan pengguna layanan?",
             ("Tidak ada", "Ada tetapi tidak berfungsi", "Berfungsi kurang maksimal", "Dikelola dengan baik")),
    _element("U9",
             "Bagaimana pendapat Anda tentang kualitas sarana dan prasarana?",
             ("Buruk", "Cukup", "Baik", "Sangat baik")),
)
assert tuple(e.code for e in ELEMENTS) == SURVEY_ELEMENTS


@dataclasses.dataclass(frozen=True)
class ProfileQuestion:
    key: str  # umur, jenis_kelamin, pendidikan, pekerjaan: the key in the Survey's profile
    title: str  # for a report's heading
    question: str
    choices: tuple[tuple[str, str], ...]  # (wire value, the words shown)


SKIP = "Lewati"  # every profile question may be left unanswered

PROFILE: tuple[ProfileQuestion, ...] = (
    ProfileQuestion("umur", "Umur", "Berapa umur Anda?",
                    (("<20", "Di bawah 20 tahun"), ("20-29", "20–29 tahun"), ("30-39", "30–39 tahun"),
                     ("40-49", "40–49 tahun"), ("50-59", "50–59 tahun"), ("60+", "60 tahun ke atas"))),
    ProfileQuestion("jenis_kelamin", "Jenis kelamin", "Apa jenis kelamin Anda?",
                    (("L", "Laki-laki"), ("P", "Perempuan"))),
    ProfileQuestion("pendidikan", "Pendidikan", "Apa pendidikan terakhir Anda?",
                    (("SD", "SD ke bawah"), ("SMP", "SMP"), ("SMA", "SMA/SMK"), ("D1-D3", "D1–D3"),
                     ("D4/S1", "D4/S1"), ("S2", "S2"), ("S3", "S3"))),
    ProfileQuestion("pekerjaan", "Pekerjaan", "Apa pekerjaan utama Anda?",
                    (("PNS", "PNS"), ("TNI", "TNI"), ("Polri", "Polri"), ("Swasta", "Pegawai swasta"),
                     ("Wirausaha", "Wirausaha"), ("Lainnya", "Lainnya"))),
)
assert {q.key: tuple(v for v, _ in q.choices) for q in PROFILE} == PROFILE_CHOICES
