"""The dispatcher: the one service that owns the queue (MQTT in, MQTT out).

service.py   the Dispatcher: inbox, batches, decide, commit
publish.py   what goes out after a batch: retained messages only when changed, calls, replies
history.py   the queue from the store at start; tickets a site-file edit stranded, withdrawn
clock.py     each batch's time and the business day to open: time only moves forward in the store
queues.py    the retained queue lists (who waits, who can be called back) and the tickets' links
bookings.py  BookingRequests (slots, book, cancel, lookup): phone and NIK hashed, names dropped
"""

from antrian.dispatcher.service import Dispatcher

__all__ = ["Dispatcher"]
