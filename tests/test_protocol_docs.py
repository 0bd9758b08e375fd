"""docs/protocol.md is executable: every ```sh block runs, in order, against a live dispatcher.

The blocks talk to the `./mpp start` broker on 127.0.0.1:11883; here that port (and nothing
else) is replaced with the test broker's. A ```json block that follows a ```sh block (with no
heading in between) is the output the doc promises: the block's output must have the same
shape -- the same keys, the same values except clock- and release-dependent ones, which
only keep their type. A list in the doc may be shorter than the real one only where the prose
says the example is shortened.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from antrian import protocol
from antrian.protocol import ACTIONS

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"
SITE = "buton"
DOC_ADDRESS = "-h 127.0.0.1 -p 11883"
DOC_PORT = "11883"
BLOCK_TIMEOUT = 10.0
NUMBER = re.compile(r"^[A-Z]{1,2}-\d{3,4}$")
# The booking examples are for tomorrow in the site's zone, written as this day in the doc;
# a booking code in the doc stands for any code of that form (codes are random).
DOC_DAY = "2026-11-24"
BOOKING_CODE = re.compile(r"^RSV-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z*~$=]$")
# Values that depend on the clock, the release or the catalog's 5 s throttle: type only
# (a ticket's link holds its business day).
VOLATILE = {"issued_at", "business_day", "updated_at", "at", "version", "quota_left", "link"}
FENCE = re.compile(r"^```([\w-]*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
TOPIC_ARG = re.compile(r"(?:^|\s)-t\s+(\S+)")
MESSAGE_ARG = re.compile(r"(?:^|\s)-m\s+'([^']*)'")


@dataclasses.dataclass(frozen=True)
class Block:
    lang: str
    body: str
    line: int
    before: str  # the document text between the previous fenced block and this one


@dataclasses.dataclass(frozen=True)
class Example:
    """A runnable ```sh block and the output the doc shows for it (None if none)."""

    script: str
    line: int
    expected: Any
    shortened: bool

    @property
    def flat(self) -> str:
        return self.script.replace("\\\n", " ")

    @property
    def published(self) -> list[tuple[str, str]]:
        """(topic, payload) of each mosquitto_pub -m in the block."""
        found = []
        for command in self.flat.splitlines():
            if command.strip().startswith("mosquitto_pub"):
                topic, message = TOPIC_ARG.search(command), MESSAGE_ARG.search(command)
                if topic and message:
                    found.append((topic.group(1), message.group(1)))
        return found

    @property
    def topics(self) -> list[str]:
        return [t for command in self.flat.splitlines() if command.strip().startswith("mosquitto_")
                for t in TOPIC_ARG.findall(command)]


def blocks(text: str) -> list[Block]:
    found, end = [], 0
    for m in FENCE.finditer(text):
        found.append(Block(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1, text[end:m.start()]))
        end = m.end()
    return found


def examples(text: str) -> list[Example]:
    all_blocks = blocks(text)
    found = []
    for i, block in enumerate(all_blocks):
        if block.lang != "sh":
            continue
        after = all_blocks[i + 1] if i + 1 < len(all_blocks) else None
        output = after if after is not None and after.lang == "json" and not re.search(
            r"^#", after.before, re.M) else None
        found.append(Example(block.body, block.line, json.loads(output.body) if output else None,
                             bool(output and "shortened" in output.before)))
    return found


def assert_shape(expected: Any, actual: Any, shortened: bool, path: str = "$") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: doc shows an object, got {actual!r}"
        assert set(actual) == set(expected), (
            f"{path}: only in the doc {sorted(set(expected) - set(actual))}, "
            f"only from the dispatcher {sorted(set(actual) - set(expected))}")
        for key, value in expected.items():
            if key in VOLATILE:
                assert type(actual[key]) is type(value), f"{path}.{key}: doc {value!r}, dispatcher {actual[key]!r}"
            else:
                assert_shape(value, actual[key], shortened, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: doc shows a list, got {actual!r}"
        if shortened:
            assert len(expected) <= len(actual), f"{path}: doc shows {len(expected)} items, dispatcher {len(actual)}"
        else:
            assert len(expected) == len(actual), f"{path}: doc shows {len(expected)} items, dispatcher {len(actual)}"
        for i, value in enumerate(expected):
            assert_shape(value, actual[i], shortened, f"{path}[{i}]")
    elif isinstance(expected, str) and BOOKING_CODE.match(expected):
        assert isinstance(actual, str) and BOOKING_CODE.match(actual), \
            f"{path}: doc {expected!r}, dispatcher {actual!r}"
    else:
        assert type(actual) is type(expected) and actual == expected, f"{path}: doc {expected!r}, dispatcher {actual!r}"


def run(script: str, line: int) -> subprocess.CompletedProcess:
    # A session of its own, so a timeout kills the block's background mosquitto_sub too.
    proc = subprocess.Popen(["bash", "-e", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=BLOCK_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"docs/protocol.md:{line}: block still running after {BLOCK_TIMEOUT} s\n"
                    f"stdout: {out}\nstderr: {err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_every_json_block_parses_and_every_command_uses_the_start_broker(doc):
    for block in blocks(doc):
        if block.lang == "json":
            json.loads(block.body)
    sh = examples(doc)
    assert sh, "no ```sh blocks in docs/protocol.md"
    for example in sh:
        for command in example.flat.splitlines():
            if command.strip().startswith(("mosquitto_pub", "mosquitto_sub")):
                assert DOC_ADDRESS in command, f"docs/protocol.md:{example.line}: {command.strip()}"
        waits = "mosquitto_sub" in example.script and "-C 1" in example.script
        assert waits == (example.expected is not None), (
            f"docs/protocol.md:{example.line}: a block that waits for a message shows its output in a "
            "```json block right after it, and only such a block does")


