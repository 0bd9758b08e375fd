"""Fault tests: kill -9 in the middle of a stream, a thousand malformed messages, QoS 1
redeliveries and a database that stops taking writes. Each checks the promises of
DESIGN.md ("Failure rules", exactly once): what was acknowledged is stored once, no
number is issued twice or lost, and the dispatcher keeps serving."""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import sqlite3
import string
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from antrian import protocol
from antrian.adapters.mqtt import Connection, make_client

SITE = "buton"
ROOT = Path(__file__).resolve().parent.parent
PREFIX = {"KTP": "A", "KK": "B", "AKTA": "C", "PINDAH": "D", "KIA": "E", "TAB": "F", "BAYAR": "G", "PBB": "H",
          "BPHTB": "J", "NIB": "K", "PBG": "L", "IZIN": "M"}
COUNTERS = [f"loket{i}" for i in range(1, 9)]  # loket8 is closed at the start of the day
STATUS = protocol.status(SITE, "dispatcher")


# -- helpers -------------------------------------------------------------------------


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
        assert self.conn.wait_connected(5) and self._subscribed.wait(5), f"{name} did not connect"

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
        assert self.proc.wait(5) == -signal.SIGKILL

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(10)

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


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


# -- 1. kill -9 in the middle of a stream ------------------------------------------------


