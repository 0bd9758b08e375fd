#!/usr/bin/env python3
"""Booking bench: the opening rush through the public app's /reservasi to the dispatcher.

    .venv/bin/python bench/booking.py                   # 1,000 citizens within one minute
    .venv/bin/python bench/booking.py --quick           # a smoke run (tests/test_bench_smoke.py)
    .venv/bin/python bench/booking.py --citizens 2000 --seconds 60 --json out.json

A real Mosquitto on loopback, the real dispatcher as its own process and the public app
``publik1`` as an ``antrian web`` process, as the unit runs them. The citizens are
plain HTTP clients in this process (asyncio, one connection per request), arriving at
random within ``--seconds``; each one, as a phone would:

  1. GET /reservasi/layanan/{service}/{tomorrow}: the slots and the form (its CSRF
     cookie and token, its request id);
  2. picks a free slot (most want the morning: a few popular slots first) and POSTs the
     form with a name and its own phone number; booked, it loads the confirmation's QR
     image;
  3. refused "slot full": picks again from the page the refusal came with (it shows the
     slots as they are now), at most ATTEMPTS times; "share used": gives up.

Each citizen sends its own X-Forwarded-For, as the reverse proxy in front of the app
does (the app believes it from 127.0.0.1: ``forwarded_allow_ips``), so the app's limits
per client address see a thousand phones, not one. Nothing in the app is switched off
for the bench.

The bench's site file is the Buton example open round the clock (every slot of tomorrow
can be booked, whatever the hour of the run: 48 slots of 30 minutes) with the rush's
services made bigger (KTP, KK, NIB: quota and capacity, below). The dispatcher has no
limit of its own on booking requests, so nothing else needs changing.

Measured: bookings per second (while bookings were still being made), the POST's p50,
p99 and max as the citizen's phone sees it (connect to the last byte of the answer),
the slot page's as well; and afterwards, from the dispatcher's database, the bookings
per slot and per day against the slot's capacity and the day's booking places (zero
over-booking), and every code a citizen was shown against the stored bookings.
The target (p99 of the booking POST <= 300 ms on 2 cores) is printed, never asserted;
the exit status is 1 when something did not work (over-booking, an error answer, a code
shown that was not stored).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import importlib.util
import json
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from benchlib import BUTON, percentile  # noqa: E402
from dispatch import DispatcherProcess, cpu_seconds, machine_busy_seconds, revision  # noqa: E402

from antrian.adapters.mosquitto import LocalBroker  # noqa: E402
from antrian.site import WEEKDAYS, load  # noqa: E402

# bench/web.py's WebProcess (`antrian web` on a free port); loaded by path, since the
# name `web` is the package of the browser apps.
_spec = importlib.util.spec_from_file_location("bench_web", Path(__file__).with_name("web.py"))
bench_web = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_web)
WebProcess = bench_web.WebProcess

# The rush's services: (quota, share, capacity per slot). Tomorrow is open round the
# clock (--always-open): 48 slots of 30 minutes, so the day's places are share x quota.
RUSH = {"KTP": (800, 0.5, 10), "KK": (400, 0.25, 3), "NIB": (180, 0.5, 2)}
WEIGHTS = {"KTP": 0.6, "KK": 0.25, "NIB": 0.15}
POPULAR = ["08:00", "08:30", "09:00", "09:30", "10:00"]  # where most want to be
ATTEMPTS = 3
TARGET_P99_MS = 300.0

FULL = {"citizens": 1000, "seconds": 60.0, "rush": RUSH}
# A smoke run: fewer places than citizens and one place a slot, so every refusal and the
# over-booking count are exercised too.
QUICK = {"citizens": 60, "seconds": 4.0, "rush": {"KTP": (40, 0.5, 1), "KK": (40, 0.25, 1), "NIB": (20, 0.5, 1)}}


def bench_site(directory: Path, rush: dict[str, tuple]) -> Path:
    """The Buton example open round the clock (the web app reads the same hours as the
    dispatcher), no holidays, the rush's services made bigger (RUSH)."""
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    raw["schedules"] = {name: {day: ["00:00-24:00"] for day in WEEKDAYS} for name in raw["schedules"]}
    raw.pop("holidays", None)
    for agency in raw["agencies"]:
        for svc in agency["services"]:
            if svc["code"] in rush:
                quota, share, capacity = rush[svc["code"]]
                svc["quota"] = quota
                svc["booking"].update(share=share, capacity=capacity, days_ahead=7, opens_at="07:00")
    for device in raw["devices"]:
        if device.get("role") == "web":
            device.pop("listen", None)
            device.pop("users", None)
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


