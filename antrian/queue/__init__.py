"""The queue: tickets, services and counters under the rules of the site, pure.

No I/O and no clock of its own: the caller passes the time and stores the events.
engine.py decides and applies; see docs/architecture.md.
"""
