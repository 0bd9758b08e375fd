#!/usr/bin/env python3
"""Board benchmark: the real Kivy board and announcer, fed by the real dispatcher over Mosquitto.

    .venv/bin/python bench/display.py             # 3 runs, about 5 minutes each on 2 vCPUs
    .venv/bin/python bench/display.py --quick     # a smoke run (about 15 s)
    .venv/bin/python bench/display.py --json out.json --runs 1

Per run, against one broker, one dispatcher (in this process) and one board (a child
process running display.app.BoardApp full size, 1920x1080):

  (a) latency: `call_next` on a counter every 150 ms, so each call finds the announcer
      idle. Measured in the board process with time.perf_counter (CLOCK_MONOTONIC, the
      same clock in every process of the machine):
        call received (paho callback) -> first audio sample handed to the sink (the chime)
        call received -> first sample of the sentence (pyttsx3 synthesis in its worker
                         process, started with the chime; the sink here plays instantly)
        counter command published (this process) -> chime handed to the sink
  (b) memory: an hour of calls at one a second, time compressed to 15 calls a second
      (the most the announcer keeps up with here: synthesis takes 30-40 ms a call):
      the board's RSS (/proc/PID/status VmRSS) after start-up, after the first simulated
      minute (warm-up: fonts, glyphs and textures are loaded on first use) and at the end,
      plus the speech worker's RSS. Every call also brings a Board message and a redraw.

The board is the one `antrian display` runs, with two changes for measuring: a sink
that records times instead of playing (an ALSA device would add its own buffering),
and min_call_seconds 0 (at one call a second a 5 s minimum would only queue calls).
The board gets its own Xvfb screen of 1920x1080 (xvfb-run) and renders with Mesa's
llvmpipe, in software; the marquee and the clock keep it redrawing as on a real TV.
Not SDL's offscreen EGL driver: with it this Mesa/SDL pair grows the process by about
1.5 MB per frame drawn, which is the driver's, not the board's (a Pi uses KMS or X11).

Targets are printed beside the figures, never asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/display.py` from a checkout without an install
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from benchlib import open_buton, percentile, scaled  # noqa: E402

SITE = "buton"
TARGET_P99_MS = 150.0
TARGET_RSS_GROWTH = 0.10

FULL = {"latency_calls": 200, "latency_interval": 0.15, "hour_calls": 3600, "calls_per_s": 15.0, "warmup": 60,
        "settle": 10.0}
QUICK = {"latency_calls": 20, "latency_interval": 0.15, "hour_calls": 90, "calls_per_s": 15.0, "warmup": 30,
         "settle": 1.0}


# -- the board process ---------------------------------------------------------------


def board_child(site_file: str, address: str, state_dir: str, out: str) -> None:
    """Runs in the child: the real BoardApp, with a timing sink and a receive hook."""
    from display.kivy_env import prepare

    prepare(state_dir, size=(1920, 1080), fullscreen=False)
    from kivy.clock import Clock

    from antrian.site import load
    from display.options import read
    from antrian.adapters.mqtt import parse_address
    from display.app import BoardApp
    from display.audio import AudioSink

    received: dict[int, float] = {}
    plays: dict[int, list[float]] = {}
    busy: list[int] = []
    backlog = [0]  # the most calls ever waiting in the announcer

    class TimingSink(AudioSink):
        """Notes when each piece is handed over; keeps no audio (RSS is measured)."""

        def play(self, audio) -> None:
            now = time.perf_counter()
            shown = app.announcer.shown
            if shown is not None:
                plays.setdefault(shown["seq"], []).append(now)
            backlog[0] = max(backlog[0], app.announcer.pending)

    config = load(site_file)
    options = dataclasses.replace(read(config, "board1"), min_call_seconds=0.0, repeat=1)
    host, port = parse_address(address)
    app = BoardApp(config, "board1", host, port, options=options, state_dir=state_dir, sink=TimingSink())
    announce = app.link.on_call

    def on_call(call: dict) -> None:
        received[call.get("seq")] = time.perf_counter()
        if not app.announcer.idle:
            busy.append(call.get("seq"))
        announce(call)

    app.link.on_call = on_call

    def ready(_dt) -> bool:
        if app.link.connected and app.board_data is not None:
            print(json.dumps({"ready": True, "pid": os.getpid(), "worker": getattr(app.announcer.engine, "pid", None)}),
                  flush=True)
            return False
        return True

    def commands() -> None:
        for line in sys.stdin:
            if line.strip() == "quit":
                break
        app.announcer.wait_idle(120)
        Path(out).write_text(json.dumps({"received": received, "plays": plays, "busy": busy,
                                         "backlog": backlog[0], "spoken": app.announcer.spoken_count,
                                         "superseded": app.announcer.superseded_count}))
        Clock.schedule_once(lambda _dt: app.stop())

    Clock.schedule_interval(ready, 0.05)
    threading.Thread(target=commands, daemon=True).start()
    app.run()


# -- the harness -------------------------------------------------------------------------


def bench_site(folder: Path) -> Path:
    raw = open_buton()
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of one process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used since boot (busy, not idle)."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    """The board's RSS every half second, for the whole run."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            try:
                self.samples.append((round(time.monotonic() - self.started, 1), round(rss_mb(self.pid)[0], 1)))
            except (OSError, KeyError):
                return


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


