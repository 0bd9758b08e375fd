"""The dispatcher: the one service that owns the queue. MQTT in, MQTT out.

Messages arrive on paho's network thread and go into an inbox; a single worker thread
applies them one at a time (so two counters pressing NEXT in the same millisecond get
two different tickets). The worker takes whatever has piled up as one batch, decides
each message against the engine, commits all their events and replies to SQLite in
one transaction, and only then publishes the replies, the calls, the counter states
that changed and the board. One fsync per batch instead of per ticket is what lets
a Raspberry Pi keep up with a morning rush.

Exactly once: every reply is remembered under (sender, id) for 36 hours (the store's
REPLY_WINDOW), not for the business day; a repeated id -- a QoS 1 redelivery, a double
press, a retry after a power cut or across midnight -- gets the first reply again and
changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from typing import Any, Callable

from antrian import protocol
from antrian.site import Config
from antrian.queue.engine import Engine, Outcome, QueueError
from antrian.queue.events import CALLS, DayStarted, Event
from antrian.adapters.link import DeviceStatus
from antrian.adapters.mqtt import Connection, device_client
from antrian.adapters.store import Reply, Store, StoreError
from antrian.dispatcher import history, queues
from antrian.dispatcher.bookings import READS, BookingDesk
from antrian.dispatcher.clock import DayClock, Steady, remembered, system_steady
from antrian.dispatcher.guard import Guard
from antrian.dispatcher.publish import TICK_SECONDS, Publisher, last_of_quota
from antrian.dispatcher.surveys import SurveyDesk

log = logging.getLogger("antrian.dispatcher")  # one name for the whole package

MAX_BATCH = 500
INTERNAL_MESSAGE = "Sistem antrean sedang gangguan, silakan coba lagi"

Clock = Callable[[], dt.datetime]


class _Batch:
    """What one batch produces: events and records to commit, messages to publish after."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.replies: list[Reply] = []
        self.surveys: list[dict[str, Any]] = []
        # (topic, payload, stored): `stored` marks what only holds if the commit does
        self.outgoing: list[tuple[str, bytes, bool]] = []
        self.pending: dict[tuple[str, str], Reply] = {}


