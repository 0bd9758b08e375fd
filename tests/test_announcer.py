"""The announcer: order, no overlap, never twice (also across a restart), minimum time on
screen, catching up after a reconnect, the watchdog for a stuck speech engine, and no
backlog (issue 16: repeats dropped and the short form while calls wait, a counter's
waiting call superseded by its next, recalls said as such), counted by what was said.

Real speech (pyttsx3 in its worker process) into a MemorySink that plays 20 times
faster than real time and records when each piece started and ended.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

import pytest

from display.options import DisplayOptions
from display.announcer import SPEECH_TAIL, Announcer, SpokenMemory
from display.audio import AudioError, AudioSink, MemorySink
from display.chime import chime
from display.speech import SpeechEngine, WorkerEngine, make_engine
from speech_fakes import Failing

TESTS = Path(__file__).resolve().parent
WITA = dt.timezone(dt.timedelta(hours=8))
SPEED = 0.05  # the sink plays 20x faster than real time


class Recording(SpeechEngine):
    """Wraps an engine and keeps the texts it was asked to say, in order."""

    def __init__(self, inner: SpeechEngine) -> None:
        self.inner = inner
        self.name = inner.name
        self.texts: list[str] = []

    def start(self) -> None:
        self.inner.start()

    def synthesize(self, text: str, timeout: float):
        self.texts.append(text)
        return self.inner.synthesize(text, timeout)

    def restart(self) -> None:
        self.inner.restart()

    def close(self) -> None:
        self.inner.close()


def call(seq: int, number: str = "A-001", counter: str = "Loket 1", at: dt.datetime | None = None,
         recall: bool = False) -> dict:
    at = at or dt.datetime.now(WITA)
    return {"seq": seq, "number": number, "service": "KTP", "service_name": "KTP Elektronik",
            "counter": counter.lower().replace(" ", ""), "counter_name": counter, "recall": recall,
            "at": at.isoformat(timespec="seconds")}


@pytest.fixture
def announcers(tmp_path):
    """Factory for started announcers on real pyttsx3; each stopped after the test."""
    made = []

    def make(engine: SpeechEngine | None = None, sink: AudioSink | None = None, memory: SpokenMemory | None = None,
             **options) -> Announcer:
        shows: list[tuple[float, int, bool]] = []
        cards: list[dict] = []  # the calls shown, as the big card gets them
        problems: list[list[str]] = []
        options.setdefault("min_call_seconds", 0.05)
        a = Announcer(engine or Recording(make_engine(DisplayOptions())), sink or MemorySink(speed=SPEED),
                      memory or SpokenMemory(tmp_path / "state" / "spoken.json"),
                      on_show=lambda c, spoken: (shows.append((time.monotonic(), c["seq"], spoken)), cards.append(c)),
                      on_problems=problems.append, **options)
        a.shows, a.cards, a.problem_log = shows, cards, problems
        made.append(a)
        return a.start()

    yield make
    for a in made:
        a.stop()


class Gate(MemorySink):
    """A MemorySink whose piece number *at* (0: the first) waits until the test opens the
    gate: calls queued meanwhile are certainly waiting (no race with the clock)."""

    def __init__(self, at: int = 0) -> None:
        super().__init__()
        self.at = at
        self.opened = threading.Event()
        self.reached = threading.Event()

    def play(self, audio):
        if len(self.played) >= self.at:
            self.reached.set()
            assert self.opened.wait(15), "the test never opened the gate"
        super().play(audio)


def test_five_calls_within_100_ms_are_spoken_in_order_without_overlap(announcers):
    """Real speech: the first call after its chime, the four that waited behind it with no
    chime; all once, in the short form, since calls were waiting (issue 16, item 3)."""
    announcer = announcers()
    calls = [call(1, "A-001", "Loket 1"), call(2, "B-012", "Loket 3"), call(3, "A-002", "Loket 2"),
             call(4, "H-001", "Loket 5"), call(5, "K-010", "Loket 6")]
    for c in calls:
        assert announcer.announce(c)
    assert announcer.wait_idle(30)

    assert list(announcer.said) == [
        "a satu, loket satu.",
        "be dua belas, loket tiga.",
        "a dua, loket dua.",
        "ha satu, loket lima.",
        "ka sepuluh, loket enam.",
    ]
    assert [seq for _, seq, spoken in announcer.shows] == [1, 2, 3, 4, 5]
    played = announcer.sink.played
    assert len(played) == 6  # the chime, then one sentence per call
    ding = chime(22050).duration
    assert played[0][2].duration == pytest.approx(ding)
    for i, (start, end, audio) in enumerate(played):
        if i:
            assert start >= played[i - 1][1], f"piece {i} starts before piece {i - 1} ended"
            assert audio.duration != pytest.approx(ding)
            assert 1.0 < audio.duration < 7.0
            assert end - start >= audio.duration * SPEED * 0.9  # it took its (scaled) time
    # The full sentence was made during the chime, then the short one once calls waited.
    assert announcer.engine.texts[:2] == ["Nomor antrean a, satu, silakan menuju loket satu.", "a satu, loket satu."]
    # Each call was shown just before its first sound.
    for (shown_at, _, spoken), (start, _, _) in zip(announcer.shows, [played[0]] + played[2:]):
        assert spoken and shown_at <= start


def test_a_burst_drops_repeats_and_says_the_waiting_calls_short(announcers):
    """Issue 16, item 3: ten calls while the first one's chime plays (board1 says each twice):
    each said once, in the short form, no chime but the first; nothing dropped."""
    sink = Gate()
    announcer = announcers(engine=Failing(0), sink=sink, repeat=2)
    calls = [call(i, f"A-{10 + i:03d}", f"Loket {i}") for i in range(1, 11)]
    for c in calls:
        assert announcer.announce(c)
    sink.opened.set()
    assert announcer.wait_idle(15)
    assert list(announcer.said) == ["a sebelas, loket satu."] + [
        f"a {words}, loket {counter}." for words, counter in [
            ("dua belas", "dua"), ("tiga belas", "tiga"), ("empat belas", "empat"), ("lima belas", "lima"),
            ("enam belas", "enam"), ("tujuh belas", "tujuh"), ("delapan belas", "delapan"),
            ("sembilan belas", "sembilan"), ("dua puluh", "sepuluh")]]
    assert [seq for _, seq, _ in announcer.shows] == list(range(1, 11))
    assert len(sink.played) == 11  # one chime and ten readings
    assert announcer.spoken_count == 10 and announcer.superseded_count == 0


def test_a_call_that_comes_during_the_first_reading_drops_the_repeat(announcers):
    sink = Gate(at=1)  # the chime plays, the first reading waits
    announcer = announcers(engine=Failing(0), sink=sink, repeat=2)
    announcer.announce(call(1, "B-012", "Loket 3"))
    assert sink.reached.wait(10)
    announcer.announce(call(2, "A-002", "Loket 2"))
    sink.opened.set()
    assert announcer.wait_idle(10)
    assert list(announcer.said) == ["Nomor antrean be, dua belas, silakan menuju loket tiga.", "a dua, loket dua."]
    assert len(sink.played) == 3  # the chime, one reading each


def test_a_call_with_nothing_behind_it_is_said_in_full_repeat_times(announcers):
    announcer = announcers(engine=Failing(0), repeat=2)
    announcer.announce(call(1, "B-012", "Loket 3"))
    assert announcer.wait_idle(10)
    announcer.announce(call(2, "B-013", "Loket 3"))  # after the first was said: no backlog
    assert announcer.wait_idle(10)
    assert list(announcer.said) == ["Nomor antrean be, dua belas, silakan menuju loket tiga."] * 2 + [
        "Nomor antrean be, tiga belas, silakan menuju loket tiga."] * 2
    assert len(announcer.sink.played) == 6  # chime, sentence, pause and sentence, twice


def test_a_counter_calling_again_supersedes_its_waiting_call_and_nothing_else(announcers):
    sink = Gate()
    announcer = announcers(engine=Failing(0), sink=sink, repeat=2)
    assert announcer.announce(call(1, "A-001", "Loket 1"))
    deadline = time.monotonic() + 10
    while not announcer.shows and time.monotonic() < deadline:  # being said (its chime waits at the gate)
        time.sleep(0.01)
    assert announcer.announce(call(2, "B-002", "Loket 2"))
    assert announcer.announce(call(3, "A-002", "Loket 1"))  # loket 1 again, not superseding: 1 is being said
    assert announcer.announce(call(4, "B-003", "Loket 2"))  # loket 2 again: 2 was never said
    assert announcer.announce(call(5, "C-001", "Loket 3"))
    announcer.board({"recent": [call(2, "B-002", "Loket 2")]})  # a board message listing it: still gone
    assert not announcer.announce(call(2, "B-002", "Loket 2"))
    sink.opened.set()
    assert announcer.wait_idle(15)
    assert list(announcer.said) == ["a satu, loket satu.", "a dua, loket satu.", "be tiga, loket dua.",
                                    "ce satu, loket tiga."]
    assert [seq for _, seq, _ in announcer.shows] == [1, 3, 4, 5]
    assert announcer.superseded_count == 1


def test_a_late_call_of_a_counter_that_called_again_is_not_said(announcers):
    sink = Gate()
    announcer = announcers(engine=Failing(0), sink=sink)
    announcer.announce(call(1, "A-001", "Loket 1"))
    announcer.announce(call(5, "B-003", "Loket 2"))
    assert not announcer.announce(call(4, "B-002", "Loket 2"))  # arrived after loket 2's newer call
    sink.opened.set()
    assert announcer.wait_idle(15)
    assert [seq for _, seq, _ in announcer.shows] == [1, 5]


class Held(SpokenMemory):
    """A SpokenMemory whose first look-up waits for the test: the call is taken from the
    queue but not yet marked shown."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.entered, self.release = threading.Event(), threading.Event()

    def spoken(self, c: dict) -> bool:
        if not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(15), "the test never released the call"
        return super().spoken(c)


