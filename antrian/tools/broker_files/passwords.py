"""The broker users' passwords: strong random ones, and the ``$7$`` hashes of Mosquitto 2's
password file (PBKDF2-HMAC-SHA512, the format ``mosquitto_passwd`` writes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

# Mosquitto 2's own default (mosquitto_passwd -I). The passwords are 192-bit random
# strings, so the iteration count is not what protects them; a cheap hash keeps the
# CONNECT of thirty devices after a power cut quick on a Pi.
ITERATIONS = 101
_SALT_BYTES = 12  # as mosquitto_passwd
_PASSWORD_BYTES = 24  # 32 characters of base64url


def new_password() -> str:
    return secrets.token_urlsafe(_PASSWORD_BYTES)


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """``$7$iterations$salt$hash``: PBKDF2-HMAC-SHA512 with a 64-byte key, base64, as
    Mosquitto 2 reads it (the format of ``mosquitto_passwd -H sha512-pbkdf2``)."""
    salt = salt if salt is not None else os.urandom(_SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def check_password(stored: str, password: str) -> bool:
    """Whether a ``$7$`` hash of the password file matches *password*."""
    try:
        _, kind, iterations, salt, key = stored.split("$")
        if kind != "7":
            return False
        expected = base64.b64decode(key, validate=True)
        got = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), base64.b64decode(salt, validate=True),
                                  int(iterations), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)
