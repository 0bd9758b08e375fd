"""The morning's helpers (mall/morning/script.py): the site file it runs on, the
dispatcher's compressed clock (`DemoClock`), the staged faults' log lines (`Staged`), an
observer of the calls and counter replies, the board's audio as WAV files, its speech
engine and its subscription to the calls, and waiting for a condition with a deadline."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from antrian import protocol
from antrian.errors import MorningError
from antrian.slow import scaled

log = logging.getLogger("antrian.morning")


def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise MorningError(f"timed out waiting for {what}")


class DemoClock:
    """The scripted morning's wall clock: a three-hour morning in under a minute.

    The dispatcher takes its wall clock as a parameter (`Dispatcher(clock=...)`, the one
    the tests inject); only ``antrian morning`` passes this one, nothing else can. Every
    stamp the store keeps -- issue, call, finish -- and so every wait, service time and
    estimate in the day's report is on it: a second of the script is `factor` seconds of
    the morning. The clock starts at 08.00 when the real time is at least `span` later,
    else `span` before the real time (never before the day's first minute, so the
    business day cannot change under the script), and never runs past the real time: the devices stamp their own messages with the real clock (a
    kiosk request's ``at``), and the dispatcher refuses a request older than
    ``max_age_seconds``, so its clock must never be ahead of theirs. On a slow machine
    the script takes longer, the compressed morning catches up with the real time and
    from there runs at the real pace (the waits at its end are then seconds, honestly).
    """

    def __init__(self, tz: Any, *, factor: float = 480.0, span: dt.timedelta = dt.timedelta(hours=3),
                 real: Callable[[], dt.datetime] | None = None, monotonic: Callable[[], float] = time.monotonic):
        self.tz, self.factor = tz, factor
        self._real = real or (lambda: dt.datetime.now(tz))
        self._monotonic = monotonic
        now = self._real()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = max(min(midnight + dt.timedelta(hours=8), now - span), midnight + dt.timedelta(minutes=1))
        self._t0 = monotonic()

    def __call__(self) -> dt.datetime:
        compressed = self.start + dt.timedelta(seconds=(self._monotonic() - self._t0) * self.factor)
        return min(compressed, self._real())


class Staged:
    """The demo's own faults (paper out, the broker restart) logged as what they are.

    ``with staged("broker restart", "every piece reconnects", CONSEQUENCES["broker"]):`` logs
    one WARNING line "staged fault: broker restart (every piece reconnects)", and while the block runs (and `linger` seconds
    after it, for the late echoes: a reconnect, a status check) the log records that are
    the expected consequence of that fault -- their message matches one of the patterns --
    come out at INFO, prefixed "staged fault (...)". Anything else keeps its level: a real
    error during a staged fault is still an ERROR. A filter on the root logger's handlers,
    where every logger's records pass (a filter on a logger sees only its own)."""

    def __init__(self, log_to: logging.Logger, linger: float = 2.0) -> None:
        self.log, self.linger = log_to, linger
        self._active: dict[int, tuple[str, tuple[re.Pattern[str], ...], float]] = {}  # (what, patterns, until)
        self._lock = threading.Lock()
        self._filters: list[tuple[logging.Handler, Callable[[logging.LogRecord], bool]]] = []

    def install(self) -> None:
        """On every handler of the root logger. The handler's level was checked before its
        filters run: a record made INFO here is dropped by a handler that wants warnings."""
        for handler in logging.getLogger().handlers:
            def keep(record: logging.LogRecord, handler: logging.Handler = handler) -> bool:
                self.relabel(record)
                return record.levelno >= handler.level
            handler.addFilter(keep)
            self._filters.append((handler, keep))

    def remove(self) -> None:
        for handler, keep in self._filters:
            handler.removeFilter(keep)
        self._filters.clear()

    def relabel(self, record: logging.LogRecord) -> None:
        if record.levelno <= logging.INFO or not self._active:
            return
        message = record.getMessage()
        now = time.monotonic()
        with self._lock:
            what = next((w for w, patterns, until in self._active.values()
                         if now <= until and any(p.search(message) for p in patterns)), None)
        if what is not None:
            record.msg, record.args = f"staged fault ({what}), as expected: {message}", None
            record.levelno, record.levelname = logging.INFO, "INFO"

    @contextlib.contextmanager
    def __call__(self, what: str, expect: str, patterns: tuple[str, ...]) -> Iterator[None]:
        self.log.warning("staged fault: %s (%s)", what, expect)
        compiled = tuple(re.compile(p) for p in patterns)
        with self._lock:
            key = len(self._active)
            self._active[key] = (what, compiled, float("inf"))
        try:
            yield
        finally:
            self.log.info("staged fault over: %s", what)
            with self._lock:
                self._active[key] = (what, compiled, time.monotonic() + self.linger)


# What each staged fault makes the pieces log, and nothing else (Staged).
CONSEQUENCES = {
    "paper": (r"printer problem paper_out", r"status paper_out", r"paper_out"),
    "broker": (r"lost its connection", r"failed to receive on socket", r"Connection reset by peer",
               r"broker or dispatcher unreachable", r"Connection refused", r"reconnect"),
}


def site_file(config_path: Path, out: Path, printer_port: int, *, hold_time: float, debounce: float) -> Path:
    """The site file with quick panels (hold and debounce times) for the script, the
    kiosks' printers pointed at the fake printer, and open round the clock as the
    morning's dispatcher is (the board's windows mark services closed by these hours)."""
    import yaml

    from mall.whole import open_round_the_clock

    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    open_round_the_clock(raw)
    for agency in raw.get("agencies") or ():
        for service in agency.get("services") or ():
            # The dispatcher's morning ends by 11.00 (DemoClock), before any last_ticket; the
            # board, on the real clock, would otherwise call a service closed that is not.
            service.pop("last_ticket", None)
    for device in raw.get("devices", ()):
        if device.get("role") == "panel":
            device.update(hold_time=hold_time, debounce_time=debounce, max_press_age=30)
        if device.get("role") == "kiosk":
            device["printer"] = {"connection": "network", "host": "127.0.0.1", "port": printer_port,
                                 "profile": "TM-T20II", "timeout": scaled(1.0)}
    raw.get("broker", {}).pop("credentials_dir", None)
    raw.get("broker", {}).pop("tls", None)
    path = out / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class Observer:
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


class WavSink:
    """The board's audio as WAV files named by the call being announced (see mall/morning/__init__.py)."""

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


def speech_engine(log_problem: Callable[[str], None]) -> Any:
    from display.speech import EspeakEngine

    try:
        return EspeakEngine(voice="id", rate=160)
    except Exception as exc:  # noqa: BLE001 -- no espeak-ng: fall back on pyttsx3
        log_problem(f"espeak-ng unavailable ({exc}); trying pyttsx3")
        from display.speech import Pyttsx3Engine

        return Pyttsx3Engine(voice="id", rate=160)


class AnnouncerLink:
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
