"""Adapters at the edge of the core, one per outside thing: the SQLite store
(store.py), the MQTT connection every device uses (mqtt.py), a device's link on top of
it -- its status, its problems, the dispatcher's status (link.py) -- and the project's
Mosquitto (mosquitto.py).
"""
