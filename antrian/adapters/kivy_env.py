"""What a Kivy process must settle before its first ``import kivy``, as environment only.

Kivy reads its environment and its config file when it is imported, and by default it
parses ``sys.argv`` (``antrian display --device ...`` would confuse it), installs its own
log handlers and writes ``~/.kivy``. :func:`prepare` fixes that for one process and sets
the config values a wing wants as ``KCFG_<SECTION>_<KEY>`` variables, which Kivy applies
over its config file at import (they are not written to that file).

The core never imports Kivy, not even here: the wings (kiosk, display, ...) call this
with their own window and input settings, then import their Kivy app.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["default_home", "prepare"]


def default_home() -> Path:
    """A KIVY_HOME in the temporary folder (per user), so a device never fills its home."""
    return Path(tempfile.gettempdir()) / f"antrian-kivy-{os.getuid()}"


def prepare(home: str | os.PathLike[str] | None = None, *,
            config: Mapping[str, Mapping[str, object]] | None = None, dpi: int | None = None) -> None:
    """Set Kivy's environment for this process, before any Kivy import.

    KIVY_NO_ARGS, KIVY_LOG_MODE=PYTHON (our logging, not Kivy's handlers) and KIVY_HOME
    (*home*, else :func:`default_home`) are defaults: a value already in the environment
    stays. *dpi* sets KIVY_DPI. *config* is ``{section: {key: value}}`` of Kivy's config
    file, e.g. ``{"graphics": {"fullscreen": "auto"}}``; each value wins over the file,
    as ``kivy.config.Config.set`` before the window import would.
    """
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_HOME", str(Path(home) if home is not None else default_home()))
    Path(os.environ["KIVY_HOME"]).mkdir(parents=True, exist_ok=True)
    if dpi:
        os.environ["KIVY_DPI"] = str(dpi)
    for section, values in (config or {}).items():
        for key, value in values.items():
            os.environ[f"KCFG_{section.upper()}_{key.upper()}"] = str(value)
