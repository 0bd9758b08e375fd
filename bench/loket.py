#!/usr/bin/env python3
"""The officer's console benchmark: a click on "Panggil berikutnya" in /loket -> the Call
the boards announce from.

    .venv/bin/python bench/loket.py                 # 500 calls (a few minutes on 2 vCPUs)
    .venv/bin/python bench/loket.py --calls 200 --json out.json
    .venv/bin/python bench/loket.py --quick         # a smoke run

The staff app runs as its own `antrian web` process and the dispatcher as its own
process (bench/web.py's WebProcess and bench/dispatch.py's DispatcherProcess) on a real
Mosquitto on loopback; Debian's headless Chromium logs in as a petugas of loket5 through
the real /masuk form. Per call, one at a time:

  click    the page's clock (performance.timeOrigin + performance.now()) just before
           ``button.click()`` in the page, turned into this process's perf_counter by an
           offset measured through Selenium before and after (half the round trip is the
           error bound, printed);
  command  the Command reaching a subscriber of this process (the page and the app's part);
  Call     the Call reaching a subscriber of this process, one loopback hop after the
           dispatcher sent it: what every board (a Pi's or a TV's) acts on;
  reply    the page saying "Memanggil A-001" (a MutationObserver on #pesan): the officer's
           own round trip, the Reply through the app and back.

The path measured: the page's fetch (form POST with CSRF) -> the app checks the session,
the binding and the form, publishes the Command and waits for the Reply -> the
dispatcher stores the call and publishes Call, queue list, state, board, Reply. The
queue of loket5's service is topped up in small batches so it never grows long. Targets
are printed, never asserted; exit 1 only when something did not work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(HERE), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

# bench/web.py under another name: as "web" it would hide the project's web package.
_spec = importlib.util.spec_from_file_location("bench_web", HERE / "web.py")
bench_web = importlib.util.module_from_spec(_spec)
sys.modules["bench_web"] = bench_web
_spec.loader.exec_module(bench_web)

from benchlib import scaled  # noqa: E402
from dispatch import DispatcherProcess, connect, revision  # noqa: E402

from antrian import protocol  # noqa: E402
from antrian.adapters.mosquitto import LocalBroker  # noqa: E402

SITE = "buton"
COUNTER, SERVICE = "loket5", "PBB"  # loket5 serves PBB and BPHTB; only PBB tickets are issued
OFFICER, PASSWORD = "petugas5", "Bench-Loket-5-sandi"
TARGET_P99_MS = 25.0
TOP_UP, LOW = 10, 3  # tickets issued at a time, when fewer than LOW wait

OBSERVE = """
window.benchReplies = [];
const pesan = document.getElementById("pesan");
new MutationObserver(() => window.benchReplies.push([pesan.textContent, performance.timeOrigin + performance.now()]))
  .observe(pesan, {childList: true, characterData: true, subtree: true});
