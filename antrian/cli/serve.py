"""The `antrian` subcommands that run a service until Ctrl-C: dispatcher, broker, up, and
dashboard (an alias of `antrian web` with the site's staff app, whose /dasbor is the
head's dashboard; its logins are made with `antrian web-user`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from antrian import wings
from antrian.cli import common
from antrian.cli.common import log
from antrian.site import Config
from antrian.errors import CommandError


def cmd_dispatcher(args: argparse.Namespace) -> int:
    from antrian.dispatcher import Dispatcher

    config = common.site_config(args)
    host, port = common.broker_address(args, config)
    common.check_credentials(config, common.dispatcher_id(config))
    store = common.open_store(args, config, Path(f"{config.site.id}.db"))
    stop = common.stop_on_signal()
    dispatcher = Dispatcher(config, store, device_id=common.dispatcher_id(config))
    log.info("dispatcher for %s: database %s, broker %s:%d", config.site.id, store.path, host, port)
    dispatcher.start(host, port)
    try:
        common.wait_for_signal(stop)
    finally:
        dispatcher.stop()
        store.close()
    return 0


def cmd_broker(args: argparse.Namespace) -> int:
    from antrian.adapters.mosquitto import run_foreground

    return run_foreground(args.port, args.data_dir, args.bind)


def cmd_up(args: argparse.Namespace) -> int:
    """The whole MPP on one machine: the project's Mosquitto and the dispatcher."""
    from antrian.adapters.mosquitto import LocalBroker
    from antrian.dispatcher import Dispatcher

    from antrian.tools.broker_files import site_renderer

    config = common.site_config(args)
    if getattr(args, "whole", False):
        return _up_whole(args, config)
    data = Path(args.data_dir)
    render, port = None, args.port
    also_ports: tuple[int, ...] = ()
    if config.broker.credentials_dir:
        # The site's secured broker: its users, ACL and TLS, made by `antrian broker-files`.
        common.check_credentials(config, common.dispatcher_id(config))
        tls = config.broker.tls
        render = site_renderer(config, config.broker.credentials_dir, tls_port=tls.port if tls else None,
                               bridge=False)
        also_ports = (tls.port,) if tls else ()
    store = common.open_store(args, config, data / f"{config.site.id}.db")
    stop = common.stop_on_signal()
    broker = LocalBroker(port=port, data_dir=data / "broker", bind=args.bind, render=render,
                         also_ports=also_ports)
    broker.start()
    dispatcher = Dispatcher(config, store, device_id=common.dispatcher_id(config))
    dispatcher.start(broker.host, config.broker.tls.port if render and config.broker.tls else broker.port)
    print(f"Antrian MPP for {config.site.name} is running.")
    print(f"  broker    {broker.address} (log: {broker.log_path})")
    print(f"  database  {store.path}")
    print(f"  try       mosquitto_sub -h {broker.host} -p {broker.port} -t 'antrian/{config.site.id}/#' -v")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        common.wait_for_signal(stop)
    finally:
        dispatcher.stop()
        store.close()
        broker.stop()
        print("Stopped.")
    return 0


