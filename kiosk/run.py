"""`antrian kiosk`: Kivy's settings, which must be made before Kivy is imported, then the app.

    prepare_kivy(settings, size=(1280, 800))     # Kivy's environment, before any Kivy import
    app = build_app(config, "kiosk1", ("127.0.0.1", 1883))
    app.run()

Full screen by default, with the mouse cursor hidden, Escape not quitting and the
right-click multitouch simulation off; a window `size` is for a developer's desk
and for tests. Kivy writes its own config and logs under KIVY_HOME: a folder in /tmp
unless set, so a kiosk never fills the home directory.
"""

from __future__ import annotations

import signal

from antrian.adapters import kivy_env
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
    """Environment and Kivy config for the kiosk; full screen unless a window `size` is given."""
    # Nothing on the kiosk moves: 30 frames a second halve the idle CPU of Kivy's loop.
    graphics: dict[str, object] = {"maxfps": "30", "rotation": settings.rotation}
    config: dict[str, dict[str, object]] = {"input": {"mouse": "mouse,disable_multitouch"}, "graphics": graphics}
    if size:
        width, height = size
        graphics.update(fullscreen="0", width=width, height=height, resizable="0")
    else:
        graphics.update(fullscreen="auto", show_cursor="0")
        config["kivy"] = {"exit_on_escape": "0"}
    kivy_env.prepare(config=config, dpi=settings.dpi)


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
