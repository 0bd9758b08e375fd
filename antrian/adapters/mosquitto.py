"""Start and stop the project's own Mosquitto broker (development, tests, `antrian broker`).

The configuration comes from the template ``broker-config/mosquitto.conf`` in the
repository checkout: :func:`render_config` fills its ``@PORT@``, ``@BIND@``,
``@DATA_DIR@``, ``@USER@`` and ``@LIMITS@`` placeholders. The limits (:func:`limit_lines`:
packet size, each client's queue, the broker's heap) are written here once, for this
configuration and for the deployed one of ``antrian broker-files``. :class:`LocalBroker` runs it in the
background (tests, fault tests, local demos) and :func:`run_foreground` runs it
until Ctrl-C or SIGTERM (the ``antrian broker`` command).

Nothing here touches a system broker on port 1883: a :class:`LocalBroker` without
a port picks a free one, and starting on a port that is already taken fails
instead of silently talking to whatever listens there.

Standard library only, so the dispatcher's Pi can run it without extras.
"""

from __future__ import annotations

import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import deque
from pathlib import Path
from types import FrameType, TracebackType
from typing import Callable
from antrian.errors import BrokerError

__all__ = [
    "DEFAULT_TEMPLATE",
    "BrokerError",
    "LocalBroker",
    "MAX_PACKET_SIZE",
    "MAX_QUEUED_BYTES",
    "MAX_QUEUED_MESSAGES",
    "MEMORY_LIMIT",
    "find_mosquitto",
    "free_port",
    "render_config",
    "run_foreground",
]

# The package is used from the repository checkout (editable install or
# PYTHONPATH), so the template is found next to it rather than copied in.
DEFAULT_TEMPLATE = Path(__file__).resolve().parents[2] / "broker-config" / "mosquitto.conf"

# Debian puts mosquitto in /usr/sbin, which is not on a normal user's PATH.
_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin")

_START_TIMEOUT = 5.0
_STOP_TIMEOUT = 5.0
_POLL_INTERVAL = 0.01
_LOG_TAIL_LINES = 15
_CONF_NAME = "mosquitto.conf"
_LOG_NAME = "mosquitto.log"

# What one client can make the broker hold (docs/operations.md, "The broker's limits").
# The largest legitimate message is the retained catalog: 89 KB for 40 agencies with 200
# services and 40 counters (bench/broker_limits.py); the board of that site is 10 KB.
# A packet over MAX_PACKET_SIZE (Mosquitto 2.0.11 counts it without the bytes of its
# length field) gets its sender disconnected before the broker reads its body, so it is
# never held; 512 KiB leaves the catalog a margin of about 6.
MAX_PACKET_SIZE = 512 * 1024
# A client's queue of QoS 1 messages not yet delivered: the dispatcher's persistent
# session while it is down, a slow board, the bridge while the centre is away. A request
# is about 200 bytes, so 5,000 of them are 1 MB; the byte limit stops a device that sends
# big payloads. Past either limit Mosquitto drops the newest messages for that client.
MAX_QUEUED_MESSAGES = 5000
MAX_QUEUED_BYTES = 8 * 1024 * 1024
# The broker's heap, a last guard for what the limits above do not bound (a client that
# subscribes to a million topics, hundreds of half-sent packets): past it the message is
# dropped and its sender disconnected, instead of the Pi running out of memory.
MEMORY_LIMIT = 128 * 1024 * 1024


def limit_lines() -> str:
    """The limit settings of mosquitto.conf (global settings, one a line)."""
    return "\n".join([f"max_packet_size {MAX_PACKET_SIZE}", f"max_queued_messages {MAX_QUEUED_MESSAGES}",
                      f"max_queued_bytes {MAX_QUEUED_BYTES}", f"memory_limit {MEMORY_LIMIT}"])


# Ports for listeners are drawn below the kernel's ephemeral range: a port from inside it can
# be taken, between free_port() and the broker's bind, as the local port of any outgoing
# connection on the machine (a test's client, the bridge), and Mosquitto then exits with
# "Unable to create websockets listener". Above the registered services most Pis run.
_LISTEN_PORTS_FROM = 10000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_low() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on *host* that nothing is bound to right now.

    Drawn at random between 10000 and the start of the kernel's ephemeral range, so it is
    never 1883 and no outgoing connection takes it by chance; the kernel's own pick when
    that range is too small. Another process may still take it before the caller binds it;
    start() reports that.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    span = range(_LISTEN_PORTS_FROM, _ephemeral_low())
    candidates = random.sample(span, 50) if len(span) >= 1000 else []
    for port in [*candidates, 0]:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise BrokerError(f"no free TCP port on {host}")


