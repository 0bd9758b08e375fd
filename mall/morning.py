"""A scripted morning at the MPP, headless, on the real pieces (``antrian morning``).

One process runs the project's Mosquitto (a free port, restarted mid-morning), the real
dispatcher on SQLite (the site open round the clock), the kiosk's ticket desk
(kiosk.desk: the real request, retry and print path) against a fake network printer that
answers DLE EOT and runs out of paper for a while, a counter panel (hardware.panel) on
gpiozero's mock pins whose buttons are pressed, held and released like an officer's
finger, and the board's announcer (display.announcer) speaking every call through
espeak-ng into WAV files. The script:

    tickets   A KTP x3, a priority KTP (lansia), a KK
    loket1    NEXT (the priority ticket), RECALL, NEXT, hold NEXT (no-show), NEXT,
              transfer to KK (a command of the panel)
    printer   out of paper: the kiosk refuses; paper back: a ticket prints
    broker    a ticket, then the broker restarts; everyone reconnects
    more      four tickets (three priority), then loket2 and loket1 call until nobody
              waits: two priority tickets, then the oldest other one (priority_streak: 2)

Everything lands in one folder (--out):

    tickets/NNN-A-001.bin and .png   each printed ticket as ESC/POS bytes and a picture
    audio/NN-A-004-loket1-K.wav      each announcement (K = 1 the chime, 2 the sentence)
    report/                          the day's report (antrian.tools.report.figures, HTML, CSV, charts)
    antrian.db                       the dispatcher's SQLite store
    morning.json                     what happened: tickets, calls, announcements, files
    morning.log                      the log of every piece
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable

from antrian import protocol
from antrian.errors import MorningError

log = logging.getLogger("antrian.morning")

HOLD_TIME = 0.6  # seconds to hold NEXT for a no-show (the site's 2 s is shortened for the script)
TAP = 0.12  # a finger's press; more than the debounce time below
DEBOUNCE = 0.05
GAP = 0.25
NEXT1, RECALL1, NEXT2 = 17, 27, 5  # examples/buton.yaml, panel1
WAIT = 10.0


def _until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise MorningError(f"timed out waiting for {what}")


def _site(config_path: Path, out: Path, printer_port: int) -> Path:
    """The site file with quick panels (hold and debounce times) for the script, and the
    kiosks' printers pointed at the fake printer."""
    import yaml

    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for device in raw.get("devices", ()):
        if device.get("role") == "panel":
            device.update(hold_time=HOLD_TIME, debounce_time=DEBOUNCE, max_press_age=30)
        if device.get("role") == "kiosk":
            device["printer"] = {"connection": "network", "host": "127.0.0.1", "port": printer_port,
                                 "profile": "TM-T20II", "timeout": 1.0}
    raw.get("broker", {}).pop("credentials_dir", None)
    raw.get("broker", {}).pop("tls", None)
    path = out / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class _Observer:
    """An MQTT client that records the calls and every counter reply."""

    def __init__(self, config: Any) -> None:
        from antrian.adapters.mqtt import Connection, make_client

        self.site = config.site.id
        self.calls: list[dict[str, Any]] = []
        self.replies: dict[str, list[dict[str, Any]]] = {}
        self.lock = threading.Lock()
        client = make_client("morning-observer")
        self.connection = Connection(client)
        client.on_message = self._on_message
        self.connection.on_connected(lambda c: c.subscribe([(protocol.call(self.site), 1),
                                                            (protocol.counter_reply(self.site, "+"), 1)]))

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        obj = json.loads(msg.payload)
        with self.lock:
            if msg.topic == protocol.call(self.site):
                self.calls.append(obj)
            else:
                counter = msg.topic.split("/")[3]
                self.replies.setdefault(counter, []).append(obj)

    def count(self, counter: str) -> int:
        with self.lock:
            return len(self.replies.get(counter, ()))

    def last(self, counter: str) -> dict[str, Any]:
        with self.lock:
            return self.replies[counter][-1]


class _WavSink:
    """The board's audio as WAV files named by the call being announced (see the docstring)."""

    name = "wav"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.current: dict[str, Any] | None = None
        self.index = 0
        self.part = 0
        self.files: dict[int, list[str]] = {}  # seq -> files

    def show(self, call: dict[str, Any]) -> None:  # the announcer's thread, before play
        self.current = call
        self.index += 1
        self.part = 0

    def play(self, audio: Any) -> None:
        call = self.current or {"seq": 0, "number": "X-000", "counter": "x"}
        self.part += 1
        path = self.folder / f"{self.index:02d}-{call['number']}-{call['counter']}-{self.part}.wav"
        audio.write(path)
        self.files.setdefault(call["seq"], []).append(str(path))

    def close(self) -> None:
        pass


