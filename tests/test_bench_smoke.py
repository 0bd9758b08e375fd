"""The benches run end to end in a tiny mode: bench/dispatch.py --quick (broker, dispatcher process, all
three sections), bench/web.py --quick (both web apps as processes, SSE clients, Chromium) and
bench/booking.py --quick (the public app's /reservasi, a rush of a few citizens)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_dispatch_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "dispatch.py"), "--quick", "--json", str(out), "--dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    for section in ("(a) durable tickets issued", "(b) counter call_next published -> board",
                    "(c) dispatcher memory"):
        assert section in proc.stdout, proc.stdout
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["problems"] == []
    assert figures["a"]["sequential"]["ok"] == figures["a"]["sequential"]["sent"] > 0
    assert figures["b"]["measured"] == figures["b"]["calls"]
    assert figures["c"]["final"]["rss_mb"] > 0


def test_web_bench_quick(tmp_path: Path) -> None:
    """bench/web.py --quick: the dispatcher, both web apps as processes, SSE clients, Chromium."""
    out = tmp_path / "web.json"
    browser = all(os.access(p, os.X_OK) for p in ("/usr/bin/chromium", "/usr/bin/chromedriver"))
    parts = "boards,citizens" + (",dom" if browser else "")  # (a) needs Debian's chromium and chromium-driver
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "web.py"), "--quick", "--parts", parts, "--json",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    run = json.loads(out.read_text(encoding="utf-8"))["runs"][0]
    assert run["problems"] == []
    for part in ("boards", "citizens"):
        assert run[part]["connected"] == run[part]["clients"] > 0, part
        assert run[part]["missing"] == 0 and run[part]["deliveries"]["n"] == run[part]["clients"] * run[part]["calls"]
        assert run[part]["memory"]["rss_mb"] > 0
    if browser:
        assert run["dom"]["measured"] == run["dom"]["calls"] and run["dom"]["not_shown"] == 0
    assert ("(a) Call published -> #nomor in Chromium" in proc.stdout) == browser
    assert "(c) RSS of the public app" in proc.stdout


def test_booking_bench_quick(tmp_path: Path) -> None:
    """bench/booking.py --quick: 60 citizens through the public app's /reservasi to the
    dispatcher, fewer places than citizens; nothing over-booked, every code shown stored."""
    out = tmp_path / "booking.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "booking.py"), "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    run = json.loads(out.read_text(encoding="utf-8"))["run"]
    assert run["problems"] == [] and run["error_count"] == 0
    assert 0 < run["booked"] == run["book"]["stored"] <= sum(run["book"]["places"].values())
    assert run["refusals"]  # more citizens than places: some were told so
    assert run["book"]["over"] == [] and run["book"]["shown_not_stored"] == 0
    assert run["outcomes"]["booked"] + sum(v for k, v in run["outcomes"].items() if k != "booked") == run["citizens"]
    assert "booking POST (phone's view): p50" in proc.stdout
