"""USB numeric keypad: keys -> the same counter actions as the buttons.

Many offices use a cheap USB numeric keypad instead of wired buttons. The site file
maps its keys to actions (``keys:``; by default ``+`` call_next, ``*`` recall,
``-`` no_show, ``/`` finish, ``.`` open, NumLock close). Typing digits and Enter
calls that number out of turn (``call_number``), with the prefix of the keypad's
service: ``12`` Enter on a KTP keypad calls A-012. Backspace or Esc clears what
was typed; digits left alone for ENTRY_TIMEOUT seconds are forgotten.

Two readers feed the same :class:`KeyDecoder`:

- :func:`read_input_device` reads a Linux input device (``/dev/input/by-id/...-event-kbd``)
  with the standard library: ``struct input_event`` records, key-down events only.
  It grabs the device (EVIOCGRAB), so the digits do not also go to a login console.
  NumLock's state does not matter: the kernel reports keypad key codes either way
  (the key itself is one the site file can map; it closes the counter by default). An
  unplugged keypad is retried every RETRY seconds.
- :func:`read_stream` reads characters from a text stream (stdin, for testing at a
  desk): digits, ``+ - * / . =``, newline for Enter, Tab, Backspace (``\\b``, DEL)
  and Esc (a terminal has no NumLock key: map another key to close to try it).

    decoder = KeyDecoder(keypad_spec)
    decoder.key("1"); decoder.key("2")
    decoder.key("enter")            # ("call_number", {"number": "A-12"})
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import select
import struct
import threading
import time
from typing import Any, Callable, TextIO

from antrian.errors import AntrianError
from hardware import pinmap

log = logging.getLogger(__name__)

ENTRY_TIMEOUT = 15.0  # seconds
MAX_DIGITS = 4  # ticket numbers go to 9999
RETRY = 2.0  # seconds between attempts to open a missing keypad

# struct input_event (linux/input.h): struct timeval (two native longs), __u16 type,
# __u16 code, __s32 value. 24 bytes on 64-bit, 16 on 32-bit Raspberry Pi OS.
EVENT = struct.Struct("llHHi")
EV_KEY = 1
KEY_DOWN = 1  # 0 is key up, 2 autorepeat
EVIOCGRAB = 0x40044590  # _IOW('E', 0x90, int)

# Key codes of linux/input-event-codes.h -> key names of hardware.pinmap. The top-row
# digits are there for keyboards that are not a keypad.
KEY_CODES = {
    82: "0", 79: "1", 80: "2", 81: "3", 75: "4", 76: "5", 77: "6", 71: "7", 72: "8", 73: "9",
    11: "0", 2: "1", 3: "2", 4: "3", 5: "4", 6: "5", 7: "6", 8: "7", 9: "8", 10: "9",
    96: "enter", 28: "enter", 78: "+", 74: "-", 55: "*", 98: "/", 83: ".", 121: ".", 117: "=", 13: "=",
    12: "-", 15: "tab", 14: "backspace", 1: "esc", 69: "numlock",
}
STREAM_KEYS = {"\n": "enter", "\r": "enter", "\t": "tab", "\b": "backspace", "\x7f": "backspace", "\x1b": "esc",
               **{ch: ch for ch in "0123456789+-*/.="}}


class BadEntry(AntrianError, ValueError):
    """A typing mistake on the keypad (shown on the LED as ``error``)."""


class KeyDecoder:
    """Key names in, counter actions out; pure, the clock injected.

    keypad: the keypad's entry of the pin map (counter, prefix, key -> action).
    """

    def __init__(self, keypad: pinmap.Keypad, clock: Callable[[], float] = time.monotonic) -> None:
        self.keypad = keypad
        self.clock = clock
        self.digits = ""
        self._last = 0.0

    def key(self, name: str) -> tuple[str, dict[str, Any]] | None:
        """The action a key press sends, or None; BadEntry for a typing mistake."""
        now = self.clock()
        if self.digits and now - self._last > ENTRY_TIMEOUT:
            self.digits = ""
        self._last = now
        if name in ("backspace", "esc"):
            self.digits = ""
            return None
        if name.isdigit():
            if len(self.digits) >= MAX_DIGITS:
                self.digits = ""
                raise BadEntry(f"more than {MAX_DIGITS} digits typed")
            self.digits += name
            return None
        typed, self.digits = self.digits, ""
        if name == "enter" and typed:
            if int(typed) == 0:
                raise BadEntry("ticket number 0 typed")
            return "call_number", {"number": f"{self.keypad.prefix}-{typed}"}
        action = self.keypad.keys.get(name)
        if action is None:
            return None
        if typed:
            # The officer typed a number and then pressed an action key, not Enter:
            # do neither rather than guess.
            raise BadEntry(f"{typed!r} typed, then {name!r}: press Enter to call a number")
        return action, {}


OnKey = Callable[[str], None]


def read_stream(stream: TextIO, on_key: OnKey, stop: threading.Event) -> None:
    """Feed the characters of a text stream to on_key until it ends or `stop` is set."""
    while not stop.is_set():
        try:
            line = stream.readline()
        except (OSError, ValueError) as exc:  # closed, or not readable (a service without a terminal)
            log.warning("keypad: cannot read standard input: %s", exc)
            return
        if not line:
            log.info("keypad: end of standard input")
            return
        for ch in line:
            name = STREAM_KEYS.get(ch)
            if name is not None and not stop.is_set():
                on_key(name)


def read_input_device(path: str, on_key: OnKey, stop: threading.Event,
                      on_missing: Callable[[bool], None] = lambda missing: None) -> None:
    """Feed the key presses of a Linux input device to on_key until `stop` is set.

    on_missing(True) is called when the device cannot be opened or goes away,
    on_missing(False) once it is read again.
    """
    reported = False
    while not stop.is_set():
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            if not reported:
                log.warning("keypad %s: cannot open it (%s); retrying every %g s", path, exc.strerror, RETRY)
                reported = True
                on_missing(True)
            stop.wait(RETRY)
            continue
        if reported:
            log.info("keypad %s: found", path)
            reported = False
        on_missing(False)
        try:
            _grab(fd, path)
            _read_events(fd, on_key, stop)
        except OSError as exc:
            log.warning("keypad %s: %s; retrying every %g s", path, exc.strerror, RETRY)
            reported = True
            on_missing(True)
        finally:
            os.close(fd)
        stop.wait(RETRY if reported else 0)


def _grab(fd: int, path: str) -> None:
    try:
        fcntl.ioctl(fd, EVIOCGRAB, 1)
    except OSError as exc:
        # Not an evdev device (a FIFO in tests) or grabbed by another program: read anyway.
        log.debug("keypad %s: EVIOCGRAB failed (%s)", path, exc.strerror)


def _read_events(fd: int, on_key: OnKey, stop: threading.Event) -> None:
    pending = b""
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, EVENT.size * 64)
        except BlockingIOError:
            continue
        if not chunk:
            # End of file: a FIFO whose writer closed. A real device never ends; it
            # fails with ENODEV when unplugged.
            raise OSError(errno.ENODEV, "input ended")
        pending += chunk
        whole = len(pending) - len(pending) % EVENT.size
        for _, _, kind, code, value in EVENT.iter_unpack(pending[:whole]):
            if kind == EV_KEY and value == KEY_DOWN:
                name = KEY_CODES.get(code)
                if name is not None:
                    on_key(name)
        pending = pending[whole:]
