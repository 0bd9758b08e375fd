"""`antrian kiosk`: Kivy's settings, which must be made before Kivy is imported, then the app.

    prepare_kivy(settings, size=(1280, 800))     # env + kivy.config, before any Kivy import
    app = build_app(config, "kiosk1", ("127.0.0.1", 1883))
    app.run()

Full screen by default, with the mouse cursor hidden, Escape not quitting and the
right-click multitouch simulation off; a window `size` is for a developer's desk
and for tests. Kivy writes its own config and logs under KIVY_HOME: a folder in /tmp
unless set, so a kiosk never fills the home directory.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path

from antrian.site import Config
from kiosk.options import KioskSettings, kiosk_settings

__all__ = ["build_app", "main", "prepare_kivy"]


def parse_size(text: str) -> tuple[int, int]:
    """'1280x800' -> (1280, 800)."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or not (200 <= int(width) <= 8000
                                                                      and 200 <= int(height) <= 8000):
        raise ValueError(f"bad window size {text!r}: expected WIDTHxHEIGHT such as 1280x800")
    return int(width), int(height)


def prepare_kivy(settings: KioskSettings, size: tuple[int, int] | None = None) -> None:
    """Environment and kivy.config for the kiosk; full screen unless a window `size` is given."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # our logging, not Kivy's handlers
    os.environ.setdefault("KIVY_HOME", str(Path(tempfile.gettempdir()) / f"antrian-kivy-{os.getuid()}"))
    if settings.dpi:
        os.environ["KIVY_DPI"] = str(settings.dpi)
    from kivy.config import Config as KivyConfig

    KivyConfig.set("input", "mouse", "mouse,disable_multitouch")
    # Nothing on the kiosk moves: 30 frames a second halve the idle CPU of Kivy's loop.
    KivyConfig.set("graphics", "maxfps", "30")
    KivyConfig.set("graphics", "rotation", str(settings.rotation))
    if size:
        width, height = size
        KivyConfig.set("graphics", "fullscreen", "0")
        KivyConfig.set("graphics", "width", str(width))
        KivyConfig.set("graphics", "height", str(height))
        KivyConfig.set("graphics", "resizable", "0")
    else:
        KivyConfig.set("graphics", "fullscreen", "auto")
        KivyConfig.set("graphics", "show_cursor", "0")
        KivyConfig.set("kivy", "exit_on_escape", "0")


def build_app(config: Config, device: str, address: tuple[str, int]):
    """The kiosk app for a device of the site file (prepare_kivy first)."""
    from .app import KioskApp
    from .link import Link
    from .printer import TicketPrinter

    settings = kiosk_settings(config.device(device, "kiosk").options)
    return KioskApp(config, device, settings, Link(config, device), TicketPrinter(settings.printer), address)


def main(config: Config, device: str, address: tuple[str, int], size: tuple[int, int] | None = None) -> int:
    """Run the kiosk until it is stopped; full screen unless a window size is given."""
    settings = kiosk_settings(config.device(device, "kiosk").options)
    prepare_kivy(settings, size)
    app = build_app(config, device, address)
    from kivy.clock import Clock

    # SIGTERM (systemd stop) closes the app cleanly: the status says offline at once.
    signal.signal(signal.SIGTERM, lambda *_: Clock.schedule_once(lambda _dt: app.stop()))
    app.run()
    return 0
