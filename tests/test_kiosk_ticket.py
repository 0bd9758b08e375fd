"""The kiosk's pure and adapter layers: site-file options, the ticket layout, its ESC/POS
bytes, its PNG preview, printer status bytes and the SKM survey. No window, no broker."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys

import pytest
import yaml
from conftest import BUTON, ROOT
from escpos_decode import decode

from antrian import protocol
from antrian.site import ConfigError, load, parse
from kiosk.options import PAPERS, kiosk_settings
from kiosk import skm
from kiosk.printer import TicketPrinter, escpos_bytes, status_problems
from kiosk.ticket import (DROPPABLE, LIMIT_MM, SMALL_COLUMNS, TicketData, ahead_text, columns, dpi, fold, layout,
                          qr_text, served_at, wait_text)
from kiosk.ticket_png import paper_dots, render

WITA = dt.timezone(dt.timedelta(hours=8))
AT = dt.datetime(2026, 11, 23, 9, 15, tzinfo=WITA)


@pytest.fixture(scope="module")
def buton():
    return load(BUTON)


def ticket_data(config, service="KTP", **kw):
    return TicketData.sample(config, service, now=AT, **kw)


# -- site-file options -----------------------------------------------------------------------

def kiosk_problems(**kiosk):
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    index = next(i for i, d in enumerate(raw["devices"]) if d["id"] == "kiosk1")
    raw["devices"][index] = {"id": "kiosk1", "role": "kiosk", **kiosk}
    with pytest.raises(ConfigError) as err:
        parse(yaml.safe_dump(raw), "site.yaml")
    return index, [f"{path}: {message}" for path, message in err.value.problems]


@pytest.mark.parametrize("kiosk,expected", [
    ({}, "printer: required"),
    ({"printer": {"host": "10.0.0.5", "profile": "TM-T20II"}}, "printer.connection: required"),
    ({"printer": {"connection": "bluetooth", "profile": "TM-T20II"}}, "printer.connection: 'bluetooth' is not one"),
    ({"printer": {"connection": "network", "profile": "TM-T20II"}}, "printer.host: required"),
    ({"printer": {"connection": "network", "host": "10.0.0.5", "port": 70000, "profile": "TM-T20II"}},
     "printer.port: 70000 is out of range 1..65535"),
    ({"printer": {"connection": "network", "host": "10.0.0.5", "profile": "TM-XYZ"}},
     "printer.profile: 'TM-XYZ' is not one of POS-5890, ZJ-5870, TM-T20II"),
    ({"printer": {"connection": "usb", "vendor_id": "zz", "product_id": 0x0E15, "profile": "TM-T20II"}},
     "printer.vendor_id: 'zz' is not a USB id"),
    ({"printer": {"connection": "file", "path": "/dev/usb/lp0", "host": "x", "profile": "POS-5890"}},
     "printer.host: unknown key for connection file (used with connection network)"),
    ({"printer": {"connection": "serial", "device": "/dev/ttyUSB0", "baudrate": 1234, "profile": "POS-5890"}},
     "printer.baudrate: 1234 is not one of"),
    ({"printer": {"connection": "network", "host": "h", "profile": "TM-T20II", "timeout": 0}},
     "printer.timeout: 0 is out of range"),
    ({"printer": {"connection": "network", "host": "h", "profile": "TM-T20II"}, "idle_seconds": 1},
     "idle_seconds: 1 is out of range 2..3600"),
    ({"printer": {"connection": "network", "host": "h", "profile": "TM-T20II"}, "rotation": 45},
     "rotation: 45 is not one of 0, 90, 180, 270"),
    ({"printer": {"connection": "network", "host": "h", "profile": "TM-T20II"}, "printr": {}},
     "printr: unknown key for a kiosk"),
])
def test_kiosk_options_are_checked_with_their_paths(kiosk, expected):
    index, problems = kiosk_problems(**kiosk)
    assert any(p.startswith(f"devices[{index}].{expected}") for p in problems), problems


def test_check_config_names_a_bad_printer_option(tmp_path):
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    kiosk = next(d for d in raw["devices"] if d["id"] == "kiosk1")
    kiosk["printer"]["port"] = "9100x"
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "check-config", str(path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert result.returncode == 2
    index = [d["id"] for d in raw["devices"]].index("kiosk1")
    assert f"{path}: devices[{index}].printer.port: must be a whole number, not the text '9100x'" in result.stderr.splitlines()


def test_settings_fill_in_defaults(buton):
    one = kiosk_settings(buton.device("kiosk1").options)
    assert (one.printer.connection, one.printer.host, one.printer.port, one.printer.status) == \
        ("network", "127.0.0.1", 9100, True)
    assert one.idle_seconds == 30 and one.printer.paper.width_mm == 80
    two = kiosk_settings(buton.device("kiosk2").options)
    assert two.printer.connection == "file" and two.printer.status is False and two.printer.paper.dots == 384
    usb = kiosk_settings({"printer": {"connection": "usb", "vendor_id": "04b8", "product_id": 0x0E15,
                                      "profile": "TM-T20II"}})
    assert (usb.printer.vendor_id, usb.printer.product_id) == (0x04B8, 0x0E15)


def test_paper_table_matches_python_escpos():
    from escpos.capabilities import get_profile

    for name, paper in PAPERS.items():
        data = get_profile(name).profile_data
        assert data["media"]["width"]["pixels"] == paper.dots, name
        assert data["fonts"]["0"]["columns"] == paper.columns, name
        assert bool(data["features"].get("qrCode")) == paper.qr_native, name
        assert bool(data["features"].get("paperFullCut")) == paper.cutter, name
        assert SMALL_COLUMNS.get(name) == data["fonts"].get("1", {}).get("columns"), name
        assert dpi(paper) == data["media"]["dpi"], name


# -- the layout and its ESC/POS bytes ------------------------------------------------------------

def test_wording():
    assert ahead_text(0) == "Tidak ada antrean di depan Anda"
    assert ahead_text(3) == "Di depan Anda: 3 orang"
    assert wait_text(0) == "Perkiraan waktu tunggu: segera dilayani"
    assert wait_text(45) == "Perkiraan waktu tunggu: 45 menit"
    assert wait_text(135) == "Perkiraan waktu tunggu: 2 jam 15 menit"
    assert wait_text(120) == "Perkiraan waktu tunggu: 2 jam"
    assert fold("Sesuai tahapan \u2013 \u201cSIMBG\u201d, caf\u00e9") == 'Sesuai tahapan - "SIMBG", cafe'


@pytest.mark.parametrize("profile", sorted(PAPERS))
def test_escpos_ticket_says_everything_in_order(buton, profile):
    paper = PAPERS[profile]
    data = ticket_data(buton, priority="lansia", ahead=4, wait_min=32)
    printed = decode(escpos_bytes(layout(data, paper)))
    text = " ".join(line.strip() for line in printed.lines if line.strip())
    expected = ["MAL PELAYANAN PUBLIK KABUPATEN BUTON", "Dinas Kependudukan dan Pencatatan Sipil",
                "KTP Elektronik (perekaman, cetak, penggantian)", "NOMOR ANTREAN", "A-012",
                "PRIORITAS", "LANSIA (60 TAHUN KE ATAS)", "Di depan Anda: 4 orang",
                "Perkiraan waktu tunggu: 32 menit", "Dilayani di Loket 1-2", "Senin, 23 November 2026, pukul 09.15 WITA",
                "Waktu penyelesaian: Selesai di tempat", "Biaya: Gratis",
                "Silakan menunggu sampai nomor antrean Anda dipanggil."]
    positions = [text.find(words) for words in expected]
    assert -1 not in positions, [w for w, p in zip(expected, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    fonts = dict(printed.fonts)
    assert all(len(line) <= columns(paper, fonts.get(line, "a")) for line in printed.lines)
    # The number as wide as fits the paper (at most 4 high), alone on its line.
    number_size = dict(printed.sizes)["A-012"]
    width = min(8, paper.columns // 5)
    assert number_size == (width, min(width, 4))
    assert max(w for _, (w, h) in printed.sizes) == width
    if paper.qr_native:
        assert printed.qr == [qr_text("buton", "2026-11-23", "A-012")] and printed.images == 0
    else:
        assert printed.qr == [] and printed.images == 1
    assert printed.cuts == (1 if paper.cutter else 0)


def test_ticket_from_a_reply_uses_the_catalog(buton):
    from antrian.queue.engine import Engine

    engine = Engine(buton)
    catalog = engine.catalog(AT)
    ticket = {"number": "H-007", "service": "PBB", "service_name": "PBB-P2 (SPPT, mutasi, pembetulan, salinan)",
              "agency": "bapenda", "agency_name": "Badan Pendapatan Daerah", "priority": "ibu_hamil",
              "issued_at": "2026-11-23T09:15:02+08:00", "business_day": "2026-11-23", "ahead": 0,
              "estimated_wait_min": 0}
    data = TicketData.from_reply(ticket, catalog)
    assert (data.completion, data.fee, data.priority_name) == ("3 hari kerja", "Gratis", "Ibu hamil")
    assert data.site_name == buton.site.name and data.qr == "antrian:buton:2026-11-23:H-007"
    text = layout(data, PAPERS["TM-T88III"]).text()
    assert "PRIORITAS: IBU HAMIL" in text and "Tidak ada antrean di depan Anda" in text
    assert data.served_at == "Loket 5" and "Dilayani di Loket 5" in text and "RESERVASI" not in text


def test_the_qr_holds_the_ticket_s_link_when_it_has_one(buton):
    from antrian.queue.engine import Engine

    catalog = Engine(buton).catalog(AT)
    ticket = {"number": "H-007", "service": "PBB", "service_name": "PBB-P2", "agency": "bapenda",
              "agency_name": "Badan Pendapatan Daerah", "priority": None, "issued_at": "2026-11-23T09:15:02+08:00",
              "business_day": "2026-11-23", "ahead": 0, "estimated_wait_min": 0,
              "link": "https://antrean.butonkab.go.id/t/H-007-20261123-abcdefghijklmnop"}
    data = TicketData.from_reply(ticket, catalog)
    assert data.qr == ticket["link"]
    printed = decode(escpos_bytes(layout(data, PAPERS["TM-T88III"])))
    assert printed.qr == [ticket["link"]]


def test_png_preview_draws_the_same_layout_inside_the_paper(buton):
    for profile, scale in (("POS-5890", 1), ("TM-T20II", 2)):
        lay = layout(ticket_data(buton, "PBG"), PAPERS[profile])
        image = render(lay, scale=scale)
        margin = 24 * scale
        assert image.width == PAPERS[profile].dots * scale + 2 * margin
        # Nothing printed in the side margins: no line runs past the paper's dots.
        left = image.crop((0, 0, margin - 1, image.height - 40 * scale)).getextrema()
        right = image.crop((image.width - margin + 1, 0, image.width, image.height - 40 * scale)).getextrema()
        assert left == (255, 255) and right == (255, 255)
        assert image.getextrema()[0] == 0  # there is ink


def test_antrian_ticket_writes_a_png_preview(tmp_path):
    out = tmp_path / "ktp.png"
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "ticket", "--config", str(BUTON), "--service", "KTP",
                             "--png", str(out), "--priority", "lansia", "--device", "kiosk2"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "A-012" in result.stdout and " PRIORITAS \n LANSIA (60 TAHUN KE ATAS) " in result.stdout
    assert f"{out}: POS-5890 (58 mm paper)" in result.stdout
    from PIL import Image

    assert Image.open(out).width == (384 + 48) * 2
    bad = subprocess.run([sys.executable, "-m", "antrian.cli", "ticket", "--config", str(BUTON), "--service", "KTX",
                          "--png", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 1 and "unknown service 'KTX'" in bad.stderr and "Traceback" not in bad.stderr


# -- printer status ---------------------------------------------------------------------------------

@pytest.mark.parametrize("printer,cause,paper,problems", [
    (0x12, 0x12, 0x12, []),
    (0x12, 0x12, 0x1E, []),  # near end: not yet a problem
    (None, None, None, ["printer_offline"]),
    (0x1A, 0x32, 0x72, ["paper_out"]),
    (0x1A, 0x16, 0x12, ["cover_open"]),
    (0x1A, 0x12, 0x12, ["printer_offline"]),
    (0x1A, 0x36, 0x7E, ["paper_out", "cover_open"]),
    (0x72, 0x72, 0x72, ["paper_out"]),  # one byte for every query, as a simple printer answers
    # not status bytes at all: unknown, never healthy
    (0xFF, 0xFF, 0xFF, ["printer_status_unknown"]),
    (0x00, 0x00, 0x00, ["printer_status_unknown"]),
    (ord("O"), ord("K"), ord("\n"), ["printer_status_unknown"]),
    (0x12, 0x12, 0xFF, ["printer_status_unknown"]),  # paper unknown: not healthy
    (0x12, 0x36, 0xFF, ["paper_out", "cover_open", "printer_status_unknown"]),  # what is known still says
])
def test_status_bytes(printer, cause, paper, problems):
    assert status_problems(printer, cause, paper) == problems


def test_file_printer_writes_the_ticket(tmp_path, buton):
    settings = kiosk_settings({"printer": {"connection": "file", "path": str(tmp_path / "lp0"), "profile": "POS-5890"}})
    printer = TicketPrinter(settings.printer)
    assert printer.check() == []
    lay = layout(ticket_data(buton), PAPERS["POS-5890"])
    printer.print(lay)
    assert (tmp_path / "lp0").read_bytes() == escpos_bytes(lay)
    gone = kiosk_settings({"printer": {"connection": "file", "path": str(tmp_path / "no" / "lp0"),
                                       "profile": "POS-5890"}})
    assert TicketPrinter(gone.printer).check() == ["printer_offline"]


def test_usb_printer_that_is_not_there_is_offline_not_a_crash():
    settings = kiosk_settings({"printer": {"connection": "usb", "vendor_id": 0x04B8, "product_id": 0x0E15,
                                           "profile": "TM-T20II"}})
    assert TicketPrinter(settings.printer).check() == ["printer_offline"]


# -- the survey ---------------------------------------------------------------------------------------

def test_survey_has_the_nine_elements_and_a_valid_payload():
    assert [e.code for e in skm.ELEMENTS] == list(protocol.SURVEY_ELEMENTS)
    assert [e.name for e in skm.ELEMENTS][3] == "Biaya/tarif"
    assert all(len(e.answers) == 4 for e in skm.ELEMENTS)
    answers = {e.code: i % 4 + 1 for i, e in enumerate(skm.ELEMENTS)}
    message = skm.payload(answers)
    parsed = protocol.parse_survey(message)
    assert parsed.answers == answers and parsed.ticket is None and parsed.score is None
    with pytest.raises(ValueError):
        skm.payload({**answers, "U9": 5})


def test_antrian_kiosk_names_the_known_kiosks_for_an_unknown_one():
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "kiosk", "--config", str(BUTON),
                             "--device", "kiosk9"], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert result.returncode == 2
    assert "no kiosk device 'kiosk9' (known: kiosk1, kiosk2)" in result.stderr and "Traceback" not in result.stderr


def test_serial_status_reads_only_the_three_answers():
    """pyserial's read(16) would wait out the whole timeout for three bytes."""

    class Port:
        def __init__(self):
            self.asked = []

        def read(self, n):
            self.asked.append(n)
            return bytes([0x12, 0x12, 0x72][3 - n:][:n])

    class Device:
        def __init__(self):
            self.device = Port()
            self.sent = b""

        def _raw(self, data):
            self.sent += data

    settings = kiosk_settings({"printer": {"connection": "serial", "device": "/dev/ttyUSB0", "profile": "POS-5890"}})
    device = Device()
    assert TicketPrinter(settings.printer)._status(device) == ["paper_out"]
    assert device.sent == b"\x10\x04\x01\x10\x04\x02\x10\x04\x04" and device.device.asked == [3]


