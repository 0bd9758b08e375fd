#!/usr/bin/env python3
"""Web wing benchmark: the staff and public apps as `antrian web` processes, fed by the real
dispatcher over a real Mosquitto on loopback.

    .venv/bin/python bench/web.py                  # one full run (about 6 minutes on 2 vCPUs)
    .venv/bin/python bench/web.py --runs 3 --json out.json
    .venv/bin/python bench/web.py --quick          # a smoke run (tests/test_bench_smoke.py)

Calls are made as a counter makes them: `call_next` published on a counter's command
topic, the dispatcher (its own process, as in bench/dispatch.py) stores the call and
publishes the Call, the Board, the counter state, the queue list and the day totals.
"Published" below is the moment the Call reaches a subscriber of this process (one
loopback hop after the dispatcher sent it); the command -> Call time is shown beside.
Every time is CLOCK_MONOTONIC (time.perf_counter), the same clock in every process.

  (a) call -> the number in the board page's DOM: /papan/board3 of the staff app in
      Debian's headless Chromium (Selenium); a MutationObserver on `#nomor` stamps each
      new number with performance.timeOrigin + performance.now(), turned into this
      process's clock by an offset measured through Selenium before and after (the
      round trip's half is the error bound, printed). One call at a time, each after the
      last one is on screen and the page is idle again; board3 has min_call_seconds 0
      and autoplay allowed, so the page is not holding a call back on purpose.
  (b) fan-out: N plain SSE clients (asyncio, raw HTTP/1.1, in a few child processes):
      first N boards on the staff app's /papan/board3/aliran, then N citizens' pages on
      the public app's ticket stream, each citizen holding a real ticket of the queue the
      calls serve, so every call changes what every client shows. Calls at a fixed rate;
      per delivery: Call published -> that call's message read by the client.
  (c) memory: VmRSS (/proc/PID/status) of each web process at start-up and with its N
      clients connected at the end of its part of (b), and its peak (VmHWM).

Targets are printed beside the figures, never asserted. The exit status is 1 only when
something did not work (a call not answered, clients that never connected).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from benchlib import open_buton, percentile, scaled  # noqa: E402
from dispatch import DispatcherProcess, connect, cpu_seconds, machine_busy_seconds, proc_status, revision  # noqa: E402
from webclients import fan_out  # noqa: E402

from antrian import protocol  # noqa: E402
from antrian.adapters.mosquitto import LocalBroker, free_port  # noqa: E402

SITE = "buton"
BOARD = "board3"
# Boards' calls at loket5..8, topped up with tickets of these services as they run low.
# The citizens hold KTP tickets, called at loket1 and loket2 only (of their other services
# nobody waits), so every call moves every citizen's place. No queue may grow long: a
# QueueList over 16 KiB (about 140 waiting) is refused by protocol.decode, and the public
# app would never see it (docs/benchmarks-web.md); so the citizens' clients share
# CITIZEN_TICKETS tickets (a family's phones), each followed by its own stream.
BOARD_COUNTERS = {"loket5": "PBB", "loket6": "NIB", "loket7": "TAB", "loket8": "BAYAR"}
CITIZEN_COUNTERS = ("loket1", "loket2")
CITIZEN_SERVICE = "KTP"
CITIZEN_TICKETS = 32

TARGET_DOM_P99_MS = 50.0
TARGET_FANOUT_P99_MS = 100.0
TARGET_RSS_MB = 90.0

FULL = {"dom_calls": 500, "dom_warmup": 10, "clients": 200, "client_procs": 2, "fanout_calls": 80,
        "fanout_rate": 2.0, "fanout_warmup": 5}
QUICK = {"dom_calls": 12, "dom_warmup": 2, "clients": 20, "client_procs": 1, "fanout_calls": 10,
         "fanout_rate": 4.0, "fanout_warmup": 2}


# -- the site and the processes ------------------------------------------------------------


def bench_site(directory: Path) -> Path:
    """The Buton example open round the clock without quotas (benchlib), board3 a browser
    board that holds no call back, no credentials (no board tokens)."""
    raw = open_buton()
    devices = {d["id"]: d for d in raw["devices"]}
    board = devices.get(BOARD)
    if board is None:
        board = {"id": BOARD, "role": "display", "name": "Bench browser board"}
        raw["devices"].append(board)
    # catch_up_seconds 0: every call is only shown, never said (its sound would hold the next
    # call for seconds); the app still makes each call's sound as it would for a TV.
    board.update({"browser": True, "min_call_seconds": 0, "catch_up_seconds": 0, "speech": "espeak-ng",
                  "repeat": 1})
    for device, public in (("web1", False), ("publik1", True)):
        if device not in devices:
            extra = {"public": True, "public_url": "https://antrean.example.go.id"} if public else {}
            raw["devices"].append({"id": device, "role": "web", "name": device, **extra})
    for d in raw["devices"]:
        if d.get("role") == "web":
            d.pop("listen", None)
            d.pop("users", None)
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class WebProcess:
    """`antrian web` as its own process on a free port, as the unit runs it."""

    def __init__(self, site: Path, device: str, broker: LocalBroker, log_path: Path, users: Path | None = None,
                 profile: Path | None = None):
        self.port = free_port()
        # --profile: the app under cProfile (uvicorn's loop is the main thread; written at exit)
        run = ["-m", "cProfile", "-o", str(profile), "-m"] if profile else ["-m"]
        args = [sys.executable, *run, "antrian.cli", "web", "--config", str(site), "--device", device,
                "--broker", broker.address, "--listen", f"127.0.0.1:{self.port}"]
        if users is not None:
            args += ["--users", str(users)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        self._log = log_path.open("ab")
        self.log_path = log_path
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log)
        self.pid = self.proc.pid
        self.url = f"http://127.0.0.1:{self.port}"
        # uvicorn ends by raising the signal it got again: SIGTERM's default kills before
        # cProfile writes, SIGINT's KeyboardInterrupt lets it write.
        self.stop_signal = signal.SIGINT if profile else signal.SIGTERM

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until /sehat says the app reached the broker."""
        import http.client

        end = time.monotonic() + scaled(timeout)
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                break
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/sehat")
                resp = conn.getresponse()
                if resp.status == 200 and json.loads(resp.read()).get("broker"):
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"antrian web on port {self.port} not ready (exit {self.proc.poll()}); log "
                           f"{self.log_path}:\n{self.log_path.read_text(errors='replace')[-2000:]}")

    def memory(self) -> dict[str, float]:
        status = proc_status(self.pid)
        return {"rss_mb": round(status["VmRSS"] / 1024, 1), "hwm_mb": round(status["VmHWM"] / 1024, 1)}

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(scaled(60))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


