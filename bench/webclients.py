"""Plain SSE clients for bench/web.py: many `EventSource`s without a browser.

Each child process runs one asyncio loop with its share of the clients, each a raw
HTTP/1.1 connection (GET, ``Accept: text/event-stream``, chunked body) parsed by hand,
so a client costs a few kB and a read is stamped (time.perf_counter, CLOCK_MONOTONIC as
in the parent) the moment its bytes are taken from the socket. A client keeps only what
the parent needs per message: (when, the message's key), the key made by the page's
`extract` function (a board: the call's seq; a citizen: the state the page would show).

    ready, results = fan_out(host, port, paths, kind, procs, go_calls)

`go_calls` runs in the parent while every client is connected; the clients stop when
it returns. Each client sends its own X-Forwarded-For (as a reverse proxy would, from
a trusted 127.0.0.1) so a per-address limit sees 200 phones, not one.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import queue
import time
from typing import Any, Callable

__all__ = ["fan_out"]


def _board_key(event: str, id_: str | None, data: str) -> Any:
    """A board's `call` message: the call's seq (its SSE id)."""
    if event == "call" and id_ is not None and id_.isdigit():
        return int(id_)
    return None


def _ticket_key(event: str, id_: str | None, data: str) -> Any:
    """A citizen page's message: what it would show, as a comparable tuple."""
    if event in ("", "ping", "jam"):
        return None
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    return (event, obj.get("state"), obj.get("ahead"), obj.get("counter"))


EXTRACT: dict[str, Callable[[str, str | None, str], Any]] = {"papan": _board_key, "tiket": _ticket_key}


async def _client(host: str, port: int, path: str, xff: str, extract, got: list, tally: list[int],
                  first: asyncio.Event, stop: asyncio.Event) -> str | None:
    """One stream until *stop*; None, or why it failed."""
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        first.set()
        return f"connect: {exc}"
    try:
        writer.write((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
                      f"Cache-Control: no-cache\r\nX-Forwarded-For: {xff}\r\n\r\n").encode("ascii"))
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        if status != b"200":
            first.set()
            return f"HTTP {status.decode()}"
        chunked = b"transfer-encoding: chunked" in head.lower()
        buf = b""
        stopping = asyncio.ensure_future(stop.wait())
        while not stop.is_set():
            if chunked:
                read = asyncio.ensure_future(reader.readline())
                done, _ = await asyncio.wait({read, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if read not in done:
                    read.cancel()
                    break
                size = int(read.result().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    return "stream ended"
                data = (await reader.readexactly(size + 2))[:-2]
            else:
                data = await reader.read(65536)
                if not data:
                    return "stream ended"
            at = time.perf_counter()
            tally[1] += len(data)
            buf = (buf + data).replace(b"\r\n", b"\n")
            while b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                event, id_, lines = "", None, []
                for line in block.decode("utf-8", "replace").split("\n"):
                    name, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if name == "event":
                        event = value
                    elif name == "id":
                        id_ = value
                    elif name == "data":
                        lines.append(value)
                if not lines and not event:
                    continue  # a comment (keep-alive)
                first.set()
                tally[0] += 1
                key = extract(event, id_, "\n".join(lines))
                if key is not None:
                    got.append((at, key))
        stopping.cancel()
        return None
    except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
        first.set()
        return f"{type(exc).__name__}: {exc}"
    finally:
        writer.close()


async def _run(host: str, port: int, paths: list[tuple[str, str]], kind: str, out: Any, stop_flag: Any,
               n: int) -> None:
    extract = EXTRACT[kind]
    stop = asyncio.Event()
    firsts = [asyncio.Event() for _ in paths]
    gots: list[list] = [[] for _ in paths]
    tallies = [[0, 0] for _ in paths]  # messages, bytes
    tasks = []
    for i, (path, xff) in enumerate(paths):
        tasks.append(asyncio.ensure_future(_client(host, port, path, xff, extract, gots[i], tallies[i], firsts[i],
                                                   stop)))
        if i % 20 == 19:
            await asyncio.sleep(0.02)  # a browser-like arrival, not one SYN flood
    waits = [asyncio.ensure_future(f.wait()) for f in firsts]
    await asyncio.wait(waits, timeout=60)
    broken = [t.done() and t.result() is not None for t in tasks]
    ok = sum(f.is_set() and not bad for f, bad in zip(firsts, broken))
    failed = [t.result() for t, bad in zip(tasks, broken) if bad]
    silent = sum(not f.is_set() for f in firsts)
    failed += [f"{silent} streams sent nothing in 60 s"] if silent else []
    out.put(("ready", ok, failed[:5]))
    while not stop_flag.is_set():
        await asyncio.sleep(0.05)
    stop.set()
    errors = [e for e in await asyncio.gather(*tasks) if e is not None]
    out.put(("result", n, gots, tallies, errors[:5], time.process_time()))


def _worker(host: str, port: int, paths: list[tuple[str, str]], kind: str, out: Any, stop_flag: Any, n: int) -> None:
    asyncio.run(_run(host, port, paths, kind, out, stop_flag, n))


def fan_out(host: str, port: int, paths: list[str], kind: str, procs: int,
            go_calls: Callable[[], Any], timeout: float = 120.0) -> tuple[int, list[list], list[str], Any, list]:
    """Open every path as a stream (in *procs* processes), run *go_calls* once all are
    connected, then close them: (clients connected, per client [(when, key)], errors,
    what go_calls returned, [messages, bytes, CPU seconds] of all clients in all)."""
    ctx = mp.get_context("spawn")
    out, stop_flag = ctx.Queue(), ctx.Event()
    shares: list[list[tuple[str, str]]] = [[] for _ in range(procs)]
    order: list[list[int]] = [[] for _ in range(procs)]
    for i, path in enumerate(paths):
        shares[i % procs].append((path, f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"))
        order[i % procs].append(i)
    workers = [ctx.Process(target=_worker, args=(host, port, share, kind, out, stop_flag, n), daemon=True)
               for n, share in enumerate(shares) if share]
    for w in workers:
        w.start()
    connected, errors = 0, []
    try:
        for _ in workers:
            _, n, failed = out.get(timeout=timeout)
            connected += n
            errors += failed
        made = go_calls() if connected == len(paths) else None
    finally:
        stop_flag.set()
    results: list[list] = [[] for _ in paths]  # in the order of *paths*
    totals = [0, 0, 0.0]  # messages, bytes, the client processes' CPU seconds
    for _ in workers:
        try:
            _, n, gots, tallies, failed, cpu = out.get(timeout=timeout)
        except queue.Empty:
            errors.append("a client process did not report")
            continue
        for i, got in zip(order[n], gots):
            results[i] = got
        for messages, size in tallies:
            totals[0] += messages
            totals[1] += size
        totals[2] += cpu
        errors += failed
    for w in workers:
        w.join(10)
        if w.is_alive():
            w.kill()
    return connected, results, errors, made, totals
