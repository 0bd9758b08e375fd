"""Antrian MPP: the queue core shared by every device of a Mal Pelayanan Publik.

The package is pure and light: it never imports Kivy, gpiozero, python-escpos or
pyttsx3, so the dispatcher's Pi installs only paho-mqtt and PyYAML.
"""

__version__ = "0.1.0"
