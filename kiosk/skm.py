"""Survei Kepuasan Masyarakat (SKM) at the kiosk: the nine elements of the questionnaire
(antrian/skm.py, Permenpan RB No. 14 Tahun 2017) asked one per screen, the answers sent
on the survey topic:

    payload(answers)  ->  {"id", "ticket": None, "counter": None, "score": None,
                           "answers": {"U1": 3, ..., "U9": 4}}
"""

from __future__ import annotations

import uuid
from typing import Any, Mapping

from antrian.protocol import SURVEY_ELEMENTS
from antrian.skm import ELEMENTS, Element

__all__ = ["ELEMENTS", "Element", "payload"]


def payload(answers: Mapping[str, int], *, ticket: str | None = None, msg_id: str | None = None) -> dict[str, Any]:
    """The Survey message of the wire contract for a complete set of answers."""
    if set(answers) != set(SURVEY_ELEMENTS) or not all(answers[k] in (1, 2, 3, 4) for k in SURVEY_ELEMENTS):
        raise ValueError(f"a survey needs a score 1-4 for each of {', '.join(SURVEY_ELEMENTS)}: {dict(answers)}")
    return {"id": msg_id or uuid.uuid4().hex, "ticket": ticket, "counter": None, "score": None,
            "answers": {k: answers[k] for k in SURVEY_ELEMENTS}}
