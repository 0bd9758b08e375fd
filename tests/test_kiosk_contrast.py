"""Every text of the kiosk at least 4.5:1 (WCAG 2.x AA; issue 16, item 6): computed from
the agency colours of the site file and the kiosk's theme (kiosk/contrast.py), for every
text/background pair the home, services and confirm screens and the shared widgets draw,
and for every button colour written in a kiosk .kv file. No Kivy here: the arithmetic is
pure."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from antrian.site import load
from kiosk import contrast
from kiosk.contrast import AA, PAIRS, ink_on, rgba

ROOT = Path(__file__).resolve().parents[1]
BUTON = load(ROOT / "examples" / "buton.yaml")
KV = sorted((ROOT / "kiosk").glob("**/*.kv"))
# The files whose text colours all come from the theme (no number of their own).
THEMED = [ROOT / "kiosk" / p for p in ("widgets.kv", "screens/home.kv", "screens/services.kv",
                                        "screens/confirm.kv", "screens/done.kv")]


@pytest.mark.parametrize("fg, bg, expected", [
    ("#FFFFFF", "#000000", 21.0),
    ("#000000", "#000000", 1.0),
    ("#FFFFFF", "#F9A825", 1.97),  # white on Bapenda's yellow: the figure
    ("#FFFFFF", "#777777", 4.48),
    ("#FFFFFF", "#1565C0", 5.75),
])
def test_the_ratio_is_wcags(fg, bg, expected):
    assert contrast.contrast(rgba(fg), rgba(bg)) == pytest.approx(expected, abs=0.01)


def test_a_translucent_text_is_blended_onto_its_background_first():
    half_white = rgba("#FFFFFF", 0.5)
    assert contrast.contrast(half_white, rgba("#000000")) == pytest.approx(
        contrast.contrast(rgba("#808080"), rgba("#000000")), abs=0.05)  # as Kivy blends: in sRGB


@pytest.mark.parametrize("where, fg, bg", PAIRS, ids=[p[0] for p in PAIRS])
def test_every_theme_pair_reaches_aa(where, fg, bg):
    assert contrast.contrast(fg, bg) >= AA, f"{where}: {contrast.contrast(fg, bg):.2f}:1"


@pytest.mark.parametrize("agency", BUTON.agencies, ids=[a.id for a in BUTON.agencies])
def test_every_agency_colour_of_the_example_gets_a_readable_ink(agency):
    bg = rgba(agency.color)
    assert contrast.contrast(ink_on(bg), bg) >= AA


def test_bapendas_yellow_gets_dark_text_and_the_blues_white():
    colours = {a.id: a.color for a in BUTON.agencies}
    assert ink_on(rgba(colours["bapenda"])) == contrast.BLACK
    assert contrast.contrast(contrast.BLACK, rgba(colours["bapenda"])) == pytest.approx(10.66, abs=0.01)
    assert ink_on(rgba(colours["disdukcapil"])) == contrast.WHITE


def test_any_colour_at_all_gets_at_least_aa():
    """Black or white: the better of the two is never below sqrt(21) = 4.58."""
    worst = min(contrast.contrast(ink_on(c), c) for c in (
        (r / 15, g / 15, b / 15) for r in range(16) for g in range(16) for b in range(16)))
    assert worst >= 4.58


def _buttons(path: Path) -> list[str]:
    return re.findall(r"\bbg:\s*'(#[0-9A-Fa-f]{6})'", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", KV, ids=[str(p.relative_to(ROOT)) for p in KV])
def test_every_button_colour_in_the_kv_files_gets_a_readable_ink(path):
    """KioskButton and Banner draw their text in ink_on(bg) (kiosk/widgets.kv)."""
    for colour in _buttons(path):
        bg = rgba(colour)
        assert contrast.contrast(ink_on(bg), bg) >= AA, f"{path.name}: {colour}"


@pytest.mark.parametrize("path", THEMED, ids=[p.name for p in THEMED])
def test_text_colours_come_from_the_theme(path):
    """A `color:` written as numbers would escape the pairs above."""
    numbers = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
               if re.match(r"\s*(color|disabled_color):\s*[(\[]?\s*[.\d]", line)]
    assert numbers == []


def test_the_figures(capsys):
    """The figures quoted in the report: every agency of the example with its ink."""
    rows = [(a.id, a.color, contrast.contrast(contrast.WHITE, rgba(a.color)),
             contrast.contrast(ink_on(rgba(a.color)), rgba(a.color))) for a in BUTON.agencies]
    with capsys.disabled():
        print()
        for ident, colour, white, chosen in rows:
            print(f"  {ident:12} {colour}  white {white:5.2f}:1  chosen {chosen:5.2f}:1")
        for where, fg, bg in PAIRS:
            print(f"  {where:24} {contrast.contrast(fg, bg):5.2f}:1")
    assert all(chosen >= AA for *_, chosen in rows)
