"""The options of a ``role: web`` device (one of the browser apps) in the site file.

Pure: no web library. `SCHEMA` is the ``web`` role's schema (checked by
``antrian check-config``, listed in docs/site-file.md); `read` gives the app the same
options as a frozen object.

    - id: web1
      role: web
      name: Dasbor kepala MPP
      listen: 0.0.0.0:8080       # where the app listens
      users: web-users           # the staff app's users file (antrian web-user)
    - id: publik1
      role: web
      public: true               # citizen pages only; may face the internet
      public_url: https://antrean.butonkab.go.id   # printed in the ticket's QR
      listen: 127.0.0.1:8081     # behind the reverse proxy
    - id: web-daring
      role: web
      central: true              # at another office, through the central broker (remote counters)
"""

from __future__ import annotations

import dataclasses
import re

from antrian.site import Config, ConfigError
from antrian.site.schema import Field, Flag, Problems, Section, Text, Whole, check

__all__ = ["SCHEMA", "WebOptions", "read"]

_LISTEN = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]{1,253}):[0-9]{1,5}$")
_URL = re.compile(r"^https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")
_PROXIES = re.compile(r"^[0-9A-Fa-f:.,/* ]{1,400}$")


@dataclasses.dataclass(frozen=True)
class WebOptions:
    """One browser app's settings; paths are as written (relative to the site file's folder)."""

    public: bool = False
    public_url: str | None = None
    listen: str | None = None
    users: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    forwarded_allow_ips: str = "127.0.0.1"
    max_clients: int = 400
    central: bool = False

    @property
    def default_listen(self) -> str:
        return "0.0.0.0:8081" if self.public else "0.0.0.0:8080"


_D = WebOptions()


def _rules(value: dict, path: str, report, context: dict) -> None:
    """public_url only on a public app; tls_cert and tls_key come together; a users
    file only on the staff app."""
    if value.get("public_url") and not value.get("public"):
        report(f"{path}.public_url", "only a public app (public: true) has a public_url")
    if value.get("users") and value.get("public"):
        report(f"{path}.users", "a public app has no logins; give the users file to the staff app")
    if value.get("central") and value.get("public"):
        report(f"{path}.central", "only a staff app (the remote officers') connects through the central broker")
    if bool(value.get("tls_cert")) != bool(value.get("tls_key")):
        report(f"{path}.tls_key" if value.get("tls_cert") else f"{path}.tls_cert",
               "tls_cert and tls_key come together (HTTPS needs both)")


SCHEMA = Section({
    "public": Field(Flag(), "true: the public app (citizen pages only, no login; may face the internet behind "
                    "a reverse proxy); false: the staff app on the LAN (login)", default=_D.public, example=False),
    "public_url": Field(Text(_URL, "an address like https://antrean.example.go.id"),
                        "public app: the address citizens reach it at; with it every ticket carries a link "
                        "to its live page and the printed QR holds it", example="https://antrean.butonkab.go.id"),
    "listen": Field(Text(_LISTEN, "HOST:PORT such as 0.0.0.0:8080"),
                    "where the app listens (default 0.0.0.0:8080 for the staff app, 0.0.0.0:8081 for the public "
                    "one); --listen overrides it", example="0.0.0.0:8080"),
    "users": Field(Text(), "staff app: the users file made by `antrian web-user` (relative: from the site "
                   "file's folder); --users overrides it", example="/etc/antrian/web-users"),
    "tls_cert": Field(Text(), "HTTPS: the certificate (e.g. broker-config/make-ca.sh's server.crt)",
                      example="/etc/antrian/tls/server.crt"),
    "tls_key": Field(Text(), "HTTPS: the certificate's key", example="/etc/antrian/tls/server.key"),
    "forwarded_allow_ips": Field(Text(_PROXIES, "addresses separated by commas"),
                                 "the reverse proxies whose X-Forwarded-For is believed (the citizen's address "
                                 "for rate limits)", default=_D.forwarded_allow_ips, example="127.0.0.1"),
    "max_clients": Field(Whole(10, 5000), "open pages (boards, dashboards, citizens' tickets) at once; more "
                         "get 'busy, try again'", default=_D.max_clients, example=400),
    "central": Field(Flag(), "staff app: true for the remote officers' app at another office, connected to the "
                     "central broker: it follows the site's bridge and locks its consoles while the site is cut "
                     "off from the centre", default=_D.central, example=False),
}, "a browser app: the staff app or the public app", what="a web app", rule=_rules)


def follows_bridge(config: Config, device_id: str) -> bool:
    """Whether web device *device_id* reads the site's bridge state (protocol.bridge): the
    remote officers' app (``central: true``) locks its consoles on it; a site's own staff
    app, when the site has a bridge, shows it on the dashboard. A public app never."""
    device = config.devices.get(device_id)
    options = device.options if device is not None else {}
    return bool(options.get("central")) or (config.broker.central is not None and not options.get("public"))


def read(config: Config, device_id: str) -> WebOptions:
    """The options of web device *device_id*, defaults filled in (ConfigError if there is
    no such device)."""
    device = config.device(device_id, "web")
    problems = Problems()
    index = list(config.devices).index(device_id)
    options = check(SCHEMA, device.options, f"devices[{index}]", problems, {"config": config})
    if problems:  # only for a Config that did not come through load()
        raise ConfigError(config.source, problems)
    return WebOptions(**options)