def _up_whole(args: argparse.Namespace, config: Config) -> int:
    """`antrian up --whole`: the kiosk, board and a virtual panel in windows too (mall/whole.py, found through the registry)."""
    import importlib.util
    import os

    if config.broker.credentials_dir:
        raise CommandError("--whole runs the devices on a local broker without passwords; "
                           "use a site file without broker.credentials_dir")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        raise CommandError("--whole opens windows and there is no display (DISPLAY is not set); "
                           "try antrian morning for the headless run")
    missing = [m for m in ("kivy", "escpos", "gpiozero") if importlib.util.find_spec(m) is None]
    if missing:
        raise CommandError(f"missing {', '.join(missing)}: pip install -e '.[test]'")
    run = wings.registry().service("whole")

    return run(args.config, args.data_dir, port=args.port, bind=args.bind, always_open=args.always_open)


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Kept for old habits: `antrian dashboard` is `antrian web` with the site file's first
    staff app (a ``role: web`` device without ``public: true``), whose /dasbor is the
    head's dashboard (web/dasbor.py). The web wing's own command does the work; the core
    only finds the device."""
    config = common.read_config(args.config)
    staff = [d.id for d in config.devices.values() if d.role == "web" and not d.options.get("public")]
    if wings.registry().role("web") is None:
        raise CommandError(f"the dashboard is the web wing's staff app, which is not installed here"
                           f"{wings.registry().missing()}: pip install 'antrian-mpp[web]'")
    if not staff:
        raise CommandError(f"{config.source} has no staff web app: add a device with role: web "
                           "(examples/buton.yaml, web1) and run antrian web --device ID")
    from antrian.cli.main import build_parser  # the `antrian` parser with every wing's commands

    argv = ["web", "--config", args.config, "--device", staff[0]]
    for option in ("broker", "listen", "users"):
        if getattr(args, option):
            argv += [f"--{option}", getattr(args, option)]
    log.info("antrian dashboard: running antrian %s", " ".join(argv))
    web_args = build_parser().parse_args(argv)
    return web_args.func(web_args)


# A path that does not exist yet is always a new database; an existing empty file is
# refused without --new, since it usually means the real database was lost
# (antrian/adapters/store_file.py, docs/operations.md).
NEW_HELP = ("start a new database (numbering from 001) in an empty file: a zero-byte file or an SQLite file "
            "without tables; never touches a file with anything in it")


def add_commands(sub) -> None:
    """Add this module's subcommands to the `antrian` parser."""
    p = sub.add_parser("dispatcher", help="run the service that owns the queue")
    p.add_argument("--config", required=True)
    p.add_argument("--db", help="SQLite file (default: SITE.db in the current directory)")
    p.add_argument("--broker", metavar="HOST:PORT", help="override the broker address of the site file")
    p.add_argument("--always-open", action="store_true", help=common.ALWAYS_OPEN_HELP)
    p.add_argument("--new", action="store_true", help=NEW_HELP)
    p.set_defaults(func=cmd_dispatcher)

    p = sub.add_parser("broker", help="run the project's Mosquitto in the foreground")
    p.add_argument("--port", type=int, default=common.DEMO_PORT)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--data-dir", default="var/broker")
    p.set_defaults(func=cmd_broker)

    p = sub.add_parser("up", help="run the whole MPP on this machine (broker + dispatcher)")
    p.add_argument("--config", required=True)
    p.add_argument("--port", type=int, default=common.DEMO_PORT, help=f"broker port (default {common.DEMO_PORT})")
    p.add_argument("--bind", default="127.0.0.1", help="broker address to listen on (0.0.0.0 for the LAN)")
    p.add_argument("--data-dir", default="var", help="folder for the database and broker files")
    p.add_argument("--db", help="SQLite file (default: DATA_DIR/SITE.db)")
    p.add_argument("--always-open", action="store_true", help=common.ALWAYS_OPEN_HELP)
    p.add_argument("--new", action="store_true", help=NEW_HELP)
    p.add_argument("--whole", action="store_true",
                   help="also open the kiosk, the board and a virtual counter panel in windows, with a printer "
                        "writing tickets to files (needs a display)")
    p.set_defaults(func=cmd_up)

    p = sub.add_parser("dashboard", help="the head's dashboard: antrian web with the site file's first staff app "
                                         "(its /dasbor); logins: antrian web-user")
    p.add_argument("--config", required=True)
    p.add_argument("--broker", metavar="HOST:PORT", help="override the broker address of the site file")
    p.add_argument("--listen", metavar="HOST:PORT", help="where to listen (default: the web device's listen option)")
    p.add_argument("--users", metavar="FILE", help="the staff users file (default: the web device's users option)")
    p.set_defaults(func=cmd_dashboard)
