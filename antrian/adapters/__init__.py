"""Adapters at the edge of the core, one per outside thing: the SQLite store
(store.py), the MQTT connection every device uses (mqtt.py) and the project's
Mosquitto (mosquitto.py).
"""
