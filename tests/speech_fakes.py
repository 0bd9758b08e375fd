"""Speech engines that misbehave on purpose, for the announcer's watchdog and error paths.

`HangOnce` runs inside a display.worker process (tests put this folder on its
PYTHONPATH): the first job of the first worker never returns, as a wedged espeak
would; a marker file tells the restarted worker to answer normally.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from display.chime import chime
from display.speech import SpeechEngine, SpeechError


class HangOnce(SpeechEngine):
    name = "hang-once"

    def __init__(self, marker: str, seconds: float = 2.0) -> None:
        self.marker = Path(marker)
        self.seconds = seconds

    def synthesize(self, text: str, timeout: float):
        if not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            while True:  # stuck for good; only SIGKILL ends it
                time.sleep(60)
        # "Speech": a tone of a fixed length, so durations are known.
        audio = chime(22050)
        return audio + audio.silence(self.seconds - audio.duration)


class Failing(SpeechEngine):
    """Fails the first *failures* sentences, then speaks a short tone."""

    name = "failing"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.texts: list[str] = []

    def synthesize(self, text: str, timeout: float):
        self.texts.append(text)
        if self.failures > 0:
            self.failures -= 1
            raise SpeechError("no voice today")
        return chime(22050)
