"""The board's Kivy settings, made before the first Kivy import.

The environment itself (KIVY_NO_ARGS, KIVY_HOME, the log mode and the config values) is
set by :func:`antrian.adapters.kivy_env.prepare`; this module holds what is the board's
own: its files under the state folder, its window and cursor, Escape quitting.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from antrian.adapters import kivy_env


def prepare(state_dir: str | os.PathLike[str], *, size: tuple[int, int] | None = None,
            fullscreen: bool = True, verbose: bool = False) -> None:
    """Set up Kivy for a board: its files under *state_dir*, a window of *size*
    pixels (None: the screen's), full-screen or not."""
    graphics: dict[str, object] = {}
    if size is not None:
        graphics.update(width=size[0], height=size[1])
    graphics.update(fullscreen="auto" if fullscreen else "0", resizable="1", show_cursor="0" if fullscreen else "1")
    kivy_env.prepare(Path(state_dir) / "kivy", config={
        "kivy": {"exit_on_escape": "1"},
        "input": {"mouse": "mouse,disable_multitouch"},
        "graphics": graphics,
    })
    if not verbose:
        logging.getLogger("kivy").setLevel(logging.WARNING)
