"""Booking codes: what a citizen types at the kiosk or reads over the phone.

A code is 8 random characters of Crockford's base32 (digits and capitals without I,
L, O, U) and one check character, shown as ``RSV-7K3M-Q2XA-5``. It is drawn with
`secrets`, never counted, so nobody can guess the next one from their own.

The check character is a weighted sum modulo 37 over Crockford's 32 symbols plus his
five check symbols ``*~$=U``: the weights 1..8 are all different and non-zero modulo the
prime 37, so one mistyped character changes the sum, and so does a swap of two
neighbours (their weights differ by one). `parse` accepts what people type: lower case,
spaces and dashes anywhere, the ``RSV`` prefix or not, and Crockford's readings I and L
as 1, O as 0.

`person_key` is how a phone number or a NIK is kept: a keyed hash (HMAC-SHA256 with the
site secret, antrian/links.py), never the number itself, so the store can tell the same
person twice without holding who it is.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from antrian.protocol import nik_digits, phone_digits  # what a citizen types, read once

__all__ = ["ALPHABET", "CHECK_SYMBOLS", "PREFIX", "check_char", "display", "qr_text", "new_code", "parse", "nik_digits",
           "person_key", "phone_digits"]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_SYMBOLS = ALPHABET + "*~$=U"  # 37: a prime, so every weight 1..8 is invertible
PREFIX = "RSV"
LENGTH = 8
_VALUE = {ch: i for i, ch in enumerate(CHECK_SYMBOLS)}
_READINGS = str.maketrans({"I": "1", "L": "1", "O": "0"})


def check_char(body: str) -> str:
    """The check character of 8 code characters."""
    return CHECK_SYMBOLS[sum((i + 1) * _VALUE[ch] for i, ch in enumerate(body)) % 37]


def new_code() -> str:
    """A new random code in its canonical form: 8 characters and the check (9, no dashes)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return body + check_char(body)


def display(code: str) -> str:
    """``RSV-7K3M-Q2XA-5`` of a canonical code."""
    return f"{PREFIX}-{code[:4]}-{code[4:8]}-{code[8:]}"


def qr_text(code: str) -> str:
    """What a booking's QR code holds: the code as shown, which a USB scanner types into the
    kiosk like a keyboard (the kiosk parses it as typed). Drawing it is the wings' business
    (web/bookingqr.py), so the core needs no image library."""
    return display(code)


def parse(text: object) -> str | None:
    """The canonical code of what someone typed, or None if it is no valid code."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    clean = re.sub(r"[\s\-_.]", "", text).upper()
    if clean.startswith(PREFIX) and len(clean) == len(PREFIX) + LENGTH + 1:
        clean = clean[len(PREFIX):]
    clean = clean[:LENGTH].translate(_READINGS) + clean[LENGTH:].replace("O", "0").replace("I", "1").replace("L", "1")
    if len(clean) != LENGTH + 1 or any(ch not in ALPHABET for ch in clean[:LENGTH]):
        return None
    body, check = clean[:LENGTH], clean[LENGTH:]
    return clean if check in _VALUE and check_char(body) == check else None


def person_key(secret: bytes, kind: str, value: str) -> str:
    """The keyed hash a phone ('phone') or a NIK ('nik') is kept as: 128 bits, hex."""
    return hmac.new(secret, f"antrian-person\x00{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()[:32]
