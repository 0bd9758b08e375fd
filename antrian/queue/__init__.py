"""The queue: tickets, services and counters under the rules of the site, pure.

No I/O and no clock of its own: the caller passes the time and stores the events.
events.py says what can happen, rules.py where it may, state.py applies it and
engine.py decides it; bookings.py and booking.py do the same for online bookings, and
codes.py makes their codes; see docs/architecture.md.
"""
