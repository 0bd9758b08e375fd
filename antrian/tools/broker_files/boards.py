"""The addresses of a site's browser boards (``role: display`` with ``browser: true``).

A browser board is a page of the staff web app, ``/papan/<device>``. Where the site
has broker credentials (``broker.credentials_dir``) the address carries the board's
token, ``?k=...``: an HMAC of the site and the device id under the site secret
(antrian/links.py), so a TV box can be set up once with a bookmark and nobody on the
LAN can open a board that does not exist in the site file. Without credentials (a
laptop, the tests) there is no token and the address alone serves.

``antrian broker-files`` prints each board's path with its token, next to the
passwords it writes; the web app checks the token with :func:`board_token_ok`.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os

from antrian.errors import CredentialsError
from antrian.links import site_secret
from antrian.site import Config

__all__ = ["board_path", "board_paths", "board_token", "board_token_ok", "browser_boards"]

TOKEN_CHARS = 26  # base32 characters: 130 bits


def board_token(secret: bytes, site: str, device: str) -> str:
    digest = hmac.new(secret, f"antrian-papan\x00{site}\x00{device}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:TOKEN_CHARS].lower()


def board_token_ok(config: Config, secret: bytes, device: str, token: str | None) -> bool:
    """True when *token* opens board *device*: always without credentials, else only its own token."""
    if config.broker.credentials_dir is None:
        return True
    if not isinstance(token, str) or len(token) != TOKEN_CHARS:
        return False
    return hmac.compare_digest(token, board_token(secret, config.site.id, device))


def browser_boards(config: Config) -> list[str]:
    """The ids of the site's browser boards, in the site file's order."""
    return [d.id for d in config.devices.values()
            if d.role == "display" and (d.options or {}).get("browser") is True]


def board_path(config: Config, secret: bytes | None, device: str) -> str:
    """``/papan/<device>``, with ``?k=<token>`` when the site has credentials."""
    if config.broker.credentials_dir is None or secret is None:
        return f"/papan/{device}"
    return f"/papan/{device}?k={board_token(secret, config.site.id, device)}"


def board_paths(config: Config, folder: str | os.PathLike[str] | None = None) -> list[str]:
    """Every browser board's path, with the site secret in *folder* (default: the site's
    credentials_dir); empty when that secret cannot be read yet."""
    boards = browser_boards(config)
    if not boards:
        return []
    secret = None
    if config.broker.credentials_dir is not None:
        if folder is not None:
            config = dataclasses.replace(config, broker=dataclasses.replace(config.broker, credentials_dir=str(folder)))
        try:
            secret = site_secret(config)
        except CredentialsError:
            return []
    return [board_path(config, secret, device) for device in boards]
