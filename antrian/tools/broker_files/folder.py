"""Writing a site's broker files into one folder (``antrian broker-files``): each user's
password file, the passwd file of hashes, the ACL and mosquitto.conf, atomically and
with their modes from the start; existing passwords are kept unless rotated."""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from antrian.adapters.mqtt import PASSWORD_SUFFIX
from antrian.errors import BrokerFilesError
from antrian.links import MIN_SECRET, SECRET_NAME
from antrian.site import Config
from antrian.tools.broker_files.acl import acl_text, users
from antrian.tools.broker_files.conf import ACL_NAME, CONF_NAME, DEFAULT_DATA_DIR, PASSWD_NAME, mosquitto_conf
from antrian.tools.broker_files.passwords import check_password, hash_password, new_password


@dataclasses.dataclass
class Summary:
    out: Path
    created: list[str] = dataclasses.field(default_factory=list)
    kept: list[str] = dataclasses.field(default_factory=list)
    rotated: list[str] = dataclasses.field(default_factory=list)
    stale: list[str] = dataclasses.field(default_factory=list)  # password files of users no longer in the site
    secret: str = "kept"  # site.secret (antrian/links.py): "new" when this run made it


def _write(path: Path, text: str, mode: int) -> None:
    """Atomically, with *mode* from the start (a secret is never readable by others)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)  # O_CREAT's mode is cut by the umask, and an old tmp keeps its own
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_secret(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BrokerFilesError(f"cannot read {path}: {exc}") from None
    return text if text and not any(ch.isspace() for ch in text) else None


def _site_secret(path: Path) -> str:
    """The site secret of the web addresses (antrian/links.py), mode 0600: kept when it is
    there, for a new one would make every ticket's link of the day a 404."""
    text = _read_secret(path)
    if text is not None and len(text) >= MIN_SECRET:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return "kept"
    _write(path, secrets.token_hex(32) + "\n", 0o600)
    return "new"


def _read_passwd(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise BrokerFilesError(f"cannot read {path}: {exc}") from None
    out = {}
    for line in text.splitlines():
        name, sep, stored = line.partition(":")
        if sep and not line.startswith("#"):
            out[name] = stored
    return out


def write(config: Config, out: str | os.PathLike[str] | None = None, *, rotate: Iterable[str] | None = None,
          data_dir: str | os.PathLike[str] = DEFAULT_DATA_DIR, run_as: str | None = None) -> Summary:
    """Make or update the broker files of *config* in *out* (default: broker.credentials_dir).

    rotate: None keeps every existing password; an empty iterable renews all of them;
    names renew those users' passwords only."""
    if out is None:
        if config.broker.credentials_dir is None:
            raise BrokerFilesError(f"give --out, or set broker.credentials_dir in {config.source}")
        out = config.broker.credentials_dir
    folder = Path(out)
    every = users(config)
    names = [u.name for u in every]
    renew: set[str] = set()
    if rotate is not None:
        wanted = list(rotate)
        unknown = [n for n in wanted if n not in names]
        if unknown:
            raise BrokerFilesError(f"--rotate: no broker user {', '.join(map(repr, unknown))} "
                                   f"(known: {', '.join(names)})")
        renew = set(wanted or names)
    tls = config.broker.tls
    if tls is not None and not (tls.cert and tls.key):
        raise BrokerFilesError(f"broker.tls in {config.source} needs cert and key, the broker's certificate "
                               "and private key (broker-config/make-ca.sh makes them)")
    # Built before anything is written, so a missing central password leaves the folder as it was.
    # With TLS the devices use the TLS listener; the plain one stays for tools on the broker's machine.
    conf = mosquitto_conf(config, folder, port=config.broker.port, bind="127.0.0.1" if tls else None,
                          tls_port=tls.port if tls else None,
                          websocket_port=config.broker.websocket_port, data_dir=data_dir, run_as=run_as)
    acl = acl_text(config)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BrokerFilesError(f"cannot make {folder}: {exc.strerror or exc}") from None
    summary = Summary(folder)
    old_hashes = _read_passwd(folder / PASSWD_NAME)
    lines = [f"# Broker users of site {config.site.id!r}, made by `antrian broker-files`. Do not edit."]
    try:
        for name in names:
            secret_path = folder / f"{name}{PASSWORD_SUFFIX}"
            password = _read_secret(secret_path)
            if password is None or name in renew:
                (summary.rotated if password is not None else summary.created).append(name)
                password = new_password()
                _write(secret_path, password + "\n", 0o600)
            else:
                summary.kept.append(name)
                if secret_path.stat().st_mode & 0o077:
                    os.chmod(secret_path, 0o600)
            stored = old_hashes.get(name)
            if stored is None or not check_password(stored, password):
                stored = hash_password(password)
            lines.append(f"{name}:{stored}")
        _write(folder / PASSWD_NAME, "\n".join(lines) + "\n", 0o640)
        summary.secret = _site_secret(folder / SECRET_NAME)
        _write(folder / ACL_NAME, acl, 0o640)
        _write(folder / CONF_NAME, conf, 0o640)
    except OSError as exc:
        raise BrokerFilesError(f"cannot write into {folder}: {exc.strerror or exc}") from None
    summary.stale = sorted(p.name for p in folder.glob(f"*{PASSWORD_SUFFIX}")
                           if p.name[: -len(PASSWORD_SUFFIX)] not in names)
    return summary
