"""The one paho-mqtt adapter of the project: every device and the dispatcher connect through it.

- :func:`make_client` builds a paho 2 client the way the project needs it: MQTT
  3.1.1, the VERSION2 callback API, TCP_NODELAY on every socket (Nagle costs
  about 40 ms a broker hop), a reconnect back-off, the retained QoS 1 will and
  credentials when given (none: anonymous, for a laptop or tests).
- :func:`device_client` is what every device and the dispatcher use: make_client
  with the device's own broker user (its id), its password from the file the site
  file names (:func:`credentials_for`), TLS when the site file configures it, and
  its retained status will. With no ``broker.credentials_dir`` in the site file it
  connects without credentials; a deployed broker refuses that, and says so.
- :class:`Connection` runs the client's network thread, survives a broker that
  is down at start or restarts, re-runs the ``on_connected`` callbacks after
  every (re)connect so subscriptions and retained "online" statuses come back,
  runs the ``on_disconnected`` ones when the connection ends, and logs a refused or lost connection once per change instead of per retry.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from antrian import protocol
from antrian.protocol import encode as encode_json
from antrian.errors import CredentialsError

if TYPE_CHECKING:
    from antrian.site import Config

__all__ = ["Connection", "CredentialsError", "check_credentials", "credentials_for", "device_client", "encode_json",
           "make_client", "parse_address", "password_file"]

log = logging.getLogger(__name__)

# CONNACK reason codes that mean "this device's credentials are wrong".
_AUTH_FAILURES = {134: "bad user name or password", 135: "not authorized"}
# A problem that lasts is logged again after this long (with the number of attempts),
# so a journal read hours later still shows it without a line per retry.
REMIND_SECONDS = 600.0
PASSWORD_SUFFIX = ".password"
# Who a client is, for the log lines of its Connection: set by device_client.
_WHO: weakref.WeakKeyDictionary[paho.Client, dict[str, Any]] = weakref.WeakKeyDictionary()


def password_file(config: Config, user: str) -> Path | None:
    """``<broker.credentials_dir>/<user>.password``, or None when the site file names no credentials."""
    directory = config.broker.credentials_dir
    return None if directory is None else Path(directory) / f"{user}{PASSWORD_SUFFIX}"


def credentials_for(config: Config, user: str) -> tuple[str, str] | None:
    """``(user, password)`` of a broker user (a device id, or ``monitor``), read from
    its password file; None when the site file configures no credentials.

    Raises CredentialsError naming the file when it is configured but missing,
    unreadable or not one line."""
    path = password_file(config, user)
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialsError(
            f"no broker password for {user!r}: {path} does not exist (broker.credentials_dir in {config.source}); "
            f"make it with `antrian broker-files --config {config.source}` and copy {path.name} to this "
            "machine (docs/operations.md)") from None
    except PermissionError:
        raise CredentialsError(f"cannot read the broker password of {user!r}: {path}: permission denied "
                               "(it must belong to the user this service runs as, mode 0600)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"cannot read the broker password of {user!r} from {path}: {exc}") from None
    password = text.strip()
    if not password or any(ch.isspace() for ch in password):
        raise CredentialsError(f"{path} must hold one line, the broker password of {user!r}")
    return user, password


def check_credentials(config: Config, user: str) -> None:
    """Raise CredentialsError now, with a one-line reason, if *user* could not connect the
    way the site file says: its password file or the broker's CA cannot be read."""
    credentials_for(config, user)
    tls = config.broker.tls
    if tls is not None:
        try:
            ssl.create_default_context(cafile=tls.ca)
        except (OSError, ssl.SSLError) as exc:
            raise CredentialsError(f"broker CA certificate {tls.ca} (broker.tls.ca in {config.source}) "
                                   f"cannot be used: {exc}") from None


