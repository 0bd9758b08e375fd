"""Beyond one site (DESIGN.md, Scale): the site's broker bridges ``antrian/{site}/#`` out to a
central broker. Two Mosquittos on loopback: the site's, secured and configured by
`antrian broker-files` with the bridge, and a central one with a user for the site. Events
reach the centre; with the centre down the site keeps issuing and calling, and the centre
catches up once it is back; the centre cannot send anything into the site."""

from __future__ import annotations

import time
from pathlib import Path

from antrian import protocol

from antrian.tools import broker_files
from antrian.adapters.mosquitto import LocalBroker
from antrian.adapters.mqtt import device_client
from helpers import Recorder
from test_faults import Endpoint, rows

SITE = "buton"


def central_broker(tmp_path: Path) -> tuple[LocalBroker, dict[str, str]]:
    """The centre: no anonymous clients; the site's bridge user may write its site's topics,
    a reader at the centre may read every site."""
    folder = tmp_path / "central"
    folder.mkdir()
    passwords = {"mpp-buton": "bridge-" + broker_files.new_password(), "pusat": "pusat-" + broker_files.new_password()}
    (folder / "passwd").write_text("".join(f"{u}:{broker_files.hash_password(p)}\n" for u, p in passwords.items()))
    (folder / "acl").write_text(f"user mpp-buton\ntopic readwrite {protocol.site_filter(SITE)}\n\n"
                                "user pusat\ntopic read antrian/#\ntopic write antrian/+/kiosk/+/request\n")

    def render(port: int, data_dir: Path, bind: str, user: str) -> str:
        return "\n".join([f"listener {port} {bind}", "allow_anonymous false", f"password_file {folder / 'passwd'}",
                          f"acl_file {folder / 'acl'}", "persistence true", f"persistence_location {data_dir}/",
                          "log_dest stderr", "log_type all", "set_tcp_nodelay true", f"user {user}", ""])

    return LocalBroker(data_dir=folder / "data", render=render), passwords


def test_events_reach_the_centre_and_the_site_works_on_while_the_link_is_down(secure_site, tmp_path):
    from antrian.dispatcher import Dispatcher
    from antrian.adapters.store import Store

    centre, passwords = central_broker(tmp_path)
    centre.start()
    (tmp_path / "central.password").write_text(passwords["mpp-buton"] + "\n")
    site = secure_site(central={"host": centre.host, "port": centre.port, "username": "mpp-buton",
                                "password_file": str(tmp_path / "central.password")})
    conf = (site.creds / "mosquitto.conf").read_text()
    assert f"address {centre.host}:{centre.port}" in conf and f"topic {protocol.site_filter(SITE)} out 1" in conf
    config = site.config
    store = Store(tmp_path / "antrian.db", config.tz)
    dispatcher = Dispatcher(config, store)
    host, port = site.broker.host, site.broker.port
    # A reader at the centre with a persistent session: the centre keeps what arrives for
    # it while it is away, as a provincial dashboard would want.
    reader = Recorder("pusat", topics=[protocol.site_filter(SITE)], clean_session=False, username="pusat",
                      password=passwords["pusat"])
    kiosk = panel = None
    try:
        dispatcher.start(host, port)
        reader.start(centre.host, centre.port)
        kiosk = Endpoint("kiosk1", protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1"), host,
                         port, client=device_client(config, "kiosk1", "kiosk"))
        panel = Endpoint("panel1", protocol.counter_command(SITE, "loket1"), protocol.counter_reply(SITE, "loket1"),
                         host, port, client=device_client(config, "panel1", "panel"))
        # The retained state reaches the centre once the bridge is up.
        assert reader.wait_for(protocol.board(SITE), timeout=15).json()["seq"] == 0

        def calls_at_centre() -> list[int]:
            return [m.json()["seq"] for m in reader.messages if m.topic == protocol.call(SITE)]

        def work(tag: str, tickets: int, calls: int) -> float:
            started = time.monotonic()
            for i in range(tickets):
                assert kiosk.ask({"id": f"{tag}-r{i}", "service": "KTP", "priority": None}, retry=2)["ok"]
            for i in range(calls):
                assert panel.ask({"id": f"{tag}-c{i}", "action": "call_next"}, retry=2)["ok"]
            return time.monotonic() - started

        work("up", 3, 2)
        reader.wait_for(protocol.call(SITE), lambda m: m.json()["seq"] == 2, timeout=5)
        assert reader.wait_for(protocol.kiosk_reply(SITE, "kiosk1"), lambda m: m.json()["id"] == "up-r2").json()["ok"]

        centre._halt()  # noqa: SLF001 - the centre goes away (SIGTERM: it saves its sessions)
        seen = len(reader.messages)
        down_seconds = work("down", 5, 3)  # the site does not wait for the centre
        assert down_seconds < 5, f"the site slowed down to {down_seconds:.1f} s while the centre was away"
        assert rows(tmp_path / "antrian.db", "SELECT COUNT(*) FROM events WHERE kind = 'issued'")[0][0] == 8

        back = time.monotonic()
        centre.start()
        # Everything made while the centre was away arrives, in order, once the bridge is back.
        reader.wait_for(protocol.call(SITE), lambda m: m.json()["seq"] == 5, timeout=40)
        caught_up = time.monotonic() - back
        # In order and complete. QoS 1 is at least once: a message the centre got just as it
        # went down may come again (a consumer drops a seq it has seen, as a board does).
        seqs = calls_at_centre()
        assert list(dict.fromkeys(seqs)) == [1, 2, 3, 4, 5] and seqs == sorted(seqs), seqs
        replies = {m.json()["id"] for m in reader.messages[seen:] if m.topic == protocol.kiosk_reply(SITE, "kiosk1")}
        assert {f"down-r{i}" for i in range(5)} <= replies

        # Out only: what the centre publishes on the site's topics never reaches the site.
        reader.publish_json(protocol.kiosk_request(SITE, "kiosk1"), {"id": "from-centre", "service": "KTP",
                                                                     "priority": None}).wait_for_publish(5)
        time.sleep(1.0)
        assert not rows(tmp_path / "antrian.db", "SELECT 1 FROM replies WHERE msg_id = 'from-centre'")
    finally:
        for ep in (kiosk, panel):
            if ep is not None:
                ep.close()
        reader.close()
        dispatcher.stop()
        store.close()
        centre.stop()
    print(f"\nbridge: 8 operations in {down_seconds:.2f} s with the centre down; the centre caught up "
          f"{caught_up:.1f} s after it came back")
