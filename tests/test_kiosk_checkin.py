"""The check-in of an online booking at the kiosk (issue 15, item 5), as a citizen meets it:
the real Kivy kiosk under Xvfb (tests/kiosk_remote.py), a real Mosquitto, the real
dispatcher and the TCP fake printer. Bookings are made over MQTT as the public app makes
them; the kiosk gets the codes from its barcode scanner -- keystrokes written as Linux
input events into the named pipe its `scanner` option names (kiosk/scanner.py reads it
like a device; a real device through uinput is tests/test_kiosk_scanner.py's, where the
kernel has uinput) -- or from taps on its keypad.

The dispatcher's clock starts at 10:00 of today (site time) and runs on from there, so
the booking windows do not depend on when the suite runs; the kiosk's requests carry its
real time, so the site allows requests up to a day old. Screenshots of the new screens go
to test-artifacts/ (kiosk-checkin-*.png)."""

from __future__ import annotations

import datetime as dt
import errno
import os
import time
import uuid

import pytest
import yaml
from escpos_decode import decode
from kiosk_remote import KioskRemote
from kiosk_support import ARTIFACTS, kiosk_site
from test_display_ui import Board
from test_kiosk_scanner import events

from antrian import protocol
from antrian.queue import codes
from antrian.slow import scaled
from kiosk import texts
from kiosk.fakeprinter import FakePrinter

SITE = "buton"
TZ = dt.timezone(dt.timedelta(hours=8))  # Asia/Makassar
REQUEST, REPLY = protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1")
BOOK, BOOKED = protocol.booking_request(SITE, "publik1"), protocol.booking_reply(SITE, "publik1")
FAST = {"kiosk.desk.RECOVERY_SECONDS": scaled(0.3), "kiosk.desk.REPLY_TIMEOUT": scaled(1.0),
        "kiosk.app.DONE_SECONDS": 3600, "kiosk.scanner.RETRY_SECONDS": 0.2}


class SiteClock:
    """The dispatcher's wall clock: today `start` (site time) when made, running on in real
    time; `skip` moves it ahead."""

    def __init__(self, start: dt.time):
        today = dt.datetime.now(TZ).date()
        self.origin = dt.datetime.combine(today, start, tzinfo=TZ)
        self.began = time.monotonic()

    def __call__(self) -> dt.datetime:
        return self.origin + dt.timedelta(seconds=time.monotonic() - self.began)

    def skip(self, minutes: float) -> None:
        self.origin += dt.timedelta(minutes=minutes)


