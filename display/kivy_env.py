"""Kivy settings that must be made before the first Kivy window import.

Kivy reads its environment and its config file at import time, and by default it
parses ``sys.argv`` (``antrian display --device ...`` would confuse it) and writes
``~/.kivy``. :func:`prepare` fixes all of that for one process; call it first.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path


def prepare(state_dir: str | os.PathLike[str], *, size: tuple[int, int] | None = None,
            fullscreen: bool = True, verbose: bool = False) -> None:
    """Set up Kivy for a board: its files under *state_dir*, a window of *size*
    pixels (None: the screen's), full-screen or not."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_HOME", str(Path(state_dir) / "kivy"))
    Path(os.environ["KIVY_HOME"]).mkdir(parents=True, exist_ok=True)
    from kivy.config import Config

    if not verbose:
        logging.getLogger("kivy").setLevel(logging.WARNING)
    Config.set("kivy", "exit_on_escape", "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    if size is not None:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "resizable", "1")
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
