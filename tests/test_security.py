"""The broker's security as deployed (DESIGN.md, Security): per-device users and passwords
made by `antrian broker-files`, the ACL matrix, anonymous and wrong-password clients,
wills and client ids, TLS and WebSocket listeners, and every real part of the project
connecting with its own credentials without one legitimate message being denied."""

from __future__ import annotations

import json
import logging
import socket
import stat
import subprocess
import sys
import threading
import time

import paho.mqtt.client as paho
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from antrian import protocol

from antrian.tools import broker_files
from antrian.adapters.mosquitto import free_port
from antrian.site import ConfigError, load, parse
from antrian.adapters.mqtt import Connection, CredentialsError, check_credentials, device_client
from antrian.slow import scaled
from conftest import BUTON, ROOT, allday_site
from secure import Probe, make_ca

SITE = "buton"
KIOSKS = ["kiosk1", "kiosk2"]
BOARDS = ["board1", "board2", "board3"]  # board3: a browser board (its ACL is a display's)
COUNTERS = [f"loket{i}" for i in range(1, 9)]
PANEL_COUNTERS = {"panel1": COUNTERS[:4], "panel2": COUNTERS[4:]}
DEVICES = ["dispatcher", *KIOSKS, *BOARDS, *PANEL_COUNTERS, "web1", "publik1"]
USERS = [*DEVICES, "monitor"]
NOT_AUTHORIZED = 135


def every_topic() -> list[str]:
    """Every topic of the wire contract for this site's ids, some unknown ids, and others."""
    topics = [protocol.board(SITE), protocol.call(SITE), protocol.catalog(SITE), protocol.queue_list(SITE, "KTP"),
              protocol.queue_list(SITE, "XYZ"), protocol.stats(SITE)]
    for k in [*KIOSKS, "kiosk9"]:
        topics += [protocol.kiosk_request(SITE, k), protocol.kiosk_reply(SITE, k)]
    for c in [*COUNTERS, "loket9"]:
        topics += [protocol.counter_command(SITE, c), protocol.counter_reply(SITE, c), protocol.counter_state(SITE, c)]
    for d in [*USERS, "stranger"]:
        topics += [protocol.survey(SITE, d), protocol.status(SITE, d)]
    return topics + ["antrian/buton", "antrian/buton/extra", protocol.kiosk_request(SITE, "kiosk1") + "/x",
                     protocol.board("kendari"), protocol.kiosk_request("kendari", "kiosk1"), "hello", "$SYS/x"]


def grants(user: str) -> tuple[list[str], list[str]]:
    """(write filters, read filters) of a user, written out from DESIGN.md and from what each
    part subscribes to and publishes -- on purpose not taken from antrian.tools.broker_files."""
    own = [protocol.status(SITE, user)]
    if user == "dispatcher":
        return [f"antrian/{SITE}/#"], [f"antrian/{SITE}/#"]
    if user in KIOSKS:  # the dispatcher's status for the technician line
        return (own + [protocol.kiosk_request(SITE, user), protocol.survey(SITE, user)],
                own + [protocol.kiosk_reply(SITE, user), protocol.catalog(SITE), protocol.status(SITE, "dispatcher")])
    if user in BOARDS:
        return own, own + [protocol.board(SITE), protocol.call(SITE), protocol.catalog(SITE),
                           protocol.status(SITE, "+")]
    if user in PANEL_COUNTERS:
        counters = PANEL_COUNTERS[user]
        return (own + [protocol.counter_command(SITE, c) for c in counters],
                own + [protocol.status(SITE, "dispatcher")]
                + [t for c in counters for t in (protocol.counter_reply(SITE, c), protocol.counter_state(SITE, c))])
    if user == "monitor":  # a technician's mosquitto_sub: everything, read only, not even a status
        return [], [f"antrian/{SITE}/#"]
    if user in ("web1", "publik1"):  # the browser apps: the staff app also lists issued tickets,
        reads = own + [protocol.board(SITE), protocol.call(SITE), protocol.catalog(SITE),  # the public one
                       protocol.counter_state(SITE, "+"), protocol.status(SITE, "+"),  # sends surveys
                       protocol.queue_list(SITE, "+"), protocol.stats(SITE)]
        if user == "web1":  # and drives the counters from the officers' console (any counter: the
            return (own + [protocol.counter_command(SITE, "+")],  # binding is the app's check, web/loket.py)
                    reads + [protocol.kiosk_reply(SITE, "+"), protocol.counter_reply(SITE, "+")])
        return (own + [protocol.survey(SITE, user), protocol.booking_request(SITE, user)],  # and books
                reads + [protocol.booking_reply(SITE, user)])
    raise AssertionError(f"no grants written out for {user}")


