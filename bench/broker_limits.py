#!/usr/bin/env python3
"""The broker's limits against one device (issue 12, item 6): what the largest legitimate
message weighs, and what a flood of big messages does to Mosquitto's memory.

    .venv/bin/python bench/broker_limits.py                 # both parts
    .venv/bin/python bench/broker_limits.py --json out.json

1. **The largest legitimate payload.** A site of 40 agencies with 5 services each (the
   Buton example's services, names and requirements, cycled), 40 counters and 21 devices,
   written as a site file; the real dispatcher (`python -m antrian.cli dispatcher
   --always-open`) on the project's local Mosquitto. Every service gets two tickets,
   every counter calls one, so the board names a ticket and a service at every counter;
   then the retained Board, Catalog and a counter state are read off the broker and
   weighed (payload and whole PUBLISH packet).
2. **One kiosk's flood with the dispatcher down.** The site's deployed broker
   configuration (`antrian broker-files`: users, ACL, limits) on loopback; the real
   dispatcher connects once with its persistent session and stops, so the broker queues
   what arrives for it. kiosk1 then publishes, to its own request topic, 400 payloads of
   1 MB (each on a fresh connection, since the broker drops a client that sends a packet
   over max_packet_size) and 400 payloads just under the packet limit (QoS 1, one
   connection). Mosquitto's resident memory (VmRSS of /proc/PID/status) is read before
   and after; then the dispatcher starts again and a normal request must be answered.
   The same run without the limit lines (the configuration as it was before issue 12)
   gives the figure to compare.

Figures are printed, never asserted; docs/benchmarks-faults.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from benchlib import ROOT, open_buton, scaled

sys.path.insert(0, str(ROOT))

from antrian import protocol  # noqa: E402
from antrian.adapters.mosquitto import MAX_PACKET_SIZE, LocalBroker  # noqa: E402
from antrian.adapters.mqtt import Connection, make_client  # noqa: E402
from antrian.site import load  # noqa: E402
from antrian.tools import broker_files  # noqa: E402

SITE = "buton"
AGENCIES, SERVICES_EACH, COUNTERS = 40, 5, 40
BIG = 1024 * 1024
FLOOD = 400
LIMIT_LINES = ("max_packet_size", "max_queued_bytes", "memory_limit")


# -- a big site --------------------------------------------------------------------------


def big_site(directory: Path) -> Path:
    """A 40-agency, 200-service, 40-counter site file made of the Buton example's texts."""
    raw = open_buton()
    pool = [s for a in raw["agencies"] for s in a["services"]]
    names = [a for a in raw["agencies"]]
    letters = [chr(65 + i) for i in range(26)]
    prefixes = [a + b for a in letters for b in letters]
    agencies, counters, n = [], [], 0
    for i in range(AGENCIES):
        model = names[i % len(names)]
        services = []
        for _ in range(SERVICES_EACH):
            s = dict(pool[n % len(pool)])
            s.update(code=f"S{n:03d}", prefix=prefixes[n], name=f"{s['name']} ({n + 1})")
            services.append(s)
            n += 1
        agencies.append({**model, "id": f"{model['id']}-{i + 1}", "name": f"{model['name']} {i + 1}",
                         "short_name": f"{model.get('short_name', model['name'])} {i + 1}", "services": services})
        counters.append({"id": f"loket{i + 1}", "name": f"Loket {i + 1} {model.get('short_name', '')}",
                         "services": [s["code"] for s in services], "open_at_start": True})
    devices = [d for d in raw["devices"] if d["role"] == "dispatcher"]
    kiosk = next(d for d in raw["devices"] if d["role"] == "kiosk")
    board = next(d for d in raw["devices"] if d["role"] == "display")
    for i in range(10):
        devices.append({**kiosk, "id": f"kiosk{i + 1}", "name": f"Anjungan {i + 1}",
                        "printer": {"connection": "file", "path": str(directory / f"kiosk{i + 1}.bin"),
                                    "profile": "TM-T20II"}})
        devices.append({**board, "id": f"board{i + 1}", "name": f"Layar {i + 1}"})
    raw.update(agencies=agencies, counters=counters, devices=devices)
    # The bench issues its tickets from one kiosk as fast as the broker carries them.
    raw["limits"] = {"kiosk": {"per_minute": 1e6, "burst": 1_000_000}}
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class Watcher:
    """A client that keeps the last payload of every topic it sees."""

    def __init__(self, host: str, port: int, topics: list[str]):
        self.last: dict[str, bytes] = {}
        self.replies: dict[str, dict] = {}
        self.cond = threading.Condition()
        client = make_client(f"bench-watch-{uuid.uuid4().hex[:6]}")
        subscribed = threading.Event()
        client.on_subscribe = lambda *args: subscribed.set()
        client.on_message = self._on_message
        self.conn = Connection(client)
        self.conn.on_connected(lambda c: c.subscribe([(t, protocol.QOS) for t in topics]))
        self.conn.connect(host, port)
        if not self.conn.wait_connected(scaled(10)) or not subscribed.wait(scaled(10)):
            raise RuntimeError("the watcher did not connect")

    def _on_message(self, client, userdata, msg) -> None:
        with self.cond:
            self.last[msg.topic] = bytes(msg.payload)
            try:
                body = json.loads(msg.payload)
            except ValueError:
                body = {}
            if isinstance(body, dict) and "ok" in body:
                self.replies[body.get("id")] = body
            self.cond.notify_all()

    def ask(self, topic: str, obj: dict, timeout: float = 20.0) -> dict:
        self.conn.publish_json(topic, obj)
        with self.cond:
            if not self.cond.wait_for(lambda: obj["id"] in self.replies, scaled(timeout)):
                raise RuntimeError(f"no reply to {obj['id']} on {topic}")
            return self.replies[obj["id"]]

    def close(self) -> None:
        self.conn.close()