# -- the wire: tickets and calls ------------------------------------------------------------


class Wire:
    """This process on the broker: a kiosk that issues tickets, the counters that call, and a
    subscriber that stamps each Call as it arrives."""

    def __init__(self, host: str, port: int):
        self.cond = threading.Condition()
        self.replies: dict[str, dict[str, Any]] = {}
        self.calls: dict[int, float] = {}  # seq -> perf_counter when the Call arrived here
        self.call_numbers: dict[int, str] = {}
        self.last_seq = -1
        topics = (protocol.kiosk_reply(SITE, "kiosk1"), protocol.counter_reply(SITE, "+"), protocol.call(SITE))
        self.conn = connect("bench-web-wire", host, port, topics, self._on_message, max_inflight=100)
        self.count = 0

    def _on_message(self, client, userdata, msg) -> None:
        t = time.perf_counter()
        obj = json.loads(msg.payload or b"{}")
        with self.cond:
            if msg.topic == protocol.call(SITE):
                seq = obj.get("seq")
                if isinstance(seq, int):
                    self.calls[seq] = t
                    self.call_numbers[seq] = obj.get("number")
                    self.last_seq = max(self.last_seq, seq)
            elif isinstance(obj.get("id"), str):
                self.replies[obj["id"]] = {**obj, "_at": t}
            self.cond.notify_all()

    def _wait(self, predicate, timeout: float):
        """predicate()'s value once it is not None (None after *timeout*)."""
        with self.cond:
            self.cond.wait_for(lambda: predicate() is not None, scaled(timeout))
            return predicate()

    def issue(self, services: list[str], tag: str, window: int = 16) -> list[dict[str, Any]]:
        """One ticket per entry of *services*, `window` in flight; the tickets in order."""
        ids = []
        for i, service in enumerate(services):
            if i >= window:
                self._wait(lambda j=i - window: self.replies.get(ids[j]), 30)
            self.count += 1
            mid = f"{tag}-t{self.count}"
            ids.append(mid)
            self.conn.publish_json(protocol.kiosk_request(SITE, "kiosk1"), {"id": mid, "service": service,
                                                                             "priority": None})
        tickets = []
        for mid in ids:
            reply = self._wait(lambda m=mid: self.replies.get(m), 30)
            if not reply or not reply.get("ok"):
                raise RuntimeError(f"ticket {mid} not issued: {reply}")
            tickets.append(reply["ticket"])
        return tickets

    def call(self, counter: str, tag: str) -> tuple[float, float, int, str, str]:
        """call_next at *counter*: (command sent, Call arrived, seq, number, service)."""
        self.count += 1
        mid = f"{tag}-c{self.count}"
        with self.cond:
            before = self.last_seq
        sent = time.perf_counter()
        self.conn.publish_json(protocol.counter_command(SITE, counter), {"id": mid, "action": "call_next"})
        reply = self._wait(lambda: self.replies.get(mid), 10)
        if not reply or not reply.get("ok") or not reply.get("ticket"):
            raise RuntimeError(f"call_next at {counter} failed: {reply}")
        number, service = reply["ticket"]["number"], reply["ticket"]["service"]
        seq = self._wait(lambda: next((s for s in range(before + 1, self.last_seq + 1)
                                      if self.call_numbers.get(s) == number), None), 10)
        if seq is None:
            raise RuntimeError(f"no Call for {number} after call_next at {counter}")
        return sent, self.calls[seq], seq, number, service

    def close(self) -> None:
        self.conn.close()