def test_a_copy_of_the_call_being_taken_is_refused_not_counted_superseded(announcers, tmp_path):
    """A QoS 1 redelivery of the call the announcer has just taken, while its counter's next
    call waits: refused as the same call, said once, and not counted as superseded (the
    backlog bench once counted one call both ways)."""
    memory = Held(tmp_path / "held" / "spoken.json")
    announcer = announcers(engine=Failing(0), memory=memory)
    assert announcer.announce(call(1, "A-001", "Loket 1"))
    assert memory.entered.wait(10)
    assert announcer.announce(call(2, "A-002", "Loket 1"))
    assert not announcer.announce(call(1, "A-001", "Loket 1"))  # the copy
    memory.release.set()
    assert announcer.wait_idle(15)
    assert [seq for _, seq, _ in announcer.shows] == [1, 2]
    assert (announcer.spoken_count, announcer.superseded_count) == (2, 0)


def test_a_recall_is_said_as_one_in_full_and_in_a_backlog(announcers):
    sink = Gate()
    announcer = announcers(engine=Failing(0), sink=sink)
    announcer.announce(call(7, "B-012", "Loket 3", recall=True))
    sink.opened.set()
    assert announcer.wait_idle(10)
    sink.opened.clear()
    announcer.announce(call(8, "A-004", "Loket 1"))
    announcer.announce(call(9, "B-012", "Loket 3", recall=True))
    sink.opened.set()
    assert announcer.wait_idle(10)
    assert list(announcer.said) == ["Panggilan ulang, nomor antrean be, dua belas, silakan menuju loket tiga.",
                                    "a empat, loket satu.", "Panggilan ulang, be dua belas, loket tiga."]
    assert [c["recall"] for c in announcer.cards] == [True, False, True]  # the big card says it too


