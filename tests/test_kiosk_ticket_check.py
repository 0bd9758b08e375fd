"""check-config measures the kiosk's tickets (kiosk/ticket_check.py): a service whose ticket is too
long for a kiosk's paper even after the layout's drops, or one that leaves something out to fit,
is a WARNING (the file stays valid: the kiosk prints it longer); measured with the printer's own layout (kiosk/ticket.py),
on a Pi without qrcode too. No window, no broker, no printer."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys

import pytest
import yaml
from conftest import BUTON, ROOT

from antrian.site import load, parse
from kiosk import ticket, ticket_check
from kiosk.options import PAPERS
from kiosk.ticket import TicketData, fit, qr_modules

LONG_NAME = ("Perekaman KTP elektronik bagi penduduk yang baru berusia tujuh belas tahun, pindah datang, atau "
             "belum pernah merekam sama sekali, termasuk pencetakan ulang karena rusak atau hilang, perubahan "
             "data kependudukan, dan penggantian blangko lama")
# Eight lines on 58 mm paper (32 characters), six on 80 mm (48): kiosk2 (POS-5890) is over even
# without the drops; kiosk1 (TM-T20II) fits once it leaves out all three.
WARNING = "WARNING kiosk.ticket_check: "


def buton_raw() -> dict:
    return yaml.safe_load(BUTON.read_text(encoding="utf-8"))


def with_ktp(raw: dict, **changes) -> dict:
    raw["agencies"][0]["services"][0].update(changes)
    assert raw["agencies"][0]["services"][0]["code"] == "KTP"
    return raw


def with_profile(raw: dict, profile: str) -> dict:
    for device in raw["devices"]:
        if device["role"] == "kiosk":
            device["printer"]["profile"] = profile
    return raw


def check_config(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "antrian.cli", "check-config", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def warnings_of(stderr: str) -> list[str]:
    return [line.split(WARNING, 1)[1] for line in stderr.splitlines() if WARNING in line]


def longest_mm(name: str, profile: str, group: str | None, wait: int) -> float:
    """The ticket of KTP the check names, laid out here directly with the printer's `fit`: the
    longest date line, a three-digit number, Buton's public link (its token's MAC any 16 letters)."""
    config = load(BUTON)
    data = TicketData.sample(config, "KTP", number=ticket_check.NUMBER, wait_min=wait, priority=group,
                             now=ticket_check._longest_date(config))
    token = f"{data.number}-{data.business_day.replace('-', '')}-{'a' * 16}"
    data = dataclasses.replace(data, service_name=name, link=f"https://antrean.butonkab.go.id/t/{token}")
    return fit(data, PAPERS[profile]).mm()


def test_check_config_names_a_service_too_long_for_a_kiosk_s_paper(tmp_path):
    """The technician's line: the file, the service and its field, the kiosk and its printer
    profile, the length and the limit, and what to shorten; the other kiosk, on 80 mm paper, only
    leaves lines out, and says that. Warnings: the file is valid (exit status 0) and the MPP
    starts with it."""
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(with_ktp(buton_raw(), name=LONG_NAME), allow_unicode=True), encoding="utf-8")
    result = check_config(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{path}: OK")
    assert warnings_of(result.stderr) == [
        f"{path}: agencies[0].services[0]: some tickets of KTP on kiosk1 (TM-T20II, 80 mm paper) leave out the "
        "completion time, the site's name and the fee to stay within 100 mm (priority lansia: 102.9 mm with "
        "them); to keep them, shorten the service's name (agencies[0].services[0].name, 6 lines)",
        f"{path}: agencies[0].services[0]: a ticket of KTP on kiosk2 (POS-5890, 58 mm paper) is 116.6 mm, "
        "over the 110 mm limit even without the completion time, the site's name and the fee (the longest: "
        "priority lansia, a wait over an hour); the kiosk prints it longer; shorten the service's name "
        "(agencies[0].services[0].name, 8 lines), the priority group's name (priority_groups[0].name, 2 lines)"]
    # The length named is the printer's own layout of that ticket.
    assert f"{longest_mm(LONG_NAME, 'POS-5890', 'lansia', ticket_check.LONG_WAIT):.1f}" == "116.6"


def test_the_buton_example_is_clean():
    result = check_config(BUTON)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{BUTON}: OK") and result.stderr == ""


SENTENCE = "Pelayanan administrasi kependudukan terpadu bagi warga kabupaten Buton. "


@pytest.mark.parametrize("profile,limit,over,fits", [
    ("POS-5890", 110, 3, 2), ("ZJ-5870", 110, 2, 1),  # 58 mm paper
    ("TM-T20II", 100, 5, 4), ("TM-T88V", 100, 2, None),  # 80 mm paper
])
def test_each_paper_width_has_its_limit(profile, limit, over, fits, caplog):
    """On each paper class a service name of `over` sentences is over that paper's limit, on both
    kiosks, with the length the printer's layout gives; `fits` sentences are within the limit
    once the layout leaves lines out. Both warnings: the file is valid."""
    raw = with_profile(with_ktp(buton_raw(), name=SENTENCE * over), profile)
    with caplog.at_level(logging.WARNING, logger="kiosk.ticket_check"):
        parse(yaml.safe_dump(raw, allow_unicode=True), "site.yaml")
    mine = [r.getMessage() for r in caplog.records if "a ticket of KTP" in r.getMessage()]
    assert len(mine) == 2 and all(m.startswith("site.yaml: agencies[0].services[0]: a ticket of KTP") for m in mine)
    assert all("(the longest: priority lansia, a wait over an hour)" in m for m in mine)
    paper = PAPERS[profile]
    measured = longest_mm(SENTENCE * over, profile, "lansia", ticket_check.LONG_WAIT)
    for device, message in zip(("kiosk1", "kiosk2"), mine):
        assert f"a ticket of KTP on {device} ({profile}, {paper.width_mm} mm paper) is {measured:.1f} mm, over the " \
               f"{limit} mm limit even without " in message
        assert "shorten the service's name (agencies[0].services[0].name, " in message
    caplog.clear()
    assert measured > limit
    if fits is None:
        return
    raw = with_profile(with_ktp(buton_raw(), name=SENTENCE * fits), profile)
    with caplog.at_level(logging.WARNING, logger="kiosk.ticket_check"):
        parse(yaml.safe_dump(raw, allow_unicode=True), "site.yaml")
    assert f"some tickets of KTP on kiosk1 ({profile}, {paper.width_mm} mm paper) leave out" in caplog.text
    assert f"to stay within {limit} mm" in caplog.text


def test_a_long_fee_is_named_when_the_ticket_leaves_it_out(caplog):
    """What is left out is named with what to shorten to keep it, most lines first: here the fee's
    own text; the file is still valid (a warning: the kiosk prints every line a citizen needs)."""
    fee = "Gratis untuk perekaman pertama; Rp 50.000 untuk pencetakan ulang karena hilang atau rusak berat. " * 3
    raw = with_ktp(buton_raw(), fee=fee)
    with caplog.at_level(logging.WARNING, logger="kiosk.ticket_check"):
        config = parse(yaml.safe_dump(raw, allow_unicode=True), "site.yaml")
    assert [r.getMessage() for r in caplog.records if r.name == "kiosk.ticket_check"] == [
        "site.yaml: agencies[0].services[0]: some tickets of KTP on kiosk2 (POS-5890, 58 mm paper) leave out the "
        "completion time, the site's name and the fee to stay within 110 mm (priority lansia: 117.9 mm with them); "
        "to keep them, shorten the fee (agencies[0].services[0].fee, 8 lines), the service's name "
        "(agencies[0].services[0].name, 2 lines), the priority group's name (priority_groups[0].name, 2 lines)"]
    assert config.services["KTP"].fee == fee.strip()


def test_a_site_file_that_fits_logs_nothing(caplog):
    with caplog.at_level(logging.DEBUG, logger="kiosk.ticket_check"):
        load(BUTON)
    assert caplog.records == []


def test_without_qrcode_the_check_gives_the_same_line(tmp_path):
    """A dispatcher's Pi has no kiosk extra: the QR is sized from the QR standard's table, and
    neither a printer library, Pillow nor Kivy is loaded for the check."""
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(with_ktp(buton_raw(), name=LONG_NAME), allow_unicode=True), encoding="utf-8")
    script = ("import sys; sys.modules['qrcode'] = None\n"
              "from antrian.cli.main import main\n"
              "status = main(['check-config', sys.argv[1]])\n"
              "loaded = sorted(m for m, module in sys.modules.items() if module is not None\n"
              "                and m.split('.')[0] in ('qrcode', 'escpos', 'PIL', 'kivy'))\n"
              "assert not loaded, loaded\n"
              "sys.exit(status)\n")
    bare = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    full = check_config(path)
    assert bare.returncode == full.returncode == 0, bare.stderr
    assert len(warnings_of(bare.stderr)) == 2 and warnings_of(bare.stderr) == warnings_of(full.stderr)


def test_qr_size_without_qrcode_is_qrcode_s_for_links_and_never_smaller(monkeypatch):
    links = [f"https://{'a' * n}.go.id/t/A-012-20261123-abcdefghijklmnop" for n in range(0, 300, 7)]
    texts = links + [f"antrian:buton:2026-11-23:{p}-{n:03d}" for p in ("A", "KB") for n in (1, 999)] + \
        ["x" * n for n in range(1, 400, 13)] + ["1" * 90, "HTTPS://A.ID/" + "7" * 60]
    real = {text: qr_modules(text) for text in texts}
    qr_modules.cache_clear()
    monkeypatch.setattr(ticket, "qrcode", None)
    try:
        table = {text: qr_modules(text) for text in texts}
    finally:
        qr_modules.cache_clear()
    assert all(table[t] >= real[t] for t in texts)
    assert all(table[t] == real[t] for t in texts[:-2])  # byte mode: digits or capitals in long runs pack closer