class Feeder:
    """Calls at the boards' counters in turn, each finding a ticket: a counter's service is
    topped up with a few tickets whenever fewer than three wait (as counted from the
    calls' replies), so no queue grows long."""

    def __init__(self, wire: Wire, tag: str):
        self.wire, self.tag = wire, tag
        self.waiting = {service: 0 for service in BOARD_COUNTERS.values()}
        self.turn = 0

    def __call__(self) -> tuple[float, float, int, str, str]:
        counter = list(BOARD_COUNTERS)[self.turn % len(BOARD_COUNTERS)]
        self.turn += 1
        service = BOARD_COUNTERS[counter]
        if self.waiting[service] < 3:
            self.wire.issue([service] * 8, self.tag)
            self.waiting[service] += 8
        made = self.wire.call(counter, self.tag)
        self.waiting[made[4]] = self.waiting.get(made[4], 1) - 1
        return made


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
            "max_ms": round(max(ms), 2), "mean_ms": round(statistics.fmean(ms), 2)}


# -- (b) and (c): many plain SSE clients ------------------------------------------------------------


def fanout(web: WebProcess, paths: list[str], kind: str, call, counts: dict[str, Any], watch: dict[str, int],
           expect, cumulative: bool = False) -> dict[str, Any]:
    """Open *paths* as streams, make the calls (``call()``) at the set rate while they are
    open, then match each client's messages to the calls with *expect(client_index, key,
    made) -> seq* (made: the calls as Wire.call returns them, in order). *cumulative*: the
    messages are states (a citizen's place), so one that shows a call shows those before."""
    total = counts["fanout_warmup"] + counts["fanout_calls"]
    period = 1.0 / counts["fanout_rate"]
    idle = web.memory()

    def go() -> dict[str, Any]:
        made = []
        cpu0 = {name: cpu_seconds(pid) for name, pid in watch.items()}
        busy0, start = machine_busy_seconds(), time.perf_counter()
        for i in range(total):
            delay = start + i * period - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            made.append(call())
        time.sleep(scaled(1.5))  # the last call's deliveries
        memory = web.memory()
        cpu = {name: round(cpu_seconds(pid) - cpu0[name], 2) for name, pid in watch.items()}
        return {"made": made, "memory": memory, "cpu_s": cpu, "seconds": round(time.perf_counter() - start, 1),
                "machine_busy_s": round(machine_busy_seconds() - busy0, 1)}

    host, port = "127.0.0.1", web.port
    connected, results, errors, done, (messages, size, client_cpu) = fan_out(host, port, paths, kind,
                                                                             counts["client_procs"], go)
    out: dict[str, Any] = {"clients": len(paths), "connected": connected, "errors": errors, "idle": idle}
    if done is None:
        return out
    measured = {m[2]: m[1] for m in done["made"][counts["fanout_warmup"]:]}
    seqs = [m[2] for m in done["made"]]
    command = [m[1] - m[0] for m in done["made"][counts["fanout_warmup"]:]]
    deliveries, last, missing = [], {seq: 0.0 for seq in measured}, 0
    for index, got in enumerate(results):
        seen: dict[int, float] = {}
        for at, key in got:
            seq = expect(index, key, done["made"])
            if seq in measured and seq not in seen:
                seen[seq] = at
        for seq in sorted(seen) if cumulative else ():
            # A page showing a state shows every call before it: a page that fell behind
            # skips straight to the newest state, which is when it got the ones between.
            for earlier in seqs:
                if earlier >= seq:
                    break
                seen.setdefault(earlier, seen[seq])
        for seq, arrived in measured.items():
            if seq in seen:
                deliveries.append(seen[seq] - arrived)
                last[seq] = max(last[seq], seen[seq] - arrived)
            else:
                missing += 1
    out.update(calls=len(measured), rate_per_s=counts["fanout_rate"], deliveries=summary(deliveries),
               missing=missing, all_clients=summary([v for v in last.values() if v > 0]),
               command_to_call=summary(command), memory=done["memory"], cpu_s=done["cpu_s"],
               seconds=done["seconds"], machine_busy_s=done["machine_busy_s"],
               client_cpu_s=round(client_cpu, 1),
               messages_per_client_call=round(messages / max(1, len(paths) * len(done["made"])), 2),
               bytes_per_client_call=round(size / max(1, len(paths) * len(done["made"]))))
    return out


