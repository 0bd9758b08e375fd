"""Drive the real kiosk app in its own process: one Kivy window per process.

Run as a program, it starts the kiosk exactly as ``antrian kiosk`` does (kiosk.run)
in a window, and takes JSON-line commands on stdin, answering each on stdout:

    {"n": 1, "cmd": "tap", "key": "agency:disdukcapil"}    real touches at the widget's centre
    {"n": 2, "cmd": "wait", "until": {"screen": "services"}, "timeout": 5}
    {"n": 3, "cmd": "shot", "path": "test-artifacts/kiosk-home.png"}
    {"n": 4, "cmd": "state"}      screen, online, problems, busy, message, result, ...
    {"n": 5, "cmd": "widgets"}    every keyed widget on screen with its size
    {"n": 6, "cmd": "resize", "size": [800, 1280]}
    {"n": 7, "cmd": "idle", "seconds": 20}   the kiosk's idle_seconds from now on
    {"n": 8, "cmd": "quit"}

`KioskRemote` is the other end, used by tests and bench/kiosk.py:

    with KioskRemote(site_file, "kiosk1", broker.address, size="1280x800") as kiosk:
        kiosk.wait(screen="home", online=True)
        kiosk.tap("agency:disdukcapil")

A window that fits the 1280x1024 screen of the test run's Xvfb uses it; a bigger one
gets an Xvfb of its own. Time stamps are time.monotonic(), the same clock in every
process.

Timeouts are in seconds on the reference machine. `KioskRemote.slow` scales them to this
one: the machine's factor (antrian/slow.py), or more when the window took longer to start
than START_SECONDS times that factor -- drawing (llvmpipe, emulated or on a busy machine)
can be slower than the Python the factor measures. A test reads `kiosk.slow` for the times
it gives the kiosk itself (idle_seconds).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from antrian.slow import factor, scaled

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 3.0  # a kiosk window's start on the reference machine, from spawn to its first answer


# -- the test side -------------------------------------------------------------------------

class KioskRemote:
    def __init__(self, site_file: Path, device: str, broker: str, *, size: str = "1280x800",
                 screen: str | None = None, patches: dict[str, Any] | None = None, log_path: Path | None = None):
        """`screen` ("WxH") is the X screen to make room for, when the window will be resized."""
        self.args = [str(site_file), device, broker, size, json.dumps(patches or {})]
        self.screen = screen or size
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.slow = factor()
        self.started_in: float | None = None  # seconds from spawn to the first answer
        self._n = 0
        self._buffer = b""

    def start(self, timeout: float = 20.0) -> KioskRemote:
        cmd = [sys.executable, str(Path(__file__).resolve()), *self.args]
        width, height = (int(n) for n in self.screen.split("x"))
        if not (os.environ.get("DISPLAY") and width <= 1280 and height <= 1024) and shutil.which("xvfb-run"):
            # xvfb-run's screen is 1280x1024: a bigger window gets an Xvfb of its own.
            cmd = ["xvfb-run", "-a", "-s", f"-screen 0 {width}x{height}x24", *cmd]
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=ROOT,
                                     env=env, start_new_session=True)
        if log is not subprocess.DEVNULL:
            log.close()
        spawned = time.monotonic()
        self.call("state", timeout=timeout)  # answered once the app runs (scaled by call)
        self.started_in = time.monotonic() - spawned
        self.slow = max(factor(), self.started_in / START_SECONDS)
        return self

    @property
    def pid(self) -> int:
        """The kiosk's own process (not xvfb-run's)."""
        return self.call("state")["pid"]

    def call(self, cmd: str, timeout: float = 10.0, **args: Any) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None
        self._n += 1
        n = self._n
        self.proc.stdin.write((json.dumps({"n": n, "cmd": cmd, **args}) + "\n").encode())
        self.proc.stdin.flush()
        timeout *= self.slow
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                reply = json.loads(line)
                if reply.get("n") == n:
                    if "error" in reply:
                        raise AssertionError(f"kiosk {cmd}: {reply['error']}")
                    return reply
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"kiosk {cmd} {args}: no answer within {timeout:g} s ({self._tail()})")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"kiosk process ended (exit {self.proc.wait()}) during {cmd}: {self._tail()}")
                self._buffer += chunk

    def _tail(self) -> str:
        if self.log_path and Path(self.log_path).exists():
            return "log: ..." + Path(self.log_path).read_text(errors="replace")[-1500:]
        return "no log"

    def state(self) -> dict[str, Any]:
        return self.call("state")

    def tap(self, key: str, times: int = 1) -> dict[str, Any]:
        return self.call("tap", key=key, times=times)

    def wait(self, timeout: float = 5.0, **until: Any) -> dict[str, Any]:
        return self.call("wait", timeout=timeout + 5, until=until, wait_seconds=timeout * self.slow)

    def shot(self, path: Path) -> Path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Path(self.call("shot", path=str(path))["path"])

    def widgets(self) -> list[dict[str, Any]]:
        return self.call("widgets")["widgets"]

    def labels(self) -> list[str]:
        """Every text on the screen as drawn (banners, headings, the keyed widgets' own)."""
        return self.call("widgets")["labels"]

    def idle(self, seconds: int) -> dict[str, Any]:
        """Give the kiosk another idle_seconds (the site file's, changed while it runs)."""
        return self.call("idle", seconds=seconds)

    def resize(self, size: str) -> dict[str, Any]:
        """Give the window another size ("WxH"); the screens lay themselves out again."""
        return self.call("resize", size=[int(n) for n in size.split("x")])

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                self.call("quit", timeout=5)
            self.proc.wait(timeout=10 * self.slow)
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=5 * self.slow)
        finally:
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    stream.close()
            self.proc = None

    def __enter__(self) -> KioskRemote:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()


