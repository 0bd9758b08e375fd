"""`antrian check-config` on hostile or mistaken site files (issue 12, item 8).

Each file is the Buton example with one thing done to it: an alias bomb, nesting deeper
than any site file needs, a key written twice, an alias that contains itself, a chain of
aliases that nests deep only once expanded, a file of several MB. check-config runs as a
child process, as a technician runs it: it must refuse with one line naming the file and
the place (and the count line after it), exit non-zero, show no traceback, and finish
well within a generous timeout (a guard against the minute-long blow-up of an alias bomb,
not a speed target). Ordinary anchors (a schedule reused by alias, a merge key) still work.
"""

from __future__ import annotations

import dataclasses
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from antrian.site import load
from antrian.site.reader import MAX_BYTES, MAX_DEPTH, parse_yaml
from antrian.errors import ConfigError
from conftest import BUTON, ROOT

TIMEOUT = 60  # seconds; each case takes well under one
# check-config needs about 25 MB of address space; a blow-up stops at this instead of
# taking the machine's memory (the bomb reached 4.7 GB in a minute before issue 12).
MEMORY = 512 * 1024 * 1024


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def check_config(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "antrian.cli", "check-config", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=TIMEOUT, preexec_fn=_limit_memory)


def refused(path: Path) -> str:
    """check-config's one problem line about `path` (asserting the rest of the contract)."""
    result = check_config(path)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert lines[1:] == [f"1 problem(s) found in {path}"], lines
    assert lines[0].startswith(f"{path}: "), lines[0]
    return lines[0]


def buton() -> str:
    return BUTON.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


# An option block of the dispatcher's device: options are kept as the device's own data,
# so before issue 12 the loader built every value of the expanded bomb.
DISPATCHER = "    role: dispatcher\n"


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path):
    lines = ['    lol_a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"    lol_{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    path = write(tmp_path, buton().replace(DISPATCHER, DISPATCHER + "\n".join(lines) + "\n", 1))
    line = refused(path)
    assert re.search(r": line \d+, column \d+: refused: the aliases expand to more than [\d,]+ values", line), line


def test_nesting_deeper_than_the_limit_is_refused_without_a_recursion_error(tmp_path):
    deep = "[" * 20_000 + "]" * 20_000
    text = buton().replace("  running_text: >-", f"  logo: {deep}\n  running_text: >-", 1)
    path = write(tmp_path, text)
    line = refused(path)
    assert f"line {line_of(text, '  logo: [')}, column" in line
    assert f"refused: nested deeper than {MAX_DEPTH} levels" in line


def test_nesting_deep_only_through_aliases_is_refused_too(tmp_path):
    # Each line nests one level in the text, but *n expands to n levels: a structure deep
    # enough to break whatever walks it after loading.
    chain = ["    chain_0: &c0 [x]"] + [f"    chain_{i}: &c{i} [*c{i - 1}]" for i in range(1, 400)]
    path = write(tmp_path, buton().replace(DISPATCHER, DISPATCHER + "\n".join(chain) + "\n", 1))
    line = refused(path)
    assert re.search(rf"refused: nested deeper than {MAX_DEPTH} levels through the alias \*c\d+", line), line


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    path = write(tmp_path, buton().replace(DISPATCHER, DISPATCHER + "    loop: &loop [1, *loop]\n", 1))
    line = refused(path)
    assert "refused: the alias *loop is used inside its own anchor &loop" in line


def test_a_key_written_twice_names_its_path_and_both_lines(tmp_path):
    text = buton()
    first = text.index("        quota: 60\n")
    text = text[:first] + "        quota: 60\n        quota: 5\n" + text[first + len("        quota: 60\n"):]
    path = write(tmp_path, text)
    line = refused(path)
    number = line_of(text, "        quota: 60\n")
    assert line == (f"{path}: line {number + 1}, column 9: refused: the key agencies[0].services[0].quota is written "
                    f"twice in one mapping (lines {number} and {number + 1}); YAML would silently keep only the last")


@pytest.mark.parametrize("text, path", [
    ("site: {id: a, id: b}\n", "site.id"),
    ("counters:\n  - id: loket1\n    services: [A]\n    id: loket2\n", "counters[0].id"),
    ("schedules:\n  reguler: {senin: [], senin: []}\n", "schedules.reguler.senin"),
    ("x: {1: a, 0x1: b}\n", "x.0x1"),  # one key as built, however it is written
    ("site: {}\nsite: {}\n", "site"),
])
def test_every_mapping_refuses_a_key_written_twice(text, path):
    with pytest.raises(ConfigError) as err:
        parse_yaml(text, "site.yaml")
    [(where, message)] = err.value.problems
    assert where.startswith("line ") and message.startswith(f"refused: the key {path} is written twice"), message


def test_a_file_of_several_megabytes_is_refused_unread(tmp_path):
    text = buton() + "\n" + "#" * 79 + "\n"
    path = write(tmp_path, text * (MAX_BYTES // len(text) + 1))
    size = path.stat().st_size
    line = refused(path)
    assert line == (f"{path}: the file is {size:,} bytes, more than the {MAX_BYTES:,} a YAML file of the project "
                    "may have (refused unread)")


def test_ordinary_anchors_aliases_and_merge_keys_still_work(tmp_path):
    # A schedule written once and reused by alias, another made from it with a merge key
    # that changes one day, a list of requirements reused: how a technician shortens a file.
    text = buton().replace("  reguler:\n", "  reguler: &week\n", 1)
    text = text.replace("\n  bank:\n", '\n  copy: *week\n  short:\n    <<: *week\n    sabtu: ["08:00-12:00"]\n'
                                       "\n  bank:\n", 1)
    text = text.replace("        requirements:\n", "        requirements: &papers\n", 1)
    path = write(tmp_path, text)
    config = load(path)
    assert dataclasses.replace(config.schedules["copy"], name="reguler") == config.schedules["reguler"]
    assert config.schedules["short"] != config.schedules["reguler"]
    result = check_config(path)
    assert result.returncode == 0 and result.stdout.startswith(f"{path}: OK"), result.stderr


def test_the_example_site_files_are_unchanged_by_the_limits():
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        parse_yaml(path.read_text(encoding="utf-8"), str(path))
    load(BUTON)
