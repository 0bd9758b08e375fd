"""Fault tests, kill -9 in the middle of a stream; the other faults are in test_faults_*.py.
Each checks the promises of DESIGN.md ("Failure rules", exactly once): what was
acknowledged is stored once, no number is issued twice or lost, and the dispatcher keeps
serving. The shared devices and checks are in tests/helpers.py."""

from __future__ import annotations

import collections
import random
import threading
import time

import pytest
from conftest import allday_site, no_quotas
from helpers import SITE, STATUS, DispatcherProcess, Endpoint, assert_consecutive, rows
from helpers import settle, wait_ready  # noqa: F401 -- test_faults_bridge/disk/load import them from here

from antrian import protocol

# -- 1. kill -9 in the middle of a stream ------------------------------------------------


@pytest.mark.slow
def test_kill_9_mid_stream_loses_and_doubles_nothing(broker, mqtt_client, tmp_path):
    site_file = allday_site(tmp_path, agencies=no_quotas())
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

        # 400 requests over four services, shared by two kiosks.
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
