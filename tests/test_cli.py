"""The `antrian` command as a technician meets it: exit codes, one-line reasons, clean stops."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from antrian.adapters.mosquitto import free_port
from conftest import BUTON, ROOT


def antrian(*args: str, timeout: float = 30, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "antrian.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=kw.pop("cwd", ROOT), **kw)


def test_check_config_prints_a_summary_of_a_valid_file():
    result = antrian("check-config", str(BUTON))
    assert result.returncode == 0, result.stderr
    assert f"{BUTON}: OK" in result.stdout
    assert "Asia/Makassar" in result.stdout
    assert "Disdukcapil" in result.stdout and "counters  9" in result.stdout


def test_check_config_lists_every_problem_and_exits_non_zero(tmp_path: Path):
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    raw["counters"][2]["services"][0] = "KTX"
    raw["agencies"][0]["services"][0]["qouta"] = 10
    raw["site"]["timezone"] = "Asia/Bandung"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    result = antrian("check-config", str(broken))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert f"{broken}: counters[2].services[0]: unknown service 'KTX'" in lines
    assert any(line.startswith(f"{broken}: agencies[0].services[0].qouta: unknown key") for line in lines)
    assert any(line.startswith(f"{broken}: site.timezone: unknown time zone 'Asia/Bandung'") for line in lines)
    assert lines[-1] == f"3 problem(s) found in {broken}"
    assert "Traceback" not in result.stderr


def test_a_missing_site_file_is_one_line(tmp_path: Path):
    result = antrian("check-config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "cannot read the file" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_broker_address_is_one_line():
    result = antrian("dispatcher", "--config", str(BUTON), "--broker", "localhost:port")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("antrian dispatcher: --broker: bad broker address")


def test_up_runs_broker_and_dispatcher_and_stops_cleanly_on_ctrl_c(tmp_path: Path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "antrian.cli", "up", "--config", str(BUTON), "--port", str(port),
                             "--data-dir", str(tmp_path / "var")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        first = proc.stdout.readline()
        assert "is running" in first, proc.stderr.read() if proc.poll() is not None else first
        board = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", "antrian/buton/board",
                                "-C", "1", "-W", "10"], capture_output=True, text=True, timeout=15)
        assert board.returncode == 0, board.stderr
        assert json.loads(board.stdout)["counters"][0]["name"] == "Loket 1"
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Stopped." in out
    assert (tmp_path / "var" / "buton.db").exists()
    # Nothing left running: no mosquitto on that data dir, nothing listening on the port.
    left = subprocess.run(["pgrep", "-f", str(tmp_path / "var")], capture_output=True, text=True)
    assert left.stdout == "", f"still running: {left.stdout}"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_always_open_ignores_hours_and_holidays_but_keeps_quotas():
    import datetime as dt

    from antrian.site import load
    from antrian.queue.engine import Engine

    config = load(BUTON)
    sunday_night = dt.datetime(2026, 12, 27, 2, 0, tzinfo=config.tz)
    christmas = dt.datetime(2026, 12, 25, 10, 0, tzinfo=config.tz)
    assert Engine(config).catalog(sunday_night)["agencies"][0]["services"][0]["open"] is False
    opened = config.always_open()
    for when in (sunday_night, christmas):
        assert all(s["open"] for a in Engine(opened).catalog(when)["agencies"] for s in a["services"])
    assert opened.services["KTP"].quota == config.services["KTP"].quota
