"""Online booking through a real dispatcher on a real broker (antrian/dispatcher/bookings.py):
slots, book, cancel and lookup on the booking topics, exactly once per (sender, id), the
kiosk's check-in, what is kept of a citizen (no name, no phone, no NIK: keyed hashes only),
expiry after a restart, and the race: 100 concurrent `book` requests for the last 10 places
give exactly 10 bookings, also with the dispatcher killed with -9 in the middle of it."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import yaml
from conftest import BUTON, always_open_raw, write_site
from helpers import SITE, STATUS, DispatcherProcess, Endpoint, rows
from test_dispatcher import Client

from antrian import protocol
from antrian.queue import codes
from antrian.slow import scaled

WEB = "publik1"
REQUEST, REPLY = protocol.booking_request(SITE, WEB), protocol.booking_reply(SITE, WEB)
TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Makassar, which keeps no summer time
MONDAY = dt.date(2026, 11, 16)
NAME, PHONE, NIK = "Wa Ode Sitti Aisyah", "0812 3456 7890", "7404015501900001"


def site(tmp_path, limits=None, **ktp):
    """Buton open round the clock; KTP's booking changed by `ktp` (quota, booking keys);
    `limits`: more of the site file's `limits:` by role."""
    raw = always_open_raw(yaml.safe_load(BUTON.read_text(encoding="utf-8")))
    raw["limits"] = {"kiosk": {"per_minute": 100000, "burst": 100000}, **(limits or {})}
    svc = raw["agencies"][0]["services"][0]
    assert svc["code"] == "KTP"
    svc["quota"] = ktp.pop("quota", svc["quota"])
    svc["booking"].update(ktp)
    return write_site(tmp_path / "site.yaml", raw)


class Clock:
    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


def book(mid: str, day: dt.date, slot: str, phone: str = PHONE, **more) -> dict:
    return {"id": mid, "action": "book", "service": "KTP", "date": day.isoformat(), "slot": slot, "name": NAME,
            "phone": phone, **more}


