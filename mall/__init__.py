"""The whole MPP on one machine: every part started together (`antrian up --whole`) and a
scripted headless morning (`antrian morning`).

It lives beside the parts, not in `antrian/`: it starts the kiosk, the board and a panel,
so it imports Kivy, gpiozero and python-escpos, which the core never does.
"""
