"""The morning's helpers (mall/morning/script.py): the site file it runs on, an observer
of the calls and counter replies, the board's audio as WAV files, its speech engine and
its subscription to the calls, and waiting for a condition with a deadline."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

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


def site_file(config_path: Path, out: Path, printer_port: int, *, hold_time: float, debounce: float) -> Path:
    """The site file with quick panels (hold and debounce times) for the script, and the
    kiosks' printers pointed at the fake printer."""
    import yaml

    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
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
