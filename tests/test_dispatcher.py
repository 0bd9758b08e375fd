"""The dispatcher on a real Mosquitto: every topic of the wire contract, exactly-once,
simultaneous presses, restarts and a day boundary."""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
import uuid

import pytest

from antrian import protocol
from antrian.site import load

SITE = "buton"


class Client:
    """A test client that speaks the contract: publish a request, wait for its reply."""

    def __init__(self, recorder):
        self.rec = recorder

    def wait_ready(self):
        self.rec.wait_for(protocol.status(SITE, "dispatcher"), lambda m: m.json().get("online") is True)
        self.rec.wait_for(protocol.board(SITE))

    def send(self, topic, obj, reply_topic, timeout=5.0):
        """Publish and return the reply to *this* message (a repeated id's earlier
        replies are skipped by counting them first)."""
        mid = obj.get("id") if isinstance(obj, dict) else None
        earlier = len(self.replies(reply_topic, mid))
        if isinstance(obj, (bytes, str)):
            self.rec.client.publish(topic, obj, qos=1)
        else:
            self.rec.publish_json(topic, obj)
        self.rec.wait_for(reply_topic, lambda m: len(self.replies(reply_topic, mid)) > earlier, timeout=timeout)
        return self.replies(reply_topic, mid)[earlier]

    def settle(self):
        """Wait until everything the dispatcher published so far has arrived: it handles
        messages in order and a broker keeps a publisher's order, so the answer to a
        harmless bad message comes after all of it."""
        self.send(protocol.counter_command(SITE, "settle"), b"{", protocol.counter_reply(SITE, "settle"))

    def replies(self, reply_topic, mid):
        return [m.json() for m in self.rec.messages if m.topic == reply_topic and m.json().get("id") == mid]

    def request(self, service, priority=None, kiosk="kiosk1", mid=None):
        mid = mid or uuid.uuid4().hex
        return self.send(protocol.kiosk_request(SITE, kiosk), {"id": mid, "service": service, "priority": priority},
                         protocol.kiosk_reply(SITE, kiosk))

    def command(self, counter, action, mid=None, **extra):
        mid = mid or uuid.uuid4().hex
        return self.send(protocol.counter_command(SITE, counter), {"id": mid, "action": action, **extra},
                         protocol.counter_reply(SITE, counter))

    def latest(self, topic):
        found = [m for m in self.rec.messages if m.topic == topic]
        return found[-1].json() if found else None

    def calls(self):
        return [m.json() for m in self.rec.messages if m.topic == protocol.call(SITE)]


@pytest.fixture
def site(run_dispatcher, mqtt_client):
    dispatcher = run_dispatcher()
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    client.dispatcher = dispatcher
    return client


def test_kiosk_request_gets_a_ticket_with_the_contract_fields(site):
    reply = site.request("KTP")
    assert reply["ok"] is True
    ticket = reply["ticket"]
    assert ticket["number"] == "A-001"
    assert set(ticket) == {"number", "service", "service_name", "agency", "agency_name", "priority", "issued_at",
                           "business_day", "ahead", "booking", "estimated_wait_min", "link"}
    # The Buton example's public app names a public_url: the link to the ticket's live page.
    day = ticket["business_day"].replace("-", "")
    assert re.fullmatch(rf"https://antrean\.butonkab\.go\.id/t/A-001-{day}-[a-z2-7]{{16}}", ticket["link"])
    assert ticket["agency"] == "disdukcapil" and ticket["service"] == "KTP"
    assert dt.datetime.fromisoformat(ticket["issued_at"]).utcoffset() == dt.timedelta(hours=8)
    second = site.request("KTP", priority="lansia")["ticket"]
    assert second["number"] == "A-002" and second["priority"] == "lansia"
    third = site.request("KTP")["ticket"]
    assert third["ahead"] == 2


@pytest.mark.parametrize("service,priority,code", [
    ("NOPE", None, "unknown_service"),
    ("KTP", "vip", "bad_request"),
])
def test_refused_requests_name_the_reason(site, service, priority, code):
    reply = site.request(service, priority)
    assert reply["ok"] is False and reply["error"]["code"] == code
    assert reply["error"]["message"]


