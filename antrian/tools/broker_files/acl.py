"""Who may do what on the broker: the users of a site (its devices, the web apps among
them, and the technician's monitor) and the ACL file that gives each one exactly its own
topics.

A device's topics come from the wing that owns its role (antrian/wings.py); every topic
is built by antrian.protocol.
"""

from __future__ import annotations

import dataclasses

from antrian import protocol, wings
from antrian.errors import BrokerFilesError
from antrian.site import Config

# A technician's read-only user for mosquitto_sub. Its own, because the broker makes the
# user name the client id: watching as the dispatcher would throw the dispatcher off.
MONITOR_USER = "monitor"


@dataclasses.dataclass(frozen=True)
class User:
    name: str
    role: str  # a device's role (dispatcher, kiosk, display, panel, web, ...) or monitor


def dispatcher_ids(config: Config) -> list[str]:
    """The dispatcher's broker user(s): its device id in the site file, else ``dispatcher``."""
    return config.dispatcher_ids()


def users(config: Config) -> list[User]:
    """Every broker user of the site, in site-file order, then the monitor. (The head's
    dashboard is the staff web app: a device of the site file with its own user.)"""
    found = [User(d.id, d.role) for d in config.devices.values()]
    if not any(u.role == "dispatcher" for u in found):
        found.insert(0, User("dispatcher", "dispatcher"))
    if any(u.name == MONITOR_USER for u in found):
        raise BrokerFilesError(f"{config.source}: the device id {MONITOR_USER!r} is a broker user of the project "
                               "(the technician's monitor); give that device another id")
    return found + [User(MONITOR_USER, "monitor")]


def topics_of(config: Config, user: User) -> list[tuple[str, str]]:
    """``(access, topic filter)`` pairs of one user, besides its own status topic.

    A device's topics come from the wing that owns its role (its ``acl``, made from
    what that part really subscribes to and publishes); the monitor's are the core's own."""
    site = config.site.id
    if user.role == "monitor":
        # Everything of the site, its bridge's state and the broker's own, read only: no
        # status of its own either (acl_text), so it can publish nothing at all.
        return [("read", protocol.site_filter(site)), ("read", protocol.bridge(site)), ("read", "$SYS/#")]
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
        "# Each user writes only its own retained status (also the topic of its will), named",
        "# in its own section: a pattern with %u would give the read-only monitor one too,",
        "# and a status of its own is as good as a fake device's status to the dashboard.",
    ]
    for user in users(config):
        lines += ["", f"# {user.role}", f"user {user.name}"]
        if user.role != "monitor":
            lines.append(f"topic readwrite {protocol.status(site, user.name)}")
        lines += [f"topic {access} {topic}" for access, topic in topics_of(config, user)]
    return "\n".join(lines) + "\n"