class Dispatcher:
    def __init__(self, config: Config, store: Store, *, clock: Clock | None = None,
                 steady: Callable[[], Steady] | None = None, device_id: str = "dispatcher"):
        """`clock`: the wall clock (default: now in the site's zone); `steady`: a clock that
        does not step, to tell a step of the wall clock from the passage of time (default:
        the machine's, when `clock` is not given too; with `clock` alone the wall clock is
        trusted as it moves). See clock.py."""
        self.config = config
        self.site = config.site.id
        self.store = store
        if clock is None:
            steady = steady or system_steady()
        self.clock = clock or (lambda: dt.datetime.now(config.tz))
        self.device_id = device_id
        self.inbox: queue.Queue = queue.Queue()
        self.device_status = DeviceStatus(config, device_id, "dispatcher", clock=self.clock)  # problems, payload
        self.connection: Connection | None = None
        self.publisher = Publisher(config, device_id, lambda: self.connection.client if self.connection else None)
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        # Retained, flooding or stale messages (guard.py); clearing a retained one takes an
        # empty retained publish, which _publish_raw would skip.
        self.guard = Guard(config, clear=lambda topic: self.connection.client.publish(
            topic, b"", qos=protocol.QOS, retain=True))
        self.queues = queues.QueueLists(config, store)  # the queue lists and the tickets' links
        self.bookings = BookingDesk(config)  # BookingRequests (bookings.py)
        self.surveys = SurveyDesk(store)  # surveys tied to their tickets (surveys.py)
        self.engine = self._rebuild()
        # The business day and the stamps never go back (clock.py); its memory is the store's.
        self.days = DayClock(self.clock, steady, remembered(store.meta, self._latest_at()))
        self._withdraw_stranded()

    # -- state ----------------------------------------------------------------

    def _rebuild(self) -> Engine:
        """The engine as the store has it (history.py): DatabaseUnusable if it cannot be."""
        return self.queues.bind(history.rebuild(self.config, self.store))

    def _withdraw_stranded(self) -> None:
        stamp, stranded = self.days.stamp(), bool(self.engine.stranded())
        history.withdraw_stranded(self.engine, self.store, stamp)
        if stranded:
            self.days.stamped(stamp)

    def _latest_at(self) -> dt.datetime | None:
        """The time of the latest stored event: the clock's floor where the meta table has none."""
        return max((event.at for event in self.store.events()), default=None)

    def _busy(self) -> bool:
        """Whether citizens of the current business day are waiting or being served."""
        if self.engine.day is None:
            return False
        return any(self.engine.waiting_count(s) for s in self.config.services) or \
            any(self.engine.serving(c) for c in self.config.counters)

    # -- lifecycle ------------------------------------------------------------

    def start(self, host: str, port: int) -> None:
        # A persistent session with manual acks: the broker keeps requests that arrive
        # while the dispatcher is down, and redelivers any it received but had not
        # yet committed when it died; the (sender, id) memory makes that harmless.
        # Its own broker user and TLS as the site file says (antrian.adapters.mqtt.device_client).
        client = device_client(self.config, self.device_id, "dispatcher", clean_session=False)
        client.manual_ack_set(True)
        self.connection = Connection(client)
        client.on_message = self._on_message

        @self.connection.on_connected
        def _subscribe(c):
            c.subscribe([(t, protocol.QOS) for t in protocol.dispatcher_subscriptions(self.site)])
            # The worker owns the engine; ask it to republish every retained message,
            # which restores them on a broker that lost its persistence.
            self.inbox.put(("__republish__", b"", 0, 0))

        self._worker = threading.Thread(target=self._run, name="dispatcher", daemon=True)
        self._worker.start()
        self.connection.connect(host, port)

    def stop(self) -> None:
        self._stop.set()
        self.inbox.put(("__stop__", b"", 0, 0))
        if self._worker is not None:
            self._worker.join(timeout=10)
        if self.connection is not None:
            # A clean disconnect does not fire the will: say "offline" ourselves.
            self.device_status.say_offline(self.connection)
            self.connection.close()

    def _on_message(self, client, userdata, msg) -> None:
        payload = self.guard.intake(msg.topic, msg.payload, msg.retain)
        if payload is None:  # retained, empty, or a flood's excess: refused here, nothing to store
            if msg.qos > 0:
                client.ack(msg.mid, msg.qos)
            return
        self.inbox.put((msg.topic, payload, msg.mid, msg.qos))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self.inbox.get(timeout=TICK_SECONDS)
            except queue.Empty:
                first = None
            batch = [first] if first else []
            while first and len(batch) < MAX_BATCH:
                try:
                    batch.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            try:
                self.process([(topic, payload) for topic, payload, _, _ in batch])
            except Exception:
                # A bug must not take the queue down: log it and keep serving. The batch
                # may have been applied to the engine but not stored: go back to what the
                # store holds, or the next tickets would skip or reuse numbers.
                log.exception("dispatcher: failed to process a batch of %d messages", len(batch))
                try:
                    self.engine = self._rebuild()
                except Exception:
                    log.exception("dispatcher: cannot rebuild the queue from the store")
            # Acknowledge only now that the batch is committed and answered.
            for _, _, mid, qos in batch:
                if qos > 0 and self.connection is not None:
                    self.connection.client.ack(mid, qos)

    # -- processing (worker thread only) -------------------------------------------

    def process(self, messages: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        """Handle a batch of (topic, payload); returns what was published, in order."""
        # One time for the whole batch, never before the last stored one, and the business
        # day to open decided before the batch, never by a decision inside it (clock.py).
        reading = self.days.read(self.engine.day, self._busy())
        now = reading.stamp
        batch = _Batch()
        republish = False
        if (day := reading.open_day) is not None:
            opened = DayStarted(at=now, day=day)
            self.engine.apply(opened)
            batch.events.append(opened)
            republish = True
        # Bookings whose check-in window ended expire now, also those that ended while the
        # dispatcher was down (booking no-shows).
        expired = self.engine.expire_due(now)
        if expired.events:
            self.engine.apply_all(expired.events)
            batch.events.extend(expired.events)
            log.info("dispatcher: %d booking(s) not checked in expired", len(expired.events))
        for topic, payload in messages:
            if topic == "__stop__":
                continue
            if topic == "__republish__":
                republish = True
                continue
            self._handle(batch, topic, payload, now, reading.wall)
        stamped = bool(batch.events or batch.replies or batch.surveys)
        if stamped or reading.must_store:
            try:
                self.store.commit(batch.events, batch.replies, batch.surveys, day=self.engine.day,
                                  meta=self.days.meta(reading, stamped))
                self.days.keep(reading, stamped, stored=True)
                self._clear_problem("database_error")
            except StoreError as exc:
                log.error("dispatcher: %s; %d replies answered 'internal', nothing of them stored",
                          exc, len(batch.replies))
                self._set_problem("database_error")
                self.engine = self._rebuild()
                batch.outgoing = [self._internal(t, p) if stored else (t, p, False)
                                  for t, p, stored in batch.outgoing]
                batch.events = []
        else:
            self.days.keep(reading, False, stored=False)
        self._set_problem("clock_behind", reading.behind)
        self.guard.report(self._set_problem, self._clear_problem)
        # Calls go out first (the hall waits for them), replies last: a device that has its
        # reply and then reads a retained state must find the state the reply speaks of.
        call_topic = protocol.call(self.site)
        calls = [(t, p) for t, p, _ in batch.outgoing if p and t == call_topic]
        replies = [(t, p) for t, p, _ in batch.outgoing if p and t != call_topic]
        for topic, payload in calls:
            self._publish_raw(topic, payload)
        states = self._publish_state(now, force=republish, changed=self.queues.stored(batch.events),
                                     quota_hit=any(last_of_quota(self.config, self.engine, e) for e in batch.events))
        for topic, payload in replies:
            self._publish_raw(topic, payload)
        return calls + states + replies

    def _handle(self, batch: _Batch, topic: str, payload: bytes, now: dt.datetime,
                wall: dt.datetime | None = None) -> None:
        """`now`: the batch's stamp; `wall`: the wall clock, which a request's own time is
        judged against (the kiosk's clock follows the server's wall clock, not its stamps)."""
        parsed = protocol.parse_topic(self.site, topic)
        if parsed is None or parsed.kind not in ("kiosk_request", "counter_command", "survey", "booking_request"):
            log.warning("dispatcher: ignored a message on unexpected topic %r", topic[:200])
            return
        if parsed.kind == "kiosk_request":
            sender, reply_topic = f"kiosk/{parsed.entity}", protocol.kiosk_reply(self.site, parsed.entity)
        elif parsed.kind == "counter_command":
            sender, reply_topic = f"counter/{parsed.entity}", protocol.counter_reply(self.site, parsed.entity)
        elif parsed.kind == "booking_request":
            sender, reply_topic = f"booking/{parsed.entity}", protocol.booking_reply(self.site, parsed.entity)
        else:
            sender, reply_topic = f"survey/{parsed.entity}", None

        obj: dict[str, Any] | None = None
        try:
            obj = protocol.decode(payload)
            if parsed.kind == "kiosk_request":
                msg = protocol.parse_request(obj)
            elif parsed.kind == "counter_command":
                msg = protocol.parse_command(obj)
            elif parsed.kind == "booking_request":
                msg = protocol.parse_booking(obj)
            else:
                msg = protocol.parse_survey(obj)
        except protocol.ProtocolError as exc:
            mid = exc.msg_id or (protocol.message_id(obj) if obj else None)
            log.warning("dispatcher: bad_request on %s (id %r): %s", topic[:200], mid, exc.message)
            if reply_topic:
                batch.outgoing.append((reply_topic, protocol.encode(
                    protocol.reply_error(mid, "bad_request", exc.message)), False))
            return

        day = self.engine.day.isoformat()
        key = (sender, msg.id)
        seen = batch.pending.get(key) or self.store.reply(sender, msg.id, now)
        if seen is not None:
            log.info("dispatcher: repeated id %r from %s answered with its first reply", msg.id, sender)
            if seen.topic:
                batch.outgoing.append((seen.topic, seen.payload.encode("utf-8"), False))
            return
        refusal = self.guard.refusal(sender, payload, msg, wall or now)
        if refusal is not None:  # past the sender's limit, or a request the citizen gave up on
            if reply_topic:
                encoded = protocol.encode(protocol.reply_error(msg.id, refusal.code, refusal.message))
                if refusal.remember:
                    self._remember(batch, key, reply_topic, encoded, now)
                batch.outgoing.append((reply_topic, encoded, refusal.remember))
            return

        if parsed.kind == "survey":
            batch.surveys.append(self.surveys.row(self.engine, day, now.isoformat(), parsed.entity, msg))
            self._remember(batch, key, "", b"", now)
            return

        if parsed.kind == "kiosk_request" and msg.survey_ticket is not None:  # a read: never remembered
            try:
                body = protocol.reply_ok(msg.id, self.surveys.lookup(self.engine, msg.survey_ticket))
            except QueueError as exc:
                body = protocol.reply_error(msg.id, exc.code, exc.message)
            batch.outgoing.append((reply_topic, protocol.encode(body), False))
            return

        if parsed.kind == "booking_request":  # decided and applied in bookings.py
            outcome, body = self.bookings.decide(self.engine, msg, now)
            batch.events.extend(outcome.events)
            encoded = protocol.encode(body)
            if msg.action not in READS:
                self._remember(batch, key, reply_topic, encoded, now)
            batch.outgoing.append((reply_topic, encoded, msg.action not in READS))
            return

        try:
            if parsed.kind == "kiosk_request" and msg.booking is not None:  # a booking's check-in
                outcome = self.engine.check_in(msg.booking, msg.priority, now)
            elif parsed.kind == "kiosk_request":
                outcome = self.engine.issue(msg.service, msg.priority, now)
            else:
                outcome = self.engine.command(parsed.entity, msg.action, msg.args, now)
        except QueueError as exc:
            outcome = Outcome(error=exc)
        self.engine.apply_all(outcome.events)
        batch.events.extend(outcome.events)
        if outcome.error is not None:
            body = protocol.reply_error(msg.id, outcome.error.code, outcome.error.message, outcome.error.service)
        else:
            body = protocol.reply_ok(msg.id, self.engine.ticket(outcome.ticket) if outcome.ticket else None)
            if parsed.kind == "kiosk_request" and msg.booking is not None and not outcome.events:
                body["again"] = True  # checked in before: its ticket again (the kiosk says so)
        encoded = protocol.encode(body)
        self._remember(batch, key, reply_topic, encoded, now)
        batch.outgoing.append((reply_topic, encoded, True))
        for event in outcome.events:
            if isinstance(event, CALLS):
                call = self.engine.call_of(event.seq)
                batch.outgoing.append((protocol.call(self.site), protocol.encode(call), True))

    @staticmethod
    def _remember(batch: _Batch, key: tuple[str, str], topic: str, payload: bytes, now: dt.datetime) -> None:
        reply = Reply(*key, topic, payload.decode("utf-8"), now)
        batch.pending[key] = reply
        batch.replies.append(reply)

    def _internal(self, topic: str, payload: bytes) -> tuple[str, bytes, bool]:
        """Turn an unstored reply into `internal` (calls are dropped: they did not happen)."""
        if topic == protocol.call(self.site):
            return topic, b"", False
        obj = protocol.decode(payload)
        return topic, protocol.encode(protocol.reply_error(obj.get("id"), "internal", INTERNAL_MESSAGE)), False

    # -- publishing (publish.py) ------------------------------------------------

    def _publish_raw(self, topic: str, payload: bytes, retain: bool = False):
        return self.publisher.raw(topic, payload, retain)

    def _publish_state(self, now: dt.datetime, *, force: bool, changed: bool,
                       quota_hit: bool = False) -> list[tuple[str, bytes]]:
        return self.publisher.state(self.engine, self.queues, self._status, now,
                                    force=force, changed=changed, quota_hit=quota_hit)

    @property
    def problems(self) -> list[str]:
        return self.device_status.problems

    def _status(self, now: dt.datetime) -> dict[str, Any]:
        return self.device_status.payload(now)

    def _set_problem(self, problem: str, present: bool = True) -> None:
        """Report *problem* in the retained status (or with ``present=False`` clear it)."""
        if self.device_status.set(problem, present) and self.connection is not None:
            self.device_status.publish(self.connection.client, self.clock())

    def _clear_problem(self, problem: str) -> None:
        self._set_problem(problem, False)

