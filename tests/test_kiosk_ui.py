"""The kiosk as a citizen meets it: the real Kivy app in its own process (one window per
process, under Xvfb), touched through kiosk_remote, against a real Mosquitto, the real
dispatcher and a fake network printer on 127.0.0.1.

Every screen is kept as a screenshot in test-artifacts/ (kiosk-<size>-<what>.png).
Waits and the kiosk's times are in seconds on the reference machine, scaled to this one
by `kiosk.slow` (tests/kiosk_remote.py: the machine's factor, or the window's measured
start-up), so a slow machine's drawing does not outrun them. The test kiosks never go
home by themselves (tests/kiosk_support.py) unless a test sets idle_seconds."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time

import pytest
import yaml
from conftest import ROOT
from escpos_decode import decode
from kiosk_remote import KioskRemote
from kiosk_support import ARTIFACTS, kiosk_site

from antrian import bahasa, protocol
from antrian.slow import scaled
from kiosk.fakeprinter import FakePrinter
from kiosk.printer import MESSAGES
from kiosk.texts import GANGGUAN

SITE = "buton"
REQUEST = protocol.kiosk_request(SITE, "kiosk1")
REPLY = protocol.kiosk_reply(SITE, "kiosk1")
STATUS = protocol.status(SITE, "kiosk1")
# The done screen stays until the test taps "finish" (a slow machine's screenshot of it can
# take longer than the 12 s it stays on site).
FAST = {"kiosk.desk.RECOVERY_SECONDS": scaled(0.3), "kiosk.desk.REPLY_TIMEOUT": scaled(1.0),
        "kiosk.app.DONE_SECONDS": 3600}


@pytest.fixture
def printer():
    with FakePrinter() as fake:
        yield fake


@pytest.fixture
def site_file(tmp_path, printer):
    return kiosk_site(tmp_path, printer.port)


@pytest.fixture
def open_kiosk(site_file, broker, tmp_path):
    opened = []

    def start(size="1280x800", site=None, patches=FAST, screen=None):
        remote = KioskRemote(site or site_file, "kiosk1", broker.address, size=size, screen=screen, patches=patches,
                             log_path=tmp_path / f"kiosk-{len(opened)}.log")
        opened.append(remote)
        return remote.start()

    yield start
    for remote in opened:
        remote.close()


def shot(kiosk, size, what):
    return kiosk.shot(ARTIFACTS / f"kiosk-{size}-{what}.png")


def assert_touch_targets(kiosk):
    """Every touchable widget is at least 15 mm in both directions."""
    touch = kiosk.state()["touch"]
    small = [(w["key"], w["size"]) for w in kiosk.widgets() if min(w["size"]) < touch - 0.5]
    assert not small, f"smaller than 15 mm ({touch:.0f} px): {small}"


def walk_to_confirm(kiosk, agency="disdukcapil", service="KTP", priority="none", size=None):
    for key, screen in ((f"agency:{agency}", "services"), (f"service:{service}", "priority"),
                        (f"priority:{priority}", "confirm")):
        kiosk.tap(key)
        kiosk.wait(screen=screen)
        if size:
            assert_touch_targets(kiosk)
            shot(kiosk, size, screen)


def test_take_a_ticket_by_touch(open_kiosk, run_dispatcher, printer, mqtt_client, tmp_path):
    run_dispatcher()
    watch = mqtt_client(topics=[REQUEST, REPLY, STATUS])
    kiosk = open_kiosk()
    kiosk.wait(screen="home", online=True, catalog=True)
    assert_touch_targets(kiosk)
    shot(kiosk, "1280x800", "home")
    walk_to_confirm(kiosk, priority="lansia", size="1280x800")

    # An impatient citizen taps three times: the button is disabled by the first tap.
    kiosk.tap("confirm", times=3)
    state = kiosk.wait(screen="done", busy=False)
    assert state["outcome"] == "printed" and state["number"] == "A-001"
    shot(kiosk, "1280x800", "done")
    requests = [m.json() for m in watch.messages if m.topic == REQUEST]
    # `at`: when the citizen pressed, by the kiosk's clock (docs/protocol.md, Request).
    assert [dt.datetime.fromisoformat(r.pop("at")).tzinfo is not None for r in requests] == [True]
    assert requests == [{"id": state["order"], "service": "KTP", "priority": "lansia"}]

    job = printer.wait_for_jobs(1, timeout=5 * kiosk.slow)[0]
    paper = decode(bytes(job.data))
    ticket = watch.wait_for(REPLY).json()["ticket"]
    assert "A-001" in paper.lines and "KTP Elektronik (perekaman, cetak," in paper.text
    assert bahasa.tanggal(dt.datetime.fromisoformat(ticket["issued_at"])) in paper.lines  # "..., pukul 09.15 WITA"
    assert "PRIORITAS: LANSIA (60 TAHUN KE ATAS)" in paper.text
    time.sleep(0.3 * kiosk.slow)
    assert len(printer.jobs) == 1

    # The survey from home starts with the ticket's number (tests/test_kiosk_survey.py goes on).
    kiosk.tap("finish")
    kiosk.wait(screen="home")
    kiosk.tap("survey")
    kiosk.wait(screen="survey")
    assert_touch_targets(kiosk)
    assert {"prefix:A", "digit:1", "next"} <= {w["key"] for w in kiosk.widgets()}
    shot(kiosk, "1280x800", "survey")


def test_closed_service_full_quota_and_idle_reset(open_kiosk, run_dispatcher, printer, tmp_path):
    site = kiosk_site(tmp_path, printer.port, services={"KTP": {"quota": 1}}, closed=("KK",))
    run_dispatcher(site)
    kiosk = open_kiosk(site=site)
    kiosk.wait(screen="home", online=True, catalog=True)
    kiosk.tap("agency:disdukcapil")
    kiosk.wait(screen="services")
    cards = {w["key"]: w for w in kiosk.widgets()}
    assert cards["service:KK"]["available"] is False
    assert cards["service:KK"]["status"] == "Tidak dapat dipilih: Layanan ini tidak buka hari ini"
    kiosk.tap("service:KK")
    time.sleep(0.3 * kiosk.slow)
    assert kiosk.state()["screen"] == "services"  # it cannot be picked

    kiosk.tap("back")
    kiosk.wait(screen="home")
    walk_to_confirm(kiosk)
    kiosk.tap("confirm")
    assert kiosk.wait(screen="done")["number"] == "A-001"
    kiosk.tap("finish")
    kiosk.wait(screen="home")
    kiosk.tap("agency:disdukcapil")
    kiosk.wait(screen="services")
    card = next(w for w in kiosk.widgets() if w["key"] == "service:KTP")
    assert card["available"] is False and card["status"] == "Tidak dapat dipilih: Kuota hari ini sudah habis"
    shot(kiosk, "1280x800", "services-closed-and-quota")
    # idle_seconds from now on: 4 s on the reference machine, more where a step takes longer.
    idle = round(4 * kiosk.slow)
    kiosk.idle(idle)
    kiosk.tap("service:KTP")  # a touch: the idle time starts again
    time.sleep(0.3 * kiosk.slow)
    assert kiosk.state()["screen"] == "services"

    # Nobody touches it for idle_seconds: back home.
    idle_from = time.monotonic()
    kiosk.wait(screen="home", timeout=8)  # scaled by kiosk.slow, as idle is
    assert time.monotonic() - idle_from >= idle - kiosk.slow


def test_printer_and_broker_failures_on_screen_then_recovery(open_kiosk, run_dispatcher, broker, printer,
                                                             mqtt_client):
    run_dispatcher()
    watch = mqtt_client(topics=[REQUEST, STATUS])
    printer.set_status(paper_out=True)
    kiosk = open_kiosk()
    state = kiosk.wait(screen="home", catalog=True, problems=["paper_out"])
    assert state["alert"] == MESSAGES["paper_out"]
    shot(kiosk, "1280x800", "home-paper-out")
    walk_to_confirm(kiosk)
    confirm = next(w for w in kiosk.widgets() if w["key"] == "confirm")
    assert confirm["disabled"] is True  # no ticket while the printer is known to be out of paper
    shot(kiosk, "1280x800", "confirm-paper-out")
    watch.wait_for(STATUS, lambda m: m.json()["problems"] == ["paper_out"])

    printer.set_status()  # refilled: the kiosk notices by itself
    kiosk.wait(problems=[], timeout=5)
    printer.close_after = 300  # ...but it hangs up in the middle of the ticket
    kiosk.tap("confirm")
    state = kiosk.wait(screen="done", busy=False)
    assert state["outcome"] == "print_failed" and state["number"] == "A-001"  # valid, and on screen, large
    shot(kiosk, "1280x800", "done-print-failed")
    watch.wait_for(STATUS, lambda m: m.json()["problems"] == ["printer_offline"])
    printer.close_after = None
    kiosk.wait(problems=[], timeout=5)
    watch.wait_for(STATUS, lambda m: m.json()["problems"] == [] and m.json()["online"])

    # The broker goes away: the kiosk says so and takes no ticket, then recovers by itself.
    kiosk.tap("finish")
    kiosk.wait(screen="home")
    walk_to_confirm(kiosk)
    broker.kill()
    state = kiosk.wait(online=False, timeout=5)
    assert state["alert"].startswith(GANGGUAN)
    assert next(w for w in kiosk.widgets() if w["key"] == "confirm")["disabled"] is True
    shot(kiosk, "1280x800", "confirm-broker-down")
    broker.restart()
    kiosk.wait(online=True, timeout=10)
    time.sleep(0.5 * kiosk.slow)  # the dispatcher is back too
    kiosk.tap("confirm")
    state = kiosk.wait(screen="done", busy=False)
    assert state["outcome"] == "printed" and state["number"] == "A-002"
    assert len(printer.jobs) == 2


def test_the_technician_line_says_in_words_that_the_dispatchers_clock_is_behind(open_kiosk, run_dispatcher,
                                                                                  mqtt_client):
    run_dispatcher()
    kiosk = open_kiosk()
    state = kiosk.wait(screen="home", online=True, catalog=True)
    assert state["tech_line"] == ""
    # The dispatcher's retained status, as it publishes it when its clock is behind the store.
    status = protocol.status(SITE, "dispatcher")
    behind = protocol.device_status("dispatcher", "dispatcher", True, ["clock_behind"], "test",
                                    "2026-11-23T09:00:00+08:00")
    publisher = mqtt_client(topics=[])
    publisher.publish_json(status, behind, retain=True).wait_for_publish(5)
    state = kiosk.wait(tech_line="Jam server tertinggal — hubungi teknisi", timeout=5)
    assert state["alert"] == ""  # the citizen's banner stays for what stops a ticket
    shot(kiosk, "1280x800", "home-clock-behind")
    publisher.publish_json(status, {**behind, "problems": []}, retain=True).wait_for_publish(5)
    kiosk.wait(tech_line="", timeout=5)


def test_other_screen_sizes(open_kiosk, run_dispatcher):
    """A 15"-21" screen (1920x1080), a 10" one turned to portrait (800x1280) and a portrait
    totem (1080x1920): one window, resized, so one Kivy start serves them all."""
    run_dispatcher()
    kiosk = open_kiosk(size="1920x1080", screen="1920x1920")
    kiosk.wait(screen="home", online=True, catalog=True)
    flow = (("agency:dpmptsp", "services"), ("service:PBG", "priority"), ("priority:ibu_hamil", "confirm"),
            ("confirm", "done"), ("finish", "home"))
    for size, steps in (("1920x1080", flow), ("800x1280", flow[:1]), ("1080x1920", ())):
        assert kiosk.resize(size)["window"] == [int(n) for n in size.split("x")]
        time.sleep(0.3 * kiosk.slow)  # the tiles follow the new size in a frame or two: tap them after
        assert_touch_targets(kiosk)
        shot(kiosk, size, "home")
        for key, screen in steps:
            kiosk.tap(key)
            kiosk.wait(screen=screen)
            assert_touch_targets(kiosk)
            if screen in ("services", "done"):
                shot(kiosk, size, screen)
        if steps and steps[-1][1] != "home":
            kiosk.tap("back")
            kiosk.wait(screen="home")


def test_antrian_kiosk_runs_and_stops_cleanly(run_dispatcher, broker, site_file, mqtt_client, tmp_path):
    """The command a technician starts: online in the retained status, offline after SIGTERM."""
    run_dispatcher()
    watch = mqtt_client(topics=[STATUS])
    with open(tmp_path / "kiosk.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "antrian.cli", "kiosk", "--config", str(site_file),
                                 "--device", "kiosk1", "--broker", broker.address, "--windowed"],
                                cwd=ROOT, stdout=log, stderr=log)
    try:
        online = watch.wait_for(STATUS, lambda m: m.json().get("online") is True, timeout=20).json()
        assert online["problems"] == [] and online["role"] == "kiosk"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=scaled(20))
    assert code == 0, (tmp_path / "kiosk.log").read_text()
    assert watch.wait_for(STATUS, lambda m: m.json() == {"device": "kiosk1", "role": "kiosk", "online": False})


# -- issue 16, item 6: every service in sight, tiles that say what an agency does, and why not --

SIZES = ("1280x800", "1920x1080", "800x1280", "1080x1920")


def with_logo(site, agency: str = "disdukcapil"):
    """The site file with a logo for one agency: a ring with its letter, drawn here."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 248, 248), fill=(255, 255, 255, 255), outline=(13, 59, 102, 255), width=18)
    draw.rectangle((96, 64, 112, 192), fill=(13, 59, 102, 255))
    draw.pieslice((40, 64, 200, 192), -90, 90, fill=(13, 59, 102, 255))
    draw.pieslice((72, 96, 168, 160), -90, 90, fill=(255, 255, 255, 255))
    image.save(site.parent / f"logo-{agency}.png")
    raw = yaml.safe_load(site.read_text(encoding="utf-8"))
    next(a for a in raw["agencies"] if a["id"] == agency)["logo"] = f"logo-{agency}.png"
    site.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return site


