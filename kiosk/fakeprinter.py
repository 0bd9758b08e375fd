"""A network ESC/POS printer in a thread: the kiosk's printer on a laptop, in tests and benches.

It listens on TCP like a real printer's port 9100, keeps every job's bytes, and
answers ``DLE EOT n`` status queries the moment they arrive (as a real printer does,
even in the middle of a job) with a status byte you choose, so paper out, an open
cover, a silent or vanished printer and a connection cut mid-job can all be staged:

    with FakePrinter() as fake:                 # 127.0.0.1, a free port
        ...printer: {connection: network, host: 127.0.0.1, port: fake.port, profile: TM-T20II}
        fake.set_status(paper_out=True)         # DLE EOT answers "paper end"
        fake.close_after = 100                  # hang up after 100 bytes of a connection
        fake.refuse()  ...  fake.listen()       # connection refused, then back
        job = fake.wait_for_jobs(1)[0]          # job.data, job.last_byte_at (time.monotonic)

From a shell, ``python -m kiosk.fakeprinter --port 9100 --dir tickets/`` stands in for
the printer of ``examples/buton.yaml`` and writes each ticket to a ``.bin`` file.
"""

from __future__ import annotations

import argparse
import dataclasses
import socket
import threading
import time
from pathlib import Path

__all__ = ["FakePrinter", "Job", "OK"]

DLE_EOT = b"\x10\x04"
OK = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}  # every fixed bit, no problem bit


@dataclasses.dataclass
class Job:
    """What one connection sent, status queries left out."""

    data: bytearray = dataclasses.field(default_factory=bytearray)
    queries: int = 0
    first_byte_at: float | None = None
    last_byte_at: float | None = None
    closed: bool = False


class FakePrinter:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port
        self.status = dict(OK)
        self.mute = False  # True: never answer a status query (a printer that ignores DLE EOT)
        self.close_after: int | None = None  # hang up once a connection has sent this many bytes
        self.connections: list[Job] = []
        self._cond = threading.Condition()
        self._server: socket.socket | None = None
        self._stopping = False

    # -- staging ----------------------------------------------------------------

    def set_status(self, *, paper_out: bool = False, cover_open: bool = False, offline: bool = False,
                   garbage: bool = False) -> None:
        """What the next DLE EOT queries answer (a real printer goes offline for both problems);
        `garbage`: bytes that are no status at all, as a clone or a device that is no printer sends."""
        if garbage:
            self.status = {n: 0xFF for n in (1, 2, 3, 4)}
            return
        off = offline or paper_out or cover_open
        self.status = {1: 0x12 | (0x08 if off else 0),
                       2: 0x12 | (0x04 if cover_open else 0) | (0x20 if paper_out else 0),
                       3: 0x12,
                       4: 0x12 | (0x6C if paper_out else 0)}

    def listen(self) -> FakePrinter:
        """Start (or start again, on the same port) accepting connections."""
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((self.host, self.port))
        server.listen(8)
        self.port = server.getsockname()[1]
        self._server = server
        threading.Thread(target=self._accept, args=(server,), name="fakeprinter-accept", daemon=True).start()
        return self

    start = listen

    def refuse(self) -> None:
        """Stop listening: connections are refused until listen()."""
        server, self._server = self._server, None
        if server is not None:
            try:
                server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            server.close()

    def stop(self) -> None:
        self._stopping = True
        self.refuse()

    def __enter__(self) -> FakePrinter:
        return self.listen()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what arrived -------------------------------------------------------------

    @property
    def jobs(self) -> list[Job]:
        """Connections that sent more than status queries, oldest first."""
        with self._cond:
            return [j for j in self.connections if j.data]

    def wait_for_jobs(self, count: int, timeout: float = 5.0, *, closed: bool = True) -> list[Job]:
        """The first `count` jobs, once they arrived (and their connections closed)."""
        def ready() -> bool:
            jobs = [j for j in self.connections if j.data]
            return len(jobs) >= count and (not closed or all(j.closed for j in jobs[:count]))

        with self._cond:
            if not self._cond.wait_for(ready, timeout):
                raise TimeoutError(f"fake printer: {len([j for j in self.connections if j.data])} of {count} "
                                   f"jobs within {timeout} s")
            return [j for j in self.connections if j.data][:count]

    # -- the printer ----------------------------------------------------------------

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return  # refused() or stopped
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            job = Job()
            with self._cond:
                self.connections.append(job)
            threading.Thread(target=self._serve, args=(conn, job), name="fakeprinter-conn", daemon=True).start()

    def _serve(self, conn: socket.socket, job: Job) -> None:
        received = 0
        pending = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                now = time.monotonic()
                if self.close_after is not None and received + len(chunk) > self.close_after:
                    chunk = chunk[: max(0, self.close_after - received)]
                    self._take(job, pending + chunk, now, conn)
                    break
                received += len(chunk)
                pending = self._take(job, pending + chunk, now, conn)
        with self._cond:
            if pending:  # the job ended with the first bytes of what looked like a query
                job.data += pending
            job.closed = True
            self._cond.notify_all()

    def _take(self, job: Job, data: bytes, now: float, conn: socket.socket) -> bytes:
        """Store data, answer the status queries in it; returns an incomplete query's start."""
        out = bytearray()
        i = 0
        while i < len(data):
            if data[i:i + 2] == DLE_EOT[: len(data) - i] and len(data) - i < 3:
                break  # a query split across two reads
            if data[i:i + 2] == DLE_EOT and data[i + 2] in self.status:
                # What came before the query is stored before it is answered, so whoever
                # got the answer finds the job complete.
                self._store(job, out, now)
                out = bytearray()
                with self._cond:
                    job.queries += 1
                if not self.mute:
                    try:
                        conn.sendall(bytes((self.status[data[i + 2]],)))
                    except OSError:
                        pass
                i += 3
                continue
            out.append(data[i])
            i += 1
        self._store(job, out, now)
        return bytes(data[i:])

    def _store(self, job: Job, data: bytearray, now: float) -> None:
        with self._cond:
            if data:
                job.data += data
                job.first_byte_at = job.first_byte_at or now
                job.last_byte_at = now
            self._cond.notify_all()


def main() -> None:
    parser = argparse.ArgumentParser(description="A network ESC/POS printer that keeps what it gets")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--dir", default=".", help="folder for ticket-NNN.bin files")
    args = parser.parse_args()
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    fake = FakePrinter(args.host, args.port).listen()
    print(f"fake ESC/POS printer on {args.host}:{fake.port}, tickets to {out}/", flush=True)
    saved = 0
    try:
        while True:
            try:
                jobs = fake.wait_for_jobs(saved + 1, timeout=60)
            except TimeoutError:
                continue
            path = out / f"ticket-{saved + 1:03d}.bin"
            path.write_bytes(bytes(jobs[saved].data))
            saved += 1
            print(f"{path}: {len(jobs[saved - 1].data)} bytes", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