def allowed(filters: list[str], topic: str) -> bool:
    return not topic.startswith("$") and any(paho.topic_matches_sub(f, topic) for f in filters)


def probe(site, user: str, password: str | None = None, **options) -> Probe:
    p = Probe(site.broker.host, site.broker.port, user, site.password(user) if password is None else password,
              **options)
    assert not p.wait_connack().is_failure, f"{user} refused"
    return p


# -- the files --------------------------------------------------------------------------------


def test_broker_files_make_a_strong_password_per_user_readable_by_its_owner_only(secure_site):
    site = secure_site()
    creds = site.creds
    passwords = {u: site.password(u) for u in USERS}
    assert len(set(passwords.values())) == len(USERS)
    assert all(len(p) >= 32 and p.isascii() for p in passwords.values())
    for user in USERS:
        assert stat.S_IMODE((creds / f"{user}.password").stat().st_mode) == 0o600
    for name in ("passwd", "acl", "mosquitto.conf"):
        assert stat.S_IMODE((creds / name).stat().st_mode) == 0o640
    lines = dict(line.split(":", 1) for line in (creds / "passwd").read_text().splitlines()
                 if not line.startswith("#"))
    assert list(lines) == USERS
    assert all(h.startswith("$7$") and broker_files.check_password(h, passwords[u]) for u, h in lines.items())
    conf = (creds / "mosquitto.conf").read_text()
    for setting in ("allow_anonymous false", "persistence true", "set_tcp_nodelay true", "use_username_as_clientid true",
                    f"password_file {creds}/passwd", f"acl_file {creds}/acl", "listener 1883"):
        assert setting in conf.splitlines(), setting


def test_the_hash_format_is_mosquitto_passwd_s_both_ways(secure_site, tmp_path):
    site = secure_site()
    # A line made by mosquitto_passwd checks with ours...
    other = tmp_path / "other"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(other), "someone", "s3cret-pass"], check=True)
    stored = other.read_text().strip().split(":", 1)[1]
    assert broker_files.check_password(stored, "s3cret-pass") and not broker_files.check_password(stored, "nope")
    # ...and every user of ours gets in to the real broker with its password.
    for user in USERS:
        probe(site, user).close()


def test_running_again_keeps_passwords_and_rotate_renews_only_those_named(secure_site, tmp_path):
    site = secure_site()
    before = {p.name: p.read_bytes() for p in site.creds.iterdir()}
    again = broker_files.write(site.config, data_dir=tmp_path / "broker")
    assert again.kept == USERS and not again.created and not again.rotated
    assert {p.name: p.read_bytes() for p in site.creds.iterdir()} == before  # byte for byte

    result = subprocess.run([sys.executable, "-m", "antrian.cli", "broker-files", "--config", str(site.path),
                             "--data-dir", str(tmp_path / "broker"), "--rotate", "kiosk1"],
                            capture_output=True, text=True, cwd=ROOT, timeout=scaled(30))
    assert result.returncode == 0, result.stderr
    assert "new password kiosk1" in result.stdout
    after = {p.name: p.read_bytes() for p in site.creds.iterdir()}
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"kiosk1.password", "passwd"}
    # The running broker still has the old hash until it re-reads its files.
    old = before["kiosk1.password"].decode().strip()
    probe(site, "kiosk1", old).close()
    site.reload()
    refused = Probe(site.broker.host, site.broker.port, "kiosk1", old)
    assert refused.wait_connack().value == NOT_AUTHORIZED
    probe(site, "kiosk1").close()

    bad = subprocess.run([sys.executable, "-m", "antrian.cli", "broker-files", "--config", str(site.path),
                          "--rotate", "kiosk7"], capture_output=True, text=True, cwd=ROOT, timeout=scaled(30))
    assert bad.returncode == 1 and "no broker user 'kiosk7'" in bad.stderr and "Traceback" not in bad.stderr


