"""Tools around the queue that a technician or the MPP head runs: the broker files,
the IKM survey index, the daily report and the day simulator.
"""
