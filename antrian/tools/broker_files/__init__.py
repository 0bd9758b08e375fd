"""The broker files of a site, made from its site file: ``antrian broker-files``.

    antrian broker-files --config /etc/antrian/site.yaml --out /etc/antrian/credentials

writes into OUT (by default the site file's ``broker.credentials_dir``):

- ``<user>.password``: one per broker user, a strong random password on one line,
  mode 0600. The users are the devices of the site file (their ids), the dispatcher
  (``dispatcher`` when the site file names none; the web apps are devices too) and
  ``monitor`` (a technician's read-only user for mosquitto_sub). A device reads
  its own file from its ``credentials_dir`` (antrian.adapters.mqtt.credentials_for), so OUT is
  that folder on the broker's machine, and each device Pi gets a copy of its own file.
  Existing passwords are kept when the command runs again; ``--rotate`` makes new ones.
- ``site.secret``: the site secret of the web addresses (antrian/links.py: the link to a
  ticket's live page), random, mode 0600, kept when the command runs again (``--rotate``
  too: a new one would turn the day's printed links into 404s).
- ``passwd``: the Mosquitto 2 password file: PBKDF2-SHA512 hashes in the ``$7$``
  format that ``mosquitto_passwd`` writes (mode 0640).
- ``acl``: each user's topics, least privilege, as DESIGN.md's Security section says
  (see :func:`acl_text`).
- ``mosquitto.conf``: no anonymous clients, the password file and ACL, persistence,
  the LAN listener, an optional TLS listener and WebSocket listener from the site
  file, ``set_tcp_nodelay``, and the bridge to a central broker when the site file
  names one (mode 0640: the bridge's password is in it).

Every topic comes from antrian.protocol. Standard library only. Where it lives:
passwords.py (random passwords, the ``$7$`` hashes), acl.py (the users and their
topics), conf.py (mosquitto.conf and the bridge), folder.py (writing them all).
"""

from antrian.errors import BrokerFilesError
from antrian.tools.broker_files.acl import MONITOR_USER, User, acl_text, dispatcher_ids, topics_of, users
from antrian.tools.broker_files.conf import (ACL_NAME, CONF_NAME, DEFAULT_DATA_DIR, PASSWD_NAME, bridge_section,
                                             mosquitto_conf, site_renderer)
from antrian.tools.broker_files.folder import Summary, write
from antrian.tools.broker_files.passwords import ITERATIONS, check_password, hash_password, new_password

__all__ = ["ACL_NAME", "BrokerFilesError", "CONF_NAME", "DEFAULT_DATA_DIR", "ITERATIONS",
           "MONITOR_USER", "PASSWD_NAME", "Summary", "User", "acl_text", "bridge_section", "check_password",
           "dispatcher_ids", "hash_password", "mosquitto_conf", "new_password", "site_renderer", "topics_of", "users",
           "write"]
