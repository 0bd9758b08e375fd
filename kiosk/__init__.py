"""The touch kiosk at the entrance of the MPP, where a citizen takes a number.

Layers, fastest to test first:

- `ticket`      what a ticket says and how it is laid out (pure data)
- `ticket_png`  that layout drawn with Pillow: the preview of ``antrian ticket --png``
- `printer`     the python-escpos adapter: ESC/POS bytes, the connection of the site
                file, DLE EOT status queries
- `fakeprinter` a network ESC/POS printer in a thread, for laptops, tests and benches
- `skm`         the satisfaction survey of Permenpan RB 14/2017 (nine elements)
- `texts`       what the kiosk says to a citizen, in Bahasa Indonesia
- `link`        the kiosk's MQTT side: catalog in, requests, surveys and status out
- `desk`        taking a ticket end to end, off the UI thread: printer check,
                request with retries under one id, printing, the problems
- `app`, `widgets`, `screens/`  the Kivy app, one .kv file per screen
- `run`         `antrian kiosk`: Kivy settings that must precede its import, then the app
- `wing`, `options`, `commands`  the kiosk's place in the registry, its site-file
                options (checked without Kivy or escpos) and its subcommands

Only `app`, `widgets`, `screens` and `run` import Kivy.
"""
