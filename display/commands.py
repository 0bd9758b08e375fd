"""The display wing's subcommands: the board and the announcement to a WAV (`antrian display`, `antrian say`).

Added to the `antrian` command through the registry (antrian/wings.py, display/wing.py).
The device libraries are imported inside the handlers, so listing the commands loads
none of them.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from antrian.cli import common
from antrian.errors import CommandError
from antrian.site import Config

log = logging.getLogger("antrian")


def _display_state_dir(args: argparse.Namespace, config: Config, device: str) -> Path:
    """Where a board keeps the last call it spoke and its Kivy files (XDG state dir)."""
    if args.state_dir:
        return Path(args.state_dir)
    import os

    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "antrian" / f"{config.site.id}-{device}"


def _window_size(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or not (200 <= int(width) <= 8000
                                                                     and 200 <= int(height) <= 8000):
        raise CommandError(f"--size: {text!r} is not like 1920x1080")
    return int(width), int(height)


def cmd_display(args: argparse.Namespace) -> int:
    """The waiting-hall board: Kivy screen and announcer (the code lives in display/)."""
    from display.options import read

    config, host, port = common.device_config(args, "display")
    options = read(config, args.device)
    size = _window_size(args.size)
    state_dir = _display_state_dir(args, config, args.device)
    try:
        from display.kivy_env import prepare

        prepare(state_dir, size=size, fullscreen=options.fullscreen and not args.windowed, verbose=args.verbose)
        from display.app import run
    except ImportError as exc:
        raise CommandError(f"{exc}: install the board's libraries with pip install 'antrian-mpp[display]'") from None
    # An AudioError or SpeechError is one line from antrian.cli.main.
    run(config, args.device, host, port, options=options, state_dir=state_dir)
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    """One call announcement, chime included, to a WAV file (speaker tests, tests)."""
    from antrian import bahasa
    from display.options import DisplayOptions, read
    from antrian.queue.engine import normalize_number

    config = common.read_config(args.config)
    displays = [d.id for d in config.devices.values() if d.role == "display"]
    device = args.device or (displays[0] if displays else None)
    options = read(config, device) if device else DisplayOptions()
    wanted = args.counter.strip().lower()
    counter = next((c for c in config.counters.values() if wanted in (c.id.lower(), c.name.lower())), None)
    if counter is None:
        known = ", ".join(f"{c.id} ({c.name})" for c in config.counters.values())
        raise CommandError(f"unknown counter {args.counter!r} (known: {known})")
    number = normalize_number(args.number)
    if number is None:
        raise CommandError(f"{args.number!r} is not a ticket number like B-012")
    try:
        text = bahasa.announcement(number, counter.name, location=counter.location if counter.remote else None,
                                   template=config.announcement.template, digits=config.announcement.digits)
        from display.announcer import announcement_audio
        from display.speech import make_engine
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    except ImportError as exc:
        raise CommandError(f"{exc}: install the board's libraries with pip install 'antrian-mpp[display]'") from None
    engine = make_engine(options)
    try:
        audio = announcement_audio(engine, text, chime=options.chime, volume=options.volume, repeat=args.repeat,
                                   timeout=options.speech_timeout)
        audio.write(args.wav)
    finally:  # a SpeechError or AudioError goes on to antrian.cli.main as one line
        engine.close()
    print(text)
    print(f"{args.wav}: {audio.duration:.1f} s, {options.speech} voice {options.voice} at {options.rate} words/min"
          + (f" (settings of {device})" if device else ""))
    return 0


def add(sub: argparse._SubParsersAction) -> None:
    """Add this wing's subcommands to the `antrian` command."""
    p = sub.add_parser("display", help="run a waiting-hall TV board with its announcer")
    common.device_arguments(p, "board", window="")
    p.add_argument("--state-dir", help="folder for the last call spoken (default: ~/.local/state/antrian/SITE-ID)")
    p.add_argument("--size", metavar="WxH", help="window size in pixels, e.g. 1280x720 or 1080x1920")
    p.set_defaults(func=cmd_display)

    p = sub.add_parser("say", help="write a call announcement, chime included, to a WAV file")
    p.add_argument("--config", required=True)
    p.add_argument("number", help="ticket number, e.g. B-012")
    p.add_argument("counter", help="counter id or name, e.g. loket3 or 'Loket 3'")
    p.add_argument("--wav", required=True, help="the WAV file to write")
    p.add_argument("--device", help="use this display's voice settings (default: the first display)")
    p.add_argument("--repeat", type=int, choices=range(1, 6), default=1, metavar="N",
                   help="say the sentence N times (default 1)")
    p.set_defaults(func=cmd_say)
