"""The kiosk wing in the registry (antrian/wings.py): the ``kiosk`` role, its option
schema and its broker topics. Imports no Kivy and no printer library.

The role's schema is the options' (kiosk/options.py) with one rule across the site file: every
service's ticket fits the kiosk's paper (kiosk/ticket_check.py, the printer's own layout)."""

from __future__ import annotations

import dataclasses

from antrian import protocol
from antrian.wings import Role, Wing
from kiosk import options, ticket_check

SCHEMA = dataclasses.replace(options.SCHEMA, rule=ticket_check.fits_paper)


def acl(config, user: str) -> list[tuple[str, str]]:
    site = config.site.id
    pairs = [("write", protocol.kiosk_request(site, user)), ("read", protocol.kiosk_reply(site, user)),
             ("write", protocol.survey(site, user)), ("read", protocol.catalog(site))]
    # The technician line shows what the dispatcher's status reports (antrian.adapters.link).
    return pairs + [("read", protocol.status(site, d)) for d in config.dispatcher_ids()]


def _commands(sub) -> None:
    # Imported only when the `antrian` command is built: the dispatcher's site-file
    # check loads this module and needs none of it.
    from kiosk import commands

    commands.add(sub)


WING = Wing("kiosk", "the touch kiosk that prints queue tickets",
            roles=(Role("kiosk", "a touch kiosk with a ticket printer", schema=SCHEMA, acl=acl),),
            commands=_commands)
