"""The web wing in the registry (antrian/wings.py): the ``web`` role (one browser app,
staff or public), its option schema and its broker topics. Imports no web library."""

from __future__ import annotations

from antrian import protocol
from antrian.wings import Role, Wing
from web import options


def acl(config, user: str) -> list[tuple[str, str]]:
    """What the app's Hub reads, and what its pages publish: the public app sends the
    citizens' surveys; the staff app reads the kiosks' replies (the dashboard's list of
    tickets issued) and drives the counters from the officers' console (/loket).

    The staff app may command every counter: which officer may drive which counter is in
    the users file, which the app reads while it runs and the broker never sees, so the
    app checks it (web/loket.py: 403, logged) and the broker cannot. A stolen staff-app
    password therefore lets its holder call, recall, transfer, pause or close any counter
    of the site and read the replies (numbers and live-ticket links, which it could read
    in the kiosks' replies already; no names), as a stolen panel password does for that
    panel's counters. The dispatcher's limit per counter (30 commands a minute) bounds
    the noise and the head's dashboard shows it; the thief still cannot issue tickets,
    write a counter state, the board or a call, or see any personal data. Rotate it with
    ``antrian broker-files --rotate web1``."""
    site = config.site.id
    public = bool(config.devices[user].options.get("public"))
    topics = [("read", protocol.board(site)), ("read", protocol.call(site)), ("read", protocol.catalog(site)),
              ("read", protocol.counter_state(site, "+")), ("read", protocol.status(site, "+")),
              ("read", protocol.queue_list(site, "+")), ("read", protocol.stats(site))]
    if public:  # and the citizens' bookings (/reservasi), on its own booking topics
        topics += [("write", protocol.survey(site, user)), ("write", protocol.booking_request(site, user)),
                   ("read", protocol.booking_reply(site, user))]
    else:
        topics += [("read", protocol.kiosk_reply(site, "+")), ("write", protocol.counter_command(site, "+")),
                   ("read", protocol.counter_reply(site, "+"))]
    if options.follows_bridge(config, user):
        topics.append(("read", protocol.bridge(site)))  # its consoles lock on it (central), the dashboard shows it
    return topics


def _commands(sub) -> None:
    # Imported only when the `antrian` command is built: the dispatcher's site-file
    # check loads this module and needs none of it.
    from web import commands

    commands.add(sub)


WING = Wing("web", "the browser apps: the head's dashboard, the TV board for smart TVs, the citizen's live ticket",
            roles=(Role("web", "a browser app: the staff app (login) or the public app (citizen pages)",
                        schema=options.SCHEMA, acl=acl),),
            commands=_commands)
