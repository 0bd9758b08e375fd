"""The broker files of a site, made from its site file: ``antrian broker-files``.

    antrian broker-files --config /etc/antrian/site.yaml --out /etc/antrian/credentials

writes into OUT (by default the site file's ``broker.credentials_dir``):

- ``<user>.password``: one per broker user, a strong random password on one line,
  mode 0600. The users are the devices of the site file (their ids), the dispatcher
  (``dispatcher`` when the site file names none), ``dashboard`` and ``monitor`` (a
  technician's read-only user for mosquitto_sub). A device reads
  its own file from its ``credentials_dir`` (antrian.adapters.mqtt.credentials_for), so OUT is
  that folder on the broker's machine, and each device Pi gets a copy of its own file.
  Existing passwords are kept when the command runs again; ``--rotate`` makes new ones.
- ``passwd``: the Mosquitto 2 password file: PBKDF2-SHA512 hashes in the ``$7$``
  format that ``mosquitto_passwd`` writes (mode 0640).
- ``acl``: each user's topics, least privilege, as DESIGN.md's Security section says
  (see :func:`acl_text`).
- ``mosquitto.conf``: no anonymous clients, the password file and ACL, persistence,
  the LAN listener, an optional TLS listener and WebSocket listener from the site
  file, ``set_tcp_nodelay``, and the bridge to a central broker when the site file
  names one (mode 0640: the bridge's password is in it).

Every topic comes from antrian.protocol. Standard library only.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

from antrian import protocol, wings
from antrian.site import Config
from antrian.adapters.mqtt import PASSWORD_SUFFIX
from antrian.errors import BrokerFilesError

__all__ = ["BrokerFilesError", "DASHBOARD_USER", "Summary", "User", "acl_text", "bridge_section",
           "check_password", "hash_password", "mosquitto_conf", "site_renderer", "users", "write"]

DASHBOARD_USER = "dashboard"
# A technician's read-only user for mosquitto_sub. Its own, because the broker makes the
# user name the client id: watching as the dispatcher would throw the dispatcher off.
MONITOR_USER = "monitor"
DEFAULT_DATA_DIR = "/var/lib/mosquitto"
PASSWD_NAME, ACL_NAME, CONF_NAME = "passwd", "acl", "mosquitto.conf"
# Mosquitto 2's own default (mosquitto_passwd -I). The passwords are 192-bit random
# strings, so the iteration count is not what protects them; a cheap hash keeps the
# CONNECT of thirty devices after a power cut quick on a Pi.
ITERATIONS = 101
_SALT_BYTES = 12  # as mosquitto_passwd
_SAME_ID = "use_username_as_clientid true"
_PASSWORD_BYTES = 24  # 32 characters of base64url


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    role: str  # dispatcher, kiosk, display, panel or dashboard


@dataclasses.dataclass
class Summary:
    out: Path
    created: list[str] = dataclasses.field(default_factory=list)
    kept: list[str] = dataclasses.field(default_factory=list)
    rotated: list[str] = dataclasses.field(default_factory=list)
    stale: list[str] = dataclasses.field(default_factory=list)  # password files of users no longer in the site


# -- passwords -------------------------------------------------------------------------


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


# -- who may do what ----------------------------------------------------------------------


def dispatcher_ids(config: Config) -> list[str]:
    """The dispatcher's broker user(s): its device id in the site file, else ``dispatcher``."""
    return config.dispatcher_ids()


def users(config: Config) -> list[User]:
    """Every broker user of the site, in site-file order, then the dashboard and the monitor."""
    found = [User(d.id, d.role) for d in config.devices.values()]
    if not any(u.role == "dispatcher" for u in found):
        found.insert(0, User("dispatcher", "dispatcher"))
    for name in (DASHBOARD_USER, MONITOR_USER):
        if any(u.name == name for u in found):
            raise BrokerFilesError(f"{config.source}: the device id {name!r} is a broker user of the project "
                                   "(the dashboard's, the technician's monitor); give that device another id")
    return found + [User(DASHBOARD_USER, "dashboard"), User(MONITOR_USER, "monitor")]


