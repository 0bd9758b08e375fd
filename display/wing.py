"""The display wing in the registry (antrian/wings.py): the ``display`` role (a
waiting-hall board), its option schema and its broker topics. Imports no Kivy and no
speech library."""

from __future__ import annotations

from antrian import protocol
from antrian.wings import Role, Wing
from display import options


def acl(config, user: str) -> list[tuple[str, str]]:
    site = config.site.id
    return [("read", protocol.board(site)), ("read", protocol.call(site)), ("read", protocol.catalog(site)),
            ("read", protocol.status(site, "+"))]


def _commands(sub) -> None:
    # Imported only when the `antrian` command is built: the dispatcher's site-file
    # check loads this module and needs none of it.
    from display import commands

    commands.add(sub)


WING = Wing("display", "the waiting-hall board and its announcer",
            roles=(Role("display", "a TV board that shows and says the calls", schema=options.SCHEMA, acl=acl),),
            commands=_commands,
            # For the web wing's browser board (/papan/<id>), which may not import this package.
            services={"board_view": "display.webboard:board_view", "call_audio": "display.webboard:CallAudio",
                      "call_view": "display.webboard:call_view", "display_options": "display.webboard:display_options"})
