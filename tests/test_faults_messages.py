"""Fault tests: a thousand malformed messages get precise refusals (DESIGN.md "Failure
rules"); the shared devices and checks are in tests/helpers.py."""

from __future__ import annotations

import collections
import json
import random
import string
import time
import uuid
from dataclasses import dataclass
from typing import Any

from helpers import (
    COUNTERS,
    PREFIX,
    SITE,
    STATUS,
    Endpoint,
    rows,
    settle,
    wait_ready,
)

from antrian import protocol

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
    queue_events = "SELECT COUNT(*) FROM events WHERE kind != 'day_started'"  # the day opened at start
    events_before = rows(db, queue_events)[0][0]
    cases = _junk_cases(random.Random(31337), 1000)
    expected: dict[str, list[Case]] = collections.defaultdict(list)
    for case in cases:
        if case.reply_topic:
            expected[case.reply_topic].append(case)
    total = sum(len(v) for v in expected.values())

    def replies() -> list:
        return [m for m in rec.messages if m.topic in expected]

    def stray() -> list:
        settle_topic = protocol.counter_reply(SITE, "settle")
        return [m for m in rec.messages if m.topic.endswith("/reply") and m.topic not in expected
                and m.topic != settle_topic]

    # Pipelined a hundred at a time (about 0.9 MB): all 1,000 are 9.2 MB, over what the broker
    # queues for one client (MAX_QUEUED_BYTES, 8 MiB), so a dispatcher that lags on a busy
    # machine would rightly lose the newest of them (a fresh machine once lost 26).
    started, deadline, sent = time.monotonic(), time.monotonic() + 60, 0
    for i in range(0, len(cases), 100):
        chunk = cases[i:i + 100]
        for case in chunk:  # the dispatcher answers in order
            rec.client.publish(case.topic, case.payload, qos=1)
        sent += sum(1 for case in chunk if case.reply_topic)
        while len(replies()) < sent and time.monotonic() < deadline:
            time.sleep(0.02)
    assert sent == total
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
    assert rows(db, queue_events)[0][0] == events_before == 0
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
    assert rows(db, "SELECT kind, number FROM events ORDER BY id") == [("day_started", None), ("issued", "A-001"),
                                                                        ("called", "A-001")]
    kinds = collections.Counter(c.kind for c in cases)
    print(f"\n{len(cases)} malformed messages ({total} with a reply topic, {len(kinds)} shapes) "
          f"answered in {seconds:.2f} s")
