"""The ticket layout drawn with Pillow: the preview of ``antrian ticket --png``.

It draws what the printer would, dot for dot: font A characters in 12 x 24 cells and
font B in 9 x 17, multiplied by the same width and height, the same wrapping (done by the
layout), the QR code with the same module size and error correction, on paper as wide as
the profile's printable dots, and each line as far below the last as the printer feeds it
(the element's spacing: `kiosk.ticket.PITCH`, or the closer pitch of fine print on a printer
without font B; the characters' height when taller). So the image's height is the ticket's
length: `paper_dots(image, scale)` dots (`Layout.dots`), divided by the printer's dots per
millimetre (8 at 203 dpi). The band of `MARGIN` dots above the first line is the preview's
own, not paper. `scale` enlarges everything for a sharper preview (2: a 576-dot line becomes
1152 pixels).

    image = render(layout(TicketData.sample(config, "KTP"), PAPERS["POS-5890"]))
    image.save("ticket.png")

Fonts: DejaVu Sans Mono (Debian's fonts-dejavu-core), else Kivy's Roboto Mono, else
Pillow's built-in font. Characters are placed one per cell, so a font a little wider
than the printer's can never push a line past the paper's edge.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from .ticket import CELL, PITCH, QR, QR_QUIET, Cut, Feed, Layout, Rule, Text, columns

__all__ = ["MARGIN", "paper_dots", "render"]

MARGIN = 24  # paper beyond the printable width, each side, and a band above the first line

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def _kivy_fonts() -> Path | None:
    # Located without importing kivy, which would set up its window machinery.
    spec = importlib.util.find_spec("kivy")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "fonts"


@functools.lru_cache(maxsize=None)
def _font(size: int, bold: bool) -> tuple[ImageFont.ImageFont, bool]:
    """A monospace font of `size` px, and whether bold must be faked with a stroke."""
    candidates = [_DEJAVU / ("DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"),
                  _DEJAVU / "DejaVuSansMono.ttf"]
    kivy = _kivy_fonts()
    if kivy is not None:
        candidates.append(kivy / "RobotoMono-Regular.ttf")
    for i, path in enumerate(candidates):
        if path.is_file():
            return ImageFont.truetype(str(path), size), bold and i > 0
    return ImageFont.load_default(size), bold


def _text_line(line: str, el: Text, scale: int) -> Image.Image:
    cell_w, cell_h = CELL[el.font]
    cw, ch = cell_w * scale, cell_h * scale
    img = Image.new("L", (max(1, len(line)) * cw, ch), 0 if el.invert else 255)
    draw = ImageDraw.Draw(img)
    font, fake_bold = _font(round(cell_h * 20 / 24 * scale), el.bold)
    ink = 255 if el.invert else 0
    for i, char in enumerate(line):
        draw.text((i * cw + cw / 2, ch * 0.78), char, font=font, fill=ink, anchor="ms",
                  stroke_width=scale if fake_bold else 0, stroke_fill=ink)
    if (el.width, el.height) != (1, 1):
        img = img.resize((img.width * el.width, img.height * el.height), Image.NEAREST)
    return img


def _qr(el: QR, scale: int) -> Image.Image:
    """As python-escpos makes the image (error correction L, one module of border); a printer
    drawing the code itself (GS ( k) prints the symbol alone, with the same level."""
    code = qrcode.QRCode(box_size=el.module * scale, border=0 if el.native else 1,
                         error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(el.data)
    code.make(fit=True)
    return code.make_image().get_image().convert("L")


def paper_dots(image: Image.Image, scale: int = 2) -> int:
    """The ticket's length in printer dots: the preview's height less its top band."""
    return image.height // scale - MARGIN


def render(lay: Layout, scale: int = 2) -> Image.Image:
    """The ticket as a grayscale image, white paper and black print."""
    width = lay.paper.dots * scale
    pieces: list[tuple[Image.Image | None, str, int]] = []  # (image or blank, align, height)
    line = PITCH["a"] * scale
    for el in lay.elements:
        if isinstance(el, Text):
            for text in el.lines:
                img = _text_line(text, el, scale)
                pieces.append((img, el.align, max(el.spacing * scale, img.height)))
        elif isinstance(el, Rule):
            rule = Text(("-" * columns(lay.paper, el.font),), font=el.font)
            pieces.append((_text_line(rule.lines[0], rule, scale), "left", el.pitch * scale))
        elif isinstance(el, Feed):
            pieces.append((None, "left", el.lines * line))
        elif isinstance(el, QR):
            pieces.append((None, "left", QR_QUIET * scale))
            img = _qr(el, scale)
            # A printed symbol is followed by a line feed; an image by the same feed as above it.
            pieces.append((img, "center", img.height + (line if el.native else QR_QUIET * scale)))
        elif isinstance(el, Cut):
            pieces.append((None, "cut", el.lines * line))

    margin = MARGIN * scale
    paper = Image.new("L", (width + 2 * margin, margin + sum(h for _, _, h in pieces)), 255)
    draw = ImageDraw.Draw(paper)
    y = margin
    for img, align, height in pieces:
        if img is not None:
            x = {"left": 0, "right": width - img.width}.get(align, (width - img.width) // 2)
            paper.paste(img, (margin + max(0, x), y))
        elif align == "cut":
            cut_y = y + height - scale
            dash = 8 * scale
            for x in range(0, paper.width, 2 * dash):
                draw.line([(x, cut_y), (x + dash, cut_y)], fill=128, width=scale)
        y += height
    return paper