def device_client(
    config: Config,
    device_id: str,
    role: str | None,
    *,
    will: bool = True,
    client_id: str | None = None,
    clean_session: bool = True,
) -> paho.Client:
    """The client of one device (or the dispatcher): make_client with
    this device's broker user and password, TLS when ``broker.tls`` is set, and (with
    *will*) the retained ``{"device", "role", "online": false}`` will on its status topic.

    Connect it with ``Connection(client).connect(host, config.broker.client_port)``.
    Raises CredentialsError when the configured password or CA file cannot be used."""
    site = config.site.id
    credentials = credentials_for(config, device_id)
    client = make_client(
        client_id or f"antrian-{site}-{device_id}",
        will_topic=protocol.status(site, device_id) if will else None,
        will_payload=protocol.device_will(device_id, role) if will else None,
        username=credentials[0] if credentials else None,
        password=credentials[1] if credentials else None,
        clean_session=clean_session,
    )
    tls = config.broker.tls
    if tls is not None:
        try:
            # Verifies the broker's certificate and its host name against the CA.
            client.tls_set(ca_certs=tls.ca, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        except (OSError, ssl.SSLError) as exc:
            raise CredentialsError(f"broker CA certificate {tls.ca} (broker.tls.ca in {config.source}) "
                                   f"cannot be used: {exc}") from None
    _WHO[client] = {
        "user": device_id if credentials else None,
        "file": str(password_file(config, device_id)) if credentials else None,
        "tls": tls is not None,
    }
    return client


def parse_address(text: str, default_port: int = 1883) -> tuple[str, int]:
    """``"host:port"``, ``"host"`` or ``"[::1]:port"`` -> ``(host, port)``."""
    raw = text.strip()
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else None
        bad = not sep or (rest and port_text is None)
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
        bad = False
    else:
        # No colon: a bare host. Several colons: a bare IPv6 address.
        host, port_text, bad = raw, None, False
    if bad or not host or any(ch.isspace() for ch in host):
        raise ValueError(f"bad broker address {text!r}: expected HOST or HOST:PORT")
    if port_text is None:
        return host, default_port
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"bad broker address {text!r}: port must be a number 1-65535")
    return host, int(port_text)


def _set_nodelay(client: paho.Client, userdata: Any, sock: Any) -> None:
    # Called for every new socket, so it holds after a reconnect too.
    if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def make_client(
    client_id: str,
    *,
    will_topic: str | None = None,
    will_payload: bytes | str | dict[str, Any] | None = None,
    username: str | None = None,
    password: str | None = None,
    clean_session: bool = True,
) -> paho.Client:
    """A paho client (MQTT 3.1.1, callback API VERSION2) set up for the project.

    ``clean_session=True`` by default: every device restores its subscriptions in
    its on_connected callback and reads the state from retained messages, so a
    broker-side session is not needed. A dict will payload is JSON-encoded.
    """
    if not client_id:
        raise ValueError("client_id must not be empty")
    if will_payload is not None and will_topic is None:
        raise ValueError("will_payload given without will_topic")
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=paho.MQTTv311,
    )
    client.on_socket_open = _set_nodelay
    # Back-off after a lost or refused connection: 0.2 s, doubling, capped at 30 s.
    client.reconnect_delay_set(min_delay=0.2, max_delay=30)  # type: ignore[arg-type]
    # paho logs only to a logger it is given; DEBUG shows every packet.
    client.enable_logger(logging.getLogger(f"{__name__}.paho"))
    if will_topic is not None:
        payload = encode_json(will_payload) if isinstance(will_payload, dict) else will_payload
        # Must be set before connecting; retained so a monitor that starts
        # later still sees the device offline.
        client.will_set(will_topic, payload, qos=1, retain=True)
    if username is not None:
        client.username_pw_set(username, password)
    return client


OnConnected = Callable[[paho.Client], None]


