"""Speech engines, the chime, the audio sinks and `antrian say`, with real espeak-ng and pyttsx3."""

from __future__ import annotations

import array
import math
import subprocess
import sys
import time
import wave
from io import BytesIO
from pathlib import Path

import pytest
import yaml

from antrian.site import load
from display.options import DisplayOptions, needed_clips
from display.audio import AlsaSink, Audio, AudioError, WavDirSink
from display.chime import DING_HZ, DONG_HZ, chime
from display.speech import ClipsEngine, EspeakEngine, Pyttsx3Engine, SpeechError, make_engine
from conftest import BUTON, ROOT

B012 = "Nomor antrean be, dua belas, silakan menuju loket tiga."


def antrian(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "antrian.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_say_writes_the_whole_announcement_for_b012_at_loket_3(tmp_path):
    out = tmp_path / "b012.wav"
    result = antrian("say", "--config", str(BUTON), "B-012", "Loket 3", "--wav", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == B012  # exactly the text handed to the engine
    with wave.open(str(out)) as w:
        seconds = w.getnframes() / w.getframerate()
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
    assert 2 <= seconds <= 8
    soxi = subprocess.run(["soxi", "-D", str(out)], capture_output=True, text=True)
    if soxi.returncode == 0:
        assert float(soxi.stdout) == pytest.approx(seconds, abs=0.01)
    # The chime comes first: the opening samples are the bell, not the voice.
    audio = Audio.read(out)
    assert audio.frames[:len(chime(22050).frames) // 2] == chime(22050).frames[:len(chime(22050).frames) // 2]


def test_say_names_a_bad_counter_or_number_in_one_line(tmp_path):
    result = antrian("say", "--config", str(BUTON), "B-012", "Loket 99", "--wav", str(tmp_path / "x.wav"))
    assert result.returncode == 1 and "unknown counter 'Loket 99'" in result.stderr
    result = antrian("say", "--config", str(BUTON), "12B", "loket3", "--wav", str(tmp_path / "x.wav"))
    assert result.returncode == 1 and "not a ticket number" in result.stderr
    assert "Traceback" not in result.stderr


def test_pyttsx3_and_espeak_ng_say_the_same_sentence():
    pyttsx3 = make_engine(DisplayOptions())
    try:
        spoken = pyttsx3.synthesize(B012, timeout=10)
    finally:
        pyttsx3.close()
    espeak = EspeakEngine(rate=140).synthesize(B012, timeout=10)
    for audio in (spoken, espeak):
        assert audio.format == (22050, 1, 2)
        assert 3.0 < audio.duration < 6.5  # some 3.5-4.5 s, by the engine and its version
    # Same voice, same rate: lengths agree within pyttsx3's small drift (STACK.md).
    assert spoken.duration == pytest.approx(espeak.duration, rel=0.1)


def test_every_pyttsx3_sentence_keeps_the_rate_and_volume_it_was_given():
    # pyttsx3 passes setProperty to espeak-ng's asynchronous queue; about one fresh engine
    # in a hundred (at volume 1.0) used to speak at the driver's default 200 words a minute.
    expected = EspeakEngine(rate=140).synthesize(B012, timeout=10)
    engine = Pyttsx3Engine(rate=140)  # in this process: a fresh pyttsx3 engine per sentence
    durations = [engine.synthesize(B012, timeout=10).duration for _ in range(400)]
    assert [d for d in durations if d != pytest.approx(expected.duration, rel=0.05)] == []
    loud = max(abs(x) for x in array.array("h", engine.synthesize(B012, timeout=10).frames))
    soft = max(abs(x) for x in array.array("h", Pyttsx3Engine(rate=140, volume=0.5).synthesize(B012, timeout=10).frames))
    assert soft / loud == pytest.approx(0.5, abs=0.05)


def test_a_wrong_voice_is_an_error_not_a_silent_english_voice():
    with pytest.raises(SpeechError, match="espeak-ng failed .*voice does not exist"):
        EspeakEngine(voice="xx-nope").synthesize("satu", timeout=10)
    engine = make_engine(DisplayOptions(voice="xx-nope"))
    try:
        with pytest.raises(SpeechError, match="no voice 'xx-nope'.*poz/id"):
            engine.synthesize("satu", timeout=10)
    finally:
        engine.close()


def _goertzel(samples: list[int], rate: int, freq: float) -> float:
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def test_the_chime_is_a_ding_then_a_dong():
    audio = chime(22050)
    assert 1.2 < audio.duration < 2.0 and audio.format == (22050, 1, 2)
    samples = list(memoryview(audio.frames).cast("h"))
    ding = samples[int(0.05 * 22050):int(0.45 * 22050)]
    dong = samples[int(0.9 * 22050):int(1.3 * 22050)]
    assert _goertzel(ding, 22050, DING_HZ) > 10 * _goertzel(ding, 22050, DONG_HZ)
    assert _goertzel(dong, 22050, DONG_HZ) > 10 * _goertzel(dong, 22050, DING_HZ)
    assert max(abs(s) for s in samples) < 0.5 * 32767  # headroom, no clipping
    assert chime(22050, volume=0.5).frames != audio.frames


@pytest.fixture(scope="module")
def clips_dir(tmp_path_factory) -> Path:
    """Word clips for every word the Buton site can say, recorded with espeak-ng."""
    folder = tmp_path_factory.mktemp("clips")
    engine = EspeakEngine(rate=150)
    for word in needed_clips(load(BUTON)):
        engine.synthesize(word, timeout=10).write(folder / f"{word}.wav")
    return folder


def test_the_clips_engine_joins_recorded_words(clips_dir):
    engine = ClipsEngine(clips_dir)
    audio = engine.synthesize(B012, timeout=5)
    words = ["nomor", "antrean", "be", "dua", "belas", "silakan", "menuju", "loket", "tiga"]
    clips = sum(Audio.read(clips_dir / f"{w}.wav").duration for w in words)
    pauses = len(words) * engine.word_gap + 2 * engine.comma + engine.period
    assert audio.duration == pytest.approx(clips + pauses, abs=0.01)
    assert audio.format == (22050, 1, 2)


def test_the_clips_engine_says_a_recall_and_the_short_form(clips_dir):
    """Issue 16, item 3: needed_clips has the words of "Panggilan ulang" and the short form."""
    engine = ClipsEngine(clips_dir)
    recall = engine.synthesize("Panggilan ulang, " + B012[0].lower() + B012[1:], timeout=5)
    short = engine.synthesize("be dua belas, loket tiga.", timeout=5)
    full = engine.synthesize(B012, timeout=5)
    assert short.duration < full.duration < recall.duration
    assert {"panggilan.wav", "ulang.wav"} <= {p.name for p in clips_dir.iterdir()}


def test_the_clips_engine_names_a_missing_clip(clips_dir, tmp_path):
    partial = tmp_path / "partial"
    partial.mkdir()
    for clip in clips_dir.iterdir():
        if clip.name not in ("belas.wav", "be.wav"):
            (partial / clip.name).write_bytes(clip.read_bytes())
    with pytest.raises(SpeechError, match="lacks be.wav, belas.wav"):
        ClipsEngine(partial).synthesize(B012, timeout=5)


def test_check_config_reports_missing_clips(clips_dir, tmp_path):
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    board = next(d for d in raw["devices"] if d["id"] == "board1")
    board.update(speech="clips", clips="clips")
    partial = tmp_path / "clips"
    partial.mkdir()
    for clip in clips_dir.iterdir():
        if clip.name != "sebelas.wav":
            (partial / clip.name).write_bytes(clip.read_bytes())
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = antrian("check-config", str(site))
    index = [d["id"] for d in raw["devices"]].index("board1")
    assert result.returncode == 2
    assert f"{site}: devices[{index}].clips: 1 word clip(s) missing in {partial}: sebelas.wav" in result.stderr
    (partial / "sebelas.wav").write_bytes((clips_dir / "sebelas.wav").read_bytes())
    assert antrian("check-config", str(site)).returncode == 0


def test_alsa_sink_pipes_raw_pcm_to_aplay(tmp_path):
    fake = tmp_path / "aplay"
    record = tmp_path / "aplay.txt"
    fake.write_text(f'#!/bin/sh\necho "$@" > {record}\ncat > {record}.pcm\n')
    fake.chmod(0o755)
    audio = chime(22050)
    AlsaSink("plughw:1,0", executable=str(fake)).play(audio)
    assert record.read_text().split() == ["-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", "22050",
                                          "-D", "plughw:1,0", "-"]
    assert (tmp_path / "aplay.txt.pcm").read_bytes() == audio.frames


def test_a_stuck_aplay_is_killed_and_reported(tmp_path, monkeypatch):
    fake = tmp_path / "aplay"
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(0o755)
    monkeypatch.setattr(AlsaSink, "GRACE_SECONDS", 0.3)
    started = time.monotonic()
    with pytest.raises(AudioError, match="did not finish"):
        AlsaSink(executable=str(fake)).play(chime(22050).silence(0.2))
    assert time.monotonic() - started < 3
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho 'aplay: main:831: audio open error: No such file or directory' >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(AudioError, match="audio open error"):
        AlsaSink(executable=str(broken)).play(chime(22050))


def test_wav_dir_sink_keeps_the_newest_files(tmp_path):
    sink = WavDirSink(tmp_path / "audio", keep=3, realtime=False)
    for volume in (0.2, 0.4, 0.6, 0.8, 1.0):
        sink.play(chime(22050, volume=volume))
    files = sorted(p.name for p in (tmp_path / "audio").iterdir())
    assert files == ["000003.wav", "000004.wav", "000005.wav"]
    assert Audio.read(tmp_path / "audio" / "000005.wav") == chime(22050)
    # A restarted board continues the numbering instead of overwriting.
    WavDirSink(tmp_path / "audio", keep=3, realtime=False).play(chime(22050))
    assert (tmp_path / "audio" / "000006.wav").exists()


def _seconds(data: bytes) -> float:
    with wave.open(BytesIO(data)) as w:
        return w.getnframes() / w.getframerate()


def test_the_browser_boards_sound_says_a_recall_and_the_short_form():
    """Issue 16, item 3: the web app's WAVs (display/webboard.py CallAudio, web/papan_suara.py
    Sounds) say "Panggilan ulang, ..." for a recall, and the short form once without the
    chime when the page asks for it (a call that waited behind another)."""
    import asyncio

    from display.webboard import CallAudio
    from web.papan_suara import Sounds

    config = load(BUTON)
    maker = CallAudio(config, "board3")
    try:
        assert maker.text("B-012", "Loket 3", recall=True) == "Panggilan ulang, " + B012[0].lower() + B012[1:]
        assert maker.text("B-012", "Loket 3", short=True) == "be dua belas, loket tiga."
        keys = {maker.key("B-012", "Loket 3", recall=r, short=s) for r in (False, True) for s in (False, True)}
        assert len(keys) == 4
    finally:
        maker.close()

    ding = chime(22050).duration
    call = {"seq": 7, "number": "B-012", "counter_name": "Loket 3", "recall": False}
    sounds = Sounds(config)
    try:
        full, short, recall = asyncio.run(_three(sounds, call))
    finally:
        sounds.close()
    assert sounds.made == 3
    assert _seconds(full) > ding + 3.0  # the chime, then the sentence (board3: repeat 1)
    assert 1.5 < _seconds(short) < _seconds(full) - ding  # no chime, and shorter than the sentence
    assert _seconds(recall) > _seconds(full) + 0.5  # "Panggilan ulang, " first


async def _three(sounds, call):
    return (await sounds.wav("board3", call), await sounds.wav("board3", call, short=True),
            await sounds.wav("board3", {**call, "seq": 8, "recall": True}))


def test_trimmed_keeps_a_short_tail_of_the_silence_after_a_sentence():
    spoken = EspeakEngine("id", 140).synthesize("a dua belas, loket tiga.", timeout=10)
    trimmed = spoken.trimmed(0.25)
    assert 0.1 < spoken.duration - trimmed.duration < 0.5  # espeak-ng leaves ~0.45 s
    assert trimmed.frames == spoken.frames[:len(trimmed.frames)]  # only the end is cut
    assert trimmed.trimmed(0.25).duration == pytest.approx(trimmed.duration, abs=0.01)
    assert spoken.silence(2.0).trimmed(0.25).duration == pytest.approx(0.25, abs=0.001)
    assert trimmed.trimmed(1.0).duration == pytest.approx(trimmed.duration)  # never longer