class Scanner:
    """The writing end of the kiosk's scanner pipe: a scan is the keystrokes of one line."""

    def __init__(self, path):
        self.path = path
        os.mkfifo(path)
        self.fd: int | None = None

    def scan(self, text: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + scaled(timeout)
        while self.fd is None:
            try:  # no reader yet (the kiosk still starting): ENXIO
                self.fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        os.write(self.fd, events(text))

    def unplug(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@pytest.fixture
def printer():
    with FakePrinter() as fake:
        yield fake


@pytest.fixture
def scanner(tmp_path):
    pipe = Scanner(tmp_path / "scanner.fifo")
    yield pipe
    pipe.unplug()


@pytest.fixture
def site_file(tmp_path, printer, scanner):
    path = kiosk_site(tmp_path, printer.port, kiosk={"scanner": str(scanner.path)})
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    # The kiosk's `at` is the real time, the dispatcher's clock today's 10:00 and on.
    raw["limits"]["kiosk"]["max_age_seconds"] = 86400
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def clock():
    return SiteClock(dt.time(10, 0))


@pytest.fixture
def world(run_dispatcher, mqtt_client, clock):
    run_dispatcher(clock=clock)
    watch = mqtt_client(topics=[f"antrian/{SITE}/#"])
    watch.wait_for(protocol.catalog(SITE))
    return watch


@pytest.fixture
def open_kiosk(site_file, broker, tmp_path):
    opened = []

    def start(size="1280x800"):
        remote = KioskRemote(site_file, "kiosk1", broker.address, size=size, patches=FAST,
                             log_path=tmp_path / f"kiosk-{len(opened)}.log")
        opened.append(remote)
        return remote.start()

    yield start
    for remote in opened:
        remote.close()


def send(watch, topic, reply, obj):
    watch.publish_json(topic, obj)
    return watch.wait_for(reply, lambda m: m.json().get("id") == obj["id"]).json()


def book(watch, slot: str, phone: str, service: str = "KTP") -> str:
    """A booking of today's `slot` made as the public app makes it; its code as shown."""
    reply = send(watch, BOOK, BOOKED, {"id": uuid.uuid4().hex, "action": "book", "service": service,
                                       "date": dt.datetime.now(TZ).date().isoformat(), "slot": slot,
                                       "name": "Wa Ode Sitti Aisyah", "phone": phone})
    assert reply["ok"], reply
    return reply["booking"]["code"]


def shot(kiosk, what, size="1280x800"):
    return kiosk.shot(ARTIFACTS / f"kiosk-checkin-{size}-{what}.png")


def typed_requests(watch) -> list[dict]:
    return [m.json() for m in watch.messages if m.topic == REQUEST]


def test_scanned_booking_is_printed_called_and_announced(world, open_kiosk, printer, scanner, site_file, broker,
                                                          tmp_path):
    board = Board(site_file, broker.address, tmp_path / "board-state", "1280x720", tmp_path / "board.log")
    try:
        code = book(world, "10:30", "0812 3456 7890")  # check-in from 10:00
        kiosk = open_kiosk()
        kiosk.wait(screen="home", online=True, catalog=True, scanner_ready=True)
        scanner.scan(code)
        state = kiosk.wait(screen="done", busy=False, outcome="printed", timeout=10)
        assert state["done_title"] == texts.CHECKIN_DONE
        assert state["done_booking"] == texts.reservation(code)
        shot(kiosk, "done")
        request = typed_requests(world)[-1]
        assert request["booking"] == codes.parse(code) and "service" not in request or request["service"] is None
        reply = world.wait_for(REPLY, lambda m: m.json().get("id") == request["id"]).json()
        ticket = reply["ticket"]
        assert ticket["booking"] == code and ticket["service"] == "KTP" and ticket["number"] == state["number"]
        paper = decode(bytes(printer.wait_for_jobs(1, timeout=5 * kiosk.slow)[0].data))
        assert ticket["number"] in paper.lines and "KTP Elektronik (perekaman, cetak," in paper.text
        assert f"RESERVASI: {code}" in paper.text  # the inverted marker, with the code as booked

        # The officer's NEXT calls it; the board shows it as a booking and says it.
        board.wait(connected=True, have_board=True, timeout=30)
        called = send(world, protocol.counter_command(SITE, "loket1"), protocol.counter_reply(SITE, "loket1"),
                      {"id": uuid.uuid4().hex, "action": "call_next"})
        assert called["ok"] and called["ticket"]["number"] == ticket["number"], called
        shown = board.wait(latest_number=ticket["number"], idle=True, spoken=1, timeout=30)
        assert shown["latest_booking"] is True
        board.shot("kiosk-checkin-board-1280x720.png")
    finally:
        board.close()


def test_typo_early_late_twice_and_unknown(world, open_kiosk, printer, scanner, clock):
    soon = book(world, "10:30", "0812 1111 0001")
    later = book(world, "12:00", "0812 1111 0002")
    missed = book(world, "10:30", "0812 1111 0003")
    kiosk = open_kiosk()
    kiosk.wait(screen="home", online=True, catalog=True)
    shot(kiosk, "home")
    kiosk.tap("checkin")
    state = kiosk.wait(screen="reservasi")
    assert state["checkin_code"] == "" and state["message"] == ""
    shot(kiosk, "empty")

    # Typed on the keypad with one character wrong: caught here, nothing is sent.
    body = codes.parse(soon)
    wrong = body[:3] + ("0" if body[3] != "0" else "1") + body[4:]
    for char in wrong[:5]:
        kiosk.tap(f"key:{char}")
    assert kiosk.state()["checkin_code"] == wrong[:5]
    shot(kiosk, "typing")
    kiosk.tap("checkin")
    assert kiosk.wait(message=texts.CODE_SHORT)["screen"] == "reservasi"
    for char in wrong[5:]:
        kiosk.tap(f"key:{char}")
    state = kiosk.wait(message=texts.CODE_TYPO)
    shot(kiosk, "typo")
    kiosk.tap("checkin")
    time.sleep(0.3 * kiosk.slow)
    assert kiosk.state()["message"] == texts.CODE_TYPO and typed_requests(world) == []

    # Corrected with "Hapus" and sent: a ticket for the booking.
    for _ in range(6):
        kiosk.tap("key:erase")
    for char in body[3:]:
        kiosk.tap(f"key:{char}")
    assert kiosk.wait(checkin_code=body)["message"] == ""
    kiosk.tap("checkin")
    first = kiosk.wait(screen="done", busy=False, outcome="printed")
    assert first["done_title"] == texts.CHECKIN_DONE
    kiosk.tap("finish")
    kiosk.wait(screen="home")

    # Twice: the same ticket printed again, and the screen says so.
    scanner.scan(soon.lower())  # a scanner with Caps Lock on types it in lower case
    again = kiosk.wait(screen="done", busy=False, outcome="printed", done_title=texts.CHECKIN_AGAIN)
    assert again["number"] == first["number"] and again["done_booking"] == texts.reservation(soon, again=True)
    shot(kiosk, "again")
    jobs = printer.wait_for_jobs(2, timeout=5 * kiosk.slow)
    assert [first["number"] in decode(bytes(job.data)).lines for job in jobs] == [True, True]
    kiosk.tap("finish")
    kiosk.wait(screen="home")

    # Too early: when to come back, from the dispatcher. The scanner was unplugged and
    # plugged in again meanwhile: the kiosk reads it again by itself.
    scanner.unplug()
    time.sleep(scaled(0.5))  # the kiosk notices (a writer that came back sooner would just go on)
    scanner.scan(later)
    state = kiosk.wait(screen="reservasi", busy=False, checkin_refusal="checkin_early")
    assert state["message"] == "Silakan kembali mulai pukul 11.30"
    assert not [w for w in kiosk.widgets() if w["key"] == "walkin"]
    shot(kiosk, "early")

    # Unknown: a code with a right check character that nobody booked.
    nobody = codes.new_code()
    scanner.scan(codes.display(nobody))
    state = kiosk.wait(screen="reservasi", busy=False, checkin_refusal="unknown_booking")
    assert state["message"] == "Kode reservasi tidak dikenal; periksa kembali kodenya"

    # Something that is no booking code at all (a ticket's QR, say): said at once, not sent.
    sent = len(typed_requests(world))
    scanner.scan("antrian:buton:2026-12-04:A-001")
    state = kiosk.wait(message=texts.CODE_NOT_BOOKING)
    assert len(typed_requests(world)) == sent

    # Too late: the reason, and a walk-in ticket for the booked service offered.
    clock.skip(50)  # 10:50: the 10:30 slot's check-in closed at 10:45
    scanner.scan(missed)
    state = kiosk.wait(screen="reservasi", busy=False, checkin_refusal="checkin_late")
    assert state["message"].startswith("Batas lapor diri reservasi ini pukul 10.45 sudah lewat")
    walkin = [w for w in kiosk.widgets() if w["key"] == "walkin"]
    assert walkin and walkin[0]["text"] == texts.walk_in("KTP Elektronik (perekaman, cetak, penggantian)")
    shot(kiosk, "late")
    kiosk.tap("walkin")
    kiosk.wait(screen="priority")
    kiosk.tap("priority:none")
    kiosk.wait(screen="confirm")
    kiosk.tap("confirm")
    state = kiosk.wait(screen="done", busy=False, outcome="printed")
    assert state["done_booking"] == "" and state["done_title"] == texts.TAKE_TICKET
    walk_in = world.wait_for(REPLY, lambda m: (m.json().get("ticket") or {}).get("number") == state["number"]).json()
    assert walk_in["ticket"]["service"] == "KTP" and walk_in["ticket"]["booking"] is None


def test_keypad_fits_a_portrait_screen_and_keys_are_large(world, open_kiosk):
    kiosk = open_kiosk(size="800x1280")
    kiosk.wait(screen="home", online=True, catalog=True)
    shot(kiosk, "home", size="800x1280")
    kiosk.tap("checkin")
    state = kiosk.wait(screen="reservasi")
    widgets = kiosk.widgets()
    keys = [w for w in widgets if w["key"].startswith("key:")]
    assert len(keys) == 38  # 10 digits, 22 letters, 5 check characters, "Hapus"
    small = [(w["key"], w["size"]) for w in widgets if min(w["size"]) < state["touch"] - 0.5]
    assert not small, f"smaller than 15 mm ({state['touch']:.0f} px): {small}"
    for char in "7K3M":
        kiosk.tap(f"key:{char}")
    shot(kiosk, "typing", size="800x1280")
