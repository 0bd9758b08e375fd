"""The site secret and what is made from it: the unguessable parts of the web addresses.

- :func:`site_secret` is one random secret per site, in ``<broker.credentials_dir>/site.secret``
  (written by ``antrian broker-files`` next to the broker passwords, kept when it runs
  again). The dispatcher and the web apps read it; it never travels over MQTT. A site
  file without ``credentials_dir`` (a laptop, the tests) gets a development secret
  made from the site id: anyone who knows the id can forge its addresses, as anyone
  can connect to its broker.
- A ticket's token (:func:`ticket_token`), the ``{token}`` of the citizen's live page
  ``/t/{token}``: ``A-012-20261204-k3m9q2xa7bd4fw5c``, the number and the business day
  in clear (so the public app finds the ticket in the live state, with no database) and
  80 bits of an HMAC-SHA256 of site, day and number under the site secret, so nobody
  can make the token of another ticket. :func:`read_token` gives back (day, number) of
  a genuine token and None for anything else.
- :func:`public_url` is the address of the site's public app (a ``role: web`` device
  with ``public: true`` and a ``public_url``); :func:`ticket_link` the full URL a
  Ticket carries as ``link`` and the printed QR holds. Read here from the device's
  options, so the core needs nothing of the web wing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
from pathlib import Path

from antrian.errors import CredentialsError
from antrian.site import Config

__all__ = ["SECRET_NAME", "TOKEN_CHARS", "public_url", "read_token", "secret_file", "site_secret", "survey_id",
           "ticket_link", "ticket_token"]

log = logging.getLogger(__name__)

SECRET_NAME = "site.secret"
MIN_SECRET = 32  # characters of the secret file (hex of 32 random bytes is 64)
TOKEN_CHARS = 16  # base32 characters of the token's MAC: 80 bits
_TOKEN = re.compile(r"^([A-Z]{1,2}-[0-9]{3,4})-([0-9]{8})-([a-z2-7]{%d})$" % TOKEN_CHARS)


def secret_file(config: Config) -> Path | None:
    directory = config.broker.credentials_dir
    return None if directory is None else Path(directory) / SECRET_NAME


def site_secret(config: Config) -> bytes:
    """The site's secret; CredentialsError naming the file when it is configured but unusable."""
    path = secret_file(config)
    if path is None:
        return hashlib.sha256(f"antrian-development-secret:{config.site.id}".encode()).digest()
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise CredentialsError(f"no site secret: {path} does not exist (broker.credentials_dir in {config.source}); "
                               f"make it with `antrian broker-files --config {config.source}` and copy it to "
                               "this machine (docs/operations.md)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"cannot read the site secret {path}: {exc}") from None
    if len(text) < MIN_SECRET or any(ch.isspace() for ch in text):
        raise CredentialsError(f"{path} must hold one line of at least {MIN_SECRET} characters (the site secret)")
    return text.encode("ascii")


def _mac(secret: bytes, site: str, day: str, number: str) -> str:
    digest = hmac.new(secret, f"antrian-ticket\x00{site}\x00{day}\x00{number}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:TOKEN_CHARS].lower()


def ticket_token(secret: bytes, site: str, day: str | dt.date, number: str) -> str:
    """The token of ticket *number* of business day *day* (ISO date) at *site*."""
    day = day if isinstance(day, str) else day.isoformat()
    return f"{number}-{day.replace('-', '')}-{_mac(secret, site, day, number)}"


def read_token(secret: bytes, site: str, token: str) -> tuple[dt.date, str] | None:
    """(business day, number) of a token this site made; None for a malformed or forged one."""
    m = _TOKEN.match(token) if isinstance(token, str) and len(token) <= 40 else None
    if m is None:
        return None
    number, digits, mac = m.groups()
    try:
        day = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(secret, site, day.isoformat(), number)):
        return None
    return day, number


def survey_id(day: dt.date | str, number: str) -> str:
    """The id of the survey sent from a ticket's page: one per ticket, so a second
    submission is a repeated id that the dispatcher stores once (exactly once)."""
    day = day if isinstance(day, str) else day.isoformat()
    return f"tiket:{day}:{number}"


def public_url(config: Config) -> str | None:
    """The public app's address from the site file (the first public web device's
    ``public_url``), without a trailing slash; None when no device names one."""
    for device in config.devices.values():
        options = device.options or {}
        if device.role == "web" and options.get("public") and isinstance(options.get("public_url"), str):
            return options["public_url"].rstrip("/")
    return None


def ticket_link(base: str, secret: bytes, site: str, day: str | dt.date, number: str) -> str:
    """The full address of a ticket's live page under the public app's *base* URL."""
    return f"{base}/t/{ticket_token(secret, site, day, number)}"
