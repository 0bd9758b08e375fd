"""Runs the real board (display.app.BoardApp) in its own process and lets a test drive it.

    python tests/board_driver.py SITE_FILE DEVICE HOST:PORT STATE_DIR WIDTHxHEIGHT

One Kivy window per process, so every screen size is a process of its own. The test
writes one JSON command per line on stdin and reads one JSON answer per line on
stdout (Kivy logs go to stderr):

    {"cmd": "state"}                                  -> what the board shows
    {"cmd": "wait", "until": {...}, "timeout": 10}    -> the state once every key matches
    {"cmd": "shot", "path": "x.png"}                  -> a screenshot of the window
    {"cmd": "sizes"}                                  -> the rendered sizes of every tile's and
                                                         waiting row's texts (tests/test_board_sizes.py)
    {"cmd": "page", "page": 1}                        -> show that page of counters (and of the
                                                         waiting list, modulo its pages) now
    {"cmd": "quit"}

The speech engine is the real one of the site file (pyttsx3 in a worker process);
sound goes to a MemorySink that plays 50 times faster than real time, and calls stay
highlighted 0.3 s instead of 5 s, so a test of many calls takes seconds.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
from pathlib import Path


def main() -> None:
    site_file, device, address, state_dir, size = sys.argv[1:6]
    width, height = (int(x) for x in size.split("x"))
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))

    from display.kivy_env import prepare

    prepare(state_dir, size=(width, height), fullscreen=False)

    from kivy.clock import Clock
    from kivy.core.window import Window

    from antrian.site import load
    from display.options import read
    from antrian.adapters.mqtt import parse_address
    from display.app import BoardApp
    from display.audio import MemorySink

    config = load(site_file)
    options = dataclasses.replace(read(config, device), min_call_seconds=0.3, audio="none")
    host, port = parse_address(address)
    sink = MemorySink(speed=0.02)
    app = BoardApp(config, device, host, port, options=options, state_dir=state_dir, sink=sink)
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but answers on the protocol stream

    def answer(obj) -> None:
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()

    def state() -> dict:
        screen = app.root
        ids = screen.ids
        return {
            "size": list(Window.size),
            "portrait": screen.portrait,
            "site_name": ids.site_name.text,
            "date": ids.date.text,
            "banner": ids.banner.text,
            "latest_number": ids.latest_number.text,
            "latest_counter": ids.latest_counter.text,
            "latest_service": ids.latest_service.text,
            "counters": [[t.name, t.number, t.detail, t.status] for t in reversed(ids.counters.children) if t.name],
            "waiting": [[c.prefix, c.name, int(c.count) if not c.closed else "Tutup"]
                        for c in reversed(ids.waiting.children)],
            "page": app.page,
            "pages": app.grid.pages,
            "counters_heading": ids.counters_heading.text,
            "waiting_heading": ids.waiting_heading.text,
            "waiting_pages": app.waiting_pages,
            "latest_booking": screen.latest_booking,
            "recent": [[r.number, r.counter] for r in reversed(ids.recent.children) if r.number],
            "running_text": ids.marquee.text,
            "connected": app.link.connected,
            "have_board": app.board_data is not None,
            "board_seq": (app.board_data or {}).get("seq"),
            "flashes": app.flashes,
            "idle": app.announcer.idle,
            "spoken": app.announcer.spoken_count,
            "played": len(sink.played),
        }

    def label(widget) -> dict:
        """What a reader sees of a label: its text, font size, box and the drawn text's size."""
        widget.texture_update()
        return {"text": widget.text, "font_size": round(float(widget.font_size), 2),
                "size": [round(v, 1) for v in widget.size], "texture": list(widget.texture_size),
                # The whole text's width at this font, and whether Kivy cut it with "…".
                "extent": widget._label.get_extents(widget.text)[0] if widget.text else 0,
                "shortened": bool(getattr(widget._label, "is_shortened", False))}

    def sizes() -> dict:
        ids = app.root.ids
        return {"tiles": [{"name": label(t.ids.name), "number": label(t.ids.number), "detail": label(t.ids.detail),
                           "size": [round(v, 1) for v in t.size]}
                          for t in reversed(ids.counters.children) if t.name],
                "waiting": [{"name": label(c.ids.name), "count": label(c.ids.count)}
                            for c in reversed(ids.waiting.children)],
                "grid": [app.grid.cols, app.grid.rows, app.grid.per_page, app.grid.pages],
                "u": app.root.u}

    def matches(current: dict, until: dict) -> bool:
        return all(current.get(k) == v for k, v in until.items())

    def run(command: dict) -> None:
        cmd = command["cmd"]
        if cmd == "state":
            answer(state())
        elif cmd == "wait":
            deadline = Clock.get_time() + command.get("timeout", 10)

            def poll(_dt) -> bool:
                current = state()
                if matches(current, command["until"]):
                    answer(current)
                    return False
                if Clock.get_time() > deadline:
                    answer({"error": "timeout", "until": command["until"], "state": current})
                    return False
                return True

            Clock.schedule_interval(poll, 0.05)
        elif cmd == "shot":
            # Draw into the back buffer right now: after a buffer swap its content is undefined.
            Window.dispatch("on_draw")
            made = Window.screenshot(name=command["path"])
            os.replace(made, command["path"])
            answer({"path": command["path"]})
        elif cmd == "sizes":
            answer(sizes())
        elif cmd == "page":
            app.page = command["page"]
            app._apply_board()
            answer(state())
        elif cmd == "quit":
            app.stop()
        else:
            answer({"error": f"unknown command {cmd!r}"})

    def read_commands() -> None:
        for line in sys.stdin:
            command = json.loads(line)
            Clock.schedule_once(lambda _dt, c=command: run(c))
        Clock.schedule_once(lambda _dt: app.stop())

    threading.Thread(target=read_commands, daemon=True).start()
    app.run()
    answer({"stopped": True})


if __name__ == "__main__":
    main()
