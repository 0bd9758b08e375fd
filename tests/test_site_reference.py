"""docs/site-file.md is the schemas written out (antrian/site/reference.py): the committed
file is what the documented command writes now, and every key it lists is described,
with an example that the site file's own check accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from antrian import wings
from antrian.site import reference
from antrian.site.reader import parse_yaml
from antrian.site.schema import Field, ListOf, MapOf, Problems, Section, Tagged, check
from antrian.site.sections import TOP

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "site-file.md"


def test_the_committed_reference_is_what_the_schemas_say():
    # The command the file's header gives, run as a technician would run it.
    command = reference.COMMAND.split(" > ")[0].split()
    assert command[:2] == ["python", "-m"]
    result = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == DOC.read_text(encoding="utf-8"), (
        f"docs/site-file.md is stale: run `{reference.COMMAND}` and commit it")


def _fields(section: Section, path: str) -> Iterator[tuple[str, Field]]:
    groups = [section.fields] + (list(section.variants.values()) if isinstance(section, Tagged) else [])
    for fields in groups:
        for key, field in fields.items():
            yield f"{path}.{key}", field
            inner = field.kind.item if isinstance(field.kind, ListOf) else (
                field.kind.values if isinstance(field.kind, MapOf) else field.kind)
            if isinstance(inner, Section):
                yield from _fields(inner, f"{path}.{key}")


def every_field() -> list[tuple[str, Field]]:
    found = list(_fields(TOP, "(top)"))
    for name, role in wings.registry().roles.items():
        if role.schema is not None:
            found += list(_fields(role.schema, f"(role {name})"))
    return found


FIELDS = every_field()


def test_the_schemas_reach_every_role_and_many_keys():
    paths = [p for p, _ in FIELDS]
    for role in ("display", "kiosk", "panel"):
        assert any(p.startswith(f"(role {role})") for p in paths), role
    assert "(top).agencies.services.quota" in paths and "(role kiosk).printer.vendor_id" in paths
    assert len(paths) > 100


@pytest.mark.parametrize("path, field", FIELDS, ids=[p for p, _ in FIELDS])
def test_every_key_is_described_and_its_example_is_accepted(path, field):
    assert field.description.strip(), path
    if isinstance(field.kind, (Section, ListOf, MapOf)) and field.example is None:
        return  # a section, or a list of sections: their own keys carry the examples
    assert field.example is not None, f"{path} has no example"
    # The example as the reference writes it, read back as the site file is read.
    written = reference.yaml_value(field.kind.show(field.example))
    value = parse_yaml(written, path)
    problems = Problems()
    check(field.kind, value, path, problems, {})
    assert problems == [], (written, problems)


def test_the_reference_is_linked_from_the_readme_and_the_architecture():
    assert "(docs/site-file.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(site-file.md)" in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
