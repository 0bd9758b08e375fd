"""The speech worker process: ``python -m display.worker``, started by WorkerEngine.

Protocol, one JSON object per line: the parent first sends ``{"factory":
"module:Name", "kwargs": {...}}`` and the worker answers ``{"ready": true}``; then
each job ``{"id", "text", "out", "timeout"}`` is answered ``{"id", "ok": true}`` once
the WAV is written to ``out``, or ``{"id", "ok": false, "error"}``.

Replies go to the original standard output; anything else printed on stdout in this
process is dropped (pyttsx3 2.99 prints "Audio saved to ..." for every file); logs and
tracebacks still reach standard error.
The worker exits when its parent goes away, even in the middle of a stuck job.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time


def _exit_with_parent(parent: int) -> None:
    # A worker stuck inside espeak never reads the EOF of a dead parent: look instead.
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def main() -> int:
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), sys.stdout.fileno())
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()

    def answer(obj: dict) -> None:
        replies.write(json.dumps(obj) + "\n")

    try:
        from display.speech import load_factory

        spec = json.loads(sys.stdin.readline() or "null")
        engine = load_factory(spec["factory"])(**spec.get("kwargs", {}))
    except Exception as exc:  # noqa: BLE001 -- any failure is reported to the parent, which logs it
        answer({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    answer({"ready": True, "pid": os.getpid()})
    for line in sys.stdin:
        job = json.loads(line)
        try:
            engine.synthesize(job["text"], timeout=job["timeout"]).write(job["out"])
            answer({"id": job["id"], "ok": True})
        except Exception as exc:  # noqa: BLE001 -- the job fails, the worker stays
            answer({"id": job["id"], "ok": False, "error": f"{type(exc).__name__}: {exc}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
