"""The options of a ``role: display`` device (a waiting-hall TV board) in the site file.

Pure: no Kivy, no audio library. `check` is registered with the site-file validator,
so `antrian check-config` reports a bad voice setting or a missing word clip with its
place in the file; `read` gives the board the same options as a frozen object.

    - id: board1
      role: display
      speech: pyttsx3        # pyttsx3 (default) | espeak-ng | clips
      voice: id              # espeak-ng voice: "id" is Indonesian
      rate: 140              # words per minute
      volume: 1.0            # 0.0 - 1.0
      repeat: 2              # the sentence is said this many times per call
      min_call_seconds: 5    # a call stays highlighted at least this long

The word-clip engine says an announcement by joining one WAV file per word
(``nomor.wav``, ``be.wav``, ``dua.wav``, ``belas.wav``, ...): `clip_words` splits a
sentence into those words, and `needed_clips` lists every word any call of the site
can need, so a missing recording is found before a citizen waits for it.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, Callable, Mapping

from antrian import bahasa
from antrian.site import Config, ConfigError

__all__ = ["DisplayOptions", "check", "clip_words", "missing_clips", "needed_clips", "read", "resolve_path"]

SPEECH_ENGINES = ("pyttsx3", "espeak-ng", "clips")
AUDIO_OUTPUTS = ("auto", "alsa", "wav", "none")
ORIENTATIONS = ("auto", "landscape", "portrait")
PAUSES = (",", ".")
CLIP_SUFFIX = ".wav"
# Ticket numbers have 3 digits, 4 past 999 (DESIGN.md); a site without quotas can reach 9999.
MAX_NUMBER = 9999

_VOICE = re.compile(r"^[A-Za-z0-9_/+-]{1,40}$")
_ALSA_DEVICE = re.compile(r"^[A-Za-z0-9_:,=.-]{1,80}$")
# Letters of any script (a counter may be called "Loket Pengaduan"), and the two
# punctuation marks that become pauses. Digits never reach here: bahasa reads them.
_TOKEN = re.compile(r"[^\W\d_]+|[,.]")


@dataclasses.dataclass(frozen=True)
class DisplayOptions:
    """A board's settings; paths are absolute (relative ones are read from the site file's folder)."""

    speech: str = "pyttsx3"
    voice: str = "id"
    rate: int = 140
    volume: float = 1.0
    repeat: int = 1
    min_call_seconds: float = 5.0
    chime: bool = True
    clips: str | None = None
    audio: str = "auto"
    alsa_device: str | None = None
    wav_dir: str | None = None
    orientation: str = "auto"
    fullscreen: bool = True
    # A call made while the board was offline is still announced after the reconnect
    # if it is at most this old; older ones are only shown.
    catch_up_seconds: float = 30.0
    # A speech engine that has not answered after this long is restarted (the watchdog).
    speech_timeout: float = 10.0


_FIELDS = {f.name for f in dataclasses.fields(DisplayOptions)}
Report = Callable[[str, str], None]


def resolve_path(config: Config, value: str) -> Path:
    """A path from the site file: relative ones start at the site file's folder."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        source = Path(config.source)
        base = source.parent if source.suffix in (".yaml", ".yml") else Path.cwd()
        path = base / path
    return path.resolve()


