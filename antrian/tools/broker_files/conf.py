"""The broker's mosquitto.conf for a site: no anonymous clients, the password file and
ACL, the LAN listener, the optional TLS and WebSocket listeners, persistence, the limits
on what one client can make the broker hold (antrian/adapters/mosquitto.py limit_lines,
shared with the local configuration), logging, and the bridge to a central broker when
the site file names one (the site's topics out, the remote counters' commands in)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from antrian import protocol
from antrian.adapters.mosquitto import limit_lines
from antrian.errors import BrokerFilesError
from antrian.site import Config

DEFAULT_DATA_DIR = "/var/lib/mosquitto"
PASSWD_NAME, ACL_NAME, CONF_NAME = "passwd", "acl", "mosquitto.conf"
_SAME_ID = "use_username_as_clientid true"


def bridge_section(config: Config) -> str:
    """The bridge that carries ``antrian/{site}/#`` out to the central broker and the
    commands of the site's remote counters in, or ''."""
    central = config.broker.central
    if central is None:
        return ""
    site = config.site.id
    remote = [c.id for c in config.counters.values() if c.remote]
    lines = [
        "",
        "# -- Bridge to the central broker -----------------------------------------------",
        "# Everything of this site goes out. Nothing comes in but the commands of the",
        "# remote counters (served by video call from another office, whose officer's",
        "# staff app reaches this site through the centre): the centre can drive those",
        "# counters and nothing else, and only as the centre's ACL lets its users write",
        "# their command topics. A command that came in never goes back out over the",
        "# bridge (Mosquitto does not return a message to the bridge it came from, and",
        "# the bridge connects as one, so the centre does not send back what the site",
        "# sent); a copy that came back anyway would be answered with its first reply",
        "# (the dispatcher's exactly once by sender and id).",
        "# While the centre is unreachable the site works on; messages for the centre wait",
        "# in this broker's queue for the bridge (up to max_queued_messages and",
        "# max_queued_bytes; past them the newest are dropped) and go out",
        "# after the reconnect. Retry after 2 s, backing off to 60 s.",
        f"connection antrian-{site}-central",
        f"address {central.host}:{central.port}",
        f"topic {protocol.site_filter(site)} out 1",
        *(f"topic {protocol.counter_command(site, counter)} in 1" for counter in remote),
        "try_private true",
        f"remote_clientid antrian-{site}-bridge",
        "cleansession false",
        "bridge_protocol_version mqttv311",
        "restart_timeout 2 60",
        "keepalive_interval 30",
        # The bridge's state at both ends (protocol.bridge): the remote officers' staff app
        # locks its consoles while the site is cut off from the centre.
        "notifications true",
        "notifications_local_only false",
        f"notification_topic {protocol.bridge(site)}",
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
        "",
        "# What one client can make the broker hold: the largest packet (a bigger one",
        "# disconnects its sender), each client's queue of undelivered QoS 1 messages in",
        "# messages and bytes (past them the newest are dropped), the broker's heap.",
        limit_lines(),
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
