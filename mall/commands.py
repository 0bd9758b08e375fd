"""The mall wing's subcommands: the scripted morning (`antrian morning`).

Added to the `antrian` command through the registry (antrian/wings.py, mall/wing.py).
The device libraries are imported inside the handlers, so listing the commands loads
none of them.
"""

from __future__ import annotations

import argparse
import logging

from antrian.cli import common
from antrian.errors import CommandError

log = logging.getLogger("antrian")


def cmd_morning(args: argparse.Namespace) -> int:
    """A scripted, headless morning on the real pieces, into one folder (mall/morning/)."""
    from mall.morning import main

    common.read_config(args.config)  # a ConfigError before anything starts
    if not args.verbose:  # the whole log goes to OUT/morning.log; the terminal gets warnings
        for handler in logging.getLogger().handlers:
            handler.setLevel(logging.WARNING)
    try:
        return main(args.config, args.out)  # a MorningError is one line from antrian.cli.main
    except ImportError as exc:
        raise CommandError(f"{exc}: the morning needs the kiosk, board and panel libraries "
                           "(pip install -e '.[test]')") from None


def add(sub: argparse._SubParsersAction) -> None:
    """Add this wing's subcommands to the `antrian` command."""
    p = sub.add_parser("morning", help="run a scripted morning headless on the real pieces, into one folder")
    p.add_argument("--config", required=True)
    p.add_argument("--out", default="morning", help="output folder (default: ./morning)")
    p.set_defaults(func=cmd_morning)
