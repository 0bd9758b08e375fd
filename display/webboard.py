"""What a browser board (the web wing's ``/papan/{device}``) gets from the display wing.

The web wing may not import this package (the ``wings are independent`` contract), so
it asks the registry by name (display/wing.py ``services``):

- ``board_view`` -> :func:`board_view`: the texts the Kivy board shows for a Board
  payload (counter tiles, waiting rows, earlier calls, the banner), as plain data made
  by the same functions of display/view.py, so a TV in a browser and a Pi board never
  disagree about what the hall sees.
- ``call_audio`` -> :class:`CallAudio`: one call's announcement as a WAV file, made by
  the board's own announcer code (display/announcer.py ``announcement_audio``: the
  chime, then the sentence ``repeat`` times) with the display's own voice settings; a
  recall says "Panggilan ulang, ..." first, and the short form (a call the page had
  to hold back behind another: once, no chime) follows the Pi board's backlog rule.

Speech on a server: ``speech: espeak-ng`` and ``speech: clips`` are used as they are.
``speech: pyttsx3`` (the Pi board's default) drives espeak-ng's Indonesian voice
through pyttsx3, which has no way to hand back a WAV on a server without a sound
device to spare; its WAV here comes from the espeak-ng command with the same voice,
rate and volume -- the same synthesiser, so the hall hears the same voice.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
import wave
from typing import Any

from antrian import bahasa
from antrian.site import Config

from . import view
from .announcer import announcement_audio, call_location, valid_call
from .options import DisplayOptions, read, zone_counters
from .speech import ClipsEngine, EspeakEngine, SpeechEngine

__all__ = ["CallAudio", "board_view", "call_view", "display_options"]

log = logging.getLogger(__name__)

RECENT_ROWS = 3  # as display/app.py: earlier calls under the big card
# The layout rule of display/view.py, for the page's script (web/static/papan.js page_grid).
LAYOUT = {"tile_min_h": view.TILE_MIN_H, "tile_min_w": view.TILE_MIN_W, "gap": view.TILE_GAP,
          "number": view.NUMBER_SHARE, "name": view.NAME_SHARE, "detail": view.DETAIL_SHARE}


def display_options(config: Config, device_id: str) -> dict[str, Any]:
    """The options a browser board needs on the page (ConfigError: no such display);
    ``zone``: the ids of its zone's counters, sorted, or None for the whole site."""
    o = read(config, device_id)
    zone = zone_counters(config, o.zone)
    return {"browser": o.browser, "orientation": o.orientation, "min_call_seconds": o.min_call_seconds,
            "catch_up_seconds": o.catch_up_seconds, "speech": o.speech, "chime": o.chime, "repeat": o.repeat,
            "zone": None if zone is None else sorted(zone), "speaks": o.speaks, "page_seconds": o.page_seconds}


def call_view(call: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any] | None:
    """A Call as the page shows it (None for a malformed one). ``age``: seconds since the
    call was made by *now* (None when the call has no usable time), for the catch-up rule."""
    if not valid_call(call):
        return None
    age = None
    try:
        at = dt.datetime.fromisoformat(call["at"])
        if at.tzinfo is not None and now is not None:
            age = round((now - at).total_seconds(), 3)
    except (KeyError, TypeError, ValueError):
        pass
    service = call.get("service_name")
    # counter_name is where the call sends the citizen: a remote counter's location.
    return {"seq": call["seq"], "number": call["number"], "counter_name": view.call_place(call),
            "counter": call.get("counter") if isinstance(call.get("counter"), str) else None,
            "booking": call.get("booking") is True,
            "location": call_location(call),
            "service": view.short_name(service) if isinstance(service, str) else "",
            "recall": call.get("recall") is True, "at": call.get("at") if isinstance(call.get("at"), str) else None,
            "age": age}


