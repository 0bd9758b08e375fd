"""Confirmation: the choice, what to bring, and the one button that takes a ticket.

The button is disabled from the tap until the Desk's result; its label says why it
waits ("Mohon tunggu...") or that a tap retries the same request ("Coba lagi")."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.uix.screenmanager import Screen

from .services import requirements_text, standard_text

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


def summary(agency: dict | None, service: dict | None, priority: dict | None) -> str:
    if not service:
        return ""
    lines = [f"Instansi: {agency['name'] if agency else '-'}", f"Layanan: {service['name']}",
             f"Layanan prioritas: {priority['name'] if priority else 'Tidak'}"]
    return "\n".join(lines)


def confirm_label(busy: bool, can_retry: bool) -> str:
    if busy:
        return "Mohon tunggu..."
    return "Coba lagi" if can_retry else "Ambil Nomor Antrean"


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