@pytest.mark.slow
def test_kill_9_mid_stream_loses_and_doubles_nothing(broker, mqtt_client, site_file, tmp_path):
    rng = random.Random(20261122)
    db = tmp_path / "antrian.db"
    watch = mqtt_client(topics=[protocol.call(SITE), STATUS])
    dispatcher = DispatcherProcess(site_file, db, broker.address, tmp_path / "dispatcher.log")
    endpoints: list[Endpoint] = []
    errors: list[BaseException] = []
    kiosks: dict[str, Endpoint] = {}
    counters: dict[str, Endpoint] = {}

    def guarded(fn):
        def run(*args):
            try:
                fn(*args)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)
                done.set()
        return run

    def endpoint(name, topic, reply_topic):
        ep = Endpoint(name, topic, reply_topic, broker.host, broker.port)
        endpoints.append(ep)
        return ep

    try:
        dispatcher.start()
        watch.wait_for(STATUS, lambda m: m.json().get("online") is True, timeout=10)

        # 400 requests over four services, within their daily quotas, shared by two kiosks.
        plan = ["KTP"] * 140 + ["BAYAR"] * 110 + ["KK"] * 75 + ["PBB"] * 75
        rng.shuffle(plan)
        for k in ("kiosk1", "kiosk2"):
            kiosks[k] = endpoint(k, protocol.kiosk_request(SITE, k), protocol.kiosk_reply(SITE, k))
        for c in ("loket2", "loket7"):  # KTP+KK and TAB+BAYAR
            counters[c] = endpoint(c, protocol.counter_command(SITE, c), protocol.counter_reply(SITE, c))
        acknowledged: dict[str, dict] = {}  # request id -> first reply
        presses: dict[str, dict] = {}  # command id -> first reply
        lock = threading.Lock()
        done = threading.Event()

        @guarded
        def kiosk(name, services, seed):
            krng = random.Random(seed)
            for i, service in enumerate(services):
                mid = f"{name}-{i:04d}"
                priority = krng.choice([None, None, None, None, "lansia", "ibu_hamil"])
                reply = kiosks[name].ask({"id": mid, "service": service, "priority": priority})
                with lock:
                    acknowledged[mid] = reply

        @guarded
        def counter(name, seed):
            crng = random.Random(seed)
            n = 0
            while not done.is_set():
                n += 1
                mid = f"{name}-{n:04d}"
                reply = counters[name].ask({"id": mid, "action": "call_next"})
                with lock:
                    presses[mid] = reply
                time.sleep(crng.uniform(0.005, 0.03))

        kills: list[int] = []  # index into watch.messages at each kill

        # Down for a moment each time, once for longer than a kiosk waits before it retries.
        downtimes = [rng.uniform(0.05, 0.3), rng.uniform(1.3, 1.8), rng.uniform(0.0, 0.1)]
        rng.shuffle(downtimes)

        @guarded
        def killer():
            for threshold, downtime in zip(sorted(rng.sample(range(40, 360), 3)), downtimes):
                while len(acknowledged) < threshold:
                    assert not done.is_set()
                    time.sleep(0.002)
                time.sleep(rng.uniform(0, 0.03))
                kills.append(len(watch.messages))
                dispatcher.kill()
                # Requests and retries pile up in the dispatcher's broker session meanwhile.
                time.sleep(downtime)
                dispatcher.start()

        threads = [threading.Thread(target=kiosk, args=("kiosk1", plan[0::2], 1)),
                   threading.Thread(target=kiosk, args=("kiosk2", plan[1::2], 2)),
                   threading.Thread(target=counter, args=("loket2", 3)),
                   threading.Thread(target=counter, args=("loket7", 4)),
                   threading.Thread(target=killer)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in (threads[4], threads[0], threads[1]):
            t.join(60)
        done.set()
        for t in threads:
            t.join(60)
        stream_seconds = time.monotonic() - started
        assert not errors, errors
        assert len(kills) == 3 and dispatcher.starts == 4

        # After the last restart: it answers, numbering continues, the next call follows.
        issued_ktp = sum(1 for s in plan if s == "KTP")
        last = kiosks["kiosk1"].ask({"id": "after-restart", "service": "KTP", "priority": None})
        assert last["ok"] and last["ticket"]["number"] == f"A-{issued_ktp + 1:03d}"
        called_before = {r["ticket"]["number"] for r in presses.values() if r["ok"]}
        max_seq = rows(db, "SELECT MAX(seq) FROM events")[0][0] or 0
        loket1 = endpoint("loket1", protocol.counter_command(SITE, "loket1"), protocol.counter_reply(SITE, "loket1"))
        final = loket1.ask({"id": "after-restart-call", "action": "call_next"})
        assert final["ok"] and final["ticket"]["service"] == "KTP"
        assert final["ticket"]["number"] not in called_before
        call = watch.wait_for(protocol.call(SITE), lambda m: m.json()["seq"] == max_seq + 1).json()
        assert call["number"] == final["ticket"]["number"] and call["counter"] == "loket1"
        assert dispatcher.stop() == 0
    finally:
        dispatcher.cleanup()
        for ep in endpoints:
            ep.close()

    # Every request id got exactly one distinct reply, however often it was answered.
    kiosk_replies = {mid: payloads for ep in kiosks.values() for mid, payloads in ep.replies.items()}
    counter_replies = {mid: payloads for ep in counters.values() for mid, payloads in ep.replies.items()}
    for mid, payloads in {**kiosk_replies, **counter_replies}.items():
        assert len(set(payloads)) == 1, f"{mid}: different replies {set(payloads)}"
    assert len(acknowledged) == 400 and all(r["ok"] for r in acknowledged.values())
    answered_again = sum(1 for payloads in kiosk_replies.values() if len(payloads) > 1)
    assert answered_again, "no retry was answered from the store: the kills did not test it"

    # The store: every acknowledged ticket once, no number twice, no gap.
    issued = rows(db, "SELECT day, json_extract(data, '$.service'), number FROM events WHERE kind = 'issued'")
    assert len(issued) == 401
    assert_consecutive(issued)
    stored = collections.Counter((s, n) for _, s, n in issued)
    numbers = [(r["ticket"]["service"], r["ticket"]["number"]) for r in acknowledged.values()]
    assert len(set(numbers)) == 400, "two requests were given the same ticket"
    assert all(stored[key] == 1 for key in numbers)
    # What each sender was told is exactly what the store remembers for its id.
    remembered = dict(((s, m), p) for s, m, p in rows(db, "SELECT sender, msg_id, payload FROM replies"))
    for name, ep in {**kiosks, **counters}.items():
        kind = "kiosk" if name.startswith("kiosk") else "counter"
        for mid, payloads in ep.replies.items():
            if mid.startswith(name):
                assert remembered[f"{kind}/{name}", mid].encode() == payloads[0]

    # Calls: each ticket called once, by the counter that was told so; seqs only grow.
    called = rows(db, "SELECT seq, number, counter FROM events WHERE kind = 'called' ORDER BY id")
    assert len({n for _, n, _ in called}) == len(called)
    assert [s for s, _, _ in called] == sorted({s for s, _, _ in called})
    told = {(r["ticket"]["number"], mid.split("-")[0]) for mid, r in presses.items() if r["ok"]}
    assert told | {(final["ticket"]["number"], "loket1")} == {(n, c) for _, n, c in called}
    calls = [m.json() for m in watch.messages if m.topic == protocol.call(SITE)]
    seqs = [c["seq"] for c in calls]
    assert seqs == sorted(set(seqs)), "a call seq went back or came twice"
    by_seq = {s: (n, c) for s, n, c in called}
    assert all(by_seq[c["seq"]] == (c["number"], c["counter"]) for c in calls)

    # The will: after each kill the retained status said offline before the restart said online.
    statuses = watch.messages
    for i, at in enumerate(kills):
        after = [m.json() for m in statuses[at:(kills[i + 1] if i + 1 < len(kills) else None)] if m.topic == STATUS]
        assert {"device": "dispatcher", "role": "dispatcher", "online": False} in after, after
        assert any(s.get("online") is True for s in after[after.index({"device": "dispatcher", "role": "dispatcher",
                                                                         "online": False}):])
    repeats = (tmp_path / "dispatcher.log").read_text().count("answered with its first reply")
    print(f"\nkill -9 x3: stream {stream_seconds:.1f} s, {sum(e.publishes for e in kiosks.values())} kiosk publishes "
          f"for 400 requests, {answered_again} answered more than once, {repeats} repeated ids answered from the "
          f"store, {len(presses)} presses, {len(called)} calls")


# -- 2. a thousand malformed messages ---------------------------------------------------------


@dataclass
class Case:
    kind: str
    topic: str
    payload: bytes
    reply_topic: str | None  # None: surveys have no reply
    id: str | None = None  # the id the reply must carry
    codes: frozenset = frozenset({"bad_request"})


def _junk_cases(rng: random.Random, n: int) -> list[Case]:
    """n refused messages of many shapes; each knows its reply topic, id and allowed codes."""
    counter_ids = iter(range(10**6))

    def new_id() -> str:
        i = next(counter_ids)
        return rng.choice([f"j{i}", f"junk-{i}-{uuid.UUID(int=rng.getrandbits(128)).hex}", f"🎫{i}",
                           f"ñ{i}\u0000x", f"{i}" + "Ω" * rng.randint(0, 50), f"id with spaces {i}"])[:64]

    def kiosk() -> tuple[str, str]:
        k = rng.choice(["kiosk1", "kiosk2", "k-" + "".join(rng.choices(string.ascii_lowercase, k=6))])
        return protocol.kiosk_request(SITE, k), protocol.kiosk_reply(SITE, k)

    def counter(known: bool = True) -> tuple[str, str, str]:
        c = rng.choice(COUNTERS) if known else rng.choice(
            ["x" + "".join(rng.choices(string.ascii_lowercase + string.digits + "-_", k=rng.randint(1, 30))),
             "loket9", "LOKET1", "loket1 ", "loket🎫"])
        return c, protocol.counter_command(SITE, c), protocol.counter_reply(SITE, c)

    def enc(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=rng.random() < 0.5).encode("utf-8")

    def random_bytes() -> bytes:
        while True:
            raw = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
            try:
                if isinstance(json.loads(raw), dict):
                    continue
            except (ValueError, RecursionError):
                pass
            return raw

    def bad_ids() -> Any:
        return rng.choice([rng.randint(-10**9, 10**9), 3.5, True, None, [], ["a"], {"id": "x"}, "", "x" * 65,
                           "🎫" * 65, float("nan")])

    huge = "A" * 100_000
    wrong_types = [7, 7.5, True, None, [], ["KTP"], {"code": "KTP"}, "", "K" * 65]

    def _c(kind, topics, payload, mid=None, codes=("bad_request",)):
        return Case(kind, topics[0], payload, topics[1], mid, frozenset(codes))

    # -- kiosk requests
    def k_bytes():
        return _c("k_bytes", kiosk(), random_bytes())

    def k_truncated():
        full = enc({"id": new_id(), "service": "KTP", "priority": None})
        return _c("k_truncated", kiosk(), full[:rng.randint(0, len(full) - 1)])

    def k_not_object():
        return _c("k_not_object", kiosk(), enc(rng.choice([[], [{"id": "a", "service": "KTP"}], "KTP", 12, -0.5,
                                                           True, None, "{\"id\": 1}"])))

    def k_bad_id():
        return _c("k_bad_id", kiosk(), enc({"id": bad_ids(), "service": "KTP", "priority": None}))

    def k_missing_id():
        missing = rng.choice([{}, {"service": "KTP"}, {"service": "KTP", "priority": None}])
        return _c("k_missing_id", kiosk(), enc(missing))

    def k_bad_service():
        mid = new_id()
        obj = {"id": mid, "service": rng.choice(wrong_types), "priority": None}
        if rng.random() < 0.3:
            del obj["service"]
        return _c("k_bad_service", kiosk(), enc(obj), mid)

    def k_bad_priority():
        mid = new_id()
        priority = rng.choice([1, 0, True, [], {"x": 1}, "", "p" * 65])
        return _c("k_bad_priority", kiosk(), enc({"id": mid, "service": "KTP", "priority": priority}), mid)

    def k_unknown_priority():
        mid = new_id()
        priority = rng.choice(["vip", "LANSIA", "🎫", "lansia "])
        obj = {"id": mid, "service": rng.choice(list(PREFIX)), "priority": priority}
        return _c("k_unknown_priority", kiosk(), enc(obj), mid)

    def k_unknown_service():
        mid = new_id()
        obj = {"id": mid, "service": rng.choice(["NOPE", "ktp", "KTP ", "🎫", "A", "K" * 64, "KTP\u0000"]),
               "priority": rng.choice([None, "lansia", "vip"])}
        if rng.random() < 0.5:
            obj.update({"extra": rng.choice([1, "x", [1, 2], {"deep": {"er": [None]}}]), "printer": "ok"})
        return _c("k_unknown_service", kiosk(), enc(obj), mid, ("unknown_service",))

    def k_huge():
        obj = {"id": new_id(), "service": "KTP", "priority": None}
        obj[rng.choice(["id", "service", "priority", "extra"])] = huge
        return _c("k_huge", kiosk(), enc(obj))  # past the size limit: not even the id is read

    def k_deep():
        mid = new_id()
        depth = rng.randint(2, 100)
        shallow = b'{"id":' + json.dumps(mid).encode() + b',"service":' + b"[" * depth + b"]" * depth + b"}"
        depth = rng.randint(4000, 7000)
        deep = b'{"id":' + json.dumps(mid).encode() + b',"service":' + b"[" * depth + b"]" * depth + b"}"
        return (_c("k_deep", kiosk(), shallow, mid) if rng.random() < 0.5
                else _c("k_deep", kiosk(), deep))  # too deep to parse: no id

    def k_big_number():
        obj = b'{"id":' + b"9" * rng.randint(4400, 6000) + b',"service":"KTP","priority":null}'
        return _c("k_big_number", kiosk(), obj)

    def k_surrogate():
        mid = new_id()
        where = rng.choice(["id", "service", "priority", "extra"])
        obj = {"id": mid, "service": "KTP", "priority": None, where: "x\ud800y"}
        payload = json.dumps(obj).encode()  # only an escape can carry a lone surrogate
        return _c("k_surrogate", kiosk(), payload, None if where == "id" else mid)

    # -- counter commands
    def c_bytes():
        _, *topics = counter(rng.random() < 0.7)
        return _c("c_bytes", topics, random_bytes())

    def c_not_object():
        _, *topics = counter()
        return _c("c_not_object", topics, enc(rng.choice([["call_next"], "call_next", 1, None, False])))

    def c_bad_id():
        _, *topics = counter(rng.random() < 0.7)
        return _c("c_bad_id", topics, enc({"id": bad_ids(), "action": "call_next"}))

    def c_bad_action():
        mid = new_id()
        _, *topics = counter(rng.random() < 0.7)
        obj = {"id": mid, "action": rng.choice(wrong_types + ["dance", "CALL_NEXT", "call next", "call_next ", "🔔",
                                                             "__stop__", "_call_next"])}
        if rng.random() < 0.2:
            del obj["action"]
        if rng.random() < 0.3:
            obj["extra"] = {"a": [1, 2, 3]}
        return _c("c_bad_action", topics, enc(obj), mid)

    def c_unknown_counter():
        mid = new_id()
        _, *topics = counter(False)
        action = rng.choice(["call_next", "recall", "no_show", "finish", "open", "close", "pause"])
        return _c("c_unknown_counter", topics, enc({"id": mid, "action": action}), mid, ("unknown_counter",))

    def c_idle():
        # Nothing has been issued: every counter is idle, loket8 closed.
        mid = new_id()
        c, *topics = counter()
        action = rng.choice(["call_next", "recall", "no_show", "finish"])
        if c == "loket8":
            code = "counter_closed" if action in ("call_next", "recall") else "not_serving"
        else:
            code = "queue_empty" if action == "call_next" else "not_serving"
        return _c("c_idle", topics, enc({"id": mid, "action": action}), mid, (code,))

    def c_call_number():
        mid = new_id()
        c, *topics = counter()
        number = rng.choice([12, None, [], "", "ZZZ", "A-999", "A1", "a-001", "B-0001", "123", "A--1", "AAA-1",
                             "123456789", "🎫-001", "A-١٢"])
        obj = {"id": mid, "action": "call_number", "number": number}
        if rng.random() < 0.1:
            del obj["number"]
        well_formed = isinstance(obj.get("number"), str) and 1 <= len(obj["number"]) <= 8
        code = "counter_closed" if c == "loket8" and well_formed else "bad_request"
        return _c("c_call_number", topics, enc(obj), mid, (code,))

    def c_transfer():
        mid = new_id()
        c, *topics = counter()
        choice = rng.choice(["missing", "type", "unknown", "known"])
        obj = {"id": mid, "action": "transfer"}
        if choice == "type":
            obj["to_service"] = rng.choice([1, None, ["KK"], {"code": "KK"}, ""])
        elif choice == "unknown":
            obj["to_service"] = rng.choice(["NOPE", "kk", "🎫"])
        elif choice == "known":
            obj["to_service"] = rng.choice(list(PREFIX))
        if choice in ("missing", "type"):
            code = "bad_request"
        elif c == "loket8":
            code = "counter_closed"
        else:
            code = "unknown_service" if choice == "unknown" else "not_serving"
        return _c("c_transfer", topics, enc(obj), mid, (code,))

    def c_bad_reason():
        mid = new_id()
        _, *topics = counter()
        return _c("c_bad_reason", topics, enc({"id": mid, "action": "pause",
                                                "reason": rng.choice([1, ["x"], {"r": 1}, "r" * 201, True])}), mid)

    def c_huge():
        _, *topics = counter()
        return _c("c_huge", topics, enc({"id": new_id(), "action": "call_next", "pad": huge}))

    # -- surveys: no reply topic; all of these are refused and none may be stored
    def survey():
        answers = {f"U{i}": rng.randint(1, 4) for i in range(1, 10)}
        obj = {"id": new_id(), "ticket": "A-001", "counter": "loket1"}
        shape = rng.choice(["score", "answers_missing", "answers_value", "answers_type", "nothing", "id", "bytes",
                            "ticket"])
        if shape == "score":
            obj["score"] = rng.choice([0, 5, "4", 4.0, True, -1, [4]])
        elif shape == "answers_missing":
            del answers["U5"]
            obj["answers"] = answers
        elif shape == "answers_value":
            answers[rng.choice(list(answers))] = rng.choice([0, 5, "3", None, 2.5])
            obj["answers"] = answers
        elif shape == "answers_type":
            obj["answers"] = rng.choice([[1] * 9, "U1", 4, {**answers, "U10": 1}])
        elif shape == "nothing":
            obj.update({"score": None, "answers": None})
        elif shape == "id":
            obj.update({"id": bad_ids(), "score": 4})
        elif shape == "ticket":
            obj.update({"ticket": rng.choice(["A-0000001", 12, ["A-001"]]), "score": 3})
        payload = random_bytes() if shape == "bytes" else enc(obj)
        device = rng.choice(["kiosk1", "panel1", "s-" + "".join(rng.choices(string.ascii_lowercase, k=5))])
        return Case("survey", protocol.survey(SITE, device), payload, None)

    makers = [k_bytes, k_truncated, k_not_object, k_bad_id, k_missing_id, k_bad_service, k_bad_priority,
              k_unknown_priority, k_unknown_service, k_huge, k_deep, k_big_number, k_surrogate,
              c_bytes, c_not_object, c_bad_id, c_bad_action, c_unknown_counter, c_idle, c_call_number, c_transfer,
              c_bad_reason, c_huge, survey]
    cases = [maker() for maker in makers]  # every shape at least once
    cases += [rng.choice(makers)() for _ in range(n - len(cases))]
    rng.shuffle(cases)
    return cases


def test_a_thousand_malformed_messages_get_precise_refusals(broker, run_dispatcher, mqtt_client, tmp_path):
    db = tmp_path / "antrian.db"
    dispatcher = run_dispatcher(db=db)
    rec = mqtt_client(topics=[f"antrian/{SITE}/kiosk/+/reply", f"antrian/{SITE}/counter/+/reply",
                              protocol.call(SITE), STATUS, protocol.board(SITE)])
    wait_ready(rec)
    events_before = rows(db, "SELECT COUNT(*) FROM events")[0][0]
    cases = _junk_cases(random.Random(31337), 1000)
    expected: dict[str, list[Case]] = collections.defaultdict(list)
    for case in cases:
        if case.reply_topic:
            expected[case.reply_topic].append(case)
    total = sum(len(v) for v in expected.values())

    started = time.monotonic()
    for case in cases:  # pipelined: the dispatcher answers in order
        rec.client.publish(case.topic, case.payload, qos=1)

    def replies() -> list:
        return [m for m in rec.messages if m.topic in expected]

    def stray() -> list:
        settle_topic = protocol.counter_reply(SITE, "settle")
        return [m for m in rec.messages if m.topic.endswith("/reply") and m.topic not in expected
                and m.topic != settle_topic]

    deadline = time.monotonic() + 60
    while len(replies()) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    settle(rec)  # and anything extra would have arrived by now
    seconds = time.monotonic() - started

    got: dict[str, list[dict]] = collections.defaultdict(list)
    for m in replies():
        got[m.topic].append(m.json())
    for topic, wanted in expected.items():
        assert len(got[topic]) == len(wanted), f"{topic}: {len(got[topic])} replies to {len(wanted)} messages"
        for case, reply in zip(wanted, got[topic]):
            where = f"{case.kind} {case.payload[:120]!r} -> {reply}"
            assert reply["ok"] is False and set(reply) == {"id", "ok", "error"}, where
            assert reply["error"]["code"] in case.codes, where
            assert isinstance(reply["error"]["message"], str) and reply["error"]["message"], where
            assert reply["id"] == case.id, where
    assert not stray(), "replies to messages that have no reply topic"
    assert not [m for m in rec.messages if m.topic == protocol.call(SITE)]
    assert rows(db, "SELECT COUNT(*) FROM events")[0][0] == events_before == 0
    assert rows(db, "SELECT COUNT(*) FROM surveys")[0][0] == 0
    assert dispatcher._worker.is_alive()

    # Still serving: the first ticket of the day, and the first call.
    kiosk1 = Endpoint("kiosk1", protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1"),
                      broker.host, broker.port)
    loket1 = Endpoint("loket1", protocol.counter_command(SITE, "loket1"), protocol.counter_reply(SITE, "loket1"),
                      broker.host, broker.port)
    try:
        ticket = kiosk1.ask({"id": "after-junk", "service": "KTP", "priority": None}, retry=5)
        assert ticket["ok"] and ticket["ticket"]["number"] == "A-001"
        called = loket1.ask({"id": "after-junk-call", "action": "call_next"}, retry=5)
        assert called["ok"] and called["ticket"]["number"] == "A-001"
        call = rec.wait_for(protocol.call(SITE)).json()
        assert call["seq"] == 1 and call["number"] == "A-001" and call["counter"] == "loket1"
    finally:
        kiosk1.close()
        loket1.close()
    assert rows(db, "SELECT kind, number FROM events ORDER BY id") == [("issued", "A-001"), ("called", "A-001")]
    kinds = collections.Counter(c.kind for c in cases)
    print(f"\n{len(cases)} malformed messages ({total} with a reply topic, {len(kinds)} shapes) "
          f"answered in {seconds:.2f} s")


# -- 3. a QoS 1 redelivery ---------------------------------------------------------------------------


def test_the_same_request_five_times_issues_one_ticket(run_dispatcher, mqtt_client, tmp_path):
    db = tmp_path / "antrian.db"
    run_dispatcher(db=db)
    rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
    wait_ready(rec)
    request = protocol.encode({"id": "redelivered", "service": "KK", "priority": None})
    for _ in range(5):  # as a broker redelivers, or a kiosk that retried too soon
        rec.client.publish(protocol.kiosk_request(SITE, "kiosk1"), request, qos=1)
    press = protocol.encode({"id": "press", "action": "call_next"})
    for _ in range(5):
        rec.client.publish(protocol.counter_command(SITE, "loket3"), press, qos=1)
    settle(rec)

    replies = [m.payload for m in rec.messages if m.topic == protocol.kiosk_reply(SITE, "kiosk1")]
    assert len(replies) == 5 and len(set(replies)) == 1
    assert json.loads(replies[0])["ticket"]["number"] == "B-001"
    presses = [m.payload for m in rec.messages if m.topic == protocol.counter_reply(SITE, "loket3")]
    assert len(presses) == 5 and len(set(presses)) == 1
    assert json.loads(presses[0])["ticket"]["number"] == "B-001"
    assert [m.json()["number"] for m in rec.messages if m.topic == protocol.call(SITE)] == ["B-001"]
    assert rows(db, "SELECT kind, number FROM events ORDER BY id") == [("issued", "B-001"), ("called", "B-001")]
    assert rows(db, "SELECT COUNT(*) FROM replies") == [(2,)]


# -- 4. the database stops taking writes ------------------------------------------------------------------


def test_unwritable_database_answers_internal_and_applies_nothing(broker, run_dispatcher, mqtt_client, tmp_path):
    db = tmp_path / "antrian.db"
    dispatcher = run_dispatcher(db=db)
    rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
    wait_ready(rec)
    host, port = broker.host, broker.port
    kiosk = Endpoint("kiosk1", protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1"), host, port)
    loket1 = Endpoint("loket1", protocol.counter_command(SITE, "loket1"), protocol.counter_reply(SITE, "loket1"),
                      host, port)

    def request(mid):
        return kiosk.ask({"id": mid, "service": "KTP", "priority": None}, retry=5)

    def status_index(predicate) -> int:
        return next(i for i, m in enumerate(rec.messages) if m.topic == STATUS and predicate(m.json()))

    try:
        assert request("r1")["ticket"]["number"] == "A-001"
        assert request("r2")["ticket"]["number"] == "A-002"
        settle(rec)
        assert status_index(lambda s: s.get("online") and s.get("problems") == []) >= 0

        # The database turns read-only under the dispatcher, as when the SD card of a Pi
        # fails and ext4 remounts it read-only: on its own connection, SQLite then refuses
        # every write with SQLITE_READONLY ("attempt to write a readonly database") while
        # reads still work -- the real error, through the real Store.commit. (chmod cannot
        # do this to a test that runs as root.) The worker is idle after settle().
        dispatcher.store.db.execute("PRAGMA query_only = ON")
        failed = [request(mid) for mid in ("r3", "r4")]
        failed_press = loket1.ask({"id": "p1", "action": "call_next"}, retry=5)
        for mid, reply in zip(("r3", "r4", "p1"), failed + [failed_press]):
            assert reply["ok"] is False and reply["id"] == mid and reply["error"]["code"] == "internal", reply
        bad = status_index(lambda s: "database_error" in s.get("problems", ()))
        assert rec.messages[bad].json()["online"] is True
        settle(rec)
        assert not [m for m in rec.messages if m.topic == protocol.call(SITE)], "a call that was never stored"

        dispatcher.store.db.execute("PRAGMA query_only = OFF")
        # The kiosk retries the same id: it was not remembered, so now it gets a ticket,
        # and numbering goes on from the last stored one.
        assert request("r3")["ticket"]["number"] == "A-003"
        assert request("r5")["ticket"]["number"] == "A-004"
        press = loket1.ask({"id": "p1", "action": "call_next"}, retry=5)
        assert press["ok"] and press["ticket"]["number"] == "A-001"
        call = rec.wait_for(protocol.call(SITE)).json()
        assert call["seq"] == 1 and call["number"] == "A-001"
        settle(rec)
        cleared = [i for i, m in enumerate(rec.messages)
                   if m.topic == STATUS and i > bad and m.json().get("problems") == []]
        assert cleared, "database_error was not cleared"
    finally:
        kiosk.close()
        loket1.close()

    events = rows(db, "SELECT kind, number FROM events ORDER BY id")
    assert events == [("issued", "A-001"), ("issued", "A-002"), ("issued", "A-003"), ("issued", "A-004"),
                      ("called", "A-001")]
    stored = rows(db, "SELECT msg_id, payload FROM replies ORDER BY msg_id")
    assert [m for m, _ in stored] == ["p1", "r1", "r2", "r3", "r5"]
    assert not [p for _, p in stored if '"internal"' in p]


# -- 5. a bug in the middle of a batch ---------------------------------------------------------------------


def test_a_bug_mid_batch_leaves_the_queue_as_stored(broker, run_dispatcher, mqtt_client, tmp_path, monkeypatch):
    """An exception after a decision was applied to the engine but before its batch was
    stored (here: building the reply fails once) must not leave the engine ahead of the
    store: the next ticket would skip a number, and after a restart reuse one."""
    db = tmp_path / "antrian.db"
    run_dispatcher(db=db)
    rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
    wait_ready(rec)
    real = protocol.reply_ok
    boom = {"armed": True}

    def failing_once(msg_id, ticket):
        if msg_id == "boom" and boom.pop("armed", False):
            raise RuntimeError("a bug")
        return real(msg_id, ticket)

    monkeypatch.setattr(protocol, "reply_ok", failing_once)
    kiosk = Endpoint("kiosk1", protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1"),
                     broker.host, broker.port)
    try:
        # The failed batch is answered nothing; the kiosk retries the same id.
        assert kiosk.ask({"id": "boom", "service": "KTP", "priority": None}, retry=0.5)["ticket"]["number"] == "A-001"
        assert kiosk.ask({"id": "next", "service": "KTP", "priority": None})["ticket"]["number"] == "A-002"
        assert kiosk.publishes >= 3  # the first "boom" was answered nothing
    finally:
        kiosk.close()
    assert rows(db, "SELECT number FROM events WHERE kind = 'issued' ORDER BY id") == [("A-001",), ("A-002",)]
