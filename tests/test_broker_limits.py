"""The broker's limits against one device (issue 12, item 6), on the project's Mosquitto
with the configuration `antrian broker-files` makes (users, ACL, limits) and the real
dispatcher as a child process.

- Both configurations carry the limits: the deployed one and the local template.
- A packet of exactly max_packet_size passes; one byte more disconnects its sender
  (Mosquitto 2.0.11 counts a packet without the bytes of its length field).
- The largest legitimate message, the retained catalog of a site of 40 agencies (200
  services) and 40 counters, reaches a board with a margin of at least 4 below the limit.
- With the dispatcher down but its persistent session known to the broker, kiosk1 sends
  400 payloads of 1 MB and 400 just under the packet limit to its request topic: the
  broker's resident memory stays under RSS_BOUND, and the dispatcher, started again,
  serves a normal request. (Before issue 12 Mosquitto grew from 9 to 391 MB on the 1 MB
  ones alone; bench/broker_limits.py measures both, docs/benchmarks-faults.md has them.)
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from antrian import protocol
from antrian.adapters.mosquitto import (MAX_PACKET_SIZE, MAX_QUEUED_BYTES, limit_lines, render_config)
from antrian.adapters.mqtt import device_client
from antrian.site import load
from antrian.tools import broker_files
from conftest import BUTON
from helpers import DispatcherProcess, Endpoint
from secure import Probe

SITE = "buton"
MB = 1024 * 1024
RSS_BOUND_KB = 40 * 1024  # the bound the broker's VmRSS must stay under through the flood
FLOOD = 400


# -- a bare MQTT 3.1.1 client: what a hostile device can put on the wire -----------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (128 if n else 0))
        if not n:
            return bytes(out)


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def connect(host: str, port: int, user: str, password: str) -> socket.socket:
    body = _field(b"MQTT") + bytes([4, 0xC2]) + (60).to_bytes(2, "big") + _field(b"") + _field(user.encode()) \
        + _field(password.encode())
    sock = socket.create_connection((host, port), timeout=10)
    sock.sendall(b"\x10" + _varint(len(body)) + body)
    assert sock.recv(4) == b"\x20\x02\x00\x00", f"{user} refused"
    return sock


def publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    """A QoS 1 PUBLISH."""
    body = _field(topic.encode()) + packet_id.to_bytes(2, "big") + payload
    return b"\x32" + _varint(len(body)) + body


def payload_for(topic: str, size: int) -> bytes:
    """A payload whose QoS 1 PUBLISH on `topic` is `size` bytes as Mosquitto 2.0.11 counts
    them against max_packet_size: the first byte and the rest, not the 1-4 bytes that
    give the rest's length."""
    return b"x" * (size - 1 - 2 - len(topic.encode()) - 2)


