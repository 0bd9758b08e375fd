"""The button panel: the program on a counter Pi that turns presses into counter commands.

``antrian panel --config FILE --device panel1`` runs a :class:`Panel`. It reads the
panel's pin map from the site file (hardware.pinmap), opens its gpiozero buttons, LEDs
and buzzers (hardware.buttons, over hardware.gpio), reads USB keypads
(hardware.keypad), and speaks the wire contract of DESIGN.md:

- a press publishes ``{"id", "action"}`` on ``antrian/{site}/counter/{counter}/command``
  (QoS 1). A button with a hold action sends its press action on release and its
  hold action once held for ``hold_time`` seconds; one without, on the press itself;
- replies on ``.../counter/{counter}/reply`` are matched by id: a refusal plays its
  LED pattern, an accepted press beeps the buzzer (hardware.feedback);
- the retained ``.../counter/{counter}/state`` sets the LED (steady while serving),
  so the LED is right again after a reconnect or a reboot;
- a counter's own display, if it has one, shows the number served and how many wait,
  flashes on a recall and names a refusal in a word (hardware.screen, drawn by the
  thread of hardware.luma_screen); a display that fails is ``display_error`` in the
  status, and the buttons keep working;
- the quick score (``score_buttons``, four faces facing the citizen): once a ``finish``
  or ``call_next`` press is accepted, the ticket the counter served before it may be
  scored 1-4 for ``score_seconds``; the first face pressed sends ``{"id", "ticket",
  "counter", "score", "answers": null}`` on ``antrian/{site}/survey/{device}`` and
  beeps; a face pressed with no service just finished is ignored. It is reported apart
  from the nine-element IKM (antrian/tools/ikm_report.py);
- while the broker, or the dispatcher by its retained status, is unreachable, the LEDs
  blink and presses wait; see hardware.outbox for what happens to them then;
- ``antrian/{site}/status/{device}`` says the panel is online (retained), with a will
  that says it is not, and its problems (``mock_pins``, ``keypad_missing``,
  ``display_error``): the core's
  device link (antrian.adapters.link.DeviceLink), which also follows the dispatcher's.

Threads: gpiozero calls the button callbacks on its own threads (on the mock, the one
that drives the pin; ``when_held`` on a background thread), paho calls the MQTT ones
on its network thread, keypads have a reader thread each, one lamp thread writes
the LEDs and buzzers and one screen thread the displays. All shared state is behind
one lock, ``Panel._lock``.

    panel = Panel(load("site.yaml"), "panel1")
    panel.start("127.0.0.1", 1883)     # GPIOError if a pin is busy
    ...
    panel.close()
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from typing import Any, Callable, TextIO

from antrian import protocol
from antrian.adapters.link import DeviceLink, DispatcherView
from antrian.adapters.mqtt import Connection
from antrian.site import Config
from hardware.pinmap import STDIN, panel_map

from . import gpio
from .buttons import Pins
from .feedback import Beeper, Lamp, pattern_for
from .keypad import BadEntry, KeyDecoder, read_input_device, read_stream
from .luma_screen import Opener, Screens, open_device
from .outbox import Outbox, Press
from .screen import ScreenState

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class Panel:
    """One panel device of the site file: its pins, its MQTT connection, its lamps.

    clock: monotonic seconds for debouncing and the age of waiting presses (tests pass
    their own); the lamps blink on the real clock.
    stdin: the stream a keypad with ``device: stdin`` reads (sys.stdin by default).
    open_display: makes a display's luma device (hardware.luma_screen.open_device; on
    mock pins, luma's dummy device).
    """

    def __init__(self, config: Config, device_id: str, *, clock: Clock = time.monotonic,
                 stdin: TextIO | None = None, open_display: Opener = open_device) -> None:
        self.config = config
        self.site = config.site.id
        self.device_id = device_id
        self.pins = panel_map(config, device_id)
        self.clock = clock
        self.stdin = stdin
        self.outbox = Outbox(device_id, max_age=self.pins.max_press_age, clock=clock)
        self.lamps = {counter: Lamp() for counter in self.pins.counters}
        self.beepers = {counter: Beeper() for counter in self.pins.counters}
        self.signals: list[tuple[str, str]] = []  # (counter, pattern) played, for logs and tests
        self.screen_states = {d.counter: ScreenState(config.counters[d.counter].name, config.queue.max_recalls)
                              for d in self.pins.displays}
        self.screens: Screens | None = None
        self._open_display = open_display
        # The site file's dispatcher and the default id, as the panel's ACL allows (hardware.wing).
        self.dispatchers = sorted(set(config.dispatcher_ids()) | {"dispatcher"})
        self.link: DeviceLink | None = None
        self.connection: Connection | None = None
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._mqtt_up = False
        self._dispatcher_down = False
        self.io = Pins(self.pins, lock=self._lock, send=self.send, clock=clock,
                       score=self.score)  # buttons, LEDs, buzzers
        self._serving: dict[str, str] = {}  # counter -> the number its CounterState serves
        self._finishing: dict[str, str] = {}  # id of a finish/call_next press -> the number it ends
        self._scoring: dict[str, tuple[str, float]] = {}  # counter -> (number to score, until)
        self.scores: list[dict[str, Any]] = []  # Surveys sent, for logs and tests
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- life cycle ------------------------------------------------------------------

    def start(self, host: str, port: int) -> Panel:
        """Set up the pins (GPIOError on a pin problem), then connect in the background."""
        topics = []
        for counter in self.pins.counters:
            topics += [protocol.counter_state(self.site, counter), protocol.counter_reply(self.site, counter)]
        # Its broker user, TLS and will; subscribed before anything is published, so no
        # reply can come before the subscription.
        self.link = DeviceLink(self.config, self.device_id, "panel", topics=topics, dispatchers=self.dispatchers,
                               on_dispatcher=self._on_dispatcher)
        self.connection = self.link.connection
        try:
            self.io.open()
        except gpio.GPIOError:
            self.io.close()
            raise
        if self.io.mock:
            self._set_problem("mock_pins", True)
        if self.pins.displays:
            self.screens = Screens(self.pins.displays, self.screen_states, self._changed, lambda: self.link_up,
                                   lambda failing: self._set_problem("display_error", failing), self._open_display,
                                   dummy=self.io.mock)
            self._thread(lambda: self.screens.run(self._stop), "panel-screens")
        self.link.client.on_message = self._on_message
        self.connection.on_connected(lambda client: self._link_changed(mqtt_up=True))
        self.connection.on_disconnected(lambda: self._link_changed(mqtt_up=False))
        self._thread(self._run_lamps, "panel-lamps")
        for keypad in self.pins.keypads:
            self._start_keypad(keypad)
        self.connection.connect(host, port)
        log.info("panel %s: %d buttons, %d LEDs, %d buzzers, %d keypads for %s; broker %s:%d", self.device_id,
                 len(self.io.buttons), len(self.io.leds), len(self.io.buzzers), len(self.pins.keypads),
                 ", ".join(self.pins.counters), host, port)
        return self

    def close(self) -> None:
        """Say offline, disconnect, stop the threads and free the pins."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        if self.link is not None:
            self.link.close()
        for thread in self._threads:
            if thread.name != "panel-keypad-stdin":  # blocked in readline; a daemon
                thread.join(timeout=2)
        if self.screens is not None:
            self.screens.close()
        self.io.close()

    def _thread(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    # -- keypads ----------------------------------------------------------------------

    def _start_keypad(self, keypad: Any) -> None:
        decoder = KeyDecoder(keypad, clock=self.clock)

        def on_key(name: str) -> None:
            with self._lock:
                try:
                    command = decoder.key(name)
                except BadEntry as exc:
                    log.info("keypad of %s: %s", keypad.counter, exc)
                    self._signal(keypad.counter, "error", "typing")
                    return
                if command is not None:
                    self.send(keypad.counter, *command)

        if keypad.device == STDIN:
            stream = self.stdin or sys.stdin
            self._thread(lambda: read_stream(stream, on_key, self._stop), "panel-keypad-stdin")
        else:
            def on_missing(missing: bool) -> None:
                self._set_problem("keypad_missing", missing)

            self._thread(lambda: read_input_device(keypad.device, on_key, self._stop, on_missing),
                         f"panel-keypad-{keypad.counter}")

    # -- presses out ----------------------------------------------------------------------

    @property
    def link_up(self) -> bool:
        """The broker is connected and no dispatcher says it is offline."""
        with self._lock:
            return self._mqtt_up and not self._dispatcher_down

    @property
    def problems(self) -> list[str]:
        return self.link.problems if self.link is not None else []

    def send(self, counter: str, action: str, args: dict[str, Any] | None = None) -> Press:
        """Make a press: published now if the link is up, else it waits (hardware.outbox)."""
        with self._lock:
            press, pushed = self.outbox.add(counter, action, args)
            if action in ("finish", "call_next") and self._serving.get(counter):
                self._finishing[press.id] = self._serving[counter]
            for old in pushed:
                log.warning("press %s (%s %s) dropped: too many presses waiting", old.id, old.counter, old.action)
                self._signal(old.counter, "press_dropped")
            if self.link_up:
                self._publish_press(press)
            else:
                log.info("press %s (%s %s) waits: broker or dispatcher unreachable", press.id, counter, action)
            self._changed.notify_all()
            return press

    def _publish_press(self, press: Press) -> None:
        assert self.connection is not None
        self.connection.publish_json(protocol.counter_command(self.site, press.counter), press.payload())

    def _flush(self) -> None:
        resend, dropped = self.outbox.flush()
        for press in dropped:
            log.warning("press %s (%s %s) dropped: it waited %.0f s, longer than max_press_age %g s", press.id,
                        press.counter, press.action, self.clock() - press.at, self.pins.max_press_age)
            self._signal(press.counter, "press_dropped")
        for press in resend:
            self._publish_press(press)
        if resend:
            log.info("sent %d waiting press(es) with their original ids", len(resend))

    # -- MQTT in (paho's network thread) --------------------------------------------------

    def _on_dispatcher(self, view: DispatcherView) -> None:
        self._link_changed(dispatcher_down=view.online is False)

    def _link_changed(self, *, mqtt_up: bool | None = None, dispatcher_down: bool | None = None) -> None:
        with self._lock:
            was = self.link_up
            if mqtt_up is not None:
                self._mqtt_up = mqtt_up
            if dispatcher_down is not None:
                self._dispatcher_down = dispatcher_down
            if self.link_up and not was:
                self._flush()
            elif was and not self.link_up and not self._stop.is_set():
                log.warning("panel %s: broker or dispatcher unreachable; presses wait up to %g s",
                            self.device_id, self.pins.max_press_age)
            self._changed.notify_all()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        topic = protocol.parse_topic(self.site, msg.topic)
        try:
            obj = protocol.decode(msg.payload, protocol.MAX_STATE_PAYLOAD)
        except protocol.ProtocolError as exc:
            if msg.payload:  # an empty retained message clears a topic; not an error
                log.warning("panel %s: ignored a message on %s: %s", self.device_id, msg.topic, exc.message)
            return
        if topic is None:
            return
        if topic.kind == "counter_reply":
            self._on_reply(topic.entity, obj)
        elif topic.kind == "counter_state":
            with self._lock:
                self.lamps[topic.entity].serving = obj.get("serving") is not None
                serving = obj.get("serving") if isinstance(obj.get("serving"), dict) else {}
                self._serving[topic.entity] = serving.get("number") if isinstance(serving.get("number"), str) else ""
                if topic.entity in self.screen_states:
                    self.screen_states[topic.entity].on_state(obj, time.monotonic())
                self._changed.notify_all()

    def _on_reply(self, counter: str, obj: dict[str, Any]) -> None:
        with self._lock:
            press = self.outbox.answered(obj.get("id"))
            if press is None:
                return  # an answer to another client of this counter (an officer app)
            finished = self._finishing.pop(press.id, None)
            if obj.get("ok") and finished and self.pins.score_buttons:
                self._scoring[counter] = (finished, self.clock() + self.pins.score_seconds)
                if counter in self.screen_states:  # "Nilai layanan kami: 1-4" on the officer's display
                    self.screen_states[counter].scoring(time.monotonic() + self.pins.score_seconds)
            if obj.get("ok"):
                ticket = (obj.get("ticket") or {}).get("number")
                log.info("%s %s: ok%s", counter, press.action, f" ({ticket})" if ticket else "")
                if counter in self.beepers:
                    self.beepers[counter].beep(time.monotonic())
                if counter in self.screen_states:
                    self.screen_states[counter].accepted()
            else:
                error = obj.get("error") or {}
                log.info("%s %s refused: %s (%s)", counter, press.action, error.get("code"), error.get("message"))
                self._signal(counter, pattern_for(str(error.get("code"))), str(error.get("code")))
            self._changed.notify_all()

    # -- the quick score ----------------------------------------------------------------

    def score(self, counter: str, score: int) -> dict[str, Any] | None:
        """A face of the counter's quick score pressed: the Survey sent, or None when no
        service was just finished there (or the broker is unreachable)."""
        with self._lock:
            number, until = self._scoring.get(counter, ("", 0.0))
            if not number or self.clock() > until:
                log.info("%s: score %d ignored: no service just finished", counter, score)
                return None
            if not self._mqtt_up or self.connection is None:
                log.warning("%s: score %d of %s not sent: broker unreachable", counter, score, number)
                return None
            del self._scoring[counter]
            if counter in self.screen_states:
                self.screen_states[counter].scoring(None)
            survey = {"id": f"{self.device_id}-{uuid.uuid4().hex[:16]}", "ticket": number, "counter": counter,
                      "score": score, "answers": None}
            self.connection.publish_json(protocol.survey(self.site, self.device_id), survey)
            self.scores.append(survey)
            log.info("%s: score %d for %s sent", counter, score, number)
            if counter in self.beepers:
                self.beepers[counter].beep(time.monotonic())
            self._changed.notify_all()
            return survey

    # -- status and lamps ----------------------------------------------------------------

    def _set_problem(self, problem: str, present: bool) -> None:
        if self.link is not None:
            self.link.set_problem(problem, present)

    def _signal(self, counter: str, pattern: str, reason: str | None = None) -> None:
        """Play an LED pattern; the counter's display names the reason (default: the pattern)."""
        with self._lock:
            self.signals.append((counter, pattern))
            now = time.monotonic()
            self.lamps[counter].play(pattern, now)
            if counter in self.screen_states:
                self.screen_states[counter].refused(reason or pattern, now)
            self._changed.notify_all()

    def _run_lamps(self) -> None:
        """Write every LED and buzzer when its level changes; sleep until the next change."""
        with self._changed:
            while not self._stop.is_set():
                now = time.monotonic()
                down = not self.link_up
                wake = 1.0  # at least once a second: old unanswered presses are forgotten
                for counter, lamp in self.lamps.items():
                    lamp.set_link_down(down, now)
                    wake = self._write(self.io.leds.get(counter), lamp.level(now), wake)
                    wake = self._write(self.io.buzzers.get(counter), self.beepers[counter].level(now), wake)
                for press in self.outbox.forget_old():
                    log.warning("press %s (%s %s) never answered; forgotten", press.id, press.counter, press.action)
                self._changed.notify_all()
                self._changed.wait(wake)

    @staticmethod
    def _write(device: Any, level: tuple[bool, float | None], wake: float) -> float:
        lit, next_change = level
        if device is not None and not device.closed and bool(device.value) != lit:
            device.value = lit
        return wake if next_change is None else min(wake, max(next_change, 0.005))

    # -- for tests and the bench ------------------------------------------------------------

    def lit(self, counter: str) -> bool:
        """Whether the counter's LED is on right now."""
        with self._lock:
            return bool(self.io.leds[counter].value)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until predicate() holds; it is checked after every change and lamp update."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

