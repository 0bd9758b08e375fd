"""The site file: one YAML file -> validated, frozen objects.

    from antrian.site import load
    config = load("examples/buton.yaml")      # ConfigError listing every problem

model.py holds the frozen objects, load.py reads and checks the YAML. The names
below are the layer's public face; other layers import them from here.
"""

from antrian.errors import ConfigError
from antrian.site.load import build, load, parse
from antrian.site.model import (DEFAULT_PRIORITY_GROUPS, WEEKDAYS, Agency, Announcement, Broker, BrokerTLS, Central,
                                Config, Counter, Device, Holiday, PriorityGroup, QueueRules, Schedule, Service, Site)

__all__ = ["DEFAULT_PRIORITY_GROUPS", "WEEKDAYS", "Agency", "Announcement", "Broker", "BrokerTLS", "Central",
           "Config", "ConfigError", "Counter", "Device", "Holiday", "PriorityGroup", "QueueRules", "Schedule",
           "Service", "Site", "build", "load", "parse"]
