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

from antrian import __version__, wings
from antrian.site import Config, ConfigError, load
from antrian.errors import AntrianError, CommandError

log = logging.getLogger("antrian")

DEMO_PORT = 11883  # `antrian up` stays off 1883, where a distribution's Mosquitto may already listen


ALWAYS_OPEN_HELP = "ignore opening hours and holidays (to try the MPP outside office hours)"


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
    from antrian.adapters.mqtt import parse_address

    if getattr(args, "broker", None):
        try:
            return parse_address(args.broker)
        except ValueError as exc:
            raise CommandError(f"--broker: {exc}") from None
    return config.broker.host, config.broker.client_port


def _check_credentials(config: Config, user: str) -> None:
    """A one-line error now if this device's broker password or CA file cannot be used."""
    from antrian.adapters.mqtt import CredentialsError, check_credentials

    try:
        check_credentials(config, user)
    except CredentialsError as exc:
        raise CommandError(str(exc)) from None


def _device_config(args: argparse.Namespace, role: str) -> tuple[Config, str, int]:
    """What every device command starts with: its site file, its broker address, and a
    one-line error now if the device is not in the file or its credentials are unusable."""
    config = _config(args.config)
    host, port = _broker_address(args, config)
    config.device(args.device, role)  # a ConfigError naming the known devices of that role
    _check_credentials(config, args.device)
    return config, host, port


def _dispatcher_id(config: Config) -> str:
    from antrian.tools.broker_files import dispatcher_ids

    return dispatcher_ids(config)[0]


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
    from antrian.adapters.store import Store, StoreError

    path = Path(args.db) if args.db else default
    try:
        return Store(path, config.tz)
    except StoreError as exc:
        raise CommandError(str(exc)) from None


def cmd_dispatcher(args: argparse.Namespace) -> int:
    from antrian.dispatcher import Dispatcher

    config = _site_config(args)
    host, port = _broker_address(args, config)
    _check_credentials(config, _dispatcher_id(config))
    store = _open_store(args, config, Path(f"{config.site.id}.db"))
    dispatcher = Dispatcher(config, store, device_id=_dispatcher_id(config))
    log.info("dispatcher for %s: database %s, broker %s:%d", config.site.id, store.path, host, port)
    dispatcher.start(host, port)
    try:
        _wait_for_signal()
    finally:
        dispatcher.stop()
        store.close()
    return 0


def cmd_broker(args: argparse.Namespace) -> int:
    from antrian.adapters.mosquitto import BrokerError, run_foreground

    try:
        return run_foreground(args.port, args.data_dir, args.bind)
    except BrokerError as exc:
        raise CommandError(str(exc)) from None


def cmd_up(args: argparse.Namespace) -> int:
    """The whole MPP on one machine: the project's Mosquitto and the dispatcher."""
    from antrian.adapters.mosquitto import BrokerError, LocalBroker
    from antrian.dispatcher import Dispatcher

    from antrian.tools.broker_files import BrokerFilesError, site_renderer

    config = _site_config(args)
    if getattr(args, "whole", False):
        return _up_whole(args, config)
    data = Path(args.data_dir)
    render, port = None, args.port
    if config.broker.credentials_dir:
        # The site's secured broker: its users, ACL and TLS, made by `antrian broker-files`.
        _check_credentials(config, _dispatcher_id(config))
        tls = config.broker.tls
        try:
            render = site_renderer(config, config.broker.credentials_dir, tls_port=tls.port if tls else None,
                                   bridge=False)
        except BrokerFilesError as exc:
            raise CommandError(str(exc)) from None
    store = _open_store(args, config, data / f"{config.site.id}.db")
    broker = LocalBroker(port=port, data_dir=data / "broker", bind=args.bind, render=render)
    try:
        broker.start()
    except BrokerError as exc:
        raise CommandError(str(exc)) from None
    dispatcher = Dispatcher(config, store, device_id=_dispatcher_id(config))
    dispatcher.start(broker.host, config.broker.tls.port if render and config.broker.tls else broker.port)
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


def _up_whole(args: argparse.Namespace, config: Config) -> int:
    """`antrian up --whole`: the kiosk, board and a virtual panel in windows too (antrian/whole.py)."""
    import importlib.util
    import os

    from antrian.adapters.mosquitto import BrokerError

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

    try:
        return run(args.config, args.data_dir, port=args.port, bind=args.bind, always_open=args.always_open)
    except BrokerError as exc:
        raise CommandError(str(exc)) from None