def test_call_next_publishes_reply_call_state_and_board(site):
    issued = site.request("KTP")["ticket"]["number"]
    reply = site.command("loket1", "call_next")
    assert reply["ok"] and reply["ticket"]["number"] == issued
    call = site.rec.wait_for(protocol.call(SITE), lambda m: m.json()["number"] == issued).json()
    assert set(call) == {"seq", "number", "service", "service_name", "counter", "counter_name", "recall", "at"}
    assert call["counter"] == "loket1" and call["counter_name"] == "Loket 1" and call["recall"] is False
    site.rec.wait_for(protocol.counter_state(SITE, "loket1"),
                      lambda m: (m.json()["serving"] or {}).get("number") == issued)
    board = site.rec.wait_for(protocol.board(SITE), lambda m: m.json()["seq"] == call["seq"]).json()
    assert board["recent"][0]["number"] == issued
    row = next(c for c in board["counters"] if c["counter"] == "loket1")
    assert row["serving"] == issued and row["status"] == "open"
    assert set(board) == {"seq", "business_day", "counters", "recent", "waiting", "updated_at"}


def test_a_reply_comes_after_the_retained_state_it_speaks_of(site, mqtt_client):
    """A device that has its reply and then subscribes finds the new retained state."""
    mid = uuid.uuid4().hex
    site.command("loket1", "pause", mid=mid, reason="Istirahat")
    topics = [m.topic for m in site.rec.messages]
    reply_at = next(i for i, m in enumerate(site.rec.messages)
                    if m.topic == protocol.counter_reply(SITE, "loket1") and m.json().get("id") == mid)
    paused_at = next(i for i, m in enumerate(site.rec.messages)
                     if m.topic == protocol.counter_state(SITE, "loket1") and m.json()["status"] == "paused")
    assert paused_at < reply_at, topics
    late = mqtt_client(topics=[protocol.counter_state(SITE, "loket1"), protocol.board(SITE)])
    assert late.wait_for(protocol.counter_state(SITE, "loket1"), lambda m: m.retain).json()["status"] == "paused"
    board = late.wait_for(protocol.board(SITE), lambda m: m.retain).json()
    assert next(c for c in board["counters"] if c["counter"] == "loket1")["status"] == "paused"


def test_retained_state_reaches_a_late_subscriber(site, mqtt_client):
    number = site.request("KTP")["ticket"]["number"]
    site.command("loket1", "call_next")
    site.settle()  # the new board and state are out, so the retained ones are the new ones
    late = mqtt_client(topics=[f"antrian/{SITE}/#"])
    board = late.wait_for(protocol.board(SITE), lambda m: m.retain)
    assert any(c["serving"] == number for c in board.json()["counters"])
    state = late.wait_for(protocol.counter_state(SITE, "loket1"), lambda m: m.retain).json()
    assert state["serving"]["number"] == number and state["status"] == "open"
    catalog = late.wait_for(protocol.catalog(SITE), lambda m: m.retain).json()
    assert catalog["site"]["timezone"] == "Asia/Makassar"
    assert {a["id"] for a in catalog["agencies"]} >= {"disdukcapil", "bapenda", "dpmptsp"}
    status = late.wait_for(protocol.status(SITE, "dispatcher"), lambda m: m.retain).json()
    assert status["online"] is True and status["role"] == "dispatcher" and status["version"]


def test_every_counter_action(site):
    config = load(site.dispatcher.config.source)
    a = site.request("KTP")["ticket"]["number"]
    b = site.request("KTP")["ticket"]["number"]
    assert site.command("loket1", "call_next")["ticket"]["number"] == a
    recall = site.command("loket1", "recall")
    assert recall["ok"] and recall["ticket"]["number"] == a
    assert site.rec.wait_for(protocol.call(SITE), lambda m: m.json()["recall"]).json()["number"] == a
    assert site.command("loket1", "no_show")["ticket"]["number"] == a
    assert site.command("loket1", "call_number", number="a1")["ticket"]["number"] == a
    transfer = site.command("loket1", "transfer", to_service="KK")
    assert transfer["ok"] and transfer["ticket"]["service"] == "KK" and transfer["ticket"]["number"] == a
    # Transferred by its original issue time: ahead of b in a counter serving both.
    both = next(c.id for c in config.counters.values() if {"KTP", "KK"} <= set(c.services))
    assert site.command(both, "call_next")["ticket"]["number"] == a
    assert site.command(both, "finish")["ticket"]["number"] == a
    assert site.command(both, "finish")["error"]["code"] == "not_serving"
    assert site.command("loket1", "pause", reason="Istirahat")["ok"]
    paused = site.rec.wait_for(protocol.counter_state(SITE, "loket1"), lambda m: m.json()["status"] == "paused")
    assert paused.json()["reason"] == "Istirahat"
    assert site.command("loket1", "close")["ok"]
    assert site.command("loket1", "call_next")["error"]["code"] == "counter_closed"
    assert site.command("loket1", "open")["ok"]
    assert site.command("loket1", "call_next")["ticket"]["number"] == b
    assert site.command("nowhere", "call_next")["error"]["code"] == "unknown_counter"