def test_the_site_file_names_credentials_and_never_holds_a_password(tmp_path):
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    raw["broker"] = {"host": "192.168.10.2", "password": "hunter2", "credentials_dir": 7,
                     "tls": {"port": 8883}, "central": {"host": "c", "password": "x"}}
    with pytest.raises(ConfigError) as err:
        parse(yaml.safe_dump(raw), str(tmp_path / "site.yaml"))
    problems = dict(err.value.problems)
    assert problems["broker.password"].startswith("passwords do not belong in the site file")
    assert problems["broker.central.password"].startswith("passwords do not belong in the site file")
    assert "broker.credentials_dir" in problems and problems["broker.tls.ca"] == "required"
    raw["broker"] = {"host": "192.168.10.2", "credentials_dir": "credentials", "tls": {"ca": "tls/ca.crt"}}
    config = parse(yaml.safe_dump(raw), str(tmp_path / "site.yaml"))
    # Relative names are read from the site file's folder; devices use the TLS port.
    assert config.broker.credentials_dir == str(tmp_path / "credentials")
    assert config.broker.tls.ca == str(tmp_path / "tls" / "ca.crt") and config.broker.client_port == 8883


def test_a_device_without_its_password_file_is_one_clear_line(tmp_path):
    site = allday_site(tmp_path, broker={"host": "127.0.0.1", "port": free_port(),
                                         "credentials_dir": str(tmp_path / "nothing")})
    with pytest.raises(CredentialsError, match=r"no broker password for 'kiosk1': .*kiosk1\.password does not exist"):
        check_credentials(load(site), "kiosk1")
    result = subprocess.run([sys.executable, "-m", "antrian.cli", "dispatcher", "--config", str(site),
                             "--db", str(tmp_path / "x.db")], capture_output=True, text=True, cwd=ROOT,
                            timeout=scaled(30))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("antrian dispatcher: no broker password for 'dispatcher'")
    assert len(result.stderr.strip().splitlines()) == 1


# -- who gets in ----------------------------------------------------------------------------------


def test_anonymous_unknown_and_wrong_password_clients_are_refused(secure_site):
    site = secure_site()
    cases = {
        "anonymous": (None, None),
        "unknown user": ("intruder", "whatever-password"),
        "wrong password": ("kiosk1", "not-the-password"),
        "another device's password": ("kiosk1", site.password("kiosk2")),
        "empty password": ("dispatcher", ""),
    }
    for name, (user, password) in cases.items():
        p = Probe(site.broker.host, site.broker.port, user, password, client_id=f"probe-{len(name)}")
        reason = p.wait_connack()
        assert reason.is_failure and reason.value in (134, NOT_AUTHORIZED), (name, reason)
        p.close()
    # MQTT 3.1.1 with mosquitto_sub, as an integrator would try it.
    result = subprocess.run(["mosquitto_sub", "-h", site.broker.host, "-p", str(site.broker.port), "-t", "#",
                             "-C", "1", "-W", "3"], capture_output=True, text=True, timeout=scaled(10))
    assert result.returncode != 0 and "not authori" in result.stderr.lower()