def cmd_dashboard(args: argparse.Namespace) -> int:
    """The MPP head's live dashboard: a read-only web page behind a login (antrian/dashboard.py)."""
    from antrian.dashboard.server import Dashboard, DashboardError, parse_listen

    config = _config(args.config)
    host, port = _broker_address(args, config)
    _check_credentials(config, "dashboard")
    try:
        dashboard = Dashboard(config, args.users, parse_listen(args.listen)).start(host, port)
    except DashboardError as exc:
        raise CommandError(str(exc)) from None
    web_host, web_port = dashboard.address
    print(f"Dashboard of {config.site.name} on http://{web_host}:{web_port}/ (broker {host}:{port}); "
          "Ctrl-C stops it", flush=True)
    try:
        _wait_for_signal()
    finally:
        dashboard.close()
    return 0


def cmd_broker_files(args: argparse.Namespace) -> int:
    """The broker's users, passwords, ACL and mosquitto.conf for a site (antrian/broker_files.py)."""
    from antrian.tools.broker_files import BrokerFilesError, write

    config = _config(args.config)
    try:
        summary = write(config, args.out, rotate=args.rotate, data_dir=args.data_dir, run_as=args.user)
    except BrokerFilesError as exc:
        raise CommandError(str(exc)) from None
    out = summary.out
    print(f"{out}: passwd, acl, mosquitto.conf and one <user>.password per broker user")
    for label, names in (("new", summary.created), ("new password", summary.rotated), ("kept", summary.kept)):
        if names:
            print(f"  {label:<13}{', '.join(names)}")
    if summary.stale:
        print(f"  not in the site file any more (not in passwd, so refused): {', '.join(summary.stale)}")
    if summary.created or summary.rotated:
        print("Copy each device's <id>.password to its broker.credentials_dir (mode 0600), then restart the "
              "broker (docs/operations.md)")
    return 0


def cmd_dashboard_user(args: argparse.Namespace) -> int:
    """Add a dashboard user or change its password (read from stdin); --remove deletes it."""
    from antrian.dashboard.server import DashboardError, read_password, remove_user, set_user

    try:
        if args.remove:
            remove_user(args.file, args.name)
            print(f"{args.file}: removed {args.name}")
        else:
            new = set_user(args.file, args.name, read_password())
            print(f"{args.file}: {'added' if new else 'changed the password of'} {args.name}")
    except DashboardError as exc:
        raise CommandError(str(exc)) from None
    return 0