def topics_of(config: Config, user: User) -> list[tuple[str, str]]:
    """``(access, topic filter)`` pairs of one user, besides its own status topic.

    A device's topics come from the wing that owns its role (its ``acl``, made from
    what that part really subscribes to and publishes); the dashboard's and the
    monitor's are the core's own."""
    site = config.site.id
    if user.role == "dashboard":
        return [("read", protocol.board(site)), ("read", protocol.catalog(site)),
                ("read", protocol.counter_state(site, "+")), ("read", protocol.status(site, "+")),
                ("read", protocol.kiosk_reply(site, "+"))]
    if user.role == "monitor":
        # Everything of the site and the broker's own state (the bridge's connection), read only.
        return [("read", protocol.site_filter(site)), ("read", "$SYS/#")]
    role = wings.registry().role(user.role)
    if role is None or role.acl is None:
        raise BrokerFilesError(f"no broker topics for role {user.role!r}{wings.registry().missing()}")
    return role.acl(config, user.name)


def acl_text(config: Config) -> str:
    site = config.site.id
    lines = [
        f"# Mosquitto ACL of site {site!r}, made by `antrian broker-files` from {config.source}.",
        "# Do not edit: change the site file and run antrian broker-files again.",
        "# Anything not granted here is refused: a publish is dropped (MQTT 5: PUBACK 'not",
        "# authorized'), a subscription delivers nothing.",
        "",
        "# Every user: its own retained status, which is also the topic of its will.",
        f"pattern readwrite {protocol.status(site, '%u')}",
    ]
    for user in users(config):
        lines += ["", f"# {user.role}", f"user {user.name}"]
        lines += [f"topic {access} {topic}" for access, topic in topics_of(config, user)]
    return "\n".join(lines) + "\n"


# -- mosquitto.conf -----------------------------------------------------------------------------


