"""The kiosk's survey tied to a ticket (issue 16, item 5): the real Kivy app in its own
process under Xvfb, a real Mosquitto and the real dispatcher (tests/test_kiosk_ui.py's
fixtures). The citizen types the number on their ticket; a number not served today
stays on the first step with the dispatcher's reason; a served one leads to the nine
questions and the optional profile, and the survey is stored with its ticket, the
counter that served it and the profile.

Screenshots: test-artifacts/kiosk-<size>-survey-*.png.
"""

from __future__ import annotations

import json
import sqlite3
import time

from test_dispatcher import SITE, Client
from test_kiosk_ui import open_kiosk, printer, shot, site_file  # noqa: F401

from antrian import protocol
from kiosk import skm


def until(kiosk, check, timeout=10.0):
    """Poll the kiosk's widgets and labels until check(keys, labels) holds."""
    deadline = time.monotonic() + timeout * kiosk.slow
    while True:
        reply = kiosk.call("widgets")
        keys = {w["key"] for w in reply["widgets"]}
        if check(keys, reply["labels"]):
            return keys, reply["labels"]
        assert time.monotonic() < deadline, (keys, reply["labels"])
        time.sleep(0.05)


def type_number(kiosk, prefix, digits):
    kiosk.tap(f"prefix:{prefix}")
    for d in digits:
        kiosk.tap(f"digit:{d}")
    kiosk.tap("next")


def test_a_survey_starts_with_a_ticket_served_today(open_kiosk, run_dispatcher, mqtt_client, tmp_path):  # noqa: F811
    run_dispatcher()
    site = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    site.wait_ready()
    served = site.request("KTP")["ticket"]["number"]
    waiting = site.request("KTP")["ticket"]["number"]
    assert site.command("loket1", "call_next")["ticket"]["number"] == served
    assert site.command("loket1", "finish")["ok"]

    kiosk = open_kiosk()
    kiosk.wait(screen="home", online=True, catalog=True)
    kiosk.tap("survey")
    kiosk.wait(screen="survey")
    keys, labels = until(kiosk, lambda k, _: "prefix:A" in k and "digit:0" in k)
    assert skm.ASK_TICKET in labels
    small = [w["key"] for w in kiosk.widgets() if w["shown"] and min(w["size"]) > 0
             and min(w["size"]) < kiosk.state()["touch"] - 0.5]
    assert not small, small
    shot(kiosk, "1280x800", "survey-ticket")

    type_number(kiosk, "A", "99")
    until(kiosk, lambda _, lb: any("tidak ditemukan pada antrean hari ini" in t for t in lb))
    assert "answer:1" not in {w["key"] for w in kiosk.widgets()}
    shot(kiosk, "1280x800", "survey-wrong-number")
    prefix, digits = waiting.split("-")
    type_number(kiosk, prefix, digits.lstrip("0"))
    until(kiosk, lambda _, lb: any("belum selesai dilayani" in t for t in lb))

    prefix, digits = served.split("-")
    type_number(kiosk, prefix, digits.lstrip("0"))
    _, labels = until(kiosk, lambda k, _: "answer:1" in k)
    assert any(served in t and "Loket 1" in t for t in labels), labels
    shot(kiosk, "1280x800", "survey-question")
    answers = [3, 4, 2, 4, 3, 3, 4, 1, 3]
    for score in answers:
        kiosk.tap(f"answer:{score}")
    until(kiosk, lambda k, _: "profile:30-39" in k and "skip" in k)
    shot(kiosk, "1280x800", "survey-profile")
    kiosk.tap("profile:30-39")
    until(kiosk, lambda k, _: "profile:L" in k)
    kiosk.tap("skip")  # jenis kelamin left unanswered
    until(kiosk, lambda k, _: "profile:SMA" in k)
    kiosk.tap("profile:SMA")
    until(kiosk, lambda k, _: "profile:Swasta" in k)
    kiosk.tap("profile:Swasta")
    until(kiosk, lambda k, _: "finish" in k)
    shot(kiosk, "1280x800", "survey-thanks")

    deadline = time.monotonic() + 5 * kiosk.slow
    rows = []
    while not rows and time.monotonic() < deadline:
        rows = sqlite3.connect(tmp_path / "antrian.db").execute(
            "SELECT device, ticket, counter, answers, profile FROM surveys").fetchall()
        time.sleep(0.05)
    assert rows, "no survey stored"
    device, ticket, counter, stored, profile = rows[0]
    assert (device, ticket, counter) == ("kiosk1", served, "loket1")
    assert json.loads(stored) == {f"U{i}": s for i, s in enumerate(answers, start=1)}
    assert json.loads(profile) == {"umur": "30-39", "pendidikan": "SMA", "pekerjaan": "Swasta"}
    # The kiosk's request for the number was a lookup, not a ticket.
    requests = [m.json() for m in site.rec.messages if m.topic == protocol.kiosk_request(SITE, "kiosk1")]
    assert [r.get("survey_ticket") for r in requests] == [None, None, "A-099", waiting, served]  # the test's two tickets
    assert [m for m in site.rec.messages if m.topic == protocol.kiosk_reply(SITE, "kiosk1")
            and (m.json().get("ticket") or {}).get("number") not in (None, served, waiting)] == []

    # The same ticket cannot be surveyed twice.
    kiosk.tap("finish")
    kiosk.wait(screen="home")
    kiosk.tap("survey")
    kiosk.wait(screen="survey")
    type_number(kiosk, prefix, digits.lstrip("0"))
    until(kiosk, lambda _, lb: any("sudah diisi hari ini" in t for t in lb))

    # Portrait: every key of the pad (the example's 12 ticket letters A-M, ten digits, Hapus, Lanjut)
    # whole on screen, none under 15 mm.
    assert kiosk.resize("800x1280")["window"] == [800, 1280]
    time.sleep(0.3 * kiosk.slow)
    pad = [w for w in kiosk.widgets() if w["key"].startswith(("prefix:", "digit:")) or w["key"] in ("erase", "next")]
    assert len(pad) == 12 + 10 + 2 and all(w["shown"] for w in pad), [w["key"] for w in pad if not w["shown"]]
    assert min(min(w["size"]) for w in pad) >= kiosk.state()["touch"] - 0.5
    shot(kiosk, "800x1280", "survey-ticket")


def test_the_number_pad_and_a_scanned_ticket_qr():
    assert skm.number_from_scan("https://antre.example.id/t/A-012-20261204-k3m9q2xa7bd4fw5c") == "A-012"
    assert skm.number_from_scan("a12") == "A-012" and skm.number_from_scan("RSV-7K3M") is None
    body = skm.payload({f"U{i}": 4 for i in range(1, 10)}, ticket="A-012", profile={"umur": "60+", "pekerjaan": None})
    assert body["profile"] == {"umur": "60+"} and body["counter"] is None
    assert protocol.parse_survey(body).profile == {"umur": "60+"}
    assert "profile" not in skm.payload({f"U{i}": 4 for i in range(1, 10)})
