"""The local Mosquitto (antrian.adapters.mosquitto) and the paho adapter (antrian.adapters.mqtt) against a real broker."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from antrian.adapters.mosquitto import DEFAULT_TEMPLATE, BrokerError, LocalBroker, find_mosquitto, free_port, render_config
from antrian.adapters.mqtt import Connection, encode_json, make_client, parse_address
from antrian.slow import scaled

REPO = Path(__file__).resolve().parent.parent


def nodelay(sock: socket.socket) -> bool:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_qos1_round_trip(mqtt_client):
    listener = mqtt_client(topics=["antrian/test/#"])
    sender = mqtt_client(topics=())
    info = sender.publish_json("antrian/test/call", {"number": "A-012", "counter_name": "Loket 3 – Bapenda"})
    message = listener.wait_for("antrian/test/call")
    assert message.qos == 1
    assert message.json() == {"number": "A-012", "counter_name": "Loket 3 – Bapenda"}
    # Compact and UTF-8, not \u escapes.
    assert message.payload == '{"number":"A-012","counter_name":"Loket 3 – Bapenda"}'.encode("utf-8")
    info.wait_for_publish(5)
    assert info.is_published()


def test_client_socket_has_tcp_nodelay(mqtt_client):
    recorder = mqtt_client(topics=())
    assert nodelay(recorder.client.socket())


def test_restart_keeps_port_and_retained_messages(broker, mqtt_client):
    port, data_dir = broker.port, broker.data_dir
    sender = mqtt_client(topics=())
    info = sender.publish_json("antrian/test/board", {"seq": 7}, retain=True)
    # PUBACK: the broker holds the retained message before we stop it.
    info.wait_for_publish(5)
    assert info.is_published()

    broker.restart()

    assert broker.running
    assert (broker.port, broker.data_dir) == (port, data_dir)
    assert (data_dir / "mosquitto.db").is_file()
    late = mqtt_client(topics=["antrian/test/board"])
    message = late.wait_for("antrian/test/board")
    assert message.retain
    assert message.json() == {"seq": 7}


def test_connection_resubscribes_after_broker_killed_and_restarted(broker, mqtt_client):
    listener = mqtt_client(topics=["antrian/test/#"])
    sender = mqtt_client(topics=())

    broker.kill()
    assert not broker.running
    broker.restart()

    # Nobody reconnects or subscribes by hand: the second SUBACK comes from the
    # on_connected callback that the Connection re-runs after its reconnect.
    listener.wait_subscribed(2)
    assert listener.conn.connected
    assert nodelay(listener.client.socket())
    sender.publish_json("antrian/test/after-restart", {"seq": 2})
    assert listener.wait_for("antrian/test/after-restart").json() == {"seq": 2}


def test_close_survives_the_network_thread_ending_before_loop_stop_joins_it(broker, monkeypatch):
    """paho-mqtt 2.1's loop_stop checks its thread, then joins it; after DISCONNECT the thread
    may end (and clear it) in between (paho issue #872). A dispatcher stopped by SIGTERM died
    of that with AttributeError and status 1. Here the thread always ends in between: it is
    held in on_disconnect until loop_stop has checked, and loop_stop waits for it to end."""
    import paho.mqtt.client as paho_client

    conn = Connection(make_client("close-race"))
    conn.connect(broker.host, broker.port)
    assert conn.wait_connected(5)
    real_current_thread, closing = threading.current_thread, threading.current_thread()
    checked = threading.Event()
    on_disconnect = conn.client.on_disconnect

    def held_on_disconnect(*args, **kwargs):
        on_disconnect(*args, **kwargs)
        checked.wait(5)

    def current_thread():
        me = real_current_thread()
        if me is closing and not checked.is_set():  # loop_stop, after its check, before its join
            checked.set()
            deadline = time.monotonic() + 5
            while conn.client._thread is not None and time.monotonic() < deadline:  # noqa: SLF001
                time.sleep(0.01)
        return me

    conn.client.on_disconnect = held_on_disconnect
    monkeypatch.setattr(paho_client.threading, "current_thread", current_thread)
    conn.close()  # raised AttributeError before
    monkeypatch.undo()
    assert checked.is_set() and conn.client._thread is None and not conn.connected  # noqa: SLF001


def test_connect_to_nothing_does_not_raise_and_warns_once(caplog):
    caplog.set_level(logging.WARNING, logger="antrian.adapters.mqtt")
    port = free_port()
    conn = Connection(make_client("kiosk-1"))
    conn.connect("127.0.0.1", port)
    try:
        # Long enough for the first attempt and at least one retry (0.2 s back-off).
        assert not conn.wait_connected(0.5)
        assert not conn.connected
    finally:
        conn.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "kiosk-1" in warnings[0] and f"127.0.0.1:{port}" in warnings[0]


class _CountConnacks(logging.Handler):
    """Counts the CONNACKs paho logs (at DEBUG) and signals when *target* arrived."""

    def __init__(self, target: int):
        super().__init__(logging.DEBUG)
        self.target, self.count, self.reached = target, 0, threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Received CONNACK"):
            self.count += 1
            if self.count >= self.target:
                self.reached.set()


def test_refused_connection_is_logged_once_per_change(tmp_path, caplog):
    strict = tmp_path / "strict.conf"
    strict.write_text(DEFAULT_TEMPLATE.read_text().replace("allow_anonymous true", "allow_anonymous false"))
    counter = _CountConnacks(target=3)
    paho_log = logging.getLogger("antrian.adapters.mqtt.paho")
    paho_log.addHandler(counter)
    caplog.set_level(logging.DEBUG, logger="antrian.adapters.mqtt")
    with LocalBroker(data_dir=tmp_path / "broker", template=strict) as broker:
        conn = Connection(make_client("panel-loket-3"))
        conn.connect(broker.host, broker.port)
        try:
            # Three refusals: the first attempt and two back-off retries.
            assert counter.reached.wait(scaled(5))
            assert not conn.connected
        finally:
            conn.close()
            paho_log.removeHandler(counter)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "panel-loket-3" in warnings[0] and broker.address in warnings[0]
    assert "reason 135" in warnings[0]


def test_start_on_a_port_in_use_names_the_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        broker = LocalBroker(port=port)
        with pytest.raises(BrokerError, match=rf"\b{port}\b"):
            broker.start()
        assert not broker.running
        broker.stop()


def test_broker_that_exits_at_start_reports_its_log(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text(DEFAULT_TEMPLATE.read_text() + "\nno_such_option 1\n")
    broker = LocalBroker(data_dir=tmp_path / "broker", template=bad)
    with pytest.raises(BrokerError, match="no_such_option") as error:
        broker.start()
    assert str(broker.port) in str(error.value)
    assert not broker.running


def test_a_later_listener_that_cannot_bind_fails_start_with_its_log(tmp_path):
    """CI once saw the WebSocket listener's port taken by an outgoing connection's local port
    between free_port() and the broker's bind: Mosquitto opened its first listener, then
    exited. start() waits for every listener it is told of, so it reports that at once."""
    ws_port = free_port()
    websocket = f"\nlistener {ws_port} 127.0.0.1\nprotocol websockets\n"
    conf = tmp_path / "ws.conf"
    conf.write_text(DEFAULT_TEMPLATE.read_text() + websocket)
    with socket.socket() as server, socket.socket() as client:
        server.bind(("127.0.0.1", 0))
        server.listen()
        client.bind(("127.0.0.1", ws_port))  # what the kernel does to a client's local port
        client.connect(server.getsockname())
        broker = LocalBroker(data_dir=tmp_path / "broker", template=conf, also_ports=(ws_port,))
        with pytest.raises(BrokerError, match=rf"websockets listener on port {ws_port}"):
            broker.start()
        assert not broker.running
    with LocalBroker(data_dir=tmp_path / "again", template=conf, also_ports=(ws_port,)) as broker:
        socket.create_connection(("127.0.0.1", ws_port), timeout=1).close()


def test_free_ports_are_below_the_ephemeral_range():
    """No outgoing connection on the machine is given one of them as its local port."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(20)}
    assert all(10000 <= port < low for port in ports), ports
    assert len(ports) > 1  # drawn at random: two workers rarely draw the same


def test_own_temp_dir_is_removed_and_default_port_is_not_1883():
    with LocalBroker() as broker:
        data_dir = broker.data_dir
        assert broker.port != 1883
        assert broker.address == f"127.0.0.1:{broker.port}"
        assert (data_dir / "mosquitto.conf").is_file()
    assert not broker.running
    assert not data_dir.exists()
    broker.stop()


def test_render_config_fills_every_placeholder(tmp_path):
    text = render_config(18830, tmp_path, bind="0.0.0.0")
    assert "@" not in text
    lines = {line.split(None, 1)[0]: line for line in text.splitlines() if line and not line.startswith("#")}
    assert lines["listener"] == "listener 18830 0.0.0.0"
    assert lines["persistence_location"] == f"persistence_location {tmp_path.resolve()}/"
    assert lines["set_tcp_nodelay"] == "set_tcp_nodelay true"
    assert lines["user"].split()[1]


def test_render_config_errors(tmp_path):
    missing = tmp_path / "nowhere.conf"
    with pytest.raises(BrokerError, match="nowhere.conf"):
        render_config(18830, tmp_path, template=missing)
    typo = tmp_path / "typo.conf"
    typo.write_text("listener @PORT@ @BIND@\npersistence_location @DATADIR@/\n")
    with pytest.raises(BrokerError, match="@DATADIR@"):
        render_config(18830, tmp_path, template=typo)
    with pytest.raises(BrokerError, match="port"):
        render_config(0, tmp_path)
    with pytest.raises(BrokerError, match="data_dir"):
        render_config(18830, tmp_path / "with space")


def test_find_mosquitto():
    assert os.access(find_mosquitto(), os.X_OK)


def test_run_foreground_stops_cleanly_on_sigterm(tmp_path):
    port = free_port()
    code = f"import sys; from antrian.adapters.mosquitto import run_foreground; sys.exit(run_foreground({port}, {str(tmp_path)!r}))"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + scaled(5)
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "run_foreground broker never accepted"
                time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=scaled(10))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr.decode()
    assert b"terminating" in stderr
    assert (tmp_path / "mosquitto.db").is_file()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("broker.local:1884", ("broker.local", 1884)),
        ("10.0.0.5", ("10.0.0.5", 1883)),
        ("[::1]:1885", ("::1", 1885)),
        ("::1", ("::1", 1883)),
    ],
)
def test_parse_address(text, expected):
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "host:", "host:port", "host:70000", "[::1", "a b:1"])
def test_parse_address_rejects(text):
    with pytest.raises(ValueError, match="bad broker address"):
        parse_address(text)


def test_encode_json_is_compact_utf8():
    assert encode_json({"kata": "antrean – é"}) == '{"kata":"antrean – é"}'.encode("utf-8")
