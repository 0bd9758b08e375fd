"""Read ESC/POS bytes back into what a printer would put on paper, for tests.

    paper = decode(job.data)
    paper.lines   printed text, one entry per line feed (ESC d n adds n empty lines)
    paper.qr      contents of native QR codes (GS ( k ... fn 80)
    paper.images  raster images (GS v 0), e.g. a QR code sent as an image
    paper.cuts    paper cuts (GS V)
    paper.sizes   the character size (width, height) of each line that has text
    paper.fonts   the font ("a" or "b") each line that has text ended in
    paper.dots    how far the paper moved, in dots (motion units), by a printer's rules:
                  a line feed moves the line spacing (ESC 3 n) or the height of the
                  tallest character on the line if that is more (font A 24 dots, font B
                  17, times GS ! height); ESC d n moves n spacings, ESC J n n dots; a
                  raster image (GS v 0) its height; a printed QR symbol (GS ( k fn 81)
                  its modules (counted with the qrcode library at the symbol's error
                  correction) times the module size

Only the commands python-escpos sends for our tickets are known; anything else is an
error, so a ticket with a command nobody reviewed fails the test.
"""

from __future__ import annotations

import dataclasses

import qrcode

ESC, GS, DLE = 0x1B, 0x1D, 0x10
_ESC_ARGS = {ord("@"): 0, ord("!"): 1, ord("E"): 1, ord("-"): 1, ord("M"): 1, ord("a"): 1, ord("t"): 1,
             ord("{"): 1, ord("d"): 1, ord("2"): 0, ord("3"): 1, ord("G"): 1, ord("J"): 1}
_FONT_HEIGHT = (24, 17)  # font A, font B
_EC = {48: qrcode.constants.ERROR_CORRECT_L, 49: qrcode.constants.ERROR_CORRECT_M,
       50: qrcode.constants.ERROR_CORRECT_Q, 51: qrcode.constants.ERROR_CORRECT_H}
_GS_ARGS = {ord("!"): 1, ord("B"): 1, ord("b"): 1, ord("|"): 1}


@dataclasses.dataclass
class Paper:
    lines: list[str] = dataclasses.field(default_factory=list)
    sizes: list[tuple[str, tuple[int, int]]] = dataclasses.field(default_factory=list)
    fonts: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    qr: list[str] = dataclasses.field(default_factory=list)
    images: int = 0
    cuts: int = 0
    queries: int = 0
    dots: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def decode(data: bytes) -> Paper:
    paper = Paper()
    line = bytearray()
    size = (1, 1)
    font = 0
    spacing: int | None = None  # ESC 2 (the printer's own default) is unknown: measuring fails
    tallest = 0  # the tallest character on the line so far
    qr_size, qr_ec = 3, qrcode.constants.ERROR_CORRECT_L
    i = 0

    def feed(lines: int = 1) -> None:
        if spacing is None:
            raise ValueError("a line feed with the printer's default line spacing: its length is unknown")
        paper.dots += lines * spacing

    def end_line() -> None:
        nonlocal tallest
        text = line.decode("cp437")
        paper.lines.append(text)
        if text.strip():
            paper.sizes.append((text, size))
            paper.fonts.append((text, "ab"[font]))
        if tallest > (spacing or 0):
            paper.dots += tallest
        else:
            feed()
        tallest = 0
        line.clear()

    while i < len(data):
        b = data[i]
        if b == ESC:
            cmd = data[i + 1]
            if cmd not in _ESC_ARGS:
                raise ValueError(f"unknown ESC {chr(cmd)!r} at byte {i}")
            if cmd == ord("!"):
                size = (1, 1)
                font = data[i + 2] & 1
            elif cmd == ord("M"):
                font = data[i + 2] & 1
            elif cmd == ord("3"):
                spacing = data[i + 2]
            elif cmd == ord("2"):
                spacing = None
            elif cmd == ord("J"):
                paper.dots += data[i + 2]
            elif cmd == ord("d"):
                end_line() if line else None
                paper.lines.extend([""] * data[i + 2])
                feed(data[i + 2])
            i += 2 + _ESC_ARGS[cmd]
        elif b == GS:
            cmd = data[i + 1]
            if cmd in _GS_ARGS:
                if cmd == ord("!"):
                    n = data[i + 2]
                    size = ((n >> 4) + 1, (n & 0x0F) + 1)
                i += 2 + _GS_ARGS[cmd]
            elif cmd == ord("V"):
                paper.cuts += 1
                i += 4 if data[i + 2] in (65, 66) else 3
            elif cmd == ord("(") and data[i + 2] in (ord("k"), ord("L")):
                length = data[i + 3] + 256 * data[i + 4]
                body = data[i + 5:i + 5 + length]
                if data[i + 2] == ord("k") and body[:2] == b"1P":  # cn 49, fn 80: store the QR data
                    paper.qr.append(body[3:].decode("utf-8"))
                elif data[i + 2] == ord("k") and body[:2] == b"1C":  # fn 67: module size
                    qr_size = body[2]
                elif data[i + 2] == ord("k") and body[:2] == b"1E":  # fn 69: error correction
                    qr_ec = _EC[body[2]]
                elif data[i + 2] == ord("k") and body[:2] == b"1Q":  # fn 81: print the stored symbol
                    code = qrcode.QRCode(border=0, error_correction=qr_ec)
                    code.add_data(paper.qr[-1])
                    code.make(fit=True)
                    paper.dots += code.modules_count * qr_size
                i += 5 + length
            elif cmd == ord("v") and data[i + 2] == ord("0"):
                width_bytes = data[i + 4] + 256 * data[i + 5]
                height = data[i + 6] + 256 * data[i + 7]
                paper.images += 1
                paper.dots += height
                i += 8 + width_bytes * height
            else:
                raise ValueError(f"unknown GS {chr(cmd)!r} at byte {i}")
        elif b == DLE and data[i + 1] == 0x04:
            paper.queries += 1
            i += 3
        elif b == 0x0A:
            end_line()
            i += 1
        elif b >= 0x20:
            line.append(b)
            tallest = max(tallest, _FONT_HEIGHT[font] * size[1])
            i += 1
        else:
            raise ValueError(f"unexpected control byte {b:#04x} at byte {i}")
    if line:
        end_line()
    return paper
