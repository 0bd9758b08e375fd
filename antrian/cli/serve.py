"""The `antrian` subcommands that run a service until Ctrl-C: dispatcher, broker, up,
dashboard (and dashboard-user, which manages the dashboard's logins)."""

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
    dispatcher = Dispatcher(config, store, device_id=common.dispatcher_id(config))
    log.info("dispatcher for %s: database %s, broker %s:%d", config.site.id, store.path, host, port)
    dispatcher.start(host, port)
    try:
        common.wait_for_signal()
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
    if config.broker.credentials_dir:
        # The site's secured broker: its users, ACL and TLS, made by `antrian broker-files`.
        common.check_credentials(config, common.dispatcher_id(config))
        tls = config.broker.tls
        render = site_renderer(config, config.broker.credentials_dir, tls_port=tls.port if tls else None,
                               bridge=False)
    store = common.open_store(args, config, data / f"{config.site.id}.db")
    broker = LocalBroker(port=port, data_dir=data / "broker", bind=args.bind, render=render)
    broker.start()
    dispatcher = Dispatcher(config, store, device_id=common.dispatcher_id(config))
    dispatcher.start(broker.host, config.broker.tls.port if render and config.broker.tls else broker.port)
    print(f"Antrian MPP for {config.site.name} is running.")
    print(f"  broker    {broker.address} (log: {broker.log_path})")
    print(f"  database  {store.path}")
    print(f"  try       mosquitto_sub -h {broker.host} -p {broker.port} -t 'antrian/{config.site.id}/#' -v")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        common.wait_for_signal()
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
    """The MPP head's live dashboard: a read-only web page behind a login (antrian/dashboard/)."""
    from antrian.dashboard.server import Dashboard, parse_listen

    config = common.read_config(args.config)
    host, port = common.broker_address(args, config)
    common.check_credentials(config, "dashboard")
    dashboard = Dashboard(config, args.users, parse_listen(args.listen)).start(host, port)
    web_host, web_port = dashboard.address
    print(f"Dashboard of {config.site.name} on http://{web_host}:{web_port}/ (broker {host}:{port}); "
          "Ctrl-C stops it", flush=True)
    try:
        common.wait_for_signal()
    finally:
        dashboard.close()
    return 0


def cmd_dashboard_user(args: argparse.Namespace) -> int:
    """Add a dashboard user or change its password (read from stdin); --remove deletes it."""
    from antrian.dashboard.server import read_password, remove_user, set_user

    if args.remove:
        remove_user(args.file, args.name)
        print(f"{args.file}: removed {args.name}")
    else:
        new = set_user(args.file, args.name, read_password())
        print(f"{args.file}: {'added' if new else 'changed the password of'} {args.name}")
    return 0


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

    p = sub.add_parser("dashboard", help="serve the live dashboard for the MPP head (read-only, behind a login)")
    p.add_argument("--config", required=True)
    p.add_argument("--users", required=True, metavar="FILE", help="users file made by antrian dashboard-user")
    p.add_argument("--broker", metavar="HOST:PORT", help="override the broker address of the site file")
    p.add_argument("--listen", default="0.0.0.0:8080", metavar="HOST:PORT",
                   help="address of the web page (default 0.0.0.0:8080, the whole LAN)")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("dashboard-user", help="add a dashboard user or change its password (read from stdin)")
    p.add_argument("file", help="the users file (created if missing, readable by its owner only)")
    p.add_argument("name", help="user name")
    p.add_argument("--remove", action="store_true", help="delete the user instead")
    p.set_defaults(func=cmd_dashboard_user)
