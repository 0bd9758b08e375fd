"""The hardware wing in the registry (antrian/wings.py): the ``panel`` role (a counter
Pi's buttons, LEDs and keypads), its pin-map schema and its broker topics. Imports no
gpiozero."""

from __future__ import annotations

from antrian import protocol
from antrian.wings import Role, Wing
from hardware import pinmap


def acl(config, user: str) -> list[tuple[str, str]]:
    site = config.site.id
    pairs = []
    for counter in pinmap.panel_map(config, user).counters:
        pairs += [("write", protocol.counter_command(site, counter)),
                  ("read", protocol.counter_reply(site, counter)),
                  ("read", protocol.counter_state(site, counter))]
    if pinmap.panel_map(config, user).score_buttons:  # the quick score's Surveys
        pairs.append(("write", protocol.survey(site, user)))
    # The panel blinks its LEDs while the dispatcher says it is offline.
    pairs += [("read", protocol.status(site, d)) for d in sorted(set(config.dispatcher_ids()) | {"dispatcher"})]
    return pairs


def _commands(sub) -> None:
    # Imported only when the `antrian` command is built: the dispatcher's site-file
    # check loads this module and needs none of it.
    from hardware import commands

    commands.add(sub)


WING = Wing("hardware", "counter panels: GPIO call buttons, LEDs and USB keypads",
            roles=(Role("panel", "a counter Pi with call buttons", schema=pinmap.SCHEMA, acl=acl),),
            commands=_commands)
