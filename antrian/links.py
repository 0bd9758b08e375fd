"""The site secret and what is made from it: the unguessable parts of the web addresses.

- :func:`site_secret` is one random secret per site, in ``<broker.credentials_dir>/site.secret``
  (written by ``antrian broker-files`` next to the broker passwords, kept when it runs
  again). The dispatcher and the web apps read it; it never travels over MQTT. A site
  file without ``credentials_dir`` (a laptop, the tests) gets a development secret
  made from the site id: anyone who knows the id can forge its addresses, as anyone
  can connect to its broker.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from antrian.errors import CredentialsError
from antrian.site import Config

__all__ = ["SECRET_NAME", "secret_file", "site_secret"]

log = logging.getLogger(__name__)

SECRET_NAME = "site.secret"
MIN_SECRET = 32  # characters of the secret file (hex of 32 random bytes is 64)


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
