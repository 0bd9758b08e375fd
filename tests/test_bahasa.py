"""Tests for antrian.bahasa: terbilang, eja, announcements, dates."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from antrian.bahasa import (
    BULAN,
    DEFAULT_TEMPLATE,
    HARI,
    announcement,
    check_template,
    eja,
    eja_kata,
    short_announcement,
    tanggal,
    terbilang,
    zona,
)

# --- terbilang -------------------------------------------------------------


@pytest.mark.parametrize("n, words", [
    (0, "nol"),
    (1, "satu"),
    (9, "sembilan"),
    (10, "sepuluh"),
    (11, "sebelas"),
    (12, "dua belas"),
    (19, "sembilan belas"),
    (20, "dua puluh"),
    (21, "dua puluh satu"),
    (99, "sembilan puluh sembilan"),
    (100, "seratus"),
    (101, "seratus satu"),
    (110, "seratus sepuluh"),
    (111, "seratus sebelas"),
    (123, "seratus dua puluh tiga"),
    (199, "seratus sembilan puluh sembilan"),
    (200, "dua ratus"),
    (999, "sembilan ratus sembilan puluh sembilan"),
    (1000, "seribu"),
    (1001, "seribu satu"),
    (1100, "seribu seratus"),
    (1999, "seribu sembilan ratus sembilan puluh sembilan"),
    (2000, "dua ribu"),
    (10000, "sepuluh ribu"),
    (11000, "sebelas ribu"),
    (100000, "seratus ribu"),
    (101000, "seratus satu ribu"),  # "satu ribu" inside a larger count, "seribu" alone
    (999999, "sembilan ratus sembilan puluh sembilan ribu "
             "sembilan ratus sembilan puluh sembilan"),
])
def test_terbilang(n, words):
    assert terbilang(n) == words


@pytest.mark.parametrize("n", [-1, 1_000_000, 10**12])
def test_terbilang_out_of_range_names_value(n):
    with pytest.raises(ValueError, match=str(n)):
        terbilang(n)


@pytest.mark.parametrize("n", ["12", True, False, 12.0, None])
def test_terbilang_rejects_non_int(n):
    with pytest.raises(TypeError):
        terbilang(n)


# --- eja -------------------------------------------------------------------

NAMA_HURUF = "a be ce de e ef ge ha i je ka el em en o pe ki er es te u fe we eks ye zet".split()


@pytest.mark.parametrize("letter, name", zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", NAMA_HURUF))
def test_eja_all_letters_both_cases(letter, name):
    assert eja(letter) == name
    assert eja(letter.lower()) == name


@pytest.mark.parametrize("bad", ["", "AB", "1", "-", " ", "é", "\u212a", "Ä"])
def test_eja_rejects(bad):
    with pytest.raises(ValueError):
        eja(bad)


@pytest.mark.parametrize("prefix, spoken", [
    ("A", "a"),
    ("AB", "a be"),
    ("pq", "pe ki"),
    ("XyZ", "eks ye zet"),
])
def test_eja_kata(prefix, spoken):
    assert eja_kata(prefix) == spoken


@pytest.mark.parametrize("bad", ["", "A1", "A-B"])
def test_eja_kata_rejects(bad):
    with pytest.raises(ValueError):
        eja_kata(bad)


# --- announcement ----------------------------------------------------------


@pytest.mark.parametrize("number, counter, text", [
    ("B-012", "Loket 3", "Nomor antrean be, dua belas, silakan menuju loket tiga."),
    ("A-001", "Loket 1", "Nomor antrean a, satu, silakan menuju loket satu."),
    ("A-100", "Loket 12", "Nomor antrean a, seratus, silakan menuju loket dua belas."),
    ("A-1000", "Loket 2", "Nomor antrean a, seribu, silakan menuju loket dua."),
    ("C-1001", "Loket 10", "Nomor antrean ce, seribu satu, silakan menuju loket sepuluh."),
    ("AB-007", "Loket 4", "Nomor antrean a be, tujuh, silakan menuju loket empat."),
    ("PB-9999", "Loket 5",
     "Nomor antrean pe be, sembilan ribu sembilan ratus sembilan puluh sembilan, "
     "silakan menuju loket lima."),
    # Acronyms keep their capitals; only an ordinary capitalised first word is lowered.
    ("D-020", "BPJS 2", "Nomor antrean de, dua puluh, silakan menuju BPJS dua."),
    ("E-005", "Loket PBB", "Nomor antrean e, lima, silakan menuju loket PBB."),
    ("F-011", "Meja Disdukcapil 3",
     "Nomor antrean ef, sebelas, silakan menuju meja Disdukcapil tiga."),
    ("G-003", "loket 7", "Nomor antrean ge, tiga, silakan menuju loket tujuh."),
    # Whitespace in the site file is normalised; digit runs read as values.
    ("H-013", "  Loket   03 ", "Nomor antrean ha, tiga belas, silakan menuju loket tiga."),
    ("J-014", "Loket 12A", "Nomor antrean je, empat belas, silakan menuju loket dua belas A."),
])
def test_announcement(number, counter, text):
    assert announcement(number, counter) == text


@pytest.mark.parametrize("number, counter, text", [
    ("B-012", "Loket 3", "Nomor antrean be, nol satu dua, silakan menuju loket tiga."),
    ("A-1000", "Loket 1", "Nomor antrean a, satu nol nol nol, silakan menuju loket satu."),
    ("AB-090", "Loket 2", "Nomor antrean a be, nol sembilan nol, silakan menuju loket dua."),
])
def test_announcement_digits(number, counter, text):
    assert announcement(number, counter, digits=True) == text


@pytest.mark.parametrize("template, text", [
    (DEFAULT_TEMPLATE, "Nomor antrean be, dua belas, silakan menuju loket tiga."),
    ("Antrean {nomor}: {huruf} {angka} ke {loket}", "Antrean B-012: be dua belas ke loket tiga"),
    ("{angka}   ke  {loket}.", "dua belas ke loket tiga."),
    ("Nomor {{{angka}}} ke {loket}", "Nomor {dua belas} ke loket tiga"),
])
def test_announcement_templates(template, text):
    assert announcement("B-012", "Loket 3", template=template) == text


@pytest.mark.parametrize("number", [
    "B012", "B-12", "B-12345", "ABC-012", "-012", "1-012", "B-01a", "B_012", "B-012\n",
    "B-\u0661\u0662\u0663", "",
])
def test_announcement_bad_number_names_it(number):
    with pytest.raises(ValueError, match="ticket number") as exc:
        announcement(number, "Loket 1")
    assert repr(number) in str(exc.value)


@pytest.mark.parametrize("counter", ["", "   "])
def test_announcement_empty_counter(counter):
    with pytest.raises(ValueError, match="counter name"):
        announcement("A-001", counter)


@pytest.mark.parametrize("location, text", [
    ("Bilik Layanan Daring", "Nomor antrean a, dua belas, silakan menuju bilik layanan daring."),
    ("Bilik Daring 2", "Nomor antrean a, dua belas, silakan menuju bilik daring dua."),
    ("Ruang BPJS Daring", "Nomor antrean a, dua belas, silakan menuju ruang BPJS daring."),
    (None, "Nomor antrean a, dua belas, silakan menuju loket sembilan."),
])
def test_announcement_sends_a_remote_counters_citizen_to_its_location(location, text):
    # The desk is in another office (a video call): the hall hears where to go, not its name.
    assert announcement("A-012", "Loket 9", location=location) == text


@pytest.mark.parametrize("number, counter, location, text", [
    ("B-012", "Loket 3", None, "Panggilan ulang, nomor antrean be, dua belas, silakan menuju loket tiga."),
    ("A-012", "Loket 9", "Bilik Layanan Daring",
     "Panggilan ulang, nomor antrean a, dua belas, silakan menuju bilik layanan daring."),
])
def test_a_recall_says_so_first(number, counter, location, text):
    """Issue 16, item 3: a recall is not heard as a new call."""
    assert announcement(number, counter, location=location, recall=True) == text


@pytest.mark.parametrize("template, text", [
    ("Antrean {nomor}: {huruf} {angka} ke {loket}", "Panggilan ulang, antrean B-012: be dua belas ke loket tiga"),
    ("{angka} ke {loket}.", "Panggilan ulang, dua belas ke loket tiga."),
    ("BPJS: {angka} ke {loket}", "Panggilan ulang, BPJS: dua belas ke loket tiga"),
])
def test_a_recall_in_a_sites_template(template, text):
    assert announcement("B-012", "Loket 3", template=template, recall=True) == text


@pytest.mark.parametrize("number, counter, kwargs, text", [
    ("A-012", "Loket 3", {}, "a dua belas, loket tiga."),
    ("AB-120", "BPJS 2", {}, "a be seratus dua puluh, BPJS dua."),
    ("B-012", "Loket 3", {"digits": True}, "be nol satu dua, loket tiga."),
    ("A-012", "Loket 9", {"location": "Bilik Layanan Daring"}, "a dua belas, bilik layanan daring."),
    ("A-012", "Loket 3", {"recall": True}, "Panggilan ulang, a dua belas, loket tiga."),
])
def test_short_announcement(number, counter, kwargs, text):
    """The form said while calls wait behind it (issue 16, item 3)."""
    assert short_announcement(number, counter, **kwargs) == text


@pytest.mark.parametrize("number, counter, error", [
    ("B012", "Loket 1", ValueError), ("A-001", "  ", ValueError), (12, "Loket 1", TypeError),
    ("A-001", None, TypeError),
])
def test_short_announcement_checks_as_the_sentence_does(number, counter, error):
    with pytest.raises(error):
        short_announcement(number, counter)


def test_announcement_location_in_a_template_and_checked():
    assert announcement("B-003", "Loket 9", location="Bilik Layanan Daring",
                        template="{nomor} ke {loket}") == "B-003 ke bilik layanan daring"
    with pytest.raises(TypeError, match="location"):
        announcement("A-001", "Loket 9", location=["Bilik"])
    with pytest.raises(ValueError, match="empty"):
        announcement("A-001", "Loket 9", location="   ")


@pytest.mark.parametrize("template, names", [
    ("Nomor {huruf} {angka} ke {loket} {ruang}", ["{ruang}"]),
    ("Nomor {nomer} ke {loket} {angka}", ["{nomer}"]),
    ("Nomor {} ke {loket} {angka}", ["positional"]),
    ("Nomor {0} ke {loket} {angka}", ["positional"]),
    ("Nomor {nomor.__class__} ke {loket}", ["{nomor.__class__}"]),
    ("Nomor {angka!r} ke {loket}", ["{angka}", "plain"]),
    ("Nomor {angka:>10} ke {loket}", ["{angka}", "plain"]),
    ("Nomor {huruf ke {loket}", ["malformed"]),
    ("Nomor } ke {loket}", ["malformed"]),
    ("Silakan menuju {loket}", ["number"]),
    ("Nomor {angka}", ["counter"]),
])
def test_template_errors(template, names):
    problems = check_template(template)
    assert problems
    for name in names:
        assert any(name in p for p in problems), problems
    with pytest.raises(ValueError) as exc:
        announcement("A-001", "Loket 1", template=template)
    for name in names:
        assert name in str(exc.value)


@pytest.mark.parametrize("template", [
    DEFAULT_TEMPLATE,
    "{nomor} ke {loket}",
    "Nomor {huruf} {angka} {nomor}, {loket}, sekali lagi {angka}, {loket}",
])
def test_check_template_ok(template):
    assert check_template(template) == []


def test_check_template_not_text():
    assert check_template(None)


# --- tanggal ---------------------------------------------------------------

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
WIT = ZoneInfo("Asia/Jayapura")


@pytest.mark.parametrize("dt, text", [
    (datetime(2024, 2, 5, 9, 15, tzinfo=timezone(timedelta(hours=8))),
     "Senin, 5 Februari 2024, pukul 09.15 WITA"),
    (datetime(2024, 2, 5, 9, 15, tzinfo=WITA), "Senin, 5 Februari 2024, pukul 09.15 WITA"),
    (datetime(2026, 11, 22, 7, 5, tzinfo=WIB), "Minggu, 22 November 2026, pukul 07.05 WIB"),
    (datetime(2025, 8, 17, 10, 0, tzinfo=WIT), "Minggu, 17 Agustus 2025, pukul 10.00 WIT"),
    (datetime(2024, 12, 31, 23, 59, tzinfo=WIB), "Selasa, 31 Desember 2024, pukul 23.59 WIB"),
    (datetime(2025, 1, 1, 0, 0, tzinfo=WITA), "Rabu, 1 Januari 2025, pukul 00.00 WITA"),
    # The same instant reads in the datetime's own zone.
    (datetime(2024, 2, 5, 1, 15, tzinfo=timezone.utc).astimezone(WIT),
     "Senin, 5 Februari 2024, pukul 10.15 WIT"),
    (datetime(2024, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
     "Jumat, 1 Maret 2024, pukul 12.30 UTC+05.30"),
    (datetime(2024, 3, 1, 12, 30, tzinfo=timezone.utc),
     "Jumat, 1 Maret 2024, pukul 12.30 UTC+00.00"),
    (datetime(2024, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=-3))),
     "Jumat, 1 Maret 2024, pukul 12.30 UTC-03.00"),
])
def test_tanggal(dt, text):
    assert tanggal(dt) == text


@pytest.mark.parametrize("dt, text", [
    (datetime(2024, 2, 5, 9, 15, tzinfo=WITA), "Senin, 5 Februari 2024"),
    (datetime(2024, 4, 11, 16, 0, tzinfo=WIB), "Kamis, 11 April 2024"),
])
def test_tanggal_without_jam(dt, text):
    assert tanggal(dt, jam=False) == text


# 2024-01-01 was a Monday: one day per name, in HARI order.
@pytest.mark.parametrize("day, name", enumerate(HARI, start=1))
def test_tanggal_day_names(day, name):
    assert tanggal(datetime(2024, 1, day, tzinfo=WIB), jam=False).startswith(f"{name}, ")


@pytest.mark.parametrize("month, name", enumerate(BULAN, start=1))
def test_tanggal_month_names(month, name):
    assert f" {name} 2024" in tanggal(datetime(2024, month, 1, tzinfo=WIB), jam=False)


@pytest.mark.parametrize("jam", [True, False])
def test_tanggal_naive_rejected(jam):
    with pytest.raises(ValueError, match="time zone"):
        tanggal(datetime(2024, 2, 5, 9, 15), jam=jam)


@pytest.mark.parametrize("tz, name", [
    (WIB, "WIB"),
    (WITA, "WITA"),
    (WIT, "WIT"),
    (timezone(timedelta(hours=7)), "WIB"),
    (timezone(timedelta(hours=9, minutes=30)), "UTC+09.30"),
    (timezone(timedelta(hours=-9, minutes=-30)), "UTC-09.30"),
])
def test_zona(tz, name):
    assert zona(datetime(2024, 6, 1, 12, 0, tzinfo=tz)) == name


def test_zona_naive_rejected():
    with pytest.raises(ValueError, match="time zone"):
        zona(datetime(2024, 6, 1, 12, 0))


def test_name_lists():
    assert HARI == ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
    assert BULAN == ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
                     "Agustus", "September", "Oktober", "November", "Desember"]
