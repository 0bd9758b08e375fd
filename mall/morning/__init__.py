"""A scripted morning at the MPP, headless, on the real pieces (``antrian morning``).

One process runs the project's Mosquitto (a free port, restarted mid-morning), the real
dispatcher on SQLite (the site open round the clock), the kiosk's ticket desk
(kiosk.desk: the real request, retry and print path) against a fake network printer that
answers DLE EOT and runs out of paper for a while, a counter panel (hardware.panel) on
gpiozero's mock pins whose buttons are pressed, held and released like an officer's
finger, and the board's announcer (display.announcer) speaking every call through
espeak-ng into WAV files. The script:

    tickets   A KTP x3, a priority KTP (lansia), a KK
    loket1    NEXT (the priority ticket), RECALL, NEXT, hold NEXT (no-show), NEXT,
              transfer to KK (a command of the panel)
    printer   out of paper: the kiosk refuses; paper back: a ticket prints
    broker    a ticket, then the broker restarts; everyone reconnects
    more      four tickets (three priority), then loket2 and loket1 call until nobody
              waits: two priority tickets, then the oldest other one (priority_streak: 2)

The dispatcher runs on a compressed clock (pieces.DemoClock, 480 times: a second of the
script is eight minutes of the morning), so the report's waits and service times are
minutes, as on a real morning; the devices keep the real clock. The two staged faults
(paper out, the broker restart) are announced as one WARNING line "staged fault: ..." each,
and what they make the pieces log as expected comes out at INFO (pieces.Staged); any
other warning or error keeps its level.

Everything lands in one folder (--out):

    tickets/NNN-A-001.bin and .png   each printed ticket as ESC/POS bytes and a picture
    audio/NN-A-004-loket1-K.wav      each announcement (K = 1 the chime, 2 the sentence)
    report/                          the day's report (antrian.tools.report.figures, HTML, CSV, charts)
    antrian.db                       the dispatcher's SQLite store
    morning.json                     what happened: tickets, calls, announcements, files
    morning.log                      the log of every piece

What it promises and did not make (a ticket, a WAV, the report, a screenshot tried on a
display) ends it with exit status 1 and one line naming each thing (script.missing).
Its waits against a hang follow the machine (antrian/slow.py, ANTRIAN_SLOW).

Where it lives: script.py (the script itself), pieces.py (its site file, the observer,
the WAV sink, the board's speech and subscription), screens.py (the screenshots).
"""

from __future__ import annotations

import logging
from pathlib import Path

from antrian.errors import MorningError
from mall.morning.script import run

__all__ = ["main", "run"]


def main(config: str, out: str) -> int:
    """``antrian morning``: run, then say where everything is."""
    out_path = Path(out)
    out_path.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out_path / "morning.log", mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    try:
        summary = run(config, out)
    finally:
        root.removeHandler(handler)
        handler.close()
    folder = Path(summary["folder"])
    r = summary["report"]
    print(f"A morning at {summary['site']} ({summary['business_day']}) in {summary['seconds']} s:")
    print(f"  tickets        {len(summary['tickets'])} printed: {folder / 'tickets'} (ESC/POS .bin and .png)")
    print(f"  calls          {len(summary['calls'])}; announcements: {folder / 'audio'} (WAV)")
    print(f"  report         {r['folder']}: {r['issued']} issued, {r['served']} served, {r['no_show']} no-show, "
          f"{r['waiting_at_close']} waiting")
    clock = summary["clock"]
    print(f"  waits          mean {_minutes(r['wait_mean_min'])}, longest {_minutes(r['wait_max_min'])}, service "
          f"{_minutes(r['service_mean_min'])} (the dispatcher's clock compressed {clock['factor']:g} times: "
          f"{clock['start'][11:16]}-{clock['end'][11:16]})")
    print(f"  database       {folder / 'antrian.db'}")
    print(f"  summary        {folder / 'morning.json'} (log: {folder / 'morning.log'})")
    shots = summary["screenshots"]
    for name, where in shots.items():
        print(f"  {name + ' screen':<15}{where}")
    machine = summary["machine"]
    opened = ", ".join(f"{role} {s} s" for role, s in machine["windows_opened_s"].items())
    print(f"  machine        ANTRIAN_SLOW={machine['slow']:g} (every wait scaled by it)"
          f"{'; windows opened in ' + opened if opened else ''}")
    if summary["missing"]:  # a morning that skipped part of what it promises is no success
        raise MorningError(f"not made: {'; '.join(summary['missing'])} (see {folder / 'morning.log'})")
    return 0


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} min"
