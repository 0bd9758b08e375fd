"""150 logins at once to the staff web app: what they do to its memory.

    python bench/web_login.py                 # the app as shipped (web/auth.py's hash gate)
    python bench/web_login.py --slots 40      # the gate opened to 40 hashes at once, the
                                              # size of Starlette's own thread pool: what a
                                              # login hashed with run_in_threadpool would do

A real `antrian web` process (the staff app) on a test broker, a users file made by
`antrian web-user` (argon2id at its real cost: 64 MiB, 3 passes, 4 lanes). Each of the
CLIENTS logins comes from its own loopback address (127.0.x.y) with its own user name,
so neither throttle stops it and every one reaches the password hash; they get the
login form (token and form cookie) first, then all post at the same moment. Printed:
the process's RSS before, its peak (VmHWM) and after, how many got each status, and
how long the burst took. Nothing is asserted: the figures go in docs/benchmarks-web.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import yaml
from benchlib import ROOT, open_buton, scaled  # noqa: E402
from dispatch import proc_status  # noqa: E402

from antrian.adapters.mosquitto import LocalBroker, free_port  # noqa: E402

CLIENTS = 150
PASSWORD = "kata-sandi-bench"
# Starts the app with the gate's size set from the command line (only for --slots).
LAUNCH = ("import sys, web.auth as a; a.HASH_SLOTS = int(sys.argv[1]); a.HASH_QUEUE = int(sys.argv[2]); "
          "from antrian.cli.main import main; sys.exit(main(sys.argv[3:]))")


def source(i: int) -> str:
    return f"127.0.{10 + i // 250}.{1 + i % 250}"


def request(port: int, src: str, method: str, path: str, body: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, http.client.HTTPResponse, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(120), source_address=(src, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--slots", type=int, help="hashes at once (default: web/auth.py's HASH_SLOTS)")
    parser.add_argument("--queue", type=int, default=0, help="with --slots: logins waiting for a slot")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="antrian-web-login-") as tmp:
        tmp_path = Path(tmp)
        raw = open_buton()
        for d in raw["devices"]:
            if d.get("role") == "web":
                d.pop("listen", None)
                d.pop("users", None)
        site = tmp_path / "site.yaml"
        site.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
        users = tmp_path / "web-users"
        subprocess.run([sys.executable, "-m", "antrian.cli", "web-user", "--users", str(users), "add", "kepala",
                        "--role", "kepala"], input=PASSWORD + "\n", text=True, check=True, cwd=ROOT,
                       capture_output=True)
        broker = LocalBroker(data_dir=tmp_path / "broker")
        broker.start()
        port = free_port()
        cli = ["web", "--config", str(site), "--device", "web1", "--broker", broker.address, "--listen",
               f"127.0.0.1:{port}", "--users", str(users)]
        if args.slots:
            command = [sys.executable, "-c", LAUNCH, str(args.slots), str(args.queue), *cli]
        else:
            command = [sys.executable, "-m", "antrian.cli", *cli]
        log = (tmp_path / "web.log").open("wb")
        proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + scaled(30)
            while True:
                try:
                    status, _, body = request(port, "127.0.0.1", "GET", "/sehat")
                    if status == 200 and json.loads(body).get("broker"):
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"antrian web did not start:\n{(tmp_path / 'web.log').read_text()[-2000:]}")
                time.sleep(0.1)
            return burst(proc.pid, port, args)
        finally:
            proc.terminate()
            proc.wait(scaled(15))
            log.close()
            broker.stop()


def burst(pid: int, port: int, args: argparse.Namespace) -> int:
    started = proc_status(pid)["VmRSS"] / 1024
    forms = []
    for i in range(args.clients):
        _, resp, body = request(port, source(i), "GET", "/masuk")
        cookie = resp.headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
        forms.append((cookie, token))
    # One login of an unknown name first (the hash that such names are checked against
    # is made then), so "before" is a warm app.
    cookie, token = forms[0]
    request(port, source(0), "POST", "/masuk", urlencode({"csrf": token, "nama": "pemanasan", "sandi": PASSWORD}),
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
             "Origin": f"http://127.0.0.1:{port}", "Host": f"127.0.0.1:{port}"})
    time.sleep(1)
    before = proc_status(pid)
    results: list[int] = [0] * args.clients
    ready = threading.Barrier(args.clients + 1)

    def login(i: int) -> None:
        cookie, token = forms[i]
        body = urlencode({"csrf": token, "nama": f"tamu{i}", "sandi": "tebakan-salah"})
        head = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                "Origin": f"http://127.0.0.1:{port}", "Host": f"127.0.0.1:{port}"}
        ready.wait()
        try:
            results[i] = request(port, source(i), "POST", "/masuk", body, head)[0]
        except OSError:
            results[i] = -1

    threads = [threading.Thread(target=login, args=(i,)) for i in range(args.clients)]
    for t in threads:
        t.start()
    peak = 0
    ready.wait()
    t0 = time.monotonic()
    while any(t.is_alive() for t in threads):
        peak = max(peak, proc_status(pid)["VmRSS"])
        time.sleep(0.005)
    took = time.monotonic() - t0
    time.sleep(2)
    after = proc_status(pid)
    counts = {code: results.count(code) for code in sorted(set(results))}
    gate = f"{args.slots} hashes at once, {args.queue} waiting" if args.slots else "as shipped (web/auth.py)"
    print(f"antrian web (staff app), {args.clients} logins at once, argon2id 64 MiB t=3 p=4, gate {gate}")
    print(f"  RSS at start {started:.0f} MB, warm before the burst {before['VmRSS'] / 1024:.0f} MB")
    print(f"  peak RSS during the burst {max(peak, after['VmHWM']) / 1024:.0f} MB (VmHWM, sampled every 5 ms), "
          f"{after['VmRSS'] / 1024:.0f} MB 2 s after")
    print(f"  answers: {', '.join(f'{n} x {code}' for code, n in counts.items())} in {took:.1f} s "
          f"(401: hashed and wrong; 503: busy, not hashed; 429: throttled)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
