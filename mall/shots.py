"""The board or the kiosk in a window of its own process, for the morning's screenshots.

    python -m mall.shots board|kiosk SITE_FILE DEVICE HOST:PORT STATE_DIR OUT.png

It runs the real app (display.app.BoardApp with no sound, or the kiosk of kiosk.run)
against the morning's broker, prints ``ready`` once the window is up, and takes its
screenshot into OUT.png when a line arrives on stdin, then prints ``shot`` and quits.
"""

from __future__ import annotations

import dataclasses
import sys
import threading


def main(argv: list[str]) -> int:
    role, site_file, device, address, state_dir, out = argv
    from antrian.site import load
    from antrian.adapters.mqtt import parse_address

    config = load(site_file)
    host, port = parse_address(address)
    if role == "board":
        from display.kivy_env import prepare

        prepare(state_dir, size=(1280, 720), fullscreen=False)
        from display.options import read
        from display.app import BoardApp
        from display.audio import NullSink

        options = dataclasses.replace(read(config, device), audio="none", min_call_seconds=0.2)
        app = BoardApp(config, device, host, port, options=options, state_dir=state_dir, sink=NullSink())
    else:
        from kiosk.options import kiosk_settings
        from kiosk.run import build_app, prepare_kivy

        prepare_kivy(kiosk_settings(config.device(device, "kiosk").options), (1280, 800))
        app = build_app(config, device, (host, port))
    from kivy.clock import Clock

    out_stream = sys.stdout
    sys.stdout = sys.stderr

    def say(text: str) -> None:
        out_stream.write(text + "\n")
        out_stream.flush()

    def shoot() -> None:
        frames = [0]

        def tick(_dt: float) -> bool:
            # A few frames first, so every label has its texture; the root drawn into an
            # FBO is the screen as drawn (Window.screenshot reads black under Xvfb).
            if frames[0] < 5:
                frames[0] += 1
                return True
            try:
                app.root.export_to_png(out)
                say("shot")
            except Exception as exc:  # noqa: BLE001 -- the morning logs the reason
                say(f"failed {exc}")
            app.stop()
            return False

        Clock.schedule_interval(tick, 0.05)

    def read_stdin() -> None:
        line = sys.stdin.readline()
        Clock.schedule_once(lambda _dt: shoot() if line else app.stop())

    Clock.schedule_once(lambda _dt: say("ready"), 0.5)
    threading.Thread(target=read_stdin, daemon=True).start()
    app.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
