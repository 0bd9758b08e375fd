"""The dispatcher: the one service that owns the queue (MQTT in, MQTT out).

service.py   the Dispatcher: inbox, batches, decide, commit, publish
history.py   the queue from the store at start; tickets a site-file edit stranded, withdrawn
"""

from antrian.dispatcher.service import Dispatcher

__all__ = ["Dispatcher"]
