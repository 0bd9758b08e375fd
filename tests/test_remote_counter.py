"""Remote counters (issue 14, item 7): a counter served from the agency's own office by video
call. Its officer's staff app reaches the site through the central broker: the site's bridge
(`antrian broker-files`) carries everything of the site out and that counter's commands in.

Two Mosquittos on loopback, as tests/test_faults_bridge.py has them: the site's, secured and
bridged as deployed, and a central one whose ACL gives the remote officer that counter's
command topic and the views of it. The Buton example's remote counter is daring1 (Daring
1, "Bilik Layanan Daring", serving IZIN)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from antrian import protocol
from antrian.adapters.mosquitto import LocalBroker
from antrian.adapters.mqtt import device_client, make_client
from antrian.tools import broker_files
import yaml

from conftest import NO_LIMITS, write_site
from helpers import Endpoint, Recorder, rows
from web_support import browser, chrome  # noqa: F401 (fixtures)

SITE = "buton"
COUNTER = "daring1"
LOCATION = "Bilik Layanan Daring"
OFFICER = "petugas-daring1"
STAFF_APP = "web-daring"


def central_broker(tmp_path: Path, persistence: bool = True) -> tuple[LocalBroker, dict[str, str]]:
    """The centre: the site's bridge user may write and read its site's topics and its
    bridge's state; the remote officer may command only daring1 and read what the console
    shows; a provincial reader reads every site and (to show the bridge stops it) may write
    any counter's commands. Without `persistence` a restart forgets every session and
    retained message (a centre that keeps nothing, or one rebuilt)."""
    folder = tmp_path / "central"
    folder.mkdir()
    passwords = {user: f"{user}-{broker_files.new_password()}" for user in ("mpp-buton", "pusat", OFFICER, STAFF_APP)}
    (folder / "passwd").write_text("".join(f"{u}:{broker_files.hash_password(p)}\n" for u, p in passwords.items()))
    officer_reads = [protocol.counter_reply(SITE, COUNTER), protocol.counter_state(SITE, COUNTER),
                     protocol.queue_list(SITE, "+"), protocol.board(SITE), protocol.call(SITE),
                     protocol.catalog(SITE), protocol.status(SITE, "+"), protocol.bridge(SITE)]
    (folder / "acl").write_text(
        f"user mpp-buton\ntopic readwrite {protocol.site_filter(SITE)}\ntopic write {protocol.bridge(SITE)}\n\n"
        "user pusat\ntopic read antrian/#\ntopic write antrian/+/counter/+/command\n\n"
        f"user {OFFICER}\ntopic write {protocol.counter_command(SITE, COUNTER)}\n"
        + "".join(f"topic read {t}\n" for t in officer_reads)
        # The remote officers' staff app, as docs/operations.md writes its ACL.
        + f"\nuser {STAFF_APP}\ntopic write {protocol.counter_command(SITE, COUNTER)}\n"
        f"topic write {protocol.status(SITE, STAFF_APP)}\n"
        + "".join(f"topic read {t}\n" for t in [*officer_reads, protocol.stats(SITE)]))

    def render(port: int, data_dir: Path, bind: str, user: str) -> str:
        return "\n".join([f"listener {port} {bind}", "allow_anonymous false", f"password_file {folder / 'passwd'}",
                          f"acl_file {folder / 'acl'}", f"persistence {str(persistence).lower()}",
                          f"persistence_location {data_dir}/",
                          "log_dest stderr", "log_type all", "set_tcp_nodelay true", f"user {user}", ""])

    return LocalBroker(data_dir=folder / "data", render=render), passwords


def test_the_bridge_carries_only_the_remote_counters_commands_in(tmp_path):
    import yaml

    from antrian.site import load
    from conftest import BUTON, allday_site

    central = {"host": "mqtt.example.go.id", "port": 8883, "username": "mpp-buton"}
    config = load(allday_site(tmp_path, broker={"central": central}))
    section = broker_files.bridge_section(config)
    topics = [line for line in section.splitlines() if line.startswith("topic ")]
    assert topics == [f"topic {protocol.site_filter(SITE)} out 1", f"topic {protocol.counter_command(SITE, COUNTER)} in 1"]
    assert "\ntry_private true\n" in section and "\ncleansession false\n" in section
    # Without a remote counter the bridge is out only, as before.
    counters = [c for c in yaml.safe_load(BUTON.read_text(encoding="utf-8"))["counters"] if not c.get("remote")]
    plain = load(allday_site(tmp_path, broker={"central": central}, counters=counters))
    assert [line for line in broker_files.bridge_section(plain).splitlines() if line.startswith("topic ")] == [
        f"topic {protocol.site_filter(SITE)} out 1"]


def test_central_is_a_staff_app_option_that_reads_the_bridge_state():
    from antrian.site import ConfigError, build
    from conftest import BUTON
    from web import wing

    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    raw["devices"].append({"id": STAFF_APP, "role": "web", "central": True})
    config = build(raw, "site.yaml")
    assert ("read", protocol.bridge(SITE)) in wing.acl(config, STAFF_APP)
    assert ("read", protocol.bridge(SITE)) not in wing.acl(config, "web1")  # no centre: nothing to show
    raw["broker"]["central"] = {"host": "mqtt.example.go.id", "port": 8883}
    config = build(raw, "site.yaml")
    assert ("read", protocol.bridge(SITE)) in wing.acl(config, "web1")  # the dashboard shows it
    assert ("read", protocol.bridge(SITE)) not in wing.acl(config, "publik1")
    index = next(i for i, d in enumerate(raw["devices"]) if d["id"] == "publik1")
    raw["devices"][index]["central"] = True
    with pytest.raises(ConfigError) as caught:
        build(raw, "site.yaml")
    assert str(caught.value) == (f"site.yaml: devices[{index}].central: only a staff app (the remote officers') "
                                 "connects through the central broker")


def test_an_officer_at_the_centre_drives_the_remote_counter_across_the_bridge(secure_site, tmp_path):
    from antrian.adapters.store import Store
    from antrian.dispatcher import Dispatcher

    centre, passwords = central_broker(tmp_path)
    centre.start()
    (tmp_path / "central.password").write_text(passwords["mpp-buton"] + "\n")
    site = secure_site(central={"host": centre.host, "port": centre.port, "username": "mpp-buton",
                                "password_file": str(tmp_path / "central.password")})
    config = site.config
    db = tmp_path / "antrian.db"
    store = Store(db, config.tz)
    dispatcher = Dispatcher(config, store)
    host, port = site.broker.host, site.broker.port
    command, reply = protocol.counter_command(SITE, COUNTER), protocol.counter_reply(SITE, COUNTER)
    # What the centre sees (a persistent session: it keeps what arrives while it is away),
    # and what the site's own broker carries (the technician's read-only monitor).
    pusat = Recorder("pusat", topics=[protocol.site_filter(SITE), protocol.bridge(SITE)], clean_session=False,
                     username="pusat", password=passwords["pusat"])
    monitor = Recorder("monitor", topics=[protocol.site_filter(SITE)], username="monitor",
                       password=site.password("monitor"))
    kiosk = officer = web1 = None
    try:
        dispatcher.start(host, port)
        pusat.start(centre.host, centre.port)
        monitor.start(host, port)
        kiosk = Endpoint("kiosk1", protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1"),
                         host, port, client=device_client(config, "kiosk1", "kiosk"))
        # The remote officer's staff app, connected to the centre only, with its own user there.
        officer = Endpoint(OFFICER, command, reply, centre.host, centre.port,
                           client=make_client(f"{OFFICER}-app", username=OFFICER, password=passwords[OFFICER]))

        # The bridge says it is up, at the centre; the retained board and catalog reach it,
        # naming where daring1's citizens go.
        pusat.wait_for(protocol.bridge(SITE), lambda m: m.payload == protocol.BRIDGE_UP, timeout=15)
        board = pusat.wait_for(protocol.board(SITE), timeout=15).json()
        row = next(c for c in board["counters"] if c["counter"] == COUNTER)
        assert row["location"] == LOCATION and all("location" not in c for c in board["counters"] if c is not row)
        catalog = pusat.wait_for(protocol.catalog(SITE)).json()
        assert next(c for c in catalog["counters"] if c["counter"] == COUNTER)["location"] == LOCATION

        for i in range(4):
            assert kiosk.ask({"id": f"k{i}", "service": "IZIN", "priority": None}, retry=2)["ticket"]["number"] \
                == f"M-00{i + 1}"
        # The queue list arrives at the centre: the console's waiting list.
        pusat.wait_for(protocol.queue_list(SITE, "IZIN"), lambda m: len(m.json()["waiting"]) == 4, timeout=10)

        # The officer calls from the centre: the site's dispatcher gets it, the reply, the call
        # (with the location) and the state come back.
        first = officer.ask({"id": "d-1", "action": "call_next"}, retry=3)
        assert first["ok"] and first["ticket"]["number"] == "M-001"
        call = pusat.wait_for(protocol.call(SITE), lambda m: m.json()["number"] == "M-001").json()
        assert (call["counter"], call["counter_name"], call["location"]) == (COUNTER, "Daring 1", LOCATION)
        pusat.wait_for(protocol.counter_state(SITE, COUNTER),
                       lambda m: (m.json()["serving"] or {}).get("number") == "M-001")
        pusat.wait_for(protocol.queue_list(SITE, "IZIN"), lambda m: len(m.json()["waiting"]) == 3)

        # No loop: the command crossed once each way it should, and was not sent back.
        web1 = Endpoint("web1", command, reply, host, port, client=device_client(config, "web1", "web"))
        assert web1.ask({"id": "lokal-1", "action": "recall"}, retry=3)["ok"]  # a command made at the site
        pusat.wait_for(command, lambda m: m.json()["id"] == "lokal-1")
        time.sleep(1.0)
        at_site = [m.json()["id"] for m in monitor.messages if m.topic == command]
        at_centre = [m.json()["id"] for m in pusat.messages if m.topic == command]
        assert at_site == ["d-1", "lokal-1"] and at_centre == ["d-1", "lokal-1"], (at_site, at_centre)
        assert len([m for m in monitor.messages if m.topic == reply]) == 2

        # In only for the remote counter: a command for a counter in the building, written at
        # the centre by a user allowed to, never reaches the site.
        pusat.publish_json(protocol.counter_command(SITE, "loket1"),
                           {"id": "dari-pusat", "action": "call_next"}).wait_for_publish(5)
        time.sleep(1.0)
        assert not rows(db, "SELECT 1 FROM replies WHERE msg_id = 'dari-pusat'")
        assert not [m for m in monitor.messages if m.topic == protocol.counter_command(SITE, "loket1")]

        # The link drops in the middle of a call (1): the centre goes away just after taking
        # the officer's NEXT. The console presses again with the same id once it is back.
        press = {"id": "d-2", "action": "call_next"}
        officer.conn.client.publish(command, protocol.encode(press), qos=1).wait_for_publish(5)
        centre._halt()  # noqa: SLF001 - the centre goes away (SIGTERM: it saves its sessions)
        time.sleep(1.0)
        centre.start()
        second = officer.ask(press, retry=2, give_up=40)
        assert second["ok"] and second["ticket"]["number"] == "M-002"
        # The site's own "0" of that outage never reaches the centre after the "1" of the
        # reconnect (the state's topic is not among those the bridge carries out).
        assert bridge_at_centre(centre, passwords) == protocol.BRIDGE_UP

        # (2): the site's broker, the bridge's end, goes away; the officer's NEXT waits at the
        # centre for the bridge's session, pressed twice; the site comes back.
        site.broker._halt()  # noqa: SLF001
        pusat.wait_for(protocol.bridge(SITE), lambda m: m.payload == protocol.BRIDGE_DOWN, timeout=15)
        press = {"id": "d-3", "action": "call_next"}
        for _ in range(2):
            officer.conn.client.publish(command, protocol.encode(press), qos=1).wait_for_publish(5)
        site.broker.start()
        third = officer.ask(press, retry=2, give_up=40)
        assert third["ok"] and third["ticket"]["number"] == "M-003"

        # Nothing called twice: one call per ticket, seqs consecutive; every reply to an id
        # the same bytes.
        calls = rows(db, "SELECT number, seq FROM events WHERE kind = 'called' AND counter = ? ORDER BY seq",
                     COUNTER)
        assert [n for n, _ in calls] == ["M-001", "M-002", "M-003"], calls
        said = rows(db, "SELECT kind, number, seq FROM events WHERE seq IS NOT NULL ORDER BY id")
        assert said == [("called", "M-001", 1), ("recalled", "M-001", 2), ("called", "M-002", 3),
                        ("called", "M-003", 4)], said
        for mid in ("d-1", "d-2", "d-3"):
            assert len(set(officer.replies[mid])) == 1, officer.replies[mid]
        # The centre converges on the site's state: a fresh reader there gets what the site holds.
        wait_converged(centre, passwords, host, port, site)
    finally:
        for ep in (kiosk, officer, web1):
            if ep is not None:
                ep.close()
        pusat.close()
        monitor.close()
        dispatcher.stop()
        store.close()
        centre.stop()


def test_the_centre_holds_the_bridge_up_after_a_restart_that_forgot_everything(secure_site, tmp_path):
    """The centre restarts with nothing kept. While it was away the site's broker published
    its own "0"; were the state among the site's topics, that "0" would wait in the bridge's
    queue and reach the centre after the reconnect's "1", and the remote consoles would stay
    locked while the link is up."""
    centre, passwords = central_broker(tmp_path, persistence=False)
    centre.start()
    (tmp_path / "central.password").write_text(passwords["mpp-buton"] + "\n")
    site = secure_site(central={"host": centre.host, "port": centre.port, "username": "mpp-buton",
                                "password_file": str(tmp_path / "central.password")})
    at_site = Recorder("monitor", topics=[protocol.bridge(SITE)], username="monitor", password=site.password("monitor"))
    try:
        at_site.start(site.broker.host, site.broker.port)
        at_site.wait_for(protocol.bridge(SITE), lambda m: m.payload == protocol.BRIDGE_UP, timeout=15)
        assert bridge_at_centre(centre, passwords) == protocol.BRIDGE_UP
        centre._halt()  # noqa: SLF001
        at_site.wait_for(protocol.bridge(SITE), lambda m: m.payload == protocol.BRIDGE_DOWN, timeout=15)
        centre.start()
        at_site.wait_for(protocol.bridge(SITE), lambda m: m.payload == protocol.BRIDGE_UP
                         and m is at_site.messages[-1], timeout=60)  # reconnected (restart_timeout 2 60)
        time.sleep(2.0)  # what the bridge had queued for the centre has gone out by now
        assert bridge_at_centre(centre, passwords) == protocol.BRIDGE_UP
    finally:
        at_site.close()
        centre.stop()


def bridge_at_centre(centre, passwords) -> bytes:
    """The bridge's state as a fresh reader at the centre gets it (retained)."""
    reader = Recorder("pusat-bridge", topics=[protocol.bridge(SITE)], username="pusat", password=passwords["pusat"])
    try:
        reader.start(centre.host, centre.port)
        return reader.wait_for(protocol.bridge(SITE), timeout=10).payload
    finally:
        reader.close()


