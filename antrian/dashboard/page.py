"""The dashboard's two pages (login and the live view) as HTML templates, with their
CSS (style.py) and JS (script.py) inlined: the LAN has no internet, so nothing comes
from a CDN. What goes into a template is escaped here; the live page's script builds
its elements with textContent.
"""

from __future__ import annotations

import re
from html import escape

from antrian.dashboard.script import JS
from antrian.dashboard.style import CSS

_LOGIN = """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Masuk · Dasbor Antrean</title>
<style nonce="@NONCE@">@CSS@</style>
</head>
<body>
<div class="login-wrap">
  <form class="login" method="post" action="/masuk">
    <div class="logo">MPP</div>
    <h1>Dasbor Antrean</h1>
    <p class="site">@SITE@</p>
    @ERROR@
    <label for="nama">Nama pengguna</label>
    <input id="nama" name="nama" autocomplete="username" required @FOCUSNAME@ value="@NAME@">
    <label for="sandi">Kata sandi</label>
    <input id="sandi" name="sandi" type="password" autocomplete="current-password" required @FOCUSPASS@>
    <button type="submit">Masuk</button>
    <p class="hint">Hanya untuk pimpinan dan petugas MPP. Akun dibuat oleh teknisi.</p>
  </form>
</div>
</body>
</html>
"""

_PAGE = """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dasbor Antrean · @SITE@</title>
<style nonce="@NONCE@">@CSS@</style>
</head>
<body>
<header class="top">
  <div class="brand">
    <div class="logo">MPP</div>
    <div><h1>@SITE@</h1><div class="sub">Dasbor Antrean · <span id="hari">Menunggu data…</span></div></div>
  </div>
  <div class="top-right">
    <span id="sambungan" class="conn">Menyambung…</span>
    <span class="user">Masuk sebagai <b>@USER@</b></span>
    <form method="post" action="/keluar"><button class="logout" type="submit">Keluar</button></form>
  </div>
</header>
<div id="banner" class="banner" hidden></div>
<main>
  <div id="ringkasan" class="tiles"></div>
  <div class="grid">
    <div class="col">
      <h2 class="section-title">Antrean per instansi dan layanan</h2>
      <div id="instansi" class="col"></div>
    </div>
    <div class="col">
      <h2 class="section-title">Loket</h2>
      <section class="card" id="loket"></section>
      <h2 class="section-title">Perangkat</h2>
      <section class="card" id="perangkat"></section>
    </div>
    <div class="col feeds">
      <h2 class="section-title">Kejadian terakhir</h2>
      <section class="card"><h2>Panggilan terakhir</h2><ol id="panggilan" class="feed"></ol></section>
      <section class="card"><h2>Tiket terakhir diambil</h2><ol id="tiket" class="feed"></ol></section>
    </div>
  </div>
</main>
<footer><span id="diperbarui"></span><span>Hanya baca · data langsung dari server antrean</span></footer>
<script nonce="@NONCE@">@JS@</script>
</body>
</html>
"""


def _fill(template: str, **values: str) -> str:
    # One pass: text put in (a site name, the CSS) is never searched for placeholders.
    values = {**values, "CSS": CSS, "JS": JS}
    return re.sub(r"@([A-Z]+)@", lambda m: values.get(m.group(1), ""), template)


def login_html(site_name: str, nonce: str, *, error: str = "", name: str = "") -> str:
    box = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    # After a wrong password the name stays and the cursor waits in the password field.
    return _fill(_LOGIN, NONCE=nonce, SITE=escape(site_name), NAME=escape(name), ERROR=box,
                 FOCUSNAME="" if name else "autofocus", FOCUSPASS="autofocus" if name else "")


def dashboard_html(site_name: str, user: str, nonce: str) -> str:
    return _fill(_PAGE, NONCE=nonce, SITE=escape(site_name), USER=escape(user))