# -- (a) call -> number in the board page's DOM, in Chromium ------------------------------------------

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
OBSERVE = """
window.benchSeen = [];
const nomor = document.getElementById("nomor");
new MutationObserver(() => window.benchSeen.push([nomor.textContent, performance.timeOrigin + performance.now()]))
  .observe(nomor, {childList: true, characterData: true, subtree: true});
"""


def chromium(profile: Path):
    """Debian's headless Chromium at a TV's 1920x1080, sound allowed without a tap (the TV
    box setting of docs/operations.md)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--window-size=1920,1080",
                f"--user-data-dir={profile}"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def clock_offset(driver, samples: int = 30) -> tuple[float, float]:
    """The browser's clock minus this process's perf_counter, in seconds, from the sample
    with the shortest round trip; and half that round trip (the error bound)."""
    best = None
    for _ in range(samples):
        before = time.perf_counter()
        browser = driver.execute_script("return performance.timeOrigin + performance.now()") / 1000
        after = time.perf_counter()
        if best is None or after - before < best[1] - best[0]:
            best = (before, after, browser)
    before, after, browser = best
    return browser - (before + after) / 2, (after - before) / 2


def dom_latency(call, web: WebProcess, counts: dict[str, Any], work: Path) -> dict[str, Any]:
    """Calls one at a time; each number's first appearance in #nomor against its Call."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chromium(work / "chromium")
    try:
        driver.get(f"{web.url}/papan/{BOARD}")
        WebDriverWait(driver, scaled(20)).until(
            lambda d: d.execute_script("return window.papanLog !== undefined && document.getElementById('nomor')"))
        time.sleep(scaled(1.0))  # the first `papan` and the fonts
        driver.execute_script(OBSERVE)
        offset0, error0 = clock_offset(driver)
        latencies, said, late = [], 0, 0
        total = counts["dom_warmup"] + counts["dom_calls"]
        for i in range(total):
            _, arrived, seq, number, _ = call()
            time.sleep(0.03)
            try:
                seen = WebDriverWait(driver, scaled(10), poll_frequency=0.02).until(
                    lambda d: d.execute_script(
                        "const n = arguments[0]; const s = window.benchSeen.find((x) => x[0] === n);"
                        "return s ? s[1] : null", number))
            except TimeoutException:  # a number that never showed is counted, not fatal
                late += 1
                continue
            # Idle again before the next call: a call the page says holds the next one until
            # its sound ends (board3 says none, its catch_up_seconds being 0; counted if it did).
            events = driver.execute_script(
                "return window.papanLog.filter((e) => e.seq === arguments[0]).map((e) => e.ev)", seq)
            if "play" in events:
                said += 1
                WebDriverWait(driver, scaled(60), poll_frequency=0.1).until(lambda d: set(d.execute_script(
                    "return window.papanLog.filter((e) => e.seq === arguments[0]).map((e) => e.ev)", seq))
                    & {"ended", "error", "timeout", "blocked"})
            if i >= counts["dom_warmup"]:
                latencies.append((seen / 1000 - offset0) - arrived)
            time.sleep(0.02)
        offset1, error1 = clock_offset(driver)
        driver.execute_script("window.benchSeen = []")
    finally:
        driver.quit()
    return {"calls": counts["dom_calls"], "warmup": counts["dom_warmup"], "measured": len(latencies),
            "not_shown": late, "said": said, "latency": summary(latencies),
            "clock_error_ms": round(max(error0, error1) * 1000, 3),
            "clock_drift_ms": round((offset1 - offset0) * 1000, 3)}


