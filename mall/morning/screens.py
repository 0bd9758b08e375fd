"""The morning's screenshots: the board and a kiosk in windows of their own processes
(mall/shots.py) against the morning's broker, when there is a display.

Its waits follow the machine (antrian/slow.py): a window gets OPEN_SECONDS times the
machine's factor to open, and a screenshot SHOT_SECONDS times the factor, or three times
as long as the slowest window took to open, whichever is longer."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable

from antrian.slow import scaled

OPEN_SECONDS = 30.0  # for a window to open, on the reference machine (it takes 1-2 s there)
SHOT_SECONDS = 20.0  # for a few frames and the PNG
SETTLE_SECONDS = 1.0  # for the board's last call to be on screen before the shot


class Screens:
    """The board and a kiosk in windows of their own (mall.shots), when there is a
    display; their screenshots once the morning is over. Without one: a logged reason."""

    def __init__(self, out: Path, address: str, note: Callable[[str], None]) -> None:
        self.out, self.address, self.note = out, address, note
        self.procs: dict[str, Any] = {}
        self.lines: dict[str, Any] = {}
        self.skipped: str | None = None
        self.opened: dict[str, float] = {}  # role -> seconds its window took to open
        self.failed: dict[str, str] = {}  # role -> why its window did not open

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
        started = time.monotonic()
        for role, device in (("board", board), ("kiosk", kiosks[-1] if len(kiosks) > 1 else None)):
            if device is None:
                self.note(f"screenshots: no {role} screenshot, the site has no "
                          f"{'board' if role == 'board' else 'second kiosk'}")
                continue
            log_file = (self.out / f"{role}-window.log").open("wb")
            proc = subprocess.Popen([sys.executable, "-m", "mall.shots", role, str(self.out / "site.yaml"),
                                     device, self.address, str(self.out / f"{role}-state"),
                                     str(self.out / f"{role}.png")],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, text=True)
            log_file.close()
            lines: queue.Queue = queue.Queue()
            threading.Thread(target=self._read, args=(proc, lines), daemon=True).start()
            self.procs[role], self.lines[role] = proc, lines
        for role in list(self.procs):
            left = started + scaled(OPEN_SECONDS) - time.monotonic()
            line = self._line(role, max(left, 0.1))
            if line != "ready":
                why = line or f"nothing within {scaled(OPEN_SECONDS):.0f} s"
                self.failed[role] = f"its window did not open: {why} (see {role}-window.log)"
                self.note(f"screenshots: the {role} window: {self.failed[role]}")
                self._end(role)
            else:
                self.opened[role] = time.monotonic() - started
                self.note(f"screenshots: the {role} window opened in {self.opened[role]:.1f} s")

    @staticmethod
    def _read(proc: Any, lines: Any) -> None:
        for line in proc.stdout:
            lines.put(line.strip())
        lines.put(f"its window ended (exit {proc.wait()})")  # no need to wait out the timeout

    def _line(self, role: str, timeout: float) -> str | None:
        import queue

        try:
            return self.lines[role].get(timeout=timeout)
        except queue.Empty:
            return None

    def take(self) -> dict[str, str]:
        if self.skipped:
            return {"board": self.skipped, "kiosk": self.skipped}
        time.sleep(scaled(SETTLE_SECONDS))  # the board's last call on screen
        # A machine whose windows open slowly draws slowly too: the shot waits in proportion.
        shot_seconds = max(scaled(SHOT_SECONDS), 3 * max(self.opened.values(), default=0.0))
        made = {}
        for role in ("board", "kiosk"):
            proc = self.procs.get(role)
            if proc is None:
                if role in self.failed:
                    made[role] = f"not taken: {self.failed[role]}"
                continue
            try:
                proc.stdin.write("shot\n")
                proc.stdin.flush()
            except OSError:
                pass
            answer = self._line(role, shot_seconds)
            path = self.out / f"{role}.png"
            if answer == "shot" and path.is_file():
                made[role] = str(path)
            elif answer is None:
                made[role] = f"not taken: no answer from its window within {shot_seconds:.0f} s (see {role}-window.log)"
            else:
                made[role] = f"not taken: {answer} (see {role}-window.log)"
            self.note(f"screenshot {role}: {made[role]}")
        return made

    def _end(self, role: str) -> None:
        import subprocess

        proc = self.procs.pop(role)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(scaled(10))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(scaled(5))

    def stop(self) -> None:
        for role in list(self.procs):
            self._end(role)
