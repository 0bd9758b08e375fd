"""The ticket: "Silakan ambil tiket Anda" with the number large and how many are ahead;
if it could not be printed, the same number, large, with what to do. A booking's
ticket says so (checked in now, or before: the same ticket printed again)."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from .. import texts
from ..ticket import ahead_text, wait_text

Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class DoneScreen(Screen):
    printed = BooleanProperty(True)
    title = StringProperty("")
    number = StringProperty("")
    service = StringProperty("")
    priority = StringProperty("")
    ahead = StringProperty("")
    wait = StringProperty("")
    problem = StringProperty("")
    advice = StringProperty("")
    booking = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        App.get_running_app().bind(result=self.show)

    def show(self, app, result) -> None:
        if result is None or result.ticket is None:
            return
        ticket = result.ticket
        self.printed = result.outcome == "printed"
        self.title = texts.TAKE_TICKET if self.printed else texts.PRINT_FAILED
        self.booking = texts.reservation(ticket["booking"], result.again) if ticket.get("booking") else ""
        if self.booking and self.printed:
            self.title = texts.CHECKIN_AGAIN if result.again else texts.CHECKIN_DONE
        self.number = ticket["number"]
        self.service = f"{ticket['agency_name']}\n{ticket['service_name']}"
        group = next((g["name"] for g in app.priority_groups() if g["id"] == ticket.get("priority")), None)
        self.priority = f"Layanan prioritas: {group}" if group else ""
        self.ahead = ahead_text(int(ticket.get("ahead") or 0))
        self.wait = wait_text(int(ticket.get("estimated_wait_min") or 0))
        self.problem = "" if self.printed else result.message
        self.advice = "Simpan tiket Anda dan tunggu sampai nomor Anda dipanggil." if self.printed \
            else texts.PRINT_FAILED_DETAIL