def test_recall_limit(site):
    site.request("KTP")
    site.command("loket1", "call_next")
    for _ in range(3):
        assert site.command("loket1", "recall")["ok"]
    assert site.command("loket1", "recall")["error"]["code"] == "recall_limit"


def test_queue_empty_and_not_serving(site):
    assert site.command("loket1", "call_next")["error"]["code"] == "queue_empty"
    assert site.command("loket1", "recall")["error"]["code"] == "not_serving"


def test_survey_is_stored(site, tmp_path):
    answers = {f"U{i}": (i % 4) + 1 for i in range(1, 10)}
    site.rec.publish_json(protocol.survey(SITE, "kiosk1"), {"id": "s1", "ticket": "A-001", "counter": None,
                                                            "score": None, "answers": answers})
    site.rec.publish_json(protocol.survey(SITE, "panel1"), {"id": "s2", "ticket": None, "counter": "loket1",
                                                            "score": 4, "answers": None})
    # Surveys have no reply topic: a ticket request after them proves they were handled
    # (one worker, in order).
    site.request("KTP")
    rows = sqlite3.connect(tmp_path / "antrian.db").execute(
        "SELECT device, ticket, counter, score, answers FROM surveys ORDER BY id").fetchall()
    assert rows == [("kiosk1", "A-001", None, None, json.dumps(answers)), ("panel1", None, "loket1", 4, None)]


def test_repeated_id_gets_the_first_reply_and_issues_once(site):
    first = site.request("KTP", mid="same-id")
    for _ in range(3):
        again = site.request("KTP", mid="same-id")
        assert again == first
    assert len(site.replies(protocol.kiosk_reply(SITE, "kiosk1"), "same-id")) == 4
    assert site.request("KTP")["ticket"]["number"] == "A-002"
    call = site.command("loket1", "call_next", mid="press-1")
    assert site.command("loket1", "call_next", mid="press-1") == call
    site.settle()
    assert [c["number"] for c in site.calls()] == ["A-001"]


def test_two_counters_pressing_in_the_same_instant_call_different_tickets(site):
    for _ in range(4):
        site.request("KTP")
    # Both presses leave before either reply comes back.
    site.rec.publish_json(protocol.counter_command(SITE, "loket1"), {"id": "p1", "action": "call_next"})
    site.rec.publish_json(protocol.counter_command(SITE, "loket2"), {"id": "p2", "action": "call_next"})
    r1 = site.rec.wait_for(protocol.counter_reply(SITE, "loket1"), lambda m: m.json()["id"] == "p1").json()
    r2 = site.rec.wait_for(protocol.counter_reply(SITE, "loket2"), lambda m: m.json()["id"] == "p2").json()
    assert r1["ok"] and r2["ok"]
    assert {r1["ticket"]["number"], r2["ticket"]["number"]} == {"A-001", "A-002"}
    site.settle()
    assert sorted((c["seq"], c["number"]) for c in site.calls())[0][0] == 1
    assert sorted(c["number"] for c in site.calls()) == ["A-001", "A-002"]
    assert sorted(c["seq"] for c in site.calls()) == [1, 2]


def test_malformed_messages_get_bad_request_and_never_stop_it(site):
    topic, reply_topic = protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1")
    r = site.send(topic, b"\xff\xfe not json", reply_topic)
    assert r == {"id": None, "ok": False, "error": {"code": "bad_request", "message": "Pesan bukan JSON yang valid"}}
    r = site.send(topic, {"id": "x1", "service": 12}, reply_topic)
    assert r["id"] == "x1" and r["error"]["code"] == "bad_request" and "service" in r["error"]["message"]
    r = site.send(protocol.counter_command(SITE, "loket1"), {"id": "x2", "action": "dance"},
                  protocol.counter_reply(SITE, "loket1"))
    assert r["error"]["code"] == "bad_request"
    assert site.request("KTP")["ok"]


