"""The site file's objects: frozen dataclasses, the whole site as one `Config`.

Everything here is read-only once built (antrian/site/load.py builds it); mappings
are `MappingProxyType`, sequences tuples, so no part can change the site under
another's feet. A device's own options stay a read-only mapping in `Device.options`:
its wing reads them (kiosk/options.py, display/options.py, hardware/pinmap.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import MappingProxyType
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from antrian import bahasa
from antrian.errors import ConfigError

WEEKDAYS = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")
DEFAULT_PRIORITY_GROUPS = (
    ("lansia", "Lansia"),
    ("disabilitas", "Penyandang disabilitas"),
    ("ibu_hamil", "Ibu hamil"),
    ("anak", "Anak"),
)


@dataclasses.dataclass(frozen=True)
class Site:
    id: str
    name: str
    address: str
    timezone: str
    logo: str | None = None
    running_text: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclasses.dataclass(frozen=True)
class BrokerTLS:
    """TLS between the devices and the broker: devices connect to `port` and verify the
    broker's certificate with `ca`; `cert` and `key` are the broker's own, for the
    mosquitto.conf that `antrian broker-files` writes (broker-config/make-ca.sh makes all three)."""

    ca: str
    port: int = 8883
    cert: str | None = None
    key: str | None = None


@dataclasses.dataclass(frozen=True)
class Central:
    """A central MQTT broker that this site bridges its ``antrian/{site}/#`` events out to."""

    host: str
    port: int = 1883
    username: str | None = None
    password_file: str | None = None  # the password the centre gave, in a file: never in the site file
    ca: str | None = None  # TLS to the centre, verified with this CA


@dataclasses.dataclass(frozen=True)
class Broker:
    host: str = "127.0.0.1"
    port: int = 1883
    # Where the broker files of `antrian broker-files` live: each device reads its password
    # from <credentials_dir>/<device id>.password. None: connect without credentials (a
    # laptop, tests); a deployed broker refuses that.
    credentials_dir: str | None = None
    tls: BrokerTLS | None = None
    websocket_port: int | None = None
    central: Central | None = None

    @property
    def client_port(self) -> int:
        """The port devices connect to: the TLS listener's when TLS is configured."""
        return self.tls.port if self.tls is not None else self.port


@dataclasses.dataclass(frozen=True)
class QueueRules:
    priority_streak: int = 2
    max_recalls: int = 3
    late_tolerance: int = 5
    # how many recent service times make the mean used for the estimated wait
    recent_services: int = 10
    # refuse a ticket that by the estimated wait would not be called before its service
    # closes (antrian/queue/views.py too_late)
    close_by_estimate: bool = False


@dataclasses.dataclass(frozen=True)
class Announcement:
    template: str = bahasa.DEFAULT_TEMPLATE
    digits: bool = False


@dataclasses.dataclass(frozen=True)
class PriorityGroup:
    id: str
    name: str


@dataclasses.dataclass(frozen=True)
class Schedule:
    """Opening spans per weekday (Monday first); a break is the gap between spans."""

    name: str
    days: tuple[tuple[tuple[dt.time, dt.time], ...], ...]

    def spans(self, day: dt.date) -> tuple[tuple[dt.time, dt.time], ...]:
        return self.days[day.weekday()]


@dataclasses.dataclass(frozen=True)
class Holiday:
    date: dt.date
    name: str


@dataclasses.dataclass(frozen=True)
class BookingRules:
    """A service's online booking (antrian/queue/booking.py): slots of `slot_minutes`
    within its opening spans, `capacity` citizens each; at most `share` of the daily quota
    is booked, the rest is always for walk-ins. A day can be booked from `opens_at`,
    `days_ahead` days before it; a booking checks in at the kiosk from `checkin_early_min`
    before its slot until `checkin_late_min` after its start."""

    slot_minutes: int
    capacity: int
    share: float
    days_ahead: int = 7
    opens_at: dt.time = dt.time(7, 0)
    checkin_early_min: int = 30
    checkin_late_min: int = 15

    def starts(self, spans: tuple[tuple[dt.time, dt.time], ...]) -> tuple[dt.time, ...]:
        """The slots' start times within a day's opening spans: each slot ends inside its span."""
        out = []
        step = dt.timedelta(minutes=self.slot_minutes)
        for start, end in spans:
            at = dt.datetime.combine(dt.date.min, start)
            close = dt.datetime.combine(dt.date.min, end)
            if end == dt.time.max:  # 24:00, the end of the day
                close = dt.datetime.combine(dt.date.min + dt.timedelta(days=1), dt.time())
            while at + step <= close:
                out.append(at.time())
                at += step
        return tuple(out)

    def places(self, quota: int, slots: int) -> int:
        """The bookings of a day with `slots` slots: the share of the quota, as far as the slots hold."""
        return min(int(self.share * quota + 1e-9), slots * self.capacity)


@dataclasses.dataclass(frozen=True)
class Service:
    code: str
    prefix: str
    name: str
    agency: str
    quota: int | None
    schedule: str
    requirements: tuple[str, ...]
    completion: str
    fee: str
    target_wait_min: int
    # expected minutes per citizen, used for the estimated wait until real data exists
    service_min: float
    booking: BookingRules | None = None  # None: walk-ins only
    # The name the TV board's waiting list shows, whole (at most BOARD_NAME_MAX characters); None: the name
    # up to its first bracket or comma.
    board_name: str | None = None
    # No new ticket from this time of day on (antrian/queue/rules.py availability); None: until closing.
    last_ticket: dt.time | None = None


