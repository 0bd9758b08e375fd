"""Taking a ticket end to end without the screen: a real Mosquitto, the real dispatcher,
the kiosk's Link, Desk and TicketPrinter, and a fake network printer on 127.0.0.1.

Printer faults (refused, hung up mid-job, DLE EOT paper out, cover open), the broker
going away, and the request id making a retry exactly-once."""

from __future__ import annotations

import datetime as dt
import queue
import sqlite3
import time

import pytest
from escpos_decode import decode
from kiosk_support import kiosk_site

from antrian import bahasa, protocol
from antrian.site import load
from kiosk.options import kiosk_settings
from kiosk import desk as desk_module
from kiosk.desk import Desk, Order
from kiosk.fakeprinter import FakePrinter
from kiosk.link import Link
from kiosk.printer import MESSAGES, TicketPrinter
from kiosk.texts import GANGGUAN

SITE = "buton"
STATUS = protocol.status(SITE, "kiosk1")
REQUEST = protocol.kiosk_request(SITE, "kiosk1")


@pytest.fixture
def printer():
    with FakePrinter() as fake:
        yield fake


@pytest.fixture
def site_file(tmp_path, printer):
    return kiosk_site(tmp_path, printer.port)


class Kiosk:
    """Link + Desk of kiosk1, with its results in a queue."""

    def __init__(self, site_file, broker):
        config = load(site_file)
        self.results: queue.Queue = queue.Queue()
        self.link = Link(config, "kiosk1")
        self.desk = Desk(self.link, TicketPrinter(kiosk_settings(config.device("kiosk1").options).printer),
                         on_result=self.results.put)
        self.link.start(broker.host, broker.port)
        self.desk.start()

    def take(self, service="KTP", priority=None, order=None, timeout=10.0):
        order = order or Order.new(service, priority)
        assert self.desk.take(order)
        result = self.results.get(timeout=timeout)
        assert result.order == order
        return result

    def close(self):
        self.desk.stop()
        self.link.close()


@pytest.fixture
def kiosk(site_file, broker, run_dispatcher, mqtt_client, monkeypatch):
    monkeypatch.setattr(desk_module, "RECOVERY_SECONDS", 0.2)
    monkeypatch.setattr(desk_module, "REPLY_TIMEOUT", 0.5)
    made = []

    def make(dispatcher=True):
        if dispatcher:
            run_dispatcher()
        k = Kiosk(site_file, broker)
        made.append(k)
        assert k.link.connection.wait_connected(5)
        deadline = time.monotonic() + 5
        while dispatcher and k.link.catalog is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return k

    yield make
    for k in made:
        k.close()


def statuses(recorder):
    return [m.json() for m in recorder.messages if m.topic == STATUS]


def requests_seen(watch) -> int:
    """The kiosk requests a watcher saw. Its copy of the first may come after the kiosk's
    round trip (two subscribers, two deliveries), so wait for one; more would be here by then."""
    watch.wait_for(REQUEST)
    time.sleep(0.3)
    return len([m for m in watch.messages if m.topic == REQUEST])


def wait_status(recorder, problems, timeout=5.0):
    return recorder.wait_for(STATUS, lambda m: m.json().get("problems") == problems, timeout=timeout).json()


def test_a_ticket_is_issued_and_printed(kiosk, printer, mqtt_client):
    watch = mqtt_client(topics=[STATUS])
    k = kiosk()
    result = k.take("KTP", "lansia")
    assert result.outcome == "printed" and result.ticket["number"] == "A-001"
    paper = decode(bytes(printer.wait_for_jobs(1)[0].data))
    issued = dt.datetime.fromisoformat(result.ticket["issued_at"])
    for words in ("A-001", "NOMOR ANTREAN", "KTP Elektronik (perekaman, cetak,", "PRIORITAS: LANSIA",
                  bahasa.tanggal(issued), "Biaya: Gratis", "Silakan menunggu sampai nomor"):
        assert words in paper.text, words
    # The Buton example names its public app's public_url: the QR holds the ticket's live page.
    assert result.ticket["link"].startswith("https://antrean.butonkab.go.id/t/A-001-")
    assert paper.qr == [result.ticket["link"]] and paper.cuts == 1
    status = wait_status(watch, [])
    assert status["online"] is True and status["role"] == "kiosk" and status["version"]


