"""The web wing's subcommands: ``antrian web`` (run one app) and ``antrian web-user``
(the staff app's logins; web/users.py). Added to the `antrian` command through the
registry; the web libraries are imported inside the handlers."""

from __future__ import annotations

import argparse

from antrian.cli import common
from antrian.errors import CommandError


def _listen(text: str) -> tuple[str, int]:
    from antrian.adapters.mqtt import parse_address

    try:
        return parse_address(text, default_port=8080)
    except ValueError as exc:
        raise CommandError(f"--listen: {exc}") from None


def cmd_web(args: argparse.Namespace) -> int:
    """One browser app: the staff app or the public app, as its device's options say."""
    config, host, port = common.device_config(args, "web")
    try:
        from web.server import build, serve
    except ImportError as exc:
        raise CommandError(f"{exc}: install the web apps' libraries with pip install 'antrian-mpp[web]'") from None
    web = build(config, args.device, users=args.users)
    if not web.public and web.users_file is None:
        raise CommandError(f"{args.device}: the staff app needs a users file: --users FILE or 'users:' in "
                           f"{config.source} (make one with antrian web-user --users FILE add NAME --role kepala)")
    serve(web, (host, port), _listen(args.listen or web.options.listen or web.options.default_listen))
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    """Add this wing's subcommands to the `antrian` command."""
    p = sub.add_parser("web", help="run a browser app: the staff app (dashboard, TV boards) or the public app")
    common.device_arguments(p, "web app")
    p.add_argument("--listen", metavar="HOST:PORT", help="where to listen (default: the device's listen option)")
    p.add_argument("--users", metavar="FILE", help="the staff app's users file (default: the device's users option)")
    p.set_defaults(func=cmd_web)
    from web import users

    users.add_command(sub)