def bridge_section(config: Config) -> str:
    """The bridge that carries ``antrian/{site}/#`` out to the central broker, or ''."""
    central = config.broker.central
    if central is None:
        return ""
    site = config.site.id
    lines = [
        "",
        "# -- Bridge to the central broker -----------------------------------------------",
        "# Everything of this site goes out (never in: the centre cannot command the site).",
        "# While the centre is unreachable the site works on; messages for the centre wait",
        "# in this broker's queue for the bridge (up to max_queued_messages) and go out",
        "# after the reconnect. Retry after 2 s, backing off to 60 s.",
        f"connection antrian-{site}-central",
        f"address {central.host}:{central.port}",
        f"topic {protocol.site_filter(site)} out 1",
        f"remote_clientid antrian-{site}-bridge",
        "cleansession false",
        "bridge_protocol_version mqttv311",
        "restart_timeout 2 60",
        "keepalive_interval 30",
        "notifications true",
        "notifications_local_only true",
    ]
    if central.username:
        lines.append(f"remote_username {central.username}")
    if central.password_file:
        try:
            password = Path(central.password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise BrokerFilesError(f"broker.central.password_file {central.password_file}: "
                                   f"{exc.strerror or exc}") from None
        if not password or any(ch.isspace() for ch in password):
            raise BrokerFilesError(f"{central.password_file} must hold one line, the password the centre gave")
        lines.append(f"remote_password {password}")
    if central.ca:
        lines += [f"bridge_cafile {central.ca}", "bridge_insecure false"]
    return "\n".join(lines) + "\n"


def mosquitto_conf(
    config: Config,
    files_dir: str | os.PathLike[str],
    *,
    port: int,
    bind: str | None = None,
    tls_port: int | None = None,
    websocket_port: int | None = None,
    data_dir: str | os.PathLike[str] = DEFAULT_DATA_DIR,
    run_as: str | None = None,
    bridge: bool = True,
) -> str:
    """The broker's configuration for this site (see the module doc). *bind* None
    listens on every interface; a TLS listener needs ``broker.tls`` cert and key."""
    files = Path(files_dir).resolve()
    data = str(Path(data_dir).resolve()).rstrip("/") + "/"
    for name, value in (("files folder", str(files)), ("data folder", data), ("bind", bind or "x")):
        if any(ch.isspace() for ch in value):
            raise BrokerFilesError(f"broker {name} must have no spaces: {value!r}")
    tls = config.broker.tls
    lines = [
        f"# Mosquitto 2 configuration of site {config.site.id!r}, made by `antrian broker-files`",
        f"# from {config.source}. Do not edit: change the site file and run it again.",
        "",
        "# Each device has its own user (its id) and only its own topics (the ACL).",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {files / PASSWD_NAME}",
        f"acl_file {files / ACL_NAME}",
        "",
        "# Every listener: the client id is the user name, whatever the client sends, so a",
        "# device whose password leaked cannot take over the dispatcher's session or throw",
        "# another device off. (A listener setting: written before the first listener, Mosquitto",
        "# 2.0 would open an extra default listener on port 1883 for it.)",
        "",
        "# The LAN listener" + (" (loopback only: the devices use the TLS listener)." if tls_port else "."),
        f"listener {port}" + (f" {bind}" if bind else ""),
        _SAME_ID,
    ]
    if tls_port is not None:
        if tls is None or not tls.cert or not tls.key:
            raise BrokerFilesError("a TLS listener needs broker.tls with ca, cert and key in the site file "
                                   "(broker-config/make-ca.sh makes them)")
        lines += ["", "# TLS listener: devices verify the broker with the CA (broker.tls.ca).",
                  f"listener {tls_port}", _SAME_ID, f"cafile {tls.ca}", f"certfile {tls.cert}",
                  f"keyfile {tls.key}", "tls_version tlsv1.2"]
    if websocket_port is not None:
        lines += ["", "# WebSocket listener, for a browser client (same users and ACL).",
                  f"listener {websocket_port}", "protocol websockets", _SAME_ID]
    lines += [
        "",
        "# Nagle's algorithm costs ~40 ms a hop; the request -> reply path takes ~3 ms without it.",
        "set_tcp_nodelay true",
        "",
        "# Retained state and sessions survive a restart; a power cut loses at most",
        "# autosave_interval seconds of it, and the dispatcher republishes its retained",
        "# state on every reconnect.",
        "persistence true",
        f"persistence_location {data}",
        "persistence_file mosquitto.db",
        "autosave_interval 60",
        "max_queued_messages 5000",
        "",
        "# To the journal (journalctl -u antrian-broker).",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
        "log_timestamp true",
        "log_timestamp_format %Y-%m-%dT%H:%M:%S",
    ]
    if run_as:
        lines += ["", f"user {run_as}"]
    text = "\n".join(lines) + "\n"
    return text + (bridge_section(config) if bridge else "")


def site_renderer(config: Config, files_dir: str | os.PathLike[str], *, tls_port: int | None = None,
                  websocket_port: int | None = None, bridge: bool = True) -> Callable[[int, Path, str, str], str]:
    """For LocalBroker(render=...): this site's secured configuration on the launcher's
    port, bind address, data folder and user (tests, ``antrian up``)."""
    if not (Path(files_dir) / PASSWD_NAME).is_file() or not (Path(files_dir) / ACL_NAME).is_file():
        raise BrokerFilesError(f"no {PASSWD_NAME} and {ACL_NAME} in {files_dir}: make them with "
                               f"antrian broker-files --config {config.source}")

    def render(port: int, data_dir: Path, bind: str, user: str) -> str:
        return mosquitto_conf(config, files_dir, port=port, bind=bind, tls_port=tls_port,
                              websocket_port=websocket_port, data_dir=data_dir, run_as=user, bridge=bridge)

    return render


# -- writing ----------------------------------------------------------------------------------------


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
        _write(folder / ACL_NAME, acl, 0o640)
        _write(folder / CONF_NAME, conf, 0o640)
    except OSError as exc:
        raise BrokerFilesError(f"cannot write into {folder}: {exc.strerror or exc}") from None
    summary.stale = sorted(p.name for p in folder.glob(f"*{PASSWORD_SUFFIX}")
                           if p.name[: -len(PASSWORD_SUFFIX)] not in names)
    return summary