"""
CLICK = """
const b = document.getElementById("b-call_next");
if (b.disabled) return null;
const t = performance.timeOrigin + performance.now();
b.click();
return t;
"""


def add_officer(site: Path, users: Path) -> None:
    """A petugas of loket5 made as a technician makes one: `antrian web-user add`."""
    subprocess.run([sys.executable, "-m", "antrian.cli", "web-user", "--users", str(users), "--config", str(site),
                    "add", OFFICER, "--role", "petugas", "--counters", COUNTER], input=PASSWORD + "\n", text=True,
                   cwd=ROOT, check=True, capture_output=True, timeout=scaled(60),
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))


def login(driver, url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{url}/loket")
    WebDriverWait(driver, scaled(20)).until(lambda d: d.find_elements(By.ID, "nama"))
    driver.find_element(By.ID, "nama").send_keys(OFFICER)
    driver.find_element(By.ID, "sandi").send_keys(PASSWORD)
    driver.find_element(By.ID, "masuk").click()
    WebDriverWait(driver, scaled(30), poll_frequency=0.05).until(lambda d: d.current_url.endswith(f"/loket/{COUNTER}")
                                                                 and d.execute_script(
        "const b = document.getElementById('b-call_next'); return b && !b.disabled"))


class Commands:
    """Stamps each Command the console publishes, by its id, as it reaches this process."""

    def __init__(self, host: str, port: int) -> None:
        self.seen: list[float] = []  # in arrival order
        self.conn = connect("bench-loket-commands", host, port, (protocol.counter_command(SITE, COUNTER),),
                            self._on_message)

    def _on_message(self, client, userdata, msg) -> None:
        self.seen.append(time.perf_counter())


def measure(driver, wire, commands: Commands, counts: dict[str, int], tag: str) -> dict[str, Any]:
    from selenium.webdriver.support.ui import WebDriverWait

    waiting = 0
    driver.execute_script(OBSERVE)
    offset0, error0 = bench_web.clock_offset(driver)
    to_call, to_reply, to_command, failed = [], [], [], 0
    for i in range(counts["warmup"] + counts["calls"]):
        if waiting < LOW:
            wire.issue([SERVICE] * TOP_UP, tag)
            waiting += TOP_UP
        with wire.cond:
            before = wire.last_seq
        WebDriverWait(driver, scaled(10), poll_frequency=0.005).until(lambda d: d.execute_script(
            "const b = document.getElementById('b-call_next'); return !b.disabled"))
        sent = len(commands.seen)
        clicked = driver.execute_script(CLICK)
        seq = wire._wait(lambda: next((s for s in range(before + 1, wire.last_seq + 1)
                                      if wire.call_numbers.get(s) is not None), None), 10)
        if clicked is None or seq is None:
            failed += 1
            continue
        waiting -= 1
        number = wire.call_numbers[seq]
        shown = WebDriverWait(driver, scaled(10), poll_frequency=0.005).until(lambda d: d.execute_script(
            "const s = window.benchReplies.find((x) => x[0] === arguments[0]); return s ? s[1] : null",
            f"Memanggil {number}."))
        if i >= counts["warmup"]:
            click = clicked / 1000 - offset0
            to_call.append(wire.calls[seq] - click)
            if len(commands.seen) > sent:
                to_command.append(commands.seen[sent] - click)
            to_reply.append(shown / 1000 - offset0 - click)
        driver.execute_script("window.benchReplies = []")
    offset1, error1 = bench_web.clock_offset(driver)
    return {"calls": counts["calls"], "warmup": counts["warmup"], "measured": len(to_call), "failed": failed,
            "click_to_call": bench_web.summary(to_call), "click_to_reply_shown": bench_web.summary(to_reply),
            "click_to_command": bench_web.summary(to_command),
            "clock_error_ms": round(max(error0, error1) * 1000, 3),
            "clock_drift_ms": round((offset1 - offset0) * 1000, 3)}


def one_run(counts: dict[str, int], work: Path) -> dict[str, Any]:
    site = bench_web.bench_site(work)
    users = work / "web-users"
    add_officer(site, users)
    broker = LocalBroker(data_dir=work / "broker")
    dispatcher = staff = wire = driver = None
    result: dict[str, Any] = {"problems": []}
    try:
        broker.start()
        dispatcher = DispatcherProcess(site, work / "antrian.db", broker.host, broker.port, work / "dispatcher.log")
        dispatcher.wait_online(broker.host, broker.port)
        staff = bench_web.WebProcess(site, "web1", broker, work / "web1.log", users=users)
        staff.wait_ready()
        wire = bench_web.Wire(broker.host, broker.port)
        driver = bench_web.chromium(work / "chromium")
        login(driver, staff.url)
        time.sleep(scaled(0.5))
        commands = Commands(broker.host, broker.port)
        result["console"] = measure(driver, wire, commands, counts, dt.datetime.now().strftime("%H%M%S"))
        commands.conn.close()
        if result["console"]["failed"]:
            result["problems"].append(f"{result['console']['failed']} clicks without a Call")
    except Exception as exc:  # noqa: BLE001 - reported with the logs, the processes still stopped
        result["problems"].append(f"{type(exc).__name__}: {exc} (logs in {work})")
    finally:
        if driver is not None:
            driver.quit()
        if wire is not None:
            wire.close()
        for name, proc in (("web1", staff), ("dispatcher", dispatcher)):
            if proc is not None and proc.stop() not in (0, None, -15):
                result["problems"].append(f"{name} exited with status {proc.proc.returncode} (log in {work})")
        broker.stop()
    return result


def render(r: dict[str, Any]) -> str:
    c = r.get("console")
    lines = []
    if c:
        def fig(s: dict[str, float]) -> str:
            return f"p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, max {s['max_ms']:.1f} ms"
        p99 = c["click_to_call"]["p99_ms"]
        lines += [f"console click -> Call at a subscriber ({c['measured']} calls): {fig(c['click_to_call'])}"
                  f"  [target p99 <= {TARGET_P99_MS:g} ms: {'met' if p99 <= TARGET_P99_MS else 'NOT met'}]",
                  f"  of which click -> Command at a subscriber:       {fig(c['click_to_command'])}",
                  f"console click -> the reply shown in the page:      {fig(c['click_to_reply_shown'])}",
                  f"clock offset error <= {c['clock_error_ms']} ms, drift {c['clock_drift_ms']} ms"]
    lines += [f"problem: {p}" for p in r["problems"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="12 calls: does it work at all")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    counts = {"calls": 12, "warmup": 2} if args.quick else {"calls": args.calls, "warmup": 10}
    if not (os.access(bench_web.CHROMIUM, os.X_OK) and os.access(bench_web.CHROMEDRIVER, os.X_OK)):
        print(f"needs {bench_web.CHROMIUM} and {bench_web.CHROMEDRIVER}")
        return 1
    with tempfile.TemporaryDirectory(prefix="antrian-bench-loket-") as tmp:
        result = one_run(counts, Path(tmp))
        print(render(result))
    result.update({"revision": revision(), "cpus": os.cpu_count(),
                   "at": dt.datetime.now().isoformat(timespec="seconds")})
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
