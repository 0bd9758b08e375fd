"""The panel's quick score (issue 16, item 5): four faces facing the citizen, on gpiozero's
mock pins, a real Mosquitto and the real dispatcher (the fixtures of tests/test_panel.py).

Right after the officer finishes a service (finish, or NEXT, which finishes and calls),
one face sends that ticket's Survey with its score and counter; a face pressed with no
service just finished, or a second face, sends nothing. check-config knows the option.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
import yaml

from antrian import protocol
from antrian.errors import ConfigError
from antrian.site import load
from conftest import allday_site
from test_dispatcher import SITE
from test_panel import NEXT1, clock, commands, kiosk, pins, reply_to, serving, start_panel, tap  # noqa: F401

pytest.importorskip("gpiozero")

FACES = {1: 4, 2: 16, 3: 18, 4: 20}  # score -> BCM pin of loket1's faces


@pytest.fixture
def site_file(tmp_path):
    """The round-the-clock Buton site; panel1 quick (debounce 50 ms) with four faces on loket1."""
    path = allday_site(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    panel = next(d for d in raw["devices"] if d["id"] == "panel1")
    panel.update(hold_time=0.5, debounce_time=0.05, max_press_age=10, score_seconds=30,
                 score_buttons=[{"pin": pin, "counter": "loket1", "score": s} for s, pin in FACES.items()])
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def surveys(client):
    return [m.json() for m in client.rec.messages if m.topic == protocol.survey(SITE, "panel1")]


def test_a_face_after_next_scores_the_ticket_just_served(kiosk, start_panel, tap, clock, tmp_path):  # noqa: F811
    panel = start_panel()
    first, second = (kiosk.request("KTP")["ticket"]["number"] for _ in range(2))
    tap(FACES[4])  # nobody served yet: nothing to score
    tap(NEXT1)
    serving(kiosk, "loket1", first)
    tap(FACES[4])  # being served, not finished: still nothing
    assert panel.wait_until(lambda: panel._serving.get("loket1") == first)
    tap(NEXT1)  # finishes the first, calls the second
    serving(kiosk, "loket1", second)
    press = commands(kiosk, "loket1")[-1]
    reply_to(kiosk, "loket1", press["id"])
    assert panel.wait_until(lambda: "loket1" in panel._scoring)
    tap(FACES[3])
    tap(FACES[1])  # one score per service: the second face is ignored
    sent = kiosk.rec.wait_for(protocol.survey(SITE, "panel1")).json()
    assert {k: sent[k] for k in ("ticket", "counter", "score", "answers")} == {
        "ticket": first, "counter": "loket1", "score": 3, "answers": None}

    # An officer app's finish of the second ticket opens no window on the panel.
    assert kiosk.command("loket1", "finish")["ok"]
    tap(FACES[2])
    kiosk.settle()
    assert [s["score"] for s in surveys(kiosk)] == [3]

    # The panel's own finish does, for score_seconds only.
    third = kiosk.request("KTP")["ticket"]["number"]
    reply_to(kiosk, "loket1", panel.send("loket1", "call_next").id)
    serving(kiosk, "loket1", third)
    # The panel learns what it serves from its counter's state, which may reach it after the
    # board reached this test: an officer's hand is never that quick.
    assert panel.wait_until(lambda: panel._serving.get("loket1") == third)
    reply_to(kiosk, "loket1", panel.send("loket1", "finish").id)
    assert panel.wait_until(lambda: panel._scoring.get("loket1", ("",))[0] == third)
    clock.offset += 31  # past score_seconds
    tap(FACES[2])
    kiosk.settle()
    assert [s["score"] for s in surveys(kiosk)] == [3]

    # The dispatcher stored the quick score with its ticket and counter, no answers.
    rows = sqlite3.connect(tmp_path / "antrian.db").execute(
        "SELECT device, ticket, counter, score, answers FROM surveys").fetchall()
    assert rows == [("panel1", first, "loket1", 3, None)]


def test_check_config_knows_the_score_buttons(tmp_path):
    path = allday_site(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    panel = next(d for d in raw["devices"] if d["id"] == "panel1")
    panel["score_buttons"] = [{"pin": 4, "counter": "loket1", "score": 1}, {"pin": 16, "counter": "loket1", "score": 1},
                              {"pin": 17, "counter": "loket1", "score": 5}]
    panel["score_seconds"] = 1
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    text = str(caught.value)
    assert "score_buttons[1].score: counter 'loket1' already has a button for score 1" in text
    assert "score_buttons[2].pin: pin 17 is already used" in text
    assert "score_buttons[2].score" in text and "score_seconds" in text


def test_the_panel_may_publish_its_surveys_only_with_score_buttons(site_file):
    from hardware.wing import acl

    config = load(site_file)
    assert ("write", protocol.survey(SITE, "panel1")) in acl(config, "panel1")
    assert ("write", protocol.survey(SITE, "panel2")) not in acl(config, "panel2")
    assert json.dumps(acl(config, "panel2"))  # plain data


def test_the_counter_display_invites_the_score_while_the_faces_wait():
    from hardware.screen import SCORE_NOTE, ScreenState, draw

    state = ScreenState("Loket 1")
    state.on_state({"status": "open", "serving": {"number": "A-002"}, "recalls": 0, "waiting": 3}, 100.0)
    assert state.view(100.0)[0].note == "Menunggu: 3"
    state.scoring(130.0)
    view, wake = state.view(100.0)
    assert (view.big, view.note, wake) == ("A-002", SCORE_NOTE, 30.0)
    assert state.view(130.0)[0].note == "Menunggu: 3"  # the faces' time is over
    state.scoring(160.0)
    state.scoring(None)  # a face was pressed
    assert state.view(131.0)[0].note == "Menunggu: 3"
    # It fits the 128x64 display's line at one of its note sizes (the drawing never shrinks further).
    from PIL import Image, ImageDraw

    from hardware.screen import NOTE_SIZES, _spaced, font

    d = ImageDraw.Draw(Image.new("1", (128, 64)))
    assert min(d.textlength(_spaced(SCORE_NOTE), font=font(size)) for size in NOTE_SIZES) <= 126
    draw(d, (128, 64), view)
