"""No subcommand of `antrian` ends in a traceback on bad input: every one is run on a
missing file, an empty file, random bytes and a site that never opens, and answers
with a short reason and a non-zero exit (or does its job, where a closed site is no
obstacle)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BUTON = ROOT / "examples" / "buton.yaml"


def antrian(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, GPIOZERO_PIN_FACTORY="mock", KIVY_NO_ARGS="1")
    return subprocess.run([sys.executable, "-m", "antrian.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    empty = folder / "empty.yaml"
    empty.write_text("")
    noise = folder / "noise.yaml"
    noise.write_bytes(bytes(range(256)) * 8)
    site = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    site["schedules"] = {name: {} for name in site["schedules"]}  # no opening hours on any day
    closed = folder / "closed.yaml"
    closed.write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    return {"missing": folder / "tidak-ada.yaml", "empty": empty, "noise": noise, "closed": closed}


# Every subcommand, with the arguments it needs besides its site file ({site}).
COMMANDS = {
    "check-config": ["check-config", "{site}"],
    "dispatcher": ["dispatcher", "--config", "{site}", "--db", "{tmp}/x.db"],
    "up": ["up", "--config", "{site}", "--data-dir", "{tmp}/var"],
    "morning": ["morning", "--config", "{site}", "--out", "{tmp}/morning"],
    "panel": ["panel", "--config", "{site}", "--device", "panel1"],
    "display": ["display", "--config", "{site}", "--device", "board1"],
    "kiosk": ["kiosk", "--config", "{site}", "--device", "kiosk1"],
    "say": ["say", "--config", "{site}", "A-001", "loket1", "--wav", "{tmp}/a.wav"],
    "ticket": ["ticket", "--config", "{site}", "--service", "KTP", "--png", "{tmp}/t.png"],
    "report": ["report", "--config", "{site}", "--db", "{tmp}/none.db", "--out", "{tmp}/laporan"],
    "simulate": ["simulate", "--config", "{site}", "--out", "{tmp}/sim", "--no-charts"],
    "dashboard": ["dashboard", "--config", "{site}", "--users", "{tmp}/users"],
    "broker-files": ["broker-files", "--config", "{site}", "--out", "{tmp}/creds"],
}
# On a site that never opens these still do their job (a closed site is no obstacle);
# the long-running services are left out of that case: they would start and wait.
WORKS_WHEN_CLOSED = {"check-config", "say", "ticket", "broker-files"}
SERVICES = {"dispatcher", "up", "morning", "panel", "display", "kiosk", "dashboard"}


def one_line_refusal(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode not in (0, -9), (proc.returncode, proc.stderr)
    assert proc.stderr.strip(), "a refusal says why"


def expand(args: list[str], site: Path, tmp: Path) -> list[str]:
    return [a.format(site=site, tmp=tmp) for a in args]


@pytest.mark.parametrize("shape", ["missing", "empty", "noise"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_bad_site_file_is_one_clear_line(command, shape, files, tmp_path):
    proc = antrian(*expand(COMMANDS[command], files[shape], tmp_path), cwd=tmp_path)
    one_line_refusal(proc)
    assert str(files[shape]) in proc.stderr  # names the file at fault


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - SERVICES))
def test_a_site_that_never_opens(command, files, tmp_path):
    proc = antrian(*expand(COMMANDS[command], files["closed"], tmp_path), cwd=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr
    if command in WORKS_WHEN_CLOSED:
        assert proc.returncode == 0, proc.stderr
    else:
        one_line_refusal(proc)
        assert len(proc.stderr.strip().splitlines()) <= 3, proc.stderr


def test_web_user_on_a_users_file_of_random_bytes(tmp_path):
    users = tmp_path / "users"
    users.write_bytes(bytes(range(256)) * 4)
    proc = subprocess.run([sys.executable, "-m", "antrian.cli", "web-user", "--users", str(users), "add", "kepala",
                           "--role", "kepala"],
                          input="rahasia-sekali\n", capture_output=True, text=True, timeout=60, cwd=tmp_path)
    one_line_refusal(proc)