def test_every_service_is_on_screen_without_a_drag_and_tiles_name_services(open_kiosk, run_dispatcher, site_file):
    """At each kiosk size, every agency's services are whole on screen as the screen opens
    (Disdukcapil's five too); the tiles name up to three services, one has its logo."""
    with_logo(site_file)
    run_dispatcher()
    kiosk = open_kiosk(size="1280x800", screen="1920x1920")
    kiosk.wait(screen="home", online=True, catalog=True)
    agencies = {"disdukcapil": 5, "bank_sultra": 2, "bapenda": 2, "dpmptsp": 3}
    for size in SIZES:
        assert kiosk.resize(size)["window"] == [int(n) for n in size.split("x")]
        # The tiles' heights follow the new size in a frame or two (more on a busy machine).
        deadline = time.monotonic() + 10 * kiosk.slow
        while True:
            tiles = {w["key"]: w for w in kiosk.widgets()}
            hidden = [a for a in agencies if not tiles[f"agency:{a}"]["shown"]]
            if not hidden or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert hidden == [], size
        shot(kiosk, size, "home-tiles")
        labels = kiosk.labels()
        assert "KTP Elektronik \u00b7 Kartu Keluarga \u00b7 Akta Kelahiran \u00b7 dan 2 lainnya" in labels
        assert "Tabungan \u00b7 Pembayaran Pajak dan Retribusi Daerah" in labels or any(
            label.startswith("Tabungan \u00b7 ") for label in labels)
        for agency, count in agencies.items():
            kiosk.tap(f"agency:{agency}")
            kiosk.wait(screen="services")
            time.sleep(0.3 * kiosk.slow)  # the cards' fit settles in a frame or two
            cards = [w for w in kiosk.widgets() if w["key"].startswith("service:")]
            assert len(cards) == count
            hidden = [w["key"] for w in cards if not w["shown"]]
            assert hidden == [], f"{size} {agency}: below the fold {hidden}"
            assert_touch_targets(kiosk)
            if agency == "disdukcapil":
                shot(kiosk, size, "services-5")
            elif agency == "bapenda" and size == SIZES[0]:
                shot(kiosk, size, "services-bapenda")  # dark text on its yellow top bar
            kiosk.tap("back")
            kiosk.wait(screen="home")


