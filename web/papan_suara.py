"""The browser board's sound: each call's announcement as a WAV file, made once.

The sound is made by the display wing's own announcer code (the chime, then the sentence
``repeat`` times, with that display's voice settings; a recall says "Panggilan ulang,
..."; ``short``: the short form once without the chime, which the page asks for when a
call waited behind another, as the Pi board's announcer does), which the web wing
reaches by name through the registry (``call_audio``, display/webboard.py) because it
may not import the display package. Making one takes espeak-ng's 20-50 ms and a few
hundred kilobytes, so :class:`Sounds` keeps the recent ones (bounded by bytes, keyed by
the sentence and every voice setting: boards with the same settings share them, and a
reload or a second TV costs nothing) and makes each sound once however many boards ask
for it at the same moment. The work runs in a thread, one sound at a time per board,
never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from starlette.concurrency import run_in_threadpool

from antrian.errors import AntrianError
from antrian.site import Config
from antrian.wings import registry

__all__ = ["CACHE_BYTES", "Sounds"]

log = logging.getLogger("antrian.web")

CACHE_BYTES = 8 * 1024 * 1024  # about 25 announcements of 7 s at 22 kHz


class Sounds:
    """The WAV files of the calls, for every browser board of one app."""

    def __init__(self, config: Config, limit: int = CACHE_BYTES) -> None:
        self.config = config
        self.limit = limit
        self.made = 0  # sounds made (tests and the benchmark read it)
        self._makers: dict[str, Any] = {}
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._making: dict[str, asyncio.Future[bytes | None]] = {}

    def _maker(self, device: str) -> Any:
        maker = self._makers.get(device)
        if maker is None:
            maker = self._makers[device] = registry().service("call_audio")(self.config, device)
        return maker

    async def wav(self, device: str, call: dict[str, Any], short: bool = False) -> bytes | None:
        """The announcement of *call* on board *device* (*short*: the backlog's short form);
        None when it cannot be made (the reason is logged once per call; the board then
        shows the call without sound)."""
        maker = self._maker(device)
        number, counter = call["number"], call["counter_name"]
        # A remote counter's call says its location (docs/protocol.md, "Remote counters").
        location = call.get("location") if isinstance(call.get("location"), str) and call["location"].strip() else None
        form = {"recall": call.get("recall") is True, "short": short}
        key = maker.key(number, counter, location, **form)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        pending = self._making.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._making[key] = future
        data: bytes | None = None
        try:
            data = await run_in_threadpool(maker.wav, number, counter, location, **form)
            self.made += 1
            self._keep(key, data)
        except AntrianError as exc:  # SpeechError, AudioError: espeak-ng missing, a clip missing
            log.error("papan %s: no sound for %s: %s", device, number, exc)
        finally:
            # Whatever happened, those waiting for the same sound get an answer.
            self._making.pop(key, None)
            future.set_result(data)
        return data

    def warm(self, device: str, call: dict[str, Any]) -> None:
        """Start making *call*'s sound now, so it is ready when the page asks."""
        task = asyncio.get_running_loop().create_task(self.wav(device, call))
        task.add_done_callback(_quiet)

    def _keep(self, key: str, data: bytes) -> None:
        if len(data) > self.limit:
            return
        self._cache[key] = data
        self._size += len(data)
        while self._size > self.limit:
            _, old = self._cache.popitem(last=False)
            self._size -= len(old)

    @property
    def cached_bytes(self) -> int:
        return self._size

    def close(self) -> None:
        for maker in self._makers.values():
            maker.close()
        self._makers.clear()


def _quiet(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("papan: making a sound failed: %s", task.exception())
