"""The dispatcher's intake guards (antrian/dispatcher/guard.py; issue 12, items 4 and 5):
retained requests, commands and surveys are never acted on and are cleared, a device past
its limits gets `rate_limited` and spends no quota, a request the citizen gave up on gets
`expired`. Against the real dispatcher (in process, with an injected clock) on a real
Mosquitto; the guard's bookkeeping itself with a hand-moved monotonic clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import BUTON, allday_site
from helpers import SITE, STATUS, rows, settle

from antrian import protocol
from antrian.adapters.store import Store
from antrian.dispatcher import Dispatcher
from antrian.dispatcher.guard import ANSWER_EVERY_SECONDS, PROBLEM_HOLD_SECONDS, Guard, Limited
from antrian.errors import ERROR_CODES
from antrian.site import load
from antrian.site.model import BOOKING_LIMITS, COUNTER_LIMITS, DEVICE_LIMITS

WITA = dt.timezone(dt.timedelta(hours=8))
MONDAY = dt.datetime(2026, 11, 16, 10, 0, tzinfo=WITA)


class Clock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


class Running:
    """Dispatchers started and stopped on one database, as the systemd unit would."""

    def __init__(self, site_file: Path, db: Path, broker):
        self.config = load(site_file)
        self.db, self.broker = db, broker
        self.current: tuple[Dispatcher, Store] | None = None

    def start(self, clock) -> Dispatcher:
        store = Store(self.db, self.config.tz)
        dispatcher = Dispatcher(self.config, store, clock=clock)
        dispatcher.start(self.broker.host, self.broker.port)
        self.current = (dispatcher, store)
        assert dispatcher.connection.wait_connected(5)
        return dispatcher

    def stop(self) -> None:
        if self.current is not None:
            dispatcher, store = self.current
            dispatcher.stop()
            store.close()
            self.current = None


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    """The all-day site with the dispatcher's default limits (conftest's lifts them)."""
    return allday_site(tmp_path, limits=None)


@pytest.fixture
def running(site_file, broker, tmp_path):
    r = Running(site_file, tmp_path / "antrian.db", broker)
    try:
        yield r
    finally:
        r.stop()


def online_after(rec, mark: int) -> None:
    """Wait for the dispatcher's online status among the messages after the first `mark`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(m.topic == STATUS and m.json().get("online") is True for m in rec.messages[mark:]):
            return
        time.sleep(0.05)
    raise AssertionError("the dispatcher did not come online")


def retained_now(mqtt_client, topics: list[str], wait: float = 1.0) -> list:
    """What a fresh subscriber gets, retained, on these topics."""
    fresh = mqtt_client(topics=topics)
    time.sleep(wait)  # retained copies follow the SUBACK at once; a second is generous
    return [m for m in fresh.messages if m.retain]


# -- 1. retained requests, commands and surveys across three business days ---------------------