# -- where it is served, the badges, the paper it takes ----------------------------------------------

LINK = "https://antrean.butonkab.go.id/t/A-012-20261123-abcdefghijklmnop"  # a real site's ticket address
KINDS = {"normal": ("KTP", {}), "priority": ("KTP", {"priority": "lansia"}),
         "booking": ("KTP", {"booking": "RSV-7K3M-Q2XA-T"}), "remote": ("IZIN", {})}
BOOKING = "RSV-7K3M-Q2XA-T"


def counter(name, *services, location=None):
    return {"name": name, "services": list(services), "location": location}


@pytest.mark.parametrize("counters,expected", [
    ([counter("Loket 1", "KTP"), counter("Loket 2", "KTP")], "Loket 1\u20132"),
    ([counter(f"Loket {n}", "KTP") for n in (5, 1, 2, 3)], "Loket 1\u20133, 5"),
    ([counter("Loket 3", "KTP"), counter("Loket 4", "KK"), counter("Meja 7", "KTP")], "Loket 3, Meja 7"),
    ([counter("Loket 6", "KTP"), counter("Daring 1", "KTP", location="Bilik Layanan Daring"),
      counter("Daring 2", "KTP", location="Bilik Layanan Daring")], "Loket 6, Bilik Layanan Daring"),
    ([counter("Teller", "KTP"), counter("Loket 2", "KTP")], "Teller, Loket 2"),
    ([counter("Loket 1", "KK")], ""),
])
def test_served_at_collapses_counters_into_ranges(counters, expected):
    assert served_at("KTP", counters) == expected


