"""The morning's screenshots: the board and a kiosk in windows of their own processes
(mall/shots.py) against the morning's broker, when there is a display."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable


class Screens:
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