class Desk:
    """Kiosk requests and counter commands through the broker, replies counted."""

    def __init__(self, host: str, port: int) -> None:
        from antrian import protocol
        from antrian.adapters.mqtt import Connection, make_client

        self.protocol = protocol
        self.conn = Connection(make_client(f"bench-desk-{uuid.uuid4().hex[:8]}"))
        self.replies = 0
        self.errors: list[dict] = []
        self._cond = threading.Condition()

        def on_message(client, userdata, msg) -> None:
            reply = json.loads(msg.payload)
            with self._cond:
                self.replies += 1
                if not reply.get("ok") and reply.get("error", {}).get("code") != "queue_empty":
                    self.errors.append(reply)
                self._cond.notify_all()

        self.conn.client.on_message = on_message
        self.conn.on_connected(lambda c: c.subscribe([(protocol.kiosk_reply(SITE, "+"), 1),
                                                      (protocol.counter_reply(SITE, "+"), 1)]))
        self.conn.connect(host, port)
        if not self.conn.wait_connected(scaled(10)):
            raise SystemExit("bench: cannot connect to the broker")
        time.sleep(scaled(0.2))  # the SUBACK

    def tickets(self, count: int, services: list[str]) -> None:
        start = self.replies
        for i in range(count):
            self.conn.publish_json(self.protocol.kiosk_request(SITE, "kiosk1"),
                                   {"id": uuid.uuid4().hex, "service": services[i % len(services)], "priority": None})
        with self._cond:
            if not self._cond.wait_for(lambda: self.replies - start >= count, 120):
                raise SystemExit(f"bench: only {self.replies - start} of {count} tickets answered")

    def call(self, counter: str) -> None:
        self.conn.publish_json(self.protocol.counter_command(SITE, counter),
                               {"id": uuid.uuid4().hex, "action": "call_next"})

    def close(self) -> None:
        self.conn.close()