class Connection:
    """Runs a client's network thread and keeps it connected.

    The Connection owns the client's on_connect, on_disconnect and
    on_connect_fail callbacks; add yours with :meth:`on_connected`. Set
    on_message / message_callback_add on ``.client`` as usual.
    """

    def __init__(self, client: paho.Client) -> None:
        self.client = client
        self.address = ""
        self._callbacks: list[OnConnected] = []
        self._lost_callbacks: list[Callable[[], None]] = []
        self._connected = threading.Event()
        # The last state logged ("connecting", a problem, or None once
        # connected), so retries of the same failure stay quiet.
        self._problem: str | None = "connecting"
        self._logged_at = 0.0
        self._repeats = 0
        self.refusals = 0  # refused CONNACKs since the last successful connect
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail

    @property
    def client_id(self) -> str:
        # paho 2.1 keeps the id only in this private attribute, as bytes.
        return self.client._client_id.decode("utf-8", "replace")

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def on_connected(self, callback: OnConnected) -> OnConnected:
        """Run *callback(client)* after every successful (re)connect; usable as a decorator.

        Register before connect(). It runs on paho's network thread.
        """
        self._callbacks.append(callback)
        return callback

    def on_disconnected(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run *callback()* whenever the connection ends or an attempt is refused; usable
        as a decorator. It runs on paho's network thread."""
        self._lost_callbacks.append(callback)
        return callback

    def connect(self, host: str, port: int = 1883, keepalive: int = 30) -> None:
        """Start connecting in the background; never raises for a broker that is down."""
        self.address = f"{host}:{port}" + (" (TLS)" if _WHO.get(self.client, {}).get("tls") else "")
        # connect_async + loop_start: the first attempt happens on the network
        # thread, which retries with the back-off instead of raising here.
        self.client.connect_async(host, port, keepalive=keepalive)
        self.client.loop_start()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    def publish_json(self, topic: str, obj: Any, retain: bool = False, qos: int = 1) -> paho.MQTTMessageInfo:
        """Publish *obj* as JSON. While disconnected paho queues QoS 1 messages
        (``info.rc`` is then MQTT_ERR_NO_CONN) and sends them after the reconnect."""
        return self.client.publish(topic, encode_json(obj), qos=qos, retain=retain)

    def close(self) -> None:
        """Disconnect cleanly (the broker does not publish the will) and stop the thread."""
        self.client.disconnect()
        try:
            self.client.loop_stop()
        except AttributeError:
            # paho-mqtt 2.1 (issue #872): after DISCONNECT the network thread ends by itself
            # and clears the thread loop_stop was about to join. It has finished: nothing to wait for.
            pass
        self._connected.clear()

    def _report(self, problem: str | None, level: int, message: str, *args: Any) -> None:
        now = time.monotonic()
        if problem != self._problem:
            self._problem, self._logged_at, self._repeats = problem, now, 0
            log.log(level, message, *args)
        elif problem is not None:
            self._repeats += 1
            if now - self._logged_at >= REMIND_SECONDS:
                self._logged_at = now
                log.log(level, message + " (still so, %d more attempt(s) since first reported)", *args, self._repeats)

    def _who(self) -> str:
        who = _WHO.get(self.client)
        if who is None:
            return ""
        if who["user"] is None:
            return ("; this device has no broker credentials configured (broker.credentials_dir is not set in "
                    "the site file) and this broker requires them")
        return (f": it does not accept user {who['user']!r} with the password in {who['file']} (that file and "
                "the broker's passwd must come from the same run of `antrian broker-files`; docs/operations.md)")

    def _on_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.refusals += 1
            hint = _AUTH_FAILURES.get(reason.value)
            if hint:
                self._report(
                    f"refused:{reason.value}", logging.WARNING,
                    "MQTT client %r: broker %s refused the connection: %s (reason %d)%s; "
                    "retrying with back-off",
                    self.client_id, self.address, hint, reason.value,
                    self._who() or "; check this device's broker user name and password",
                )
            else:
                self._report(
                    f"refused:{reason.value}", logging.WARNING,
                    "MQTT client %r: broker %s refused the connection: %s (reason %d)",
                    self.client_id, self.address, reason, reason.value,
                )
            return
        self.refusals = 0
        self._report(None, logging.INFO, "MQTT client %r connected to %s", self.client_id, self.address)
        for callback in list(self._callbacks):
            # An exception escaping a paho callback kills the network thread
            # (suppress_exceptions is off), so one bad callback is logged and
            # the others still run.
            try:
                callback(client)
            except Exception:
                log.exception("MQTT client %r: on_connected callback %r failed", self.client_id, callback)
        # Set last: a waiter may rely on the subscriptions being sent.
        self._connected.set()

    def _on_disconnect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        # paho also calls this after a refused CONNACK; that was reported already.
        if was_connected and reason.is_failure:
            self._report(
                "lost", logging.WARNING,
                "MQTT client %r lost its connection to %s (%s); reconnecting",
                self.client_id, self.address, reason,
            )
        for callback in list(self._lost_callbacks):
            try:
                callback()
            except Exception:
                log.exception("MQTT client %r: on_disconnected callback %r failed", self.client_id, callback)

    def _on_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        tls = _WHO.get(self.client, {}).get("tls")
        self._report(
            "unreachable", logging.WARNING,
            "MQTT client %r cannot reach broker %s%s; retrying with back-off",
            self.client_id, self.address,
            " or the TLS handshake failed (is broker.tls.ca the CA that signed the broker's certificate, "
            "and the broker's address one of the certificate's names?)" if tls else "",
        )