def find_mosquitto() -> str:
    """Return the path of the mosquitto executable, or raise BrokerError with a hint."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for directory in _SBIN_DIRS:
        candidate = Path(directory) / "mosquitto"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BrokerError(
        "mosquitto not found on PATH or in /usr/sbin, /usr/local/sbin: apt-get install mosquitto"
    )


def _current_user() -> str:
    # Only matters when running as root (mosquitto then switches to this user),
    # and uid 0 always has a name; a uid without a passwd entry (some
    # containers) is not root, so any value is harmless there.
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def render_config(
    port: int,
    data_dir: str | os.PathLike[str],
    bind: str = "127.0.0.1",
    template: str | os.PathLike[str] = DEFAULT_TEMPLATE,
) -> str:
    """Return the mosquitto.conf text for a broker on *bind*:*port* keeping its data in *data_dir*."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise BrokerError(f"broker port must be an integer 1-65535, got {port!r}")
    data = str(Path(data_dir).resolve())
    values = {"PORT": str(port), "BIND": bind, "DATA_DIR": data.rstrip("/"), "USER": _current_user()}
    for name, value in values.items():
        # mosquitto.conf is line based and splits on spaces: a value with white
        # space would silently become a different setting.
        if not value or any(ch.isspace() for ch in value):
            raise BrokerError(f"broker {name.lower()} must be non-empty without spaces, got {value!r}")
    path = Path(template)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BrokerError(f"broker config template not found: {path}") from None
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    text = text.replace("@LIMITS@", limit_lines())
    # A misspelt placeholder would reach mosquitto as a literal value.
    unknown = sorted(set(re.findall(r"@[A-Z_]+@", text)))
    if unknown:
        raise BrokerError(f"broker config template {path} has unknown placeholders: {', '.join(unknown)}")
    return text


def _port_in_use(host: str, port: int) -> bool:
    # SO_REUSEADDR like mosquitto, so connections in TIME_WAIT left by a broker
    # we just stopped do not count; on Linux a listening socket still does.
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _connect_host(bind: str) -> str:
    # A wildcard bind address is reached over loopback.
    if bind in ("", "0.0.0.0"):
        return "127.0.0.1"
    if bind == "::":
        return "::1"
    return bind


def _accepts(host: str, port: int) -> bool:
    # A bare TCP connect; mosquitto logs it as a client that closed at once.
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        with path.open(encoding="utf-8", errors="replace") as log:
            return "".join(deque(log, maxlen=lines)).rstrip()
    except OSError:
        return "(no broker log)"


# (port, data dir, bind address, user) -> mosquitto.conf text
Renderer = Callable[[int, Path, str, str], str]


