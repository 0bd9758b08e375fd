"""The whole MPP on one machine with windows (``antrian up --whole``, ``./mpp start``).

In this process: the project's Mosquitto, the dispatcher on SQLite, and a ticket printer
(kiosk.fakeprinter: a network ESC/POS printer that answers DLE EOT) whose every ticket is
written to ``DATA/mpp/tickets/`` as the ESC/POS bytes (``.bin``) and a picture (``.png``,
drawn from the same layout the kiosk printed, kiosk.ticket_png). As child processes, each
in its own session so Ctrl-C reaches only this one, which then stops them in order:

- the kiosk window (``antrian kiosk --windowed``, kiosk1 printing to the printer above),
- the board window (``antrian display --windowed``, board1; sound through ALSA when there
  is a sound card, else WAV files in ``DATA/mpp/audio/``),
- a virtual counter panel (``python -m hardware.virtual``: on-screen buttons on mock GPIO
  pins driving the real panel code, panel1 for Loket 1-4),
- the two browser apps (``antrian web``): the staff app web1 (the head's dashboard, the
  officers' console, the TV board board3) with a users file made here, ``kepala`` and
  ``petugas`` (Loket 1-4) sharing one random password kept in ``DATA/mpp/web-password``,
  and the public app publik1 (the citizen's live ticket), whose address on this machine
  goes into every ticket's QR.

The three windows are tiled, not stacked (`tiles`): the kiosk top left, the board top
right, the panel under the kiosk, sized from the screen (``xdpyinfo``; else 1920x1080, or
ANTRIAN_SCREEN=WxH). Each child gets its size with ``--size`` and its place through
Kivy's own config in the environment (KCFG_GRAPHICS_POSITION=custom, _LEFT, _TOP, read
when Kivy is imported), so the wings need no option of their own.

The children read ``DATA/mpp/site.yaml``: the site file with kiosk1's printer and board1's
WAV folder pointed here. With --always-open the dispatcher runs on ``Config.always_open()``
and the children's site file has the same hours (`open_round_the_clock`), so a board that
marks closed services "Tutup" from the hours agrees with the dispatcher.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from antrian import protocol
from antrian.slow import scaled

log = logging.getLogger("antrian.whole")

STOP_SECONDS = 8.0  # for a window to stop after SIGTERM, on the reference machine (antrian/slow.py)
NUMBER = re.compile(rb"[A-Z]{1,2}-\d{3,4}")
DEFAULT_SCREEN = (1920, 1080)
GAP = 8  # pixels between windows, and room for a window manager's frame
TITLE_BAR = 32  # a window manager puts a title bar above each window: rows leave room for it


def screen_size() -> tuple[int, int]:
    """The screen's pixels: ANTRIAN_SCREEN=WxH, else what xdpyinfo says of DISPLAY, else 1920x1080."""
    wanted = re.fullmatch(r"(\d{3,5})x(\d{3,5})", os.environ.get("ANTRIAN_SCREEN", ""))
    if wanted:
        return int(wanted.group(1)), int(wanted.group(2))
    try:
        out = subprocess.run(["xdpyinfo"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return DEFAULT_SCREEN
    found = re.search(r"dimensions:\s+(\d+)x(\d+) pixels", out)
    return (int(found.group(1)), int(found.group(2))) if found else DEFAULT_SCREEN


def tiles(width: int, height: int) -> dict[str, tuple[int, int, int, int]]:
    """Where each window goes, (left, top, width, height): two columns of half the screen,
    the kiosk (16:10) top left, the board (16:9) top right, the panel under the kiosk in
    the height left (at most its usual 560x420). Rectangles never overlap; none is
    smaller than 200 pixels a side (the kiosk's --size floor) on a screen of 800x600 or more."""
    column = max(320, (width - GAP) // 2)  # below 648 pixels across the windows overlap
    kiosk_h = max(200, min(column * 10 // 16, height // 2))
    board_h = max(200, min(column * 9 // 16, height))
    panel_top = kiosk_h + GAP + TITLE_BAR
    panel_h = max(200, min(420, height - panel_top))
    return {
        "kiosk": (0, 0, column, kiosk_h),
        "board": (column + GAP, 0, column, board_h),
        "panel": (0, panel_top, min(560, column), panel_h),
    }


def place(rect: tuple[int, int, int, int]) -> dict[str, str]:
    """The environment that puts a Kivy window at *rect* (Kivy reads KCFG_* at import)."""
    left, top, _, _ = rect
    return {"KCFG_GRAPHICS_POSITION": "custom", "KCFG_GRAPHICS_LEFT": str(left), "KCFG_GRAPHICS_TOP": str(top)}


def open_round_the_clock(raw: dict[str, Any]) -> None:
    """The site file's hours as ``Config.always_open()`` has them: every schedule open all
    day, every day, and no holidays (in place, on the parsed YAML)."""
    days = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
    raw["schedules"] = {name: {day: ["00:00-24:00"] for day in days} for name in raw.get("schedules") or {}}
    raw["holidays"] = []


def site_file(config_path: Path, folder: Path, printer_port: int, bind: str,
              always_open: bool = False) -> tuple[Path, dict[str, str]]:
    """The site file for the children, and the HOST:PORT of each web app in it; with
    *always_open* open round the clock, as the dispatcher is."""
    import yaml

    raw = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    if always_open:
        open_round_the_clock(raw)
    web_listen = web_addresses(raw, bind)
    for device in raw.get("devices", ()):
        if device.get("id") == "kiosk1":
            device["printer"] = {"connection": "network", "host": "127.0.0.1", "port": printer_port,
                                 "profile": device.get("printer", {}).get("profile", "TM-T20II")}
        if device.get("id") == "board1":
            device["wav_dir"] = str(folder / "audio")
        if device.get("role") == "web":
            device["listen"] = web_listen[device["id"]]
            if device.get("public"):  # the QR of every ticket leads to this machine's public app
                device["public_url"] = f"http://{_url_host(web_listen[device['id']])}"
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, web_listen


def _url_host(listen: str) -> str:
    host, _, port = listen.rpartition(":")
    return f"{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"


def web_addresses(raw: dict[str, Any], bind: str) -> dict[str, str]:
    """HOST:PORT of each web app of the site file: its own port when it is free on *bind*,
    else a free one (two MPPs on one laptop, or a port taken by something else)."""
    import socket

    from antrian.adapters.mosquitto import free_port
    from web.options import WebOptions

    out: dict[str, str] = {}
    for device in raw.get("devices", ()):
        if device.get("role") != "web":
            continue
        listen = device.get("listen") or WebOptions(public=bool(device.get("public"))).default_listen
        port = int(str(listen).rpartition(":")[2])
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a TIME_WAIT is no owner
            try:
                s.bind((bind, port))
            except OSError:
                port = free_port()
        out[device["id"]] = f"{bind}:{port}"
    return out


def web_users(folder: Path, config: Any) -> tuple[Path, str]:
    """The staff app's users file for this machine: ``kepala`` and ``petugas`` (the counters
    of the virtual panel), one random password made once and kept beside it."""
    import secrets

    from web.passwords import hash_password
    from web.users import Entry, StaffUser, update

    secret = folder / "web-password"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(9) + "\n", encoding="utf-8")
        secret.chmod(0o600)
    password = secret.read_text(encoding="utf-8").strip()
    counters = tuple(c for c in ("loket1", "loket2", "loket3", "loket4") if c in config.counters)
    hashed = hash_password(password)
    path = folder / "web-users"

    def ours(users: dict[str, Any]) -> dict[str, Any]:  # users added by hand are kept
        users["kepala"] = Entry(StaffUser("kepala", "kepala"), hashed)
        users["petugas"] = Entry(StaffUser("petugas", "petugas", counters), hashed)
        return users

    update(path, ours, create=True)
    return path, password


class TicketFiles:
    """Writes each printer job to a .bin file, and each issued ticket to a PNG."""

    def __init__(self, config: Any, folder: Path, fake: Any) -> None:
        from antrian.adapters.mqtt import Connection, make_client

        self.config, self.folder, self.fake = config, folder, fake
        folder.mkdir(parents=True, exist_ok=True)
        self.catalog: dict[str, Any] | None = None
        self._done_jobs = 0
        self._stop = threading.Event()
        client = make_client("mpp-ticket-files")
        self.connection = Connection(client)
        site = config.site.id
        client.on_message = self._on_message
        self.connection.on_connected(lambda c: c.subscribe([(protocol.catalog(site), 1),
                                                            (protocol.kiosk_reply(site, "+"), 1)]))
        self._thread = threading.Thread(target=self._jobs, name="ticket-files", daemon=True)

    def start(self, host: str, port: int) -> None:
        self._thread.start()
        self.connection.connect(host, port)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.connection.close()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        try:
            obj = json.loads(msg.payload)
        except ValueError:
            return
        if msg.topic == protocol.catalog(self.config.site.id):
            self.catalog = obj
            return
        ticket = obj.get("ticket") if obj.get("ok") else None
        if not ticket:
            return
        try:
            from kiosk.ticket import TicketData, layout
            from kiosk.ticket_png import render

            from kiosk.options import PAPERS

            lay = layout(TicketData.from_reply(ticket, self.catalog), PAPERS["TM-T20II"])
            path = self.folder / f"{ticket['number']}.png"
            render(lay).save(path)
            log.info("ticket %s: %s", ticket["number"], path)
        except Exception:  # noqa: BLE001 -- a preview must never stop the MPP
            log.exception("cannot draw ticket %s", ticket.get("number"))

    def _jobs(self) -> None:
        while not self._stop.wait(0.3):
            jobs = [j for j in self.fake.jobs if j.closed and j.data]
            for job in jobs[self._done_jobs:]:
                found = NUMBER.search(bytes(job.data))
                name = found.group().decode() if found else f"job-{self._done_jobs + 1:03d}"
                (self.folder / f"{name}.bin").write_bytes(bytes(job.data))
                self._done_jobs += 1


def _child(name: str, argv: list[str], logs: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    log_file = (logs / f"{name}.log").open("ab")
    try:
        return subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **env} if env else None,
                                start_new_session=True)  # Ctrl-C reaches us only; we stop them in order
    finally:
        log_file.close()


def _stop_child(name: str, proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(scaled(STOP_SECONDS))
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop in %.0f s: killed", name, scaled(STOP_SECONDS))
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(scaled(5))


def run(config_path: str, data_dir: str, *, port: int, bind: str, always_open: bool,
        broker_render: Any = None) -> int:
    from kiosk.fakeprinter import FakePrinter

    from antrian.adapters.mosquitto import LocalBroker
    from antrian.tools.broker_files import dispatcher_ids
    from antrian.site import load
    from antrian.dispatcher import Dispatcher
    from antrian.adapters.store import Store

    data = Path(data_dir).resolve()
    folder = data / "mpp"
    for sub in ("tickets", "audio", "logs"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    fake = FakePrinter().listen()
    site, web_listen = site_file(Path(config_path), folder, fake.port, bind, always_open)
    config = load(site)
    if always_open:
        config = config.always_open()
    store = Store(data / f"{config.site.id}.db", config.tz)
    broker = LocalBroker(port=port, data_dir=data / "broker", bind=bind, render=broker_render)
    children: list[tuple[str, subprocess.Popen]] = []
    dispatcher = None
    tickets = None
    try:
        broker.start()
        dispatcher = Dispatcher(config, store, device_id=dispatcher_ids(config)[0])
        dispatcher.start(broker.host, broker.port)
        tickets = TicketFiles(config, folder / "tickets", fake)
        tickets.start(broker.host, broker.port)
        address = f"{broker.host}:{broker.port}"
        py = [sys.executable, "-m"]
        logs = folder / "logs"
        screen = screen_size()
        rects = tiles(*screen)
        log.info("windows on a %dx%d screen: %s", *screen, rects)

        def size(name: str) -> str:
            return f"{rects[name][2]}x{rects[name][3]}"

        children.append(("kiosk", _child("kiosk", py + ["antrian.cli", "kiosk", "--config", str(site), "--device",
                                                        "kiosk1", "--broker", address, "--windowed", "--size",
                                                        size("kiosk")], logs, place(rects["kiosk"]))))
        children.append(("board", _child("board", py + ["antrian.cli", "display", "--config", str(site), "--device",
                                                        "board1", "--broker", address, "--windowed", "--size",
                                                        size("board"), "--state-dir", str(folder / "board1")], logs,
                                         place(rects["board"]))))
        children.append(("panel", _child("panel", py + ["hardware.virtual", "--config", str(site), "--device",
                                                        "panel1", "--broker", address, "--size", size("panel")], logs,
                                         place(rects["panel"]))))
        users, password = web_users(folder, config)
        for device in web_listen:
            children.append((device, _child(device, py + ["antrian.cli", "web", "--config", str(site), "--device",
                                                          device, "--broker", address, "--users", str(users)],
                                            logs)))
        print(f"Antrian MPP for {config.site.name} is running, the whole of it.")
        print(f"  broker    {broker.address} (log: {broker.log_path})")
        print(f"  database  {store.path}")
        print(f"  windows   the kiosk (kiosk1), the board (board1), a virtual panel (panel1: Loket 1-4), tiled on "
              f"{screen[0]}x{screen[1]}")
        print(f"  printer   {folder / 'tickets'} (each ticket as ESC/POS .bin and .png)")
        print(f"  sound     the default output, or WAV files in {folder / 'audio'}")
        for device, listen in web_listen.items():
            if config.devices[device].options.get("public"):
                print(f"  public    http://{_url_host(listen)}/ (the citizen's live ticket: the QR on each ticket)")
            else:
                url = f"http://{_url_host(listen)}"
                print(f"  staff     {url}/dasbor as kepala, {url}/loket as petugas (password {password}, "
                      f"in {folder / 'web-password'}); TV board {url}/papan/board3")
        print(f"  logs      {logs}")
        print("Press Ctrl-C to stop.", flush=True)
        reported: set[str] = set()
        while not stop.wait(0.5):
            for name, proc in children:
                if proc.poll() is not None and name not in reported:
                    reported.add(name)
                    print(f"  the {name} stopped (exit {proc.returncode}; log: {logs / (name + '.log')})",
                          flush=True)
    finally:
        for name, proc in reversed(children):
            _stop_child(name, proc)
        if tickets is not None:
            tickets.stop()
        if dispatcher is not None:
            dispatcher.stop()
        store.close()
        broker.stop()
        fake.stop()
        print("Stopped.", flush=True)
    return 0
