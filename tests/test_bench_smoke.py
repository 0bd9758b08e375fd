"""bench/dispatch.py --quick runs end to end: broker, dispatcher process, all three sections."""

from __future__ import annotations

import json
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