def test_a_wrong_password_is_reported_once_naming_device_broker_and_file_and_retried_with_back_off(
        secure_site, caplog):
    site = secure_site()
    (site.creds / "board1.password").write_text("a-wrong-password\n")  # as if copied from an older run
    caplog.set_level(logging.INFO, logger="antrian.adapters.mqtt")
    conn = Connection(device_client(site.config, "board1", "display"))
    conn.connect(site.broker.host, site.broker.port)
    try:
        time.sleep(3.5)
        assert not conn.connected
        lines = [r for r in caplog.records if r.name == "antrian.adapters.mqtt"]
        assert len(lines) == 1, [r.getMessage() for r in lines]
        text = lines[0].getMessage()
        assert lines[0].levelno == logging.WARNING
        for part in ("'antrian-buton-board1'", site.broker.address, "not authorized", "user 'board1'",
                     str(site.creds / "board1.password"), "retrying with back-off"):
            assert part in text, (part, text)
        # Back-off 0.2, 0.4, 0.8, 1.6 s...: a handful of attempts, not one per loop turn.
        assert 3 <= conn.refusals <= 6, conn.refusals
        # The technician puts that password into the broker's file (and reloads it): the
        # device gets in by itself, and says so once.
        lines_passwd = (site.creds / "passwd").read_text().splitlines()
        (site.creds / "passwd").write_text("\n".join(
            f"board1:{broker_files.hash_password('a-wrong-password')}" if line.startswith("board1:") else line
            for line in lines_passwd) + "\n")
        site.reload()
        assert conn.wait_connected(scaled(10))
        messages = [r.getMessage() for r in caplog.records if r.name == "antrian.adapters.mqtt"]
        assert len(messages) == 2 and "connected to" in messages[1]
    finally:
        conn.close()


def test_a_refusal_that_lasts_is_reported_again_after_a_while_with_the_number_of_attempts(
        secure_site, caplog, monkeypatch):
    import antrian.adapters.mqtt

    monkeypatch.setattr(antrian.adapters.mqtt, "REMIND_SECONDS", 0.0)  # normally 10 minutes
    site = secure_site()
    caplog.set_level(logging.INFO, logger="antrian.adapters.mqtt")
    conn = Connection(device_client(site.config, "kiosk2", "kiosk"))
    conn.client.username_pw_set("kiosk2", "not-it")
    conn.connect(site.broker.host, site.broker.port)
    try:
        deadline = time.monotonic() + scaled(5)
        while conn.refusals < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        lines = [r.getMessage() for r in caplog.records if r.name == "antrian.adapters.mqtt"]
        assert len(lines) >= 3 and "still" not in lines[0]
        assert "(still so, 1 more attempt(s) since first reported)" in lines[1]
    finally:
        conn.close()


