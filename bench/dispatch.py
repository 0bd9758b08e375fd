#!/usr/bin/env python3
"""Dispatcher benchmark: a real Mosquitto on loopback, the real dispatcher as its own process.

    .venv/bin/python bench/dispatch.py            # the full run (about 15 s on 2 vCPUs)
    .venv/bin/python bench/dispatch.py --quick    # a smoke run (well under 20 s)
    .venv/bin/python bench/dispatch.py --json out.json

What it does, in this order, against one dispatcher and one database:

  (a) durable tickets per second with 4 concurrent kiosks (kiosk1..kiosk4, each on its own
      request topic, unique ids, tickets spread over all 12 services), counting `ok` replies:
      first strictly sequential (window 1), then pipelined (WINDOW requests in flight per
      kiosk) with the kiosks as threads of this process and again as separate processes,
      so the GIL of the load generator can be told apart from the dispatcher's limits.
  (b) counter command -> board: `call_next` published round-robin on every counter, time
      (time.perf_counter, this process) until the board whose `seq` is the call's arrives;
      tickets are pre-issued so no call meets an empty queue, and a fifth kiosk issues
      10 tickets/s in the background.
  (c) the dispatcher's RSS (/proc/PID/status VmRSS) after start-up and after 10,000 tickets
      (topped up with pipelined kiosks), plus the peak (VmHWM).

The dispatcher runs as `python -m antrian.cli dispatcher --config SITE --db DB --broker
127.0.0.1:PORT` on a copy of examples/buton.yaml that is open round the clock, has no
quotas and opens loket8 at start. The SQLite file is durable as the store makes it (WAL,
synchronous=FULL): put --dir on the disk you want to measure, not on a tmpfs.

Targets are printed beside the figures, never asserted. Exit status is 1 only if a
request was refused or lost (the figures would then be meaningless).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import math
import multiprocessing as mp
import os
import platform
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/dispatch.py` from a checkout without an install
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from benchlib import open_buton, percentile, scaled  # noqa: E402

from antrian import protocol  # noqa: E402
from antrian.adapters.mosquitto import LocalBroker  # noqa: E402
from antrian.adapters.mqtt import Connection, make_client  # noqa: E402

SITE = "buton"
KIOSKS = ("kiosk1", "kiosk2", "kiosk3", "kiosk4")
BACKGROUND_KIOSK = "kiosk5"

TARGET_TICKETS_PER_S = 1000.0
TARGET_CALL_P99_MS = 10.0
TARGET_RSS_MB = 60.0

FULL = {"seq_per_kiosk": 250, "pipe_per_kiosk": 1000, "calls": 2000, "warmup_calls": 20, "rss_tickets": 10_000}
QUICK = {"seq_per_kiosk": 20, "pipe_per_kiosk": 150, "calls": 150, "warmup_calls": 10, "rss_tickets": 2_000}


# -- the site -----------------------------------------------------------------------


def bench_site(directory: Path) -> tuple[Path, dict[str, Any]]:
    """The Buton example open round the clock, no holidays, no quotas, every counter open
    at start and five kiosks; returns the path and the raw dict."""
    raw = open_buton()
    # The dispatcher answers any kiosk id; the extra kiosks are declared anyway, as copies of
    # the example's last kiosk, so the site file stays what a technician would write.
    known = {d["id"] for d in raw["devices"]}
    model = next((d for d in reversed(raw["devices"]) if d.get("role") == "kiosk"), None)
    for kiosk in (*KIOSKS, BACKGROUND_KIOSK):
        if kiosk not in known and model is not None:
            raw["devices"].append({**copy.deepcopy(model), "id": kiosk, "name": f"Bench {kiosk}"})
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, raw


def services_of(raw: dict[str, Any]) -> list[str]:
    return [s["code"] for a in raw["agencies"] for s in a["services"]]


# -- small helpers --------------------------------------------------------------------


def connect(client_id: str, host: str, port: int, topics: tuple[str, ...] = (), on_message=None,
            max_inflight: int | None = None, timeout: float = 10.0) -> Connection:
    """A project client (antrian.adapters.mqtt: TCP_NODELAY, MQTT 3.1.1), connected and subscribed."""
    client = make_client(client_id)
    if max_inflight is not None:
        client.max_inflight_messages_set(max_inflight)
    conn = Connection(client)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    if on_message is not None:
        client.on_message = on_message
    if topics:
        conn.on_connected(lambda c: c.subscribe([(t, protocol.QOS) for t in topics]))
    conn.connect(host, port)
    timeout = scaled(timeout)
    if not conn.wait_connected(timeout):
        raise RuntimeError(f"{client_id}: not connected to {host}:{port} within {timeout:g} s")
    if topics and not subscribed.wait(timeout):
        raise RuntimeError(f"{client_id}: no SUBACK within {timeout:g} s")
    return conn




def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def revision() -> str:
    """The checkout's commit (read-only git call), or '?'."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_busy_seconds() -> float:
    """CPU time all CPUs of the machine have spent busy (not idle, not waiting for I/O)."""
    with open("/proc/stat", encoding="ascii") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def filesystem_of(path: Path) -> str:
    """The file system type holding *path* (longest matching mount point of /proc/mounts)."""
    best, kind = "", "?"
    target = str(path.resolve())
    try:
        with open("/proc/mounts", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                mount = parts[1]
                if (target == mount or target.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
                    best, kind = mount, parts[2]
    except OSError:
        pass
    return kind


# -- a kiosk (thread or process) -----------------------------------------------------------


def kiosk_worker(host: str, port: int, kiosk: str, services: list[str], count: int, window: int, tag: str,
                 go: Any, out: Any, timeout: float) -> None:
    """Issue `count` tickets from `kiosk` with `window` requests in flight; put one result
    dict on `out` ("ready" first, then the result). Runs as a thread or a process."""
    req_topic, rep_topic = protocol.kiosk_request(SITE, kiosk), protocol.kiosk_reply(SITE, kiosk)
    sent: dict[str, float] = {}
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    slots = threading.Semaphore(window)
    done = threading.Event()
    last = [0.0]

    def on_message(client, userdata, msg) -> None:
        t1 = time.perf_counter()
        obj = json.loads(msg.payload)
        t0 = sent.pop(obj.get("id"), None)
        if t0 is None:
            return  # not ours (an earlier run's id) or a duplicate
        latencies.append(t1 - t0)
        if not obj.get("ok"):
            errors[obj.get("error", {}).get("code", "?")] += 1
        last[0] = t1
        if len(latencies) >= count:
            done.set()
        slots.release()

    # paho's own limit of 20 unacknowledged QoS 1 publishes would cap a larger window.
    conn = connect(f"bench-{kiosk}-{tag}", host, port, (rep_topic,), on_message, max_inflight=max(20, window))
    try:
        out.put(("ready", kiosk))
        go.wait()
        cpu0 = time.process_time()
        first = time.perf_counter()
        deadline = time.monotonic() + scaled(timeout)
        for i in range(count):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not slots.acquire(timeout=remaining):
                break
            mid = f"{tag}-{kiosk}-{i}"
            body = {"id": mid, "service": services[i % len(services)],
                    "priority": "lansia" if i % 10 == 9 else None}
            sent[mid] = time.perf_counter()
            conn.publish_json(req_topic, body)
        done.wait(max(0.0, deadline - time.monotonic()))
        ok = len(latencies) - sum(errors.values())
        out.put(("result", {"kiosk": kiosk, "sent": count, "answered": len(latencies), "ok": ok,
                            "errors": dict(errors), "latencies": latencies, "first": first, "last": last[0],
                            "cpu_s": time.process_time() - cpu0}))
    finally:
        conn.close()


def run_kiosks(host: str, port: int, services: list[str], per_kiosk: int, window: int, mode: str, tag: str,
               kiosks: tuple[str, ...] = KIOSKS, timeout: float = 300.0,
               watch: tuple[int, ...] = (), observer: Observer | None = None) -> dict[str, Any]:
    """Run the kiosks concurrently (threads or processes); tickets/s over the whole run."""
    if mode == "processes":
        ctx = mp.get_context("spawn")
        go, out = ctx.Event(), ctx.Queue()
        workers = [ctx.Process(target=kiosk_worker, daemon=True,
                               args=(host, port, k, services[i:] + services[:i], per_kiosk, window, tag, go, out,
                                     timeout)) for i, k in enumerate(kiosks)]
    else:
        go, out = threading.Event(), queue.Queue()
        workers = [threading.Thread(target=kiosk_worker, daemon=True, name=f"bench-{k}",
                                    args=(host, port, k, services[i:] + services[:i], per_kiosk, window, tag, go,
                                          out, timeout)) for i, k in enumerate(kiosks)]
    for w in workers:
        w.start()
    for _ in workers:
        kind, _who = out.get(timeout=scaled(60))
        assert kind == "ready", kind
    cpu_before = {pid: cpu_seconds(pid) for pid in watch}
    busy_before = machine_busy_seconds()
    seen_before = observer.snapshot() if observer else Counter()
    go.set()
    results = [out.get(timeout=scaled(timeout + 30))[1] for _ in workers]
    cpu_after = {pid: cpu_seconds(pid) for pid in watch}
    busy = machine_busy_seconds() - busy_before
    time.sleep(0.05)  # the last batch's board and states follow its replies
    seen = (observer.snapshot() - seen_before) if observer else Counter()
    for w in workers:
        w.join(timeout=scaled(30))
    latencies = [x for r in results for x in r["latencies"]]
    ok = sum(r["ok"] for r in results)
    start = min(r["first"] for r in results)
    end = max(r["last"] for r in results)
    elapsed = end - start if end > start else float("nan")
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r["errors"])
    cpu = {str(pid): round(cpu_after[pid] - cpu_before[pid], 2) for pid in watch}
    kiosk_cpu = round(sum(r["cpu_s"] for r in results), 2) if mode == "processes" else 0.0
    return {
        "mode": mode, "kiosks": len(kiosks), "window": window, "per_kiosk": per_kiosk,
        "sent": sum(r["sent"] for r in results), "answered": len(latencies), "ok": ok, "errors": dict(errors),
        "seconds": elapsed, "tickets_per_s": ok / elapsed if elapsed == elapsed else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000 if latencies else float("nan"),
        "p99_ms": percentile(latencies, 99) * 1000 if latencies else float("nan"),
        "max_ms": max(latencies) * 1000 if latencies else float("nan"),
        "cpu_s": cpu,
        # The whole machine's busy CPU time over the run, and what of it was not ours
        # (another job on a shared machine shows here; the kernel's own work too).
        "machine_busy_s": round(busy, 2), "machine_cores": os.cpu_count(),
        "other_cpu_s": round(max(0.0, busy - sum(cpu.values()) - kiosk_cpu), 2) if watch else 0.0,
        "board_updates": seen["board"], "counter_state_updates": seen["counter_state"],
        "tickets_per_batch": ok / seen["board"] if seen["board"] else float("nan"),
        # As processes, the kiosks' CPU is their own; as threads it is in the bench process's.
        "kiosk_processes_cpu_s": kiosk_cpu,
    }


class Observer:
    """A board-like subscriber that counts what the dispatcher publishes during (a). The
    dispatcher publishes the board once per batch that changed something (every ticket
    changes `waiting`), so board updates = batches and tickets / board updates = mean batch."""

    KINDS = {"board": protocol.board(SITE), "counter_state": protocol.counter_state(SITE, "+")}

    def __init__(self, host: str, port: int):
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.conn = connect("bench-observer", host, port, tuple(self.KINDS.values()), self._on_message)

    def _on_message(self, client, userdata, msg) -> None:
        kind = "board" if msg.topic == self.KINDS["board"] else "counter_state"
        with self.lock:
            self.counts[kind] += 1

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.counts)

    def close(self) -> None:
        self.conn.close()