def test_every_buton_service_says_where_it_is_served(buton):
    assert ticket_data(buton, "KTP").served_at == "Loket 1\u20132"
    assert ticket_data(buton, "IZIN").served_at == "Loket 6, Bilik Layanan Daring"
    assert all(ticket_data(buton, code).served_at for code in buton.services)


@pytest.mark.parametrize("profile", ["POS-5890", "ZJ-5870", "TM-T20II", "TM-T88III"])
def test_badges_break_only_between_words(buton, profile):
    paper = PAPERS[profile]
    for group in buton.priority_groups:
        lay = layout(ticket_data(buton, priority=group.id, booking="RSV-7K3M-Q2XA-T"), paper)
        badges = [line.strip() for el in lay.elements if getattr(el, "invert", False) for line in el.lines]
        words = fold(f"PRIORITAS {group.name.upper()}").replace(":", "").split()
        assert " ".join(badges).replace(":", "").split() == ["RESERVASI", "RSV-7K3M-Q2XA-T", *words]
        for line in badges:
            assert line.count("(") == line.count(")"), (profile, line)  # a bracket never left alone
            assert len(line) + 2 <= paper.columns


@pytest.mark.parametrize("profile", sorted(PAPERS))
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_paper_per_ticket_from_the_preview_and_from_the_bytes(buton, profile, kind):
    """The length three ways: the preview's height, the paper the ESC/POS bytes move by a
    printer's rules (tests/escpos_decode.py) and the layout's own count; all in dots at the
    profile's dpi. They agree to the dot, and stay within 110 mm on 58 mm paper and 100 mm on 80 mm."""
    paper = PAPERS[profile]
    service, extra = KINDS[kind]
    lay = layout(ticket_data(buton, service, link=LINK, **extra), paper)
    image = render(lay, scale=2)
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    image.save(ROOT / "test-artifacts" / f"ticket-{paper.width_mm}mm-{profile}-{kind}.png")
    printed = decode(escpos_bytes(lay))
    assert paper_dots(image, 2) == printed.dots == lay.dots()
    mm = printed.dots / dpi(paper) * 25.4
    assert mm <= LIMIT_MM[paper.width_mm], f"{profile} {kind}: {mm:.1f} mm"
    # The QR keeps the ticket's link and modules of at least 0.5 mm, readable by a phone; a
    # decoder (zbar) reads it from the preview at one pixel per printed dot.
    assert LINK in printed.qr or printed.images == 1
    assert next(el.module for el in lay.elements if hasattr(el, "module")) / dpi(paper) * 25.4 >= 0.5
    zbar = pytest.importorskip("pyzbar.pyzbar", reason="pyzbar and Debian's libzbar0 read the QR")
    assert [code.data.decode() for code in zbar.decode(render(lay, scale=1))] == [LINK]
    text = lay.text()
    if kind == "booking":
        assert "RESERVASI: RSV-7K3M-Q2XA-T" in text and "NOMOR ANTREAN" not in text
    if kind == "remote":
        assert "Dilayani di Loket 6, Bilik Layanan Daring" in text.replace("\n", " ")


