"""The waiting-hall board: what the people waiting see and hear.

- ``app`` + ``board.kv``: the Kivy board (``antrian display``), the only modules that import Kivy;
  ``kivy_env`` sets the board's window choices before Kivy starts (antrian/adapters/kivy_env.py).
- ``wing``, ``options``, ``commands``: the board's place in the registry, its site-file options
  (checked without Kivy or a speech library) and its subcommands (``display``, ``say``).
- ``link``: the board's MQTT side -- board, call and dispatcher status in, its own status out.
- ``view``: pure view logic -- the texts, lists and banner the board shows for a Board payload.
- ``announcer``: one call at a time, in seq order, chime first, never the same seq twice.
- ``speech``, ``worker``: speech engines (pyttsx3, espeak-ng, word clips) and the watchdog process.
- ``audio``, ``chime``: PCM sound, the sinks it is played into (ALSA, WAV files), the ding-dong.
- ``webboard``: what the web wing's board for a smart TV asks for by name (the registry's services
  ``board_view``, ``call_view``, ``call_audio``, ``display_options``): the same texts and sound.

Nothing here is imported by ``antrian`` itself, so the dispatcher never needs Kivy or pyttsx3.
"""