# -- the board watcher and the background kiosk for (b) -----------------------------------------


class BoardWatcher:
    """Subscribes to the board and the counters' replies; records when a board with a given
    seq arrives and the reply to a given command id."""

    def __init__(self, host: str, port: int):
        self.cond = threading.Condition()
        self.seq = -1
        self.board: dict[str, Any] | None = None
        self.boards = 0
        self.target: int | None = None
        self.board_at: float | None = None
        self.reply_id: str | None = None
        self.reply: dict[str, Any] | None = None
        self.reply_at: float | None = None
        self.conn = connect("bench-board", host, port,
                            (protocol.board(SITE), protocol.counter_reply(SITE, "+")), self._on_message)

    def _on_message(self, client, userdata, msg) -> None:
        t = time.perf_counter()
        obj = json.loads(msg.payload)
        with self.cond:
            if msg.topic == protocol.board(SITE):
                self.seq = max(self.seq, obj["seq"])
                self.board = obj
                self.boards += 1
                if self.target is not None and self.board_at is None and obj["seq"] >= self.target:
                    self.board_at = t
            elif obj.get("id") is not None and obj.get("id") == self.reply_id:
                self.reply, self.reply_at = obj, t
            self.cond.notify_all()

    def wait_board(self, timeout: float = 10.0) -> dict[str, Any]:
        with self.cond:
            if not self.cond.wait_for(lambda: self.board is not None, scaled(timeout)):
                raise RuntimeError("no retained board from the dispatcher")
            return self.board

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until no board has arrived for `quiet` seconds (the last batch is out)."""
        end = time.monotonic() + scaled(timeout)
        while time.monotonic() < end:
            with self.cond:
                before = self.boards
                self.cond.wait(quiet)
                if self.boards == before:
                    return

    def arm(self, target_seq: int, reply_id: str) -> None:
        with self.cond:
            self.target, self.board_at = target_seq, None
            self.reply_id, self.reply, self.reply_at = reply_id, None, None

    def wait_reply(self, timeout: float) -> dict[str, Any] | None:
        with self.cond:
            self.cond.wait_for(lambda: self.reply is not None, scaled(timeout))
            return self.reply

    def wait_target(self, timeout: float) -> float | None:
        with self.cond:
            self.cond.wait_for(lambda: self.board_at is not None, scaled(timeout))
            return self.board_at

    def close(self) -> None:
        self.conn.close()


class BackgroundKiosk(threading.Thread):
    """Issues `rate` tickets per second on a fixed schedule until stopped."""

    def __init__(self, host: str, port: int, services: list[str], rate: float, tag: str):
        super().__init__(name="bench-background", daemon=True)
        self.services, self.rate, self.tag = services, rate, tag
        self.sent = self.ok = self.failed = 0
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.conn = connect(f"bench-{BACKGROUND_KIOSK}-{tag}", host, port,
                            (protocol.kiosk_reply(SITE, BACKGROUND_KIOSK),), self._on_message)

    def _on_message(self, client, userdata, msg) -> None:
        obj = json.loads(msg.payload)
        with self.lock:
            if obj.get("ok"):
                self.ok += 1
            else:
                self.failed += 1

    def run(self) -> None:
        topic = protocol.kiosk_request(SITE, BACKGROUND_KIOSK)
        start = time.monotonic()
        while not self.halt.is_set():
            body = {"id": f"{self.tag}-bg-{self.sent}", "service": self.services[self.sent % len(self.services)],
                    "priority": None}
            self.conn.publish_json(topic, body)
            self.sent += 1
            self.halt.wait(max(0.0, start + self.sent / self.rate - time.monotonic()))

    def stop(self, timeout: float = 5.0) -> None:
        self.halt.set()
        self.join()
        end = time.monotonic() + scaled(timeout)
        while time.monotonic() < end:
            with self.lock:
                if self.ok + self.failed >= self.sent:
                    break
            time.sleep(0.02)
        self.conn.close()


# -- the phases -----------------------------------------------------------------------------


def pre_issue(host: str, port: int, raw: dict[str, Any], watcher: BoardWatcher, calls: int, tag: str,
              watch: tuple[int, ...]) -> int:
    """Make sure every counter finds a ticket for each of its calls: per service, as many
    waiting as the counters that serve it will call (each counter's share, twice over)."""
    counters = raw["counters"]
    per_counter = math.ceil(calls / len(counters))
    need: Counter[str] = Counter()
    for c in counters:
        for s in c["services"]:
            need[s] += 2 * per_counter
    waiting = watcher.wait_board()["waiting"]
    missing = [s for s in need for _ in range(max(0, need[s] - waiting.get(s, 0)))]
    if not missing:
        return 0
    # Four kiosks, pipelined; each gets a slice of the missing tickets.
    per = math.ceil(len(missing) / len(KIOSKS))
    issued = 0
    go, out = threading.Event(), queue.Queue()
    threads = []
    for i, k in enumerate(KIOSKS):
        part = missing[i * per:(i + 1) * per]
        if part:
            threads.append(threading.Thread(target=kiosk_worker, daemon=True,
                                            args=(host, port, k, part, len(part), 16, f"{tag}-pre", go, out, 120)))
    for t in threads:
        t.start()
    for _ in threads:
        out.get(timeout=scaled(60))
    go.set()
    for _ in threads:
        r = out.get(timeout=scaled(180))[1]
        if r["ok"] != r["sent"]:
            raise RuntimeError(f"pre-issue: {r['sent'] - r['ok']} tickets refused or lost: {r['errors']}")
        issued += r["ok"]
    for t in threads:
        t.join()
    return issued


def measure_calls(host: str, port: int, raw: dict[str, Any], watcher: BoardWatcher, calls: int, warmup: int,
                  tag: str) -> dict[str, Any]:
    """call_next round-robin on every counter; publish -> board with that seq."""
    counters = [c["id"] for c in raw["counters"]]
    board_ms: list[float] = []
    reply_ms: list[float] = []
    failures: Counter[str] = Counter()
    conn = watcher.conn
    for i in range(warmup + calls):
        counter = counters[i % len(counters)]
        mid = f"{tag}-call-{i}"
        with watcher.cond:
            target = watcher.seq + 1
        watcher.arm(target, mid)
        t0 = time.perf_counter()
        conn.publish_json(protocol.counter_command(SITE, counter), {"id": mid, "action": "call_next"})
        reply = watcher.wait_reply(10.0)
        if reply is None or not reply.get("ok") or not reply.get("ticket"):
            code = "no reply" if reply is None else (reply.get("error") or {}).get("code", "no ticket")
            failures[code] += 1
            continue
        board_at = watcher.wait_target(10.0)
        if board_at is None:
            failures["no board"] += 1
            continue
        if i >= warmup:
            board_ms.append((board_at - t0) * 1000)
            reply_ms.append((watcher.reply_at - t0) * 1000)
    return {
        "calls": calls, "warmup": warmup, "counters": len(counters), "measured": len(board_ms),
        "failures": dict(failures),
        "p50_ms": percentile(board_ms, 50) if board_ms else float("nan"),
        "p99_ms": percentile(board_ms, 99) if board_ms else float("nan"),
        "max_ms": max(board_ms) if board_ms else float("nan"),
        "mean_ms": statistics.fmean(board_ms) if board_ms else float("nan"),
        "reply_p50_ms": percentile(reply_ms, 50) if reply_ms else float("nan"),
        "reply_p99_ms": percentile(reply_ms, 99) if reply_ms else float("nan"),
    }


# -- the dispatcher process -----------------------------------------------------------------------


_PROFILED = """
import cProfile, sys, threading, atexit, pstats
profiles = []
_run = threading.Thread.run
def run(self):
    p = cProfile.Profile(); profiles.append((self.name.split()[0].replace("/", "-"), p)); p.enable()
    try: _run(self)
    finally: p.disable()
threading.Thread.run = run
out = sys.argv.pop(1)
def dump():
    stats = None
    for name, p in profiles:
        p.disable()
        pstats.Stats(p).dump_stats(f"{out}.{name}")
        stats = pstats.Stats(p) if stats is None else (stats.add(p) or stats)
    if stats is not None: stats.dump_stats(out)
atexit.register(dump)
from antrian.cli import main
sys.argv[0] = "antrian"
raise SystemExit(main())
"""


class DispatcherProcess:
    def __init__(self, site: Path, db: Path, host: str, port: int, log_path: Path, profile: Path | None = None):
        args = ["dispatcher", "--config", str(site), "--db", str(db), "--broker", f"{host}:{port}", "--always-open"]
        if profile is None:
            cmd = [sys.executable, "-m", "antrian.cli", *args]
        else:  # every thread under cProfile (the worker is not the main thread)
            cmd = [sys.executable, "-c", _PROFILED, str(profile), *args]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log)
        self.pid = self.proc.pid

    def wait_online(self, host: str, port: int, timeout: float = 30.0) -> None:
        online = threading.Event()

        def on_message(client, userdata, msg) -> None:
            if json.loads(msg.payload or b"{}").get("online") is True:
                online.set()

        conn = connect("bench-wait-online", host, port, (protocol.status(SITE, "dispatcher"),), on_message)
        try:
            end = time.monotonic() + scaled(timeout)
            while not online.wait(0.1):
                if self.proc.poll() is not None or time.monotonic() > end:
                    raise RuntimeError(f"dispatcher did not come online (exit status {self.proc.poll()}); "
                                       f"log {self.log_path}:\n{self.log_path.read_text(errors='replace')[-2000:]}")
        finally:
            conn.close()

    def memory(self) -> dict[str, float]:
        status = proc_status(self.pid)
        return {"rss_mb": status["VmRSS"] / 1024, "hwm_mb": status["VmHWM"] / 1024}

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=scaled(20))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