def test_printer_refusing_connections_no_ticket_then_recovery_by_itself(kiosk, printer, mqtt_client):
    watch = mqtt_client(topics=[STATUS, REQUEST])
    k = kiosk()
    printer.refuse()
    result = k.take("KTP")
    assert result.outcome == "printer_problem" and result.message == MESSAGES["printer_offline"]
    assert result.ticket is None
    assert wait_status(watch, ["printer_offline"])["online"] is True
    printer.listen()
    wait_status(watch, [], timeout=5)  # the periodic check saw it back, with no citizen around
    assert k.take("KTP").ticket["number"] == "A-001"  # nothing was issued while it was away
    assert requests_seen(watch) == 1


def test_printer_hanging_up_mid_job_shows_the_issued_number(kiosk, printer, mqtt_client):
    watch = mqtt_client(topics=[STATUS])
    k = kiosk()
    printer.close_after = 300  # the status check passes, the ticket (about 1 KB) is cut off
    result = k.take("KK")
    assert result.outcome == "print_failed" and result.message == MESSAGES["printer_offline"]
    assert result.ticket["number"] == "B-001"  # a valid number, shown on screen by the app
    wait_status(watch, ["printer_offline"])
    printer.close_after = None
    wait_status(watch, [], timeout=5)
    again = k.take("KK")
    assert again.outcome == "printed" and again.ticket["number"] == "B-002"


@pytest.mark.parametrize("fault,problem", [({"paper_out": True}, "paper_out"),
                                           ({"cover_open": True}, "cover_open"),
                                           ({"garbage": True}, "printer_status_unknown")])
def test_dle_eot_paper_out_cover_open_or_garbage_means_no_ticket(kiosk, printer, mqtt_client, fault, problem):
    watch = mqtt_client(topics=[STATUS, REQUEST])
    k = kiosk()
    printer.set_status(**fault)
    result = k.take("KTP")
    assert result.outcome == "printer_problem" and result.message == MESSAGES[problem]
    assert wait_status(watch, [problem])["online"] is True
    assert not [m for m in watch.messages if m.topic == REQUEST]
    assert printer.jobs == []
    printer.set_status()
    wait_status(watch, [], timeout=5)
    assert k.take("KTP").ticket["number"] == "A-001"


def test_a_printer_that_never_answers_is_offline(kiosk, printer):
    k = kiosk()
    printer.mute = True
    started = time.monotonic()
    result = k.take("KTP")
    assert result.outcome == "printer_problem" and result.message == MESSAGES["printer_offline"]
    assert time.monotonic() - started < 3  # the short timeout of the site file, not escpos' 60 s


def test_broker_down_no_ticket_then_recovery(kiosk, broker, printer, mqtt_client):
    k = kiosk()
    broker.kill()
    deadline = time.monotonic() + 5
    while k.link.connected and time.monotonic() < deadline:
        time.sleep(0.01)
    result = k.take("KTP")
    assert result.outcome == "unavailable" and result.message == GANGGUAN and result.ticket is None
    restarted = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    broker.restart()
    assert k.link.connection.wait_connected(10)
    # The dispatcher reconnects too: its status, published afresh on connecting, says so.
    watch = mqtt_client(topics=[protocol.status(SITE, "dispatcher")])
    watch.wait_for(protocol.status(SITE, "dispatcher"),
                   lambda m: m.json()["online"] and dt.datetime.fromisoformat(m.json()["at"]) >= restarted, timeout=10)
    assert k.take("KTP").ticket["number"] == "A-001"
    assert len(printer.jobs) == 1


def test_a_retry_after_a_timeout_reuses_the_id_and_issues_once(kiosk, run_dispatcher, tmp_path):
    first = run_dispatcher()  # its persistent session makes the broker keep requests for it
    k = kiosk(dispatcher=False)
    first.stop()
    order = Order.new("KTP", None)
    lost = k.take(order=order)
    assert lost.outcome == "unavailable"
    run_dispatcher()  # answers the request the broker kept; the kiosk keeps that late reply
    retried = k.take(order=order)
    assert retried.outcome == "printed" and retried.ticket["number"] == "A-001"
    assert k.take("KTP").ticket["number"] == "A-002"
    issued = sqlite3.connect(tmp_path / "antrian.db").execute(
        "SELECT count(*) FROM events WHERE kind = 'issued'").fetchone()[0]
    assert issued == 2


def test_one_ticket_at_a_time(kiosk, mqtt_client):
    watch = mqtt_client(topics=[REQUEST])
    k = kiosk()
    order = Order.new("KTP", None)
    assert k.desk.take(order)
    assert not k.desk.take(order) and not k.desk.take(Order.new("KTP", None))
    assert k.results.get(timeout=5).outcome == "printed"
    with pytest.raises(queue.Empty):
        k.results.get(timeout=0.3)
    assert requests_seen(watch) == 1
