"""The kiosk's side of the wire contract: catalog in; requests, surveys and status out.

    link = Link(config, "kiosk1", on_catalog=show)
    link.start(host, port)
    reply = link.ask(request_id, "KTP", None, timeout=2.5, attempts=3)   # None: no answer
    reply = link.ask(request_id, None, None, timeout=2.5, attempts=3, booking="RSV-7K3M-Q2XA-5")

`ask` is exactly-once by construction: it publishes the *same* id on every attempt
(and the caller reuses it when the citizen retries), the dispatcher answers a repeated
id with its first reply, and a reply that arrives late is kept, so a retry finds it
without asking again. Nothing is published while the broker is unreachable: paho
would queue it and send it after the reconnect, issuing a ticket nobody is waiting for.

The kiosk's retained DeviceStatus (``problems``: printer_offline, paper_out,
cover_open), its will and the dispatcher's status (``link.dispatcher``, for the
technician line) are the core's device link (antrian.adapters.link.DeviceLink).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import threading
from typing import Any, Callable

from antrian import protocol
from antrian.adapters.link import DeviceLink
from antrian.site import Config

__all__ = ["Link"]

log = logging.getLogger(__name__)

KEEP_REPLIES = 64  # late replies remembered for a retry


class Link(DeviceLink):
    """A kiosk's link: the catalog and its replies in, requests and surveys out."""

    def __init__(self, config: Config, device: str, *,
                 on_catalog: Callable[[dict[str, Any]], None] | None = None):
        self.device = device
        self.on_catalog = on_catalog
        self.catalog: dict[str, Any] | None = None
        self._replies: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self._cond = threading.Condition()
        self._reply_topic = protocol.kiosk_reply(config.site.id, device)
        self._catalog_topic = protocol.catalog(config.site.id)
        # Its broker user, TLS and will; the status after the subscriptions on every (re)connect.
        super().__init__(config, device, "kiosk", topics=[self._reply_topic, self._catalog_topic])
        self.client.message_callback_add(self._reply_topic, self._on_reply)
        self.client.message_callback_add(self._catalog_topic, self._on_catalog)

    # -- incoming ------------------------------------------------------------------

    def _on_catalog(self, client, userdata, msg) -> None:
        try:
            catalog = json.loads(msg.payload)
            if not isinstance(catalog, dict) or not isinstance(catalog.get("agencies"), list):
                raise ValueError("no agencies")
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            log.warning("kiosk %s: ignored a catalog that is not one (%s)", self.device, exc)
            return
        self.catalog = catalog
        if self.on_catalog is not None:
            self.on_catalog(catalog)

    def _on_reply(self, client, userdata, msg) -> None:
        try:
            reply = json.loads(msg.payload)
            mid = reply["id"]
        except (ValueError, TypeError, KeyError):
            log.warning("kiosk %s: ignored a reply that is not one: %r", self.device, msg.payload[:200])
            return
        if not isinstance(mid, str):
            log.warning("kiosk %s: reply without an id: %s", self.device, reply.get("error"))
            return
        with self._cond:
            self._replies[mid] = reply
            while len(self._replies) > KEEP_REPLIES:
                self._replies.popitem(last=False)
            self._cond.notify_all()

    # -- outgoing ------------------------------------------------------------------

    def ask(self, request_id: str, service: str | None, priority: str | None, *, timeout: float,
            attempts: int, booking: str | None = None) -> dict[str, Any] | None:
        """The dispatcher's reply to this request id, asking up to `attempts` times; None if
        none came (broker or dispatcher down): the caller may ask again with the same id.
        With `booking` (a code) and no service: the check-in of an online booking."""
        # `at`: when the citizen asked, so a request that reaches the dispatcher after they
        # have gone (it waited in a queue) is answered `expired`, not issued.
        request = protocol.request(request_id, service, priority, dt.datetime.now(self.config.tz), booking)
        for attempt in range(attempts):
            with self._cond:
                if request_id in self._replies:
                    return self._replies[request_id]
            if not self.connected:
                log.warning("kiosk %s: broker unreachable, request %s not sent", self.device, request_id)
                break
            if attempt:
                log.warning("kiosk %s: no reply to %s within %.1f s; asking again (attempt %d)",
                            self.device, request_id, timeout, attempt + 1)
            self.connection.publish_json(protocol.kiosk_request(self.site, self.device), request)
            with self._cond:
                if self._cond.wait_for(lambda: request_id in self._replies, timeout):
                    return self._replies[request_id]
        return None

    def ask_survey_ticket(self, request_id: str, number: str, *, timeout: float) -> dict[str, Any] | None:
        """The dispatcher's answer whether ticket `number` was served today (a survey's first
        step, ``survey_ticket``); None if none came within `timeout` or the broker is unreachable.
        A read: asking again is harmless, so it is asked once."""
        if not self.connected:
            return None
        self.connection.publish_json(protocol.kiosk_request(self.site, self.device),
                                     protocol.survey_lookup(request_id, number, dt.datetime.now(self.config.tz)))
        with self._cond:
            if self._cond.wait_for(lambda: request_id in self._replies, timeout):
                return self._replies[request_id]
        return None

    def send_survey(self, survey: dict[str, Any]) -> bool:
        """Publish a Survey; False (nothing queued) while the broker is unreachable."""
        if not self.connected:
            return False
        self.connection.publish_json(protocol.survey(self.site, self.device), survey)
        return True