def wait_converged(centre, passwords, host, port, site, timeout: float = 20.0) -> None:
    """The retained daring1 state and IZIN queue list at the centre equal the site's."""
    topics = [protocol.counter_state(SITE, COUNTER), protocol.queue_list(SITE, "IZIN")]
    deadline = time.monotonic() + timeout
    while True:
        # publik1 (the public app's user) reads both; monitor is in use (one client per user).
        here = Recorder("publik1", topics=topics, username="publik1", password=site.password("publik1"))
        there = Recorder("pusat-check", topics=topics, username="pusat", password=passwords["pusat"])
        try:
            here.start(host, port)
            there.start(centre.host, centre.port)
            local = {t: here.wait_for(t).json() for t in topics}
            remote = {t: there.wait_for(t).json() for t in topics}
        finally:
            here.close()
            there.close()
        state = local[topics[0]]
        assert state["serving"]["number"] == "M-003" and [t["number"] for t in local[topics[1]]["waiting"]] == ["M-004"]
        if local == remote:
            return
        assert time.monotonic() < deadline, f"the centre did not converge:\n{json.dumps(remote)}\n{json.dumps(local)}"
        time.sleep(0.5)


def test_the_officers_console_at_the_centre_calls_at_the_site(secure_site, tmp_path, browser, monkeypatch):  # noqa: F811
    """The staff app (/loket) of the remote officers runs against the central broker only,
    with the centre's ACL of docs/operations.md; its NEXT calls at the site. It locks while
    the site is cut off, and a press that reached the site late is answered expired."""
    from argon2 import PasswordHasher

    from antrian.adapters.store import Store
    from antrian.dispatcher import Dispatcher
    from web import passwords as web_passwords, users
    from web_support import ARTIFACTS, screenshot, start_in_process, text, wait

    centre, passwords = central_broker(tmp_path)
    centre.start()
    (tmp_path / "central.password").write_text(passwords["mpp-buton"] + "\n")
    # A command pressed more than 4 s before it reaches the dispatcher is answered expired.
    limits = {**NO_LIMITS, "counter": {**NO_LIMITS["counter"], "max_age_seconds": 4}}
    site = secure_site(central={"host": centre.host, "port": centre.port, "username": "mpp-buton",
                                "password_file": str(tmp_path / "central.password")}, limits=limits)
    store = Store(tmp_path / "antrian.db", site.config.tz)
    dispatcher = Dispatcher(site.config, store)
    # The office's copy of the site file: its broker is the centre, its staff app a device of its own.
    office = tmp_path / "kantor"
    (office / "credentials").mkdir(parents=True)
    (office / "credentials" / f"{STAFF_APP}.password").write_text(passwords[STAFF_APP] + "\n")
    (office / "credentials" / "site.secret").write_bytes((site.creds / "site.secret").read_bytes())  # its sessions
    raw = yaml.safe_load(Path(site.path).read_text(encoding="utf-8"))
    raw["broker"] = {"host": centre.host, "port": centre.port, "credentials_dir": str(office / "credentials")}
    raw["devices"].append({"id": STAFF_APP, "role": "web", "name": "Aplikasi staf DPMPTSP (loket daring)",
                           "central": True})
    office_site = write_site(office / "site.yaml", raw)
    monkeypatch.setattr(web_passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    people = office / "web-users"
    users.update(people, lambda known: {"andi": users.Entry(users.StaffUser("andi", "petugas", (COUNTER,)),
                                                            users.hash_password("Sandi-Daring-2026"))}, create=True)
    kiosk = app = None
    try:
        dispatcher.start(site.broker.host, site.broker.port)
        kiosk = Endpoint("kiosk1", protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1"),
                         site.broker.host, site.broker.port, client=device_client(site.config, "kiosk1", "kiosk"))
        for i in range(3):
            assert kiosk.ask({"id": f"k{i}", "service": "IZIN", "priority": None}, retry=2)["ok"]
        app = start_in_process(office_site, STAFF_APP, centre, people)
        deadline = time.monotonic() + 20
        while not (app.web.hub.catalog and app.web.hub.dispatcher.online):
            assert time.monotonic() < deadline, "the staff app at the centre did not get the site's retained state"
            time.sleep(0.05)
        browser.get(app.url + f"/loket/{COUNTER}")
        wait(browser, lambda d: "/masuk" in d.current_url)
        browser.find_element("css selector", "#nama").send_keys("andi")
        browser.find_element("css selector", "#sandi").send_keys("Sandi-Daring-2026")
        browser.find_element("css selector", "#masuk").click()
        wait(browser, lambda d: d.current_url.endswith(f"/loket/{COUNTER}"), timeout=10)
        wait(browser, lambda d: bool(d.find_elements("css selector", "#sambungan.live"))
             and text(d, "#status") not in ("Menunggu data…", None), timeout=15)
        wait(browser, lambda d: d.execute_script("const b = document.getElementById('b-call_next'); return b && !b.disabled"),
             timeout=10)
        browser.execute_script("document.getElementById('b-call_next').click()")
        wait(browser, lambda d: (text(d, "#nomor") or "") == "M-001", timeout=15)
        assert rows(tmp_path / "antrian.db", "SELECT number FROM events WHERE kind = 'called' AND counter = ?",
                    COUNTER) == [("M-001",)]
        wait(browser, lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('#menunggu li.baris .no'), e => e.textContent)")
            == ["M-002", "M-003"], timeout=10)
        screenshot(browser, ARTIFACTS / "web-loket-daring-1366x768.png", 1366, 768)

        # The site is cut off from the centre (its broker stops: the bridge's "0" at the
        # centre). The centre still holds "dispatcher online", but the console locks and
        # says why, so no press waits at the centre to be carried out long after.
        site.broker._halt()  # noqa: SLF001
        locked = "Sambungan kantor MPP ke server pusat terputus"
        wait(browser, lambda d: (text(d, "#banner") or "").startswith(locked), timeout=15)
        assert browser.execute_script("return document.getElementById('b-call_next').disabled")
        assert app.web.hub.dispatcher.problems == ("bridge_down",)
        screenshot(browser, ARTIFACTS / "web-loket-daring-terputus-360x740.png", 360, 740)
        site.broker.start()
        wait(browser, lambda d: d.execute_script("const b = document.getElementById('b-call_next'); return b && !b.disabled"),
             timeout=30)
        assert not (text(browser, "#banner") or "")
        browser.execute_script("document.getElementById('b-call_next').click()")
        wait(browser, lambda d: (text(d, "#nomor") or "") == "M-002", timeout=15)

        # The gap before the centre knows: the site's broker stalls (no will yet, the console
        # stays open). A press gets no answer; it reaches the site once the broker runs on,
        # later than the counter's limit, and calls nobody.
        site.broker._proc.send_signal(signal.SIGSTOP)  # noqa: SLF001 - the test owns the broker
        try:
            browser.execute_script("document.getElementById('b-call_next').click()")
            wait(browser, lambda d: (text(d, "#pesan") or "").startswith("Belum ada jawaban"), timeout=15)
        finally:
            site.broker._proc.send_signal(signal.SIGCONT)  # noqa: SLF001
        deadline = time.monotonic() + 15
        while f"expired:counter/{COUNTER}" not in app.web.hub.dispatcher.problems:
            assert time.monotonic() < deadline, app.web.hub.dispatcher.problems
            time.sleep(0.05)
        # The officer presses again: the same press (its id) gets the dispatcher's answer.
        browser.execute_script("document.getElementById('b-call_next').click()")
        wait(browser, lambda d: "kedaluwarsa" in (text(d, "#pesan") or ""), timeout=15)
        assert text(browser, "#pesan").startswith("Perintah sudah kedaluwarsa (ditekan pukul ")
        assert text(browser, "#pesan").endswith(") dan tidak dijalankan; silakan tekan lagi")
        assert rows(tmp_path / "antrian.db", "SELECT number FROM events WHERE kind = 'called' AND counter = ?",
                    COUNTER) == [("M-001",), ("M-002",)]
        screenshot(browser, ARTIFACTS / "web-loket-daring-kedaluwarsa-360x740.png", 360, 740)
        browser.execute_script("document.getElementById('b-call_next').click()")  # a new press: it calls
        wait(browser, lambda d: (text(d, "#nomor") or "") == "M-003", timeout=15)
    finally:
        if app is not None:
            app.stop()
        if kiosk is not None:
            kiosk.close()
        dispatcher.stop()
        store.close()
        centre.stop()


