"""Device statuses on the deployed broker (issue 12, item 7): a device writes only its own
status, the technician's `monitor` user writes nothing at all. The broker is the project's
Mosquitto with the passwords, ACL and mosquitto.conf made by `antrian broker-files`."""

from __future__ import annotations

import json
import time

from antrian import protocol
from secure import Probe

SITE = "buton"
NOT_AUTHORIZED = 135
DEVICES = ["dispatcher", "kiosk1", "kiosk2", "board1", "board2", "panel1", "panel2"]


def probe(site, user: str) -> Probe:
    p = Probe(site.broker.host, site.broker.port, user, site.password(user))
    assert not p.wait_connack().is_failure, f"{user} refused"
    return p


def fake_status(device: str, by: str) -> bytes:
    return protocol.encode(protocol.device_status(device, "kiosk", True, [], f"fake-by-{by}", "2026-01-05T08:00:00"))


def statuses(p: Probe) -> list[tuple[str, bytes, bool]]:
    with p.cond:
        return [m for m in p.messages if m[0].startswith(f"antrian/{SITE}/status/")]


def test_the_monitor_cannot_publish_any_status_live_or_retained(secure_site):
    site = secure_site()
    watcher = probe(site, "web1")  # reads every status, as the head's dashboard shows them
    watcher.subscribe([protocol.status(SITE, "+")])
    monitor = probe(site, "monitor")
    try:
        for device in [*DEVICES, "monitor", "stranger"]:
            for retain in (False, True):
                code = monitor.publish(protocol.status(SITE, device), fake_status(device, "monitor"), retain=retain)
                assert code.value == NOT_AUTHORIZED, (device, retain, str(code))
        # The monitor still reads everything of the site, as a technician's mosquitto_sub.
        monitor.subscribe([f"antrian/{SITE}/#"])
        marker = protocol.status(SITE, "kiosk1")
        kiosk = probe(site, "kiosk1")
        assert not kiosk.publish(marker, b'{"device":"kiosk1","marker":true}').is_failure
        kiosk.close()
        assert monitor.wait_message(marker, b'{"device":"kiosk1","marker":true}')
        assert watcher.wait_message(marker, b'{"device":"kiosk1","marker":true}')
        # Nothing of the monitor's reached a subscriber of the moment...
        assert not [m for m in statuses(watcher) if b"fake-by-monitor" in m[1]]
    finally:
        monitor.close()
        watcher.close()
    # ...nor was kept as a retained status for a board that subscribes later.
    late = probe(site, "board1")
    try:
        late.subscribe([protocol.status(SITE, "+")])
        time.sleep(0.5)
        assert not [m for m in statuses(late) if b"fake-by-monitor" in m[1]]
    finally:
        late.close()


def test_a_kiosk_writes_its_own_status_and_no_other_devices(secure_site):
    site = secure_site()
    watcher = probe(site, "web1")
    watcher.subscribe([protocol.status(SITE, "+")])
    kiosk = probe(site, "kiosk1")
    try:
        for device in ("board1", "dispatcher", "kiosk2", "panel1"):
            code = kiosk.publish(protocol.status(SITE, device), fake_status(device, "kiosk1"), retain=True)
            assert code.value == NOT_AUTHORIZED, (device, str(code))
        own = protocol.encode(protocol.device_status("kiosk1", "kiosk", True, ["printer_paper_out"], "1.0",
                                                     "2026-01-05T08:00:00"))
        assert not kiosk.publish(protocol.status(SITE, "kiosk1"), own, retain=True).is_failure
        assert watcher.wait_message(protocol.status(SITE, "kiosk1"), own)
        got = statuses(watcher)
        assert [(t, p) for t, p, _ in got] == [(protocol.status(SITE, "kiosk1"), own)]
        assert json.loads(got[0][1])["problems"] == ["printer_paper_out"]
    finally:
        kiosk.close()
        watcher.close()
    late = probe(site, "board1")
    try:
        late.subscribe([protocol.status(SITE, "+")])
        assert late.wait_message(protocol.status(SITE, "kiosk1"), own)
        assert not [m for m in statuses(late) if b"fake-by-kiosk1" in m[1]]
    finally:
        late.close()