def test_a_device_with_no_credentials_configured_is_refused_by_the_deployed_broker(secure_site, tmp_path, caplog):
    site = secure_site()
    (tmp_path / "laptop").mkdir()
    laptop = load(allday_site(tmp_path / "laptop"))  # no credentials_dir: the developer's site file
    caplog.set_level(logging.INFO, logger="antrian.adapters.mqtt")
    conn = Connection(device_client(laptop, "kiosk1", "kiosk"))
    conn.connect(site.broker.host, site.broker.port)
    try:
        deadline = time.monotonic() + scaled(5)
        while not [r for r in caplog.records if r.name == "antrian.adapters.mqtt"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not conn.connected and conn.refusals >= 1
        [line] = [r.getMessage() for r in caplog.records if r.name == "antrian.adapters.mqtt"]
        assert "no broker credentials configured" in line and "broker.credentials_dir" in line
    finally:
        conn.close()


# -- the ACL matrix ----------------------------------------------------------------------------------


def test_acl_matrix_every_user_writes_exactly_its_own_topics(secure_site):
    site = secure_site()
    topics = every_topic()
    spy = probe(site, "dispatcher")  # the only user that may read the whole site
    spy.subscribe([f"antrian/{SITE}/#"])
    refused: dict[str, set[str]] = {}
    try:
        for user in USERS:
            client = spy if user == "dispatcher" else probe(site, user)
            try:
                codes = {t: client.publish(t, f"{user}|{t}".encode()) for t in topics}
            finally:
                if client is not spy:
                    client.close()
            writes, _ = grants(user)
            refused[user] = {t for t, code in codes.items() if code.value == NOT_AUTHORIZED}
            bad = {t: str(code) for t, code in codes.items()
                   if code.is_failure != (not allowed(writes, t)) or (code.is_failure and code.value != NOT_AUTHORIZED)}
            assert not bad, f"{user}: unexpected PUBACKs {bad}"
        marker = protocol.status(SITE, "dispatcher")
        spy.publish(marker, b"end")
        assert spy.wait_message(marker, b"end")
        delivered = {p.decode() for t, p, _ in spy.messages if p != b"end"}
    finally:
        spy.close()
    expected = {f"{u}|{t}" for u in USERS for t in topics if allowed(grants(u)[0], t)}
    assert delivered == expected, (sorted(delivered - expected), sorted(expected - delivered))
    total = sum(len(r) for r in refused.values())
    print(f"\nACL writes: {len(USERS)} users x {len(topics)} topics, {total} refused with PUBACK 135, "
          f"{len(expected)} allowed, nothing refused was delivered")


def test_acl_matrix_every_user_reads_exactly_its_own_topics(secure_site):
    site = secure_site()
    topics = [t for t in every_topic() if allowed([f"antrian/{SITE}/#"], t)]
    readers = {}
    try:
        for user in USERS[1:]:
            readers[user] = probe(site, user)
            # A wildcard for everything and each topic by name: both are "granted" by
            # Mosquitto, and neither may deliver what the ACL does not allow.
            readers[user].subscribe(["#", *topics])
        sender = probe(site, "dispatcher")
        try:
            for t in topics:
                assert not sender.publish(t, f"read|{t}".encode()).is_failure
            for user in readers:
                sender.publish(protocol.status(SITE, user), b"end")
        finally:
            sender.close()
        for user, reader in readers.items():
            assert reader.wait_message(protocol.status(SITE, user), b"end"), user
            got = {t for t, p, _ in reader.messages if p.startswith(b"read|")}
            _, reads = grants(user)
            want = {t for t in topics if allowed(reads, t)}
            assert got == want, f"{user}: extra {sorted(got - want)}, missing {sorted(want - got)}"
    finally:
        for reader in readers.values():
            reader.close()


def test_a_device_cannot_overwrite_retained_state_plant_a_will_or_take_the_dispatchers_session(secure_site):
    site = secure_site()
    config = site.config
    from antrian.dispatcher import Dispatcher
    from antrian.adapters.store import Store

    store = Store(site.tmp / "antrian.db", config.tz)
    dispatcher = Dispatcher(config, store)
    dispatcher.start(site.broker.host, site.broker.port)
    lost = threading.Event()
    watcher = None
    try:
        assert dispatcher.connection.wait_connected(scaled(5))
        watcher = probe(site, "board1")
        watcher.subscribe([protocol.board(SITE)])
        with watcher.cond:
            assert watcher.cond.wait_for(lambda: any(t == protocol.board(SITE) for t, _, _ in watcher.messages), 5)
        real_board = watcher.messages[-1][1]
        chained = dispatcher.connection.client.on_disconnect

        def on_disconnect(*args):
            lost.set()
            chained(*args)

        dispatcher.connection.client.on_disconnect = on_disconnect
        # A kiosk whose password leaked: a retained fake board, a will on the call topic
        # and the dispatcher's client id.
        evil = Probe(site.broker.host, site.broker.port, "kiosk1", site.password("kiosk1"),
                     client_id=f"antrian-{SITE}-dispatcher", will=(protocol.call(SITE), b'{"seq":999}'))
        assert not evil.wait_connack().is_failure
        assert evil.publish(protocol.board(SITE), b'{"fake":true}', retain=True).value == NOT_AUTHORIZED
        sock = evil.client.socket()
        evil.client.loop_stop()
        sock.close()  # dies without DISCONNECT: the broker sends its will, if allowed
        time.sleep(0.5)
        assert not lost.is_set() and dispatcher.connection.connected, "the dispatcher was thrown off"
        late = probe(site, "board2")
        late.subscribe([protocol.board(SITE), protocol.call(SITE)])
        deadline = time.monotonic() + scaled(5)
        while not late.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # and a retained call, had the will been allowed, would be here by now
        assert [(t, p) for t, p, _ in late.messages] == [(protocol.board(SITE), real_board)]
        assert not [m for m in watcher.messages if m[0] == protocol.call(SITE)]
        late.close()
    finally:
        if watcher is not None:
            watcher.close()
        dispatcher.stop()
        store.close()


# -- listeners -------------------------------------------------------------------------------------------


def test_tls_listener_devices_verify_the_broker_and_need_their_password(secure_site, tmp_path, caplog):
    tls = make_ca(tmp_path / "tls", "antrian-server.local")
    site = secure_site(tls=tls)
    conn = Connection(device_client(site.config, "kiosk1", "kiosk"))
    conn.connect("127.0.0.1", site.tls_port)
    try:
        assert conn.wait_connected(scaled(5))
        assert "(TLS)" in conn.address
        assert conn.client.socket().version().startswith("TLS")
    finally:
        conn.close()
    # A client that trusts another CA does not talk to this broker.
    other = make_ca(tmp_path / "other", "x")
    raw = yaml.safe_load(site.path.read_text())
    raw["broker"]["tls"]["ca"] = other["ca"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "site.yaml").write_text(yaml.safe_dump(raw))
    caplog.set_level(logging.INFO, logger="antrian.adapters.mqtt")
    stranger = Connection(device_client(load(elsewhere / "site.yaml"), "kiosk1", "kiosk"))
    stranger.connect("127.0.0.1", site.tls_port)
    try:
        assert not stranger.wait_connected(1.5)
        assert [r for r in caplog.records if "cannot reach broker" in r.getMessage()]
    finally:
        stranger.close()
    # The plain listener is on loopback only once TLS is on (broker-files' mosquitto.conf).
    conf = (site.creds / "mosquitto.conf").read_text().splitlines()
    assert "listener 1883 127.0.0.1" in conf and f"listener {site.tls_port}" in conf
    assert listening_ports(site) == {site.broker.port, site.tls_port}


def test_websocket_listener_takes_the_same_users(secure_site):
    site = secure_site(websocket=True)
    deadline = time.monotonic() + scaled(5)  # libwebsockets listens a moment after the MQTT listener
    while True:
        try:
            socket.create_connection(("127.0.0.1", site.websocket_port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "the WebSocket listener did not open"
            time.sleep(0.05)
    got = []
    for password in (site.password("monitor"), "wrong"):
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"ws-{password[:4]}", transport="websockets")
        client.username_pw_set("monitor", password)
        done = threading.Event()
        client.on_connect = lambda c, u, f, reason, p: (got.append(reason.is_failure), done.set())
        client.connect("127.0.0.1", site.websocket_port)
        client.loop_start()
        assert done.wait(scaled(5))
        client.disconnect()
        client.loop_stop()
    assert got == [False, True]
    assert listening_ports(site) == {site.broker.port, site.websocket_port}


def listening_ports(site) -> set[int]:
    """The ports the broker says it opened (no stray default listener on 1883)."""
    import re

    return {int(p) for p in re.findall(r"Opening \S+ listen socket on port (\d+)", site.broker.log_path.read_text())}


# -- every real part, with its own credentials ------------------------------------------------------


def test_every_part_works_with_its_own_credentials_and_nothing_legitimate_is_denied(secure_site, monkeypatch):
    """The dispatcher, a kiosk's link, a board's link, a GPIO panel on mock pins and the
    staff web app's hub (the head's dashboard) on the secured broker: a ticket is issued,
    called and shown, and the broker's log has not one 'Denied'."""
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "mock")
    site = secure_site()
    config = site.config
    import asyncio

    from antrian.dispatcher import Dispatcher
    from antrian.adapters.store import Store
    from display.link import BoardLink
    from hardware.panel import Panel
    from kiosk.link import Link
    from web.hub import Hub

    host, port = site.broker.host, site.broker.port
    store = Store(site.tmp / "antrian.db", config.tz)
    dispatcher = Dispatcher(config, store)
    calls, boards = [], []
    kiosk = Link(config, "kiosk1")
    board = BoardLink(config, "board1", on_board=boards.append, on_call=calls.append)
    panel = Panel(config, "panel1")
    hub = Hub(config, "web1")
    loop = asyncio.new_event_loop()  # the hub's events wait there; nothing here reads them
    try:
        dispatcher.start(host, port)
        for part in (kiosk, board):
            part.start(host, port)
        hub.start(host, port, loop)
        panel.start(host, port)
        for conn in (dispatcher.connection, kiosk.connection, board.connection, panel.connection,
                     hub.link.connection):
            assert conn.wait_connected(scaled(5)), conn.client_id
        assert panel.wait_until(lambda: panel.link_up, 5)
        deadline = time.monotonic() + scaled(5)
        while kiosk.catalog is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert kiosk.catalog is not None
        reply = kiosk.ask("t-1", "KTP", None, timeout=3, attempts=2)
        assert reply and reply["ok"] and reply["ticket"]["number"] == "A-001"
        assert kiosk.send_survey({"id": "s-1", "ticket": "A-001", "counter": None, "score": 4, "answers": None})
        panel.send("loket1", "call_next")
        assert panel.wait_until(lambda: panel.lit("loket1"), 5), "the LED says serving"
        deadline = time.monotonic() + scaled(5)
        while (not calls or not boards or boards[-1]["seq"] < 1) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert calls[-1]["number"] == "A-001" and calls[-1]["counter"] == "loket1"
        deadline = time.monotonic() + scaled(5)
        def called() -> int:
            return ((hub.stats or {}).get("services", {}).get("KTP") or {}).get("called", 0)

        while (len(hub.statuses) < 3 or not hub.tickets or called() < 1) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert {"kiosk1", "board1", "panel1"} <= set(hub.statuses) and hub.dispatcher.online is True
        assert all(s.get("online") for s in hub.statuses.values())
        assert hub.stats["services"]["KTP"]["called"] == 1
        assert [t["number"] for t in hub.tickets] == ["A-001"]
        deadline = time.monotonic() + scaled(5)
        while store.db.execute("SELECT COUNT(*) FROM surveys").fetchone()[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)  # the survey is applied on the dispatcher's own thread
        assert store.db.execute("SELECT COUNT(*) FROM surveys").fetchone()[0] == 1
    finally:
        panel.close()
        kiosk.close()
        board.close()
        hub.close()
        loop.close()
        dispatcher.stop()
        store.close()
    log = site.broker.log_path.read_text()
    assert "Denied" not in log, [line for line in log.splitlines() if "Denied" in line]
    for user in ("dispatcher", "kiosk1", "board1", "panel1", "web1"):
        assert f" u'{user}'" in log, f"{user} did not log in with its own user name"


def test_antrian_up_runs_the_secured_broker_once_the_files_exist(tmp_path):
    from secure import SecureSite

    site = SecureSite(tmp_path)  # files made; its broker not started: `antrian up` starts one
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "antrian.cli", "up", "--config", str(site.path), "--port",
                             str(port), "--data-dir", str(tmp_path / "var")], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        seen = []  # log lines (the store's, the MQTT client's) come before it or after, as threads run
        while not seen or ("is running" not in seen[-1] and seen[-1]):
            seen.append(proc.stdout.readline())
        assert "is running" in seen[-1], "".join(seen)
        refused = subprocess.run(["mosquitto_sub", "-p", str(port), "-t", "#", "-C", "1", "-W", "3"],
                                 capture_output=True, text=True, timeout=scaled(10))
        assert refused.returncode != 0
        board = subprocess.run(["mosquitto_sub", "-p", str(port), "-u", "monitor", "-P",
                                site.password("monitor"), "-t", protocol.board(SITE), "-C", "1", "-W", "5"],
                               capture_output=True, text=True, timeout=scaled(10))
        assert board.returncode == 0 and json.loads(board.stdout)["seq"] == 0
    finally:
        proc.send_signal(2)
        out, _ = proc.communicate(timeout=scaled(15))
    assert proc.returncode == 0, out
    log = (tmp_path / "var" / "broker" / "mosquitto.log").read_text()
    assert " u'dispatcher'" in log