def test_a_recall_of_a_call_the_hall_never_heard_is_said_as_a_first_call(announcers):
    sink = Gate()
    announcer = announcers(engine=Failing(0), sink=sink)
    announcer.announce(call(1, "A-001", "Loket 1"))
    announcer.announce(call(2, "B-002", "Loket 2"))
    announcer.announce(call(3, "B-002", "Loket 2", recall=True))  # before the first call of B-002 was said
    sink.opened.set()
    assert announcer.wait_idle(10)
    assert list(announcer.said) == ["a satu, loket satu.", "be dua, loket dua."]
    # the big card does not say "Panggilan ulang" either
    assert [(c["seq"], c["recall"]) for c in announcer.cards] == [(1, False), (3, False)]


def test_without_quick_backlog_every_call_is_said_in_full_as_before(announcers):
    """The behaviour before issue 16, kept for the bench's comparison (bench/announce.py)."""
    sink = Gate()
    announcer = announcers(engine=Failing(0), sink=sink, repeat=2, quick_backlog=False)
    for i in (1, 2, 3):
        announcer.announce(call(i, f"A-00{i}", "Loket 1"))
    sink.opened.set()
    assert announcer.wait_idle(15)
    assert list(announcer.said) == [t for i in ("satu", "dua", "tiga")
                                    for t in [f"Nomor antrean a, {i}, silakan menuju loket satu."] * 2]
    assert len(sink.played) == 9


