"""Placeholder: the staff app's users file and ``antrian web-user`` are being written (issue 13)."""

from __future__ import annotations


def add_command(sub) -> None:
    return None
