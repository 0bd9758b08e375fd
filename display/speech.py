"""Speech engines: text in, :class:`~display.audio.Audio` out, behind one small interface.

- :class:`Pyttsx3Engine` -- pyttsx3 with the espeak-ng Indonesian voice (the default).
  Always run it through a :class:`WorkerEngine`: pyttsx3 2.99 keeps state between
  jobs (STACK.md) and a call into espeak's C library cannot be interrupted, so it
  gets a process of its own that can be killed.
- :class:`EspeakEngine` -- the ``espeak-ng`` command, one process per sentence.
- :class:`ClipsEngine` -- a folder of recorded words (``nomor.wav``, ``be.wav``,
  ``dua.wav``, ...), joined with short pauses: a human voice, as many offices use.
- :class:`WorkerEngine` -- any engine above in a child process (``display.worker``),
  with the time limit the announcer's watchdog relies on: a job that overruns kills
  the child and starts a fresh one.

Every engine takes ``synthesize(text, timeout)`` and raises :class:`SpeechError`
(or :class:`SpeechTimeout`) with a reason a technician can act on.

    engine = make_engine(display_options.read(config, "board1"))
    engine.start()
    audio = engine.synthesize("Nomor antrean be, dua belas, silakan menuju loket tiga.", timeout=10)
"""

from __future__ import annotations

import abc

import importlib
import itertools
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from display.options import CLIP_SUFFIX, DisplayOptions, clip_words

from .audio import Audio, AudioError
from antrian.errors import SpeechError, SpeechTimeout

log = logging.getLogger(__name__)

_ROOT = str(Path(__file__).resolve().parent.parent)

__all__ = ["ClipsEngine", "EspeakEngine", "Pyttsx3Engine", "SpeechEngine", "SpeechError", "SpeechTimeout",
           "WorkerEngine", "load_factory", "make_engine"]


class SpeechEngine(abc.ABC):
    """Turns a sentence into audio. Subclasses implement ``synthesize``."""

    name = "engine"

    def start(self) -> None:
        """Get ready for the first sentence (a worker process starts here)."""

    @abc.abstractmethod
    def synthesize(self, text: str, timeout: float) -> Audio:
        """The sound of *text*, within *timeout* seconds or SpeechTimeout."""

    def restart(self) -> None:
        """Throw away whatever state the engine has and start clean."""

    def close(self) -> None:
        """Release processes and temporary files."""


def _temp_wav(folder: str | None = None) -> str:
    fd, path = tempfile.mkstemp(suffix=".wav", prefix="antrian-speech-", dir=folder)
    os.close(fd)
    return path


class Pyttsx3Engine(SpeechEngine):
    """pyttsx3 (espeak-ng driver) writing WAV, a fresh pyttsx3 engine per sentence.

    *voice* is an espeak-ng voice id, file or language ("id", "poz/id", "mb-id1"),
    *rate* in words per minute, *volume* 0.0-1.0. Runs in the calling process with
    no time limit: wrap it in a WorkerEngine.
    """

    name = "pyttsx3"

    def __init__(self, voice: str = "id", rate: int = 140, volume: float = 1.0) -> None:
        self.voice, self.rate, self.volume = voice, rate, volume
        self._voice_id: str | None = None

    def _pick_voice(self, engine: Any) -> str:
        voices = engine.getProperty("voices")
        want = self.voice.lower()
        for v in voices:
            if v.id == want or v.id.endswith("/" + want) or v.name.lower() == want:
                return v.id
        for v in voices:
            if want in (v.languages or []):
                return v.id
        # pyttsx3 accepts any name silently and keeps the old voice (STACK.md): say so here.
        indonesian = [v.id for v in voices if "id" in (v.languages or [])]
        raise SpeechError(f"pyttsx3 has no voice {self.voice!r}; Indonesian voices here: "
                          f"{', '.join(indonesian) or 'none (apt-get install espeak-ng)'}")

    def synthesize(self, text: str, timeout: float) -> Audio:
        try:
            import pyttsx3
        except ImportError:
            raise SpeechError("pyttsx3 is not installed: pip install 'antrian-mpp[display]'") from None
        path = _temp_wav()
        try:
            # A fresh engine per sentence: pyttsx3 2.99 queues setProperty until
            # runAndWait, repeats the last text when nothing new was queued and
            # redirects later output to an earlier save_to_file target.
            engine = pyttsx3.init()
            try:
                if self._voice_id is None:
                    self._voice_id = self._pick_voice(engine)
                engine.setProperty("voice", self._voice_id)
                engine.setProperty("rate", self.rate)
                engine.setProperty("volume", self.volume)
                # The rate and volume also ride in the text as espeak-ng embedded
                # commands: pyttsx3 hands setProperty to espeak-ng's asynchronous
                # queue, and about one fresh engine in a hundred spoke at the driver's
                # default 200 words a minute (measured; the CI's speech test caught it).
                engine.save_to_file(f"\x01{self.rate}S\x01{round(self.volume * 100)}A{text}", path)
                engine.runAndWait()
            finally:
                engine.stop()
                del engine
            audio = Audio.read(path)
        except AudioError as exc:
            raise SpeechError(f"pyttsx3 wrote no usable sound: {exc}") from None
        except (RuntimeError, OSError, ValueError) as exc:
            raise SpeechError(f"pyttsx3 failed: {exc}") from None
        finally:
            Path(path).unlink(missing_ok=True)
        if not audio.frames:
            raise SpeechError("pyttsx3 produced no sound")
        return audio


