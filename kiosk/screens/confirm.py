"""Confirmation: the choice, what to bring, and the one button that takes a ticket.

The button is disabled from the tap until the Desk's result; its label says why it
waits ("Mohon tunggu...") or that a tap retries the same request ("Coba lagi"). A service
that closes, runs out of its quota or passes its last ticket while the citizen reads
(a new catalog) disables it too, and the banner above it says why in the catalog's words."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.uix.screenmanager import Screen

from .. import texts
from .services import requirements_text, standard_text

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def summary(agency: dict | None, service: dict | None, priority: dict | None) -> str:
    if not service:
        return ""
    lines = [f"Instansi: {agency['name'] if agency else '-'}", f"Layanan: {service['name']}",
             f"Layanan prioritas: {priority['name'] if priority else 'Tidak'}"]
    return "\n".join(lines)


def confirm_label(busy: bool, can_retry: bool, service: dict | None = None) -> str:
    if busy:
        return "Mohon tunggu..."
    if service is not None and not service.get("open"):
        return texts.UNAVAILABLE
    return "Coba lagi" if can_retry else "Ambil Nomor Antrean"


def notice(message: str, service: dict | None, busy: bool = False) -> str:
    """The banner: why the last tap gave no ticket, else why the service cannot be taken now."""
    if message:
        return message
    if service is not None and not service.get("open") and not busy:
        return texts.unavailable(service.get("closed_reason"))
    return ""


def requirements(service: dict | None) -> str:
    return requirements_text(service) if service else ""


def standard(service: dict | None) -> str:
    return standard_text(service) if service else ""


class ConfirmScreen(Screen):
    # Module functions for the .kv file's bindings.
    summary = staticmethod(summary)
    requirements = staticmethod(requirements)
    standard = staticmethod(standard)
    confirm_label = staticmethod(confirm_label)
    notice = staticmethod(notice)
