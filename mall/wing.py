"""The mall wing in the registry (antrian/wings.py): the whole MPP on one machine.
It brings no device role; it offers the launcher of ``antrian up --whole`` and the
scripted morning as named services."""

from __future__ import annotations

from antrian.wings import Wing


def _commands(sub) -> None:
    # Imported only when the `antrian` command is built: the dispatcher's site-file
    # check loads this module and needs none of it.
    from mall import commands

    commands.add(sub)


WING = Wing("mall", "the whole MPP on one machine and the scripted morning",
            services={"whole": "mall.whole:run", "morning": "mall.morning:main"},
            commands=_commands)
