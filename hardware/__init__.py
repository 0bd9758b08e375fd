"""The Pi side of the counters: GPIO call-button panels and USB keypads.

- debounce: a button's press/release logic, pure, the clock injected
- feedback: what the LEDs and buzzers show, as data
- outbox: presses not yet answered, and what happens to them when the broker is down
- keypad: USB numeric keypads (Linux input devices, or stdin for testing)
- gpio: the one gpiozero adapter (pin factory, buttons, LEDs, buzzers)
- screen: what a counter's own display shows, pure; luma_screen: the one luma adapter
  that draws it (OLED or 7-segment), screenmap: its entry in the site file
- panel: the program run by ``antrian panel --config FILE --device ID``
- wing, pinmap, commands: the panel's place in the registry, its pin map in the site file
  (checked without gpiozero) and its subcommand

Wiring, a pin table and the systemd unit: WIRING.md and antrian-panel@.service here.
Only gpio and panel import gpiozero, only luma_screen imports luma; ``antrian/`` never
does.
"""
