"""The mall wing in the registry (antrian/wings.py): the whole MPP on one machine.
It brings no device role; it offers the launcher of ``antrian up --whole`` and the
scripted morning as named services."""

from __future__ import annotations

from antrian.wings import Wing

WING = Wing("mall", "the whole MPP on one machine and the scripted morning",
            services={"whole": "mall.whole:run", "morning": "mall.morning:main"})
