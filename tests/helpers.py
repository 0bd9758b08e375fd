"""Test helpers shared by the test files: an MQTT client that records what it receives
(through conftest.py), the engine's hand-clocked `Desk` (test_engine_*.py) and the fault
tests' field devices and checks (test_faults*.py).

Every timeout given to these helpers is in seconds on the reference machine; they scale
it to this one (antrian/slow.py, ANTRIAN_SLOW), so callers write the x86 figure."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import paho.mqtt.client as paho
import sites

from antrian import protocol
from antrian.adapters.mqtt import Connection, make_client
from antrian.queue.engine import Engine, Outcome, QueueError
from antrian.queue.events import DayStarted
from antrian.site import Config
from antrian.slow import scaled


@dataclass(frozen=True)
class Received:
    """One message as it arrived; an immutable copy, safe to keep across threads."""

    topic: str
    payload: bytes
    qos: int
    retain: bool

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.payload)


class Recorder:
    """A project client (antrian.adapters.mqtt) that subscribes to *topics* on every
    (re)connect and records every message, so a test can wait for one."""

    def __init__(self, client_id: str, *, topics: Iterable[str] = ("#",), qos: int = 1, **client_options: Any):
        self.topics = tuple(topics)
        self.qos = qos
        self.conn = Connection(make_client(client_id, **client_options))
        self._cond = threading.Condition()
        self._messages: list[Received] = []
        self._subacks = 0
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.conn.on_connected(self._subscribe)

    @property
    def client(self) -> paho.Client:
        return self.conn.client

    @property
    def messages(self) -> list[Received]:
        with self._cond:
            return list(self._messages)

    def start(self, host: str, port: int, timeout: float = 5.0) -> Recorder:
        """Connect and return once connected and subscribed."""
        self.conn.connect(host, port)
        if not self.conn.wait_connected(scaled(timeout)):
            raise AssertionError(f"{self.conn.client_id} not connected to {host}:{port} within {scaled(timeout):g} s")
        self.wait_subscribed(1, timeout)
        return self

    def wait_subscribed(self, count: int = 1, timeout: float = 5.0) -> None:
        """Wait until the broker has acknowledged *count* subscriptions (one per connect)."""
        if not self.topics:
            return
        with self._cond:
            if not self._cond.wait_for(lambda: self._subacks >= count, scaled(timeout)):
                raise AssertionError(f"{self.conn.client_id}: {self._subacks} of {count} SUBACKs "
                                     f"within {scaled(timeout):g} s")

    def wait_for(
        self,
        topic: str,
        predicate: Callable[[Received], bool] | None = None,
        timeout: float = 5.0,
    ) -> Received:
        """Return the first message, already received or arriving within *timeout*,
        whose topic matches *topic* (MQTT wildcards allowed) and *predicate*."""

        def find() -> Received | None:
            for message in self._messages:
                if paho.topic_matches_sub(topic, message.topic) and (predicate is None or predicate(message)):
                    return message
            return None

        with self._cond:
            found = self._cond.wait_for(find, scaled(timeout))
            if found is None:
                seen = sorted({m.topic for m in self._messages})
                raise AssertionError(f"no message on {topic!r} within {scaled(timeout):g} s; topics seen: {seen}")
            return found

    def publish_json(self, topic: str, obj: Any, retain: bool = False, qos: int = 1) -> paho.MQTTMessageInfo:
        return self.conn.publish_json(topic, obj, retain=retain, qos=qos)

    def close(self) -> None:
        self.conn.close()

    def _subscribe(self, client: paho.Client) -> None:
        if self.topics:
            client.subscribe([(topic, self.qos) for topic in self.topics])

    def _on_subscribe(self, client: paho.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        with self._cond:
            self._subacks += 1
            self._cond.notify_all()

    def _on_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        received = Received(message.topic, bytes(message.payload), message.qos, bool(message.retain))
        with self._cond:
            self._messages.append(received)
            self._cond.notify_all()


# -- the engine with a hand-moved clock (test_engine_*.py) ----------------------------

UTC = dt.timezone.utc
MONDAY = dt.date(2026, 11, 16)  # 16-20 Nov 2026 is Monday-Friday


def local(tz: str, day: dt.date = MONDAY, hour: int = 8, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))


class Desk:
    """An engine with a controlled clock; every step opens the business day if the clock
    has passed midnight, then decides and applies, like the dispatcher."""

    def __init__(self, config: Config, now: dt.datetime | None = None):
        self.engine = Engine(config)
        self.now = now or local(config.site.timezone)
        self.events: list = []

    def wait(self, minutes: float) -> None:
        self.now += dt.timedelta(minutes=minutes)

    def open_day(self) -> None:
        """The dispatcher's simple rule: a local date after the engine's day opens it."""
        today = self.now.astimezone(self.engine.tz).date()
        if self.engine.day is None or today > self.engine.day:
            opened = DayStarted(at=self.now, day=today)
            self.engine.apply(opened)
            self.events.append(opened)

    def run(self, decide: Callable[[], Outcome]) -> Outcome | str:
        """Apply what `decide` returns; the outcome, or the error code when it is refused."""
        self.open_day()
        try:
            outcome = decide()
        except QueueError as exc:
            return exc.code
        self.engine.apply_all(outcome.events)
        self.events.extend(outcome.events)
        return outcome

    def issue(self, svc: str = "A", priority: str | None = None) -> str:
        """The new ticket's number, or the error code."""
        out = self.run(lambda: self.engine.issue(svc, priority, self.now))
        return out if isinstance(out, str) else out.ticket

    def issue_many(self, n: int, svc: str = "A", priority: str | None = None) -> list[str]:
        return [self.issue(svc, priority) for _ in range(n)]

    def do(self, counter_id: str, action: str, **args: Any) -> Outcome | str:
        return self.run(lambda: self.engine.command(counter_id, action, args, self.now))

    def call(self, counter_id: str, action: str = "call_next", **args: Any) -> str | None:
        """The ticket number the command answers with, or its error code (also one that came with events)."""
        out = self.do(counter_id, action, **args)
        if isinstance(out, str):
            return out
        return out.error.code if out.error else out.ticket

    def calls(self, counter_id: str, n: int) -> list[str | None]:
        return [self.call(counter_id) for _ in range(n)]

    # views
    def ticket(self, number: str) -> dict[str, Any]:
        return self.engine.ticket(number)

    def state(self, counter_id: str) -> dict[str, Any]:
        return self.engine.counter_state(counter_id, self.now)

    def board(self) -> dict[str, Any]:
        return self.engine.board(self.now)


