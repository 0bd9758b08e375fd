"""The site file: one YAML file -> validated, frozen objects.

    from antrian.site import load
    config = load("examples/buton.yaml")      # ConfigError listing every problem

model.py holds the frozen objects; schema.py (with kinds.py) is the field kit that
sections.py and rules.py describe the file with, and each role's wing its options;
load.py reads the YAML, checks it with those schemas and builds the model;
reference.py writes docs/site-file.md from them. The names below are the layer's
public face; other layers import them from here.
"""

from antrian.errors import ConfigError
from antrian.site.load import build, load, parse
from antrian.site.model import (DEFAULT_PRIORITY_GROUPS, WEEKDAYS, Agency, Announcement, BookingRules, Broker,
                                BrokerTLS, Central, Config, Counter, Device, Holiday, PriorityGroup, QueueRules, Schedule, Service, Site)

__all__ = ["DEFAULT_PRIORITY_GROUPS", "WEEKDAYS", "Agency", "Announcement", "BookingRules", "Broker", "BrokerTLS", "Central",
           "Config", "ConfigError", "Counter", "Device", "Holiday", "PriorityGroup", "QueueRules", "Schedule",
           "Service", "Site", "build", "load", "parse"]