# -- a run, the report ------------------------------------------------------------------------------


def citizen_expect(front: int, tickets: int):
    """Client *index* follows ticket ``index % tickets``, which waits behind *front* tickets
    and the citizens' tickets before it; a page that shows ``ahead == a`` shows the effect
    of call number ``front + index % tickets - a`` (1-based) of the part."""
    def expect(index: int, key: Any, made: list[tuple]) -> int | None:
        ahead = key[2] if isinstance(key, tuple) and len(key) > 2 else None
        if not isinstance(ahead, int):
            return None
        j = front + index % tickets - ahead - 1
        return made[j][2] if 0 <= j < len(made) else None
    return expect


def citizen_stream(link: str) -> str:
    """The path of a ticket's live stream, from the link the ticket carries."""
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    return path.rstrip("/") + "/peristiwa"


def one_run(counts: dict[str, Any], work: Path, parts: set[str], profile: Path | None = None) -> dict[str, Any]:
    site = bench_site(work)
    broker = LocalBroker(data_dir=work / "broker")
    dispatcher = staff = public = None
    wire = None
    tag = dt.datetime.now().strftime("%H%M%S")
    result: dict[str, Any] = {"problems": []}
    try:
        broker.start()
        dispatcher = DispatcherProcess(site, work / "antrian.db", broker.host, broker.port, work / "dispatcher.log")
        dispatcher.wait_online(broker.host, broker.port)
        staff = WebProcess(site, "web1", broker, work / "web1.log", users=work / "web-users",
                           profile=profile and profile.with_name(profile.name + ".web1"))
        public = WebProcess(site, "publik1", broker, work / "publik1.log",
                            profile=profile and profile.with_name(profile.name + ".publik1"))
        staff.wait_ready()
        public.wait_ready()
        time.sleep(scaled(1.0))
        result["startup"] = {"web1": staff.memory(), "publik1": public.memory()}
        wire = Wire(broker.host, broker.port)
        base = {"dispatcher": dispatcher.pid, "broker": broker.pid}
        feeder = Feeder(wire, tag)
        if "boards" in parts:
            paths = [f"/papan/{BOARD}/aliran"] * counts["clients"]
            result["boards"] = fanout(staff, paths, "papan", feeder, counts, {**base, "web": staff.pid},
                                      lambda index, key, made: key)
        if "citizens" in parts:
            # Enough in front of the citizens for every call of the part.
            front = counts["fanout_warmup"] + counts["fanout_calls"] + 3
            wire.issue([CITIZEN_SERVICE] * front, tag)
            held = min(CITIZEN_TICKETS, counts["clients"])
            tickets = wire.issue([CITIZEN_SERVICE] * held, tag)
            links = [tickets[i % held].get("link") for i in range(counts["clients"])]
            turn = iter(range(10**9))
            if not all(links):
                result["problems"].append("the tickets carry no link (no public_url?): no citizen streams")
            else:
                result["citizens"] = fanout(
                    public, [citizen_stream(x) for x in links], "tiket",
                    lambda: wire.call(CITIZEN_COUNTERS[next(turn) % len(CITIZEN_COUNTERS)], tag), counts,
                    {**base, "web": public.pid}, citizen_expect(front, held), cumulative=True)
        if "dom" in parts:
            if os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK):
                result["dom"] = dom_latency(feeder, staff, counts, work)
            else:
                result["problems"].append(f"(a) skipped: no {CHROMIUM} and {CHROMEDRIVER}")
        for part in ("boards", "citizens"):
            got = result.get(part)
            if got and (got["connected"] != got["clients"] or got.get("missing")):
                result["problems"].append(f"{part}: {got['connected']}/{got['clients']} connected, "
                                          f"{got.get('missing', '?')} deliveries missing; {got['errors'][:3]}")
        if result.get("dom") and result["dom"]["not_shown"]:
            result["problems"].append(f"(a) {result['dom']['not_shown']} calls never shown")
    except Exception as exc:  # noqa: BLE001 - reported with the logs, the processes still stopped
        result["problems"].append(f"{type(exc).__name__}: {exc}")
    finally:
        if wire is not None:
            wire.close()
        for name, proc in (("web1", staff), ("publik1", public), ("dispatcher", dispatcher)):
            if proc is not None and proc.stop() not in (0, None, -signal.SIGTERM) and not profile:
                result["problems"].append(f"{name} exited with status {proc.proc.returncode} (log in {work})")
        broker.stop()
    return result


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def render(r: dict[str, Any], run: int) -> str:
    lines = [f"run {run}: {r.get('when', '?')}, load average before {r.get('loadavg_before', '?')}"]

    def row(label: str, value: str, target: str = "") -> None:
        lines.append(f"  {label:<62} {value:>26}  {target}")

    def figures(s: dict[str, float]) -> str:
        return f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f} / {s['max_ms']:.1f} ms"

    if "dom" in r:
        d = r["dom"]
        row(f"(a) Call published -> #nomor in Chromium, p50 / p99 / max ({d['measured']} calls)",
            figures(d["latency"]),
            f"p99 <= {TARGET_DOM_P99_MS:g} ms {verdict(d['latency']['p99_ms'] <= TARGET_DOM_P99_MS)}")
        row("    clock offset error bound / drift over the part",
            f"{d['clock_error_ms']:.2f} / {d['clock_drift_ms']:.2f} ms")
        row("    calls said by the page (held the next one) / never shown", f"{d['said']} / {d['not_shown']}")
    for part, label in (("boards", "boards, staff app"), ("citizens", "citizens' tickets, public app")):
        b = r.get(part)
        if not b or "deliveries" not in b:
            continue
        row(f"(b) {b['clients']} {label}: Call published -> at each client",
            figures(b["deliveries"]),
            f"p99 <= {TARGET_FANOUT_P99_MS:g} ms {verdict(b['deliveries']['p99_ms'] <= TARGET_FANOUT_P99_MS)}")
        row(f"    deliveries / missing ({b['calls']} calls at {b['rate_per_s']:g}/s)",
            f"{b['deliveries']['n']:,} / {b['missing']:,}")
        row("    SSE messages / bytes per client per call (all kinds)",
            f"{b['messages_per_client_call']:.1f} / {b['bytes_per_client_call']:,}")
        row("    the last client of each call, p50 / p99 / max", figures(b["all_clients"]))
        row("    command -> Call published (the dispatcher), p50 / p99", f"{b['command_to_call']['p50_ms']:.1f} / "
            f"{b['command_to_call']['p99_ms']:.1f} ms")
        cpu = b["cpu_s"]
        row(f"    CPU s: web / dispatcher / broker / clients; machine busy in {b['seconds']:g} s",
            f"{cpu['web']:.1f} / {cpu['dispatcher']:.1f} / {cpu['broker']:.1f} / {b['client_cpu_s']:.1f}; "
            f"{b['machine_busy_s']:.1f}")
        row(f"(c) RSS of the {label.split(', ')[1]} with {b['connected']} clients (peak)",
            f"{b['memory']['rss_mb']:.1f} MB ({b['memory']['hwm_mb']:.1f})",
            f"<= {TARGET_RSS_MB:g} MB {verdict(b['memory']['rss_mb'] <= TARGET_RSS_MB)}")
        row("    RSS idle before the clients", f"{b['idle']['rss_mb']:.1f} MB")
    lines.extend(f"  PROBLEM: {p}" for p in r["problems"])
    return "\n".join(lines)


