"""bench/kiosk.py still runs: a smoke run of the kiosk benchmark (--quick), figures sane."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT
from antrian.slow import scaled


def test_kiosk_bench_quick(tmp_path):
    out = tmp_path / "kiosk.json"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "kiosk.py"), "--quick", "--json", str(out)],
                            capture_output=True, text=True, cwd=ROOT, timeout=scaled(180))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "confirm tap -> last byte at the printer" in result.stdout
    figures = json.loads(out.read_text())
    assert figures["tickets"] == 2
    assert 0 < figures["total_ms"]["p50"] <= figures["total_ms"]["p99"] <= figures["total_ms"]["max"]
    assert figures["rss_kb"]["start"] > 0 and figures["rss_kb"]["peak"] >= figures["rss_kb"]["end"]
    assert figures["ticket_bytes"] > 500