def board_view(config: Config, board: dict[str, Any] | None, *, now: dt.datetime, broker_connected: bool,
               offline_for: float, dispatcher: dict[str, Any], zone: Any = None) -> dict[str, Any]:
    """Everything of the board but the big card, as texts: the counter tiles, the
    waiting rows (every service, in order; the page shows ``waiting_page`` a page, as
    display/view.py waiting_pages), the earlier calls (every one
    the board lists, oldest first: the page keeps those before the call it shows), the
    banner (display/view.py's rules), the date line and the layout rule. *zone*: the
    counters of a zoned board (``display_options``), whose tiles, rows and calls only
    are given."""
    board = board if isinstance(board, dict) else None
    zone = None if zone is None else frozenset(zone)
    recent = [c for c in (call_view(c, now) for c in (board or {}).get("recent") or ()
                          if isinstance(c, dict) and view.in_zone(c, zone)) if c is not None]
    day = (board or {}).get("business_day")
    banner = view.banner(connected=broker_connected, offline_for=offline_for, have_board=board is not None,
                         waited_for_board=view.GRACE_SECONDS if broker_connected else 0.0,
                         dispatcher_online=dispatcher.get("online"), dispatcher_notice=dispatcher.get("notice") or "",
                         board_day=day if isinstance(day, str) else None, now=now)
    waiting = [{"prefix": r.prefix, "name": r.name, "count": r.count, "closed": r.closed}
               for r in view.waiting_rows(config, board, now=now, zone=zone)]
    return {
        "tiles": [tile.__dict__ for tile in view.counter_tiles(config, board, zone, now=now)],
        "waiting": {"landscape": waiting, "portrait": waiting},
        "waiting_page": view.WAITING_PAGE,
        "waiting_title": view.WAITING,
        "layout": LAYOUT,
        "recent": sorted(recent, key=lambda c: c["seq"]),
        "recent_rows": RECENT_ROWS,
        "banner": banner,
        "no_call": view.NO_CALL_YET,
        "closed": view.CLOSED,
        "booking": view.BOOKING_TAG,
    }


def _wav_bytes(audio: Any) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(audio.channels)
        w.setsampwidth(audio.sampwidth)
        w.setframerate(audio.rate)
        w.writeframes(audio.frames)
    return out.getvalue()


class CallAudio:
    """The announcements of display *device_id* as WAV files.

    ``key(number, counter_name)`` names the sound (the sentence and every voice
    setting), so a cache may hold it across boards with the same settings;
    ``wav(number, counter_name)`` makes it (blocking: run it off the event loop;
    SpeechError or AudioError when it cannot). Thread-safe: one sound is made at a time.
    """

    def __init__(self, config: Config, device_id: str) -> None:
        self.config = config
        self.options: DisplayOptions = read(config, device_id)
        o = self.options
        self.engine_name = "clips" if o.speech == "clips" else "espeak-ng"
        if o.speech == "pyttsx3":
            log.info("%s: speech pyttsx3 has no WAV path on a server; the browser board's sound is made "
                     "with espeak-ng's %r voice (the same synthesiser)", device_id, o.voice)
        self._settings = (f"{self.engine_name}|{o.voice}|{o.rate}|{o.volume}|{o.repeat}|{o.chime}|{o.clips or ''}"
                          if o.speech != "clips" else f"clips|{o.clips}|{o.volume}|{o.repeat}|{o.chime}")
        self._engine: SpeechEngine | None = None
        self._lock = threading.Lock()

    def text(self, number: str, counter_name: str, location: str | None = None, *, recall: bool = False,
             short: bool = False) -> str:
        a = self.config.announcement
        if short:
            return bahasa.short_announcement(number, counter_name, location=location, digits=a.digits, recall=recall)
        return bahasa.announcement(number, counter_name, location=location, template=a.template, digits=a.digits,
                                   recall=recall)

    def key(self, number: str, counter_name: str, location: str | None = None, *, recall: bool = False,
            short: bool = False) -> str:
        form = "short" if short else "full"  # a site's template may read like the short form
        return f"{self._settings}|{form}|{self.text(number, counter_name, location, recall=recall, short=short)}"

    def _make_engine(self) -> SpeechEngine:
        o = self.options
        if o.speech == "clips":
            return ClipsEngine(o.clips, o.volume)
        return EspeakEngine(o.voice, o.rate, o.volume)

    def wav(self, number: str, counter_name: str, location: str | None = None, *, recall: bool = False,
            short: bool = False) -> bytes:
        """The chime and the sentence, as one WAV file's bytes (*location*: a remote
        counter's, said in its place; *recall*: "Panggilan ulang, ..."; *short*: the
        short form once, without the chime, for a call that waited behind another)."""
        text = self.text(number, counter_name, location, recall=recall, short=short)
        o = self.options
        with self._lock:
            if self._engine is None:
                self._engine = self._make_engine()
            audio = announcement_audio(self._engine, text, chime=o.chime and not short, volume=o.volume,
                                       repeat=1 if short else o.repeat, timeout=o.speech_timeout)
        return _wav_bytes(audio)

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