def run_once(settings: dict[str, Any], workdir: Path, index: int) -> dict[str, Any]:
    from antrian.adapters.mosquitto import LocalBroker
    from antrian.site import load
    from antrian.dispatcher import Dispatcher
    from antrian.adapters.store import Store

    folder = workdir / f"run{index}"
    folder.mkdir(parents=True)
    site = bench_site(folder)
    config = load(site).always_open()
    broker = LocalBroker(data_dir=folder / "broker").start()
    store = Store(folder / "antrian.db", config.tz)
    dispatcher = Dispatcher(config, store)
    dispatcher.start(broker.host, broker.port)
    desk = Desk(broker.host, broker.port)
    out = folder / "board.json"
    log = open(folder / "board.log", "w")
    cmd = [sys.executable, __file__, "--board-child", str(site), broker.address, str(folder / "state"), str(out)]
    if shutil.which("xvfb-run"):
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", *cmd]
    child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT,
                             start_new_session=True)
    try:
        line = child.stdout.readline()
        if not line:
            raise SystemExit(f"bench: the board did not start; see {folder / 'board.log'}")
        hello = json.loads(line)
        board, worker = hello["pid"], hello.get("worker")
        sampler = RssSampler(board)
        sampler.start()
        counters = list(config.counters)
        services = list(config.services)
        total = settings["latency_calls"] + settings["hour_calls"]
        # Twice the calls: counters serve different services, and none may run dry.
        desk.tickets(2 * total, services)
        time.sleep(scaled(1.0))  # let the board settle after the burst of board updates
        rss_start = rss_mb(board)[0]
        own_before = cpu_seconds() + cpu_seconds(board) + (cpu_seconds(worker) if worker else 0)
        busy_before, wall_before = machine_busy_seconds(), time.monotonic()

        sent: dict[int, float] = {}
        n = 0
        for i in range(settings["latency_calls"]):
            n += 1
            sent[n] = time.perf_counter()
            desk.call(counters[i % len(counters)])
            time.sleep(settings["latency_interval"])

        interval = 1.0 / settings["calls_per_s"]
        t0 = time.perf_counter()
        samples = []
        rss_warm = None
        for i in range(settings["hour_calls"]):
            desk.call(counters[i % len(counters)])
            if i + 1 == settings["warmup"]:
                time.sleep(0.5)
                rss_warm = rss_mb(board)[0]
            if (i + 1) % 300 == 0:
                samples.append(round(rss_mb(board)[0], 1))
            delay = t0 + (i + 1) * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        rss_stream_end = rss_mb(board)[0]
        time.sleep(1.0)
        rss_end = rss_mb(board)[0]
        own = cpu_seconds() + cpu_seconds(board) + (cpu_seconds(worker) if worker else 0) - own_before
        busy, wall = machine_busy_seconds() - busy_before, time.monotonic() - wall_before
        time.sleep(settings["settle"])
        rss_settled, rss_peak = rss_mb(board)
        sampler.stop.set()
        worker_rss = rss_mb(worker)[0] if worker else None
        child.stdin.write("quit\n")
        child.stdin.flush()
        child.wait(scaled(60))
        data = json.loads(out.read_text())
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)  # xvfb-run, its X server and the board
            child.wait()
        log.close()
        desk.close()
        dispatcher.stop()
        store.close()
        broker.stop()

    received = {int(k): v for k, v in data["received"].items()}
    plays = {int(k): v for k, v in data["plays"].items()}
    first = range(1, settings["latency_calls"] + 1)
    # A call that finds the board idle starts with the chime, then its sentence (repeat 1); one that
    # finds it busy waited, and is said in the short form without a chime (display/announcer.py).
    # So the chime's latency is over the calls that found it idle, the sentence's over every call.
    found_busy = set(data["busy"])
    idle = [s for s in first if s in plays and s in received and s not in found_busy]
    chime_ms = [1000 * (plays[s][0] - received[s]) for s in idle]
    speech_ms = [1000 * (plays[s][-1] - received[s]) for s in first if s in plays and s in received]
    said_in_full = sum(1 for s in idle if len(plays[s]) == 2)
    press_ms = [1000 * (plays[s][0] - sent[s]) for s in first if s in plays]
    # Said in words, in full or (behind other calls) in the short form; a call its counter
    # replaced before it was said is superseded (display/announcer.py).
    spoken, superseded = data["spoken"], data["superseded"]
    calls_made = len(received)
    return {
        "cpu": {"wall_s": round(wall, 1), "machine_busy_s": round(busy, 1), "bench_s": round(own, 1),
                "others_s": round(max(0.0, busy - own), 1)},
        "latency": {"calls": settings["latency_calls"], "measured": len(chime_ms),
                    "busy_on_arrival": len([s for s in data["busy"] if s <= settings["latency_calls"]]),
                    "said_in_full": said_in_full,
                    "chime_ms": chime_ms, "speech_ms": speech_ms, "press_ms": press_ms},
        "memory": {"calls": settings["hour_calls"], "calls_per_s": settings["calls_per_s"], "spoken": spoken,
                   "superseded": superseded, "commands": total, "calls_made": calls_made, "max_backlog": data["backlog"], "rss_start_mb": round(rss_start, 1),
                   "rss_warm_mb": round(rss_warm or rss_start, 1), "rss_stream_end_mb": round(rss_stream_end, 1),
                   "rss_end_mb": round(rss_end, 1), "rss_settled_mb": round(rss_settled, 1),
                   "rss_peak_mb": round(rss_peak, 1), "samples_mb": samples, "timeline": sampler.samples,
                   "worker_rss_mb": round(worker_rss, 1) if worker_rss else None},
    }