def kinds(outcome: Outcome) -> list[str]:
    return [e.kind for e in outcome.events]


def snapshot(engine: Engine, now: dt.datetime) -> dict[str, Any]:
    """Every view of the engine, to compare two engines or one engine before and after."""
    return {
        "seq": engine.last_seq,
        "board": engine.board(now),
        "counters": {c: engine.counter_state(c, now) for c in engine.config.counters},
        "tickets": {n: engine.ticket(n) for n in engine.tickets},
        "catalog": engine.catalog(now),
    }


def two_services(**queue: Any) -> Config:
    """A and B with a counter each, a counter for both, and a second A counter."""
    counters = [sites.counter("ca", "A"), sites.counter("ca2", "A"), sites.counter("cb", "B"),
                sites.counter("cab", "A", "B")]
    return sites.site(services=[sites.service("A"), sites.service("B")], counters=counters, queue=queue or None)


# -- the fault tests' field devices and checks (test_faults*.py) -----------------------

SITE = "buton"
ROOT = Path(__file__).resolve().parent.parent
PREFIX = {"KTP": "A", "KK": "B", "AKTA": "C", "PINDAH": "D", "KIA": "E", "TAB": "F", "BAYAR": "G", "PBB": "H",
          "BPHTB": "J", "NIB": "K", "PBG": "L", "IZIN": "M"}
COUNTERS = [f"loket{i}" for i in range(1, 9)]  # loket8 is closed at the start of the day
STATUS = protocol.status(SITE, "dispatcher")


