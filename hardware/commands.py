"""The hardware wing's subcommands: the counter panel (`antrian panel`).

Added to the `antrian` command through the registry (antrian/wings.py, hardware/wing.py).
The device libraries are imported inside the handlers, so listing the commands loads
none of them.
"""

from __future__ import annotations

import argparse
import logging

from antrian.cli import common
from antrian.errors import CommandError

log = logging.getLogger("antrian")


def cmd_panel(args: argparse.Namespace) -> int:
    """A counter Pi's call buttons, LEDs and keypads (the code lives in hardware/)."""
    config, host, port = common.device_config(args, "panel")
    try:
        from hardware.panel import Panel
    except ImportError as exc:
        raise CommandError(f"{exc}: install the panel's libraries with pip install 'antrian-mpp[panel]'") from None
    stop = common.stop_on_signal()
    panel = Panel(config, args.device)
    panel.start(host, port)  # a busy pin is a GPIOError: one line from antrian.cli.main
    try:
        common.wait_for_signal(stop)
    finally:
        panel.close()
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    """Add this wing's subcommands to the `antrian` command."""
    p = sub.add_parser("panel", help="run a counter panel: GPIO call buttons, LEDs, USB keypads")
    common.device_arguments(p, "panel")
    p.set_defaults(func=cmd_panel)