class EspeakEngine(SpeechEngine):
    """The ``espeak-ng`` command: deterministic, about 20 ms a sentence."""

    name = "espeak-ng"

    def __init__(self, voice: str = "id", rate: int = 140, volume: float = 1.0,
                 executable: str = "espeak-ng") -> None:
        found = shutil.which(executable)
        if found is None:
            raise SpeechError(f"'{executable}' not found: apt-get install espeak-ng")
        self.executable = found
        self.voice, self.rate, self.volume = voice, rate, volume

    def command(self, text: str, out: str) -> list[str]:
        # espeak-ng's amplitude runs 0-200 with 100 as normal: volume 1.0 is normal.
        return [self.executable, "-v", self.voice, "-s", str(self.rate), "-a", str(round(self.volume * 100)),
                "-w", out, "--", text]

    def synthesize(self, text: str, timeout: float) -> Audio:
        path = _temp_wav()
        try:
            try:
                done = subprocess.run(self.command(text, path), capture_output=True, timeout=timeout)
            except subprocess.TimeoutExpired:  # run() has killed it
                raise SpeechTimeout(f"espeak-ng did not finish within {timeout:g} s; killed it") from None
            err = done.stderr.decode("utf-8", "replace").strip()
            if done.returncode != 0:
                raise SpeechError(f"espeak-ng failed (status {done.returncode}): {err or 'no message'}")
            if err:  # e.g. "Unknown voice": espeak-ng then speaks in its default voice
                raise SpeechError(f"espeak-ng: {err.splitlines()[0]}")
            try:
                audio = Audio.read(path)
            except AudioError as exc:
                raise SpeechError(str(exc)) from None
        finally:
            Path(path).unlink(missing_ok=True)
        if not audio.frames:
            raise SpeechError("espeak-ng produced no sound")
        return audio


class ClipsEngine(SpeechEngine):
    """Says a sentence by joining recorded words from *folder*: ``nomor.wav``, ``be.wav``, ...

    Every clip must share one format (rate, channels, 16-bit). Between words
    *word_gap* seconds of silence; a comma adds *comma*, a full stop *period*.
    """

    name = "clips"

    def __init__(self, folder: str | os.PathLike[str], volume: float = 1.0, word_gap: float = 0.05,
                 comma: float = 0.3, period: float = 0.5) -> None:
        self.folder = Path(folder)
        self.volume, self.word_gap, self.comma, self.period = volume, word_gap, comma, period
        self._cache: dict[str, Audio] = {}
        self._index: dict[str, Path] | None = None

    def _files(self) -> dict[str, Path]:
        if self._index is None:
            if not self.folder.is_dir():
                raise SpeechError(f"clips folder {self.folder} does not exist")
            self._index = {p.name.lower(): p for p in self.folder.iterdir() if p.suffix.lower() == CLIP_SUFFIX}
        return self._index

    def _clip(self, word: str) -> Audio:
        if word not in self._cache:
            try:
                self._cache[word] = Audio.read(self._files()[f"{word}{CLIP_SUFFIX}"])
            except AudioError as exc:
                raise SpeechError(str(exc)) from None
        return self._cache[word]

    def synthesize(self, text: str, timeout: float) -> Audio:
        tokens = clip_words(text)
        words = [t for t in tokens if t not in (",", ".")]
        if not words:
            raise SpeechError(f"nothing to say in {text!r}")
        files = self._files()
        missing = sorted({f"{w}{CLIP_SUFFIX}" for w in words} - set(files))
        if missing:
            raise SpeechError(f"clips folder {self.folder} lacks {', '.join(missing)}")
        first = self._clip(words[0])
        out = first.silence(0)
        try:
            for token in tokens:
                if token == ",":
                    out += first.silence(self.comma)
                elif token == ".":
                    out += first.silence(self.period)
                else:
                    out += self._clip(token) + first.silence(self.word_gap)
            return out.scaled(self.volume)
        except AudioError as exc:
            raise SpeechError(f"clips in {self.folder} do not share one format: {exc}") from None

    def restart(self) -> None:
        # Re-read the folder: a technician may have just copied a missing clip in.
        self._cache.clear()
        self._index = None


