"""What the `antrian` subcommands share: reading the site file, the broker address, a
device's credentials, the store, waiting for Ctrl-C, and the options every device takes.

The wings' commands (kiosk/commands.py, display/commands.py, ...) use these too, so a
device command reads and fails like a core one.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from antrian.site import Config, load
from antrian.errors import CommandError

log = logging.getLogger("antrian")

DEMO_PORT = 11883  # `antrian up` stays off 1883, where a distribution's Mosquitto may already listen

ALWAYS_OPEN_HELP = "ignore opening hours and holidays (to try the MPP outside office hours)"


def read_config(path: str) -> Config:
    return load(path)


def site_config(args: argparse.Namespace) -> Config:
    """The site file, open round the clock with --always-open."""
    config = read_config(args.config)
    if getattr(args, "always_open", False):
        log.warning("--always-open: opening hours and holidays of %s are ignored", args.config)
        config = config.always_open()
    return config


def broker_address(args: argparse.Namespace, config: Config) -> tuple[str, int]:
    from antrian.adapters.mqtt import parse_address

    if getattr(args, "broker", None):
        try:
            return parse_address(args.broker)
        except ValueError as exc:
            raise CommandError(f"--broker: {exc}") from None
    return config.broker.host, config.broker.client_port


def check_credentials(config: Config, user: str) -> None:
    """A one-line error now if this device's broker password or CA file cannot be used."""
    from antrian.adapters.mqtt import check_credentials

    check_credentials(config, user)


def device_config(args: argparse.Namespace, role: str) -> tuple[Config, str, int]:
    """What every device command starts with: its site file, its broker address, and a
    one-line error now if the device is not in the file or its credentials are unusable."""
    config = read_config(args.config)
    host, port = broker_address(args, config)
    config.device(args.device, role)  # a ConfigError naming the known devices of that role
    check_credentials(config, args.device)
    return config, host, port


def dispatcher_id(config: Config) -> str:
    from antrian.tools.broker_files import dispatcher_ids

    return dispatcher_ids(config)[0]


def stop_on_signal() -> threading.Event:
    """An event that SIGINT or SIGTERM sets. Made before a command starts its threads, so a
    stop during start-up is heard too and ends in the same clean shutdown."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def wait_for_signal(stop: threading.Event) -> None:
    """Block the main thread until `stop` is set, in half-second slices. Python runs a
    signal's handler only in the main thread, at its next bytecode; when the kernel hands
    the signal to another thread, a main thread blocked with no timeout never gets there
    and the SIGTERM is lost (16 of 20 with two busy threads under libfaketime, where a test
    met it; systemd would SIGKILL after its timeout)."""
    while not stop.wait(0.5):
        pass


def open_store(args: argparse.Namespace, config: Config, default: Path):
    """The store at --db (else `default`), checked and migrated; with --new (the commands
    that have it) a new database may also start in a zero-byte or table-less file."""
    from antrian.adapters.store import Store

    path = Path(args.db) if args.db else default
    return Store(path, config.tz, new=getattr(args, "new", False))


def parse_date(text: str, option: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: {text!r} is not a date like 2026-11-23") from None


def device_arguments(p: argparse.ArgumentParser, role: str, window: str | None = None) -> None:
    """What every device command takes: its site file, its id, the broker, and for a device
    with a screen (`window` given: its usual window size, or "") --windowed."""
    p.add_argument("--config", required=True)
    p.add_argument("--device", required=True, help=f"the {role}'s device id in the site file")
    p.add_argument("--broker", metavar="HOST:PORT", help="override the broker address of the site file")
    if window is not None:
        full = f" ({window})" if window else ""
        p.add_argument("--windowed", action="store_true", help=f"a window instead of the full screen{full}")