class LocalBroker:
    """The project's own Mosquitto, started in the background with the rendered config.

    ``port=None`` picks a free port once, at construction, and keeps it across
    restarts. ``data_dir=None`` uses a temporary directory that this object
    owns and removes in stop(); restart() keeps it, so persistence survives.
    ``render`` replaces the template: antrian.tools.broker_files.site_renderer() gives the
    site's secured configuration (per-device users, ACL, TLS) on this broker's port.
    ``also_ports`` are the rendered configuration's other listeners (TLS, WebSockets):
    start() returns only once they accept too, since Mosquitto opens them after the first
    and exits when one cannot be bound.
    """

    def __init__(
        self,
        port: int | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        bind: str = "127.0.0.1",
        log_path: str | os.PathLike[str] | None = None,
        template: str | os.PathLike[str] = DEFAULT_TEMPLATE,
        render: Renderer | None = None,
        also_ports: tuple[int, ...] = (),
    ) -> None:
        self.bind = bind
        self.render = render
        self.also_ports = also_ports
        self.host = _connect_host(bind)
        self.port = free_port(self.host) if port is None else port
        # Absolute: mosquitto runs with the data dir as its working directory.
        self._given_data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self._data_dir: Path | None = self._given_data_dir
        self._owns_data_dir = False
        self._log_path = Path(log_path).resolve() if log_path is not None else None
        self.template = template
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """``host:port`` as the devices' ``--broker`` option takes it."""
        return f"{self.host}:{self.port}"

    @property
    def data_dir(self) -> Path | None:
        """Where the config, the log and the persistence file live (None before start)."""
        return self._data_dir

    @property
    def log_path(self) -> Path | None:
        if self._log_path is not None:
            return self._log_path
        return self._data_dir / _LOG_NAME if self._data_dir is not None else None

    @property
    def pid(self) -> int | None:
        """The broker process's id while it runs (for its memory in /proc/PID/status)."""
        return self._proc.pid if self.running else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> LocalBroker:
        """Start mosquitto and return once its port accepts connections."""
        if self.running:
            return self
        executable = find_mosquitto()
        # Checked first: otherwise the port poll below could succeed against
        # the process that already listens there while ours fails to bind.
        if _port_in_use(self.bind, self.port):
            raise BrokerError(f"cannot start broker: port {self.port} on {self.bind} is already in use")
        if self._data_dir is None:
            self._data_dir = Path(tempfile.mkdtemp(prefix="antrian-broker-"))
            self._owns_data_dir = True
        self._data_dir.mkdir(parents=True, exist_ok=True)
        conf = self._data_dir / _CONF_NAME
        if self.render is not None:
            text = self.render(self.port, self._data_dir, self.bind, _current_user())
        else:
            text = render_config(self.port, self._data_dir, self.bind, self.template)
        conf.write_text(text, encoding="utf-8")
        log_path = self.log_path
        assert log_path is not None
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # Appending keeps the history of earlier runs across restarts.
        with log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [executable, "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self._data_dir,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise BrokerError(
                    f"broker on port {self.port} exited with status {code} during start; "
                    f"log {log_path}:\n{_tail(log_path)}"
                )
            waiting = [port for port in (self.port, *self.also_ports) if not _accepts(self.host, port)]
            if not waiting:
                return self
            if time.monotonic() > deadline:
                self._halt()
                raise BrokerError(
                    f"broker did not accept connections on {self.host}:{waiting[0]} within {_START_TIMEOUT:g} s; "
                    f"log {log_path}:\n{_tail(log_path)}"
                )
            time.sleep(_POLL_INTERVAL)

    def _halt(self) -> None:
        # SIGTERM makes mosquitto save its persistence file; SIGKILL only if it hangs.
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        """Stop the broker cleanly and remove the data directory if this object created it."""
        self._halt()
        if self._owns_data_dir and self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None
            self._owns_data_dir = False

    def kill(self) -> None:
        """SIGKILL the broker, as a power cut would: no persistence file is written."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def restart(self) -> LocalBroker:
        """Stop (if running) and start again on the same port and data directory."""
        # The old process must have exited, or the new one cannot bind the port.
        self._halt()
        return self.start()

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LocalBroker {self.address} {state} data_dir={self._data_dir}>"


def run_foreground(port: int, data_dir: str | os.PathLike[str], bind: str = "127.0.0.1") -> int:
    """Run mosquitto with the rendered config until SIGINT/SIGTERM; return its exit status.

    The log goes to this process's stderr. Raises BrokerError (for the CLI to
    print as a one-line reason) if mosquitto, the template or the port is not
    available. Must be called from the main thread (it installs signal handlers).
    """
    executable = find_mosquitto()
    if _port_in_use(bind, port):
        raise BrokerError(f"cannot start broker: port {port} on {bind} is already in use")
    data = Path(data_dir).resolve()
    data.mkdir(parents=True, exist_ok=True)
    conf = data / _CONF_NAME
    conf.write_text(render_config(port, data, bind), encoding="utf-8")
    proc = subprocess.Popen([executable, "-c", str(conf)], stdin=subprocess.DEVNULL)
    stop_requested_at: float | None = None

    def forward(signum: int, frame: FrameType | None) -> None:
        # Ctrl-C already reaches mosquitto through the terminal's process
        # group; a SIGTERM from systemd or kill reaches only us. Sending
        # SIGTERM either way gives one clean shutdown that saves persistence.
        nonlocal stop_requested_at
        if stop_requested_at is None:
            stop_requested_at = time.monotonic()
        proc.terminate()

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                # A broker that hangs on shutdown gets SIGKILL, like LocalBroker.stop().
                if stop_requested_at is not None and time.monotonic() - stop_requested_at > _STOP_TIMEOUT:
                    proc.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # A negative status means "killed by signal N"; shells report that as 128 + N.
    return 128 - code if code < 0 else code