@pytest.mark.parametrize("profile", sorted(PAPERS))
def test_every_buton_service_fits_every_printer(buton, profile):
    """Every printer profile the kiosk supports, every Buton service with every priority group
    (and none), booked or not: within the limit, measured from the bytes and the preview (at one
    pixel per dot), both equal to the layout's count. A ticket leaves out only what it must
    (without the last part it left out it would be too long), and never what the citizen needs."""
    paper = PAPERS[profile]
    limit = LIMIT_MM[paper.width_mm]
    longest = None
    for code in buton.services:
        for group in (None, *(g.id for g in buton.priority_groups)):
            for booking in (None, BOOKING):
                data = ticket_data(buton, code, link=LINK, priority=group, booking=booking)
                lay = layout(data, paper)
                dots = decode(escpos_bytes(lay)).dots
                assert dots == paper_dots(render(lay, scale=1), 1) == lay.dots(), (code, group, booking)
                assert dots / dpi(paper) * 25.4 <= limit, (code, group, booking, lay.dropped, dots)
                assert lay.dropped == DROPPABLE[:len(lay.dropped)]
                longest = max(longest or lay, lay, key=lambda one: one.dots())
                if lay.dropped:
                    assert layout(data, paper, drop=lay.dropped[:-1]).mm() > limit, (code, group, booking)
                text = " ".join(lay.text().split())
                service = " ".join(fold(data.service_name).split())
                for needed in (data.number, service, f"Dilayani di {fold(data.served_at)}",
                               "23 November 2026, pukul 09.15 WITA", "Silakan menunggu"):
                    assert needed in text, (code, group, booking, needed)
                assert ("RESERVASI: " + BOOKING in text) == bool(booking)
                assert ("PRIORITAS" in text) == bool(group)
                completion = f"Waktu penyelesaian: {fold(data.completion)}"[:30]
                assert (completion in text) == ("completion" not in lay.dropped)
                assert (f"Biaya: {fold(data.fee)}"[:12] in text) == ("fee" not in lay.dropped)
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    render(longest, scale=2).save(ROOT / "test-artifacts" / f"ticket-{paper.width_mm}mm-{profile}-longest.png")