def medians(runs: list[dict[str, Any]]) -> list[str]:
    """The medians over the runs of each headline figure."""
    picks = [("(a) DOM p50 ms", ("dom", "latency", "p50_ms")), ("(a) DOM p99 ms", ("dom", "latency", "p99_ms")),
             ("(b) boards p50 ms", ("boards", "deliveries", "p50_ms")),
             ("(b) boards p99 ms", ("boards", "deliveries", "p99_ms")),
             ("(b) citizens p50 ms", ("citizens", "deliveries", "p50_ms")),
             ("(b) citizens p99 ms", ("citizens", "deliveries", "p99_ms")),
             ("(c) staff app RSS MB", ("boards", "memory", "rss_mb")),
             ("(c) public app RSS MB", ("citizens", "memory", "rss_mb"))]
    out = []
    for label, (a, b, c) in picks:
        values = [r[a][b][c] for r in runs if isinstance(r.get(a), dict) and b in r[a]]
        if values:
            out.append(f"  {label:<24} median {statistics.median(values):8.2f}   runs: "
                       + ", ".join(f"{v:.2f}" for v in values))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--runs", type=int, default=1, help="runs, each with fresh processes (default 1)")
    parser.add_argument("--parts", default="boards,citizens,dom", help="which parts: boards, citizens, dom")
    parser.add_argument("--clients", type=int, help="SSE clients in (b) (default 200)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folders (logs, database)")
    parser.add_argument("--profile", metavar="FILE", help="run each app under cProfile: pstats in FILE.web1 and "
                        "FILE.publik1 (slows them down)")
    args = parser.parse_args(argv)
    counts = dict(QUICK if args.quick else FULL)
    if args.clients:
        counts["clients"] = args.clients
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not parts or parts - {"boards", "citizens", "dom"}:
        parser.error("--parts takes boards, citizens and dom")
    print(f"Antrian MPP web benchmark ({'quick' if args.quick else 'full'}), commit {revision()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}; counts {counts}")
    runs = []
    for n in range(1, args.runs + 1):
        work = Path(tempfile.mkdtemp(prefix="antrian-bench-web-"))
        loadavg = " ".join(Path("/proc/loadavg").read_text(encoding="ascii").split()[:3])
        when = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        result = one_run(counts, work, parts, Path(args.profile).resolve() if args.profile else None)
        result.update(when=when, loadavg_before=loadavg)
        runs.append(result)
        print(render(result, n), flush=True)
        if args.keep or result["problems"]:
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if len(runs) > 1:
        print(f"medians over {len(runs)} runs")
        print("\n".join(medians(runs)))
    if args.json:
        Path(args.json).write_text(json.dumps({"counts": counts, "machine": {
            "nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "revision": revision(), "runs": runs}, indent=1) + "\n", encoding="utf-8")
    return 1 if any(r["problems"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
