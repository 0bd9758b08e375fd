"""Survei Kepuasan Masyarakat, tied to a ticket: four steps on one screen.

1. ``ticket``: the citizen types the number on their ticket (a prefix key of the site's
   services, then digits) or scans the ticket's QR; "Lanjut" asks the dispatcher whether
   it was served today (kiosk.skm.check_ticket). A wrong number stays here with the
   dispatcher's reason in Indonesian.
2. ``questions``: the nine SKM elements, one per page, four answers each.
3. ``profile``: the respondent's age, sex, education and occupation, each one page
   that "Lewati" skips.
4. ``thanks``: the survey is sent (kiosk.skm.payload) and the citizen thanked.

"Kembali" goes one page back, or home from the number. Keys for the tests: ``prefix:A``,
``digit:1``, ``erase``, ``next``, ``answer:1``..``answer:4``, ``profile:<value>``, ``skip``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from .. import skm, texts
from ..widgets import KioskButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

THANKS_SECONDS = 8  # the thanks stay this long, then home
# score 1 (worst) .. 4 (best)
ANSWER_COLORS = ("#C62828", "#EF6C00", "#558B2F", "#1B5E20")
KEY_COLOR, PREFIX_COLOR, PROFILE_COLOR = "#1E3A5F", "#4527A0", "#00695C"
MAX_DIGITS = 4


class SurveyScreen(Screen):
    stage = StringProperty("ticket")  # ticket, questions, profile, thanks
    index = NumericProperty(0)
    progress = StringProperty("")
    question = StringProperty("")
    typed = StringProperty("")  # the number as typed so far: "A-12_"
    message = StringProperty("")  # why the number was refused, or a hint
    checking = BooleanProperty(False)  # waiting for the dispatcher's answer
    ticket = ObjectProperty(None, allownone=True)  # the dispatcher's Ticket, once found
    thanks = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self.answers: dict[str, int] = {}
        self.profile: dict[str, str] = {}
        self.prefix = ""
        self.digits = ""
        self._refresh = Clock.create_trigger(self.refresh)
        App.get_running_app().bind(portrait=self._refresh, u=self._refresh, catalog=self._refresh)

    def on_pre_enter(self, *_) -> None:
        self.answers, self.profile = {}, {}
        self.prefix = self.digits = ""
        self.ticket, self.checking, self.message, self.thanks = None, False, "", ""
        self.stage, self.index = "ticket", 0
        self.refresh()

    # -- drawing ------------------------------------------------------------------------

    def _button(self, key: str, text: str, color: str, action, height: float) -> KioskButton:
        button = KioskButton(key=key, text=text, bg=color, height=height)
        button.bind(on_release=lambda _b: action())
        return button

    def refresh(self, *_) -> None:
        app = App.get_running_app()
        grid = self.ids.grid
        grid.clear_widgets()
        tall = max(app.touch, app.u * 13)
        if self.stage == "ticket":
            self.progress = "Langkah 1: nomor antrean Anda"
            self.question = skm.ASK_TICKET
            self.typed = f"{self.prefix or '_'}-{self.digits.ljust(3, '_')}"
            prefixes = self.prefixes()
            grid.cols = 5 if app.portrait else 8
            for prefix in prefixes:
                grid.add_widget(self._button(f"prefix:{prefix}", prefix, PREFIX_COLOR,
                                             lambda p=prefix: self.type_prefix(p), app.touch * 1.2))
            for _ in range(-len(prefixes) % grid.cols):  # the digits start a row of their own
                grid.add_widget(Widget(size_hint_y=None, height=app.touch * 1.2))
            for digit in "1234567890":
                grid.add_widget(self._button(f"digit:{digit}", digit, KEY_COLOR,
                                             lambda d=digit: self.type_digit(d), app.touch * 1.2))
            grid.add_widget(self._button("erase", "Hapus", "#546E7A", self.erase, app.touch * 1.2))
            return
        if self.stage == "questions":
            element = skm.ELEMENTS[self.index]
            self.progress = (f"{skm.served_where(self.ticket or {})} — pertanyaan {self.index + 1} dari "
                             f"{len(skm.ELEMENTS)}: {element.name}")
            self.question = element.question
            grid.cols = 1 if app.portrait else 2
            for score, (text, color) in enumerate(zip(element.answers, ANSWER_COLORS, strict=True), start=1):
                grid.add_widget(self._button(f"answer:{score}", text, color, lambda s=score: self.answer(s), tall))
            return
        if self.stage == "profile":
            q = skm.PROFILE[self.index]
            self.progress = f"Profil responden {self.index + 1} dari {len(skm.PROFILE)} — {skm.PROFILE_NOTE}"
            self.question = q.question
            grid.cols = 2 if app.portrait else 3
            for value, words in q.choices:
                grid.add_widget(self._button(f"profile:{value}", words, PROFILE_COLOR,
                                             lambda v=value: self.choose(v), max(app.touch, app.u * 10)))
            return
        self.progress = self.question = ""

    def prefixes(self) -> list[str]:
        """The ticket prefixes of the site's services, from the catalog, in its order."""
        catalog = App.get_running_app().catalog or {}
        seen: dict[str, None] = {}
        for agency in catalog.get("agencies", ()):
            for service in agency.get("services", ()):
                if isinstance(service.get("prefix"), str):
                    seen.setdefault(service["prefix"])
        return list(seen)

    # -- step 1: the number ---------------------------------------------------------------

    def type_prefix(self, prefix: str) -> None:
        if not self.checking:
            self.prefix, self.digits, self.message = prefix, "", ""
            self.refresh()

    def type_digit(self, digit: str) -> None:
        if self.checking:
            return
        if not self.prefix:
            self.message = skm.TYPE_MORE
        elif len(self.digits) < MAX_DIGITS:
            self.digits += digit
            self.message = ""
        self.refresh()

    def erase(self) -> None:
        if self.checking:
            return
        if self.digits:
            self.digits = self.digits[:-1]
        else:
            self.prefix = ""
        self.message = ""
        self.refresh()

    def next(self) -> None:
        """"Lanjut": ask the dispatcher about the typed number."""
        number = skm.number_from_scan(f"{self.prefix}{self.digits}") if self.prefix and self.digits else None
        if number is None:
            self.message = skm.TYPE_MORE
            return
        self._check(number)

    def scanned(self, line: str) -> bool:
        """A scan while this screen asks for the number; False when it is not asking (the
        app then treats the scan as a booking's check-in)."""
        if self.stage != "ticket" or self.checking:
            return self.stage == "ticket"
        number = skm.number_from_scan(line)
        if number is None:
            self.message = skm.NOT_A_TICKET
            return True
        self.prefix, _, self.digits = number.partition("-")
        self.refresh()
        self._check(number)
        return True

    def _check(self, number: str) -> None:
        self.checking, self.message = True, skm.CHECKING
        App.get_running_app().check_survey_ticket(number, self._checked)

    @mainthread
    def _checked(self, reply: dict[str, Any] | None) -> None:
        self.checking = False
        if self.stage != "ticket":
            return
        if reply is None:
            self.message = skm.NO_ANSWER
        elif not reply.get("ok"):
            self.message = str((reply.get("error") or {}).get("message") or skm.NO_ANSWER)
        else:
            self.ticket, self.message = reply.get("ticket") or {}, ""
            self.stage, self.index = "questions", 0
        self.refresh()

    # -- steps 2 and 3 --------------------------------------------------------------------

    def answer(self, score: int) -> None:
        self.answers[skm.ELEMENTS[self.index].code] = score
        if self.index + 1 < len(skm.ELEMENTS):
            self.index += 1
        else:
            self.stage, self.index = "profile", 0
        self.refresh()

    def choose(self, value: str | None) -> None:
        key = skm.PROFILE[self.index].key
        if value is None:
            self.profile.pop(key, None)
        else:
            self.profile[key] = value
        if self.index + 1 < len(skm.PROFILE):
            self.index += 1
            self.refresh()
            return
        self._send()

    def skip(self) -> None:
        if self.stage == "profile":
            self.choose(None)

    def _send(self) -> None:
        number = (self.ticket or {}).get("number")
        sent = App.get_running_app().send_survey(dict(self.answers), ticket=number, profile=dict(self.profile))
        self.stage = "thanks"
        self.thanks = texts.SURVEY_THANKS if sent else texts.SURVEY_NOT_SENT
        self.refresh()
        Clock.schedule_once(self._leave, THANKS_SECONDS)

    def _leave(self, *_) -> None:
        if self.stage == "thanks" and self.manager is not None and self.manager.current == self.name:
            App.get_running_app().go_home()

    def back(self) -> None:
        if self.stage in ("thanks", "ticket"):
            App.get_running_app().go_home()
            return
        if self.index > 0:
            self.index -= 1
        elif self.stage == "profile":
            self.stage, self.index = "questions", len(skm.ELEMENTS) - 1
        else:
            self.stage = "ticket"
        self.refresh()
