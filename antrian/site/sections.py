"""The core's part of the site file, described with the field kit (antrian/site/schema.py).

`TOP` is the whole file: site, broker, queue, announcement, priority_groups, schedules,
holidays, agencies, counters, devices. The defaults are those of the model
(antrian/site/model.py), so they are written once. The checks that no single field can
make (a counter naming an unknown service, two services with one prefix, two broker
listeners on one port) are the rules of antrian/site/rules.py, named on their field or
section here.

A device's own options (printer, pins, voice) are not here: each role's wing
describes them (`Role.schema` in antrian/wings.py) and antrian/site/load.py checks
them once the rest of the file is valid.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from antrian.site import rules
from antrian.site.model import (WEEKDAYS, Announcement, BookingRules, Broker, BrokerTLS, Central, QueueRules,
                                SiteLimits)
from antrian.site.schema import Date, Field, Flag, ListOf, MapOf, Number, Ref, Section, Span, Text, TimeOfDay, Whole

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
ID_HINT = "lower-case letters, digits, '-' or '_'"
_CODE = re.compile(r"^[A-Z0-9]{1,8}$")
_PREFIX = re.compile(r"^[A-Z]{1,2}$")
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
# The waiting list of a 1920x1080 board shows this many characters whole (display/view.py).
BOARD_NAME_MAX = 20
_BOARD_NAME = re.compile(r"^\s*\S.{0,%d}$" % (BOARD_NAME_MAX - 1))
PORT = Whole(1, 65535)
SECRET_KEYS = ("key_password", "passwd", "password", "passwords", "secret")


def _identifier(hint: str = ID_HINT) -> Text:
    return Text(ID, hint)


# --- site ---------------------------------------------------------------------------


SITE = Section({
    "id": Field(_identifier(), "the site's id, part of every MQTT topic (antrian/<id>/...)", True, example="buton"),
    "name": Field(Text(), "the name shown on the board and the ticket", True,
                  example="Mal Pelayanan Publik Kabupaten Buton"),
    "address": Field(Text(), "the address printed on the ticket", default="", example="Takawa, Pasarwajo"),
    "timezone": Field(Text(), "the IANA time zone of the site: WIB Asia/Jakarta, WITA Asia/Makassar, "
                              "WIT Asia/Jayapura", True, example="Asia/Makassar", rule=rules.time_zone),
    "logo": Field(Text(), "an image file shown on the board and the kiosk", example="logo-buton.png"),
    "running_text": Field(Text(), "the line that scrolls along the bottom of the boards", default="",
                          example="Selamat datang di MPP Kabupaten Buton"),
}, "the site itself")


# --- broker -------------------------------------------------------------------------


NO_SECRETS = {key: "passwords do not belong in the site file: put the password in a file and name that file "
                   "(credentials_dir, password_file)" for key in SECRET_KEYS}


TLS = Section({
    "ca": Field(Text(), "the CA certificate devices verify the broker with (broker-config/make-ca.sh)", True,
                example="/etc/antrian/tls/ca.crt"),
    "port": Field(PORT, "the TLS listener devices connect to", default=BrokerTLS.port, example=8883),
    "cert": Field(Text(), "the broker's certificate, for the mosquitto.conf of broker-files (with key)",
                  example="/etc/antrian/tls/broker.crt"),
    "key": Field(Text(), "the broker's private key (with cert)", example="/etc/antrian/tls/broker.key"),
}, "TLS between the devices and the broker; relative files are read from the site file's folder",
    rule=rules.cert_with_key)

CENTRAL = Section({
    "host": Field(Text(), "the central broker this site bridges its events out to", True, example="mqtt.example.go.id"),
    "port": Field(PORT, "its port", default=Central.port, example=8883),
    "username": Field(Text(), "the user name the centre gave", example="mpp-buton"),
    "password_file": Field(Text(), "a file holding the centre's password (never the password itself)",
                           example="/etc/antrian/central.password"),
    "ca": Field(Text(), "the CA to verify the centre's TLS certificate with", example="/etc/antrian/central-ca.crt"),
}, "the bridge to a central broker", refused=NO_SECRETS, rule=rules.username_with_password)

BROKER = Section({
    "host": Field(Text(), "where the devices find the MQTT broker", default=Broker.host, example="192.168.10.2"),
    "port": Field(PORT, "its plain MQTT port", default=Broker.port, example=1883),
    "credentials_dir": Field(Text(), "the folder of antrian broker-files; each device reads "
                                     "<id>.password from it (none: no credentials, a laptop)",
                             example="/etc/antrian/broker"),
    "tls": Field(TLS, "TLS for the devices' connections"),
    "websocket_port": Field(PORT, "a WebSocket listener for the dashboard", example=9001),
    "central": Field(CENTRAL, "bridge the site's events to a central broker"),
}, "the MQTT broker every device connects to", refused=NO_SECRETS, rule=rules.ports_differ)


# --- queue, announcement, priority groups ---------------------------------------------

QUEUE = Section({
    "priority_streak": Field(Whole(1, 100), "priority tickets called in a row before a regular one",
                             default=QueueRules.priority_streak, example=2),
    "max_recalls": Field(Whole(0, 20), "how often a ticket may be called again", default=QueueRules.max_recalls,
                         example=3),
    "late_tolerance": Field(Whole(0, 1000), "how many tickets a late citizen may come back within",
                            default=QueueRules.late_tolerance, example=5),
    "recent_services": Field(Whole(1, 1000), "how many recent service times make the estimated wait",
                             default=QueueRules.recent_services, example=10),
    "close_by_estimate": Field(Flag(), "refuse a ticket that, by the estimated wait, would not be called before its "
                                       "service closes (the kiosk says the numbers of the day are closed)",
                               default=QueueRules.close_by_estimate, example=True),
}, "the rules of the queue")


ANNOUNCEMENT = Section({
    "template": Field(Text(), "the sentence of a call, with {huruf}, {angka} and {loket}",
                      default=Announcement.template, example=Announcement.template, rule=rules.template),
    "digits": Field(Flag(), "say the number digit by digit (nol satu dua) instead of in words",
                    default=Announcement.digits, example=False),
}, "what the board says for a call")


PRIORITY_GROUP = Section({
    "id": Field(_identifier(), "the group's id, sent with a priority ticket",
                True, example="lansia"),
    "name": Field(Text(), "the name the kiosk shows", True, example="Lansia (60 tahun ke atas)"),
}, "a group of citizens served first")


# --- schedules, holidays ---------------------------------------------------------------


SPANS = ListOf(Span())
WEEK = Section({day: Field(SPANS, f"the opening spans on {day}; none: closed", default=(),
                           example=["08:00-12:00", "13:00-15:00"], rule=rules.spans_in_order)
                for day in WEEKDAYS}, "opening spans per weekday; a break is the gap between two spans")


HOLIDAY = Section({
    "date": Field(Date(), "the day", True, example="2026-12-25"),
    "name": Field(Text(), "its name", True, example="Hari Raya Natal"),
}, "a day the whole MPP is closed")


# --- agencies and their services --------------------------------------------------------


class Fee(Text):
    """A fee as text, or a whole number of rupiah (0 is Gratis, 50000 is Rp50.000)."""

    @property
    def words(self) -> str:  # type: ignore[override]
        return "text or whole number of rupiah"

    def check(self, value, path, walk):
        if isinstance(value, int) and not isinstance(value, bool):
            value = "Gratis" if value == 0 else f"Rp{value:,}".replace(",", ".")
        return super().check(value, path, walk)


BOOKING = Section({
    "slot_minutes": Field(Whole(5, 240), "the length of one slot, in minutes; it divides each opening span",
                          True, example=30),
    "capacity": Field(Whole(1, 500), "citizens booked into one slot", True, example=4),
    "share": Field(Number(0.01, 1), "the share of the daily quota kept for bookings; the rest is always for "
                                    "walk-ins, and so are the places bookings can no longer use that day (a slot "
                                    "begun unbooked, an expired booking)", True, example=0.4),
    "days_ahead": Field(Whole(0, 60), "how many days ahead a day can be booked (0: the same day only)",
                        default=BookingRules.days_ahead, example=7),
    "opens_at": Field(TimeOfDay(), "the time of day booking opens, days_ahead days before the day",
                      default=BookingRules.opens_at, example="07:00"),
    "checkin_early_min": Field(Whole(0, 240), "how many minutes before its slot a booking may check in at the kiosk",
                               default=BookingRules.checkin_early_min, example=30),
    "checkin_late_min": Field(Whole(0, 240), "how many minutes after its slot's start it still may; later it "
                                             "expires (a booking no-show)",
                              default=BookingRules.checkin_late_min, example=15),
}, "online booking of a service (the public app's /reservasi), checked in at the kiosk")


SERVICE = Section({
    "code": Field(Text(_CODE, "1-8 capital letters or digits"), "the service's code, in requests and reports",
                  True, example="KTP"),
    "prefix": Field(Text(_PREFIX, "1 or 2 capital letters"), "the letter(s) before the ticket number", True,
                    example="A"),
    "name": Field(Text(), "the name the kiosk and the ticket show", True, example="Perekaman KTP-el"),
    "quota": Field(Whole(1, 9999), "tickets per day; none: no limit", example=200),
    "schedule": Field(Text(), "the name of its opening hours under schedules", True, example="reguler",
                      rule=rules.known_schedule),
    "requirements": Field(ListOf(Text()), "what the citizen brings (printed on the ticket)", True,
                          example=["Fotokopi Kartu Keluarga (KK)"]),
    "completion": Field(Text(), "how long until it is done", True, example="Selesai di tempat"),
    "fee": Field(Fee(), "what it costs", True, example=0),
    "target_wait_min": Field(Whole(1, 1440), "the published longest wait, in minutes", True, example=30),
    "service_min": Field(Number(0.5, 480), "expected minutes per citizen, for the estimated wait", default=10.0,
                         example=8),
    "booking": Field(BOOKING, "online booking; none: walk-ins only"),
    "board_name": Field(Text(_BOARD_NAME, f"at most {BOARD_NAME_MAX} characters, so the board shows it whole"),
                        "the short name on the TV board's waiting list; none: the name up to its first "
                        "bracket or comma", example="KTP Elektronik"),
    "last_ticket": Field(TimeOfDay(), "no new ticket from this time of day on (the kiosk says the numbers of the "
                                      "day are closed); none: until closing", example=dt.time(14, 30)),
}, "one service of an agency", rule=rules.service_fits)


AGENCY = Section({
    "id": Field(_identifier(), "the agency's id", True, example="disdukcapil"),
    "name": Field(Text(), "its full name", True, example="Dinas Kependudukan dan Pencatatan Sipil"),
    "short_name": Field(Text(), "the short name for the board; default: the name", example="Disdukcapil"),
    "color": Field(Text(_COLOUR, "a colour like '#1E88E5'"), "its colour on the kiosk and the board",
                   default="#00695C", example="#1E88E5"),
    "logo": Field(Text(), "an image file of its logo (PNG or JPEG) on its kiosk tile; relative to the site "
                          "file's folder", example="logo-disdukcapil.png", rule=rules.file_exists),
    "services": Field(ListOf(SERVICE), "its services", True),
}, "an agency with a desk in the MPP")


# --- limits (antrian/dispatcher/guard.py) -------------------------------------------------

LIMIT = Section({
    "per_minute": Field(Number(0.01, 1e6), "messages a minute it may send, on average", example=20),
    "burst": Field(Whole(1, 1_000_000), "messages it may send at once before the rate applies", example=10),
    "max_age_seconds": Field(Number(1, 86400), "a kiosk's request or a counter's command pressed longer ago "
                                               "than this (its 'at') is answered expired", example=120),
}, "what one sender may ask of the dispatcher; past it: rate_limited; a key left out keeps the role's value")


def _role_limits(limits: Any) -> str:
    return f"{limits.per_minute:g} a minute, a burst of {limits.burst}"


LIMITS = Section({
    "kiosk": Field(LIMIT, f"each kiosk's requests; default {_role_limits(SiteLimits.kiosk)}, "
                          f"{SiteLimits.kiosk.max_age_seconds:g} s", example={"per_minute": 20, "burst": 10}),
    "counter": Field(LIMIT, f"each counter's commands; default {_role_limits(SiteLimits.counter)}, "
                            f"{SiteLimits.counter.max_age_seconds:g} s", example={"per_minute": 30, "burst": 15}),
    "survey": Field(LIMIT, f"each device's surveys; default {_role_limits(SiteLimits.survey)}",
                    example={"per_minute": 20, "burst": 10}),
    "booking": Field(LIMIT, f"each public app's booking requests (a device's own limits count its surveys "
                            f"only); default {_role_limits(SiteLimits.booking)}",
                     example={"per_minute": 6000, "burst": 1000}),
}, "the dispatcher's plausibility limits by role; a device or a counter may have its own")


# --- counters ---------------------------------------------------------------------------


COUNTER = Section({
    "id": Field(_identifier(), "the counter's id, in its MQTT topics", True, example="loket1"),
    "name": Field(Text(), "the name the board shows and the call says", True, example="Loket 1"),
    "services": Field(ListOf(Ref("a service code"), 1, "a counter must serve at least one service"),
                      "the codes of the services it serves, first the one it prefers", True, example=["KTP", "KIA"]),
    "agency": Field(Ref("an agency id"), "the agency it belongs to; default: that of its first service",
                    example="disdukcapil"),
    "open_at_start": Field(Flag(), "open when the day starts (false: opened from its panel)", default=True,
                           example=True),
    "limits": Field(LIMIT, "this counter's own limits for its commands; default: limits.counter",
                    example={"burst": 20}),
    "remote": Field(Flag(), "served from the agency's own office by video call: its officer works from a staff app "
                            "across the central bridge (broker.central), and calls send the citizen to its location",
                    default=False, example=True),
    "location": Field(Text(), "remote counters: where in the building the citizen goes for the video call; the "
                              "board shows it and the call says it instead of the name",
                      example="Bilik Layanan Daring"),
    "meeting_url": Field(Text(), "remote counters: the video call's address (http or https), shown on the citizen's "
                                 "live ticket when this counter calls it", example="https://meet.example.go.id/dpmptsp"),
}, "a desk where an officer calls tickets", rule=rules.remote_counter)


# --- devices ----------------------------------------------------------------------------


DEVICE = Section({
    "id": Field(_identifier(), "the device's id: its broker user and --device", True, example="kiosk1"),
    "role": Field(Text(), "what the device is: dispatcher, kiosk, display, panel, ...",
                  True, example="kiosk", rule=rules.known_role),
    "name": Field(Text(), "a name for people; default: the id", example="Anjungan 1 (pintu masuk)"),
    "limits": Field(LIMIT, "this device's own limits for its requests and its surveys; default: limits.kiosk, "
                           "limits.survey", example={"per_minute": 30}),
}, "one machine of the MPP; every other key is an option of its role (below)", rest="options")


TOP = Section({
    "site": Field(SITE, "the site itself", True),
    "broker": Field(BROKER, "the MQTT broker; default: 127.0.0.1:1883 without credentials"),
    "queue": Field(QUEUE, "the rules of the queue"),
    "announcement": Field(ANNOUNCEMENT, "what the board says for a call"),
    "priority_groups": Field(ListOf(PRIORITY_GROUP), "the groups served first; default: lansia, disabilitas, "
                                                     "ibu_hamil, anak", rule=rules.unique_ids("priority group")),
    "schedules": Field(MapOf(Text(), WEEK, min_items=1, too_few="at least one schedule is needed"),
                       "opening hours by name, each with its spans per weekday", True, rule=rules.know_schedules),
    "holidays": Field(ListOf(HOLIDAY), "days the MPP is closed", default=(), rule=rules.holidays_once),
    "agencies": Field(ListOf(AGENCY, 1, "at least one agency is needed"), "the agencies and their services",
                      True, rule=rules.agencies_apart),
    "counters": Field(ListOf(COUNTER, 1, "at least one counter is needed"), "the counters", True,
                      rule=rules.counters_serve),
    "devices": Field(ListOf(DEVICE), "the machines: dispatcher, kiosks, boards, panels", default=(),
                     rule=rules.unique_ids("device")),
    "limits": Field(LIMITS, "how much a kiosk, a counter, a survey device or a public app's bookings may ask of "
                            "the dispatcher"),
}, "the site file")
