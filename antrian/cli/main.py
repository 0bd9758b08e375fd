"""The `antrian` command: one entry point for every role.

Each subcommand exits 0 on success and non-zero with a one-line reason on error; a
technician should never see a traceback for a typo in the site file or a busy port.
Every error of the project is an AntrianError (antrian/errors.py), so a subcommand lets
it through and :func:`main` prints it. The core's subcommands live in antrian/cli/tools.py
(run once) and antrian/cli/serve.py (run until Ctrl-C); each wing adds its own through the
registry (antrian/wings.py).
"""

from __future__ import annotations

import argparse
import logging
import sys

from antrian import __version__, wings
from antrian.cli import serve, tools
from antrian.site import ConfigError
from antrian.errors import AntrianError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="antrian", description="Antrian MPP: queue tickets for a Mal Pelayanan Publik")
    parser.add_argument("--version", action="version", version=f"antrian {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tools.add_commands(sub)
    serve.add_commands(sub)
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
        return getattr(exc, "exit_status", 1)
    except KeyboardInterrupt:
        return 130


