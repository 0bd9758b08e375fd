"""The MPP head's live dashboard: a read-only page behind a login, fed by the broker.

hub.py reads the site's live state from the broker, users.py holds the users file and
the sessions, server.py is the web server and its routes, and page.py draws the pages
(their CSS in style.py, their script in script.py).
"""
