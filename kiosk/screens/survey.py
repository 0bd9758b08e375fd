"""Survei Kepuasan Masyarakat: the nine SKM elements, one per page, four answers each.

The last answer sends the survey (kiosk.skm.payload) and thanks the citizen;
"Kembali" goes to the previous question, or home from the first."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from .. import skm, texts
from ..widgets import KioskButton

Builder.load_file(str(Path(__file__).with_suffix(".kv")))

THANKS_SECONDS = 8  # the thanks stay this long, then home
# score 1 (worst) .. 4 (best)
ANSWER_COLORS = ("#C62828", "#EF6C00", "#558B2F", "#1B5E20")


class SurveyScreen(Screen):
    index = NumericProperty(0)
    finished = BooleanProperty(False)
    progress = StringProperty("")
    question = StringProperty("")
    thanks = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self.answers: dict[str, int] = {}
        self._refresh = Clock.create_trigger(self.refresh)
        App.get_running_app().bind(portrait=self._refresh, u=self._refresh)

    def on_pre_enter(self, *_) -> None:
        self.answers = {}
        self.index = 0
        self.finished = False
        self.thanks = ""
        self.refresh()

    def refresh(self, *_) -> None:
        app = App.get_running_app()
        grid = self.ids.grid
        grid.clear_widgets()
        if self.finished:
            return
        element = skm.ELEMENTS[self.index]
        self.progress = f"Pertanyaan {self.index + 1} dari {len(skm.ELEMENTS)}: {element.name}"
        self.question = element.question
        grid.cols = 1 if app.portrait else 2
        for score, (text, color) in enumerate(zip(element.answers, ANSWER_COLORS, strict=True), start=1):
            button = KioskButton(key=f"answer:{score}", text=text, bg=color, height=max(app.touch, app.u * 13))
            button.bind(on_release=lambda _b, s=score: self.answer(s))
            grid.add_widget(button)

    def answer(self, score: int) -> None:
        self.answers[skm.ELEMENTS[self.index].code] = score
        if self.index + 1 < len(skm.ELEMENTS):
            self.index += 1
            self.refresh()
            return
        sent = App.get_running_app().send_survey(dict(self.answers))
        self.finished = True
        self.progress = ""
        self.question = ""
        self.thanks = texts.SURVEY_THANKS if sent else texts.SURVEY_NOT_SENT
        self.refresh()
        Clock.schedule_once(self._leave, THANKS_SECONDS)

    def _leave(self, *_) -> None:
        if self.finished and self.manager is not None and self.manager.current == self.name:
            App.get_running_app().go_home()

    def back(self) -> None:
        if self.finished or self.index == 0:
            App.get_running_app().go_home()
            return
        self.index -= 1
        self.refresh()
