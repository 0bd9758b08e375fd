#!/usr/bin/env python3
"""Backlog benchmark (issue 16, item 3): a burst of calls on one board, before and after.

    .venv/bin/python bench/announce.py              # 3 runs each way, about 9 minutes
    .venv/bin/python bench/announce.py --runs 1     # about 3 minutes
    .venv/bin/python bench/announce.py --quick      # a smoke run: 3 calls, sound 20x faster

Ten calls from ten different counters, one every --gap seconds (1.0: ten presses within ten
seconds), reach the announcer (display/announcer.py) of one board with board1's
settings from examples/buton.yaml (rate 140, repeat 2, min_call_seconds 5, the chime).
Speech is real espeak-ng synthesis (the espeak-ng command, Indonesian voice, board1's
rate and volume: the synthesiser pyttsx3 drives on a Pi); the sound goes to a WAV sink
that writes each piece and takes as long as the piece lasts (display/audio.py
WavDirSink, realtime), so the times are those of a board with a speaker.

Each run is made twice: "old", the announcer as before issue 16 (``quick_backlog=False``:
every call in full with its chime, ``repeat`` times, each at least min_call_seconds on
screen), and "new" (a call that waited is said once, short, with no chime; repeats are
dropped while calls wait). Per run it prints, from the last press:

  end   -- until the end of the last announcement (the target: within 30 s)
  shown -- until the last call is on the big card

and the medians over the runs with the ratio old/new. The target is printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchlib import open_buton

from display.announcer import Announcer, SpokenMemory
from display.audio import Audio, WavDirSink
from display.speech import EspeakEngine

TARGET = 30.0  # seconds from the last press to the end of the last announcement (issue 16)
BOARD = "board1"


class TimedWavSink(WavDirSink):
    """A WavDirSink that notes when each piece ends; with *speed* < 1 the pieces take less time."""

    def __init__(self, folder: Path, speed: float = 1.0) -> None:
        super().__init__(folder, keep=30, realtime=False)
        self.speed = speed
        self.ends: list[float] = []
        self.pieces: list[float] = []

    def play(self, audio: Audio) -> None:
        super().play(audio)
        self._closed.wait(audio.duration * self.speed)
        self.ends.append(time.monotonic())
        self.pieces.append(audio.duration)


def burst(raw: dict, count: int, first: int = 12) -> list[dict]:
    """*count* calls from *count* different counters, each of a ticket of a service: the
    site file's counters, then "Loket 10", "Loket 11", ... as on the issue's copies of the
    Buton example with 16 and 40 counters (no counter calls twice: nothing is superseded)."""
    # A remote counter's call carries its location, said in its name's place (docs/protocol.md).
    counters = [(c["id"], c["name"], c.get("location") if c.get("remote") else None) for c in raw["counters"]]
    counters += [(f"loket{n}", f"Loket {n}", None) for n in range(len(counters) + 1, count + 1)]
    services = [s for a in raw["agencies"] for s in a["services"]]
    calls = []
    for i, (counter, name, location) in enumerate(counters[:count]):
        service = services[i % len(services)]
        calls.append({"seq": i + 1, "number": f"{service['prefix']}-{first + 3 * i:03d}", "service": service["code"],
                      "service_name": service["name"], "counter": counter, "counter_name": name,
                      "recall": False, "at": None, **({"location": location} if location else {})})
    return calls


def run(raw: dict, options: dict, *, quick_backlog: bool, count: int, gap: float, speed: float,
        first: int = 12) -> dict:
    template = raw.get("announcement", {}).get("template")
    engine = EspeakEngine(options.get("voice", "id"), options.get("rate", 140), options.get("volume", 1.0))
    shown: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-announce-") as tmp:
        sink = TimedWavSink(Path(tmp) / "wav", speed)
        kwargs = {"template": template} if template else {}
        announcer = Announcer(engine, sink, SpokenMemory(Path(tmp) / "spoken.json"),
                              repeat=options.get("repeat", 1), chime=options.get("chime", True),
                              min_call_seconds=options.get("min_call_seconds", 5.0) * speed,
                              volume=options.get("volume", 1.0), quick_backlog=quick_backlog,
                              on_show=lambda c, _spoken: shown.__setitem__(c["seq"], time.monotonic()), **kwargs)
        announcer.start()
        time.sleep(0.5)  # the engine warmed up, as on a board that has been running
        calls = burst(raw, count, first)
        pressed: list[float] = []
        for i, call in enumerate(calls):
            if i:
                time.sleep(gap)
            pressed.append(time.monotonic())
            announcer.announce(call)
        if not announcer.wait_idle(600):
            raise SystemExit("the announcer did not finish within 10 minutes")
        said = list(announcer.said)
        announcer.stop()
    last = pressed[-1]
    return {"end": (max(sink.ends) - last) / speed, "shown": (shown[calls[-1]["seq"]] - last) / speed,
            "first_to_end": (max(sink.ends) - pressed[0]) / speed, "readings": len(said),
            "pieces": len(sink.pieces), "audio_seconds": round(sum(sink.pieces), 2), "said": said}


def machine() -> dict:
    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "nproc": out(["nproc"]),
            "kernel": platform.release(), "python": platform.python_version(),
            "espeak": out(["espeak-ng", "--version"]).split(" Data")[0],
            "load": open("/proc/loadavg").read().split()[:3] if Path("/proc/loadavg").exists() else "?"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--calls", type=int, default=10)
    p.add_argument("--gap", type=float, default=1.0, help="seconds between two presses")
    p.add_argument("--first", type=int, default=12, help="the first ticket's number (A-012); the next ones "
                   "are 3 apart (B-015, C-018, ...): 112 reads like an afternoon, 'seratus dua belas'")
    p.add_argument("--quick", action="store_true", help="3 calls, sound and holds 20x faster (a smoke run)")
    p.add_argument("--json", help="write the figures here as well")
    args = p.parse_args(argv)
    speed, count, gap, runs = 1.0, args.calls, args.gap, args.runs
    if args.quick:
        speed, count, runs = 0.05, 3, 1
        gap *= speed
    raw = open_buton()
    options = next(d for d in raw["devices"] if d["id"] == BOARD)
    info = machine()
    print(f"{BOARD}: rate {options.get('rate', 140)}, repeat {options.get('repeat', 1)}, min_call_seconds "
          f"{options.get('min_call_seconds', 5)}, chime {options.get('chime', True)}; {count} calls, one every "
          f"{gap / speed:g} s, from number {args.first}; {info}")
    results: dict[str, list[dict]] = {"old": [], "new": []}
    for i in range(runs):
        for name, quick in (("old", False), ("new", True)):
            r = run(raw, options, quick_backlog=quick, count=count, gap=gap, speed=speed, first=args.first)
            results[name].append(r)
            print(f"run {i + 1} {name}: last press -> end {r['end']:.1f} s, -> last call shown {r['shown']:.1f} s; "
                  f"{r['readings']} readings, {r['pieces']} pieces, {r['audio_seconds']:.1f} s of sound"
                  + (f" (x{speed:g})" if speed != 1 else ""), flush=True)
    med = {name: {k: statistics.median(r[k] for r in rs) for k in ("end", "shown", "first_to_end")}
           for name, rs in results.items()}
    print(f"\nmedian of {runs} run(s), from the last press:")
    for name in ("old", "new"):
        print(f"  {name}: end {med[name]['end']:.1f} s, last call shown {med[name]['shown']:.1f} s "
              f"(first press -> end {med[name]['first_to_end']:.1f} s)")
    print(f"  ratio old/new: end {med['old']['end'] / med['new']['end']:.1f}x, "
          f"shown {med['old']['shown'] / max(med['new']['shown'], 1e-9):.1f}x")
    print(f"  target: the burst fully announced within {TARGET:g} s of the last press: new "
          f"{'met' if med['new']['end'] <= TARGET else 'NOT met'} ({med['new']['end']:.1f} s)")
    print("  said (new, run 1):")
    for text in results["new"][0]["said"]:
        print(f"    {text}")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "median": med, "runs": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
