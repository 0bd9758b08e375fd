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

No backlog (issue 16; ``quick_backlog``, on unless a benchmark turns it off):

- a call that arrives while another is being said or waits is *in the backlog*: its
  turn comes ``BACKLOG_HOLD`` after the previous call was shown (not
  ``min_call_seconds``), and it is said once, in the short form ("be dua belas, loket
  tiga.", antrian/bahasa.py ``short_announcement``), without the chime: the hall is
  already listening;
- a call that did not wait gets its chime; if calls have come in by the time the chime
  ends, it too is said once in the short form, and a repeat (``repeat`` > 1) is said
  only while no call waits;
- a call still waiting when its counter calls again is *superseded*: only the
  counter's latest call is said (a recall of a ticket whose first call was never
  said is then said as a first call). No other call is ever dropped;
- a recall (the Call's ``recall``) is said "Panggilan ulang, ..." in either form.

No Kivy here: the board passes callbacks, tests pass a recording sink.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import heapq
import itertools
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from antrian import bahasa

from .audio import Audio, AudioError, AudioSink
from .chime import chime as make_chime
from .speech import SpeechEngine, SpeechError, SpeechTimeout
from .spoken import SpokenMemory, made_at

log = logging.getLogger(__name__)

__all__ = ["Announcer", "SpokenMemory", "announcement_audio", "call_location", "repeated", "valid_call"]

REPEAT_PAUSE = 0.8  # seconds between two readings of the same call
# Seconds of silence kept at the end of a sentence (espeak-ng leaves ~0.45 s): a natural
# pause between two calls said back to back, and 2 s less in a burst of ten.
SPEECH_TAIL = 0.25
# Seconds a call stays on screen before the next one of a backlog takes its place; the
# short form itself lasts 2.5-4 s, so this only holds back calls that are not said.
BACKLOG_HOLD = 1.5
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


def _desk(call: dict[str, Any]) -> str:
    """The counter a call comes from: a call waiting is superseded by its counter's next one."""
    counter = call.get("counter")
    return counter if isinstance(counter, str) else call["counter_name"]


@dataclasses.dataclass(frozen=True)
class _Item:
    seq: int
    call: dict[str, Any]
    speak: bool
    waited: bool = False  # in the backlog: said once, short, without the chime
    recall: bool = False  # said "Panggilan ulang, ..."


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
                 speech_timeout: float = 10.0, catch_up_seconds: float = 30.0, quick_backlog: bool = True,
                 on_show: ShowCallback | None = None, on_problems: Callable[[list[str]], None] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)) -> None:
        self.engine, self.sink, self.memory = engine, sink, memory
        self.template, self.digits, self.repeat = template, digits, repeat
        self.min_call_seconds, self.chime, self.volume = min_call_seconds, chime, volume
        self.speech_timeout, self.catch_up_seconds = speech_timeout, catch_up_seconds
        self.on_show, self.on_problems = on_show, on_problems
        self.clock, self.now = clock, now
        self.quick_backlog = quick_backlog
        self.engine_restarts = 0
        self.spoken_count = 0
        # Every reading played, in order (a repeat is one more): tests and the bench count them.
        self.said: collections.deque[str] = collections.deque(maxlen=200)
        self.superseded_count = 0
        self.problems: list[str] = []
        self.shown: dict[str, Any] | None = None
        # The sentence said for the call shown (short, recall, ...), None when it is only
        # shown: read it in on_show (the scripted morning records it).
        self.saying: str | None = None
        self._format = DEFAULT_FORMAT
        self._heap: list[tuple[int, int, _Item]] = []
        self._queued: set[int] = set()
        self._superseded: set[int] = set()
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

    def text(self, call: dict[str, Any], *, short: bool = False, recall: bool | None = None) -> str:
        """The sentence spoken for *call*: the site's sentence, or the *short* form said in
        a backlog; *recall* (by default the Call's own) puts "Panggilan ulang" first."""
        recall = call.get("recall") is True if recall is None else recall
        if short:
            return bahasa.short_announcement(call["number"], call["counter_name"], location=call_location(call),
                                             digits=self.digits, recall=recall)
        return bahasa.announcement(call["number"], call["counter_name"], location=call_location(call),
                                   template=self.template, digits=self.digits, recall=recall)

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
                at = made_at(call)
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
        if seq <= self._shown_seq or seq in self._queued or seq in self._superseded:
            return False
        recall = call.get("recall") is True
        if speak and self.quick_backlog:
            same = [i for _, _, i in self._heap if i.speak and _desk(i.call) == _desk(call)]
            if any(i.seq > seq for i in same):  # came late: its counter has called again already
                self._superseded.add(seq)
                self.superseded_count += 1
                return False
            if same:
                self._drop(same, call)
                # The hall never heard the first call: the recall is said as one.
                recall = recall and not any(i.call["number"] == call["number"] and not i.recall for i in same)
        waited = self.quick_backlog and speak and (self._busy or bool(self._heap))
        self._queued.add(seq)
        heapq.heappush(self._heap, (seq, next(self._order), _Item(seq, call, speak, waited, recall)))
        self._cond.notify_all()
        return True

    def _drop(self, items: list[_Item], call: dict[str, Any]) -> None:
        """Take superseded *items* out of the queue (their counter has made *call* since)."""
        seqs = {i.seq for i in items}
        self._heap = [entry for entry in self._heap if entry[2].seq not in seqs]
        heapq.heapify(self._heap)
        self._queued -= seqs
        self._superseded |= seqs
        self.superseded_count += len(seqs)
        log.info("announcer: %s superseded by %s at %s before it was said",
                 ", ".join(i.call["number"] for i in items), call["number"], call["counter_name"])

    def _take(self) -> _Item | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                if self._heap:
                    # The previous call stays on screen at least min_call_seconds, in a
                    # backlog BACKLOG_HOLD: the calls behind it have waited long enough.
                    hold = self.min_call_seconds
                    if self._heap[0][2].waited:
                        hold = min(hold, BACKLOG_HOLD)
                    left = self._shown_at + hold - self.clock()
                    if left <= 0:
                        _, _, item = heapq.heappop(self._heap)
                        # It stays in _queued until handled: a copy arriving before _handle
                        # marks it shown (a QoS 1 redelivery) is refused as queued, not
                        # counted as superseded by a later call of its counter.
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
                    self._queued.discard(item.seq)
                    self._busy = False
                    self._cond.notify_all()

    def _handle(self, item: _Item) -> None:
        call = item.call
        with self._cond:
            if item.seq <= self._shown_seq:
                return
        speak = item.speak and not self.memory.spoken(call)
        text = self._text(item) if speak else None
        speak = text is not None
        # The seq is written to disk and the sentence synthesised while the chime
        # plays: the chime is never held up by a slow SD card, and the sentence is
        # only said once the seq is safely stored (the contract: never twice).
        future: Future | None = self._synth.submit(self._prepare, call, text) if speak else None
        with self._cond:
            self._shown_seq, self._shown_at, self.shown, self.saying = item.seq, self.clock(), call, text
            self._superseded = {s for s in self._superseded if s > item.seq}
        if self.on_show is not None:
            # The card says "Panggilan ulang" only for a recall the hall hears as one (_push).
            self.on_show(call if item.recall == (call.get("recall") is True) else {**call, "recall": item.recall}, speak)
        if future is None:
            return
        if self.chime and not item.waited:
            self._play(make_chime(self._format[0], self._format[1], self.volume))
        audio = future.result()
        short = item.waited
        if audio is not None and not short and self.quick_backlog and self.pending:
            # Calls came in during the chime: this one is said short as well (20-50 ms to make).
            short_item = dataclasses.replace(item, waited=True)
            text = self._text(short_item) or text
            audio = self._synth.submit(self._synthesize, text).result()
            short = True
            with self._cond:
                self.saying = text
        if audio is None:
            return
        self._format = (audio.rate, audio.channels)
        audio = audio.trimmed(SPEECH_TAIL)
        for reading in range(1 if short else self.repeat):
            if reading and self.quick_backlog and self.pending:
                log.debug("announcer: %d call(s) waiting; %s said once", self.pending, call["number"])
                break
            self._play(audio if not reading else audio.silence(REPEAT_PAUSE) + audio)
            self.said.append(text)
        self.spoken_count += 1

    def _play(self, audio: Audio) -> None:
        try:
            self.sink.play(audio)
            self._problem("audio_error", False)
        except AudioError as exc:
            log.error("announcer: %s", exc)
            self._problem("audio_error", True)

    def _text(self, item: _Item) -> str | None:
        """The sentence for *item* by the rules, or None when its call cannot be read out."""
        try:
            return self.text(item.call, short=item.waited, recall=item.recall)
        except (TypeError, ValueError) as exc:
            log.error("announcer: call %s is shown without sound: %s", item.call.get("number"), exc)
            return None

    def _prepare(self, call: dict[str, Any], text: str) -> Audio | None:
        """Remember the call as spoken, then synthesise *text*."""
        try:
            self.memory.remember(call)
        except OSError as exc:
            # Say it anyway: a call not announced is worse than one that might be
            # announced again after a restart.
            log.error("announcer: cannot store the last call spoken in %s: %s", self.memory.path, exc)
        return self._synthesize(text)

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
