"""Password hashes of the staff app's users: argon2id for new passwords (argon2-cffi's
default cost: 64 MiB, 3 passes, 4 lanes), and the old dashboard's scrypt and
pbkdf2_sha256 hashes still checked, so its users file keeps working."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

__all__ = ["HASHER", "hash_password", "needs_rehash", "verify_password"]

# The hasher of new passwords; tests lower its cost through this attribute.
HASHER: Any = None


def _hasher() -> Any:
    global HASHER
    if HASHER is None:
        from argon2 import PasswordHasher

        HASHER = PasswordHasher()
    return HASHER


def hash_password(password: str) -> str:
    """An argon2id hash of *password* (``$argon2id$v=19$m=...``)."""
    return _hasher().hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Whether *password* matches *stored*: argon2, or the old dashboard's scrypt/pbkdf2."""
    if stored.startswith("$argon2"):
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return bool(_hasher().verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False
    try:
        parts = stored.split("$")
        secret = password.encode("utf-8")
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(x) for x in parts[1:4])
            expected = base64.b64decode(parts[5], validate=True)
            key = hashlib.scrypt(secret, salt=base64.b64decode(parts[4], validate=True), n=n, r=r, p=p,
                                 dklen=len(expected), maxmem=256 * 1024 * 1024)
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            expected = base64.b64decode(parts[3], validate=True)
            key = hashlib.pbkdf2_hmac("sha256", secret, base64.b64decode(parts[2], validate=True), int(parts[1]),
                                      dklen=len(expected))
        else:
            return False
    except (ValueError, TypeError, UnicodeEncodeError, MemoryError):
        return False
    return hmac.compare_digest(key, expected)


def needs_rehash(stored: str) -> bool:
    if not stored.startswith("$argon2"):
        return True
    from argon2.exceptions import InvalidHashError

    try:
        return bool(_hasher().check_needs_rehash(stored))
    except InvalidHashError:
        return True
