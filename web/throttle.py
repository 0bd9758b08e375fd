"""The login throttle: attempts per user name and per client address, in a bounded table
that a flood cannot use to forget anyone.

Each key has a score: one per attempt, counted before the password is hashed (so a
burst of parallel guesses stops at the limit), falling by one every *decay* seconds.
A key whose score reaches *limit* is refused until it has fallen below again; a
successful login takes its own attempt back.

The table holds at most *size* keys. When a new key finds it full, keys whose score
has fallen to nothing go first; then the key with the lowest score, but never one that
is refused now. If every key is refused, the new key is refused too (fail closed).
So an attacker flooding the table from many addresses or with many names can push out
only keys with fewer attempts than the ones they filled it with, never a blocked name
or address: to clear a victim's count of *n* they must first give every other key in
the table a count above *n*, each such attempt itself limited by the address table.
"""

from __future__ import annotations

import ipaddress
import threading
import time

__all__ = ["Throttle", "client_key"]

TABLE_SIZE = 10_000


def client_key(host: str) -> str:
    """The throttle's key of a client address: an IPv6 client by its /64 (one household
    or machine holds a whole /64), an IPv4 one by its address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address.ipv4_mapped or address) if isinstance(address, ipaddress.IPv6Address) else str(address)


class Throttle:
    """Attempts per key of one kind (``name`` or ``address``)."""

    def __init__(self, kind: str, limit: int, decay: float, size: int = TABLE_SIZE, clock=time.monotonic) -> None:
        self.kind = kind
        self.limit = limit
        self.decay = decay
        self.size = size
        self.clock = clock
        self._lock = threading.Lock()
        self._table: dict[str, tuple[float, float]] = {}  # key -> (score, when)

    def _score(self, key: str, now: float) -> float:
        item = self._table.get(key)
        return 0.0 if item is None else max(0.0, item[0] - (now - item[1]) / self.decay)

    def wait(self, key: str) -> float:
        """Seconds until *key* may try again (0: now)."""
        with self._lock:
            over = self._score(key, self.clock()) - (self.limit - 1)
            return over * self.decay if over > 0 else 0.0

    def charge(self, key: str) -> bool:
        """Count one attempt of *key*; False when the table is full of refused keys."""
        now = self.clock()
        with self._lock:
            if key not in self._table and len(self._table) >= self.size and not self._make_room(now):
                return False
            self._table[key] = (self._score(key, now) + 1, now)
            return True

    def forgive(self, key: str, all: bool = False) -> None:
        """Take back one attempt of *key* (a successful login; a login never tried), or all."""
        now = self.clock()
        with self._lock:
            score = 0.0 if all else self._score(key, now) - 1
            if score <= 0:
                self._table.pop(key, None)
            elif key in self._table:
                self._table[key] = (score, now)

    def _make_room(self, now: float) -> bool:
        scores = {k: self._score(k, now) for k in self._table}
        for key, score in scores.items():
            if score <= 0:
                del self._table[key]
        if len(self._table) < self.size:
            return True
        lowest = min(self._table, key=scores.__getitem__)
        if scores[lowest] > self.limit - 1:  # everyone here is refused now: keep them all
            return False
        del self._table[lowest]
        return True

    def __len__(self) -> int:
        return len(self._table)