def test_restart_rebuilds_the_queue_from_the_store(run_dispatcher, mqtt_client, tmp_path):
    first = run_dispatcher()
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    numbers = [client.request("KTP")["ticket"]["number"] for _ in range(3)]
    client.command("loket1", "call_next")
    client.settle()
    board_before = client.latest(protocol.board(SITE))
    first.stop()
    run_dispatcher()
    assert client.request("KTP")["ticket"]["number"] == "A-004"
    assert client.command("loket1", "call_next")["ticket"]["number"] == numbers[1]
    client.settle()
    assert client.calls()[-1]["seq"] == board_before["seq"] + 1


def test_day_boundary_resets_numbers_and_keeps_seq(run_dispatcher, mqtt_client):
    clock = FakeClock(dt.datetime(2026, 11, 23, 23, 58, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    run_dispatcher(clock=clock)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    assert client.request("KTP")["ticket"]["number"] == "A-001"
    assert client.request("KTP")["ticket"]["number"] == "A-002"
    assert client.command("loket1", "call_next")["ok"]
    client.settle()
    seq = client.calls()[-1]["seq"]
    clock.now += dt.timedelta(minutes=3)  # 00:01 WITA the next day
    ticket = client.request("KTP")["ticket"]
    assert ticket["number"] == "A-001" and ticket["business_day"] == "2026-11-24"
    assert client.command("loket1", "call_next")["ticket"]["number"] == "A-001"
    client.settle()
    assert client.calls()[-1]["seq"] == seq + 1
    board = client.latest(protocol.board(SITE))
    assert board["business_day"] == "2026-11-24"
    assert [c["number"] for c in board["recent"]] == ["A-001"]


class FakeClock:
    def __init__(self, now):
        self.now = now
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            return self.now


def test_broker_killed_and_restarted_the_dispatcher_reconnects_and_restores_retained_state(
        site, broker, mqtt_client):
    number = site.request("KTP")["ticket"]["number"]
    site.command("loket1", "call_next")
    site.settle()
    seq = site.latest(protocol.board(SITE))["seq"]
    old = {id(m) for m in site.rec.messages}
    broker.kill()  # no chance to save its retained messages
    broker.restart()
    assert site.dispatcher.connection.wait_connected(10)
    # The dispatcher republishes on reconnect: live to whoever listens already...
    site.rec.wait_for(protocol.board(SITE), lambda m: id(m) not in old, timeout=10)
    # ...and retained for whoever comes later.
    late = mqtt_client(topics=[protocol.board(SITE), protocol.status(SITE, "dispatcher")])
    board = late.wait_for(protocol.board(SITE), lambda m: m.retain, timeout=10).json()
    assert board["seq"] == seq and any(c["serving"] == number for c in board["counters"])
    assert late.wait_for(protocol.status(SITE, "dispatcher"), lambda m: m.retain).json()["online"] is True
    # The test client has reconnected by itself too; a request made now is answered.
    site.rec.wait_subscribed(2, timeout=10)
    assert site.request("KTP")["ticket"]["number"] == "A-002"


def test_the_catalog_says_at_once_when_a_quota_runs_out(run_dispatcher, mqtt_client, site_file, tmp_path):
    import yaml

    raw = yaml.safe_load(site_file.read_text(encoding="utf-8"))
    raw["agencies"][0]["services"][0]["quota"] = 2  # KTP
    small = tmp_path / "small-quota.yaml"
    small.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    run_dispatcher(config_path=small)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()

    def ktp(message):
        return next(s for a in message.json()["agencies"] for s in a["services"] if s["code"] == "KTP")

    assert client.request("KTP")["ok"] and client.request("KTP")["ok"]
    closed = ktp(client.rec.wait_for(protocol.catalog(SITE), lambda m: not ktp(m)["open"], timeout=10))
    assert closed["quota_left"] == 0 and "Kuota" in closed["closed_reason"]
    assert client.request("KTP")["error"]["code"] == "quota_exhausted"
