"""The dispatcher: the one service that owns the queue (MQTT in, MQTT out).

service.py   the Dispatcher: inbox, batches, decide, commit, publish
"""

from antrian.dispatcher.service import Dispatcher

__all__ = ["Dispatcher"]