# -- report --------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def render(r: dict[str, Any]) -> str:
    a, b, c = r["a"], r["b"], r["c"]
    head = a["pipelined"][a["headline"]]
    lines = [
        f"Antrian MPP dispatcher benchmark ({r['mode']}), {r['when']}, commit {r['revision']}",
        f"  load average before the run {r['loadavg_before']}",
        f"  dispatcher pid {r['dispatcher_pid']} as a separate process; broker Mosquitto on {r['broker']}; "
        f"db {r['db']} ({r['db_fs']}, WAL, synchronous=FULL)",
        "",
        f"{'figure':<58} {'value':>22}  {'target':<12} ",
        "-" * 100,
        "(a) durable tickets issued, 4 concurrent kiosks",
    ]

    def row(label: str, value: str, target: str = "") -> None:
        lines.append(f"  {label:<56} {value:>22}  {target}")

    for name, run in [("window 1 (strictly sequential), threads", a["sequential"])] + [
            (f"window {run['window']}, kiosks as {mode}", run) for mode, run in a["pipelined"].items()]:
        mark = " *" if run is head else ""
        row(f"{name}{mark}: tickets/s", f"{run['tickets_per_s']:,.0f}/s",
            f">= {TARGET_TICKETS_PER_S:,.0f}/s {verdict(run['tickets_per_s'] >= TARGET_TICKETS_PER_S)}"
            if run is head else "")
        row("   reply latency p50 / p99 / max",
            f"{run['p50_ms']:.1f} / {run['p99_ms']:.1f} / {run['max_ms']:.0f} ms")
        row("   tickets ok / sent, seconds",
            f"{run['ok']:,} / {run['sent']:,}, {run['seconds']:.2f} s")
        row("   batches (= board updates), tickets per batch",
            f"{run['board_updates']:,}, {run['tickets_per_batch']:.1f}")
        row("   counter-state updates published per ticket",
            f"{run['counter_state_updates'] / max(1, run['ok']):.1f}")
        cpu = run["cpu_s"]
        row("   CPU s used: dispatcher / broker / kiosks",
            f"{cpu.get('dispatcher', 0):.1f} / {cpu.get('broker', 0):.1f} / "
            f"{cpu.get('bench', 0) + run['kiosk_processes_cpu_s']:.1f}")
        row(f"   machine busy CPU s ({run['machine_cores']} cores) / of it other processes",
            f"{run['machine_busy_s']:.1f} / {run['other_cpu_s']:.1f}")
    lines.append("  (* the headline figure)")
    lines.append("(b) counter call_next published -> board with its seq received")
    row(f"p50 / p99 / max over {b['measured']:,} calls, {b['counters']} counters",
        f"{b['p50_ms']:.2f} / {b['p99_ms']:.2f} / {b['max_ms']:.1f} ms",
        f"p99 <= {TARGET_CALL_P99_MS:g} ms {verdict(b['p99_ms'] <= TARGET_CALL_P99_MS)}")
    row("   call_next -> its reply p50 / p99", f"{b['reply_p50_ms']:.2f} / {b['reply_p99_ms']:.2f} ms")
    row("   CPU s used: dispatcher / broker / bench; seconds",
        f"{b['cpu_s']['dispatcher']:.1f} / {b['cpu_s']['broker']:.1f} / {b['cpu_s']['bench']:.1f}, "
        f"{b['seconds']:.1f} s")
    row(f"   machine busy CPU s ({r['machine']['nproc']} cores) / of it other processes",
        f"{b['machine_busy_s']:.1f} / {b['other_cpu_s']:.1f}")
    row("   background tickets ok (10/s during the calls)", f"{b['background_ok']:,} / {b['background_sent']:,}")
    row("   tickets pre-issued so no counter met an empty queue", f"{b['pre_issued']:,}")
    lines.append("(c) dispatcher memory (VmRSS of the dispatcher process)")
    row("RSS after start-up (online, retained state out)", f"{c['startup']['rss_mb']:.1f} MB")
    for point in c["checkpoints"]:
        row(f"   RSS after {point['tickets']:,} tickets (end of {point['after']})", f"{point['rss_mb']:.1f} MB")
    row(f"RSS after {c['tickets']:,} tickets (asked: >= {r['counts']['rss_tickets']:,})",
        f"{c['final']['rss_mb']:.1f} MB",
        f"<= {TARGET_RSS_MB:g} MB {verdict(c['final']['rss_mb'] <= TARGET_RSS_MB)}")
    row("   growth since start-up / peak (VmHWM)",
        f"+{c['final']['rss_mb'] - c['startup']['rss_mb']:.1f} MB / {c['final']['hwm_mb']:.1f} MB")
    if r["problems"]:
        lines.append("")
        lines.extend(f"PROBLEM: {p}" for p in r["problems"])
    return "\n".join(lines)