def load_factory(spec: str) -> Any:
    """``"package.module:Name"`` -> the object, for a worker process to build its engine."""
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise ValueError(f"engine factory {spec!r} is not like 'package.module:Name'")
    return getattr(importlib.import_module(module), attr)


class WorkerEngine(SpeechEngine):
    """Runs an engine in a child process (``python -m display.worker``) with a time limit.

    *factory* is ``"module:Name"`` and *kwargs* its arguments. A sentence that takes
    longer than its timeout kills the child and raises SpeechTimeout; ``restart()``
    (the announcer's watchdog) starts a fresh one, ``restarts`` counts them. A child
    that has died is started again by the next sentence.
    """

    STARTUP_SECONDS = 15.0

    def __init__(self, factory: str, kwargs: dict[str, Any] | None = None, *, env: dict[str, str] | None = None,
                 name: str | None = None) -> None:
        self.factory = factory
        self.kwargs = dict(kwargs or {})
        self.env = env
        self.name = name or factory.rpartition(":")[2]
        self.restarts = 0
        self._proc: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._jobs = itertools.count(1)
        self._lock = threading.Lock()
        self._tmp = tempfile.mkdtemp(prefix="antrian-worker-")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        with self._lock:
            self._ensure()

    def _ensure(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        self._spawn()

    def _spawn(self) -> None:
        env = dict(os.environ if self.env is None else self.env)
        # The worker imports this package; make sure it can, whatever the install.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
        # A worker's own stdout carries the replies; its log lines go to stderr.
        proc = subprocess.Popen([sys.executable, "-m", "display.worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=None, text=True, bufsize=1, env=env,
                                start_new_session=True)
        replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=_read_replies, args=(proc, replies), name=f"speech-worker-{proc.pid}",
                         daemon=True).start()
        self._proc, self._replies = proc, replies
        proc.stdin.write(json.dumps({"factory": self.factory, "kwargs": self.kwargs}) + "\n")
        reply = self._wait(None, self.STARTUP_SECONDS)
        if reply is None or not reply.get("ready"):
            reason = reply.get("error") if reply else "it exited or did not answer"
            self._kill()
            raise SpeechError(f"speech worker for {self.name} did not start: {reason}")

    def _wait(self, job: int | None, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SpeechTimeout(f"speech engine {self.name} did not answer within {timeout:g} s")
            try:
                reply = self._replies.get(timeout=left)
            except queue.Empty:
                continue
            if reply is None or job is None or reply.get("id") == job:
                return reply

    def synthesize(self, text: str, timeout: float) -> Audio:
        with self._lock:
            self._ensure()
            job = next(self._jobs)
            out = os.path.join(self._tmp, f"{job}.wav")
            try:
                self._proc.stdin.write(json.dumps({"id": job, "text": text, "out": out, "timeout": timeout}) + "\n")
                reply = self._wait(job, timeout)
            except SpeechTimeout:
                # Killed at once: a wedged engine must not hold the sound card or
                # the CPU while the watchdog decides (it calls restart()).
                pid = self.pid
                self._kill()
                log.warning("speech engine %s (pid %s) gave no answer within %.1f s; killed it",
                            self.name, pid, timeout)
                raise
            except (BrokenPipeError, OSError):
                reply = None
            if reply is None:
                self._kill()
                raise SpeechError(f"speech worker for {self.name} died; it is restarted for the next call")
            if not reply.get("ok"):
                raise SpeechError(reply.get("error") or "speech worker failed")
            try:
                return Audio.read(out)
            except AudioError as exc:
                raise SpeechError(str(exc)) from None
            finally:
                Path(out).unlink(missing_ok=True)

    def restart(self) -> None:
        with self._lock:
            self._kill()
            self.restarts += 1
            self._spawn()

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the worker and anything it started
            except ProcessLookupError:
                pass
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass

    def close(self) -> None:
        with self._lock:
            self._kill()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _read_replies(proc: subprocess.Popen[str], replies: queue.Queue[dict[str, Any] | None]) -> None:
    try:
        for line in proc.stdout:
            try:
                replies.put(json.loads(line))
            except json.JSONDecodeError:
                log.warning("speech worker %d wrote a line that is not JSON: %r", proc.pid, line[:200])
    except (OSError, ValueError):
        pass
    replies.put(None)  # end of stream: the worker exited


def make_engine(options: DisplayOptions) -> SpeechEngine:
    """The engine a display's options ask for (pyttsx3 in a worker process by default)."""
    if options.speech == "espeak-ng":
        return EspeakEngine(options.voice, options.rate, options.volume)
    if options.speech == "clips":
        return ClipsEngine(options.clips, options.volume)
    return WorkerEngine("display.speech:Pyttsx3Engine",
                        {"voice": options.voice, "rate": options.rate, "volume": options.volume}, name="pyttsx3")