def test_retained_request_command_and_survey_are_never_acted_on_across_three_days(running, mqtt_client, tmp_path,
                                                                                  caplog):
    caplog.set_level(logging.WARNING, logger="antrian.dispatcher")
    watch = mqtt_client(topics=[f"antrian/{SITE}/#"])
    device = mqtt_client(topics=())
    early = {protocol.kiosk_request(SITE, "kiosk2"): {"id": "r0", "service": "KK", "priority": None},
             protocol.counter_command(SITE, "loket2"): {"id": "c0", "action": "call_next"},
             protocol.survey(SITE, "panel1"): {"id": "s0", "ticket": "B-001", "counter": "loket2", "score": 4}}
    live = {protocol.kiosk_request(SITE, "kiosk1"): {"id": "r1", "service": "KTP", "priority": None},
            protocol.counter_command(SITE, "loket1"): {"id": "c1", "action": "call_next"},
            protocol.survey(SITE, "kiosk1"): {"id": "s1", "ticket": "A-001", "counter": "loket1", "score": 3}}

    # The at-subscribe case: published retained before the dispatcher ever subscribed, so
    # only the broker's stored copy reaches it, with the retain flag set.
    for topic, body in early.items():
        device.publish_json(topic, body, retain=True).wait_for_publish(5)
    clock = Clock(MONDAY)
    mark = len(watch.messages)
    running.start(clock)
    online_after(watch, mark)
    settle(watch)
    assert retained_now(mqtt_client, list(early)) == [], "the retained copies are still on the broker"
    assert rows(running.db, "SELECT count(*) FROM events WHERE kind = 'issued'") == [(0,)]
    assert rows(running.db, "SELECT count(*) FROM surveys") == [(0,)]
    assert not [m for m in watch.messages if m.topic in (protocol.kiosk_reply(SITE, "kiosk2"),
                                                         protocol.counter_reply(SITE, "loket2"))]
    # Logged once per topic.
    for topic in early:
        assert sum(topic in r.getMessage() and "retained" in r.getMessage() for r in caplog.records) == 1, topic

    # The live case: the dispatcher is subscribed, so the broker hands it a copy with the retain
    # flag cleared (MQTT 3.1.1), like any publish. It is handled once, as asked...
    for topic, body in live.items():
        device.publish_json(topic, body, retain=True).wait_for_publish(5)
    ticket = watch.wait_for(protocol.kiosk_reply(SITE, "kiosk1"), lambda m: m.json()["id"] == "r1").json()
    assert ticket["ok"] and ticket["ticket"]["number"] == "A-001"
    settle(watch)
    assert watch.wait_for(protocol.counter_reply(SITE, "loket1"), lambda m: m.json()["id"] == "c1").json()["ok"]

    # ...and its stored copy is refused and cleared at the next subscription: a restart the
    # same day, then the next two business days.
    for day in range(3):
        running.stop()
        clock.now = MONDAY + dt.timedelta(days=day, hours=day)
        mark = len(watch.messages)
        running.start(clock)
        online_after(watch, mark)
        settle(watch)
        assert retained_now(mqtt_client, list(live) + list(early)) == [], f"day {day + 1}: retained copies remain"

    issued = rows(running.db, "SELECT day, json_extract(data, '$.number') FROM events WHERE kind = 'issued'")
    assert issued == [("2026-11-16", "A-001")], "a phantom ticket"
    calls = [m.json() for m in watch.messages if m.topic == protocol.call(SITE)]
    assert [(c["number"], c["counter"]) for c in calls] == [("A-001", "loket1")], "a phantom call"
    assert rows(running.db, "SELECT device, ticket, score FROM surveys") == [("kiosk1", "A-001", 3)], "a phantom survey"
    replies_r1 = [m for m in watch.messages if m.topic == protocol.kiosk_reply(SITE, "kiosk1")]
    assert len(replies_r1) == 1, "the stored copy of r1 was answered again"


def test_an_empty_payload_on_a_request_topic_is_ignored(run_dispatcher, mqtt_client):
    """Deleting a retained message is an empty retained publish, which every subscriber
    also receives: the dispatcher's own clearing comes back to it and must not be answered."""
    run_dispatcher()
    rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
    rec.wait_for(protocol.board(SITE))
    rec.client.publish(protocol.kiosk_request(SITE, "kiosk1"), b"", qos=1, retain=True)
    rec.client.publish(protocol.kiosk_request(SITE, "kiosk1"), b"", qos=1)
    settle(rec)
    assert not [m for m in rec.messages if m.topic == protocol.kiosk_reply(SITE, "kiosk1")]


# -- 2. a flood from one kiosk while a counter keeps calling ---------------------------------