def _date(text: str, option: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{option}: {text!r} is not a date like 2026-11-23") from None


def cmd_report(args: argparse.Namespace) -> int:
    """The daily report from the store: CSV files, PNG charts and one HTML page (antrian/report.py)."""
    import datetime as dt

    from antrian.tools.report.figures import ReportError, from_store
    from antrian.tools.report.files import HTML_NAME, write

    config = _config(args.config)
    first = _date(args.date, "--date") if args.date else dt.datetime.now(config.tz).date()
    last = _date(args.to, "--to") if args.to else None
    db = Path(args.db or f"{config.site.id}.db")
    if not db.is_file():  # opening would create an empty database
        raise CommandError(f"no database {db} (give the dispatcher's with --db)")
    out = Path(args.out or f"laporan-{first.isoformat()}")
    store = _open_store(args, config, db)
    try:
        report = from_store(config, store, first, last)
        files = write(report, out, charts=not args.no_charts)
    except ReportError as exc:
        raise CommandError(str(exc)) from None
    except ImportError as exc:
        raise CommandError(f"{exc} (or leave the charts out with --no-charts)") from None
    except OSError as exc:
        raise CommandError(f"cannot write the report into {out}: {exc}") from None
    finally:
        store.close()
    t = report.total
    print(f"{out / HTML_NAME}: {len(report.days)} day(s), {t.issued} tickets issued, {t.served} served, "
          f"{t.no_show} no-show, {t.waiting_at_close} still waiting at close; {len(files)} files")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """A day of the MPP simulated on the real engine, reported like a real one (antrian/simulate.py)."""
    import datetime as dt
    import time

    from antrian.tools.report.files import HTML_NAME
    from antrian.tools.simulate import Scenario, first_open_day, load_arrivals, run, write

    started = time.perf_counter()
    config = _config(args.config)
    day = _date(args.date, "--date") if args.date else first_open_day(config, dt.datetime.now(config.tz).date())
    arrivals = load_arrivals(args.arrivals) if args.arrivals else None
    scenario = Scenario.build(config, day, arrivals=arrivals, counters=args.counters, demand=args.demand,
                              source=args.arrivals or "--counters")
    result = run(scenario, seed=args.seed)
    try:
        write(result, args.out, arrivals_source=args.arrivals, charts=not args.no_charts)
    except ImportError as exc:
        raise CommandError(f"{exc} (or leave the charts out with --no-charts)") from None
    except OSError as exc:
        raise CommandError(f"cannot write into {args.out}: {exc}") from None
    print(f"{Path(args.out) / HTML_NAME}: simulated {day} with seed {args.seed}: {len(result.citizens)} citizens, "
          f"{len(result.tickets)} tickets, {len(result.events)} events in {result.seconds:.2f} s "
          f"({time.perf_counter() - started:.2f} s with the report)")
    return 0


def _device_arguments(p: argparse.ArgumentParser, role: str, window: str | None = None) -> None:
    """What every device command takes: its site file, its id, the broker, and for a device
    with a screen (`window` given: its usual window size, or "") --windowed."""
    p.add_argument("--config", required=True)
    p.add_argument("--device", required=True, help=f"the {role}'s device id in the site file")
    p.add_argument("--broker", metavar="HOST:PORT", help="override the broker address of the site file")
    if window is not None:
        full = f" ({window})" if window else ""
        p.add_argument("--windowed", action="store_true", help=f"a window instead of the full screen{full}")


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
    p.add_argument("--whole", action="store_true",
                   help="also open the kiosk, the board and a virtual counter panel in windows, with a printer "
                        "writing tickets to files (needs a display)")
    p.set_defaults(func=cmd_up)


    p = sub.add_parser("report", help="daily report from the database: CSV files, charts and an HTML page")
    p.add_argument("--config", required=True)
    p.add_argument("--db", help="the dispatcher's SQLite file (default: SITE.db in the current directory)")
    p.add_argument("--date", help="business day, e.g. 2026-11-23 (default: today)")
    p.add_argument("--to", help="last business day of a period (default: --date only)")
    p.add_argument("--out", help="folder for the report (default: laporan-DATE)")
    p.add_argument("--no-charts", action="store_true", help="leave out the PNG charts (no matplotlib needed)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("simulate", help="simulate a day on the real queue engine and report it")
    p.add_argument("--config", required=True)
    p.add_argument("--out", required=True, help="folder for the simulated day's report")
    p.add_argument("--date", help="the day to simulate (default: the next day the MPP is open)")
    p.add_argument("--arrivals", metavar="FILE.yaml", help="arrival rates, service times and staffing "
                                                             "(see examples/simulasi-buton.yaml)")
    p.add_argument("--counters", metavar="SPEC", help="staffed counters, e.g. 'default,loket8@09-12,loket9=loket1' "
                                                      "(default: those open at start, all day)")
    p.add_argument("--demand", type=float, default=1.0, help="scale every arrival rate (default 1.0)")
    p.add_argument("--seed", type=int, default=1, help="random seed: same seed, same citizens (default 1)")
    p.add_argument("--no-charts", action="store_true", help="leave out the PNG charts (no matplotlib needed)")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("dashboard", help="serve the live dashboard for the MPP head (read-only, behind a login)")
    p.add_argument("--config", required=True)
    p.add_argument("--users", required=True, metavar="FILE", help="users file made by antrian dashboard-user")
    p.add_argument("--broker", metavar="HOST:PORT", help="override the broker address of the site file")
    p.add_argument("--listen", default="0.0.0.0:8080", metavar="HOST:PORT",
                   help="address of the web page (default 0.0.0.0:8080, the whole LAN)")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("broker-files", help="make the broker's per-device passwords, ACL and mosquitto.conf")
    p.add_argument("--config", required=True)
    p.add_argument("--out", metavar="DIR", help="folder for the files (default: broker.credentials_dir of the site)")
    p.add_argument("--rotate", nargs="*", metavar="USER",
                   help="new passwords for these users (a device id, dispatcher, dashboard); none named: all")
    p.add_argument("--data-dir", default="/var/lib/mosquitto",
                   help="the broker's persistence folder (default /var/lib/mosquitto)")
    p.add_argument("--user", help="the user mosquitto switches to when started as root (default: mosquitto's own)")
    p.set_defaults(func=cmd_broker_files)

    p = sub.add_parser("dashboard-user", help="add a dashboard user or change its password (read from stdin)")
    p.add_argument("file", help="the users file (created if missing, readable by its owner only)")
    p.add_argument("name", help="user name")
    p.add_argument("--remove", action="store_true", help="delete the user instead")
    p.set_defaults(func=cmd_dashboard_user)
    # Each wing adds its own subcommands (kiosk, display, say, panel, ticket, morning, ...).
    for wing in wings.registry().wings.values():
        if wing.commands is not None:
            wing.commands(sub)
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
    except AntrianError as exc:
        # Any error of the project is one line: a refused command, a store, a printer, a
        # simulation that cannot run; only a bug shows a traceback.
        print(f"antrian {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


