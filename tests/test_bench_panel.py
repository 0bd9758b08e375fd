"""bench/panel.py --quick runs end to end: broker, dispatcher process, mock pins, figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_panel_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "panel.py"), "--quick", "--presses", "40", "--json", str(out),
         "--dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    assert "GPIO edge -> board" in proc.stdout and "median of 1 run(s)" in proc.stdout
    figures = json.loads(out.read_text(encoding="utf-8"))
    [run] = figures["runs"]
    assert run["presses"] == 40
    assert 0 < run["p50_ms"] <= run["p99_ms"] <= run["max_ms"]
    assert 0 < run["command_p50_ms"] <= run["p50_ms"]
    assert figures["median"]["p99_ms"] == run["p99_ms"]
