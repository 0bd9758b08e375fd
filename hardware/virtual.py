"""A virtual counter panel: on-screen buttons wired to gpiozero's mock pins.

The real :class:`hardware.panel.Panel` runs on a MockFactory; each on-screen button
drives its pin low while the mouse (or a finger) holds it and high on release, so
debouncing, the hold for a no-show, the LEDs and the outbox are the real code. The LED
of each counter is shown next to its buttons, and its display (luma's dummy device on
mock pins, hardware.luma_screen) below them.

    python -m hardware.virtual --config site.yaml --device panel1 --broker 127.0.0.1:11883

Used by ``antrian up --whole`` (the whole MPP on one machine, ``./mpp start``).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from antrian.adapters.kivy_env import prepare

log = logging.getLogger(__name__)

LABELS = {"call_next": "BERIKUTNYA", "recall": "PANGGIL ULANG", "no_show": "TIDAK HADIR", "finish": "SELESAI",
          "open": "BUKA", "close": "TUTUP", "pause": "JEDA"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.virtual", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--device", default="panel1")
    parser.add_argument("--broker", required=True, metavar="HOST:PORT")
    parser.add_argument("--size", default="560x420")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from antrian.site import load
    from antrian.adapters.mqtt import parse_address

    config = load(args.config)
    host, port = parse_address(args.broker)
    width, _, height = args.size.partition("x")

    prepare(config={"input": {"mouse": "mouse,disable_multitouch"},
                    "graphics": {"fullscreen": "0", "width": width, "height": height}})
    logging.getLogger("kivy").setLevel(logging.WARNING)

    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.uix.boxlayout import BoxLayout
    from kivy.graphics.texture import Texture
    from kivy.uix.button import Button
    from kivy.uix.image import Image
    from kivy.uix.label import Label

    from .panel import Panel

    factory = MockFactory()
    Device.pin_factory = factory
    panel = Panel(config, args.device)
    pins = panel.pins
    leds = {o.counter: o.pin for o in pins.leds}

    class VirtualPanel(App):
        title = f"Panel {args.device} (virtual, mock GPIO)"

        def build(self):
            root = BoxLayout(orientation="vertical", padding=8, spacing=6)
            self.lamps, self.screens, self.drawn = {}, {}, {}
            for counter in pins.counters:
                row = BoxLayout(spacing=6)
                row.add_widget(Label(text=config.counters[counter].name, size_hint_x=0.25))
                lamp = Label(text="o", size_hint_x=0.08, bold=True)
                self.lamps[counter] = lamp
                row.add_widget(lamp)
                for spec in (b for b in pins.buttons if b.counter == counter):
                    text = LABELS.get(spec.press, spec.press)
                    if spec.hold:
                        text += f"\n(tahan: {LABELS.get(spec.hold, spec.hold).lower()})"
                    button = Button(text=text, halign="center")
                    button.bind(on_press=lambda _b, p=spec.pin: factory.pin(p).drive_low(),
                                on_release=lambda _b, p=spec.pin: factory.pin(p).drive_high())
                    row.add_widget(button)
                display = next((d for d in pins.displays if d.counter == counter), None)
                if display is not None:  # an OLED's picture; a 7-segment module's digits as text
                    self.screens[counter] = (Image(fit_mode="contain") if display.oled else
                                             Label(font_name="RobotoMono-Regular", color=(1, 0.2, 0.1, 1)))
                    row.add_widget(self.screens[counter])
                root.add_widget(row)
            Clock.schedule_interval(self._lamps, 0.1)
            return root

        def _lamps(self, _dt):
            for counter, lamp in self.lamps.items():
                pin = leds.get(counter)
                on = pin is not None and bool(factory.pin(pin).state)
                lamp.color = (0.1, 0.9, 0.2, 1) if on else (0.4, 0.4, 0.4, 1)
                lamp.text = "ON" if on else "o"
            for counter, widget in self.screens.items():
                screen = panel.screens.screens[counter] if panel.screens else None
                if screen is None or screen.device is None or screen.shown in (None, self.drawn.get(counter)):
                    continue
                self.drawn[counter] = screen.shown
                if isinstance(widget, Label):
                    widget.text = screen.shown.digits
                    continue
                picture = screen.device.image.convert("RGB")
                texture = Texture.create(size=picture.size, colorfmt="rgb")
                texture.mag_filter = "nearest"
                texture.blit_buffer(picture.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
                texture.flip_vertical()  # PIL's rows go down, Kivy's up
                widget.texture = texture

    app = VirtualPanel()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: Clock.schedule_once(lambda _dt: app.stop()))
    panel.start(host, port)
    try:
        app.run()
    finally:
        panel.close()
        Device.pin_factory = None
        factory.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
