"""Sound as data, and the places it goes: a speaker through ALSA, WAV files, or memory.

- :class:`Audio` is PCM sound in memory (rate, channels, sample width, frames), read
  and written with the standard library's ``wave`` module, joined with ``+``.
- An :class:`AudioSink` plays one piece of audio and returns when it has been heard:
  :class:`AlsaSink` pipes it to ``aplay`` (a Raspberry Pi with a speaker),
  :class:`WavDirSink` writes numbered WAV files and takes as long as the sound would
  (a machine with no sound card behaves like one with a speaker), :class:`NullSink`
  drops it, and :class:`MemorySink` keeps every piece with its start and end times
  (tests and benchmarks).
- :func:`make_sink` picks one from a display's options.

The announcer hands the chime to the sink as soon as a call arrives, and the spoken
sentence after it; the sink plays them one after the other, never two at once.
"""

from __future__ import annotations

import abc

import array
import dataclasses
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path
from antrian.errors import AudioError

log = logging.getLogger(__name__)

__all__ = ["AlsaSink", "Audio", "AudioError", "AudioSink", "MemorySink", "NullSink", "WavDirSink", "make_sink"]


@dataclasses.dataclass(frozen=True)
class Audio:
    """PCM sound: *rate* in Hz, *channels*, *sampwidth* in bytes per sample, raw *frames*."""

    rate: int
    channels: int
    sampwidth: int
    frames: bytes

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.frames) / (self.rate * self.channels * self.sampwidth)

    @property
    def format(self) -> tuple[int, int, int]:
        return self.rate, self.channels, self.sampwidth

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Audio:
        try:
            with wave.open(str(path), "rb") as w:
                return cls(w.getframerate(), w.getnchannels(), w.getsampwidth(), w.readframes(w.getnframes()))
        except (OSError, EOFError, wave.Error) as exc:
            raise AudioError(f"cannot read WAV file {path}: {exc}") from None

    def write(self, path: str | os.PathLike[str]) -> None:
        try:
            with wave.open(str(path), "wb") as w:
                w.setnchannels(self.channels)
                w.setsampwidth(self.sampwidth)
                w.setframerate(self.rate)
                w.writeframes(self.frames)
        except (OSError, wave.Error) as exc:
            raise AudioError(f"cannot write WAV file {path}: {exc}") from None

    def silence(self, seconds: float) -> Audio:
        """Silence of *seconds* in this audio's format."""
        frames = int(round(seconds * self.rate))
        return dataclasses.replace(self, frames=bytes(frames * self.channels * self.sampwidth))

    def __add__(self, other: Audio) -> Audio:
        if self.format != other.format:
            raise AudioError(f"cannot join audio of different formats {self.format} and {other.format} "
                             "(rate, channels, bytes per sample)")
        return dataclasses.replace(self, frames=self.frames + other.frames)

    def trimmed(self, tail: float, threshold: int = 300) -> Audio:
        """The same sound with at most *tail* seconds of near-silence (16-bit samples below
        *threshold*) at its end: espeak-ng ends every sentence with ~0.45 s of it, which
        adds up when calls are said back to back. Other sample widths come back as they are."""
        if self.sampwidth != 2:
            return self
        samples = array.array("h", self.frames)
        if sys.byteorder == "big":
            samples.byteswap()
        last = len(samples) - 1
        while last >= 0 and abs(samples[last]) < threshold:
            last -= 1
        keep = (last // self.channels + 1) + int(round(tail * self.rate))
        if keep * self.channels >= len(samples):
            return self
        return dataclasses.replace(self, frames=self.frames[:keep * self.channels * self.sampwidth])

    def scaled(self, volume: float) -> Audio:
        """The same sound at *volume* (0.0-1.0) of its loudness; 16-bit samples only."""
        if volume >= 1.0:
            return self
        if self.sampwidth != 2:
            raise AudioError(f"volume needs 16-bit samples, not {8 * self.sampwidth}-bit")
        samples = array.array("h", self.frames)
        if sys.byteorder == "big":  # WAV is little-endian
            samples.byteswap()
        scaled = array.array("h", (int(s * volume) for s in samples))
        if sys.byteorder == "big":
            scaled.byteswap()
        return dataclasses.replace(self, frames=scaled.tobytes())


class AudioSink(abc.ABC):
    """Where announcements are heard. ``play`` blocks until the audio has been played."""

    name = "sink"

    @abc.abstractmethod
    def play(self, audio: Audio) -> None:
        """Play *audio*, returning when it has been heard."""

    def close(self) -> None:
        """Stop waiting in ``play`` and release the device."""


class NullSink(AudioSink):
    """Drops everything at once: for a board that stays silent, and for benchmarks."""

    name = "none"

    def play(self, audio: Audio) -> None:
        return None


class MemorySink(AudioSink):
    """Keeps every piece played, as ``(start, end, audio)`` in ``time.monotonic()`` seconds.

    *speed* scales how long a piece takes: 1.0 is real time, 0.1 ten times faster,
    0 returns at once. ``on_play(audio)`` is called first, in the announcer's thread.
    """

    name = "memory"

    def __init__(self, speed: float = 0.0, on_play=None) -> None:
        self.speed = speed
        self.on_play = on_play
        self.played: list[tuple[float, float, Audio]] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def play(self, audio: Audio) -> None:
        start = time.monotonic()
        if self.on_play is not None:
            self.on_play(audio)
        if self.speed:
            self._closed.wait(audio.duration * self.speed)
        with self._lock:
            self.played.append((start, time.monotonic(), audio))

    def close(self) -> None:
        self._closed.set()


class WavDirSink(AudioSink):
    """Writes each piece to ``NNNNNN.wav`` in *folder*, keeping the newest *keep* files.

    With ``realtime=True`` (the default) ``play`` also takes as long as the sound, so
    a board without a sound card paces its calls exactly like one with a speaker.
    """

    name = "wav"

    def __init__(self, folder: str | os.PathLike[str], keep: int = 50, realtime: bool = True) -> None:
        self.folder = Path(folder)
        self.keep = keep
        self.realtime = realtime
        self._closed = threading.Event()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise AudioError(f"cannot create the audio folder {self.folder}: {exc.strerror}") from None
        existing = sorted(self.folder.glob("[0-9]" * 6 + ".wav"))
        self._count = int(existing[-1].stem) if existing else 0

    def play(self, audio: Audio) -> None:
        self._count = self._count % 999_999 + 1
        audio.write(self.folder / f"{self._count:06d}.wav")
        old = sorted(self.folder.glob("[0-9]" * 6 + ".wav"))[:-self.keep]
        for path in old:
            path.unlink(missing_ok=True)
        if self.realtime:
            self._closed.wait(audio.duration)

    def close(self) -> None:
        self._closed.set()


class AlsaSink(AudioSink):
    """Plays through ALSA's ``aplay`` (package alsa-utils), raw PCM on its standard input.

    *device* is an ALSA device such as ``plughw:1,0`` (None: the system default).
    An ``aplay`` that has not finished a few seconds after the sound should have
    ended is killed, so a wedged sound device cannot stop the announcer.
    """

    name = "alsa"
    GRACE_SECONDS = 3.0

    def __init__(self, device: str | None = None, executable: str = "aplay") -> None:
        found = shutil.which(executable)
        if found is None:
            raise AudioError(f"'{executable}' not found: apt-get install alsa-utils")
        self.executable = found
        self.device = device
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def command(self, audio: Audio) -> list[str]:
        if audio.sampwidth not in (1, 2, 4):
            raise AudioError(f"aplay cannot play {8 * audio.sampwidth}-bit samples")
        fmt = {1: "U8", 2: "S16_LE", 4: "S32_LE"}[audio.sampwidth]
        cmd = [self.executable, "-q", "-t", "raw", "-f", fmt, "-c", str(audio.channels), "-r", str(audio.rate)]
        if self.device:
            cmd += ["-D", self.device]
        return cmd + ["-"]

    def play(self, audio: Audio) -> None:
        cmd = self.command(audio)
        with self._lock:
            self._proc = proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.PIPE)
        try:
            _, err = proc.communicate(audio.frames, timeout=audio.duration + self.GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AudioError(f"aplay on {self.device or 'the default device'} did not finish within "
                             f"{audio.duration + self.GRACE_SECONDS:.1f} s; killed it") from None
        finally:
            with self._lock:
                self._proc = None
        if proc.returncode != 0:
            reason = err.decode("utf-8", "replace").strip().splitlines()
            raise AudioError(f"aplay on {self.device or 'the default device'} failed (status {proc.returncode})"
                             + (f": {reason[-1]}" if reason else ""))

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()


def has_sound_card() -> bool:
    """True when the kernel lists an ALSA sound card."""
    try:
        cards = Path("/proc/asound/cards").read_text()
    except OSError:
        return False
    return "no soundcards" not in cards and bool(cards.strip())


def make_sink(audio: str, *, alsa_device: str | None, wav_dir: str | os.PathLike[str]) -> AudioSink:
    """The sink for a display's ``audio`` option: alsa, wav, none, or auto (alsa when
    aplay and a sound card are there, else WAV files in *wav_dir*)."""
    if audio == "none":
        return NullSink()
    if audio == "wav":
        return WavDirSink(wav_dir)
    if audio == "alsa":
        return AlsaSink(alsa_device)
    if shutil.which("aplay") and has_sound_card():
        return AlsaSink(alsa_device)
    log.warning("no sound card or no aplay: announcements are written as WAV files to %s", wav_dir)
    return WavDirSink(wav_dir)
