"""Placeholder: the pages of this module are being written (issue 13)."""

from __future__ import annotations


def routes(web) -> list:
    return []
