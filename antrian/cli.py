"""The `antrian` command: one entry point for every role.

Each subcommand exits 0 on success and non-zero with a one-line reason on error; a
technician should never see a traceback for a typo in the site file or a busy port.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from . import __version__
from .config import Config, ConfigError, load

log = logging.getLogger("antrian")

DEMO_PORT = 11883  # `antrian up` stays off 1883, where a distribution's Mosquitto may already listen


ALWAYS_OPEN_HELP = "ignore opening hours and holidays (to try the MPP outside office hours)"


class CommandError(Exception):
    """A one-line reason for a non-zero exit."""


def _config(path: str) -> Config:
    return load(path)


def _site_config(args: argparse.Namespace) -> Config:
    """The site file, open round the clock with --always-open."""
    config = _config(args.config)
    if getattr(args, "always_open", False):
        log.warning("--always-open: opening hours and holidays of %s are ignored", args.config)
        config = config.always_open()
    return config


def _broker_address(args: argparse.Namespace, config: Config) -> tuple[str, int]:
    from .mqtt import parse_address

    if getattr(args, "broker", None):
        try:
            return parse_address(args.broker)
        except ValueError as exc:
            raise CommandError(f"--broker: {exc}") from None
    return config.broker.host, config.broker.port


def cmd_check_config(args: argparse.Namespace) -> int:
    config = _config(args.file)
    services = len(config.services)
    roles = {}
    for d in config.devices.values():
        roles[d.role] = roles.get(d.role, 0) + 1
    print(f"{args.file}: OK")
    print(f"  site      {config.site.name} ({config.site.id}), {config.site.timezone}")
    print(f"  agencies  {len(config.agencies)}: {', '.join(a.short_name for a in config.agencies)}")
    print(f"  services  {services}: {', '.join(f'{s.prefix} {s.code}' for s in config.services.values())}")
    print(f"  counters  {len(config.counters)}")
    print(f"  devices   {', '.join(f'{n} {r}' for r, n in sorted(roles.items())) or 'none'}")
    print(f"  holidays  {len(config.holidays)}")
    return 0


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _open_store(args: argparse.Namespace, config: Config, default: Path):
    from .store import Store, StoreError

    path = Path(args.db) if args.db else default
    try:
        return Store(path, config.tz)
    except StoreError as exc:
        raise CommandError(str(exc)) from None


def cmd_dispatcher(args: argparse.Namespace) -> int:
    from .dispatcher import Dispatcher

    config = _site_config(args)
    host, port = _broker_address(args, config)
    store = _open_store(args, config, Path(f"{config.site.id}.db"))
    dispatcher = Dispatcher(config, store)
    log.info("dispatcher for %s: database %s, broker %s:%d", config.site.id, store.path, host, port)
    dispatcher.start(host, port)
    try:
        _wait_for_signal()
    finally:
        dispatcher.stop()
        store.close()
    return 0


def cmd_broker(args: argparse.Namespace) -> int:
    from .broker import BrokerError, run_foreground

    try:
        return run_foreground(args.port, args.data_dir, args.bind)
    except BrokerError as exc:
        raise CommandError(str(exc)) from None


def cmd_up(args: argparse.Namespace) -> int:
    """The whole MPP on one machine: the project's Mosquitto and the dispatcher."""
    from .broker import BrokerError, LocalBroker
    from .dispatcher import Dispatcher

    config = _site_config(args)
    data = Path(args.data_dir)
    store = _open_store(args, config, data / f"{config.site.id}.db")
    broker = LocalBroker(port=args.port, data_dir=data / "broker", bind=args.bind)
    try:
        broker.start()
    except BrokerError as exc:
        raise CommandError(str(exc)) from None
    dispatcher = Dispatcher(config, store)
    dispatcher.start(broker.host, broker.port)
    print(f"Antrian MPP for {config.site.name} is running.")
    print(f"  broker    {broker.address} (log: {broker.log_path})")
    print(f"  database  {store.path}")
    print(f"  try       mosquitto_sub -h {broker.host} -p {broker.port} -t 'antrian/{config.site.id}/#' -v")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        _wait_for_signal()
    finally:
        dispatcher.stop()
        store.close()
        broker.stop()
        print("Stopped.")
    return 0


def cmd_panel(args: argparse.Namespace) -> int:
    """A counter Pi's call buttons, LEDs and keypads (the code lives in hardware/)."""
    config = _config(args.config)
    host, port = _broker_address(args, config)
    config.device(args.device, "panel")  # a ConfigError naming the known panels
    try:
        from hardware.gpio import GPIOError
        from hardware.panel import Panel
    except ImportError as exc:
        raise CommandError(f"{exc}: install the panel's libraries with pip install 'antrian-mpp[panel]'") from None
    # Handlers first, so a SIGTERM during start-up still stops the panel cleanly.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    panel = Panel(config, args.device)
    try:
        panel.start(host, port)
    except GPIOError as exc:
        raise CommandError(str(exc)) from None
    try:
        stop.wait()
    finally:
        panel.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="antrian", description="Antrian MPP: queue tickets for a Mal Pelayanan Publik")
    parser.add_argument("--version", action="version", version=f"antrian {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("check-config", help="validate a site file and print a summary")
    p.add_argument("file")
    p.set_defaults(func=cmd_check_config)

    p = sub.add_parser("dispatcher", help="run the service that owns the queue")
    p.add_argument("--config", required=True)
    p.add_argument("--db", help="SQLite file (default: SITE.db in the current directory)")
    p.add_argument("--broker", metavar="HOST:PORT", help="override the broker address of the site file")
    p.add_argument("--always-open", action="store_true", help=ALWAYS_OPEN_HELP)
    p.set_defaults(func=cmd_dispatcher)

    p = sub.add_parser("broker", help="run the project's Mosquitto in the foreground")
    p.add_argument("--port", type=int, default=DEMO_PORT)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--data-dir", default="var/broker")
    p.set_defaults(func=cmd_broker)

    p = sub.add_parser("up", help="run the whole MPP on this machine (broker + dispatcher)")
    p.add_argument("--config", required=True)
    p.add_argument("--port", type=int, default=DEMO_PORT, help=f"broker port (default {DEMO_PORT})")
    p.add_argument("--bind", default="127.0.0.1", help="broker address to listen on (0.0.0.0 for the LAN)")
    p.add_argument("--data-dir", default="var", help="folder for the database and broker files")
    p.add_argument("--db", help="SQLite file (default: DATA_DIR/SITE.db)")
    p.add_argument("--always-open", action="store_true", help=ALWAYS_OPEN_HELP)
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("panel", help="run a counter panel: GPIO call buttons, LEDs, USB keypads")
    p.add_argument("--config", required=True)
    p.add_argument("--device", required=True, help="the panel's device id in the site file")
    p.add_argument("--broker", metavar="HOST:PORT", help="override the broker address of the site file")
    p.set_defaults(func=cmd_panel)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found in {exc.source}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"antrian {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
