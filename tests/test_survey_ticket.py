"""A survey tied to its ticket, on a real Mosquitto and a real dispatcher (issue 16, item 5).

The kiosk asks whether a typed number was served today (``survey_ticket``) before its
questions; the dispatcher answers with the ticket and the counter that served it, or
``unknown_ticket`` in Indonesian; a survey naming only its ticket is stored with that
counter, and its respondent profile with it.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from antrian import protocol
from test_dispatcher import SITE, Client

ANSWERS = {f"U{i}": (i % 4) + 1 for i in range(1, 10)}


@pytest.fixture
def site(run_dispatcher, mqtt_client):
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.dispatcher = run_dispatcher()
    client.wait_ready()
    return client


def lookup(site, number, kiosk="kiosk1"):
    return site.send(protocol.kiosk_request(SITE, kiosk), protocol.survey_lookup(uuid.uuid4().hex, number),
                     protocol.kiosk_reply(SITE, kiosk))


def refusal(reply):
    assert reply["ok"] is False and reply["error"]["code"] == "unknown_ticket", reply
    return reply["error"]["message"]


def test_the_kiosk_finds_a_served_ticket_and_its_counter(site, tmp_path):
    number = site.request("KTP")["ticket"]["number"]
    prefix = number.split("-")[0]
    assert refusal(lookup(site, number)) == (f"Nomor {number} belum selesai dilayani; survei dapat diisi "
                                             "setelah pelayanan selesai")
    assert site.command("loket1", "call_next")["ticket"]["number"] == number
    assert "belum selesai dilayani" in refusal(lookup(site, number))
    assert site.command("loket1", "finish")["ok"]

    # Typed as a keypad would: lower case, no dash, no zeros.
    found = lookup(site, f"{prefix.lower()}1")
    assert found["ok"] is True
    ticket = found["ticket"]
    assert (ticket["number"], ticket["service"], ticket["counter"]) == (number, "KTP", "loket1")
    assert ticket["counter_name"] and ticket["agency"]

    profile = {"umur": 34, "jenis_kelamin": "P", "pendidikan": "D4/S1"}
    site.rec.publish_json(protocol.survey(SITE, "kiosk1"), {"id": "k-s1", "ticket": number, "counter": None,
                                                            "score": None, "answers": ANSWERS, "profile": profile})
    # A panel's quick score names both; it is no questionnaire, so the lookup still says answered only
    # because of the kiosk's survey above.
    site.rec.publish_json(protocol.survey(SITE, "panel1"), {"id": "p-s1", "ticket": number, "counter": "loket1",
                                                            "score": 3, "answers": None})
    assert refusal(lookup(site, number)) == f"Survei untuk nomor {number} sudah diisi hari ini. Terima kasih"

    rows = sqlite3.connect(tmp_path / "antrian.db").execute(
        "SELECT device, ticket, counter, score, answers, profile FROM surveys ORDER BY id").fetchall()
    assert rows == [
        ("kiosk1", number, "loket1", None, json.dumps(ANSWERS),
         json.dumps({"umur": "30-39", "jenis_kelamin": "P", "pendidikan": "D4/S1"})),
        ("panel1", number, "loket1", 3, None, None)]


def test_numbers_not_served_today_get_a_plain_reason(site):
    assert refusal(lookup(site, "Z-999")) == ("Nomor Z-999 tidak ditemukan pada antrean hari ini; "
                                              "periksa nomor pada tiket Anda")
    assert "tidak ditemukan" in refusal(lookup(site, "xyz"))
    number = site.request("KTP")["ticket"]["number"]
    site.command("loket1", "call_next")
    site.command("loket1", "no_show")
    assert refusal(lookup(site, number)) == f"Nomor {number} tidak tercatat dilayani hari ini"


def test_a_lookup_is_a_read_and_a_bad_profile_is_refused(site, tmp_path):
    number = site.request("KTP")["ticket"]["number"]
    mid = uuid.uuid4().hex
    first = site.send(protocol.kiosk_request(SITE, "kiosk1"), protocol.survey_lookup(mid, number),
                      protocol.kiosk_reply(SITE, "kiosk1"))
    site.command("loket1", "call_next")
    site.command("loket1", "finish")
    # The same id asked again after the service gets today's answer, not the first one.
    again = site.send(protocol.kiosk_request(SITE, "kiosk1"), protocol.survey_lookup(mid, number),
                      protocol.kiosk_reply(SITE, "kiosk1"))
    assert first["ok"] is False and again["ok"] is True

    site.rec.publish_json(protocol.survey(SITE, "kiosk1"), {"id": "bad", "ticket": number, "answers": ANSWERS,
                                                            "profile": {"pekerjaan": "Astronot"}})
    site.rec.publish_json(protocol.survey(SITE, "kiosk1"), {"id": "bad2", "ticket": number, "answers": ANSWERS,
                                                            "profile": {"hobi": "catur"}})
    site.request("KTP")  # one worker, in order: the surveys above were handled
    assert sqlite3.connect(tmp_path / "antrian.db").execute("SELECT COUNT(*) FROM surveys").fetchone() == (0,)