# -- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--window", type=int, default=16, help="requests in flight per kiosk when pipelined")
    parser.add_argument("--modes", default="threads,processes",
                        help="how the pipelined kiosks run: threads, processes or both (default)")
    parser.add_argument("--dir", help="where the database and broker files go (default: a new temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (db, dispatcher and broker logs)")
    parser.add_argument("--profile", metavar="FILE", help="run the dispatcher under cProfile (all threads): "
                        "pstats of all threads to FILE, of each thread to FILE.<thread name>; slows it down")
    args = parser.parse_args(argv)
    counts = QUICK if args.quick else FULL
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in ("threads", "processes") for m in modes):
        parser.error("--modes takes threads, processes or both")

    base = Path(args.dir) if args.dir else None
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
    loadavg = Path("/proc/loadavg").read_text(encoding="ascii").split()[:3]
    work = Path(tempfile.mkdtemp(prefix="antrian-bench-", dir=base))
    site, raw = bench_site(work)
    services = services_of(raw)
    db = work / "antrian.db"
    broker = LocalBroker(data_dir=work / "broker")
    dispatcher: DispatcherProcess | None = None
    problems: list[str] = []
    tag = dt.datetime.now().strftime("%H%M%S")
    result: dict[str, Any] = {}
    try:
        broker.start()
        host, port = broker.host, broker.port
        dispatcher = DispatcherProcess(site, db, host, port, work / "dispatcher.log",
                                       Path(args.profile).resolve() if args.profile else None)
        dispatcher.wait_online(host, port)
        time.sleep(scaled(0.5))  # let start-up settle (first catalog, imports done) before the baseline
        startup = dispatcher.memory()
        pids = {"dispatcher": dispatcher.pid, "broker": broker._proc.pid, "bench": os.getpid()}
        watch = tuple(pids.values())
        names = {v: k for k, v in pids.items()}

        def named(run: dict[str, Any]) -> dict[str, Any]:
            run["cpu_s"] = {names[int(pid)]: v for pid, v in run["cpu_s"].items()}
            return run

        issued = 0
        checkpoints = []

        def check(run: dict[str, Any], what: str) -> None:
            nonlocal issued
            issued += run["ok"]
            if run["ok"] != run["sent"]:
                problems.append(f"{what}: {run['sent'] - run['ok']} of {run['sent']} requests not answered ok "
                                f"({run['errors'] or 'timed out'})")

        # (a) strictly sequential, then pipelined; a board-like observer counts the batches.
        observer = Observer(host, port)
        try:
            seq = named(run_kiosks(host, port, services, counts["seq_per_kiosk"], 1, "threads", f"{tag}-seq",
                                   watch=watch, observer=observer))
            check(seq, "(a) sequential")
            pipelined = {}
            for mode in modes:
                run = named(run_kiosks(host, port, services, counts["pipe_per_kiosk"], args.window, mode,
                                       f"{tag}-{mode}", watch=watch, observer=observer))
                check(run, f"(a) pipelined {mode}")
                pipelined[mode] = run
        finally:
            observer.close()
        checkpoints.append({"tickets": issued, "after": "(a)", **dispatcher.memory()})
        # Fixed, so medians over runs compare like with like; the other mode is the GIL check.
        headline = "threads" if "threads" in pipelined else modes[0]

        # (b) calls with background tickets.
        watcher = BoardWatcher(host, port)
        try:
            watcher.wait_board()
            watcher.settle()
            pre = pre_issue(host, port, raw, watcher, counts["calls"] + counts["warmup_calls"], tag, watch)
            issued += pre
            watcher.settle()
            background = BackgroundKiosk(host, port, services, 10.0, tag)
            background.start()
            cpu_before, busy_before, wall = {p: cpu_seconds(p) for p in watch}, machine_busy_seconds(), time.monotonic()
            calls = measure_calls(host, port, raw, watcher, counts["calls"], counts["warmup_calls"], tag)
            used = {names[p]: round(cpu_seconds(p) - cpu_before[p], 2) for p in watch}
            own = sum(used.values())
            calls.update(cpu_s=used, seconds=round(time.monotonic() - wall, 2), machine_busy_s=round(
                machine_busy_seconds() - busy_before, 2))
            calls["other_cpu_s"] = round(max(0.0, calls["machine_busy_s"] - own), 2)
            background.stop()
        finally:
            watcher.close()
        calls.update(background_sent=background.sent, background_ok=background.ok, pre_issued=pre)
        issued += background.ok
        if calls["failures"]:
            problems.append(f"(b) calls that failed: {calls['failures']}")
        if background.ok != background.sent:
            problems.append(f"(b) background tickets not ok: {background.sent - background.ok}")
        checkpoints.append({"tickets": issued, "after": "(b)", **dispatcher.memory()})

        # (c) top up to the RSS ticket count.
        missing = counts["rss_tickets"] - issued
        if missing > 0:
            per = math.ceil(missing / len(KIOSKS))
            run = run_kiosks(host, port, services, per, args.window, "threads", f"{tag}-top")
            check(run, "(c) top-up")
        time.sleep(scaled(0.5))
        final = dispatcher.memory()
        rss = {"tickets": issued, "startup": startup, "final": final, "checkpoints": checkpoints}

        for run in [seq, *pipelined.values()]:
            run.pop("latencies", None)
        result = {
            "mode": "quick" if args.quick else "full", "when": dt.datetime.now().astimezone().isoformat(
                timespec="seconds"),
            "revision": revision(), "loadavg_before": " ".join(loadavg), "broker": broker.address, "db": str(db), "db_fs": filesystem_of(db), "dispatcher_pid": dispatcher.pid,
            "counts": counts, "window": args.window,
            "machine": {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "targets": {"tickets_per_s": TARGET_TICKETS_PER_S, "call_board_p99_ms": TARGET_CALL_P99_MS,
                        "rss_mb": TARGET_RSS_MB},
            "a": {"sequential": seq, "pipelined": pipelined, "headline": headline},
            "b": calls, "c": rss, "problems": problems,
        }
    finally:
        code = dispatcher.stop() if dispatcher is not None else None
        broker.stop()
        if code not in (None, 0):
            problems.append(f"dispatcher exited with status {code} (log {work / 'dispatcher.log'})")
            args.keep = True
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(render(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
