"""The MPP head's live dashboard: a read-only page behind a login, fed by the broker
(server.py) and drawn by page.py.
"""
