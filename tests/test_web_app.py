"""The web wing's frame, for real: both apps on a free port against the test broker and
a real dispatcher, the security headers, the body limits, and the public app refusing
staff routes with the same 404 as any unknown address."""

from __future__ import annotations

import socket
import time

import pytest

from conftest import allday_site
from web_support import web_app  # noqa: F401 (fixture)


@pytest.fixture
def apps(tmp_path, broker, run_dispatcher, web_app):  # noqa: F811
    site = allday_site(tmp_path)
    run_dispatcher()
    staff = web_app(site, "web1", users=tmp_path / "users")
    public = web_app(site, "publik1")
    staff.wait_broker()
    public.wait_broker()
    return staff, public


def test_both_apps_answer_with_the_security_headers(apps):
    for app in apps:
        status, headers, body = app.request("GET", "/sehat")
        assert status == 200, body
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"  # a form sends its Origin; no other site sees an address
        assert "server" not in headers


def test_the_public_app_refuses_staff_routes_like_any_unknown_address(apps):
    staff, public = apps
    unknown = public.request("GET", "/tidak-ada")
    assert unknown[0] == 404
    for path in ("/masuk", "/dasbor", "/papan/board1", "/keluar"):
        status, _, body = public.request("GET", path)
        assert (status, body) == (404, unknown[2]), path
    assert unknown[2] == "Halaman tidak ditemukan."


def test_an_oversized_body_gets_413_and_idle_clients_are_cut_off(apps, monkeypatch):
    from web import server

    monkeypatch.setattr(server, "HEAD_TIMEOUT", 1.0)
    staff, _ = apps
    status, _, body = staff.request("POST", "/masuk", body=b"x" * 100_000,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 413 and body == "Data yang dikirim terlalu besar."
    status, _, _ = staff.request("POST", "/masuk", headers={"Content-Length": "-5"})
    assert status == 400
    # Clients that connect and go quiet, or send their head a byte at a time, are closed
    # once HEAD_TIMEOUT has passed; others are served all along.
    idle = [socket.create_connection(staff.address) for _ in range(20)]
    trickle = socket.create_connection(staff.address)
    try:
        assert staff.request("GET", "/sehat")[0] == 200
        deadline = time.monotonic() + 10
        closed = trickle_closed = False
        while not (closed and trickle_closed):
            assert time.monotonic() < deadline, "idle connections were not closed"
            try:
                trickle.send(b"G")
            except OSError:
                trickle_closed = True
            idle[0].settimeout(0.2)
            try:
                closed = idle[0].recv(1) == b""
            except socket.timeout:
                pass
        assert staff.request("GET", "/sehat")[0] == 200
    finally:
        for s in idle + [trickle]:
            s.close()


def test_the_health_says_when_the_broker_is_gone(apps, broker):
    staff, _ = apps
    broker.stop()
    deadline = time.monotonic() + 10
    while staff.health()["broker"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_the_hub_keeps_a_queue_list_of_a_busy_morning(tmp_path):
    """200 waiting tickets make a 23 KB queue list: more than a device's request may be,
    well within what the dispatcher may publish (protocol.MAX_STATE_PAYLOAD)."""
    from antrian import protocol
    from antrian.site import load
    from web.hub import Hub

    hub = Hub(load(allday_site(tmp_path)), "web1")
    waiting = [{"number": f"A-{n:03d}", "priority": None, "issued_at": "2026-12-04T08:00:00+08:00",
                "booking": None, "transferred_from": None} for n in range(1, 201)]
    payload = protocol.encode({"service": "KTP", "waiting": waiting, "recallable": [],
                               "updated_at": "2026-12-04T09:00:00+08:00"})
    assert len(payload) > protocol.MAX_PAYLOAD
    hub.handle(protocol.queue_list("buton", "KTP"), payload)
    assert len(hub.queues["KTP"]["waiting"]) == 200
    # A device's status stays bounded like everything a device sends.
    hub.handle(protocol.status("buton", "kiosk1"), b'{"device": "kiosk1", "x": "' + b"y" * 20000 + b'"}')
    assert "kiosk1" not in hub.statuses
