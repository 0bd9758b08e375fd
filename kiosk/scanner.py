"""The kiosk's USB barcode scanner: a keyboard-wedge device read through /dev/input.

A scanner types what it reads like a keyboard and ends with Enter. The kiosk reads its
key events itself (python-evdev opens the device and *grabs* it, EVIOCGRAB, so the
keystrokes reach nobody else: not the X server, not Kivy, not a console), turns them
into characters and hands every line to the app:

    scanner = Scanner("auto", on_code=show, on_state=tell)   # both called on the reader thread
    scanner.start()
    ...
    scanner.stop()

`device` in the site file (kiosk option ``scanner``) is one of:

- ``auto``: the first input device that has the keys of a keyboard (Enter, digits,
  letters) -- a kiosk has a touch screen and no keyboard, so that is the scanner;
- a path: ``/dev/input/by-id/usb-...-event-kbd`` (stays the same across reboots); a
  named pipe (FIFO) there is read as the same stream of input events without evdev,
  which is how the tests feed keystrokes where no uinput exists;
- anything else: the device's name as the kernel tells it (``evtest`` lists them),
  matched exactly, else as a part of it, ignoring case.

A device that is not there is looked for again every `RETRY_SECONDS`; one unplugged
(a read fails with ENODEV, a pipe's writer closes) is closed and looked for again, so
plugging it back in brings it back without restarting the kiosk.

`char_of` and `Decoder` are pure: the US layout with Shift and Caps Lock, as a wedge
scanner sends it, and the assembly of one line per Enter.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import stat
import struct
import threading
from typing import Callable

__all__ = ["Decoder", "Scanner", "char_of", "EVENT", "EV_KEY", "KEY_ENTER", "KEY_LEFTSHIFT"]

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0
POLL_SECONDS = 0.5
MAX_LINE = 64  # a booking's QR holds 15 characters; a longer line is no code

# struct input_event on a 64-bit kernel: struct timeval (two longs), type, code, value.
EVENT = struct.Struct("llHHi")
EV_KEY = 1
KEY_ENTER, KEY_KPENTER = 28, 96
KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK = 42, 54, 58
_SHIFTS = (KEY_LEFTSHIFT, KEY_RIGHTSHIFT)


def _row(first: int, plain: str, shifted: str) -> dict[int, tuple[str, str]]:
    return {first + i: (p, s) for i, (p, s) in enumerate(zip(plain, shifted, strict=True))}


# Linux key codes (linux/input-event-codes.h) -> (plain, with Shift) on a US keyboard.
US_LAYOUT: dict[int, tuple[str, str]] = {
    **_row(2, "1234567890-=", "!@#$%^&*()_+"),
    **_row(16, "qwertyuiop[]", "QWERTYUIOP{}"),
    **_row(30, "asdfghjkl;'`", 'ASDFGHJKL:"~'),
    **_row(43, "\\zxcvbnm,./", "|ZXCVBNM<>?"),
    57: (" ", " "),
    55: ("*", "*"), 74: ("-", "-"), 78: ("+", "+"), 83: (".", "."), 98: ("/", "/"),  # the keypad's
    **_row(71, "789", "789"), **_row(75, "456", "456"), **_row(79, "123", "123"), 82: ("0", "0"),
}
_KEYPAD = {55, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 98}


def char_of(code: int, shift: bool = False, caps: bool = False) -> str | None:
    """The character a key types on a US layout (None for a key that types none). Caps
    Lock turns letters only; Shift turns it back for them."""
    pair = US_LAYOUT.get(code)
    if pair is None:
        return None
    plain, shifted = pair
    if plain.isalpha():
        return shifted if shift != caps else plain
    return shifted if shift and code not in _KEYPAD else plain


class Decoder:
    """Key events in, whole lines out: `feed` returns the line when Enter is pressed."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.shift: set[int] = set()
        self.caps = False
        self.text: list[str] = []

    def feed(self, code: int, value: int) -> str | None:
        """One EV_KEY event (value 1 press, 0 release, 2 auto-repeat)."""
        if code in _SHIFTS:
            (self.shift.add if value else self.shift.discard)(code)
            return None
        if value != 1:
            return None
        if code == KEY_CAPSLOCK:
            self.caps = not self.caps
            return None
        if code in (KEY_ENTER, KEY_KPENTER):
            line, self.text = "".join(self.text), []
            return line or None
        char = char_of(code, bool(self.shift), self.caps)
        if char is not None and len(self.text) < MAX_LINE:
            self.text.append(char)
        return None


class _Gone(Exception):
    """The device went away (unplugged, or a pipe's writer closed)."""


