"""The dispatcher's intake guards: what a device cannot make the dispatcher do.

- **Retained**: a request, command or survey published with the retain flag would be
  handed to the dispatcher again at every (re)subscription: at every start, after every
  reconnect, on every new business day, each time a phantom ticket, call or survey.
  Mosquitto delivers the stored copy with the retain flag set (a live copy to a
  subscriber of that moment arrives with it cleared, MQTT 3.1.1 [MQTT-3.3.1-9], and is an
  ordinary message), and its ACL cannot forbid retain. So whatever arrives with the flag
  is refused, logged once per topic and cleared from the broker with an empty retained
  payload (the dispatcher's broker user may write every topic of its site). An empty
  payload, which is what the broker echoes back of that clearing, is dropped unanswered.
- **Limits**: each sender (``kiosk/<id>``, ``counter/<id>``, ``survey/<id>``,
  ``booking/<id>``) has a token bucket (`antrian.site.model.Limits`: the device's or the
  counter's own ``limits:`` in the site file, else its role's, ``limits:`` at the top, else
  the model's defaults; a public app's bookings have the role's only). A
  message past it is refused on paho's network thread, before it costs a JSON decode, a
  database look-up or a place in the worker's batch: it is acknowledged at once and,
  but for one a second per sender, dropped unanswered. That one goes to the worker as a
  `Limited` payload, which answers it from the exactly-once memory when its id was seen
  (a retry of an accepted request still gets its ticket), else with `rate_limited`;
  neither is stored, nothing is issued, no quota spent. A device without its answer asks
  again after its timeout, as for any lost reply. While a sender is over its limit, and
  a minute after, the dispatcher's status carries the problem ``rate_limited:<sender>``.
- **Expiry**: a kiosk request carries `at`, when the citizen pressed, and so does a remote
  console's counter command. One older than its sender's ``max_age_seconds`` (it waited in a
  queue while the broker, the bridge or the dispatcher was away, or its sender's clock is
  behind) is answered `expired` instead of becoming a ticket nobody takes or a call for an
  officer who has gone; the status carries ``expired:<sender>`` for a minute.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from typing import Any, Callable

from antrian import protocol
from antrian.site import Config
from antrian.site.model import Limits

log = logging.getLogger("antrian.dispatcher")

RATE_LIMITED_MESSAGE = "Terlalu banyak permintaan dari perangkat ini; silakan tunggu sebentar lalu coba lagi"
EXPIRED_MESSAGE = "Permintaan sudah kedaluwarsa (ditekan pukul {hour}); silakan ambil nomor antrean lagi"
EXPIRED_COMMAND = "Perintah sudah kedaluwarsa (ditekan pukul {hour}) dan tidak dijalankan; silakan tekan lagi"
# A sender over its limit gets at most one answer this often; the rest of a flood none.
ANSWER_EVERY_SECONDS = 1.0
# How long a sender's problem stays in the status after its last refusal.
PROBLEM_HOLD_SECONDS = 60.0
# Bounds on what the guard remembers, against a broker that lets anyone invent topics.
MAX_SENDERS = 4096
MAX_LOGGED_TOPICS = 1024

_SENDERS = {"kiosk_request": "kiosk", "counter_command": "counter", "survey": "survey",
            "booking_request": "booking"}
_KINDS = {sender: kind for kind, sender in _SENDERS.items()}


class Limited(bytes):
    """A payload past its sender's limit, let through to be answered (from the
    exactly-once memory, else `rate_limited`) but never acted on."""


@dataclasses.dataclass(frozen=True)
class Refusal:
    """Why the worker refuses a message: `code` and `message` go into the Reply;
    `remember`: kept in the exactly-once memory like any reply (`expired`: the same
    request is just as old next time), or not (`rate_limited`: the next try may pass)."""

    code: str
    message: str
    remember: bool


@dataclasses.dataclass
class _Bucket:
    limits: Limits
    tokens: float
    filled_at: float
    answered_at: float = -1e9


@dataclasses.dataclass
class _Episode:
    kind: str  # rate_limited or expired
    first: float
    last: float
    count: int = 1
    dropped: int = 0


class Guard:
    """The intake guards of one dispatcher. `intake` runs on paho's network thread,
    `refusal` and `report` on the worker's; `clear(topic)` publishes an empty retained
    payload on a topic."""

    def __init__(self, config: Config, clear: Callable[[str], Any], *,
                 monotonic: Callable[[], float] = time.monotonic):
        self.config = config
        self.site = config.site.id
        self.clear = clear
        self.monotonic = monotonic
        self._buckets: dict[str, _Bucket] = {}
        self._retained_logged: set[str] = set()
        self._episodes: dict[str, _Episode] = {}  # problem -> its episode, under _lock
        self._lock = threading.Lock()

    # -- paho's network thread ---------------------------------------------------------

    def intake(self, topic: str, payload: bytes, retain: bool) -> bytes | None:
        """The payload to queue for the worker (a `Limited` one past the sender's limit),
        or None: refused here, to be acknowledged and forgotten."""
        try:
            if retain:
                self._refuse_retained(topic, payload)
                return None
            if not payload:
                return None
            return self._limit(topic, payload)
        except Exception:
            # An exception here would kill paho's network thread: let the message through.
            log.exception("dispatcher: intake guard failed on %r; message let through", topic[:200])
            return payload

    def _refuse_retained(self, topic: str, payload: bytes) -> None:
        if not payload:
            return
        if topic not in self._retained_logged:
            if len(self._retained_logged) < MAX_LOGGED_TOPICS:
                self._retained_logged.add(topic)
            log.warning("dispatcher: refused a retained message on %s (a device published it with the retain "
                        "flag; it is never acted on) and cleared it from the broker: %r", topic[:200], payload[:120])
        self.clear(topic)

    def _limit(self, topic: str, payload: bytes) -> bytes | None:
        parsed = protocol.parse_topic(self.site, topic)
        if parsed is None or parsed.kind not in _SENDERS:
            return payload  # the worker logs what it does not know
        sender = f"{_SENDERS[parsed.kind]}/{parsed.entity}"
        now = self.monotonic()
        bucket = self._buckets.get(sender)
        if bucket is None:
            bucket = self._new_bucket(sender, parsed.kind, parsed.entity, now)
        limits = bucket.limits
        bucket.tokens = min(float(limits.burst), bucket.tokens + (now - bucket.filled_at) * limits.per_minute / 60.0)
        bucket.filled_at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return payload
        answer = now - bucket.answered_at >= ANSWER_EVERY_SECONDS
        if answer:
            bucket.answered_at = now
        if self._record("rate_limited", sender, now, dropped=not answer):
            log.warning("dispatcher: %s is over its limit (%g a minute, a burst of %d): refused with "
                        "rate_limited, nothing issued; at most one answer a second", sender, limits.per_minute,
                        limits.burst)
        return Limited(payload) if answer else None

    def _new_bucket(self, sender: str, kind: str, entity: str | None, now: float) -> _Bucket:
        if len(self._buckets) >= MAX_SENDERS:
            # Forget the senders whose buckets are full again: they start full anyway.
            for key in [k for k, b in self._buckets.items()
                        if b.tokens + (now - b.filled_at) * b.limits.per_minute / 60.0 >= b.limits.burst]:
                del self._buckets[key]
        limits = self.limits_of(kind, entity)
        bucket = _Bucket(limits, float(limits.burst), now)
        self._buckets[sender] = bucket
        return bucket

    def limits_of(self, kind: str, entity: str | None) -> Limits:
        """The limits of the sender of a message on a `kind` topic (parse_topic's kinds)."""
        roles = self.config.limits
        if kind == "counter_command":
            counter = self.config.counters.get(entity)
            return (counter and counter.limits) or roles.counter
        if kind == "booking_request":
            return roles.booking  # a web device's own limits are for its surveys
        device = self.config.devices.get(entity)
        return (device and device.limits) or (roles.kiosk if kind == "kiosk_request" else roles.survey)

    # -- the worker ----------------------------------------------------------------------

    def refusal(self, sender: str, payload: bytes, msg: Any, now: dt.datetime) -> Refusal | None:
        """Past the exactly-once memory (a repeated id has had its first reply): whether
        to refuse a parsed message instead of acting on it."""
        if isinstance(payload, Limited):
            return Refusal("rate_limited", RATE_LIMITED_MESSAGE, remember=False)
        at = getattr(msg, "at", None)
        if at is None:
            return None
        kind, _, entity = sender.partition("/")
        max_age = self.limits_of(_KINDS[kind], entity).max_age_seconds
        age = (now - at).total_seconds()
        if age <= max_age:
            return None
        log.warning("dispatcher: %s message %r was pressed at %s, %.0f s ago (more than %g s): answered expired; "
                    "if its sender's every message is, the sender's clock is behind", sender, msg.id,
                    at.isoformat(timespec="seconds"), age, max_age)
        self._record("expired", sender, self.monotonic())
        local = at.astimezone(self.config.tz)
        text = EXPIRED_COMMAND if kind == "counter" else EXPIRED_MESSAGE
        return Refusal("expired", text.format(hour=f"{local:%H.%M}"), remember=True)

    def report(self, set_problem: Callable[[str], Any], clear_problem: Callable[[str], Any]) -> None:
        """Bring the status up to date: a problem per sender refused in the last minute."""
        now = self.monotonic()
        with self._lock:
            current = dict(self._episodes)
            ended = {p: e for p, e in current.items() if now - e.last > PROBLEM_HOLD_SECONDS}
            for problem in ended:
                del self._episodes[problem]
        for problem, episode in current.items():
            if problem in ended:
                self._end(problem, episode)
                clear_problem(problem)
            else:
                set_problem(problem)

    def _record(self, kind: str, sender: str, now: float, dropped: bool = False) -> bool:
        """Count a refusal in its sender's episode; True when that episode starts now."""
        problem = f"{kind}:{sender}"
        with self._lock:
            episode = self._episodes.get(problem)
            started = episode is None
            if episode is None:
                episode = self._episodes[problem] = _Episode(kind, now, now, 0)
            episode.count += 1
            episode.dropped += dropped
            episode.last = now
        return started

    @staticmethod
    def _end(problem: str, episode: _Episode) -> None:
        sender = problem.partition(":")[2]
        if episode.kind == "rate_limited":
            log.warning("dispatcher: %s is back within its limit: %d messages refused over %.1f s, %d of them "
                        "unanswered", sender, episode.count, episode.last - episode.first, episode.dropped)
        else:
            log.info("dispatcher: %s sent %d expired requests over %.1f s", sender, episode.count,
                     episode.last - episode.first)