def test_a_remote_counters_call_says_its_location(announcers):
    """Issue 14, item 7: the Call of a remote counter carries `location`, said in its name's place."""
    announcer = announcers()
    assert announcer.announce({**call(1, "M-004", "Daring 1"), "location": "Bilik Layanan Daring"})
    assert announcer.wait_idle(30)
    assert announcer.announce({**call(2, "M-005", "Loket 6"), "location": None})  # as a counter in the building
    assert announcer.wait_idle(30)
    assert announcer.engine.texts == ["Nomor antrean em, empat, silakan menuju bilik layanan daring.",
                                      "Nomor antrean em, lima, silakan menuju loket enam."]


def test_a_repeated_seq_is_silent_also_after_a_restart(announcers):
    b012 = call(3, "B-012", "Loket 3")
    first = announcers()
    assert first.announce(b012)
    assert first.wait_idle(15)
    assert len(first.sink.played) == 2
    # A QoS 1 redelivery, a second subscription, a board message listing it: silent.
    assert not first.announce(dict(b012))
    first.board({"recent": [dict(b012)]})
    assert first.wait_idle(5) and len(first.sink.played) == 2
    first.stop()

    again = announcers()
    again.announce(dict(b012))
    assert again.wait_idle(15)
    assert again.sink.played == [] and again.engine.texts == []
    assert [(seq, spoken) for _, seq, spoken in again.shows] == [(3, False)]  # shown, not said
    again.announce(call(4, "B-013", "Loket 3"))
    assert again.wait_idle(15)
    assert again.engine.texts == ["Nomor antrean be, tiga belas, silakan menuju loket tiga."]


def test_a_dispatcher_that_starts_its_seq_again_is_still_heard(announcers, tmp_path):
    yesterday = dt.datetime.now(WITA) - dt.timedelta(days=1)
    SpokenMemory(tmp_path / "state" / "spoken.json").remember(call(500, at=yesterday))
    announcer = announcers(engine=Failing(0))
    announcer.announce(call(1, "A-001"))  # a new database: seq 1 again, but made later
    assert announcer.wait_idle(10)
    assert announcer.engine.texts == ["Nomor antrean a, satu, silakan menuju loket satu."]


def test_each_call_stays_on_screen_at_least_the_minimum_time(announcers):
    announcer = announcers(engine=Failing(0), sink=MemorySink(), min_call_seconds=0.4)
    for seq in (1, 2, 3):
        announcer.announce(call(seq, f"A-00{seq}", f"Loket {seq}"))
    assert announcer.wait_idle(10)
    times = [t for t, _, _ in announcer.shows]
    assert len(times) == 3
    assert all(b - a >= 0.4 for a, b in zip(times, times[1:])), times


def test_after_a_reconnect_recent_calls_are_caught_up_and_old_ones_only_shown(announcers):
    now = dt.datetime.now(WITA)
    announcer = announcers(engine=Failing(0), catch_up_seconds=30)
    announcer.board({"recent": [call(7, "A-007", at=now - dt.timedelta(seconds=10)),
                                call(6, "A-006", at=now - dt.timedelta(minutes=5))]})
    assert announcer.wait_idle(10)
    assert announcer.engine.texts == ["Nomor antrean a, tujuh, silakan menuju loket satu."]

    quiet = announcers(engine=Failing(0))
    quiet.board({"recent": [call(9, "A-009", at=now - dt.timedelta(hours=1)),
                            call(8, "A-008", at=now - dt.timedelta(hours=2))]})
    assert quiet.wait_idle(10)
    assert quiet.engine.texts == [] and [(s, spoken) for _, s, spoken in quiet.shows] == [(9, False)]


