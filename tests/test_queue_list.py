"""The retained QueueList (antrian/{site}/queue/{service}) and the Ticket's link, against a
real dispatcher on a real broker: issue, priority order, call, no-show and calling back,
the late tolerance, transfer, a restart, a new business day; and the links' tokens."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from antrian import links, protocol
from antrian.errors import CredentialsError
from antrian.site import load
from conftest import allday_site, write_site
from test_dispatcher import SITE, Client, FakeClock

WAITING_KEYS = {"number", "priority", "issued_at", "booking", "transferred_from"}


def queue(client: Client, service: str) -> dict:
    """The latest QueueList of *service* (after everything published so far)."""
    client.settle()
    found = client.latest(protocol.queue_list(SITE, service))
    assert found is not None, f"no queue list of {service}"
    return found


def waiting(client: Client, service: str) -> list[str]:
    return [t["number"] for t in queue(client, service)["waiting"]]


def recallable(client: Client, service: str) -> list[str]:
    return [t["number"] for t in queue(client, service)["recallable"]]


@pytest.fixture
def client(run_dispatcher, mqtt_client):
    dispatcher = run_dispatcher()
    c = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    c.wait_ready()
    c.dispatcher = dispatcher
    return c


def test_every_service_has_its_retained_list_from_the_start(client, mqtt_client):
    for service in client.dispatcher.config.services:
        data = client.rec.wait_for(protocol.queue_list(SITE, service)).json()
        assert data["service"] == service and data["waiting"] == [] and data["recallable"] == []
        assert set(data) == {"service", "waiting", "recallable", "updated_at"}
    # Retained: a client that comes later gets them at once.
    late = mqtt_client(topics=[protocol.queue_list(SITE, "+")])
    assert late.wait_for(protocol.queue_list(SITE, "KTP"), lambda m: m.retain).json()["waiting"] == []


def test_waiting_in_call_order_with_priority_and_the_ahead_of_each_ticket(client):
    for priority in (None, None, "lansia", None, "disabilitas"):
        client.request("KTP", priority)
    data = queue(client, "KTP")
    assert [(t["number"], t["priority"]) for t in data["waiting"]] == [
        ("A-003", "lansia"), ("A-005", "disabilitas"), ("A-001", None), ("A-002", None), ("A-004", None)]
    assert all(set(t) == WAITING_KEYS and t["booking"] is None and t["transferred_from"] is None
               for t in data["waiting"])
    assert dt.datetime.fromisoformat(data["waiting"][0]["issued_at"]).utcoffset() == dt.timedelta(hours=8)
    # The list's order is the order `ahead` counts: a ticket's place in it is its ahead.
    assert client.request("KTP")["ticket"]["ahead"] == len(data["waiting"])  # A-006, last
    assert client.command("loket1", "call_number", number="A-003")["ticket"]["number"] == "A-003"
    assert waiting(client, "KTP") == ["A-005", "A-001", "A-002", "A-004", "A-006"]
    # call_next takes the priority ticket first (the streak allows two in a row).
    assert client.command("loket1", "call_next")["ticket"]["number"] == "A-005"
    assert waiting(client, "KTP") == ["A-001", "A-002", "A-004", "A-006"]
    # Another service's list did not change: no KK list was sent after the start.
    kk = [m for m in client.rec.messages if m.topic == protocol.queue_list(SITE, "KK")]
    assert len(kk) == 1


def test_a_no_show_is_recallable_until_the_late_tolerance_and_comes_back_by_call_number(
        tmp_path, run_dispatcher, mqtt_client):
    site = allday_site(tmp_path, queue={"priority_streak": 2, "max_recalls": 3, "late_tolerance": 2,
                                        "recent_services": 10})
    run_dispatcher(site)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    for _ in range(5):
        client.request("KTP")
    client.command("loket1", "call_next")
    reply = client.command("loket1", "no_show")
    assert reply["ticket"]["number"] == "A-001"
    data = queue(client, "KTP")
    assert [t["number"] for t in data["recallable"]] == ["A-001"] and set(data["recallable"][0]) == {
        "number", "no_show_at"}
    no_show_at = data["recallable"][0]["no_show_at"]
    assert dt.datetime.fromisoformat(no_show_at).utcoffset() == dt.timedelta(hours=8)
    # The list went out before the counter state that freed the counter: a page that
    # sees the ticket leave the counter already finds it recallable.
    lists, state = protocol.queue_list(SITE, "KTP"), protocol.counter_state(SITE, "loket1")
    seen = [(m.topic, m.json()) for m in client.rec.messages if m.topic in (lists, state)]
    called = next(i for i, (t, p) in enumerate(seen) if t == state and (p["serving"] or {}).get("number") == "A-001")
    freed = next(i for i, (t, p) in enumerate(seen) if i > called and t == state and p["serving"] is None)
    listed = next(i for i, (t, p) in enumerate(seen) if t == lists and p["recallable"])
    assert called < listed < freed
    # Called back by number: serving again, not recallable.
    assert client.command("loket2", "call_number", number="A-001")["ticket"]["number"] == "A-001"
    assert recallable(client, "KTP") == []
    client.command("loket2", "no_show")
    assert queue(client, "KTP")["recallable"][0]["no_show_at"] >= no_show_at
    # One later call: still recallable (1 < 2); the second: past the tolerance, gone.
    client.command("loket1", "call_next")
    assert recallable(client, "KTP") == ["A-001"]
    client.command("loket1", "call_next")
    assert recallable(client, "KTP") == []
    assert waiting(client, "KTP") == ["A-004", "A-005"]
    refused = client.command("loket1", "call_number", number="A-001")
    assert refused["ok"] is False


def test_a_transfer_moves_the_ticket_with_its_mark_by_its_issue_time(client):
    for _ in range(2):
        client.request("KTP")
    for _ in range(2):
        client.request("KK")  # B-001, B-002
    client.command("loket2", "call_next")  # A-001 (the oldest of KTP and KK)
    assert client.command("loket2", "transfer", to_service="KK")["ticket"]["service"] == "KK"
    kk = queue(client, "KK")["waiting"]
    assert [(t["number"], t["transferred_from"]) for t in kk] == [("A-001", "KTP"), ("B-001", None), ("B-002", None)]
    assert waiting(client, "KTP") == ["A-002"]
    # Called from its new queue and sent back: the mark names where it came from last.
    assert client.command("loket3", "call_next")["ticket"]["number"] == "A-001"
    assert waiting(client, "KK") == ["B-001", "B-002"]
    client.command("loket3", "transfer", to_service="KTP")
    assert [(t["number"], t["transferred_from"]) for t in queue(client, "KTP")["waiting"]] == [
        ("A-001", "KK"), ("A-002", None)]


def test_a_restart_republishes_the_lists_with_their_marks(client, run_dispatcher, mqtt_client):
    for _ in range(3):
        client.request("KTP")
    client.command("loket2", "call_next")
    client.command("loket2", "transfer", to_service="KK")
    client.command("loket1", "call_next")
    client.command("loket1", "no_show")
    before = {s: {k: v for k, v in queue(client, s).items() if k != "updated_at"} for s in ("KTP", "KK")}
    assert before["KTP"]["recallable"][0]["number"] == "A-002"
    assert before["KK"]["waiting"][0]["transferred_from"] == "KTP"
    client.dispatcher.stop()
    # The broker forgets the lists (as one that lost its persistence would): what a late
    # client gets now is what the restarted dispatcher made from its store.
    for service in before:
        client.rec.client.publish(protocol.queue_list(SITE, service), b"", qos=1, retain=True).wait_for_publish(5)
    restarted = run_dispatcher()
    late = mqtt_client(topics=[protocol.queue_list(SITE, "+")])
    for service, expected in before.items():
        got = late.wait_for(protocol.queue_list(SITE, service)).json()
        assert {k: v for k, v in got.items() if k != "updated_at"} == expected
    assert restarted.queues.no_show_at  # read back from the store, not the broker


def test_a_new_business_day_empties_every_list(run_dispatcher, mqtt_client):
    clock = FakeClock(dt.datetime(2026, 11, 23, 23, 58, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    run_dispatcher(clock=clock)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    client.request("KTP")
    client.request("KK")
    client.command("loket1", "call_next")
    client.command("loket1", "no_show")
    assert recallable(client, "KTP") == ["A-001"] and waiting(client, "KK") == ["B-001"]
    clock.now += dt.timedelta(minutes=3)  # 00:01 the next day
    ticket = client.request("AKTA")["ticket"]
    assert ticket["business_day"] == "2026-11-24"
    assert queue(client, "KTP") | {"updated_at": None} == {"service": "KTP", "waiting": [], "recallable": [],
                                                          "updated_at": None}
    assert waiting(client, "KK") == [] and waiting(client, "AKTA") == [ticket["number"]]


# -- links and tokens -----------------------------------------------------------------------


def test_tokens_are_unguessable_and_read_back():
    secret = b"x" * 40
    token = links.ticket_token(secret, "buton", "2026-12-04", "A-012")
    assert token.startswith("A-012-20261204-") and len(token) == len("A-012-20261204-") + links.TOKEN_CHARS
    assert links.read_token(secret, "buton", token) == (dt.date(2026, 12, 4), "A-012")
    # Another secret, site, day or number: not this ticket's token.
    assert links.read_token(b"y" * 40, "buton", token) is None
    assert links.read_token(secret, "other", token) is None
    forged = [token.replace("A-012", "A-013"), token.replace("20261204", "20261205"), token[:-1] + "a",
              token.upper(), token + "a", "A-012-20261304-" + token[-16:], "", "x" * 500, "../../etc/passwd"]
    assert all(links.read_token(secret, "buton", t) is None for t in forged)
    assert links.survey_id(dt.date(2026, 12, 4), "A-012") == "tiket:2026-12-04:A-012"


def test_without_a_public_url_a_ticket_has_no_link(tmp_path, run_dispatcher, mqtt_client):
    raw = yaml.safe_load(allday_site(tmp_path).read_text(encoding="utf-8"))
    for device in raw["devices"]:
        device.pop("public_url", None)
    site = write_site(tmp_path / "nolink.yaml", raw)
    assert links.public_url(load(site)) is None
    run_dispatcher(site)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    ticket = client.request("KTP")["ticket"]
    assert "link" not in ticket
    called = client.command("loket1", "call_next")["ticket"]
    assert "link" not in called


def test_with_a_public_url_every_ticket_payload_carries_its_link(client):
    ticket = client.request("KTP")["ticket"]
    secret = links.site_secret(client.dispatcher.config)
    token = ticket["link"].removeprefix("https://antrean.butonkab.go.id/t/")
    assert links.read_token(secret, SITE, token) == (dt.date.fromisoformat(ticket["business_day"]), "A-001")
    client.command("loket1", "call_next")
    client.settle()
    state = client.latest(protocol.counter_state(SITE, "loket1"))
    assert state["serving"]["link"] == ticket["link"]


def test_broker_files_write_the_site_secret_once_mode_0600(tmp_path):
    import stat

    from antrian.tools import broker_files

    raw = yaml.safe_load(allday_site(tmp_path).read_text(encoding="utf-8"))
    raw["broker"]["credentials_dir"] = str(tmp_path / "creds")
    config = load(write_site(tmp_path / "secure.yaml", raw))
    with pytest.raises(CredentialsError):
        links.site_secret(config)
    summary = broker_files.write(config, data_dir=tmp_path / "broker")
    path = tmp_path / "creds" / links.SECRET_NAME
    assert summary.secret == "new" and stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = links.site_secret(config)
    assert len(secret) == 64
    path.chmod(0o644)
    again = broker_files.write(config, data_dir=tmp_path / "broker", rotate=[])
    assert again.secret == "kept" and links.site_secret(config) == secret
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