def test_book_look_up_check_in_and_cancel(run_dispatcher, mqtt_client, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    clock = Clock(dt.datetime.combine(MONDAY, dt.time(8, 0), tzinfo=TZ))
    run_dispatcher(config_path=site(tmp_path), clock=clock)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()

    slots = client.send(REQUEST, {"id": "s1", "action": "slots", "service": "KTP", "date": MONDAY.isoformat()}, REPLY)
    assert slots["ok"] and slots["slots"][0] == {"slot": "08:30", "capacity": 5, "free": 5}
    first = client.send(REQUEST, book("b1", MONDAY, "09:00", nik=NIK), REPLY)
    assert first["ok"], first
    booking = first["booking"]
    assert booking["status"] == "booked" and booking["slot"] == "09:00" and booking["ticket"] is None
    assert booking["checkin_from"] == "2026-11-16T08:30:00+08:00" and booking["checkin_until"] == \
        "2026-11-16T09:15:00+08:00"
    code = booking["code"]
    assert codes.parse(code) and code.startswith("RSV-")
    # exactly once: the same id again is the same reply, nothing booked twice
    assert client.send(REQUEST, book("b1", MONDAY, "09:00", nik=NIK), REPLY) == first
    # one per person: the same phone, or the same NIK with another phone
    assert client.send(REQUEST, book("b2", MONDAY, "10:00"), REPLY)["error"]["code"] == "booking_exists"
    again = client.send(REQUEST, book("b3", MONDAY, "10:00", phone="0813 0000 0000", nik=NIK), REPLY)
    assert again["error"]["code"] == "booking_exists"
    assert client.send(REQUEST, book("b4", MONDAY, "10:00", phone="12"), REPLY)["error"]["code"] == "bad_request"
    looked = client.send(REQUEST, {"id": "l1", "action": "lookup", "code": code.lower().replace("-", " ")}, REPLY)
    assert looked["booking"] == booking

    # the kiosk's check-in: too early, then a ticket marked as a booking, twice the same
    kiosk = protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1")
    early = client.send(kiosk[0], {"id": "k1", "booking": code, "priority": None}, kiosk[1])
    # the booked service comes along, so the kiosk can name it (and offer a walk-in when too late)
    assert early["error"] == {"code": "checkin_early", "message": "Silakan kembali mulai pukul 08.30",
                              "service": "KTP"}
    clock.at = clock.at.replace(minute=40)
    first_in = client.send(kiosk[0], {"id": "k2", "booking": code, "priority": None}, kiosk[1])
    ticket = first_in["ticket"]
    assert ticket["booking"] == code and ticket["service"] == "KTP" and "again" not in first_in
    # twice: the same ticket, marked as given before (a repeated id is still its first reply)
    second_in = client.send(kiosk[0], {"id": "k3", "booking": code, "priority": None}, kiosk[1])
    assert second_in["ticket"]["number"] == ticket["number"] and second_in["again"] is True
    assert client.send(kiosk[0], {"id": "k2", "booking": code, "priority": None}, kiosk[1]) == first_in
    queue = client.rec.wait_for(protocol.queue_list(SITE, "KTP"), lambda m: m.json()["waiting"]).json()
    assert queue["waiting"][0]["booking"] is True  # its presence, never the code

    # cancel: told by code and phone; the place comes back
    other = client.send(REQUEST, book("b5", MONDAY, "10:00", phone="0813 1111 2222"), REPLY)["booking"]
    wrong = client.send(REQUEST, {"id": "c1", "action": "cancel", "code": other["code"], "phone": PHONE}, REPLY)
    assert wrong["error"]["code"] == "unknown_booking"
    cancelled = client.send(REQUEST, {"id": "c2", "action": "cancel", "code": other["code"],
                                      "phone": "+62 813-1111-2222"}, REPLY)
    assert cancelled["booking"]["status"] == "cancelled"
    ten = client.send(REQUEST, {"id": "s2", "action": "slots", "service": "KTP", "date": MONDAY.isoformat()}, REPLY)
    assert next(s for s in ten["slots"] if s["slot"] == "10:00")["free"] == 5

    # nothing of the citizen is kept or published: no name, no phone, no NIK
    client.settle()
    stored = (tmp_path / "antrian.db").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("antrian.db-*"))
    published = b"".join(m.payload for m in client.rec.messages if m.topic != REQUEST)  # all but what was sent
    for secret in (NAME, "81234567890", "8131111", NIK):
        assert secret.encode() not in stored and secret.encode() not in published, secret
        assert secret not in caplog.text, secret


def test_a_flood_of_booking_requests_is_rate_limited_and_books_nothing_past_it(run_dispatcher, mqtt_client,
                                                                               tmp_path):
    """A stolen app password, or an app gone wrong: the public app's booking requests have a
    bucket of their own (limits.booking), whatever the device's `limits:` (its surveys') say.
    Past it the answer is rate_limited (one a second), nothing is booked, and the status
    names the sender."""
    clock = Clock(dt.datetime.combine(MONDAY, dt.time(8, 0), tzinfo=TZ))
    run_dispatcher(config_path=site(tmp_path, limits={"booking": {"per_minute": 6, "burst": 5}}, quota=200,
                                    capacity=50), clock=clock)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    start = time.monotonic()
    for i in range(40):
        last = client.rec.publish_json(REQUEST, book(f"f{i}", MONDAY, "10:00", phone=f"0812 7000 {i:04d}"))
    last.wait_for_publish(scaled(10))
    client.settle()
    took = time.monotonic() - start
    client.rec.wait_for(STATUS, lambda m: "rate_limited:booking/publik1" in m.json().get("problems", []), timeout=10)
    replies = [m.json() for m in client.rec.messages if m.topic == REPLY]
    ok = [r for r in replies if r["ok"]]
    refused = [r for r in replies if not r["ok"]]
    assert 5 <= len(ok) <= 5 + took / 10 + 1, (len(ok), took)
    assert refused and {r["error"]["code"] for r in refused} == {"rate_limited"}
    assert len(refused) <= took + 1  # one answer a second; the rest of a flood gets none
    assert len(rows(tmp_path / "antrian.db", "SELECT id FROM events WHERE kind = 'booked'")) == len(ok)
    # A kiosk is not held back by the app's flood: its requests have their own bucket.
    kiosk = protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1")
    assert client.send(kiosk[0], {"id": "k1", "service": "KK", "priority": None}, kiosk[1])["ok"]