def summary(run: dict[str, Any]) -> dict[str, float]:
    lat, mem = run["latency"], run["memory"]
    chimed = lat["chime_ms"] or [math.nan]  # none when every call found the board busy
    return {
        "chime_p50": statistics.median(chimed), "chime_p99": percentile(chimed, 99),
        "speech_p50": statistics.median(lat["speech_ms"]), "speech_p99": percentile(lat["speech_ms"], 99),
        "press_p50": statistics.median(lat["press_ms"]), "press_p99": percentile(lat["press_ms"], 99),
        "growth_warm": (mem["rss_end_mb"] - mem["rss_warm_mb"]) / mem["rss_warm_mb"],
        "growth_start": (mem["rss_end_mb"] - mem["rss_start_mb"]) / mem["rss_start_mb"],
        "growth_settled": (mem["rss_settled_mb"] - mem["rss_warm_mb"]) / mem["rss_warm_mb"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--runs", type=int, help="runs (default 3, 1 with --quick)")
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--board-child", nargs=4, metavar=("SITE", "BROKER", "STATE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.board_child:
        board_child(*args.board_child)
        return 0

    # A SIGTERM runs the clean-ups below: no broker or board left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    settings = QUICK if args.quick else FULL
    runs = args.runs or (1 if args.quick else 3)
    print(f"bench/display.py: {runs} run(s), {platform.node()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {platform.platform()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="antrian-bench-display-") as tmp:
        for i in range(runs):
            started = time.monotonic()
            load_before = os.getloadavg()[0]
            run = run_once(settings, Path(tmp), i)
            run["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
            s = summary(run)
            results.append({"run": run, "summary": s})
            lat, mem = run["latency"], run["memory"]
            print(f"run {i + 1} ({time.monotonic() - started:.0f} s, load average {run['load'][0]:.1f} before, "
                  f"{run['load'][1]:.1f} after)", flush=True)
            print(f"  (a) call received -> chime handed to the sink   p50 {s['chime_p50']:6.1f} ms  "
                  f"p99 {s['chime_p99']:6.1f} ms  ({lat['measured']}/{lat['calls']} calls, "
                  f"{lat['busy_on_arrival']} found it busy; target p99 <= {TARGET_P99_MS:.0f} ms)")
            print(f"      call received -> sentence handed to the sink p50 {s['speech_p50']:6.1f} ms  "
                  f"p99 {s['speech_p99']:6.1f} ms")
            print(f"      counter command -> chime handed to the sink  p50 {s['press_p50']:6.1f} ms  "
                  f"p99 {s['press_p99']:6.1f} ms")
            print(f"  (b) board RSS after start {mem['rss_start_mb']} MB, after {settings['warmup']} calls "
                  f"{mem['rss_warm_mb']} MB, as the last of {mem['calls']} calls at {mem['calls_per_s']:g}/s "
                  f"went out {mem['rss_stream_end_mb']} MB, 1 s later {mem['rss_end_mb']} MB, "
                  f"{settings['settle']:g} s later {mem['rss_settled_mb']} MB (peak {mem['rss_peak_mb']} MB)")
            print(f"      growth {100 * s['growth_warm']:+.1f} % since warm-up, {100 * s['growth_start']:+.1f} % "
                  f"since start, settled {100 * s['growth_settled']:+.1f} % since warm-up (target within "
                  f"{100 * TARGET_RSS_GROWTH:.0f} %)")
            print(f"      {mem['calls_made']} calls received, {mem['spoken']} spoken, {mem['superseded']} superseded by their counter's next call, at most {mem['max_backlog']} "
                  f"waiting; speech worker {mem['worker_rss_mb']} MB; RSS every 300 calls: {mem['samples_mb']}")
            cpu = run["cpu"]
            print(f"      CPU during (a)+(b): {cpu['wall_s']} s wall, machine busy {cpu['machine_busy_s']} CPU-s, "
                  f"this bench {cpu['bench_s']} CPU-s, other processes {cpu['others_s']} CPU-s", flush=True)
    if runs > 1:
        med = {k: statistics.median(r["summary"][k] for r in results) for k in results[0]["summary"]}
        pooled = [x for r in results for x in r["run"]["latency"]["chime_ms"]]
        print(f"median of {runs} runs: chime p50 {med['chime_p50']:.1f} ms, p99 {med['chime_p99']:.1f} ms "
              f"(pooled p99 {percentile(pooled, 99):.1f} ms); sentence p50 {med['speech_p50']:.1f} ms, "
              f"p99 {med['speech_p99']:.1f} ms; press->chime p50 {med['press_p50']:.1f} ms, "
              f"p99 {med['press_p99']:.1f} ms; RSS growth {100 * med['growth_warm']:+.1f} % since warm-up, "
              f"{100 * med['growth_start']:+.1f} % since start, settled {100 * med['growth_settled']:+.1f} %")
    if args.json:
        Path(args.json).write_text(json.dumps({"settings": settings, "runs": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