def _speech_engine(log_problem: Callable[[str], None]) -> Any:
    from display.speech import EspeakEngine

    try:
        return EspeakEngine(voice="id", rate=160)
    except Exception as exc:  # noqa: BLE001 -- no espeak-ng: fall back on pyttsx3
        log_problem(f"espeak-ng unavailable ({exc}); trying pyttsx3")
        from display.speech import Pyttsx3Engine

        return Pyttsx3Engine(voice="id", rate=160)


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
    config = load(_site(Path(config_path), out, fake.port)).always_open()
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
    dispatcher = Dispatcher(config, store)
    observer = _Observer(config)
    kiosk_id = next(d.id for d in config.devices.values() if d.role == "kiosk")
    link = Link(config, kiosk_id)
    printer = TicketPrinter(PrinterSettings(connection="network", host=fake.host, port=fake.port,
                                            profile="TM-T20II", timeout=1.0, check_seconds=60.0))
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
    sink = _WavSink(out / "audio")
    shows: list[dict[str, Any]] = []

    def on_show(call: dict[str, Any], spoken: bool) -> None:
        sink.show(call)
        shows.append({"seq": call["seq"], "number": call["number"], "counter": call["counter"],
                      "counter_name": call["counter_name"], "recall": bool(call.get("recall")),
                      "spoken": spoken, "text": announcer.text(call)})

    engine = _speech_engine(note)
    announcer = Announcer(engine, sink, SpokenMemory(out / "spoken"), template=config.announcement.template,
                          digits=config.announcement.digits, min_call_seconds=0.0, chime=True,
                          catch_up_seconds=0.0, on_show=on_show)
    announcer_link = _AnnouncerLink(config, announcer)

    tickets: list[dict[str, Any]] = []
    kiosk_log: list[dict[str, Any]] = []
    press_log: list[dict[str, Any]] = []

    def take(service: str, priority: str | None = None) -> Any:
        order = Order.new(service, priority)
        with results_cond:
            before = len(results)
        _until(lambda: desk.take(order), WAIT, "the kiosk desk")
        with results_cond:
            if not results_cond.wait_for(lambda: len(results) > before, 20):
                raise MorningError(f"no kiosk result for {service}")
            result = results[-1]
        entry = {"service": service, "priority": priority, "outcome": result.outcome, "message": result.message,
                 "number": result.ticket["number"] if result.ticket else None}
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
        _until(lambda: observer.count(counter) > before, WAIT, f"the reply to {what} at {counter}")
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
        _until(lambda: observer.count(counter) > before, WAIT, f"the reply to {action} at {counter}")
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
        _until(everyone_connected, WAIT, "every piece to connect")
        _until(lambda: link.catalog is not None, WAIT, "the catalog at the kiosk")
        shots = _Screens(out, broker.address, note)
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
        fake.set_status(paper_out=True)
        note("printer: out of paper")
        take("KTP")
        fake.set_status()
        note("printer: paper back")
        take("KTP")

        # -- the broker restarts mid-morning -----------------------------------------------
        take("KIA")
        note("broker: restarting")
        broker.restart()
        _until(everyone_connected, 30, "every piece to reconnect after the broker restart")
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
        _until(lambda: announcer.idle and len(shows) >= len(observer.calls), 60, "the announcer")
        announcer.wait_idle(60)
        screenshots = shots.take()
    finally:
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
    day = dispatcher.engine.business_day(dispatcher.clock())
    report = from_store(config, store, day)
    report_files = write_report(report, out / "report", charts=True)
    store.close()

    announcements = [{**s, "wav": sink.files.get(s["seq"], [])} for s in shows]
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
                   "served": t.served, "no_show": t.no_show, "waiting_at_close": t.waiting_at_close},
        "screenshots": screenshots,
        "notes": notes,
    }
    (out / "morning.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str),
                                      encoding="utf-8")
    return summary