def test_a_long_ticket_drops_the_least_needed_lines_in_order(buton):
    """Completion time first, then the site's name, then the fee; the number, service, place,
    badges, date and QR stay, and a ticket that fits keeps everything."""
    paper = PAPERS["ZJ-5870"]
    data = ticket_data(buton, "KTP", link=LINK)
    assert layout(data, paper).dropped == ()
    words = "Sesuai tahapan pada sistem, paling lama dua puluh delapan hari kerja setelah berkas lengkap. "
    longer = {"completion": words * 2, "site_name": words * 2, "fee": words * 3}
    for n, dropped in ((1, ("completion",)), (2, ("completion", "site")), (3, DROPPABLE)):
        long = dataclasses.replace(data, priority_name="Lansia (60 tahun ke atas)", **dict(list(longer.items())[:n]))
        lay = layout(long, paper)
        assert lay.dropped == dropped, n
        text = lay.text()
        assert "Waktu penyelesaian" not in text and ("Biaya" in text) == ("fee" not in dropped)
        assert "A-012" in text and "PRIORITAS" in text and "Dilayani di Loket 1-2" in text and "WITA" in text
        assert decode(escpos_bytes(lay)).images == 1


def test_a_ticket_too_long_even_after_the_drops_is_printed_with_a_warning(buton, caplog):
    words = "Sesuai tahapan pada sistem, paling lama dua puluh delapan hari kerja setelah berkas lengkap. "
    data = ticket_data(buton, "KTP", link=LINK)
    long = dataclasses.replace(data, service_name=words * 3)
    with caplog.at_level("WARNING", logger="kiosk.ticket"):
        lay = layout(long, PAPERS["POS-5890"])
    assert lay.dropped == DROPPABLE and lay.mm() > 110 and "A-012" in lay.text()
    assert "over 110 mm even without completion, site, fee" in caplog.text and "shorten" in caplog.text


def test_a_place_is_not_split_over_two_lines(buton):
    text = layout(ticket_data(buton, "IZIN"), PAPERS["POS-5890"]).text().splitlines()
    assert "Dilayani di Loket 6," in text and "Bilik Layanan Daring" in text
