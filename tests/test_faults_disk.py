"""The database on a full disk. (A read-only disk is in test_faults.py.)

A real full disk needs a small filesystem of its own (a loop device, or a tmpfs with a
size limit), which needs root and a mount. SQLite gives the same failure without either:
``PRAGMA max_page_count`` caps the database file's size for that connection, and a write
that needs one page more fails exactly as on a full disk, with SQLITE_FULL ("database or
disk is full"), through the real Store.commit on the dispatcher's own connection."""

from __future__ import annotations

import logging
import sqlite3

from antrian import protocol
from test_faults import STATUS, Endpoint, rows, settle, wait_ready

SITE = "buton"


def test_full_disk_refuses_new_tickets_with_internal_logs_why_and_corrupts_nothing(
        broker, run_dispatcher, mqtt_client, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="antrian.dispatcher")
    db = tmp_path / "antrian.db"
    dispatcher = run_dispatcher(db=db)
    rec = mqtt_client(topics=[f"antrian/{SITE}/#"])
    wait_ready(rec)
    kiosk = Endpoint("kiosk1", protocol.kiosk_request(SITE, "kiosk1"), protocol.kiosk_reply(SITE, "kiosk1"),
                     broker.host, broker.port)
    loket1 = Endpoint("loket1", protocol.counter_command(SITE, "loket1"), protocol.counter_reply(SITE, "loket1"),
                      broker.host, broker.port)

    def request(mid):
        return kiosk.ask({"id": mid, "service": "KTP", "priority": None}, retry=5)

    try:
        issued = [request(f"r{i}")["ticket"]["number"] for i in range(5)]
        assert issued == [f"A-{i:03d}" for i in range(1, 6)]
        assert loket1.ask({"id": "p0", "action": "call_next"}, retry=5)["ticket"]["number"] == "A-001"
        settle(rec)  # the worker is idle now
        stored_before = rows(db, "SELECT id, kind, number, seq, data FROM events ORDER BY id")

        # The disk is full: not one page more for this database.
        store = dispatcher.store.db
        store.execute(f"PRAGMA max_page_count = {store.execute('PRAGMA page_count').fetchone()[0]}")
        # The last page may still hold a ticket or two; then every new one is refused.
        answers = []
        for i in range(60):
            answers.append(request(f"full{i}"))
            if not answers[-1]["ok"]:
                break
        refused = answers[-1]
        assert refused["error"]["code"] == "internal" and refused["id"] == f"full{len(answers) - 1}"
        assert refused["error"]["message"]  # Indonesian, fit for the kiosk's screen
        still = [request(f"more{i}") for i in range(3)] + [loket1.ask({"id": "p1", "action": "call_next"}, retry=5)]
        assert [r["error"]["code"] for r in still] == ["internal"] * 4
        settle(rec)
        lines = [r.getMessage() for r in caplog.records if r.name == "antrian.dispatcher" and r.levelno >= logging.ERROR]
        assert lines and all("database or disk is full" in line and str(db) in line for line in lines), lines
        status = [m.json() for m in rec.messages if m.topic == STATUS][-1]
        assert status["online"] and "database_error" in status["problems"]
        assert not [m for m in rec.messages if m.topic == protocol.call(SITE) and m.json()["seq"] > 1]

        # Nothing stored was touched, nothing half-written: the file is sound.
        con = sqlite3.connect(db)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finally:
            con.close()
        accepted = len(answers) - 1  # tickets that still fitted on the last page
        assert rows(db, "SELECT id, kind, number, seq, data FROM events ORDER BY id")[:len(stored_before)] == stored_before
        assert rows(db, "SELECT COUNT(*) FROM events WHERE kind = 'issued'")[0][0] == 5 + accepted

        # Space is freed: the refused ids get their tickets, numbering goes on without a gap.
        store.execute("PRAGMA max_page_count = 1073741823")
        again = request(refused["id"])
        assert again["ok"] and again["ticket"]["number"] == f"A-{6 + accepted:03d}"
        assert loket1.ask({"id": "p1", "action": "call_next"}, retry=5)["ticket"]["number"] == "A-002"
        settle(rec)
        assert [m.json() for m in rec.messages if m.topic == STATUS][-1]["problems"] == []
    finally:
        kiosk.close()
        loket1.close()
    numbers = [n for (n,) in rows(db, "SELECT number FROM events WHERE kind = 'issued' ORDER BY id")]
    assert numbers == [f"A-{i:03d}" for i in range(1, len(numbers) + 1)]
    print(f"\nfull disk: {accepted} ticket(s) fitted on the last page, then {len(still) + 1} refused with "
          f"'internal'; {len(lines)} error line(s): {lines[0]}")