def closed(sock: socket.socket, timeout: float = 5.0) -> bool:
    """Whether the broker has closed this connection (b'' or a reset) within `timeout`."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


# -- the configurations -------------------------------------------------------------------------


def test_the_deployed_and_the_local_configuration_both_carry_the_limits(tmp_path):
    config = load(BUTON)
    deployed = broker_files.mosquitto_conf(config, tmp_path, port=1883).splitlines()
    local = render_config(1883, tmp_path).splitlines()
    for line in limit_lines().splitlines():
        assert deployed.count(line) == 1 and local.count(line) == 1, line
    names = {line.split()[0] for line in limit_lines().splitlines()}
    assert names == {"max_packet_size", "max_queued_messages", "max_queued_bytes", "memory_limit"}


def test_a_packet_of_the_limit_passes_and_one_byte_more_disconnects_its_sender(secure_site):
    site = secure_site()
    topic = protocol.board(SITE)
    board = Probe(site.broker.host, site.broker.port, "board1", site.password("board1"))
    assert not board.wait_connack().is_failure
    board.subscribe([topic])
    sock = connect(site.broker.host, site.broker.port, "dispatcher", site.password("dispatcher"))
    try:
        at_limit = payload_for(topic, MAX_PACKET_SIZE)
        sock.sendall(publish_packet(topic, at_limit, 1))
        assert sock.recv(4) == b"\x40\x02\x00\x01"  # PUBACK of packet 1
        assert board.wait_message(topic, at_limit, 10)
        sock.sendall(publish_packet(topic, at_limit + b"x", 2))
        assert closed(sock), "a packet over max_packet_size did not disconnect its sender"
    finally:
        sock.close()
        board.close()


def big_site() -> dict[str, Any]:
    """40 agencies of 5 services each (the Buton example's services, cycled), 40 counters."""
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    pool = [s for a in raw["agencies"] for s in a["services"]]
    letters = [chr(65 + i) for i in range(26)]
    prefixes = [a + b for a in letters for b in letters]
    agencies, counters, n = [], [], 0
    for i in range(40):
        model = raw["agencies"][i % len(raw["agencies"])]
        services = []
        for _ in range(5):
            services.append({**pool[n % len(pool)], "code": f"S{n:03d}", "prefix": prefixes[n],
                             "name": f"{pool[n % len(pool)]['name']} ({n + 1})"})
            n += 1
        agencies.append({**model, "id": f"{model['id']}-{i + 1}", "name": f"{model['name']} {i + 1}",
                         "services": services})
        counters.append({"id": f"loket{i + 1}", "name": f"Loket {i + 1}", "open_at_start": True,
                         "services": [s["code"] for s in services]})
    # The example's zones name its own agencies, which this site renames.
    devices = [{k: v for k, v in d.items() if k != "zone"} for d in raw["devices"]
               if d["role"] in ("dispatcher", "kiosk", "display")]
    return {"agencies": agencies, "counters": counters, "devices": devices}


def test_the_catalog_of_a_40_agency_40_counter_site_passes_with_a_margin(secure_site, tmp_path):
    site = secure_site(**big_site())
    assert len(site.config.services) == 200 and len(site.config.counters) == 40
    board = Probe(site.broker.host, site.broker.port, "board1", site.password("board1"))
    assert not board.wait_connack().is_failure
    board.subscribe([protocol.catalog(SITE), protocol.board(SITE)])
    dispatcher = DispatcherProcess(site.path, tmp_path / "big.db", site.broker.address, tmp_path / "dispatcher.log")
    dispatcher.start()
    try:
        with board.cond:
            assert board.cond.wait_for(lambda: {t for t, _, _ in board.messages} >= {protocol.catalog(SITE),
                                                                                   protocol.board(SITE)}, 30)
        catalog = next(p for t, p, _ in board.messages if t == protocol.catalog(SITE))
        assert len(json.loads(catalog)["agencies"]) == 40
        packet = len(publish_packet(protocol.catalog(SITE), catalog, 1))
        print(f"\ncatalog of 40 agencies, 200 services, 40 counters: {packet:,} bytes a packet; "
              f"limit {MAX_PACKET_SIZE:,} ({MAX_PACKET_SIZE / packet:.1f}x)")
        assert packet * 4 < MAX_PACKET_SIZE
    finally:
        dispatcher.stop()
        dispatcher.cleanup()
        board.close()


# -- the flood ------------------------------------------------------------------------------------


def test_one_kiosks_flood_for_the_downed_dispatcher_leaves_the_broker_small(secure_site, tmp_path):
    site = secure_site()
    host, port = site.broker.host, site.broker.port
    dispatcher = DispatcherProcess(site.path, tmp_path / "antrian.db", site.broker.address,
                                   tmp_path / "dispatcher.log")
    watcher = Probe(host, port, "monitor", site.password("monitor"))
    assert not watcher.wait_connack().is_failure
    watcher.subscribe([protocol.status(SITE, "dispatcher")])

    def dispatcher_online() -> bool:
        return any(json.loads(p or b"{}").get("online") for t, p, _ in watcher.messages)

    dispatcher.start()  # once, so the broker knows its persistent session and subscriptions
    try:
        with watcher.cond:
            assert watcher.cond.wait_for(dispatcher_online, 30), "the dispatcher did not come online"
        assert dispatcher.stop() == 0
        watcher.close()
        pid = site.broker.pid
        before = rss_kb(pid)

        topic = protocol.kiosk_request(SITE, "kiosk1")
        password = site.password("kiosk1")
        big = publish_packet(topic, b"y" * MB, 1)
        for _ in range(FLOOD):  # a bigger packet than the limit costs its sender the connection
            sock = connect(host, port, "kiosk1", password)
            try:
                sock.sendall(big)
            except OSError:
                pass  # the broker closed the connection before reading it all
            assert closed(sock)
            sock.close()
        after_big = rss_kb(pid)

        under = payload_for(topic, MAX_PACKET_SIZE - 16)
        sock = connect(host, port, "kiosk1", password)
        acks = bytearray()
        for i in range(FLOOD):
            sock.sendall(publish_packet(topic, under, 1 + i))
        sock.settimeout(10)
        while len(acks) < 4 * FLOOD:  # every one is acknowledged, queued or dropped
            data = sock.recv(65536)
            assert data, "the broker closed the flooding kiosk's connection"
            acks += data
        sock.close()
        after = rss_kb(pid)
        print(f"\nbroker VmRSS: {before:,} kB before, {after_big:,} kB after {FLOOD} x 1 MB, {after:,} kB after "
              f"{FLOOD} x {len(under):,} bytes (bound {RSS_BOUND_KB:,} kB)")
        assert after_big < RSS_BOUND_KB and after < RSS_BOUND_KB
        # The dispatcher's session did hold what fitted in its queue (not nothing at all).
        assert after - before > MAX_QUEUED_BYTES // 1024 // 2

        dispatcher.start()
        kiosk = Endpoint("kiosk2", protocol.kiosk_request(SITE, "kiosk2"), protocol.kiosk_reply(SITE, "kiosk2"),
                         host, port, client=device_client(site.config, "kiosk2", "kiosk"))
        try:
            reply = kiosk.ask(protocol.request(uuid.uuid4().hex[:12], "KTP", None), retry=2.0, give_up=60.0)
        finally:
            kiosk.close()
        assert reply["ok"] and reply["ticket"]["number"].startswith("A"), reply
    finally:
        dispatcher.cleanup()
