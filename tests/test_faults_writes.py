"""Fault tests: a QoS 1 redelivery, a database that stops taking writes and a bug in the
middle of a batch (DESIGN.md "Failure rules", exactly once): what was acknowledged is
stored once and the queue stays as stored. The shared devices and checks are in
tests/helpers.py."""

from __future__ import annotations

import json

from helpers import (
    SITE,
    STATUS,
    Endpoint,
    rows,
    settle,
    wait_ready,
)

from antrian import protocol

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
    assert rows(db, "SELECT kind, number FROM events ORDER BY id") == [("day_started", None), ("issued", "B-001"),
                                                                        ("called", "B-001")]
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
    assert events == [("day_started", None), ("issued", "A-001"), ("issued", "A-002"), ("issued", "A-003"),
                      ("issued", "A-004"), ("called", "A-001")]
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