def test_a_flood_from_one_kiosk_is_rate_limited_and_spends_no_quota(run_dispatcher, mqtt_client, tmp_path):
    dispatcher = run_dispatcher(clock=Clock(MONDAY))
    watch = mqtt_client(topics=[f"antrian/{SITE}/#"])
    watch.wait_for(protocol.board(SITE))
    quota_before = {s["code"]: s["quota_left"] for a in watch.wait_for(protocol.catalog(SITE)).json()["agencies"]
                    for s in a["services"]}
    flooder = mqtt_client(topics=())
    services = ["KTP", "KK", "PBG", "IZIN"]

    # A counter keeps pressing NEXT (at an officer's pace) all through the flood.
    presses: list[dict] = []
    stop = threading.Event()

    def press() -> None:
        while not stop.is_set():
            mid = uuid.uuid4().hex
            watch.publish_json(protocol.counter_command(SITE, "loket1"), {"id": mid, "action": "call_next"})
            presses.append(watch.wait_for(protocol.counter_reply(SITE, "loket1"), lambda m: m.json()["id"] == mid,
                                          timeout=30).json())
            stop.wait(0.5)

    presser = threading.Thread(target=press)
    presser.start()
    start = time.monotonic()
    try:
        for i in range(2000):
            delay = start + i / 2000 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            last = flooder.publish_json(protocol.kiosk_request(SITE, "kiosk1"),
                                        {"id": f"flood-{i}", "service": services[i % len(services)],
                                         "priority": None})
        published = time.monotonic() - start
        status = watch.wait_for(STATUS, lambda m: "rate_limited:kiosk/kiosk1" in m.json().get("problems", []),
                                timeout=10).json()
        assert status["online"] is True
        # The broker has the whole flood before the settle message, and hands the dispatcher
        # its messages in that order: once settled, every request has been decided.
        last.wait_for_publish(30)
        settle(watch)
        took = time.monotonic() - start
    finally:
        stop.set()
        presser.join(30)

    replies = [m.json() for m in watch.messages if m.topic == protocol.kiosk_reply(SITE, "kiosk1")]
    ok = [r for r in replies if r["ok"]]
    limited = [r for r in replies if not r["ok"]]
    assert {r["error"]["code"] for r in limited} == {"rate_limited"}
    assert all(r["error"]["message"] for r in limited)
    # The burst and the refill until the last was decided; most were refused,
    # and a flood's excess is mostly not even answered (one answer a second).
    allowed = DEVICE_LIMITS.burst + DEVICE_LIMITS.per_minute * took / 60
    assert DEVICE_LIMITS.burst <= len(ok) <= allowed, (len(ok), published, took)
    assert 1 <= len(limited) <= took / ANSWER_EVERY_SECONDS + 1
    # No quota spent beyond the accepted: the store holds exactly the tickets answered ok.
    issued = rows(tmp_path / "antrian.db",
                  "SELECT json_extract(data, '$.number') FROM events WHERE kind = 'issued' ORDER BY id")
    assert sorted(n for (n,) in issued) == sorted(r["ticket"]["number"] for r in ok)
    assert rows(tmp_path / "antrian.db", "SELECT count(*) FROM replies WHERE sender = 'kiosk/kiosk1'") == [(len(ok),)]
    for service in services:
        spent = dispatcher.engine.issued_count(service)
        assert spent == sum(r["ticket"]["service"] == service for r in ok), service
        assert quota_before[service] is None or spent <= quota_before[service]
    # The counter was never refused and always answered.
    assert presses and all(p["ok"] or p["error"]["code"] == "queue_empty" for p in presses), presses


def test_a_retry_of_an_issued_request_gets_its_ticket_even_past_the_limit(run_dispatcher, mqtt_client):
    """Exactly once holds for what was accepted: a repeated id past the limit gets its
    first reply, never `rate_limited`; `rate_limited` is not remembered."""
    dispatcher = run_dispatcher(clock=Clock(MONDAY))
    tick = Tick()
    dispatcher.guard.monotonic = tick  # the buckets refill only when the test says
    rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
    rec.wait_for(protocol.board(SITE))
    reply_topic = protocol.kiosk_reply(SITE, "kiosk1")

    def replies(mid: str) -> list[dict]:
        return [m.json() for m in rec.messages if m.topic == reply_topic and m.json()["id"] == mid]

    def ask(mid: str, service: str = "KTP") -> dict:
        earlier = len(replies(mid))
        rec.publish_json(protocol.kiosk_request(SITE, "kiosk1"), {"id": mid, "service": service, "priority": None})
        rec.wait_for(reply_topic, lambda m: len(replies(mid)) > earlier)
        return replies(mid)[earlier]

    ticket = ask("k-first")
    assert ticket["ok"]
    assert all(ask(f"k-{i}", "KK")["ok"] for i in range(DEVICE_LIMITS.burst - 1))  # the bucket is empty now
    assert ask("k-over")["error"]["code"] == "rate_limited"
    tick.t += ANSWER_EVERY_SECONDS  # a third of a token: still over the limit, and may be answered
    assert ask("k-first") == ticket
    tick.t += ANSWER_EVERY_SECONDS
    assert ask("k-over")["error"]["code"] == "rate_limited"
    tick.t += ANSWER_EVERY_SECONDS  # a whole token again
    assert ask("k-over")["ok"] is True
    assert dispatcher.engine.issued_count("KTP") == 2
    assert dispatcher.engine.issued_count("KK") == DEVICE_LIMITS.burst - 1


