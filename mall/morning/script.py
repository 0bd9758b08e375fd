"""The morning's script (``antrian morning``, see mall/morning/__init__.py): every piece
started on one broker, the citizens' taps and the officers' presses in order, then the
day's report and the summary written to morning.json."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from antrian.errors import MorningError
from antrian.slow import factor, scaled
from mall.morning.pieces import (CONSEQUENCES, AnnouncerLink, DemoClock, Observer, Staged, WavSink, site_file,
                                 speech_engine, until)
from mall.morning.screens import Screens

log = logging.getLogger("antrian.morning")

HOLD_TIME = 0.6  # seconds to hold NEXT for a no-show (the site's 2 s is shortened for the script)
TAP = 0.12  # a finger's press; more than the debounce time below
DEBOUNCE = 0.05
GAP = 0.25
NEXT1, RECALL1, NEXT2 = 17, 27, 5  # examples/buton.yaml, panel1
# Waits against a hang, as on the reference machine; each is scaled() to this one (antrian/slow.py).
WAIT = 10.0
RESULT_WAIT = 20.0  # a kiosk result: the desk may retry once
RECONNECT_WAIT = 30.0
ANNOUNCER_WAIT = 60.0
# The dispatcher's compressed clock (pieces.DemoClock): a second of the script is eight
# minutes of the morning, so the 18-25 s the script takes here are a morning of 2.5-3.5 hours.
CLOCK_FACTOR = 480.0


def run(config_path: str | os.PathLike[str], out: str | os.PathLike[str]) -> dict[str, Any]:
    """Run the morning; returns the summary written to morning.json."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    from display.announcer import Announcer, SpokenMemory
    from hardware.panel import Panel
    from kiosk.desk import Desk, Order
    from kiosk.fakeprinter import FakePrinter
    from kiosk.link import Link
    from kiosk.printer import TicketPrinter, escpos_bytes
    from kiosk.ticket import TicketData, layout
    from kiosk.ticket_png import render

    from antrian.adapters.mosquitto import LocalBroker
    from antrian.site import load
    from antrian.dispatcher import Dispatcher
    from kiosk.options import PrinterSettings
    from antrian.tools.report.figures import from_store
    from antrian.tools.report.files import write as write_report
    from antrian.adapters.store import Store

    started = time.monotonic()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("tickets", "audio"):
        (out / sub).mkdir(exist_ok=True)
        for old in (out / sub).iterdir():
            old.unlink()
    for old in (out / "antrian.db", out / "antrian.db-wal", out / "antrian.db-shm", out / "spoken",
                out / "board.png", out / "kiosk.png"):
        old.unlink(missing_ok=True)
    for old in ("broker", "report", "board-state", "kiosk-state"):  # a fresh morning: no retained state
        shutil.rmtree(out / old, ignore_errors=True)
    fake = FakePrinter().listen()
    config = load(site_file(Path(config_path), out, fake.port, hold_time=HOLD_TIME, debounce=DEBOUNCE)).always_open()
    site = config.site.id
    notes: list[str] = []

    def note(text: str) -> None:
        log.info("%s", text)
        notes.append(text)

    # -- the pieces --------------------------------------------------------------------
    broker = LocalBroker(data_dir=out / "broker")
    broker.start()
    note(f"broker {broker.address}")
    store = Store(out / "antrian.db", config.tz)
    clock = DemoClock(config.tz, factor=CLOCK_FACTOR)
    note(f"dispatcher clock: compressed {CLOCK_FACTOR:g} times, from {clock.start.isoformat(timespec='seconds')}")
    dispatcher = Dispatcher(config, store, clock=clock)
    staged = Staged(log)
    staged.install()
    observer = Observer(config)
    kiosk_id = next(d.id for d in config.devices.values() if d.role == "kiosk")
    link = Link(config, kiosk_id)
    printer = TicketPrinter(PrinterSettings(connection="network", host=fake.host, port=fake.port,
                                            profile="TM-T20II", timeout=scaled(1.0), check_seconds=60.0))
    results: list[Any] = []
    results_cond = threading.Condition()

    def on_result(result: Any) -> None:
        with results_cond:
            results.append(result)
            results_cond.notify_all()

    desk = Desk(link, printer, on_result=on_result)
    factory = MockFactory()
    Device.pin_factory = factory
    panel = Panel(config, "panel1")
    sink = WavSink(out / "audio")
    shows: list[dict[str, Any]] = []

    def on_show(call: dict[str, Any], spoken: bool) -> None:
        sink.show(call)
        # What it says comes after this, before the next call is shown (one worker thread):
        # the full sentence, or the short form when it waited behind another (display/announcer.py).
        shows.append({"seq": call["seq"], "number": call["number"], "counter": call["counter"],
                      "counter_name": call["counter_name"], "recall": bool(call.get("recall")),
                      "spoken": spoken, "said_from": len(announcer.said)})

    engine = speech_engine(note)
    announcer = Announcer(engine, sink, SpokenMemory(out / "spoken"), template=config.announcement.template,
                          digits=config.announcement.digits, min_call_seconds=0.0, chime=True,
                          catch_up_seconds=0.0, on_show=on_show, now=clock)
    announcer_link = AnnouncerLink(config, announcer)

    tickets: list[dict[str, Any]] = []
    kiosk_log: list[dict[str, Any]] = []
    press_log: list[dict[str, Any]] = []

    def take(service: str, priority: str | None = None, expect: str = "printed") -> Any:
        order = Order.new(service, priority)
        with results_cond:
            before = len(results)
        until(lambda: desk.take(order), scaled(WAIT), "the kiosk desk")
        with results_cond:
            if not results_cond.wait_for(lambda: len(results) > before, scaled(RESULT_WAIT)):
                raise MorningError(f"no kiosk result for {service}")
            result = results[-1]
        entry = {"service": service, "priority": priority, "outcome": result.outcome, "message": result.message,
                 "number": result.ticket["number"] if result.ticket else None, "expected": expect}
        kiosk_log.append(entry)
        if result.ticket:
            n = len(tickets) + 1
            lay = layout(TicketData.from_reply(result.ticket, link.catalog), printer.settings.paper)
            stem = out / "tickets" / f"{n:03d}-{result.ticket['number']}"
            stem.with_suffix(".bin").write_bytes(escpos_bytes(lay))
            render(lay).save(stem.with_suffix(".png"))
            tickets.append({**entry, "bin": str(stem.with_suffix(".bin")), "png": str(stem.with_suffix(".png"))})
        note(f"kiosk: {service}{' (' + priority + ')' if priority else ''} -> {result.outcome}"
             f"{' ' + result.ticket['number'] if result.ticket else ''}")
        return result

    def press(pin: int, counter: str, what: str, hold: float = TAP) -> dict[str, Any]:
        time.sleep(GAP)  # a finger lifts between presses (the debouncer takes a quick one as a bounce)
        before = observer.count(counter)
        factory.pin(pin).drive_low()
        time.sleep(hold)
        factory.pin(pin).drive_high()
        until(lambda: observer.count(counter) > before, scaled(WAIT), f"the reply to {what} at {counter}")
        reply = observer.last(counter)
        number = (reply.get("ticket") or {}).get("number")
        code = None if reply.get("ok") else (reply.get("error") or {}).get("code")
        press_log.append({"counter": counter, "what": what, "ok": bool(reply.get("ok")), "number": number,
                          "error": code})
        note(f"{counter}: {what} -> {number if reply.get('ok') else code}")
        return reply

    def command(counter: str, action: str, args: dict[str, Any]) -> dict[str, Any]:
        before = observer.count(counter)
        panel.send(counter, action, args)
        until(lambda: observer.count(counter) > before, scaled(WAIT), f"the reply to {action} at {counter}")
        reply = observer.last(counter)
        press_log.append({"counter": counter, "what": action, "ok": bool(reply.get("ok")),
                          "number": (reply.get("ticket") or {}).get("number"), "args": args})
        note(f"{counter}: {action} {args} -> {(reply.get('ticket') or {}).get('number') if reply.get('ok') else reply}")
        return reply

    def everyone_connected() -> bool:
        return (dispatcher.connection.connected and link.connected and panel.link_up
                and observer.connection.connected and announcer_link.connection.connected)

    try:
        dispatcher.start(broker.host, broker.port)
        observer.connection.connect(broker.host, broker.port)
        link.start(broker.host, broker.port)
        announcer.start()
        announcer_link.connection.connect(broker.host, broker.port)
        panel.start(broker.host, broker.port)
        desk.start()
        until(everyone_connected, scaled(WAIT), "every piece to connect")
        until(lambda: link.catalog is not None, scaled(WAIT), "the catalog at the kiosk")
        shots = Screens(out, broker.address, note)
        shots.start(config)

        # -- citizens at the kiosk -----------------------------------------------------
        for service, priority in (("KTP", None), ("KTP", None), ("KTP", None), ("KTP", "lansia"), ("KK", None)):
            take(service, priority)

        # -- loket1 calls --------------------------------------------------------------
        press(NEXT1, "loket1", "NEXT")
        press(RECALL1, "loket1", "RECALL")
        press(NEXT1, "loket1", "NEXT")
        press(NEXT1, "loket1", "hold NEXT (no-show)", hold=HOLD_TIME + 0.4)
        press(NEXT1, "loket1", "NEXT")
        command("loket1", "transfer", {"to_service": "KK"})

        # -- the printer runs out of paper, and gets a new roll ---------------------------
        with staged("paper out", "the kiosk refuses, then prints again", CONSEQUENCES["paper"]):
            fake.set_status(paper_out=True)
            note("printer: out of paper")
            take("KTP", expect="printer_problem")
            fake.set_status()
            note("printer: paper back")
            take("KTP")

        # -- the broker restarts mid-morning -----------------------------------------------
        take("KIA")
        with staged("broker restart", "every piece reconnects", CONSEQUENCES["broker"]):
            note("broker: restarting")
            broker.restart()
            until(everyone_connected, scaled(RECONNECT_WAIT), "every piece to reconnect after the broker restart")
            note("broker: back, every piece reconnected")
        take("KTP")
        take("KK", "disabilitas")
        take("KTP", "lansia")
        take("KK", "ibu_hamil")

        # -- the counters call until nobody waits -----------------------------------------------
        for counter, pin in (("loket2", NEXT2), ("loket1", NEXT1)):
            for _ in range(20):
                if not press(pin, counter, "NEXT").get("ok"):
                    break
        until(lambda: announcer.idle and len(shows) >= len(observer.calls), scaled(ANNOUNCER_WAIT), "the announcer")
        announcer.wait_idle(scaled(ANNOUNCER_WAIT))
        screenshots = shots.take()
    finally:
        staged.remove()
        if "shots" in locals():
            shots.stop()
        desk.stop()
        panel.close()
        Device.pin_factory = None
        factory.close()
        link.close()
        announcer_link.connection.close()
        announcer.stop()
        observer.connection.close()
        dispatcher.stop()
        fake.stop()
        broker.stop()

    # -- the day's report ------------------------------------------------------------------
    day = dispatcher.engine.day
    report = from_store(config, store, day)
    report_files = write_report(report, out / "report", charts=True)
    store.close()

    said = list(announcer.said)
    ends = [s["said_from"] for s in shows[1:]] + [len(said)]
    announcements = []
    for show, end in zip(shows, ends):
        texts = said[show.pop("said_from"):end]
        announcements.append({**show, "text": texts[0] if texts else None,
                              "short": bool(texts) and texts[0] != announcer.text(show, recall=show["recall"]),
                              "wav": sink.files.get(show["seq"], [])})
    t = report.total
    summary = {
        "site": site, "business_day": day.isoformat(), "folder": str(out),
        "seconds": round(time.monotonic() - started, 1),
        "kiosk": kiosk_log, "tickets": tickets, "presses": press_log,
        "calls": [{k: c.get(k) for k in ("seq", "number", "counter", "counter_name", "recall", "at")}
                  for c in sorted(observer.calls, key=lambda c: c["seq"])],
        "announcements": announcements,
        "printer_jobs": len(fake.jobs),
        "report": {"folder": str(out / "report"), "files": [str(p) for p in report_files], "issued": t.issued,
                   "served": t.served, "no_show": t.no_show, "waiting_at_close": t.waiting_at_close,
                   "wait_mean_min": t.wait.mean, "wait_max_min": t.wait.max, "service_mean_min": t.service.mean},
        "clock": {"factor": CLOCK_FACTOR, "start": clock.start.isoformat(timespec="seconds"),
                  "end": clock().isoformat(timespec="seconds")},
        "screenshots": screenshots,
        "machine": {"slow": factor(), "windows_opened_s": {k: round(v, 1) for k, v in shots.opened.items()}},
        "notes": notes,
    }
    summary["missing"] = missing(summary, sorted(observer.calls, key=lambda c: c["seq"]))
    (out / "morning.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str),
                                      encoding="utf-8")
    return summary


