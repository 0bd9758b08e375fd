"""A booking's QR code, drawn as SVG for the public app's confirmation page (and printable).

The text it holds comes from the core (`antrian.queue.codes.qr_text`: the code as shown,
``RSV-7K3M-Q2XA-T``), which a kiosk's USB scanner types like a keyboard; this module only
draws it, with the qrcode library's SVG path image (no Pillow, no JavaScript). Error
correction M: a phone screen with a crack or a smudged print still scans.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg

from antrian.queue import codes

__all__ = ["svg"]


def svg(code: str) -> str:
    """The SVG of the QR code of a booking code (canonical or as shown); ValueError for no code."""
    canonical = codes.parse(code)
    if canonical is None:
        raise ValueError(f"not a booking code: {code!r}")
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4,
                       image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(codes.qr_text(canonical))
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().save(out)
    text = out.getvalue().decode("utf-8")
    return text[text.index("<svg"):]  # without the XML declaration: it goes inside a page