# -- 3. expired -------------------------------------------------------------------------------


def test_a_request_older_than_the_limit_is_expired_not_a_ghost_ticket(run_dispatcher, mqtt_client, tmp_path):
    clock = Clock(MONDAY)
    run_dispatcher(clock=clock)
    rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
    rec.wait_for(protocol.board(SITE))
    reply_topic = protocol.kiosk_reply(SITE, "kiosk1")

    def ask(mid: str, at: dt.datetime | str | None) -> dict:
        body = protocol.request(mid, "KTP", None, at if isinstance(at, dt.datetime) else None)
        if isinstance(at, str):
            body["at"] = at
        rec.publish_json(protocol.kiosk_request(SITE, "kiosk1"), body)
        return rec.wait_for(reply_topic, lambda m: m.json()["id"] == mid).json()

    old = MONDAY - dt.timedelta(seconds=DEVICE_LIMITS.max_age_seconds + 60)
    expired = ask("x-old", old)
    assert expired["ok"] is False and expired["error"]["code"] == "expired"
    assert expired["error"]["message"] == ("Permintaan sudah kedaluwarsa (ditekan pukul 09.57); "
                                           "silakan ambil nomor antrean lagi")
    assert ask("x-recent", MONDAY - dt.timedelta(seconds=60))["ok"] is True
    assert ask("x-ahead", MONDAY + dt.timedelta(minutes=10))["ok"] is True  # a kiosk clock ahead: harmless
    assert ask("x-none", None)["ok"] is True
    in_utc = ask("x-utc", (MONDAY - dt.timedelta(minutes=30)).astimezone(dt.timezone.utc))
    assert in_utc["error"]["code"] == "expired"
    for bad in ("yesterday", "2026-11-16T09:59:00", "2026-13-01T00:00:00+08:00"):
        refused = ask(f"x-bad-{bad}", bad)
        assert refused["error"]["code"] == "bad_request" and "'at'" in refused["error"]["message"], bad
    status = rec.wait_for(STATUS, lambda m: "expired:kiosk/kiosk1" in m.json().get("problems", [])).json()
    assert status["online"] is True
    # Remembered like any reply: asked again later, the same refusal, still nothing issued.
    clock.now += dt.timedelta(minutes=1)
    rec.publish_json(protocol.kiosk_request(SITE, "kiosk1"), protocol.request("x-old", "KTP", None, old))
    settle(rec)
    answers = [m.json() for m in rec.messages if m.topic == reply_topic and m.json()["id"] == "x-old"]
    assert answers == [expired, expired]
    numbers = rows(tmp_path / "antrian.db", "SELECT json_extract(data, '$.number') FROM events WHERE kind = 'issued'")
    assert numbers == [("A-001",), ("A-002",), ("A-003",)]


def test_a_counter_command_older_than_the_limit_is_expired_not_a_call_for_a_gone_officer(run_dispatcher,
                                                                                       mqtt_client, tmp_path):
    """A remote console's press that waited in the bridge's queue while the site's link was
    down (its app stamps `at`) calls nobody when it arrives; a fresh one calls as ever."""
    clock = Clock(MONDAY)
    run_dispatcher(clock=clock)
    rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
    rec.wait_for(protocol.board(SITE))
    for mid in ("k1", "k2"):
        rec.publish_json(protocol.kiosk_request(SITE, "kiosk1"), protocol.request(mid, "KTP", None))
        assert rec.wait_for(protocol.kiosk_reply(SITE, "kiosk1"), lambda m, mid=mid: m.json()["id"] == mid).json()["ok"]
    reply_topic = protocol.counter_reply(SITE, "loket1")

    def press(mid: str, at: dt.datetime | None) -> dict:
        body = {"id": mid, "action": "call_next"}
        if at is not None:
            body["at"] = at.isoformat()
        rec.publish_json(protocol.counter_command(SITE, "loket1"), body)
        return rec.wait_for(reply_topic, lambda m: m.json()["id"] == mid).json()

    old = MONDAY - dt.timedelta(seconds=COUNTER_LIMITS.max_age_seconds + 5)
    expired = press("c-old", old)
    assert expired["ok"] is False and expired["error"] == {
        "code": "expired",
        "message": "Perintah sudah kedaluwarsa (ditekan pukul 09.59) dan tidak dijalankan; silakan tekan lagi"}
    status = rec.wait_for(STATUS, lambda m: "expired:counter/loket1" in m.json().get("problems", [])).json()
    assert status["online"] is True
    assert press("c-old", old) == expired  # the console's retry of that press: the same answer
    assert not [m for m in rec.messages if m.topic == protocol.call(SITE)], "a call for an officer who has gone"
    called = press("c-fresh", MONDAY - dt.timedelta(seconds=COUNTER_LIMITS.max_age_seconds - 5))
    assert called["ok"] is True
    assert rec.wait_for(protocol.call(SITE)).json()["number"] == "A-001"
    assert press("c-no-at", None)["ok"] is True  # a panel on the LAN sends no `at`: never expired