def packet_size(topic: str, payload: bytes) -> int:
    """The size of a QoS 1 PUBLISH packet: fixed header, topic, packet id, payload."""
    rest = 2 + len(topic.encode()) + 2 + len(payload)
    length_bytes = 1 if rest < 128 else 2 if rest < 16384 else 3 if rest < 2097152 else 4
    return 1 + length_bytes + rest


def largest_payloads(directory: Path) -> dict[str, Any]:
    path = big_site(directory)
    config = load(path)
    broker = LocalBroker(data_dir=directory / "plain-broker")
    broker.start()
    dispatcher = subprocess.Popen([sys.executable, "-m", "antrian.cli", "dispatcher", "--config", str(path),
                                   "--db", str(directory / "big.db"), "--broker", broker.address, "--always-open"],
                                  cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watcher = None
    try:
        topics = [protocol.board(SITE), protocol.catalog(SITE), protocol.kiosk_reply(SITE, "kiosk1"),
                  *[protocol.counter_reply(SITE, c) for c in config.counters],
                  *[protocol.counter_state(SITE, c) for c in config.counters]]
        watcher = Watcher(broker.host, broker.port, topics)
        with watcher.cond:  # the dispatcher is up once it has published its board
            if not watcher.cond.wait_for(lambda: protocol.board(SITE) in watcher.last, 30):
                raise RuntimeError("the dispatcher published no board")
        for code in config.services:
            for _ in range(2):
                watcher.ask(protocol.kiosk_request(SITE, "kiosk1"),
                            protocol.request(uuid.uuid4().hex[:12], code, None))
        for cid in config.counters:
            watcher.ask(protocol.counter_command(SITE, cid), {"id": uuid.uuid4().hex[:12], "action": "call_next"})
        time.sleep(scaled(3))  # the board and the catalog are throttled
    finally:
        if watcher is not None:
            watcher.close()
        dispatcher.terminate()
        dispatcher.wait(scaled(10))
    fresh = Watcher(broker.host, broker.port, [protocol.board(SITE), protocol.catalog(SITE),
                                               protocol.counter_state(SITE, "+")])
    time.sleep(scaled(1))
    fresh.close()
    broker.stop()
    sizes = {}
    for topic, payload in fresh.last.items():
        name = topic.split("/")[2] if "/counter/" not in topic else "counter state"
        if name not in sizes or sizes[name]["payload"] < len(payload):
            sizes[name] = {"topic": topic, "payload": len(payload), "packet": packet_size(topic, payload)}
    return {"site": {"agencies": AGENCIES, "services": AGENCIES * SERVICES_EACH, "counters": COUNTERS,
                     "devices": len(config.devices), "site_file_bytes": path.stat().st_size},
            "retained": sizes}


# -- the flood -------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (128 if n else 0))
        if not n:
            return bytes(out)


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def raw_connect(host: str, port: int, user: str, password: str) -> socket.socket:
    """An MQTT 3.1.1 connection on a bare socket: what a hostile device can send."""
    body = _field(b"MQTT") + bytes([4, 0xC2]) + (60).to_bytes(2, "big") + _field(b"") + _field(user.encode()) \
        + _field(password.encode())
    sock = socket.create_connection((host, port), timeout=scaled(10))
    sock.sendall(b"\x10" + _varint(len(body)) + body)
    ack = sock.recv(4)
    if ack[:2] != b"\x20\x02" or ack[3] != 0:
        raise RuntimeError(f"{user}: CONNACK {ack!r}")
    return sock


def raw_publish(sock: socket.socket, topic: str, payload: bytes, packet_id: int) -> None:
    body = _field(topic.encode()) + packet_id.to_bytes(2, "big") + payload
    sock.sendall(b"\x32" + _varint(len(body)) + body)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def flood(directory: Path, site_file: Path, *, limits: bool) -> dict[str, Any]:
    raw = yaml.safe_load(site_file.read_text(encoding="utf-8"))
    raw["broker"] = {"host": "127.0.0.1", "port": 1883, "credentials_dir": str(directory / "credentials")}
    secured = directory / "secured.yaml"
    secured.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    config = load(secured)
    creds = Path(config.broker.credentials_dir)
    broker_files.write(config, data_dir=directory / "data")
    render = broker_files.site_renderer(config, creds, bridge=False)
    if not limits:
        def render(port, data_dir, bind, user, _inner=render):  # noqa: E731 - the conf of before issue 12
            return "".join(line for line in _inner(port, data_dir, bind, user).splitlines(keepends=True)
                           if not line.startswith(LIMIT_LINES))
    broker = LocalBroker(data_dir=directory / ("limited" if limits else "unlimited"), render=render)
    broker.start()
    address = broker.address
    site = directory / f"flood-{'limited' if limits else 'unlimited'}.yaml"
    raw["broker"]["port"] = broker.port
    site.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    args = [sys.executable, "-m", "antrian.cli", "dispatcher", "--config", str(site), "--db",
            str(directory / f"flood-{limits}.db"), "--always-open"]
    log = open(directory / f"dispatcher-{limits}.log", "ab")
    dispatcher = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    password = (creds / "kiosk1.password").read_text().strip()
    result: dict[str, Any] = {"limits": limits}
    try:
        time.sleep(scaled(3))  # connected, subscribed: the broker knows its persistent session
        dispatcher.terminate()
        dispatcher.wait(scaled(10))
        pid = broker.pid
        result["rss_before_kb"] = rss_kb(pid)
        topic = protocol.kiosk_request(SITE, "kiosk1")
        limit = MAX_PACKET_SIZE
        under = b"x" * (limit - packet_size(topic, b"") - 16)
        started = time.monotonic()
        dropped = 0
        for i in range(FLOOD):
            sock = raw_connect(broker.host, broker.port, "kiosk1", password)
            try:
                raw_publish(sock, topic, b"y" * BIG, 1 + i % 60000)
                if not sock.recv(16):  # closed: the packet was over the limit
                    dropped += 1
            except OSError:
                dropped += 1
            finally:
                sock.close()
        result["big_refused_connections"] = dropped
        result["rss_after_big_kb"] = rss_kb(pid)
        sock = raw_connect(broker.host, broker.port, "kiosk1", password)
        for i in range(FLOOD):
            raw_publish(sock, topic, under, 1 + i)
        time.sleep(1)
        sock.close()
        result["flood_seconds"] = round(time.monotonic() - started, 1)
        result["under_payload_bytes"] = len(under)
        result["rss_after_kb"] = rss_kb(pid)
        dispatcher = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        mid = uuid.uuid4().hex[:12]
        asker = make_client(f"bench-ask-{mid[:6]}")
        asker.username_pw_set("kiosk1", password)
        replies: list[dict] = []
        got = threading.Event()

        def on_message(client, userdata, msg):
            body = json.loads(msg.payload)
            if body.get("id") == mid:
                replies.append(body)
                got.set()

        asker.on_message = on_message
        conn = Connection(asker)
        conn.on_connected(lambda c: c.subscribe([(protocol.kiosk_reply(SITE, "kiosk1"), 1)]))
        conn.connect(broker.host, broker.port)
        conn.wait_connected(scaled(10))
        time.sleep(scaled(0.5))
        sent = time.monotonic()
        while not got.is_set() and time.monotonic() - sent < scaled(120):
            conn.publish_json(topic, protocol.request(mid, next(iter(config.services)), None))
            got.wait(2)
        result["served_after_seconds"] = round(time.monotonic() - sent, 1) if replies else None
        result["reply_ok"] = bool(replies and replies[0]["ok"])
        result["rss_end_kb"] = rss_kb(pid)
        conn.close()
    finally:
        if dispatcher.poll() is None:
            dispatcher.terminate()
            dispatcher.wait(scaled(10))
        log.close()
        broker.stop()
    result["address"] = address
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--skip-unlimited", action="store_true", help="do not run the flood without limits")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="antrian-bench-broker-") as tmp:
        directory = Path(tmp)
        figures: dict[str, Any] = {"machine": platform.platform(), "python": platform.python_version()}
        figures["largest"] = largest_payloads(directory)
        print(json.dumps(figures["largest"], indent=2))
        site = directory / "site.yaml"
        figures["flood"] = [flood(directory, site, limits=True)]
        if not args.skip_unlimited:
            figures["flood"].append(flood(directory, site, limits=False))
        for run in figures["flood"]:
            print(json.dumps(run, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