class _Screens:
    """The board and a kiosk in windows of their own (mall.shots), when there is a
    display; their screenshots once the morning is over. Without one: a logged reason."""

    def __init__(self, out: Path, address: str, note: Callable[[str], None]) -> None:
        self.out, self.address, self.note = out, address, note
        self.procs: dict[str, Any] = {}
        self.lines: dict[str, Any] = {}
        self.skipped: str | None = None

    def start(self, config: Any) -> None:
        import importlib.util
        import queue
        import subprocess
        import sys

        if not os.environ.get("DISPLAY"):
            self.skipped = "skipped: no DISPLAY (run under xvfb-run -a for the board and kiosk screenshots)"
        elif importlib.util.find_spec("kivy") is None:
            self.skipped = "skipped: Kivy is not installed"
        if self.skipped:
            self.note(f"screenshots {self.skipped}")
            return
        board = next((d.id for d in config.devices.values() if d.role == "display"), None)
        kiosks = [d.id for d in config.devices.values() if d.role == "kiosk"]
        # The desk of the script is the first kiosk: the window is another one (one client id each).
        for role, device in (("board", board), ("kiosk", kiosks[-1] if len(kiosks) > 1 else None)):
            if device is None:
                continue
            log_file = (self.out / f"{role}-window.log").open("wb")
            proc = subprocess.Popen([sys.executable, "-m", "mall.shots", role, str(self.out / "site.yaml"),
                                     device, self.address, str(self.out / f"{role}-state"),
                                     str(self.out / f"{role}.png")],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, text=True)
            log_file.close()
            lines: queue.Queue = queue.Queue()
            threading.Thread(target=lambda p=proc, q=lines: [q.put(l.strip()) for l in p.stdout] and None,
                             daemon=True).start()
            self.procs[role], self.lines[role] = proc, lines
        for role in list(self.procs):
            if self._line(role, 30) != "ready":
                self.note(f"screenshots: the {role} window did not open (see {role}-window.log)")
                self._end(role)

    def _line(self, role: str, timeout: float) -> str | None:
        import queue

        try:
            return self.lines[role].get(timeout=timeout)
        except queue.Empty:
            return None

    def take(self) -> dict[str, str]:
        if self.skipped:
            return {"board": self.skipped, "kiosk": self.skipped}
        time.sleep(1.0)  # the board's last call on screen
        made = {}
        for role in ("board", "kiosk"):
            proc = self.procs.get(role)
            if proc is None:
                made[role] = "not taken: its window did not open"
                continue
            try:
                proc.stdin.write("shot\n")
                proc.stdin.flush()
            except OSError:
                pass
            answer = self._line(role, 20)
            path = self.out / f"{role}.png"
            made[role] = str(path) if answer == "shot" and path.is_file() else f"not taken: {answer}"
            self.note(f"screenshot {role}: {made[role]}")
        return made

    def _end(self, role: str) -> None:
        import subprocess

        proc = self.procs.pop(role)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def stop(self) -> None:
        for role in list(self.procs):
            self._end(role)


class _AnnouncerLink:
    """The board's subscription to the call topic, feeding the announcer."""

    def __init__(self, config: Any, announcer: Any) -> None:
        from antrian.adapters.mqtt import Connection, make_client

        topic = protocol.call(config.site.id)
        client = make_client("morning-board")
        self.connection = Connection(client)

        def on_message(c: Any, userdata: Any, msg: Any) -> None:
            try:
                announcer.announce(json.loads(msg.payload))
            except ValueError:
                log.warning("board: a call that is not JSON")

        client.on_message = on_message
        self.connection.on_connected(lambda c: c.subscribe(topic, 1))


def main(config: str, out: str) -> int:
    """``antrian morning``: run, then say where everything is."""
    out_path = Path(out)
    out_path.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out_path / "morning.log", mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    try:
        summary = run(config, out)
    finally:
        root.removeHandler(handler)
        handler.close()
    folder = Path(summary["folder"])
    r = summary["report"]
    print(f"A morning at {summary['site']} ({summary['business_day']}) in {summary['seconds']} s:")
    print(f"  tickets        {len(summary['tickets'])} printed: {folder / 'tickets'} (ESC/POS .bin and .png)")
    print(f"  calls          {len(summary['calls'])}; announcements: {folder / 'audio'} (WAV)")
    print(f"  report         {r['folder']}: {r['issued']} issued, {r['served']} served, {r['no_show']} no-show, "
          f"{r['waiting_at_close']} waiting")
    print(f"  database       {folder / 'antrian.db'}")
    print(f"  summary        {folder / 'morning.json'} (log: {folder / 'morning.log'})")
    shots = summary["screenshots"]
    for name, where in shots.items():
        print(f"  {name + ' screen':<15}{where}")
    return 0