# -- 4. the guard's bookkeeping, with a hand-moved clock -----------------------------------------


class Tick:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def guard(site_file):
    cleared: list[str] = []
    tick = Tick()
    g = Guard(load(site_file), clear=cleared.append, monotonic=tick)
    g.cleared, g.tick = cleared, tick
    return g


def test_the_bucket_allows_its_burst_then_its_rate_and_answers_once_a_second(guard):
    topic = protocol.kiosk_request(SITE, "kiosk1")
    passed = [guard.intake(topic, b"{}", False) for _ in range(DEVICE_LIMITS.burst)]
    assert all(p == b"{}" and not isinstance(p, Limited) for p in passed)
    over = [guard.intake(topic, b"{}", False) for _ in range(50)]
    assert isinstance(over[0], Limited) and over[1:] == [None] * 49  # one answer, the rest dropped
    guard.tick.t += ANSWER_EVERY_SECONDS
    assert isinstance(guard.intake(topic, b"{}", False), Limited)  # the refill is not yet a whole token
    guard.tick.t += 60 / DEVICE_LIMITS.per_minute
    assert guard.intake(topic, b"{}", False) == b"{}"
    # Other senders have buckets of their own; a counter has the counter's limits.
    assert guard.intake(protocol.kiosk_request(SITE, "kiosk2"), b"{}", False) == b"{}"
    command = protocol.counter_command(SITE, "loket1")
    assert [guard.intake(command, b"{}", False) for _ in range(COUNTER_LIMITS.burst)] == [b"{}"] * COUNTER_LIMITS.burst
    assert isinstance(guard.intake(command, b"{}", False), Limited)


def test_problems_name_the_sender_and_go_a_minute_after_the_last_refusal(guard):
    problems: list[str] = []

    def add(p: str) -> None:
        if p not in problems:
            problems.append(p)

    topic = protocol.survey(SITE, "kiosk1")
    for _ in range(DEVICE_LIMITS.burst + 3):
        guard.intake(topic, b"{}", False)
    guard.report(add, problems.remove)
    assert problems == ["rate_limited:survey/kiosk1"]
    guard.tick.t += PROBLEM_HOLD_SECONDS - 1
    guard.report(add, problems.remove)
    assert problems == ["rate_limited:survey/kiosk1"]
    guard.tick.t += 2
    guard.report(add, problems.remove)
    assert problems == []


def test_retained_is_refused_cleared_every_time_and_logged_once_per_topic(guard, caplog):
    caplog.set_level(logging.WARNING, logger="antrian.dispatcher")
    a, b = protocol.kiosk_request(SITE, "kiosk1"), protocol.counter_command(SITE, "loket1")
    assert [guard.intake(t, b'{"id":"1"}', True) for t in (a, a, b, a)] == [None] * 4
    assert guard.cleared == [a, a, b, a]
    assert [r.getMessage().split(" on ")[1].split(" ")[0] for r in caplog.records] == [a, b]
    # An empty payload (a deletion) is dropped, and clears nothing.
    assert guard.intake(a, b"", True) is None and guard.intake(a, b"", False) is None
    assert guard.cleared == [a, a, b, a]


def test_the_new_codes_are_wire_codes():
    assert {"rate_limited", "expired"} <= set(ERROR_CODES)