# -- one citizen ---------------------------------------------------------------------------


class Answer:
    def __init__(self, status: int, headers: dict[str, str], body: str, ms: float):
        self.status, self.headers, self.body, self.ms = status, headers, body, ms


async def http(host: str, port: int, method: str, path: str, headers: dict[str, str], body: str = "") -> Answer:
    """One HTTP/1.1 request on its own connection; the time from connect to the last byte."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        data = body.encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
                *(f"{k}: {v}" for k, v in headers.items())]
        if method == "POST":
            head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(data)}"]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    ms = 1000 * (time.perf_counter() - started)
    top, _, rest = raw.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    got: dict[str, str] = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        got.setdefault(key.strip().lower(), value.strip())
        if key.strip().lower() == "set-cookie":
            got["cookie"] = value.strip().split(";")[0]
    if "chunked" in got.get("transfer-encoding", ""):
        out, rest_b = b"", rest
        while rest_b:
            size_line, _, rest_b = rest_b.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            out, rest_b = out + rest_b[:size], rest_b[size + 2:]
        rest = out
    return Answer(int(lines[0].split()[1]), got, rest.decode("utf-8", "replace"), ms)


_FREE = re.compile(r'name="jam" value="(\d\d:\d\d)" required>')
_FIELD = {name: re.compile(rf'name="{name}" value="([^"]*)"') for name in ("csrf", "rid")}
_ERROR = re.compile(r'<p class="galat" id="galat" role="alert">(.*?)</p>', re.S)
_CODE = re.compile(r'data-kode="([^"]+)"')
_QR = re.compile(r'id="qr" src="([^"]+)"')


def refusal_kind(text: str) -> str:
    for key, start in (("slot_full", "Jam "), ("booking_quota_exhausted", "Kuota reservasi"),
                       ("booking_exists", "Nomor HP atau NIK"), ("rate_limited", "Sistem reservasi sedang ramai"),
                       ("throttled", "Terlalu banyak permintaan")):
        if text.startswith(start):
            return key
    return "other: " + text[:80]


async def citizen(n: int, at: float, start: float, host: str, port: int, service: str, day: str,
                  rng: random.Random, out: dict[str, Any]) -> None:
    await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
    address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256 + 1}"
    path = f"/reservasi/layanan/{service}/{day}"
    base = {"X-Forwarded-For": address, "Origin": f"http://{host}:{port}"}
    try:
        page = await http(host, port, "GET", path, base)
    except OSError as exc:
        out["errors"].append(f"GET: {exc}")
        return
    out["get_ms"].append(page.ms)
    if page.status != 200:
        out["errors"].append(f"GET {page.status}: {page.body[:120]}")
        return
    cookie = page.headers.get("cookie", "")
    phone = f"0812{n:08d}"
    for _attempt in range(ATTEMPTS):
        free = _FREE.findall(page.body)
        if not free:
            out["outcomes"]["no place left on the page"] += 1
            return
        wanted = [s for s in POPULAR if s in free]
        slot = rng.choice(wanted) if wanted and rng.random() < 0.8 else rng.choice(free)
        fields = {k: (m.group(1) if (m := rx.search(page.body)) else "") for k, rx in _FIELD.items()}
        form = urllib.parse.urlencode({**fields, "jam": slot, "nama": f"Warga {n}", "hp": phone, "nik": ""})
        t0 = time.perf_counter() - start
        try:
            page = await http(host, port, "POST", path, {**base, "Cookie": cookie}, form)
        except OSError as exc:
            out["errors"].append(f"POST: {exc}")
            return
        out["post"].append((t0, page.ms, page.status))
        if page.status == 200 and (code := _CODE.search(page.body)):
            out["codes"].append((service, day, slot, code.group(1)))
            out["outcomes"]["booked"] += 1
            out["booked_at"].append(t0 + page.ms / 1000)
            qr = _QR.search(page.body)  # the confirmation's QR image, as the phone then loads it
            try:
                image = await http(host, port, "GET", qr.group(1) if qr else "/missing-qr", base)
            except OSError as exc:
                out["errors"].append(f"QR: {exc}")
                return
            out["qr_ms"].append(image.ms)
            if image.status != 200 or not image.body.startswith("<svg"):
                out["errors"].append(f"QR {image.status}")
            return
        error = _ERROR.search(page.body)
        kind = refusal_kind(error.group(1).strip()) if error else f"HTTP {page.status}"
        if page.status != 409:
            out["errors"].append(f"POST {page.status}: {kind}")
            return
        out["refusals"][kind] += 1
        if kind != "slot_full":
            out["outcomes"][kind] += 1
            return
    out["outcomes"]["gave up after slot_full x3"] += 1


async def rush(host: str, port: int, citizens: int, seconds: float, day: str, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    out: dict[str, Any] = {"get_ms": [], "post": [], "qr_ms": [], "codes": [], "booked_at": [], "errors": [],
                           "refusals": collections.Counter(), "outcomes": collections.Counter()}
    services = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=citizens)
    arrivals = sorted(rng.uniform(0, seconds) for _ in range(citizens))
    start = time.perf_counter()
    await asyncio.gather(*(citizen(n, at, start, host, port, services[n], day, random.Random(seed + n + 1), out)
                           for n, at in enumerate(arrivals)))
    out["elapsed"] = time.perf_counter() - start
    return out


# -- afterwards: the dispatcher's book ---------------------------------------------------------


def over_booking(db: Path, site: Path, day: str, codes_shown: list[tuple]) -> dict[str, Any]:
    config = load(site)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        booked = [json.loads(data) for (data,) in con.execute("SELECT data FROM events WHERE kind = 'booked'")]
        cancelled = con.execute("SELECT count(*) FROM events WHERE kind = 'booking_cancelled'").fetchone()[0]
    finally:
        con.close()
    per_slot = collections.Counter((b["service"], b["date"], b["slot"]) for b in booked)
    per_day = collections.Counter((b["service"], b["date"]) for b in booked)
    over = []
    for (service, date, slot), n in per_slot.items():
        if n > config.services[service].booking.capacity:
            over.append(f"{service} {date} {slot}: {n} > capacity {config.services[service].booking.capacity}")
    places = {}
    for (service, date), n in per_day.items():
        svc = config.services[service]
        slots = len(svc.booking.starts(config.schedules[svc.schedule].spans(dt.date.fromisoformat(date))))
        places[service] = svc.booking.places(svc.quota, slots)
        if n > places[service]:
            over.append(f"{service} {date}: {n} > places {places[service]}")
    from antrian.queue import codes

    stored = {b["code"] for b in booked}
    shown = {codes.parse(c[3]) for c in codes_shown}
    return {"stored": len(booked), "cancelled": cancelled, "per_day": {f"{s} {d}": n for (s, d), n in per_day.items()},
            "places": places, "fullest_slot": max(per_slot.values(), default=0), "over": over,
            "shown_not_stored": len(shown - stored), "stored_not_shown": len(stored - shown),
            "codes_unique": len(shown) == len(codes_shown)}


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(percentile(values, 50), 1), "p99": round(percentile(values, 99), 1),
            "max": round(max(values), 1)}


def one_run(counts: dict[str, Any], work: Path, seed: int,
            profile: Path | None = None) -> dict[str, Any]:
    site = bench_site(work, counts["rush"])
    broker = LocalBroker(data_dir=work / "broker")
    dispatcher = public = None
    result: dict[str, Any] = {"problems": []}
    day = (dt.datetime.now(load(site).tz) + dt.timedelta(days=1)).date().isoformat()
    try:
        broker.start()
        dispatcher = DispatcherProcess(site, work / "antrian.db", broker.host, broker.port, work / "dispatcher.log")
        dispatcher.wait_online(broker.host, broker.port)
        public = WebProcess(site, "publik1", broker, work / "publik1.log", profile=profile)
        public.wait_ready()
        cpu0 = {"dispatcher": cpu_seconds(dispatcher.pid), "web": cpu_seconds(public.pid)}
        busy0, wall0 = machine_busy_seconds(), time.monotonic()
        out = asyncio.run(rush("127.0.0.1", public.port, counts["citizens"], counts["seconds"], day, seed))
        wall = time.monotonic() - wall0
        result["cpu_s"] = {"dispatcher": round(cpu_seconds(dispatcher.pid) - cpu0["dispatcher"], 1),
                           "web": round(cpu_seconds(public.pid) - cpu0["web"], 1),
                           "machine_busy": round((machine_busy_seconds() - busy0) / wall / (os.cpu_count() or 1), 2)}
        result["memory"] = public.memory()
        posts = [ms for _t, ms, _s in out["post"]]
        booked_at = sorted(out["booked_at"])
        window = (booked_at[-1] - booked_at[0]) if len(booked_at) > 1 else 0.0
        result.update(
            day=day, elapsed_s=round(out["elapsed"], 1), citizens=counts["citizens"], seconds=counts["seconds"],
            outcomes=dict(out["outcomes"]), refusals=dict(out["refusals"]), errors=out["errors"][:20],
            error_count=len(out["errors"]), posts=len(posts), post_ms=summary(posts), get_ms=summary(out["get_ms"]),
            qr_ms=summary(out["qr_ms"]),
            booked=len(out["codes"]),
            bookings_per_s=round(len(booked_at) / window, 1) if window > 0 else None,
            booking_window_s=round(window, 1),
            posts_per_s=round(len(posts) / out["elapsed"], 1))
        time.sleep(0.5)
        result["book"] = over_booking(work / "antrian.db", site, day, out["codes"])
        if result["book"]["over"]:
            result["problems"].append(f"over-booked: {result['book']['over'][:5]}")
        if result["book"]["shown_not_stored"] or not result["book"]["codes_unique"]:
            result["problems"].append("a code was shown that is not a stored booking, or shown twice")
        if result["book"]["stored"] != result["booked"]:
            result["problems"].append(f"{result['book']['stored']} bookings stored, {result['booked']} shown")
        if out["errors"]:
            result["problems"].append(f"{len(out['errors'])} error answers, e.g. {out['errors'][:3]}")
    except Exception as exc:  # noqa: BLE001 - reported, the processes still stopped
        result["problems"].append(f"{type(exc).__name__}: {exc}")
    finally:
        for name, proc in (("publik1", public), ("dispatcher", dispatcher)):
            if proc is not None and proc.stop() not in (0, None, -signal.SIGTERM) and not profile:
                result["problems"].append(f"{name} exited with status {proc.proc.returncode} (log in {work})")
        broker.stop()
    return result


def render(r: dict[str, Any]) -> str:
    if "post_ms" not in r:
        return "  no figures: " + "; ".join(r["problems"])
    p = r["post_ms"]
    b = r["book"]
    lines = [
        f"  {r['citizens']} citizens within {r['seconds']:.0f} s (done in {r['elapsed_s']} s), booking {r['day']}",
        f"  outcomes: {r['outcomes']}",
        f"  refusals seen (a citizen may meet several): {r['refusals']}; error answers: {r['error_count']}",
        f"  bookings made: {r['booked']}; {r['bookings_per_s']} bookings/s over the {r['booking_window_s']} s "
        f"bookings were made in; {r['posts']} booking POSTs ({r['posts_per_s']}/s)",
        f"  booking POST (phone's view): p50 {p.get('p50')} ms, p99 {p.get('p99')} ms, max {p.get('max')} ms  "
        f"[target p99 <= {TARGET_P99_MS:.0f} ms: {'met' if p.get('p99', 1e9) <= TARGET_P99_MS else 'MISSED'}]",
        f"  slot page GET: p50 {r['get_ms'].get('p50')} ms, p99 {r['get_ms'].get('p99')} ms; the confirmation's QR "
        f"image: p50 {r['qr_ms'].get('p50')} ms, p99 {r['qr_ms'].get('p99')} ms",
        f"  stored: {b['stored']} bookings {b['per_day']} against places {b['places']}; fullest slot "
        f"{b['fullest_slot']}; over-booked: {len(b['over'])}; codes shown but not stored: {b['shown_not_stored']}",
        f"  CPU during the rush: dispatcher {r['cpu_s']['dispatcher']} s, public app {r['cpu_s']['web']} s; "
        f"machine busy {100 * r['cpu_s']['machine_busy']:.0f} % of {os.cpu_count()} CPUs; "
        f"app RSS {r['memory']['rss_mb']} MB",
    ]
    if r["problems"]:
        lines.append(f"  PROBLEMS: {r['problems']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few citizens in a few seconds: a smoke run")
    parser.add_argument("--citizens", type=int, help="citizens in the rush (default 1000)")
    parser.add_argument("--seconds", type=float, help="the rush's length (default 60)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, database)")
    parser.add_argument("--profile", metavar="FILE", help="run the public app under cProfile (pstats in FILE)")
    args = parser.parse_args(argv)
    counts = dict(QUICK if args.quick else FULL)
    counts.update({k: v for k, v in (("citizens", args.citizens), ("seconds", args.seconds)) if v})
    loadavg = " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
    when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    print(f"Antrian MPP booking bench ({'quick' if args.quick else 'full'}), commit {revision()}, {os.cpu_count()} "
          f"CPUs, Python {platform.python_version()}, {when}, load average before {loadavg}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="antrian-bench-booking-"))
    profile = Path(args.profile).resolve() if args.profile else None
    result = one_run(counts, work, args.seed, profile)
    result.update(when=when, loadavg_before=loadavg,
                  loadavg_after=" ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3]))
    print(render(result), flush=True)
    if args.keep or result["problems"]:
        print(f"  kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"counts": counts, "machine": {
            "nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "revision": revision(), "run": result}, indent=1) + "\n", encoding="utf-8")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
