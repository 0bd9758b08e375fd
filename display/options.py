"""The options of a ``role: display`` device (a waiting-hall TV board) in the site file.

Pure: no Kivy, no audio library. `SCHEMA` describes these options with the site
file's field kit (antrian/site/schema.py); it is the ``display`` role's schema, so
`antrian check-config` reports a bad voice setting or a missing word clip with its
place in the file and docs/site-file.md lists every key; `read` gives the board the
same options as a frozen object.

    - id: board1
      role: display
      speech: pyttsx3        # pyttsx3 (default) | espeak-ng | clips
      voice: id              # espeak-ng voice: "id" is Indonesian
      rate: 140              # words per minute
      volume: 1.0            # 0.0 - 1.0
      repeat: 2              # the sentence is said this many times per call
      min_call_seconds: 5    # a call stays highlighted at least this long
      zone: {agencies: [disdukcapil]}   # show and say only these counters (default: all)
      hall: Ruang tunggu Disdukcapil    # the room it hangs in (default: the main hall)
      speaks: true           # false: shows the calls without a sound
      page_seconds: 10       # counters that need more than one page turn this often

The word-clip engine says an announcement by joining one WAV file per word
(``nomor.wav``, ``be.wav``, ``dua.wav``, ``belas.wav``, ...): `clip_words` splits a
sentence into those words, and `needed_clips` lists every word any call of the site
can need, so a missing recording is found before a citizen waits for it.

Zones (issue 16): a board given a ``zone`` shows and says only the calls of the
zone's counters (those named, and every counter of the agencies named). A call is
said once per room: of the boards that speak in one ``hall``, no two may share a
counter (`_speakers_apart`), so two boards never say one call over each other, while
boards of different zones, or of different halls, speak at the same time.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, Mapping

from antrian import bahasa
from antrian.site import Config, ConfigError
from antrian.site.schema import (Choice, Field, Flag, ListOf, Number, Problems, Ref, Report, Section, Text, Whole,
                                 check, join)

__all__ = ["SCHEMA", "DisplayOptions", "ZoneSpec", "clip_words", "missing_clips", "needed_clips", "read",
           "resolve_path", "zone_counters"]

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
class ZoneSpec:
    """What a zoned board shows and says: these counters and every counter of these agencies."""

    agencies: tuple[str, ...] = ()
    counters: tuple[str, ...] = ()


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
    # A smart TV's browser shows this board from the staff web app (/papan/<id>), no Pi.
    browser: bool = False
    # None: the whole site. A zoned board shows and says only its zone's counters.
    zone: ZoneSpec | None = None
    # The room the board hangs in: of the speaking boards of one hall no two share a counter.
    hall: str = ""
    speaks: bool = True
    # Counters that do not fit one screen at a readable size are shown page by page.
    page_seconds: float = 10.0


def zone_counters(config: Config, zone: ZoneSpec | None) -> frozenset[str] | None:
    """The ids of the counters a zone holds, or None for the whole site."""
    if zone is None:
        return None
    return frozenset(c.id for c in config.counters.values()
                     if c.id in zone.counters or c.agency in zone.agencies)


def resolve_path(config: Config, value: str) -> Path:
    """A path from the site file: relative ones start at the site file's folder."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        source = Path(config.source)
        base = source.parent if source.suffix in (".yaml", ".yml") else Path.cwd()
        path = base / path
    return path.resolve()


def _clips_present(options: dict, path: str, report: Report, context: dict) -> None:
    """with speech: clips, the clips folder is given, exists and holds a recording of
    every word a call of this site can say."""
    if options.get("speech") != "clips":
        return
    config = context["config"]
    if options.get("clips") is None:
        report(join(path, "clips"), "required with speech: clips (the folder of word recordings)")
        return
    for problem in clip_problems(resolve_path(config, options["clips"]), config):
        report(join(path, "clips"), problem)