# -- the kiosk side ------------------------------------------------------------------------

def _serve(site_file: str, device: str, broker: str, size: str, patches: str) -> None:
    # Answers go to a private copy of stdout; fd 1 is pointed at stderr, so a library's
    # print() cannot corrupt the protocol.
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    import faulthandler
    import importlib
    import logging

    faulthandler.register(signal.SIGUSR1)  # kill -USR1 <pid>: every thread's stack to the log

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from antrian.site import load
    from kiosk.options import kiosk_settings
    from antrian.adapters.mqtt import parse_address
    from kiosk.run import parse_size, prepare_kivy

    config = load(site_file)
    prepare_kivy(kiosk_settings(config.device(device, "kiosk").options), parse_size(size))
    for target, value in json.loads(patches).items():
        module, _, attr = target.rpartition(".")
        setattr(importlib.import_module(module), attr, value)
    from kiosk.run import build_app

    app = build_app(config, device, parse_address(broker))
    driver = _Driver(app, out)
    threading.Thread(target=driver.read, args=(sys.stdin,), daemon=True).start()
    app.run()


class _Driver:
    """Runs commands on the Kivy thread."""

    def __init__(self, app, out):
        self.app = app
        self.out = out

    def read(self, stream) -> None:
        from kivy.clock import Clock

        for line in stream:
            command = json.loads(line)
            Clock.schedule_once(lambda _dt, c=command: self.handle(c))
        Clock.schedule_once(lambda _dt: self.app.stop())

    def reply(self, command: dict[str, Any], **data: Any) -> None:
        self.out.write(json.dumps({"n": command["n"], **data}) + "\n")

    def handle(self, command: dict[str, Any]) -> None:
        try:
            getattr(self, f"cmd_{command['cmd']}")(command)
        except Exception as exc:  # report it to the test instead of dying
            import traceback

            traceback.print_exc()
            self.reply(command, error=f"{type(exc).__name__}: {exc}")

    def state(self) -> dict[str, Any]:
        app = self.app
        result = app.result
        return {"pid": os.getpid(), "screen": app.sm.current if app.sm else None,
                "moving": bool(app.sm and app.sm.transition.is_active), "online": app.online,
                "problems": list(app.problems), "busy": app.busy, "message": app.message, "alert": app.alert,
                "tech_line": app.sm.get_screen("home").ids.tech_line.text if app.sm else None,
                "can_retry": app.can_retry, "catalog": app.catalog is not None,
                "order": app.order.id if app.order else None,
                "outcome": result.outcome if result else None,
                "number": result.ticket["number"] if result and result.ticket else None,
                "window": list(app.root_window.size) if app.root_window else None, "touch": app.touch,
                # the check-in (screens/reservasi.py) and what the done screen says
                "checkin_code": app.checkin_code, "checkin_refusal": app.checkin_refusal,
                "scanner_ready": app.scanner_ready,
                "done_title": app.sm.get_screen("done").title if app.sm else None,
                "done_booking": app.sm.get_screen("done").booking if app.sm else None}

    def cmd_state(self, command) -> None:
        self.reply(command, **self.state())

    def cmd_quit(self, command) -> None:
        self.reply(command, ok=True)
        self.app.stop()

    def _keyed(self) -> list:
        screen = self.app.sm.current_screen
        return [w for w in screen.walk(restrict=True) if getattr(w, "key", "")]

    @staticmethod
    def _shown_whole(widget) -> bool:
        """Whether the whole widget is on screen as it stands: inside the window and every
        ScrollView around it (a card below the fold is not, until a drag)."""
        from kivy.uix.scrollview import ScrollView

        x, y = widget.to_window(*widget.pos)
        right, top = x + widget.width, y + widget.height
        box = (0, 0, *widget.get_root_window().size)
        parent = widget.parent
        while parent is not None and parent is not parent.parent:
            if isinstance(parent, ScrollView):
                px, py = parent.to_window(*parent.pos)
                box = (max(box[0], px), max(box[1], py), min(box[2], px + parent.width),
                       min(box[3], py + parent.height))
            parent = parent.parent
        return x >= box[0] - 1 and y >= box[1] - 1 and right <= box[2] + 1 and top <= box[3] + 1

    def cmd_widgets(self, command) -> None:
        from kivy.uix.label import Label

        screen = self.app.sm.current_screen
        # Every text drawn on the screen: a banner's as well as a button's.
        labels = [w.text for w in screen.walk(restrict=True)
                  if isinstance(w, Label) and w.text and w.opacity > 0 and w.height > 0]
        self.reply(command, widgets=[{"key": w.key, "size": list(w.size), "disabled": w.disabled,
                                      "text": getattr(w, "text", "") or getattr(w, "title", ""),
                                      "status": getattr(w, "status", ""), "available": getattr(w, "available", True),
                                      "shown": self._shown_whole(w)}
                                     for w in self._keyed()], labels=labels)

    def _find(self, key: str):
        found = [w for w in self._keyed() if w.key == key]
        if not found:
            raise LookupError(f"no widget {key!r} on screen {self.app.sm.current!r}; "
                              f"there are {[w.key for w in self._keyed()]}")
        return found[0]

    def cmd_tap(self, command) -> None:
        from kivy.clock import Clock
        from kivy.tests.common import UnitTestTouch
        from kivy.uix.scrollview import ScrollView

        widget = self._find(command["key"])
        parent = widget.parent
        while parent is not None and not isinstance(parent, ScrollView):
            parent = parent.parent if parent.parent is not parent else None  # the Window is its own parent
        if parent is not None:
            parent.scroll_to(widget, padding=10, animate=False)

        def touch(_dt) -> None:
            try:
                # Found again: the scroll's layout pass may have replaced the widget.
                target = self._find(command["key"])
                x, y = target.to_window(*target.center)
                at = time.monotonic()
                for _ in range(command.get("times", 1)):
                    t = UnitTestTouch(x, y)
                    t.touch_down()
                    t.touch_up()
                self.reply(command, at=at, x=x, y=y)
            except Exception as exc:  # to the test, not out of the Kivy loop
                self.reply(command, error=f"{type(exc).__name__}: {exc}")

        # A frame for the scroll to settle before the touch.
        Clock.schedule_once(touch, 0 if parent is None else 0.05)

    def cmd_idle(self, command) -> None:
        import dataclasses

        self.app.settings = dataclasses.replace(self.app.settings, idle_seconds=command["seconds"])
        self.reply(command, idle_seconds=self.app.settings.idle_seconds)

    def cmd_resize(self, command) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        Window.size = tuple(command["size"])
        Clock.schedule_once(lambda _dt: self.reply(command, **self.state()), scaled(0.2))  # laid out again

    def cmd_wait(self, command) -> None:
        from kivy.clock import Clock

        until, deadline = command["until"], time.monotonic() + command.get("wait_seconds", scaled(5))

        def check(_dt) -> bool:
            state = self.state()
            if all(state.get(k) == v for k, v in until.items()) and not state["moving"]:
                self.reply(command, **state)
                return False
            if time.monotonic() > deadline:
                self.reply(command, error=f"still {state} after waiting for {until}")
                return False
            return True

        Clock.schedule_interval(check, 0.02)

    def cmd_shot(self, command) -> None:
        from kivy.clock import Clock

        frames = [0]

        def shoot(_dt) -> bool:
            # A few frames after the switch, so every label has its texture. Window.screenshot
            # reads the back buffer after the swap (black under Xvfb): the root painted into
            # an FBO is the screen as drawn, background included (the app paints it).
            if frames[0] < 3:
                frames[0] += 1
                return True
            self.app.root.export_to_png(command["path"])
            self.reply(command, path=command["path"])
            return False

        Clock.schedule_interval(shoot, 0.03)


if __name__ == "__main__":
    _serve(*sys.argv[1:6])