def _kind(value: Any) -> str:
    """A value as the site-file checks name it: "the text 'x'", "float 1.5", "true"."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{type(value).__name__} {value!r}"


def _parse(options: Mapping[str, Any], path: str, config: Config, report: Report) -> DisplayOptions:
    d = DisplayOptions()
    values: dict[str, Any] = {}

    for key in options:
        if key not in _FIELDS:
            report(f"{path}.{key}", f"unknown key for a display (allowed: {', '.join(sorted(_FIELDS))})")

    def choice(key: str, allowed: tuple[str, ...]) -> None:
        value = options.get(key)
        if value is None:
            return
        if value not in allowed:
            report(f"{path}.{key}", f"{_kind(value)} is not one of {', '.join(allowed)}")
        else:
            values[key] = value

    def number(key: str, low: float, high: float, whole: bool = False) -> None:
        value = options.get(key)
        if value is None:
            return
        ok_type = int if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok_type):
            report(f"{path}.{key}", f"must be a {'whole number' if whole else 'number'}, not {_kind(value)}")
        elif not low <= value <= high:
            report(f"{path}.{key}", f"{value} is out of range {low:g}..{high:g}")
        else:
            values[key] = value if whole else float(value)

    def flag(key: str) -> None:
        value = options.get(key)
        if value is None:
            return
        if not isinstance(value, bool):
            report(f"{path}.{key}", f"must be true or false, not {_kind(value)}")
        else:
            values[key] = value

    def text(key: str, pattern: re.Pattern[str], hint: str) -> str | None:
        value = options.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not pattern.match(value):
            report(f"{path}.{key}", f"{_kind(value)} is not valid: {hint}")
            return None
        values[key] = value
        return value

    choice("speech", SPEECH_ENGINES)
    choice("audio", AUDIO_OUTPUTS)
    choice("orientation", ORIENTATIONS)
    text("voice", _VOICE, "an espeak-ng voice such as 'id' (Indonesian) or 'mb-id1'")
    text("alsa_device", _ALSA_DEVICE, "an ALSA device such as 'default' or 'plughw:1,0'")
    number("rate", 60, 300, whole=True)
    number("volume", 0.0, 1.0)
    number("repeat", 1, 5, whole=True)
    number("min_call_seconds", 0, 60)
    number("catch_up_seconds", 0, 3600)
    number("speech_timeout", 1, 120)
    flag("chime")
    flag("fullscreen")

    for key in ("clips", "wav_dir"):
        value = options.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            report(f"{path}.{key}", f"must be a folder name, not {_kind(value)}")
        else:
            values[key] = str(resolve_path(config, value))

    speech = values.get("speech", d.speech)
    if speech == "clips":
        if "clips" not in values:
            if options.get("clips") is None:
                report(f"{path}.clips", "required with speech: clips (the folder of word recordings)")
        else:
            for problem in clip_problems(Path(values["clips"]), config):
                report(f"{path}.clips", problem)
    return dataclasses.replace(d, **values)


def check(options: Mapping[str, Any], path: str, config: Config, report: Report) -> None:
    """The validator registered for role display: report every problem with its path."""
    _parse(options, path, config, report)


def read(config: Config, device_id: str) -> DisplayOptions:
    """The options of display device *device_id* (ConfigError if there is no such display)."""
    device = config.device(device_id, "display")
    problems: list[tuple[str, str]] = []
    index = list(config.devices).index(device_id)
    options = _parse(device.options, f"devices[{index}]", config, lambda p, m: problems.append((p, m)))
    if problems:  # only when the file changed since it was loaded
        raise ConfigError(config.source, problems)
    return options


# ---------------------------------------------------------------------------
# Word clips


def clip_words(text: str) -> list[str]:
    """An announcement as clip names and pauses: "Nomor antrean be, dua." ->
    ["nomor", "antrean", "be", ",", "dua", "."]."""
    return _TOKEN.findall(text.lower())


def needed_clips(config: Config) -> list[str]:
    """Every word (clip name without ``.wav``) that a call of this site can say, sorted."""
    a = config.announcement
    prefixes = sorted({s.prefix for s in config.services.values()})
    counters = [c.name for c in config.counters.values()]
    # The number is read on its own, so every reading shows up with one prefix and one
    # counter; every prefix and every counter name with one number.
    highest = max((s.quota or MAX_NUMBER for s in config.services.values()), default=MAX_NUMBER)
    highest = min(highest, MAX_NUMBER)
    texts = [bahasa.announcement(f"{prefixes[0]}-{n:03d}", counters[0], template=a.template, digits=a.digits)
             for n in range(1, highest + 1)]
    texts += [bahasa.announcement(f"{p}-001", c, template=a.template, digits=a.digits)
              for p in prefixes for c in counters]
    words = {w for t in texts for w in clip_words(t)}
    return sorted(words - set(PAUSES))


def missing_clips(folder: Path, config: Config) -> list[str]:
    """The clip files (``belas.wav``) that *folder* lacks for this site."""
    have = {p.name.lower() for p in folder.glob(f"*{CLIP_SUFFIX}")} if folder.is_dir() else set()
    return [f"{w}{CLIP_SUFFIX}" for w in needed_clips(config) if f"{w}{CLIP_SUFFIX}" not in have]


def clip_problems(folder: Path, config: Config) -> list[str]:
    if not folder.is_dir():
        return [f"folder {folder} does not exist"]
    missing = missing_clips(folder, config)
    if not missing:
        return []
    shown = ", ".join(missing[:20]) + (f", ... ({len(missing) - 20} more)" if len(missing) > 20 else "")
    return [f"{len(missing)} word clip(s) missing in {folder}: {shown}"]