def test_a_booking_expires_at_the_end_of_its_window_also_after_a_restart(run_dispatcher, mqtt_client, tmp_path):
    clock = Clock(dt.datetime.combine(MONDAY, dt.time(8, 0), tzinfo=TZ))
    path = site(tmp_path)
    first = run_dispatcher(config_path=path, clock=clock)
    client = Client(mqtt_client(topics=[f"antrian/{SITE}/#"]))
    client.wait_ready()
    code = client.send(REQUEST, book("b1", MONDAY, "09:00"), REPLY)["booking"]["code"]
    client.send(REQUEST, book("b2", MONDAY + dt.timedelta(days=1), "09:00"), REPLY)
    first.stop()
    first.store.close()
    clock.at = dt.datetime.combine(MONDAY, dt.time(9, 16), tzinfo=TZ)  # the window ended while it was down
    run_dispatcher(config_path=path, clock=clock)
    deadline = time.monotonic() + scaled(10)
    while not rows(tmp_path / "antrian.db", "SELECT kind FROM events WHERE kind = 'booking_expired'"):
        assert time.monotonic() < deadline, "no booking_expired after the restart"
        time.sleep(0.1)
    looked = client.send(REQUEST, {"id": "l1", "action": "lookup", "code": code}, REPLY)
    assert looked["booking"]["status"] == "expired"
    assert len(rows(tmp_path / "antrian.db", "SELECT kind FROM events WHERE kind = 'booking_expired'")) == 1
    # and while it runs: the next day's booking expires within a tick of its window's end
    clock.at = dt.datetime.combine(MONDAY + dt.timedelta(days=1), dt.time(9, 15, 1), tzinfo=TZ)
    deadline = time.monotonic() + scaled(10)
    while len(rows(tmp_path / "antrian.db", "SELECT kind FROM events WHERE kind = 'booking_expired'")) < 2:
        assert time.monotonic() < deadline, "the second booking did not expire"
        time.sleep(0.1)
    assert rows(tmp_path / "antrian.db", "SELECT day FROM events WHERE kind = 'booking_expired' ORDER BY id") == [
        (MONDAY.isoformat(),), ((MONDAY + dt.timedelta(days=1)).isoformat(),)]


def race(broker, site_file, tmp_path, kill: bool) -> None:
    """100 citizens book at once; 10 places (quota 20, share 0.5, one date)."""
    db = tmp_path / "antrian.db"
    dispatcher = DispatcherProcess(site_file, db, broker.address, tmp_path / "dispatcher.log")
    web = Endpoint("web", REQUEST, REPLY, broker.host, broker.port)
    watch = Endpoint("watch", STATUS, STATUS, broker.host, broker.port)
    day = (dt.datetime.now(TZ) + dt.timedelta(days=1)).date()
    answers: dict[str, dict] = {}
    lock = threading.Lock()
    try:
        dispatcher.start()
        with watch.cond:
            assert watch.cond.wait_for(lambda: any(b'"online":true' in p for ps in watch.replies.values()
                                                   for p in ps), scaled(15))

        def citizen(i: int) -> None:
            time.sleep(i * 0.01)  # arriving over a second, so the kill falls among the bookings
            reply = web.ask(book(f"race-{i:03d}", day, f"{9 + i % 6:02d}:00", phone=f"0812{i:08d}"),
                            retry=2.0, give_up=60.0)
            with lock:
                answers[reply["id"]] = reply

        threads = [threading.Thread(target=citizen, args=(i,)) for i in range(100)]
        for t in threads:
            t.start()
        if kill:
            deadline = time.monotonic() + scaled(20)
            while len(answers) < 3:
                assert time.monotonic() < deadline
                time.sleep(0.005)
            dispatcher.kill()
            killed_with = len(answers)
            time.sleep(0.5)
            dispatcher.start()
        for t in threads:
            t.join(scaled(90))
        assert len(answers) == 100
        if kill:
            assert killed_with < 100, "the dispatcher answered everything before it was killed: no race"
        ok = [a for a in answers.values() if a["ok"]]
        assert len(ok) == 10 and len({a["booking"]["code"] for a in ok}) == 10
        assert {a["error"]["code"] for a in answers.values() if not a["ok"]} <= {"booking_quota_exhausted",
                                                                                  "slot_full"}
        assert len(rows(db, "SELECT id FROM events WHERE kind = 'booked'")) == 10
        # every reply to one id, however often it was sent, is the first one byte for byte
        assert all(len(set(web.replies[mid])) == 1 for mid in answers)
    finally:
        dispatcher.cleanup()
        web.close()
        watch.close()


