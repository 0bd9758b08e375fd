"""The browser board's voice in a backlog and with a recall (issue 16, item 3), for real:
the dispatcher, the staff app and Debian's headless Chromium (the fixtures of
tests/test_web_papan.py). A call that waited behind another is fetched with ?ringkas=1
and said once in the short form; a recall is said "Panggilan ulang, ..." and its ticket
is listed once under the earlier calls."""

from __future__ import annotations

from antrian.slow import scaled
from test_web_papan import board3, events, hall, open_board, tv, wait_event  # noqa: F401
from web_support import css, text, wait, web_app  # noqa: F401


def test_calls_that_wait_are_said_short_and_a_recall_is_listed_once(hall):  # noqa: F811
    client, app, tv, _ = hall  # noqa: F811
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: text(d, "#petak .petak-nama") == "Loket 1", timeout=scaled(10))
    for service in ("KTP", "KK", "PBB"):
        client.request(service)
    numbers = []
    for counter in ("loket1", "loket3", "loket5"):
        reply = client.command(counter, "call_next")
        assert reply["ok"], reply
        numbers.append(reply["ticket"]["number"])
    assert client.command("loket1", "recall")["ok"]  # while the first call is still being said
    wait(tv, lambda d: len(client.calls()) >= 4, timeout=scaled(10))
    seqs = sorted(c["seq"] for c in client.calls())[-4:]
    wait_event(tv, seqs[-1], "ended", timeout=60)

    said = [(e["seq"], e["ev"]) for e in events(tv) if e["seq"] in seqs and e["ev"] in ("play", "ended")]
    assert said == [(s, ev) for s in seqs for ev in ("play", "ended")]  # each said once, in order
    # What the page asked for: the first call in full, the three behind it in the short form.
    sounds = app.web.extra["papan"].sounds
    short = sorted(key.rsplit("|", 1)[-1] for key in sounds._cache if "|short|" in key)
    a, b, h = numbers
    assert short == sorted(["be satu, loket tiga.", "ha satu, loket lima.", "Panggilan ulang, a satu, loket satu."])
    assert (a, b, h) == ("A-001", "B-001", "H-001")

    # The recall is on the big card, and A-001 is not listed again under it.
    assert text(tv, "#nomor") == a and text(tv, "#layanan") == "Panggilan ulang"
    earlier = [e.text for e in css(tv, "#sebelumnya li b") if e.text]
    assert earlier == [h, b]


def test_a_call_waiting_when_its_counter_calls_again_is_superseded(hall):  # noqa: F811
    client, app, tv, _ = hall  # noqa: F811
    open_board(tv, app.url + "/papan/board3")
    wait(tv, lambda d: text(d, "#petak .petak-nama") == "Loket 1", timeout=scaled(10))
    for service in ("KTP", "KK", "KK"):
        client.request(service)
    replies = [client.command(counter, "call_next") for counter in ("loket1", "loket3", "loket3")]
    assert all(r["ok"] for r in replies), replies
    wait(tv, lambda d: len(client.calls()) >= 3, timeout=scaled(10))
    first, dropped, latest = sorted(c["seq"] for c in client.calls())[-3:]
    wait_event(tv, latest, "ended", timeout=60)
    # B-001 was still waiting when Loket 3 called B-002: only B-002 is shown and said.
    assert [(e["seq"], e["ev"]) for e in events(tv)] == [(s, ev) for s in (first, latest)
                                                         for ev in ("shown", "play", "ended")]
    assert text(tv, "#nomor") == replies[2]["ticket"]["number"] == "B-002"