def test_the_doc_covers_the_whole_contract(doc):
    kinds = {protocol.parse_topic(SITE, t).kind for e in examples(doc) for t in e.topics
             if protocol.parse_topic(SITE, t)}
    assert kinds == {"kiosk_request", "kiosk_reply", "counter_command", "counter_reply", "counter_state",
                     "board", "call", "survey", "status", "catalog", "queue_list", "booking_request",
                     "booking_reply"}
    for action in ACTIONS:
        assert f"### {action}\n" in doc, action
        assert f'"action":"{action}"' in doc, f"no runnable example of {action}"
    for code in protocol.ERROR_CODES:
        assert f"| `{code}` |" in doc, code
    for name in ("kiosk/{kiosk}/request", "kiosk/{kiosk}/reply", "counter/{counter}/command",
                 "counter/{counter}/reply", "counter/{counter}/state", "board", "call", "survey/{device}",
                 "status/{device}", "catalog", "queue/{service}", "booking/{device}/request",
                 "booking/{device}/reply"):
        assert f"`antrian/{{site}}/{name}`" in doc, name


def test_the_doc_examples_run_in_order_against_a_live_dispatcher(doc, run_dispatcher, broker, mqtt_client,
                                                                  tmp_path):
    for tool in ("mosquitto_pub", "mosquitto_sub"):
        assert shutil.which(tool), f"{tool} not found: apt-get install mosquitto-clients"
    run_dispatcher()
    watcher = mqtt_client(topics=[f"antrian/{SITE}/#"])
    # The retained board comes after the dispatcher's subscriptions: it is ready.
    watcher.wait_for(protocol.board(SITE))

    first_replies: dict[tuple[str, str], str] = {}
    surveys = []
    tomorrow = (dt.datetime.now(ZoneInfo("Asia/Makassar")) + dt.timedelta(days=1)).date().isoformat()
    for example in examples(doc.replace(DOC_DAY, tomorrow)):
        where = f"docs/protocol.md:{example.line}"
        result = run(example.script.replace(DOC_PORT, str(broker.port)), example.line)
        assert result.returncode == 0, f"{where}: exit status {result.returncode}\n{result.stdout}\n{result.stderr}"
        published = example.published
        surveys += [json.loads(m) for t, m in published if protocol.parse_topic(SITE, t).kind == "survey"]
        if example.expected is None:
            continue
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"{where}: expected one message, got {result.stdout!r}"
        actual = json.loads(lines[0])
        assert_shape(example.expected, actual, example.shortened)
        if "ok" not in actual:
            continue
        # A reply: to the message just sent, with a well-formed ticket or error.
        (topic, message), = published
        try:
            sent_id = json.loads(message).get("id")
        except json.JSONDecodeError:
            sent_id = None
        assert actual["id"] == sent_id, where
        if actual["ok"] and "ticket" in actual:
            assert actual["ticket"] is None or NUMBER.match(actual["ticket"]["number"]), where
        elif actual["ok"]:  # a booking reply: slots, or a Booking
            assert "slots" in actual or BOOKING_CODE.match(actual["booking"]["code"]), where
        else:
            assert actual["error"]["code"] in protocol.ERROR_CODES and actual["error"]["message"], where
        if sent_id is not None:
            # Exactly once: a repeated id gets the first reply, byte for byte.
            first = first_replies.setdefault((topic, sent_id), lines[0])
            assert lines[0] == first, f"{where}: a repeated id got a different reply"

    # Calls were numbered 1, 2, 3, ... with no gap and no repeat.
    seqs = [m.json()["seq"] for m in watcher.messages if m.topic == protocol.call(SITE)]
    assert seqs == list(range(1, len(seqs) + 1)) and seqs
    # Every survey the doc sends was stored once.
    assert surveys
    rows = sqlite3.connect(tmp_path / "antrian.db").execute(
        "SELECT ticket, counter, score FROM surveys ORDER BY id").fetchall()
    assert rows == [(s["ticket"], s["counter"], s["score"]) for s in surveys]
