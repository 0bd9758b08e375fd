"""The `antrian` subcommands that run once and exit: check-config, report, simulate,
broker-files."""

from __future__ import annotations

import argparse
from pathlib import Path

from antrian.cli import common
from antrian.errors import CommandError


def cmd_check_config(args: argparse.Namespace) -> int:
    config = common.read_config(args.file)
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
    if args.db:
        for line in _against_db(config, args.db):
            print(line)
    return 0


def _against_db(config, db: str) -> list[str]:
    """What the site file lacks that the database's latest business day has events for.
    A warning, not an error: the edit is legal, and the dispatcher keeps those events in
    the history and withdraws the tickets they strand (docs/operations.md)."""
    from antrian.adapters.store import latest_events
    from antrian.queue.events import named

    if not Path(db).is_file():
        return [f"  database  {db}: none yet, nothing to compare"]
    day, events = latest_events(db)
    if day is None:
        return [f"  database  {db}: no events yet"]
    services, counters = named(events)
    lines = [f"  database  {db}: latest business day {day}, {len(events)} events"]
    if gone := sorted(services - set(config.services)):
        lines.append(f"  warning   services with events on {day} are not in this site file: {', '.join(gone)}; "
                     f"the dispatcher withdraws their waiting tickets at start, the report keeps them")
    if gone := sorted(counters - set(config.counters)):
        lines.append(f"  warning   counters with events on {day} are not in this site file: {', '.join(gone)}; "
                     f"a ticket still being served there is withdrawn at start, the report keeps them")
    return lines


def cmd_broker_files(args: argparse.Namespace) -> int:
    """The broker's users, passwords, ACL and mosquitto.conf for a site (antrian/tools/broker_files.py)."""
    from antrian.tools.broker_files import write

    config = common.read_config(args.config)
    summary = write(config, args.out, rotate=args.rotate, data_dir=args.data_dir, run_as=args.user)
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
    from antrian.tools.broker_files.boards import board_paths, browser_boards

    for path in board_paths(config, out):  # a TV's bookmark: the staff app's address, then this
        print(f"  browser board {path}")
    if browser_boards(config) and not board_paths(config, out):
        print("  browser boards: their addresses need the site secret (site.secret in broker.credentials_dir)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The daily report from the store: CSV files, PNG charts and one HTML page (antrian/tools/report/)."""
    import datetime as dt

    from antrian.tools.report.figures import from_store
    from antrian.tools.report.files import HTML_NAME, write

    config = common.read_config(args.config)
    first = common.parse_date(args.date, "--date") if args.date else dt.datetime.now(config.tz).date()
    last = common.parse_date(args.to, "--to") if args.to else None
    db = Path(args.db or f"{config.site.id}.db")
    if not db.is_file():  # opening would create an empty database
        raise CommandError(f"no database {db} (give the dispatcher's with --db)")
    out = Path(args.out or f"laporan-{first.isoformat()}")
    store = common.open_store(args, config, db)
    try:
        report = from_store(config, store, first, last)
        files = write(report, out, charts=not args.no_charts)
    except ImportError as exc:
        raise CommandError(f"{exc} (or leave the charts out with --no-charts)") from None
    except OSError as exc:
        raise CommandError(f"cannot write the report into {out}: {exc}") from None
    finally:
        store.close()
    t = report.total
    print(f"{out / HTML_NAME}: {len(report.days)} day(s), {t.issued} tickets issued, {t.served} served, "
          f"{t.no_show} no-show, " + (f"{t.withdrawn} withdrawn, " if t.withdrawn else "")
          + f"{t.waiting_at_close} still waiting at close; {len(files)} files")
    ikm = report.ikm.overall if report.ikm else None
    if ikm is not None:
        from antrian.tools.ikm_report import warnings

        short = len(warnings(report))
        print(f"  IKM {ikm.value} ({ikm.grade}) from {ikm.respondents} respondent(s)"
              + (f"; {short} figure(s) below their minimum sample (Krejcie-Morgan)" if short else ""))
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """A day of the MPP simulated on the real engine, reported like a real one (antrian/tools/simulate/)."""
    import datetime as dt
    import time

    from antrian.tools.report.files import HTML_NAME
    from antrian.tools.simulate import Scenario, first_open_day, load_arrivals, run, write

    started = time.perf_counter()
    config = common.read_config(args.config)
    day = common.parse_date(args.date, "--date") if args.date else first_open_day(config, dt.datetime.now(config.tz).date())
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


def add_commands(sub) -> None:
    """Add this module's subcommands to the `antrian` parser."""
    p = sub.add_parser("check-config", help="validate a site file and print a summary")
    p.add_argument("file")
    p.add_argument("--db", help="the dispatcher's SQLite file: warn when its latest business day has events of "
                                "services or counters this site file lacks (read only)")
    p.set_defaults(func=cmd_check_config)

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

    p = sub.add_parser("broker-files", help="make the broker's per-device passwords, ACL and mosquitto.conf")
    p.add_argument("--config", required=True)
    p.add_argument("--out", metavar="DIR", help="folder for the files (default: broker.credentials_dir of the site)")
    p.add_argument("--rotate", nargs="*", metavar="USER",
                   help="new passwords for these users (a device id, dispatcher, monitor); none named: all")
    p.add_argument("--data-dir", default="/var/lib/mosquitto",
                   help="the broker's persistence folder (default /var/lib/mosquitto)")
    p.add_argument("--user", help="the user mosquitto switches to when started as root (default: mosquitto's own)")
    p.set_defaults(func=cmd_broker_files)