@dataclasses.dataclass(frozen=True)
class Agency:
    id: str
    name: str
    short_name: str
    color: str
    logo: str | None
    services: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one sender may ask of the dispatcher (antrian/dispatcher/guard.py): a token
    bucket of `burst` messages, refilled at `per_minute`; past it the answer is
    `rate_limited` and nothing is spent. A kiosk's request or a counter's command whose
    `at` is more than `max_age_seconds` old is answered `expired` (the citizen has gone,
    the officer has long since pressed again or left)."""

    per_minute: float = 20.0
    burst: int = 10
    max_age_seconds: float = 120.0


# A kiosk (its requests, and its surveys in a bucket of their own): a thermal printer
# prints and cuts a ticket in 1-2 s and a citizen needs a few seconds to tap and tear it
# off, so a real kiosk issues at most one ticket every 3 s; a burst of 10 covers a family
# taking tickets one after another and the kiosk's retries.
DEVICE_LIMITS = Limits()
# A counter (its commands, whoever sends them): a call is about 4 s of speech, so nobody
# can hear more than 15 calls a minute; each may come with a finish, a recall or a
# no-show, hence 30 commands a minute, and a burst of 15 for a flurry of presses. A
# command pressed 30 s ago (its `at`, set by a remote console's app) waited in a queue
# while the link was down: the console told the officer long before that it had no answer.
COUNTER_LIMITS = Limits(per_minute=30.0, burst=15, max_age_seconds=30.0)
# A public app's booking requests (book, cancel, look-up, and a day's slots at most once a
# second): one app serves every citizen, and an opening rush reached 121 bookings a second
# on one app process (docs/benchmarks-web.md) while its own per-address and per-phone
# limits hold each citizen back. 100 a second and a burst of 1,000 let any real rush
# through and hold a flood from a stolen app password to what the store takes in its stride.
BOOKING_LIMITS = Limits(per_minute=6000.0, burst=1000)


@dataclasses.dataclass(frozen=True)
class SiteLimits:
    """The limits of every sender of a role (the site file's `limits:`), for the devices and
    counters that have none of their own."""

    kiosk: Limits = DEVICE_LIMITS  # a kiosk's requests
    counter: Limits = COUNTER_LIMITS  # a counter's commands
    survey: Limits = DEVICE_LIMITS  # a device's surveys
    booking: Limits = BOOKING_LIMITS  # a public app's booking requests


@dataclasses.dataclass(frozen=True)
class Counter:
    id: str
    name: str
    services: tuple[str, ...]
    agency: str | None
    open_at_start: bool = True
    limits: Limits | None = None  # None: COUNTER_LIMITS
    # A counter served from another office by video call (DESIGN.md, the browser parts):
    # the hall is sent to `location`, the citizen's live ticket shows `meeting_url`.
    remote: bool = False
    location: str | None = None
    meeting_url: str | None = None


@dataclasses.dataclass(frozen=True)
class Device:
    id: str
    role: str
    name: str
    options: Mapping[str, Any]
    limits: Limits | None = None  # None: DEVICE_LIMITS


@dataclasses.dataclass(frozen=True)
class Config:
    source: str
    site: Site
    broker: Broker
    queue: QueueRules
    announcement: Announcement
    priority_groups: tuple[PriorityGroup, ...]
    schedules: Mapping[str, Schedule]
    holidays: Mapping[dt.date, Holiday]
    agencies: tuple[Agency, ...]
    services: Mapping[str, Service]
    counters: Mapping[str, Counter]
    devices: Mapping[str, Device]
    limits: SiteLimits = SiteLimits()

    @property
    def tz(self) -> ZoneInfo:
        return self.site.tz

    def agency(self, agency_id: str) -> Agency:
        return next(a for a in self.agencies if a.id == agency_id)

    def always_open(self) -> Config:
        """This site open round the clock with no holidays, for demos and drills outside
        office hours (`--always-open`); quotas and every other rule still hold."""
        allday = tuple(((dt.time(0), dt.time.max),) for _ in WEEKDAYS)
        # A last ticket belongs to the real hours: round the clock it would close a service at night.
        services = {code: dataclasses.replace(s, last_ticket=None) for code, s in self.services.items()}
        return dataclasses.replace(
            self, schedules=MappingProxyType({n: Schedule(n, allday) for n in self.schedules}),
            holidays=MappingProxyType({}), services=MappingProxyType(services))

    def dispatcher_ids(self) -> list[str]:
        """The dispatcher's broker user(s): its device id in the site file, else ``dispatcher``."""
        return [d.id for d in self.devices.values() if d.role == "dispatcher"] or ["dispatcher"]

    def device(self, device_id: str, role: str | None = None) -> Device:
        """The device with that id (and role), or a ConfigError that names both."""
        dev = self.devices.get(device_id)
        if dev is None or (role and dev.role != role):
            known = ", ".join(d.id for d in self.devices.values() if not role or d.role == role)
            what = f"no {role} device" if role else "no device"
            raise ConfigError(self.source, [("devices", f"{what} '{device_id}' (known: {known or 'none'})")])
        return dev
