#!/usr/bin/env python3
"""Panel benchmark: GPIO edge -> board message, with the real dispatcher and broker on loopback.

    .venv/bin/python bench/panel.py                 # 1,000 presses, 3 runs (about a minute)
    .venv/bin/python bench/panel.py --quick         # a smoke run: 100 presses, 1 run
    .venv/bin/python bench/panel.py --runs 1 --presses 2000 --json out.json

Each run starts its own Mosquitto (antrian.adapters.mosquitto.LocalBroker, a free loopback port) and
the dispatcher as its own process (`python -m antrian.cli dispatcher`), issues enough
tickets through a kiosk topic, and starts a hardware.panel.Panel in this process on
gpiozero's MockFactory: eight NEXT buttons (call_next on the press edge, no hold action)
for loket1..loket8, one LED each, debounce 50 ms.

A press is `MockFactory.pin(n).drive_low()`: gpiozero calls the panel's when_pressed in
this thread, which publishes the command. The clock starts (time.perf_counter) just
before drive_low and stops when a subscriber of this process receives the board whose
`seq` is that call's. So the figure is: debounce + publish + broker + dispatcher (decide,
SQLite commit with fsync, publish) + broker + delivery. Presses go round the eight
counters one at a time; each button is pressed again only after its 50 ms debounce
window (and released in between), so no press is a bounce. The first WARMUP presses
are not counted.

The database is durable as the store makes it (WAL, synchronous=FULL): put --dir on the
disk you want to measure, not a tmpfs. The target (p99 <= 15 ms on a 2-core machine) is
printed beside the figures, not asserted; exit status 1 means a press was refused or lost.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/panel.py` from a checkout without an install
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from benchlib import open_buton, percentile, scaled  # noqa: E402
from gpiozero import Device  # noqa: E402
from gpiozero.pins.mock import MockFactory  # noqa: E402

from antrian import protocol  # noqa: E402
from antrian.adapters.mosquitto import LocalBroker  # noqa: E402
from antrian.site import load  # noqa: E402
from antrian.adapters.mqtt import Connection, make_client  # noqa: E402
from hardware.panel import Panel  # noqa: E402

SITE = "buton"
COUNTERS = tuple(f"loket{n}" for n in range(1, 9))
BUTTON_PINS = (17, 5, 19, 23, 4, 16, 20, 18)
LED_PINS = (22, 13, 21, 25, 12, 6, 26, 27)
DEBOUNCE = 0.05
WARMUP = 20
TARGET_P99_MS = 15.0
TIMEOUT = 10.0  # seconds a single press may take before the run is declared broken


def bench_site(directory: Path) -> Path:
    """Buton open round the clock, no quotas, every counter open, and a bench panel."""
    raw = open_buton()
    raw["devices"].append({
        "id": "benchpanel", "role": "panel", "name": "Bench panel", "debounce_time": DEBOUNCE,
        "buttons": [{"pin": p, "counter": c, "press": "call_next"} for p, c in zip(BUTTON_PINS, COUNTERS)],
        "leds": [{"pin": p, "counter": c} for p, c in zip(LED_PINS, COUNTERS)],
    })
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path




class Watcher:
    """A subscriber that keeps the latest board seq and replies, and lets the bench wait on them."""

    def __init__(self, host: str, port: int, topics: list[str]) -> None:
        self.cond = threading.Condition()
        self.board_seq = -1
        self.board_at: dict[int, float] = {}
        self.replies: dict[str, dict[str, Any]] = {}
        self.command_at: list[float] = []  # arrival of every counter command, in order
        self.statuses: dict[str, bool] = {}
        client = make_client(f"bench-watcher-{os.getpid()}")
        client.on_message = self._on_message
        subscribed = threading.Event()
        client.on_subscribe = lambda *args: subscribed.set()
        self.conn = Connection(client)
        self.conn.on_connected(lambda c: c.subscribe([(t, protocol.QOS) for t in topics]))
        self.conn.connect(host, port)
        if not (self.conn.wait_connected(scaled(10)) and subscribed.wait(scaled(10))):
            raise RuntimeError(f"bench watcher: not connected to {host}:{port}")

    def _on_message(self, client, userdata, msg) -> None:
        t = time.perf_counter()
        kind = protocol.parse_topic(SITE, msg.topic)
        obj = json.loads(msg.payload) if msg.payload else {}
        with self.cond:
            if kind and kind.kind == "counter_command":
                self.command_at.append(t)
            elif kind and kind.kind == "board":
                self.board_seq = max(self.board_seq, obj["seq"])
                self.board_at.setdefault(obj["seq"], t)
            elif kind and kind.kind == "status":
                self.statuses[kind.entity] = obj.get("online") is True
            else:
                self.replies[obj.get("id")] = obj
            self.cond.notify_all()

    def wait(self, predicate, timeout: float = TIMEOUT) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, scaled(timeout))

    def close(self) -> None:
        self.conn.close()


def issue_tickets(conn: Connection, watcher: Watcher, per_counter: int, config) -> int:
    """Enough waiting tickets that every counter can call `per_counter` of them."""
    demand: dict[str, int] = {}
    for counter in config.counters.values():
        for code in counter.services:
            demand[code] = demand.get(code, 0) + per_counter
    ids = []
    for code, n in demand.items():
        for i in range(n):
            mid = f"bench-{code}-{i}"
            ids.append(mid)
            conn.publish_json(protocol.kiosk_request(SITE, "kiosk1"), {"id": mid, "service": code, "priority": None})
    if not watcher.wait(lambda: all(i in watcher.replies for i in ids), 120):
        raise RuntimeError("tickets were not all issued within 120 s")
    refused = [watcher.replies[i] for i in ids if not watcher.replies[i].get("ok")]
    if refused:
        raise RuntimeError(f"{len(refused)} ticket requests refused, e.g. {refused[0]}")
    return len(ids)


def one_run(presses: int, directory: Path, log) -> dict[str, Any]:
    site = bench_site(directory)
    config = load(site)
    broker = LocalBroker(data_dir=directory / "broker").start()
    with open(directory / "dispatcher.log", "wb") as dispatcher_log:
        dispatcher = subprocess.Popen(
            [sys.executable, "-m", "antrian.cli", "dispatcher", "--config", str(site), "--db",
             str(directory / "bench.db"), "--broker", broker.address, "--always-open"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=dispatcher_log)
    factory = MockFactory()
    Device.pin_factory = factory
    panel = watcher = kiosk = None
    try:
        watcher = Watcher(broker.host, broker.port, [protocol.board(SITE), protocol.kiosk_reply(SITE, "kiosk1"),
                                                     protocol.status(SITE, "dispatcher"),
                                                     protocol.counter_command(SITE, "+")])
        if not watcher.wait(lambda: watcher.statuses.get("dispatcher"), 20):
            raise RuntimeError(f"the dispatcher did not come online; see {directory / 'dispatcher.log'}")
        kiosk = Connection(make_client(f"bench-kiosk-{os.getpid()}"))
        kiosk.connect(broker.host, broker.port)
        kiosk.wait_connected(scaled(10))
        per_counter = math.ceil((presses + WARMUP) / len(COUNTERS)) + 1
        t = time.monotonic()
        tickets = issue_tickets(kiosk, watcher, per_counter, config)
        log(f"  {tickets} tickets issued in {time.monotonic() - t:.1f} s")

        panel = Panel(config, "benchpanel").start(broker.host, broker.port)
        if not panel.wait_until(lambda: panel.link_up, 10):
            raise RuntimeError("the panel did not connect")
        pressed_at = [0.0] * len(COUNTERS)
        latencies: list[float] = []
        to_broker: list[float] = []  # edge -> the command at a subscriber: the panel's part and one hop
        for i in range(presses + WARMUP):
            k = i % len(COUNTERS)
            # Respect the button's debounce window (and the 30 ms a release settles).
            wait = pressed_at[k] + DEBOUNCE + 0.01 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            pin = factory.pin(BUTTON_PINS[k])
            with watcher.cond:
                seq = watcher.board_seq + 1
            pressed_at[k] = time.monotonic()
            t0 = time.perf_counter()
            pin.drive_low()
            if not watcher.wait(lambda seq=seq: watcher.board_seq >= seq):
                raise RuntimeError(f"press {i} on {COUNTERS[k]}: no board with seq {seq} within {scaled(TIMEOUT):g} s "
                                   f"(panel signals: {panel.signals[-3:]})")
            pin.drive_high()
            if i >= WARMUP:
                latencies.append(watcher.board_at[seq] - t0)
                to_broker.append(watcher.command_at[i] - t0)
        if panel.signals:
            raise RuntimeError(f"presses refused: {panel.signals[:5]}")
        ms = [x * 1000 for x in latencies]
        hop = [x * 1000 for x in to_broker]
        return {"presses": len(ms), "p50_ms": percentile(ms, 50), "p90_ms": percentile(ms, 90),
                "p99_ms": percentile(ms, 99), "max_ms": max(ms), "mean_ms": statistics.fmean(ms),
                "command_p50_ms": percentile(hop, 50), "command_p99_ms": percentile(hop, 99)}
    finally:
        if panel is not None:
            panel.close()
        for conn in (kiosk, watcher):
            if conn is not None:
                conn.close()
        Device.pin_factory = None
        factory.close()
        dispatcher.terminate()
        try:
            dispatcher.wait(scaled(10))
        except subprocess.TimeoutExpired:
            dispatcher.kill()
        broker.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 100 presses, 1 run")
    parser.add_argument("--presses", type=int, help="presses counted per run (default 1000)")
    parser.add_argument("--runs", type=int, help="runs, each with a fresh broker and dispatcher (default 3)")
    parser.add_argument("--dir", type=Path, help="where the database and broker files go (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    presses = args.presses or (100 if args.quick else 1000)
    runs = args.runs or (1 if args.quick else 3)

    def log(text: str) -> None:
        print(text, flush=True)

    base = Path(tempfile.mkdtemp(prefix="antrian-bench-panel-", dir=args.dir))
    results = []
    try:
        log(f"panel bench: {presses} presses x {runs} run(s); {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, {platform.machine()}; files in {base}")
        for r in range(runs):
            directory = base / f"run{r + 1}"
            directory.mkdir()
            result = one_run(presses, directory, log)
            results.append(result)
            log(f"  run {r + 1}: GPIO edge -> board  p50 {result['p50_ms']:.2f} ms  p90 {result['p90_ms']:.2f} ms  "
                f"p99 {result['p99_ms']:.2f} ms  max {result['max_ms']:.2f} ms  over {result['presses']} presses")
            log(f"         GPIO edge -> command at a subscriber  p50 {result['command_p50_ms']:.2f} ms  "
                f"p99 {result['command_p99_ms']:.2f} ms")
    except RuntimeError as exc:
        print(f"bench/panel.py: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(base, ignore_errors=True)
    summary = {key: statistics.median(r[key] for r in results)
               for key in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "command_p50_ms", "command_p99_ms")}
    verdict = "meets" if summary["p99_ms"] <= TARGET_P99_MS else "MISSES"
    log(f"median of {runs} run(s): p50 {summary['p50_ms']:.2f} ms, p99 {summary['p99_ms']:.2f} ms "
        f"(target p99 <= {TARGET_P99_MS:g} ms: {verdict})")
    if args.json:
        args.json.write_text(json.dumps({"presses": presses, "runs": results, "median": summary,
                                         "target_p99_ms": TARGET_P99_MS, "cpus": os.cpu_count(),
                                         "python": platform.python_version()}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
