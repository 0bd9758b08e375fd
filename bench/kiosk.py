#!/usr/bin/env python3
"""Kiosk benchmark: from the tap on "Ambil Nomor Antrean" to the last byte at the printer.

    .venv/bin/python bench/kiosk.py            # 100 tickets (a minute or two)
    .venv/bin/python bench/kiosk.py --quick    # 2 tickets, a smoke run (the test suite runs it)
    .venv/bin/python bench/kiosk.py --json out.json

Everything real, each in its own process: a Mosquitto on loopback, the dispatcher
(`antrian dispatcher`), and the kiosk app in a 1280x800 window (under Xvfb when there is
no display), driven by real touches through tests/kiosk_remote.py. The ticket printer is
kiosk.fakeprinter on 127.0.0.1: a TCP ESC/POS printer that answers the kiosk's DLE EOT
status queries, so each ticket pays the printer check, the request and reply through
the broker, the dispatcher's durable commit, rendering and sending the ticket.

Per ticket, the citizen's path is tapped: agency -> service -> "Tidak" -> confirm; the
clock starts when the confirm touch is dispatched in the kiosk and stops when the
ticket's last byte reaches the printer (time.monotonic, one clock for all processes on
Linux). The request and the reply are timed on the way by a subscriber, to split the
total into printer check + publish, dispatcher round trip, and render + print.

Also the kiosk's RSS (/proc/PID/status VmRSS) once it shows the home screen and after
the run, and its peak (VmHWM). Targets are printed beside the figures, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "tests"):
    if str(path) not in sys.path:  # `python bench/kiosk.py` from a checkout
        sys.path.insert(0, str(path))

import yaml  # noqa: E402
from benchlib import percentile, scaled  # noqa: E402
from kiosk_remote import KioskRemote  # noqa: E402

from antrian import protocol  # noqa: E402
from antrian.adapters.mosquitto import LocalBroker  # noqa: E402
from antrian.adapters.mqtt import Connection, make_client  # noqa: E402
from kiosk.fakeprinter import FakePrinter  # noqa: E402

TARGET_P99_MS = 250
SITE = "buton"
# (agency, service) pairs the citizens pick, in turn
PICKS = [("disdukcapil", "KTP"), ("bapenda", "PBB"), ("bank_sultra", "BAYAR"), ("dpmptsp", "NIB")]


def site_file(folder: Path, printer_port: int) -> Path:
    """examples/buton.yaml with no quotas and no plausibility limits (the bench's citizens
    tap faster than people), kiosk1 on the fake printer (the dispatcher opens it round the
    clock with --always-open)."""
    raw = yaml.safe_load((ROOT / "examples" / "buton.yaml").read_text(encoding="utf-8"))
    raw["limits"] = {role: {"per_minute": 1e6, "burst": 1_000_000} for role in ("kiosk", "counter", "survey")}
    for agency in raw["agencies"]:
        for service in agency["services"]:
            service.pop("quota", None)
            service.pop("booking", None)  # a share of the quota: none without one
    kiosk = next(d for d in raw["devices"] if d["id"] == "kiosk1")
    kiosk["printer"] = {"connection": "network", "host": "127.0.0.1", "port": printer_port, "profile": "TM-T20II",
                        "timeout": scaled(1.0)}
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class Stamps:
    """When each request and reply of kiosk1 passed the broker (arrival at this subscriber)."""

    def __init__(self, host: str, port: int):
        self.request: dict[str, float] = {}
        self.reply: dict[str, float] = {}
        self.conn = Connection(make_client("bench-kiosk-stamps"))
        topics = {protocol.kiosk_request(SITE, "kiosk1"): self.request,
                  protocol.kiosk_reply(SITE, "kiosk1"): self.reply}

        def on_message(client, userdata, msg):
            now = time.monotonic()
            try:
                topics[msg.topic].setdefault(json.loads(msg.payload)["id"], now)
            except (KeyError, ValueError):
                pass

        self.conn.client.on_message = on_message
        self.conn.on_connected(lambda c: c.subscribe([(t, 1) for t in topics]))
        self.conn.connect(host, port)
        if not self.conn.wait_connected(scaled(5)):
            raise SystemExit("bench: the stamp subscriber cannot reach the broker")


def rss_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields




def run(count: int, folder: Path) -> dict:
    printer = FakePrinter().listen()
    site = site_file(folder, printer.port)
    broker = LocalBroker(data_dir=folder / "broker").start()
    dispatcher = subprocess.Popen([sys.executable, "-m", "antrian.cli", "dispatcher", "--config", str(site),
                                   "--db", str(folder / "bench.db"), "--broker", broker.address,
                                   "--always-open"],
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(folder / "dispatcher.log", "wb"))
    stamps = Stamps(broker.host, broker.port)
    kiosk = KioskRemote(site, "kiosk1", broker.address, size="1280x800", log_path=folder / "kiosk.log")
    rows = []
    try:
        kiosk.start()
        state = kiosk.wait(screen="home", online=True, catalog=True, problems=[], timeout=20)
        pid = state["pid"]
        rss_start = rss_kb(pid)
        trend = [(0, rss_start["VmRSS"])]
        for i in range(count):
            agency, service = PICKS[i % len(PICKS)]
            for key, screen in ((f"agency:{agency}", "services"), (f"service:{service}", "priority"),
                                ("priority:none", "confirm")):
                kiosk.tap(key)
                kiosk.wait(screen=screen)
            tapped = kiosk.tap("confirm")["at"]
            job = printer.wait_for_jobs(i + 1, timeout=scaled(15))[i]
            done = kiosk.wait(screen="done", busy=False, timeout=15)
            if done["outcome"] != "printed":
                raise SystemExit(f"bench: ticket {i + 1} not printed: {done}")
            order = done["order"]
            deadline = time.monotonic() + scaled(2)
            while (order not in stamps.request or order not in stamps.reply) and time.monotonic() < deadline:
                time.sleep(0.005)
            rows.append({"number": done["number"], "total": job.last_byte_at - tapped,
                         "to_request": stamps.request.get(order, float("nan")) - tapped,
                         "round_trip": stamps.reply.get(order, float("nan")) - stamps.request.get(order, float("nan")),
                         "to_printer": job.last_byte_at - stamps.reply.get(order, float("nan")),
                         "bytes": len(job.data)})
            kiosk.tap("finish")
            kiosk.wait(screen="home")
            if (i + 1) % max(1, count // 10) == 0:
                trend.append((i + 1, rss_kb(pid)["VmRSS"]))
        rss_end = rss_kb(pid)
    finally:
        kiosk.close()
        dispatcher.terminate()
        dispatcher.wait(timeout=scaled(10))
        stamps.conn.close()
        broker.stop()
        printer.stop()

    def ms(key: str, q: float) -> float:
        return round(percentile([r[key] for r in rows], q) * 1000, 1)

    return {
        "tickets": len(rows),
        "total_ms": {"p50": ms("total", 50), "p99": ms("total", 99), "max": ms("total", 100)},
        "printer_check_and_publish_ms": {"p50": ms("to_request", 50), "p99": ms("to_request", 99)},
        "dispatcher_round_trip_ms": {"p50": ms("round_trip", 50), "p99": ms("round_trip", 99)},
        "render_and_print_ms": {"p50": ms("to_printer", 50), "p99": ms("to_printer", 99)},
        "ticket_bytes": statistics.median(r["bytes"] for r in rows),
        "slowest": sorted(({"ticket": i + 1, "number": r["number"], **{k: round(r[k] * 1000, 1) for k in (
            "total", "to_request", "round_trip", "to_printer")}} for i, r in enumerate(rows)),
            key=lambda s: -s["total"])[:5],
        "rss_kb": {"start": rss_start["VmRSS"], "end": rss_end["VmRSS"], "peak": rss_end["VmHWM"]},
        "rss_trend_kb": trend,  # (tickets taken, VmRSS)
    }


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 tickets: a smoke run")
    parser.add_argument("--tickets", type=int, help="how many tickets (default 100, 2 with --quick)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    count = args.tickets or (2 if args.quick else 100)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="antrian-bench-kiosk-") as folder:
        figures = run(count, Path(folder))
    # The machine's 1-minute load average around the run: other work on the same cores
    # shows up in the p99 (the kiosk, broker, dispatcher and printer share them).
    figures.update(machine=machine(), date=dt.date.today().isoformat(), seconds=round(time.monotonic() - started, 1),
                   load_average=[round(load_before, 2), round(os.getloadavg()[0], 2)])
    total = figures["total_ms"]
    print(f"kiosk bench: {figures['tickets']} tickets in {figures['seconds']} s on {figures['machine']}, "
          f"load average {figures['load_average'][0]} -> {figures['load_average'][1]}")
    print(f"  confirm tap -> last byte at the printer   p50 {total['p50']:7.1f} ms   p99 {total['p99']:7.1f} ms"
          f"   max {total['max']:7.1f} ms   (target p99 <= {TARGET_P99_MS} ms)")
    for key, label in (("printer_check_and_publish_ms", "  tap -> request at the broker (check)"),
                       ("dispatcher_round_trip_ms", "  request -> reply (dispatcher)"),
                       ("render_and_print_ms", "  reply -> last byte (render, print)")):
        print(f"  {label:40s} p50 {figures[key]['p50']:7.1f} ms   p99 {figures[key]['p99']:7.1f} ms")
    rss = figures["rss_kb"]
    print(f"  kiosk RSS: {rss['start'] / 1024:.1f} MiB at home, {rss['end'] / 1024:.1f} MiB after, "
          f"peak {rss['peak'] / 1024:.1f} MiB; ticket {figures['ticket_bytes']:.0f} bytes")
    print("  slowest: " + "; ".join(f"#{s['ticket']} {s['number']} {s['total']} ms (check+publish {s['to_request']}, "
                                    f"dispatcher {s['round_trip']}, print {s['to_printer']})" for s in figures["slowest"][:3]))
    print("  RSS by tickets taken: " + ", ".join(f"{n}: {kb / 1024:.0f}" for n, kb in figures["rss_trend_kb"]) + " MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