def _zone_known(zone: dict, path: str, report: Report, context: dict) -> None:
    """a zone names agencies and counters of the site file, at least one of them"""
    config = context.get("config")  # none: a zone checked on its own (the reference's example)
    names = {} if config is None else {"agencies": [a.id for a in config.agencies], "counters": list(config.counters)}
    for key, known in names.items():
        for i, name in enumerate(zone.get(key) or ()):
            if name not in known:
                what = "agency" if key == "agencies" else "counter"
                report(join(join(path, key), i), f"unknown {what} {name!r} (known: {', '.join(known)})")
    if not zone.get("agencies") and not zone.get("counters"):
        report(path, "a zone names at least one agency or counter (leave zone out for the whole site)")


def _raw_zone(config: Config, options: Any) -> frozenset[str] | None:
    """The counters of a display's zone as written (another device's options are not
    checked yet when this one is): unknown names are left out."""
    zone = options.get("zone") if isinstance(options, Mapping) else None
    if not isinstance(zone, Mapping):
        return None
    names = {key: tuple(x for x in (zone.get(key) or ()) if isinstance(x, str)) for key in ("agencies", "counters")}
    return zone_counters(config, ZoneSpec(**names))


def _speakers_apart(options: dict, path: str, report: Report, context: dict) -> None:
    """of the boards that speak in one hall, no two show the same counter: each call is
    said by one board of a room (a board with speaks: false only shows)"""
    config = context["config"]
    if options.get("speaks") is False:
        return
    index = int(path[len("devices["):-1]) if path.startswith("devices[") and path.endswith("]") else None
    mine = _raw_zone(config, options)
    hall = options.get("hall") or ""
    for i, device in enumerate(config.devices.values()):
        if index is None or i >= index or device.role != "display":
            continue
        other = device.options
        if other.get("speaks") is False or (other.get("hall") or "") != hall:
            continue
        theirs = _raw_zone(config, other)
        shared = [c.name for c in config.counters.values()
                  if (mine is None or c.id in mine) and (theirs is None or c.id in theirs)]
        if shared:
            where = f"hall {hall!r}" if hall else "the main hall (no hall:)"
            listed = ", ".join(shared[:6]) + (f" and {len(shared) - 6} more" if len(shared) > 6 else "")
            report(join(path, "speaks"), f"{device.id} also speaks the calls of {listed} in {where}: one call "
                   "would be said twice at once; give one of them speaks: false, a hall of its own, or zones "
                   "that share no counter")


def _rules(options: dict, path: str, report: Report, context: dict) -> None:
    _clips_present(options, path, report, context)
    _speakers_apart(options, path, report, context)


ZONE = Section({
    "agencies": Field(ListOf(Ref("an agency id")), "every counter of these agencies", example=["disdukcapil"]),
    "counters": Field(ListOf(Ref("a counter id")), "these counters", example=["loket1", "loket2"]),
}, "the counters a board shows and says: those named and every counter of the agencies named",
    what="a zone", rule=_zone_known)

