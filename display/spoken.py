"""What a board has said: the last call spoken, on disk, so a restart never says a call twice.

:class:`SpokenMemory` is the announcer's (display/announcer.py) half of the rule "never a
call twice": its ``seq`` is written durably before the sentence is played.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["SpokenMemory", "made_at"]


def made_at(call: dict[str, Any]) -> dt.datetime | None:
    """When *call* was made (its ``at``, with a time zone), or None."""
    try:
        at = dt.datetime.fromisoformat(call["at"])
    except (KeyError, TypeError, ValueError):
        return None
    return at if at.tzinfo is not None else None


class SpokenMemory:
    """The last call spoken, kept in a small JSON file so a restart never repeats one.

    A ``seq`` at or below the remembered one counts as spoken -- unless it is below
    and the call was made *after* the remembered one, which only happens when the
    dispatcher's database was replaced and its ``seq`` started again from 1.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.seq = 0
        self.at: dt.datetime | None = None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self.seq = int(data["seq"])
            self.at = made_at(data)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("cannot read %s (%s); starting with no call spoken", self.path, exc)

    def spoken(self, call: dict[str, Any]) -> bool:
        if call["seq"] > self.seq:
            return False
        at = made_at(call)
        # The same seq is the same call, whatever it says; a lower one made later is new.
        if call["seq"] < self.seq and at is not None and self.at is not None and at > self.at:
            log.warning("call %s has seq %d, not above the last spoken %d, but was made later: "
                        "the dispatcher's sequence started again; announcing it", call["number"], call["seq"],
                        self.seq)
            return False
        return True

    def remember(self, call: dict[str, Any]) -> None:
        """Write *call* as the last spoken, durably (it survives a power cut)."""
        self.seq, self.at = call["seq"], made_at(call)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"seq": call["seq"], "at": call.get("at"), "number": call.get("number")}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)  # the rename itself
        finally:
            os.close(fd)
