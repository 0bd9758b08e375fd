"""The announcer: calls in, one at a time, chime first, then the sentence; never a call twice.

Calls arrive from the MQTT thread (:meth:`Announcer.announce`, and :meth:`Announcer.board`
for calls made while the board was offline) and wait in a queue ordered by ``seq``.
One worker thread takes them in turn:

1. the previous call has been on screen for ``min_call_seconds`` (so calls that come
   together do not flash by), and a call whose ``seq`` was already spoken -- this run,
   or before a restart, as :class:`SpokenMemory` remembers on disk -- is only shown;
2. the call is shown (``on_show``) and the chime handed to the audio sink, while the
   ``seq`` is written to disk and the sentence synthesised; then the sentence is
   played ``repeat`` times;
3. a speech engine that overruns ``speech_timeout`` is restarted and asked once more
   (the watchdog); if it fails again the call is shown without sound and
   ``speech_error`` is reported in the board's status.

No Kivy here: the board passes callbacks, tests pass a recording sink.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
import json
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from antrian import bahasa

from .audio import Audio, AudioError, AudioSink
from .chime import chime as make_chime
from .speech import SpeechEngine, SpeechError, SpeechTimeout

log = logging.getLogger(__name__)

__all__ = ["Announcer", "SpokenMemory", "announcement_audio", "call_location", "repeated", "valid_call"]

REPEAT_PAUSE = 0.8  # seconds between two readings of the same call
DEFAULT_FORMAT = (22050, 1)  # rate and channels of espeak-ng's output, for the chime


def valid_call(obj: Any) -> bool:
    """True for a Call payload the board can show and say."""
    return (isinstance(obj, dict) and isinstance(obj.get("seq"), int) and not isinstance(obj.get("seq"), bool)
            and isinstance(obj.get("number"), str) and isinstance(obj.get("counter_name"), str))


def call_location(call: dict[str, Any]) -> str | None:
    """Where a remote counter's call sends the citizen (the Call's ``location``), or None
    for a counter in the building (docs/protocol.md, "Remote counters")."""
    location = call.get("location")
    return location if isinstance(location, str) and location.strip() else None


def repeated(speech: Audio, times: int) -> Audio:
    """*speech* said *times* times with a short pause between."""
    whole = speech
    for _ in range(times - 1):
        whole = whole + speech.silence(REPEAT_PAUSE) + speech
    return whole


def announcement_audio(engine: SpeechEngine, text: str, *, chime: bool = True, volume: float = 1.0,
                       repeat: int = 1, timeout: float = 10.0) -> Audio:
    """The whole announcement as one piece of audio: chime, then *text* *repeat* times
    (``antrian say``). Raises SpeechError."""
    speech = engine.synthesize(text, timeout)
    whole = repeated(speech, repeat)
    if chime:
        whole = make_chime(speech.rate, speech.channels, volume) + whole
    return whole


def _when(call: dict[str, Any]) -> dt.datetime | None:
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
            self.at = _when(data)
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("cannot read %s (%s); starting with no call spoken", self.path, exc)

    def spoken(self, call: dict[str, Any]) -> bool:
        if call["seq"] > self.seq:
            return False
        at = _when(call)
        # The same seq is the same call, whatever it says; a lower one made later is new.
        if call["seq"] < self.seq and at is not None and self.at is not None and at > self.at:
            log.warning("call %s has seq %d, not above the last spoken %d, but was made later: "
                        "the dispatcher's sequence started again; announcing it", call["number"], call["seq"],
                        self.seq)
            return False
        return True

    def remember(self, call: dict[str, Any]) -> None:
        """Write *call* as the last spoken, durably (it survives a power cut)."""
        self.seq, self.at = call["seq"], _when(call)
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


@dataclasses.dataclass(frozen=True)
class _Item:
    seq: int
    call: dict[str, Any]
    speak: bool


ShowCallback = Callable[[dict[str, Any], bool], None]


class Announcer:
    """Speaks calls one at a time. See the module docstring for the rules.

    *engine* and *sink* are owned: ``stop()`` closes them. *on_show(call, spoken)*
    and *on_problems(list)* are called from the announcer's thread. Times are in
    seconds; *clock* is monotonic, *now* gives the wall-clock time for the age of
    calls caught up from a board message.
    """

    def __init__(self, engine: SpeechEngine, sink: AudioSink, memory: SpokenMemory, *,
                 template: str = bahasa.DEFAULT_TEMPLATE, digits: bool = False, repeat: int = 1,
                 min_call_seconds: float = 5.0, chime: bool = True, volume: float = 1.0,
                 speech_timeout: float = 10.0, catch_up_seconds: float = 30.0,
                 on_show: ShowCallback | None = None, on_problems: Callable[[list[str]], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> None:
        self.engine, self.sink, self.memory = engine, sink, memory
        self.template, self.digits, self.repeat = template, digits, repeat
        self.min_call_seconds, self.chime, self.volume = min_call_seconds, chime, volume
        self.speech_timeout, self.catch_up_seconds = speech_timeout, catch_up_seconds
        self.on_show, self.on_problems = on_show, on_problems
        self.clock, self.now = clock, now
        self.engine_restarts = 0
        self.spoken_count = 0
        self.problems: list[str] = []
        self.shown: dict[str, Any] | None = None
        self._format = DEFAULT_FORMAT
        self._heap: list[tuple[int, int, _Item]] = []
        self._queued: set[int] = set()
        self._order = itertools.count()
        self._shown_seq = 0
        self._shown_at = -float("inf")
        self._busy = False
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._synth = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech")

    # -- the outside ------------------------------------------------------------

    def start(self) -> Announcer:
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._thread.start()
        # Warm the engine (a worker process starts in ~0.1 s) and the chime while idle.
        self._synth.submit(self._warm_up)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self.sink.close()
        if self._thread is not None:
            self._thread.join(timeout)
        self._synth.shutdown(wait=False, cancel_futures=True)
        self.engine.close()

    @property
    def pending(self) -> int:
        """Calls waiting for their turn."""
        with self._cond:
            return len(self._heap)

    @property
    def idle(self) -> bool:
        """Nothing being announced and nothing waiting."""
        with self._cond:
            return not self._busy and not self._heap

    def text(self, call: dict[str, Any]) -> str:
        """The sentence spoken for *call*."""
        return bahasa.announcement(call["number"], call["counter_name"], location=call_location(call),
                                   template=self.template, digits=self.digits)

    def announce(self, call: Any) -> bool:
        """Queue a Call from the call topic; False if it is malformed or already queued or shown."""
        if not valid_call(call):
            log.warning("ignored a malformed call: %r", call)
            return False
        with self._cond:
            return self._push(call, speak=True)

    def board(self, board: Any) -> None:
        """Catch up from a Board payload: calls newer than the last one shown that are at
        most ``catch_up_seconds`` old are announced (they were made while this board was
        offline); otherwise the newest call is only shown."""
        recent = board.get("recent") if isinstance(board, dict) else None
        calls = sorted((c for c in recent or () if valid_call(c)), key=lambda c: c["seq"])
        if not calls:
            return
        now = self.now()
        with self._cond:
            for call in calls:
                at = _when(call)
                fresh = at is not None and (now - at).total_seconds() <= self.catch_up_seconds
                if fresh:
                    self._push(call, speak=True)
                elif call is calls[-1]:
                    self._push(call, speak=False)

    def wait_idle(self, timeout: float) -> bool:
        """Block until idle (tests, benchmarks, a clean shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy and not self._heap, timeout)

    # -- the worker ------------------------------------------------------------

    def _push(self, call: dict[str, Any], speak: bool) -> bool:
        seq = call["seq"]
        if seq <= self._shown_seq or seq in self._queued:
            return False
        self._queued.add(seq)
        heapq.heappush(self._heap, (seq, next(self._order), _Item(seq, call, speak)))
        self._cond.notify_all()
        return True

    def _take(self) -> _Item | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if self._heap:
                    # The previous call stays on screen at least min_call_seconds.
                    left = self._shown_at + self.min_call_seconds - self.clock()
                    if left <= 0:
                        _, _, item = heapq.heappop(self._heap)
                        self._queued.discard(item.seq)
                        self._busy = True
                        return item
                    self._cond.wait(left)
                else:
                    self._cond.wait()

    def _run(self) -> None:
        while True:
            item = self._take()
            if item is None:
                return
            try:
                self._handle(item)
            except Exception:  # noqa: BLE001 -- a bug in one call must not silence the hall for the day
                log.exception("announcer: call %s failed", item.call.get("number"))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _handle(self, item: _Item) -> None:
        call = item.call
        with self._cond:
            if item.seq <= self._shown_seq:
                return
        speak = item.speak and not self.memory.spoken(call)
        # The seq is written to disk and the sentence synthesised while the chime
        # plays: the chime is never held up by a slow SD card, and the sentence is
        # only said once the seq is safely stored (the contract: never twice).
        future: Future | None = self._synth.submit(self._prepare, call) if speak else None
        with self._cond:
            self._shown_seq, self._shown_at, self.shown = item.seq, self.clock(), call
        if self.on_show is not None:
            self.on_show(call, speak)
        if future is None:
            return
        if self.chime:
            self._play(make_chime(self._format[0], self._format[1], self.volume))
        audio = future.result()
        if audio is None:
            return
        self._format = (audio.rate, audio.channels)
        self._play(repeated(audio, self.repeat))
        self.spoken_count += 1

    def _play(self, audio: Audio) -> None:
        try:
            self.sink.play(audio)
            self._problem("audio_error", False)
        except AudioError as exc:
            log.error("announcer: %s", exc)
            self._problem("audio_error", True)

    def _prepare(self, call: dict[str, Any]) -> Audio | None:
        try:
            self.memory.remember(call)
        except OSError as exc:
            # Say it anyway: a call not announced is worse than one that might be
            # announced again after a restart.
            log.error("announcer: cannot store the last call spoken in %s: %s", self.memory.path, exc)
        return self._synthesize(self.text(call))

    def _synthesize(self, text: str) -> Audio | None:
        for attempt in (1, 2):
            try:
                audio = self.engine.synthesize(text, self.speech_timeout)
                self._problem("speech_error", False)
                return audio
            except SpeechTimeout as exc:
                # The watchdog: a stuck engine gets a fresh start and one more try.
                log.warning("announcer: %s; restarting the speech engine", exc)
                self.engine_restarts += 1
                try:
                    self.engine.restart()
                except SpeechError as again:
                    log.error("announcer: restarting the speech engine failed: %s", again)
                    break
            except SpeechError as exc:
                log.error("announcer: cannot say %r (attempt %d): %s", text, attempt, exc)
        self._problem("speech_error", True)
        return None

    def _warm_up(self) -> None:
        make_chime(self._format[0], self._format[1], self.volume)
        try:
            self.engine.start()
        except SpeechError as exc:
            log.error("announcer: %s", exc)
            self._problem("speech_error", True)

    def _problem(self, name: str, present: bool) -> None:
        with self._cond:
            if present == (name in self.problems):
                return
            if present:
                self.problems.append(name)
            else:
                self.problems.remove(name)
            problems = list(self.problems)
        if self.on_problems is not None:
            self.on_problems(problems)