def test_the_site_file_sets_limits_per_role_per_device_and_per_counter(tmp_path):
    import yaml

    from antrian.site import build

    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    raw["limits"] = {"kiosk": {"burst": 3}, "counter": {"per_minute": 600}}
    raw["counters"][0]["limits"] = {"burst": 2}  # loket1
    kiosk = next(d for d in raw["devices"] if d["role"] == "kiosk")
    kiosk["limits"] = {"max_age_seconds": 30}
    config = build(raw, "site.yaml")
    guard = Guard(config, clear=lambda topic: None)
    assert guard.limits_of("kiosk_request", kiosk["id"]) == DEVICE_LIMITS.__class__(20, 3, 30)
    assert guard.limits_of("kiosk_request", "kiosk-not-in-the-file").burst == 3
    assert guard.limits_of("survey", "panel-not-in-the-file") == DEVICE_LIMITS
    assert guard.limits_of("counter_command", "loket1") == dataclasses.replace(COUNTER_LIMITS, per_minute=600,
                                                                              burst=2)
    assert guard.limits_of("counter_command", "loket2") == dataclasses.replace(COUNTER_LIMITS, per_minute=600)
    # A public app's bookings have the role's limits; its own `limits:` are its surveys'.
    assert guard.limits_of("booking_request", "publik1") == BOOKING_LIMITS
    assert guard.limits_of("survey", "publik1") == DEVICE_LIMITS.__class__(600, 200)
    raw["limits"]["booking"] = {"burst": 50}
    assert Guard(build(raw, "site.yaml"), clear=lambda topic: None).limits_of("booking_request", "publik1") == \
        BOOKING_LIMITS.__class__(BOOKING_LIMITS.per_minute, 50)
    # The kiosk's own max_age_seconds decides `expired`.
    request = protocol.parse_request({"id": "a", "service": "KTP", "at": "2026-11-16T09:59:00+08:00"})
    refusal = guard.refusal(f"kiosk/{kiosk['id']}", b"{}", request, MONDAY)
    assert refusal is not None and refusal.code == "expired" and refusal.remember
    assert guard.refusal("kiosk/kiosk-not-in-the-file", b"{}", request, MONDAY) is None
    # A counter's commands: the role's 30 s, or the counter's own.
    command = protocol.parse_command({"id": "c", "action": "call_next", "at": "2026-11-16T09:59:40+08:00"})
    assert guard.refusal("counter/loket2", b"{}", command, MONDAY) is None
    raw["counters"][1]["limits"] = {"max_age_seconds": 10}  # loket2
    refusal = Guard(build(raw, "site.yaml"), clear=lambda topic: None).refusal("counter/loket2", b"{}", command, MONDAY)
    assert refusal is not None and refusal.code == "expired" and "silakan tekan lagi" in refusal.message
    # Nonsense is one clear line per key.
    raw["limits"] = {"kiosk": {"burst": 0, "rate": 5}, "counter": {"per_minute": "fast"}}
    with pytest.raises(Exception) as caught:
        build(raw, "site.yaml")
    message = str(caught.value)
    assert "limits.kiosk.burst: 0 is out of range" in message
    assert "limits.kiosk.rate: unknown key" in message
    assert "limits.counter.per_minute: must be a number" in message


def test_the_kiosk_says_when_the_citizen_pressed(site_file, broker, run_dispatcher, mqtt_client):
    from kiosk.link import Link

    run_dispatcher()
    watch = mqtt_client(topics=[protocol.kiosk_request(SITE, "kiosk1")])
    config = load(site_file)
    link = Link(config, "kiosk1")
    try:
        link.start(broker.host, broker.port)
        deadline = time.monotonic() + 5
        while not link.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        before = dt.datetime.now(config.tz).replace(microsecond=0)
        reply = link.ask("kiosk1-at", "KTP", None, timeout=5, attempts=1)
        after = dt.datetime.now(config.tz)
    finally:
        link.close()
    assert reply is not None and reply["ok"] is True
    sent = watch.wait_for(protocol.kiosk_request(SITE, "kiosk1")).json()
    at = dt.datetime.fromisoformat(sent["at"])
    assert at.utcoffset() == after.utcoffset() and before <= at <= after