def test_the_watchdog_restarts_a_hung_speech_engine(announcers, tmp_path):
    marker = tmp_path / "hung-once"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    engine = WorkerEngine("speech_fakes:HangOnce", {"marker": str(marker)}, env=env, name="hang-once")
    announcer = announcers(engine=engine, speech_timeout=1.0)
    started = time.monotonic()
    announcer.announce(call(1, "A-001"))
    assert announcer.wait_idle(15)

    hung_pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(hung_pid, 0)  # the stuck worker is gone
    assert engine.pid is not None and engine.pid != hung_pid
    assert announcer.engine_restarts == 1
    # Chime, then the sentence from the fresh engine; about one timeout late, not stuck.
    tone = chime(22050)
    said = (tone + tone.silence(2.0 - tone.duration)).trimmed(SPEECH_TAIL)  # HangOnce's "speech"
    assert [round(a.duration, 1) for _, _, a in announcer.sink.played] == [round(tone.duration, 1),
                                                                           round(said.duration, 1)]
    assert 1.0 <= time.monotonic() - started < 8
    assert announcer.problems == []


def test_a_failing_engine_shows_the_call_and_reports_speech_error(announcers):
    announcer = announcers(engine=Failing(2))
    announcer.announce(call(1, "A-001"))
    assert announcer.wait_idle(10)
    assert [s for _, s, _ in announcer.shows] == [1]
    assert len(announcer.sink.played) == 1  # the chime only: both attempts failed
    assert announcer.problems == ["speech_error"]
    announcer.announce(call(2, "A-002"))
    assert announcer.wait_idle(10)
    assert announcer.problems == []
    assert announcer.problem_log == [["speech_error"], []]


def test_a_broken_sound_device_is_reported_and_the_queue_goes_on(announcers):
    class Broken(AudioSink):
        def play(self, audio):
            raise AudioError("aplay on plughw:1,0 failed (status 1): No such device")

    announcer = announcers(engine=Failing(0), sink=Broken())
    announcer.announce(call(1))
    announcer.announce(call(2, "A-002", "Loket 2"))
    assert announcer.wait_idle(10)
    assert [s for _, s, _ in announcer.shows] == [1, 2]
    assert announcer.problems == ["audio_error"]


def test_spoken_memory_survives_a_corrupt_file(tmp_path):
    path = tmp_path / "spoken.json"
    path.write_text("{not json")
    memory = SpokenMemory(path)
    assert memory.seq == 0 and not memory.spoken(call(1))
    memory.remember(call(5))
    assert SpokenMemory(path).spoken(call(5)) and not SpokenMemory(path).spoken(call(6))


def test_the_backlog_bench_runs_in_its_quick_mode(tmp_path):
    """bench/announce.py --quick: three calls, old and new, real espeak-ng, sound 20x faster."""
    import json
    import subprocess
    import sys

    out = tmp_path / "announce.json"
    proc = subprocess.run([sys.executable, str(TESTS.parent / "bench" / "announce.py"), "--quick", "--json", str(out)],
                          cwd=TESTS.parent, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    assert "ratio old/new" in proc.stdout
    runs = json.loads(out.read_text(encoding="utf-8"))["runs"]
    assert runs["old"][0]["readings"] == 6  # board1: every call twice
    assert 3 <= runs["new"][0]["readings"] < 6  # the calls that waited once each


def test_a_call_whose_number_cannot_be_read_out_is_still_shown(announcers):
    announcer = announcers(engine=Failing(0))
    assert announcer.announce(call(1, "X12", "Loket 1"))  # not like A-012: bahasa refuses it
    assert announcer.wait_idle(10)
    assert announcer.announce(call(2, "A-002", "Loket 2"))
    assert announcer.wait_idle(10)
    assert [(seq, spoken) for _, seq, spoken in announcer.shows] == [(1, False), (2, True)]
    assert list(announcer.said) == ["Nomor antrean a, dua, silakan menuju loket dua."]
    assert announcer.saying == "Nomor antrean a, dua, silakan menuju loket dua."
