"""The layers of docs/architecture.md, checked: the core imports no wing and no device
or web library (not even inside a function), and the wings are independent."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from antrian import wings

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
WINGS = ("kiosk", "display", "hardware", "mall", "web")
DEVICE_LIBS = ("kivy", "gpiozero", "escpos", "pyttsx3", "lgpio", "luma", "starlette", "fastapi",
               "uvicorn", "jinja2", "sse_starlette", "selenium")


def _lint(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)


def test_contracts_pass():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_contract_catches_a_wrong_import(tmp_path):
    for package in ("antrian", "kiosk", "display", "hardware", "mall"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    engine = tmp_path / "antrian" / "queue" / "engine.py"
    engine.write_text(engine.read_text() + "\nimport kiosk.app  # deliberately wrong\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    # grimp finds the packages through sys.path: make sure it is the copy it analyses
    where = subprocess.run([sys.executable, "-c", "import antrian; print(antrian.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(tmp_path)), where.stdout
    result = _lint(tmp_path, env)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "the core imports no wing and no device or web library BROKEN" in out, out
    assert "antrian.queue.engine" in out, out


def test_building_the_parser_imports_no_device_library():
    code = ("import sys, antrian.cli\n"
            "antrian.cli.build_parser()\n"
            "bad = [m for m in ('kivy', 'gpiozero', 'escpos', 'pyttsx3', 'starlette', 'fastapi')"
            " if m in sys.modules]\n"
            "print(bad)\n"
            "sys.exit(1 if bad else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


IMPORT = re.compile(r"^\s*(?:from\s+(?P<from>[\w.]+)\s+import\b|import\s+(?P<names>[\w.,\s]+))",
                    re.MULTILINE)


def test_no_core_file_imports_a_wing_or_device_library():
    forbidden = set(WINGS) | set(DEVICE_LIBS)
    found = []
    for path in sorted((ROOT / "antrian").rglob("*.py")):
        for match in IMPORT.finditer(path.read_text()):
            names = [match["from"]] if match["from"] else [
                n.split(" as ")[0].strip() for n in match["names"].split(",")]
            for name in names:
                if name.split(".")[0] in forbidden:
                    line = path.read_text().count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert not found, "\n".join(found)


def test_registry_knows_the_roles():
    roles = wings.registry().roles
    for role in ("dispatcher", "display", "kiosk", "panel"):
        assert role in roles, sorted(roles)


def test_a_missing_wing_is_recorded_and_the_others_still_load():
    real = list(metadata.entry_points(group=wings.GROUP))
    ghost = metadata.EntryPoint(name="ghost", value="no_such_module.wing:WING", group=wings.GROUP)
    registry = wings.Registry([*real, ghost], builtin=(wings.CORE,))
    assert "ghost" in registry.broken
    assert "ghost" in registry.missing()
    assert {"core", "kiosk", "display", "hardware", "mall"} <= set(registry.wings)
    assert "dispatcher" in registry.roles