def missing(summary: dict[str, Any], calls: list[dict[str, Any]]) -> list[str]:
    """What the morning promised and did not make, one short phrase each: a kiosk outcome
    other than the script's, a ticket's files, a call not spoken or without its chime and
    sentence (the sentence alone for a call said in the short form, after waiting behind
    another; a call its counter superseded with a later one before it was said is not
    said, by the board's rule), the report, a screenshot that was tried (there was a
    display) and not taken."""
    gaps = [f"the kiosk's {k['service']} ticket ({k['outcome']}, expected {k['expected']})"
            for k in summary["kiosk"] if k["outcome"] != k["expected"]]
    gaps += [f"ticket {t['number']}'s {kind} file" for t in summary["tickets"] for kind in ("bin", "png")
             if not Path(t[kind]).is_file()]
    said = {a["seq"]: a for a in summary["announcements"]}
    for call in calls:
        a = said.get(call["seq"])
        superseded = any(c["counter"] == call["counter"] and c["seq"] > call["seq"] for c in calls)
        if a is None and superseded:
            continue
        if a is None or not a["spoken"]:
            gaps.append(f"the announcement of {call['number']} at {call['counter']}")
        elif len([w for w in a["wav"] if Path(w).is_file()]) < (1 if a.get("short") else 2):
            gaps.append(f"the chime and sentence WAVs of {call['number']} at {call['counter']}")
    if not (Path(summary["report"]["folder"]) / "laporan.html").is_file():
        gaps.append("the report (report/laporan.html)")
    gaps += [f"the {role} screenshot ({where})" for role, where in summary["screenshots"].items()
             if where.startswith("not taken")]
    return gaps