def test_the_heads_dashboard_shows_the_link_to_the_centre(secure_site, tmp_path, browser, monkeypatch):  # noqa: F811
    """The site's own staff app (on the LAN, not central) shows the bridge as a row named
    after the centre: connected, cut off while the centre is away, connected again. Its
    officers' consoles are not locked by it: the site works on."""
    from argon2 import PasswordHasher

    from web import passwords as web_passwords, users
    from web_support import ARTIFACTS, css, screenshot, start_in_process, wait

    centre, passwords = central_broker(tmp_path)
    centre.start()
    (tmp_path / "central.password").write_text(passwords["mpp-buton"] + "\n")
    site = secure_site(central={"host": centre.host, "port": centre.port, "username": "mpp-buton",
                                "password_file": str(tmp_path / "central.password")})
    monkeypatch.setattr(web_passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    people = tmp_path / "web-users"
    users.update(people, lambda known: {"kepala": users.Entry(users.StaffUser("kepala", "kepala"),
                                                              users.hash_password("Sandi-Kepala-2026"))}, create=True)
    app = None
    row = f'[data-device="{centre.host}"]'

    def shown(d) -> str:
        # Read in one script: the page redraws the device list on every update, so an
        # element found first may be gone when its text is asked for.
        return d.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", row)

    try:
        app = start_in_process(site.path, "web1", site.broker, people)
        browser.get(app.url + "/dasbor")
        wait(browser, lambda d: "/masuk" in d.current_url)
        css(browser, "#nama")[0].send_keys("kepala")
        css(browser, "#sandi")[0].send_keys("Sandi-Kepala-2026")
        css(browser, "button[type=submit]")[0].click()
        wait(browser, lambda d: "Sambungan ke server pusat · tersambung" in shown(d), timeout=15)
        assert "\nsejak " in shown(browser)  # when the app saw it change
        # The link is a row of its own, not one of the site's devices in the totals.
        rows, total = browser.execute_script(
            "return [document.querySelectorAll('[data-device]').length,"
            " document.querySelector('[data-total=\"devices\"] .value small').innerText];")
        assert total == f" dari {rows - 1}", (rows, total)
        centre._halt()  # noqa: SLF001
        wait(browser, lambda d: "Sambungan ke server pusat · terputus" in shown(d), timeout=15)
        assert "\nsejak " in shown(browser)
        assert app.web.hub.dispatcher.problems != ("bridge_down",)  # the LAN's consoles stay usable
        screenshot(browser, ARTIFACTS / "dasbor-pusat-terputus.png", 1366, 900)
        centre.start()
        # The bridge retries with a growing pause (restart_timeout 2 60): some seconds here.
        wait(browser, lambda d: "Sambungan ke server pusat · tersambung" in shown(d), timeout=60)
    finally:
        if app is not None:
            app.stop()
        centre.stop()