def test_100_concurrent_bookings_for_the_last_10_places_give_exactly_10(broker, tmp_path):
    race(broker, site(tmp_path, quota=20, share=0.5, capacity=10), tmp_path, kill=False)


def test_the_race_with_the_dispatcher_killed_with_9_in_the_middle(broker, tmp_path):
    race(broker, site(tmp_path, quota=20, share=0.5, capacity=10), tmp_path, kill=True)


BOOKING_REQUESTS = [
    # (the request, the parsed fields or the bad_request message)
    ({"id": "a", "action": "slots", "service": "KTP", "date": "2026-11-24"},
     {"service": "KTP", "date": dt.date(2026, 11, 24)}),
    ({"id": "a", "action": "book", "service": "KTP", "date": "2026-11-24", "slot": "09:30", "name": " Budi ",
      "phone": "+62 812-3456-7890", "nik": "7404 0155 0190 0001"},
     {"service": "KTP", "date": dt.date(2026, 11, 24), "slot": dt.time(9, 30), "name": "Budi",
      "phone": "081234567890", "nik": "7404015501900001"}),
    ({"id": "a", "action": "book", "service": "KTP", "date": "2026-11-24", "slot": "09:30", "name": "Budi",
      "phone": "081234567890", "nik": ""}, {"nik": None}),
    ({"id": "a", "action": "cancel", "code": "rsv 7k3m q2xa t", "phone": "081234567890"},
     {"code": "rsv 7k3m q2xa t", "phone": "081234567890"}),
    ({"id": "a", "action": "lookup", "code": "RSV-7K3M-Q2XA-T"}, {"code": "RSV-7K3M-Q2XA-T"}),
    ({"id": "a", "action": "reserve"}, "Permintaan 'reserve' tidak dikenal"),
    ({"id": "a", "action": "slots", "service": "KTP", "date": "24-11-2026"},
     "Kolom 'date' harus berupa tanggal seperti 2026-12-07"),
    ({"id": "a", "action": "book", "service": "KTP", "date": "2026-11-24", "slot": "9.30", "name": "Budi",
      "phone": "081234567890"}, "Kolom 'slot' harus berupa jam seperti 09:30"),
    ({"id": "a", "action": "book", "service": "KTP", "date": "2026-11-24", "slot": "09:30", "name": "   ",
      "phone": "081234567890"}, "Nama harus diisi"),
    ({"id": "a", "action": "book", "service": "KTP", "date": "2026-11-24", "slot": "09:30", "name": "Budi",
      "phone": "081234567890", "nik": "12345"}, "NIK harus 16 angka"),
    ({"id": "a", "action": "cancel", "code": "RSV-7K3M-Q2XA-T"}, "Nomor HP tidak valid (contoh: 0812 3456 7890)"),
]


def test_booking_requests_are_checked_for_their_action():
    for obj, expected in BOOKING_REQUESTS:
        if isinstance(expected, str):
            try:
                protocol.parse_booking(obj)
            except protocol.ProtocolError as exc:
                assert (exc.message, exc.msg_id) == (expected, "a"), obj
            else:
                raise AssertionError(f"accepted {obj}")
        else:
            parsed = protocol.parse_booking(obj)
            assert {k: getattr(parsed, k) for k in expected} == expected, obj
    # a kiosk's check-in: a code instead of a service
    assert protocol.parse_request({"id": "k", "booking": "RSV-7K3M-Q2XA-T", "priority": None}).booking == \
        "RSV-7K3M-Q2XA-T"
    assert protocol.request("k", None, None, booking="RSV-7K3M-Q2XA-T") == {
        "id": "k", "booking": "RSV-7K3M-Q2XA-T", "priority": None}
