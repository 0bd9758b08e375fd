"""The kiosk wing's subcommands: the kiosk and the sample ticket (`antrian kiosk`, `antrian ticket`).

Added to the `antrian` command through the registry (antrian/wings.py, kiosk/wing.py).
The device libraries are imported inside the handlers, so listing the commands loads
none of them.
"""

from __future__ import annotations

import argparse
import logging

from antrian.cli import common
from antrian.errors import CommandError
from kiosk.options import PAPERS as PAPER_PROFILES

log = logging.getLogger("antrian")


def cmd_kiosk(args: argparse.Namespace) -> int:
    """The touch kiosk: service picker and ticket printer (the code lives in kiosk/)."""
    import importlib.util

    config, host, port = common.device_config(args, "kiosk")
    missing = [m for m in ("kivy", "escpos", "qrcode") if importlib.util.find_spec(m) is None]
    if missing:
        raise CommandError(f"missing {', '.join(missing)}: install the kiosk's libraries with "
                           "pip install 'antrian-mpp[kiosk]'")
    from kiosk.run import main as run_kiosk
    from kiosk.run import parse_size

    size = None
    if args.windowed or args.size:
        try:
            size = parse_size(args.size or "1280x800")
        except ValueError as exc:
            raise CommandError(f"--size: {exc}") from None
    return run_kiosk(config, args.device, (host, port), size)


def cmd_ticket(args: argparse.Namespace) -> int:
    """A sample ticket of a service as a PNG preview, drawn from the same layout the printer gets."""
    from kiosk.options import PAPERS, kiosk_settings

    config = common.read_config(args.config)
    if args.service not in config.services:
        raise CommandError(f"unknown service {args.service!r} (known: {', '.join(config.services)})")
    groups = [g.id for g in config.priority_groups]
    if args.priority and args.priority not in groups:
        raise CommandError(f"unknown priority group {args.priority!r} (known: {', '.join(groups)})")
    kiosks = [d for d in config.devices.values() if d.role == "kiosk"]
    device = config.device(args.device, "kiosk") if args.device else (kiosks[0] if kiosks else None)
    settings = kiosk_settings(device.options) if device else None
    profile = args.profile or (settings.printer.profile if settings else "TM-T20II")
    try:
        from kiosk.ticket import TicketData, layout
        from kiosk.ticket_png import render
    except ImportError as exc:
        raise CommandError(f"{exc}: install the kiosk's libraries with pip install 'antrian-mpp[kiosk]'") from None
    data = TicketData.sample(config, args.service, number=args.number, priority=args.priority, ahead=args.ahead,
                             wait_min=args.wait)
    lay = layout(data, PAPERS[profile])
    image = render(lay, scale=args.scale)
    try:
        image.save(args.png)
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot write {args.png}: {exc}") from None
    print(lay.text())
    print(f"{args.png}: {profile} ({PAPERS[profile].width_mm} mm paper), {image.width}x{image.height} px")
    if args.print:
        if settings is None:
            raise CommandError("--print needs a kiosk device with a printer in the site file")
        from kiosk.printer import PrinterError, TicketPrinter

        try:
            TicketPrinter(settings.printer).print(lay)
        except PrinterError as exc:
            raise CommandError(f"printer of {device.id}: {exc}") from None
        print(f"printed on the printer of {device.id} ({settings.printer.where})")
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    """Add this wing's subcommands to the `antrian` command."""
    p = sub.add_parser("kiosk", help="run the touch kiosk that prints queue tickets")
    common.device_arguments(p, "kiosk", window="1280x800")
    p.add_argument("--size", metavar="WxH", help="window size in pixels, e.g. 1280x800 or 800x1280")
    p.set_defaults(func=cmd_kiosk)

    p = sub.add_parser("ticket", help="draw a sample ticket of a service to a PNG (and print it with --print)")
    p.add_argument("--config", required=True)
    p.add_argument("--service", required=True, help="service code, e.g. KTP")
    p.add_argument("--png", required=True, help="the PNG file to write")
    p.add_argument("--device", help="the kiosk whose printer profile to use (default: the first kiosk)")
    p.add_argument("--profile", choices=sorted(PAPER_PROFILES), help="printer profile (overrides the kiosk's)")
    p.add_argument("--number", type=int, default=12, help="the sample's sequence number (default 12)")
    p.add_argument("--priority", help="a priority group id, e.g. lansia")
    p.add_argument("--ahead", type=int, default=4, help="people ahead on the sample (default 4)")
    p.add_argument("--wait", type=int, default=32, help="estimated wait in minutes on the sample (default 32)")
    p.add_argument("--scale", type=int, choices=range(1, 5), default=2, metavar="1-4",
                   help="pixels per printer dot (default 2)")
    p.add_argument("--print", action="store_true", help="also print it on the kiosk's printer")
    p.set_defaults(func=cmd_ticket)