class _Source:
    """An open event stream: a grabbed evdev device, or a named pipe of the same records."""

    def __init__(self, fd: int, name: str, device=None):
        self.fd, self.name, self.device = fd, name, device
        self._rest = b""

    def fileno(self) -> int:
        return self.fd

    def events(self) -> list[tuple[int, int, int]]:
        try:
            data = os.read(self.fd, EVENT.size * 64)
        except BlockingIOError:
            return []
        except OSError as exc:
            if exc.errno in (errno.ENODEV, errno.EIO, errno.EBADF):
                raise _Gone(str(exc)) from exc
            raise
        if not data:
            raise _Gone("end of stream")
        data = self._rest + data
        whole = len(data) - len(data) % EVENT.size
        self._rest = data[whole:]
        return [(t, c, v) for _s, _us, t, c, v in EVENT.iter_unpack(data[:whole])]

    def close(self) -> None:
        try:
            if self.device is not None:
                self.device.close()  # also ends the grab
            else:
                os.close(self.fd)
        except OSError:
            pass


def _is_keyboard(device) -> bool:
    import evdev

    keys = set(device.capabilities().get(evdev.ecodes.EV_KEY, ()))
    return {evdev.ecodes.KEY_ENTER, evdev.ecodes.KEY_0, evdev.ecodes.KEY_A} <= keys


class Scanner:
    """Reads a wedge scanner on its own thread; `on_code(line)` for every line it types,
    `on_state(connected, name)` when it is found or lost. Both run on the reader thread."""

    def __init__(self, device: str, *, on_code: Callable[[str], None],
                 on_state: Callable[[bool, str], None] | None = None):
        self.spec = device
        self.on_code = on_code
        self.on_state = on_state
        self.connected = False
        self.name = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._missing_told = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kiosk-scanner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # -- finding and opening --------------------------------------------------------------

    def _open(self) -> _Source | None:
        spec = self.spec
        if spec.startswith("/"):
            try:
                mode = os.stat(spec).st_mode
            except OSError:
                return self._missing(f"{spec} does not exist")
            if stat.S_ISFIFO(mode):
                return _Source(os.open(spec, os.O_RDONLY | os.O_NONBLOCK), spec)
            return self._open_device(spec)
        try:
            import evdev
        except ImportError:
            return self._missing("python-evdev is not installed (pip install the kiosk extra)")
        devices = []
        for path in evdev.list_devices():
            try:
                devices.append(evdev.InputDevice(path))
            except OSError:
                continue
        if spec == "auto":
            chosen = next((d for d in devices if _is_keyboard(d)), None)
        else:
            chosen = next((d for d in devices if d.name == spec), None) or \
                next((d for d in devices if spec.lower() in d.name.lower()), None)
        for device in devices:
            if device is not chosen:
                device.close()
        if chosen is None:
            return self._missing(f"no input device {'with keyboard keys' if spec == 'auto' else repr(spec)} "
                                 f"among {len(devices)} in /dev/input")
        return self._grab(chosen)

    def _open_device(self, path: str) -> _Source | None:
        try:
            import evdev
        except ImportError:
            return self._missing("python-evdev is not installed (pip install the kiosk extra)")
        try:
            device = evdev.InputDevice(path)
        except OSError as exc:
            return self._missing(f"{path}: {exc.strerror or exc}")
        return self._grab(device)

    def _grab(self, device) -> _Source | None:
        try:
            device.grab()  # its keystrokes go to the kiosk alone, never into the UI
        except OSError as exc:
            device.close()
            return self._missing(f"{device.path} ({device.name}) cannot be grabbed: {exc.strerror or exc}; "
                                 "another program holds it")
        os.set_blocking(device.fd, False)
        return _Source(device.fd, f"{device.name} ({device.path})", device)

    def _missing(self, why: str) -> None:
        if not self._missing_told:  # once per absence, not every RETRY_SECONDS
            log.warning("scanner %r not available: %s; the on-screen keypad still works, looking again every "
                        "%g s", self.spec, why, RETRY_SECONDS)
            self._missing_told = True
        return None

    def _set_state(self, connected: bool, name: str) -> None:
        self.connected, self.name = connected, name
        if self.on_state is not None:
            try:
                self.on_state(connected, name)
            except Exception:
                log.exception("scanner: the state callback failed")

    # -- the reader -------------------------------------------------------------------------

    def _run(self) -> None:
        source: _Source | None = None
        decoder = Decoder()
        while not self._stop.is_set():
            if source is None:
                try:
                    source = self._open()
                except Exception:  # a bug or an odd device must not end the thread
                    log.exception("scanner %r: opening failed", self.spec)
                    source = None
                if source is None:
                    self._stop.wait(RETRY_SECONDS)
                    continue
                self._missing_told = False
                decoder.reset()
                log.info("scanner: reading %s", source.name)
                self._set_state(True, source.name)
            try:
                ready, _, _ = select.select([source], [], [], POLL_SECONDS)
                events = source.events() if ready else []
            except (_Gone, OSError, ValueError) as exc:
                log.warning("scanner: %s gone (%s); looking for it again", source.name, exc)
                source.close()
                source = None
                self._set_state(False, "")
                continue
            for kind, code, value in events:
                if kind != EV_KEY:
                    continue
                line = decoder.feed(code, value)
                if line is not None:
                    try:
                        self.on_code(line)
                    except Exception:
                        log.exception("scanner: handing over %r failed", line)
        if source is not None:
            source.close()
