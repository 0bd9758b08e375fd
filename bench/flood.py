#!/usr/bin/env python3
"""One kiosk floods the dispatcher while the counters keep calling (issue 12, item 5).

    .venv/bin/python bench/flood.py                      # 2,000 requests in 1 s, then 20,000 in 1 s
    .venv/bin/python bench/flood.py --quick              # 2,000 only
    .venv/bin/python bench/flood.py --json out.json

A real Mosquitto on loopback (the local configuration of broker-config/mosquitto.conf) and
the real dispatcher as its own process (`python -m antrian.cli dispatcher --always-open`)
on the Buton example with its quotas. For each flood size it

  1. measures the counters alone: every counter of the site (loket1..loket8) presses
     `call_next` in turn, one press every PRESS_GAP seconds in all, each timed from its
     publish to its reply (time.perf_counter, this process);
  2. then floods: kiosk1 publishes N requests with fresh ids (QoS 1, services in turn)
     spread evenly over --seconds while the counters keep pressing, and goes on until
     the dispatcher has been quiet for a second after the flood;
  3. counts the flood's replies by code and the tickets the store holds, and what was
     left of the quotas.

To have enough samples the counters press faster than officers do (each of the 8 every
0.4 s), so the bench's site file raises the counters' limits (`limits: counter:`); the
kiosks keep the dispatcher's defaults, which is what the flood meets. Figures are printed,
never asserted; the exit status is 1 only when a counter's press got no reply at all (the
run would then measure nothing).
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from benchlib import BUTON, ROOT, percentile, scaled

sys.path.insert(0, str(ROOT))

from antrian import protocol  # noqa: E402
from antrian.adapters.mosquitto import LocalBroker  # noqa: E402
from antrian.adapters.mqtt import Connection, make_client  # noqa: E402

SITE = "buton"
FLOODER = "kiosk1"
PRESS_GAP = 0.05  # seconds between two presses of the counters taken together
REPLY_TIMEOUT = 30.0


def connect(client_id: str, host: str, port: int, topics: tuple[str, ...], on_message) -> Connection:
    client = make_client(client_id)
    # Let the flooding kiosk have as many messages in flight as it likes.
    client.max_inflight_messages_set(0)
    conn = Connection(client)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_message = on_message
    conn.on_connected(lambda c: c.subscribe([(t, protocol.QOS) for t in topics]))
    conn.connect(host, port)
    if not conn.wait_connected(scaled(10)) or not subscribed.wait(scaled(10)):
        raise RuntimeError(f"{client_id}: not connected and subscribed to {host}:{port}")
    return conn


class Counters:
    """Every counter of the site as one presser: call_next on each in turn, timed to its reply."""

    def __init__(self, host: str, port: int, counters: list[str]):
        self.counters = counters
        self.sent: dict[str, float] = {}
        self.latencies: list[tuple[float, float]] = []  # (sent at, seconds to the reply)
        self.codes: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.conn = connect(f"bench-counters-{uuid.uuid4().hex[:6]}", host, port,
                            tuple(protocol.counter_reply(SITE, c) for c in counters), self._on_message)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _on_message(self, client, userdata, msg) -> None:
        now = time.perf_counter()
        reply = json.loads(msg.payload)
        with self.lock:
            sent = self.sent.pop(reply.get("id"), None)
            if sent is not None:
                self.latencies.append((sent, now - sent))
                self.codes["ok" if reply["ok"] else reply["error"]["code"]] += 1

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            counter = self.counters[i % len(self.counters)]
            mid = f"bench-{uuid.uuid4().hex[:12]}"
            with self.lock:
                self.sent[mid] = time.perf_counter()
            self.conn.publish_json(protocol.counter_command(SITE, counter), {"id": mid, "action": "call_next"})
            i += 1
            self._stop.wait(PRESS_GAP)

    def stop(self) -> list[tuple[float, float]]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        deadline = time.monotonic() + scaled(REPLY_TIMEOUT)
        while time.monotonic() < deadline:
            with self.lock:
                if not self.sent:
                    break
            time.sleep(0.05)
        with self.lock:
            taken, self.latencies = self.latencies, []
            return taken

    @property
    def unanswered(self) -> int:
        with self.lock:
            return len(self.sent)


class Flooder:
    """kiosk1 publishing fresh requests as fast as asked, counting its replies by code."""

    def __init__(self, host: str, port: int, services: list[str]):
        self.services = services
        self.codes: Counter[str] = Counter()
        self.last_reply = time.monotonic()
        self.lock = threading.Lock()
        self.conn = connect(f"bench-flood-{uuid.uuid4().hex[:6]}", host, port,
                            (protocol.kiosk_reply(SITE, FLOODER),), self._on_message)

    def _on_message(self, client, userdata, msg) -> None:
        reply = json.loads(msg.payload)
        with self.lock:
            self.codes["ok" if reply["ok"] else reply["error"]["code"]] += 1
            self.last_reply = time.monotonic()

    def flood(self, count: int, seconds: float) -> float:
        topic = protocol.kiosk_request(SITE, FLOODER)
        tag = uuid.uuid4().hex[:6]
        start = time.perf_counter()
        for i in range(count):
            due = start + seconds * i / count
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.conn.publish_json(topic, {"id": f"{tag}-{i}", "service": self.services[i % len(self.services)],
                                           "priority": None})
        return time.perf_counter() - start

    def wait_quiet(self, quiet: float = 1.0, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            with self.lock:
                if time.monotonic() - self.last_reply >= quiet:
                    return
            time.sleep(0.1)


def figures(samples: list[tuple[float, float]]) -> dict[str, Any]:
    values = [s for _, s in samples]
    if not values:
        return {"presses": 0}
    return {"presses": len(values), "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p99_ms": round(percentile(values, 99) * 1000, 1), "max_ms": round(max(values) * 1000, 1)}


def stored(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        issued = con.execute("SELECT count(*) FROM events WHERE kind = 'issued'").fetchone()[0]
        replies = con.execute("SELECT count(*) FROM replies").fetchone()[0]
        return {"tickets": issued, "reply_rows": replies}
    finally:
        con.close()


def run(sizes: list[int], seconds: float, directory: Path) -> dict[str, Any]:
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    for counter in raw["counters"]:
        counter["open_at_start"] = True
    raw["limits"] = {"counter": {"per_minute": 1e6, "burst": 1_000_000}}
    site = directory / "site.yaml"
    site.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    services = [s["code"] for a in raw["agencies"] for s in a["services"]]
    quotas = sum(s.get("quota") or 0 for a in raw["agencies"] for s in a["services"])
    counters = [c["id"] for c in raw["counters"]]

    broker = LocalBroker(data_dir=directory / "broker")
    broker.start()
    results: dict[str, Any] = {"quota_total": quotas, "runs": []}
    log = open(directory / "dispatcher.log", "wb")
    try:
        for n, size in enumerate(sizes):
            db = directory / f"flood-{n}.db"
            proc = subprocess.Popen([sys.executable, "-m", "antrian.cli", "dispatcher", "--config", str(site),
                                     "--db", str(db), "--broker", f"{broker.host}:{broker.port}", "--always-open"],
                                    cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            try:
                press = Counters(broker.host, broker.port, counters)
                flooder = Flooder(broker.host, broker.port, services)
                time.sleep(scaled(1.5))  # the dispatcher connects and subscribes
                press.start()
                time.sleep(3.0)
                alone = press.stop()
                press.start()
                took = flooder.flood(size, seconds)
                flooder.wait_quiet()
                during = press.stop()
                results["runs"].append({
                    "requests": size, "published_in_s": round(took, 2),
                    "counters_alone": figures(alone), "counters_during_flood": figures(during),
                    "counter_codes": dict(press.codes), "flood_replies": dict(flooder.codes),
                    "unanswered_presses": press.unanswered, **stored(db)})
                press.conn.close()
                flooder.conn.close()
            finally:
                proc.terminate()
                proc.wait(scaled(10))
    finally:
        log.close()
        broker.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 requests only")
    parser.add_argument("--requests", type=int, nargs="*", help="flood sizes (default 2000 20000)")
    parser.add_argument("--seconds", type=float, default=1.0, help="how long each flood lasts")
    parser.add_argument("--json", type=Path, help="write the figures here as well")
    args = parser.parse_args()
    sizes = args.requests or ([2000] if args.quick else [2000, 20000])
    with tempfile.TemporaryDirectory(prefix="antrian-flood-") as tmp:
        results = run(sizes, args.seconds, Path(tmp))
    results["machine"] = {"python": platform.python_version(), "cpus": __import__("os").cpu_count()}
    for r in results["runs"]:
        print(f"{r['requests']} requests from {FLOODER} in {r['published_in_s']} s:")
        print(f"  counters alone        {r['counters_alone']}")
        print(f"  counters during flood {r['counters_during_flood']}  codes {r['counter_codes']}")
        print(f"  flood replies {r['flood_replies']}")
        print(f"  stored: {r['tickets']} tickets, {r['reply_rows']} reply rows (quotas in all: "
              f"{results['quota_total']})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 1 if any(r["unanswered_presses"] for r in results["runs"]) else 0


if __name__ == "__main__":
    sys.exit(main())