def test_the_confirmation_says_why_a_service_went_while_the_citizen_read_it(open_kiosk, run_dispatcher, printer,
                                                                          mqtt_client, tmp_path):
    """KTP's last walk-in ticket goes to the other kiosk while this one shows its confirmation:
    the button turns to "Tidak tersedia" and the banner says why, in the catalog's words."""
    site = kiosk_site(tmp_path, printer.port, services={"KTP": {"quota": 1, "booking": None}})
    run_dispatcher(site)
    kiosk = open_kiosk(site=site)
    kiosk.wait(screen="home", online=True, catalog=True)
    walk_to_confirm(kiosk)
    assert next(w for w in kiosk.widgets() if w["key"] == "confirm")["disabled"] is False
    other = mqtt_client(topics=[protocol.kiosk_reply(SITE, "kiosk2")])
    other.publish_json(protocol.kiosk_request(SITE, "kiosk2"),
                       {"id": "kiosk2-0001", "service": "KTP", "priority": None,
                        "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    assert other.wait_for(protocol.kiosk_reply(SITE, "kiosk2")).json()["ok"] is True
    deadline = time.monotonic() + 10 * kiosk.slow
    while time.monotonic() < deadline:
        button = next(w for w in kiosk.widgets() if w["key"] == "confirm")
        if button["disabled"]:
            break
        time.sleep(0.1)
    assert button["disabled"] is True and button["text"] == "Tidak tersedia"
    assert "Nomor antrean tidak dapat diambil. Kuota hari ini sudah habis" in kiosk.labels()
    assert kiosk.state()["screen"] == "confirm"
    shot(kiosk, "1280x800", "confirm-unavailable")


def test_past_its_last_ticket_a_service_says_the_numbers_of_the_day_are_closed(open_kiosk, run_dispatcher, printer,
                                                                            tmp_path):
    """KTP's last_ticket passed a minute ago (KK's is an hour away): its card says why. The
    dispatcher, whose catalog the card shows, runs on a clock that starts at noon today."""
    from test_kiosk_checkin import SiteClock

    passed, later = "11:59", "13:00"
    site = kiosk_site(tmp_path, printer.port, services={"KTP": {"last_ticket": passed},
                                                        "KK": {"last_ticket": later}})
    run_dispatcher(site, clock=SiteClock(dt.time(12, 0)))
    kiosk = open_kiosk(site=site)
    kiosk.wait(screen="home", online=True, catalog=True)
    kiosk.tap("agency:disdukcapil")
    kiosk.wait(screen="services")
    cards = {w["key"]: w for w in kiosk.widgets()}
    assert cards["service:KTP"]["available"] is False
    assert cards["service:KTP"]["status"] == (f"Tidak dapat dipilih: Nomor antrean hari ini sudah ditutup untuk "
                                              f"layanan ini (nomor terakhir pukul {passed.replace(':', '.')})")
    assert cards["service:KK"]["available"] is True
    shot(kiosk, "1280x800", "services-last-ticket")


def test_an_agency_with_too_many_services_for_the_screen_says_more_follow(open_kiosk, run_dispatcher, printer,
                                                                         tmp_path):
    """Fifteen services on a 10" portrait screen do not fit even with smaller text: a line at
    the bottom says that more follow, and the last one is reached by scrolling."""
    from kiosk.texts import MORE_BELOW

    site = kiosk_site(tmp_path, printer.port)
    raw = yaml.safe_load(site.read_text(encoding="utf-8"))
    disdukcapil = next(a for a in raw["agencies"] if a["id"] == "disdukcapil")
    kia = next(s for s in disdukcapil["services"] if s["code"] == "KIA")
    extra = [{**kia, "code": f"X{i}", "prefix": f"X{chr(65 + i)}", "name": f"Layanan tambahan {i + 1}"}
             for i in range(10)]
    disdukcapil["services"] += extra
    next(c for c in raw["counters"] if "KIA" in c["services"])["services"] += [s["code"] for s in extra]
    site.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    run_dispatcher(site)
    kiosk = open_kiosk(site=site, size="800x1280", screen="800x1280")
    kiosk.wait(screen="home", online=True, catalog=True)
    kiosk.tap("agency:disdukcapil")
    kiosk.wait(screen="services")
    deadline = time.monotonic() + 5 * kiosk.slow  # the text shrinks first, over a few frames
    while MORE_BELOW not in kiosk.labels() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert MORE_BELOW in kiosk.labels()
    cards = [w for w in kiosk.widgets() if w["key"].startswith("service:")]
    assert len(cards) == 15 and cards[0]["shown"] and not cards[-1]["shown"]
    assert_touch_targets(kiosk)
    shot(kiosk, "800x1280", "services-15")
    kiosk.tap("service:X9")  # scrolled into sight and picked
    kiosk.wait(screen="priority")