class Endpoint:
    """A kiosk or a counter panel as the field has them: it publishes a message and
    waits for the reply with that id, and after `retry` seconds without one publishes
    the *same* message again, until a reply comes. Every reply is kept by id (late
    duplicates included) as raw bytes, so a test can check they are all identical.

    `client`: a client made elsewhere (a device's own, with its broker user: see
    test_faults_load.py); `reply_topics`: more reply topics, for a panel that serves
    several counters and names the topic per `ask`."""

    def __init__(self, name: str, topic: str, reply_topic: str, host: str, port: int, *, client=None,
                 reply_topics: tuple[str, ...] = ()):
        self.topic, self.reply_topic = topic, reply_topic
        self.conn = Connection(client or make_client(f"{name}-{uuid.uuid4().hex[:8]}"))
        self.cond = threading.Condition()
        self.replies: dict[Any, list[bytes]] = collections.defaultdict(list)
        self.publishes = 0
        self._subscribed = threading.Event()
        self.conn.client.on_message = self._on_message
        self.conn.client.on_subscribe = lambda *a: self._subscribed.set()
        self.conn.on_connected(lambda c: c.subscribe([(t, 1) for t in (reply_topic, *reply_topics)]))
        self.conn.connect(host, port)
        assert self.conn.wait_connected(scaled(5)) and self._subscribed.wait(scaled(5)), f"{name} did not connect"

    def _on_message(self, client, userdata, msg) -> None:
        try:
            mid = json.loads(msg.payload).get("id")
        except ValueError:
            mid = "<not json>"
        with self.cond:
            self.replies[mid].append(bytes(msg.payload))
            self.cond.notify_all()

    def ask(self, obj: dict[str, Any], retry: float = 1.0, give_up: float = 25.0,
            topic: str | None = None) -> dict[str, Any]:
        """Publish until a reply to obj["id"] arrives and return it (replies that were
        there before this call, e.g. an `internal` one being retried, are skipped)."""
        payload, mid = protocol.encode(obj), obj["id"]
        give_up = scaled(give_up)
        deadline = time.monotonic() + give_up
        with self.cond:
            earlier = len(self.replies[mid])
        while True:
            # Publish without holding the condition: paho runs on_message under its own
            # callback lock, which publish() may need too.
            self.conn.client.publish(topic or self.topic, payload, qos=1)
            self.publishes += 1
            with self.cond:
                if self.cond.wait_for(lambda: len(self.replies[mid]) > earlier, retry):
                    return json.loads(self.replies[mid][earlier])
            assert time.monotonic() < deadline, f"no reply to {mid!r} within {give_up} s"

    def close(self) -> None:
        self.conn.close()


class DispatcherProcess:
    """`antrian dispatcher` as a child process that can be killed with SIGKILL."""

    def __init__(self, site_file: Path, db: Path, address: str, log: Path):
        self.args = [sys.executable, "-m", "antrian.cli", "dispatcher", "--config", str(site_file),
                     "--db", str(db), "--broker", address]
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log, "ab") as log:
            log.write(f"==== start {self.starts}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(scaled(5)) == -signal.SIGKILL

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(scaled(10))

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(scaled(5))


def rows(db: Path, sql: str, *args: Any) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def settle(rec) -> None:
    """Wait until the in-process dispatcher has handled all earlier messages: it applies
    them in order, so the reply to a harmless bad message comes after all of theirs."""
    mid = uuid.uuid4().hex
    rec.client.publish(protocol.counter_command(SITE, "settle"), protocol.encode({"id": mid, "action": 0}), qos=1)
    rec.wait_for(protocol.counter_reply(SITE, "settle"), lambda m: m.json()["id"] == mid, timeout=30)


def wait_ready(rec) -> None:
    rec.wait_for(STATUS, lambda m: m.json().get("online") is True)
    rec.wait_for(protocol.board(SITE))


def assert_consecutive(issued: list[tuple[str, str, str]]) -> None:
    """(day, service, number) of every issued event: per day and service 001, 002, ... with no gap."""
    seen = collections.Counter((day, number) for day, _, number in issued)
    assert not [k for k, n in seen.items() if n > 1], "a number was issued twice"
    per: dict[tuple[str, str], list[int]] = collections.defaultdict(list)
    for day, service, number in issued:
        prefix, n = number.split("-")
        assert prefix == PREFIX[service], (service, number)
        per[day, service].append(int(n))
    for key, numbers in per.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"{key}: gap or duplicate in {sorted(numbers)}"