_D = DisplayOptions
SECONDS = "seconds"
SCHEMA = Section({
    "speech": Field(Choice(SPEECH_ENGINES), "the speech engine: pyttsx3 or espeak-ng (Indonesian voices), or "
                    "clips (recordings of single words, joined)", default=_D.speech, example="espeak-ng"),
    "voice": Field(Text(_VOICE, "an espeak-ng voice such as 'id' (Indonesian) or 'mb-id1'"),
                   "the voice: id (Indonesian) or mb-id1 (MBROLA, if installed)", default=_D.voice, example="id"),
    "rate": Field(Whole(60, 300), "words per minute", default=_D.rate, example=140),
    "volume": Field(Number(0, 1), "the speech's loudness (set the sound card's with alsamixer)",
                    default=_D.volume, example=1.0),
    "repeat": Field(Whole(1, 5), "how many times each call is said", default=_D.repeat, example=2),
    "min_call_seconds": Field(Number(0, 60, SECONDS), "a new call stays large on screen at least this long, so "
                              "calls made together do not flash by", default=_D.min_call_seconds, example=5),
    "chime": Field(Flag(), "the ding-dong before every call", default=_D.chime, example=True),
    "clips": Field(Text(), "with speech: clips, the folder of word recordings (nomor.wav, antrean.wav, a.wav, "
                   "be.wav, satu.wav, belas.wav, ...); check-config lists any that are missing. A relative "
                   "folder is read from the site file's folder", example="suara"),
    "audio": Field(Choice(AUDIO_OUTPUTS), "where the sound goes: auto (ALSA when there is a sound card, else "
                   "WAV files), alsa, wav (files in wav_dir: a board without speakers) or none",
                   default=_D.audio, example="alsa"),
    "alsa_device": Field(Text(_ALSA_DEVICE, "an ALSA device such as 'default' or 'plughw:1,0'"),
                         "the sound card; none: the system's default", example="plughw:1,0"),
    "wav_dir": Field(Text(), "with audio: wav, the folder the calls are written to as WAV files",
                     example="/var/lib/antrian/wav"),
    "orientation": Field(Choice(ORIENTATIONS), "portrait for a TV hung upright whose picture the OS does not "
                         "rotate", default=_D.orientation, example="portrait"),
    "fullscreen": Field(Flag(), "false for a window on a laptop", default=_D.fullscreen, example=True),
    "catch_up_seconds": Field(Number(0, 3600, SECONDS), "a call made while the board was offline is still said "
                              "after the reconnect if it is at most this old", default=_D.catch_up_seconds,
                              example=30),
    "speech_timeout": Field(Number(1, 120, SECONDS), "a speech engine that has not answered after this long is "
                            "restarted", default=_D.speech_timeout, example=10),
    "browser": Field(Flag(), "true: a smart TV's browser shows this board from the staff web app "
                     "(/papan/<id>, docs/operations.md), with no Pi; its sound is made by the web app "
                     "(speech pyttsx3 is made with espeak-ng there)", default=_D.browser, example=False),
    "zone": Field(ZONE, "show and say only these agencies' and counters' calls (none: the whole site)",
                  example={"agencies": ["disdukcapil"]}),
    "hall": Field(Text(), "the room the board hangs in; boards that speak in one hall may not share a counter "
                  "(none: the main hall)", default=_D.hall, example="Ruang tunggu Disdukcapil"),
    "speaks": Field(Flag(), "false: the board shows the calls without a sound (a second board in a hall whose "
                    "calls another board says)", default=_D.speaks, example=True),
    "page_seconds": Field(Number(3, 120, SECONDS), "more counters than one screen shows at a readable size are "
                          "shown page by page, turning this often", default=_D.page_seconds, example=10),
}, "a TV board that shows and says the calls", what="a display", rule=_rules)


def read(config: Config, device_id: str) -> DisplayOptions:
    """The options of display device *device_id*, defaults filled in, folders absolute
    (ConfigError if there is no such display)."""
    device = config.device(device_id, "display")
    problems = Problems()
    index = list(config.devices).index(device_id)
    options = check(SCHEMA, device.options, f"devices[{index}]", problems, {"config": config})
    if problems:  # only for a Config that did not come through load()
        raise ConfigError(config.source, problems)
    for key in ("clips", "wav_dir"):
        if options[key] is not None:
            options[key] = str(resolve_path(config, options[key]))
    zone = options["zone"]
    options["zone"] = None if zone is None else ZoneSpec(tuple(zone.get("agencies") or ()),
                                                         tuple(zone.get("counters") or ()))
    return DisplayOptions(**options)


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
    # A remote counter's call says its location instead of its name (bahasa.announcement).
    counters = [(c.name, c.location if c.remote else None) for c in config.counters.values()]
    # The number is read on its own, so every reading shows up with one prefix and one
    # counter; every prefix and every counter name with one number.
    highest = max((s.quota or MAX_NUMBER for s in config.services.values()), default=MAX_NUMBER)
    highest = min(highest, MAX_NUMBER)
    texts = [bahasa.announcement(f"{prefixes[0]}-{n:03d}", counters[0][0], location=counters[0][1],
                                 template=a.template, digits=a.digits)
             for n in range(1, highest + 1)]
    texts += [bahasa.announcement(f"{p}-001", name, location=location, template=a.template, digits=a.digits)
              for p in prefixes for name, location in counters]
    # A recall and the short form said while calls wait (display/announcer.py) add their words.
    texts += [bahasa.announcement(f"{prefixes[0]}-001", counters[0][0], location=counters[0][1],
                                  template=a.template, digits=a.digits, recall=True),
              bahasa.short_announcement(f"{prefixes[0]}-001", counters[0][0], location=counters[0][1],
                                        digits=a.digits, recall=True)]
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
