"""The staff app's logins, for real: the app on a free port against the test broker,
plain HTTP (with cookies kept by hand, and clients from many 127.0.0.x addresses) and
Debian's headless Chromium; `antrian web-user` as a child process; HTTPS with a pair
made by broker-config/make-ca.sh. The password hash is argon2id at a low cost here
(web.passwords.HASHER), except in the child processes, which use the real one."""

from __future__ import annotations

import concurrent.futures
import hashlib
import base64
import http.client
import io
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from conftest import ROOT, allday_site
from web_support import ARTIFACTS, WebProcess, console_errors, css, screenshot, text, wait
from web_support import browser, chrome, web_app  # noqa: F401 (fixtures)

PASSWORD = "rahasia-kepala-1"


@pytest.fixture(autouse=True)
def cheap_hash(monkeypatch):
    from argon2 import PasswordHasher

    from web import passwords

    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def web_user(users: Path, *args: str, password: str | None = None, config: Path | None = None) -> tuple[int, str]:
    """`antrian web-user` in this process (cheap hash), the password on stdin."""
    from antrian.cli.main import main

    argv = ["web-user", "--users", str(users)] + (["--config", str(config)] if config else []) + list(args)
    stdin, stdout, stderr = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(password + "\n" if password else ""), io.StringIO(), io.StringIO()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    finally:
        out = sys.stdout.getvalue() + sys.stderr.getvalue()
        sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    return code, out


class Client:
    """A browser in plain HTTP: cookies kept, from a source address of its own."""

    def __init__(self, app, source: str = "127.0.0.1", https: ssl.SSLContext | None = None) -> None:
        self.app, self.source, self.https = app, source, https
        self.cookies: dict[str, str] = {}
        self.set_cookie: list[str] = []

    @property
    def origin(self) -> str:
        return f"{'https' if self.https else 'http'}://{self.app.address[0]}:{self.app.address[1]}"

    def request(self, method: str, path: str, fields: dict | None = None, headers: dict | None = None,
                origin: str | None = "same") -> tuple[int, dict, str]:
        if self.https:
            conn = http.client.HTTPSConnection(*self.app.address, timeout=30, context=self.https)
        else:
            conn = http.client.HTTPConnection(*self.app.address, timeout=30, source_address=(self.source, 0))
        head = {"Host": f"{self.app.address[0]}:{self.app.address[1]}"}
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            from urllib.parse import urlencode

            body = urlencode(fields)
            head["Content-Type"] = "application/x-www-form-urlencoded"
            if origin:
                head["Origin"] = self.origin if origin == "same" else origin
        head.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=head)
            resp = conn.getresponse()
            self.set_cookie = resp.headers.get_all("Set-Cookie") or []
            for line in self.set_cookie:
                name, _, rest = line.partition("=")
                value = rest.split(";")[0]
                if "max-age=0" in line.lower() or value in ("", '""'):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
        finally:
            conn.close()

    def form_token(self, path: str = "/masuk") -> str:
        status, _, body = self.request("GET", path)
        assert status == 200, body
        return re.search(r'name="csrf" value="([^"]+)"', body).group(1)

    def login(self, name: str, password: str, lanjut: str | None = None, **kw) -> tuple[int, dict, str]:
        fields = {"csrf": self.form_token(), "nama": name, "sandi": password}
        if lanjut is not None:
            fields["lanjut"] = lanjut
        return self.request("POST", "/masuk", fields, **kw)

    def logout(self) -> tuple[int, dict, str]:
        return self.request("POST", "/keluar", {"csrf": self.form_token("/keluar")})


def logged_in(client: Client) -> bool:
    status, headers, _ = client.request("GET", "/")
    assert status == 303
    return not headers["location"].startswith("/masuk")


def page_errors(driver) -> list[str]:
    """The console's errors but the wrong password's own 401 and a missing favicon."""
    return [e for e in console_errors(driver) if "favicon" not in e and "status of 401" not in e]


@pytest.fixture
def site(tmp_path):
    return allday_site(tmp_path)


@pytest.fixture
def users(tmp_path, site):
    path = tmp_path / "web-users"
    assert web_user(path, "add", "kepala", "--role", "kepala", password=PASSWORD)[0] == 0
    assert web_user(path, "add", "budi", "--role", "petugas", "--counters", "loket1,loket2", password="sandi-budi-2",
                    config=site)[0] == 0
    return path


@pytest.fixture
def staff(site, users, web_app):  # noqa: F811
    return web_app(site, "web1", users=users)


def auth_of(app):
    return app.web.extra["auth"]


# --- logging in and out ----------------------------------------------------------------


def test_login_in_chromium_and_logout(staff, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(staff.url + "/")
    wait(browser, lambda d: "/masuk" in d.current_url)
    assert text(browser, "h1") == "Masuk"
    assert "Nama pengguna" in browser.page_source and "Kata sandi" in browser.page_source
    browser.find_element(By.ID, "nama").send_keys("kepala")
    browser.find_element(By.ID, "sandi").send_keys("salah-sekali")
    browser.find_element(By.ID, "masuk").click()
    wait(browser, lambda d: text(d, "#galat") == "Nama pengguna atau kata sandi salah.")
    assert browser.find_element(By.ID, "nama").get_attribute("value") == "kepala"
    browser.find_element(By.ID, "sandi").send_keys(PASSWORD)
    browser.find_element(By.ID, "masuk").click()
    wait(browser, lambda d: d.current_url.endswith("/dasbor"))
    cookie = next(c for c in browser.get_cookies() if c["name"] == "antrian_sesi")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]
    # The logout page's button posts the form with its token and the browser's Origin.
    browser.get(staff.url + "/keluar")
    wait(browser, lambda d: css(d, "#keluar"))
    assert "kepala" in text(browser, ".masuk-siapa")
    browser.find_element(By.ID, "keluar").click()
    wait(browser, lambda d: d.current_url.endswith("/masuk"))
    browser.get(staff.url + "/dasbor")
    wait(browser, lambda d: "/masuk?lanjut=/dasbor" in d.current_url)
    assert not page_errors(browser)


def test_screenshots_of_the_login_page(staff, browser):  # noqa: F811
    browser.get(staff.url + "/masuk")
    wait(browser, lambda d: css(d, "#masuk"))
    screenshot(browser, ARTIFACTS / "web-masuk-390x844.png", 390, 844, mobile=True)
    screenshot(browser, ARTIFACTS / "web-masuk-1366x768.png", 1366, 768)
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "nama").send_keys("kepala")
    browser.find_element(By.ID, "sandi").send_keys("bukan-sandinya")
    browser.find_element(By.ID, "masuk").click()
    wait(browser, lambda d: css(d, "#galat"))
    screenshot(browser, ARTIFACTS / "web-masuk-galat-390x844.png", 390, 844, mobile=True)
    assert not page_errors(browser)


def test_login_redirects_by_role_and_a_wrong_password_does_not_say_which(staff):
    kepala, budi = Client(staff), Client(staff)
    status, headers, _ = kepala.login("kepala", PASSWORD)
    assert (status, headers["location"]) == (303, "/dasbor")
    assert "HttpOnly" in kepala.set_cookie[0] and "SameSite=strict" in kepala.set_cookie[0]
    assert "Secure" not in kepala.set_cookie[0]
    assert budi.login("budi", "sandi-budi-2")[1]["location"] == "/loket"
    assert budi.request("GET", "/")[1]["location"] == "/loket"
    assert kepala.request("GET", "/")[1]["location"] == "/dasbor"
    wrong_password = Client(staff).login("kepala", "salah-salah")
    unknown_user = Client(staff).login("tidakada", "salah-salah")
    for status, _, body in (wrong_password, unknown_user):
        assert status == 401 and "Nama pengguna atau kata sandi salah." in body
    assert Client(staff).login("kepala", "")[0] == 400


def test_logout_ends_the_session_on_the_server(staff):
    client = Client(staff)
    client.login("kepala", PASSWORD)
    cookie = dict(client.cookies)
    assert logged_in(client)
    status, headers, _ = client.logout()
    assert (status, headers["location"]) == (303, "/masuk")
    assert "antrian_sesi" not in client.cookies
    old = Client(staff)
    old.cookies = cookie  # the cookie kept from before the logout
    assert not logged_in(old)
    assert len(auth_of(staff).sessions) == 0


def test_sessions_survive_a_restart_and_a_logout_stays_a_logout(site, users, broker):
    proc = WebProcess(site, "web1", broker, users=users)
    app = proc.start()
    try:
        client = Client(app)
        assert client.login("kepala", PASSWORD)[1]["location"] == "/dasbor"  # the real argon2 cost
        kept = dict(client.cookies)
        proc.stop()
        proc.start()
        assert logged_in(client)
        client.logout()
        proc.stop()
        proc.start()
        old = Client(app)
        old.cookies = kept
        assert not logged_in(old)
    finally:
        proc.stop()


def test_forged_and_expired_cookies_are_refused(staff, monkeypatch):
    from itsdangerous import URLSafeTimedSerializer

    client = Client(staff)
    client.login("kepala", PASSWORD)
    good = client.cookies["antrian_sesi"]
    auth = auth_of(staff)
    sid = auth.signer.loads(good)
    forged = [good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
              URLSafeTimedSerializer(b"another key", salt="antrian-sesi").dumps(sid),
              URLSafeTimedSerializer(staff.web.secret, salt="antrian-sesi").dumps(sid),  # the secret itself
              auth.signer.dumps("a-session-id-never-made"), "x" * 5000]
    for value in forged:
        other = Client(staff)
        other.cookies = {"antrian_sesi": value}
        assert not logged_in(other), value
    # A signature older than 12 hours is refused even if the table still knew it.
    later = time.time() + 12 * 3600 + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert not logged_in(client)
    assert auth.sessions.get(sid) is None  # and the table itself let it go


def test_a_removed_user_or_a_changed_role_ends_their_sessions(staff, users, site):
    kepala, budi = Client(staff), Client(staff)
    kepala.login("kepala", PASSWORD)
    budi.login("budi", "sandi-budi-2")
    assert logged_in(kepala) and logged_in(budi)
    assert web_user(users, "remove", "kepala")[0] == 0
    assert not logged_in(kepala)
    assert logged_in(budi)
    assert web_user(users, "add", "budi", "--role", "petugas", "--counters", "loket3", password="sandi-budi-2")[0] == 0
    assert not logged_in(budi)
    assert Client(staff).login("kepala", PASSWORD)[0] == 401


# --- CSRF and Origin ---------------------------------------------------------------------


def test_forms_without_the_token_or_from_another_origin_are_refused(staff, caplog):
    client = Client(staff)
    token = client.form_token()
    fields = {"nama": "kepala", "sandi": PASSWORD}
    cases = [({**fields}, "same"), ({**fields, "csrf": "salah"}, "same"),
             ({**fields, "csrf": token}, "http://evil.example"),
             ({**fields, "csrf": token}, "null"), ({**fields, "csrf": token}, None)]
    for form, origin in cases:
        status, _, body = client.request("POST", "/masuk", form, origin=origin)
        assert status == 403 and "Formulir sudah kedaluwarsa" in body, (form, origin)
        assert "antrian_sesi" not in client.cookies
    # A token of another browser (another form cookie) is refused too.
    other = Client(staff)
    other.form_token()
    status, _, _ = other.request("POST", "/masuk", {**fields, "csrf": token})
    assert status == 403
    assert "refused" in caplog.text and "CSRF" in caplog.text and "origin" in caplog.text
    # The Referer serves when a browser sends no Origin: another site's is refused.
    assert client.request("POST", "/masuk", {**fields, "csrf": token}, origin=None,
                          headers={"Referer": "http://evil.example/masuk"})[0] == 403
    status, _, _ = client.request("POST", "/masuk", {**fields, "csrf": token}, origin=None,
                                  headers={"Referer": client.origin + "/masuk"})
    assert status == 303
    # Logging out needs a token of this browser.
    for form in ({}, {"csrf": other.form_token()}):
        assert client.request("POST", "/keluar", form)[0] == 403
    own = client.form_token("/keluar")
    assert client.request("POST", "/keluar", {"csrf": own}, origin="http://evil.example")[0] == 403
    assert logged_in(client)


# --- redirects ---------------------------------------------------------------------------


def test_the_way_back_after_login_goes_only_to_a_local_path(staff):
    client = Client(staff)
    status, headers, _ = client.request("GET", "/dasbor?hari=ini")
    assert (status, headers["location"]) == (303, "/masuk?lanjut=/dasbor%3Fhari%3Dini")
    assert client.login("kepala", PASSWORD, lanjut="/dasbor?hari=ini")[1]["location"] == "/dasbor?hari=ini"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                 "/\r\nSet-Cookie: x=1", "evil.example", "/\t/evil.example"):
        client = Client(staff)
        _, _, page = client.request("GET", "/masuk?lanjut=" + quote(evil, safe=""))
        assert 'name="lanjut"' not in page, evil
        status, headers, _ = client.login("kepala", PASSWORD, lanjut=evil)
        assert (status, headers["location"]) == (303, "/dasbor"), evil
    # An event stream without a session gets 401, not a redirect.
    assert Client(staff).request("GET", "/dasbor", headers={"Accept": "text/event-stream"})[0] == 401


def test_a_role_not_allowed_gets_403(staff, caplog):
    budi = Client(staff)
    budi.login("budi", "sandi-budi-2")
    status, _, body = budi.request("GET", "/dasbor")
    assert status == 403 and body == "Akses ditolak."
    assert "budi (petugas) refused /dasbor" in caplog.text
    kepala = Client(staff)
    kepala.login("kepala", PASSWORD)
    assert kepala.request("GET", "/dasbor")[0] == 200


# --- the throttle ------------------------------------------------------------------------


def test_the_throttle_per_name_and_per_address(staff):
    auth = auth_of(staff)
    # One name from ten addresses: the eleventh try is refused, even with the right password.
    for i in range(auth.names.limit):
        assert Client(staff, f"127.0.1.{i + 1}").login("kepala", "salah-salah")[0] == 401
    status, _, body = Client(staff, "127.0.1.200").login("kepala", PASSWORD)
    assert status == 429 and "Terlalu banyak percobaan masuk. Silakan coba lagi dalam" in body
    assert re.search(r"dalam \d+ (detik|menit)\.", body)
    # Another name is not held back by it.
    assert Client(staff, "127.0.1.201").login("budi", "sandi-budi-2")[0] == 303
    # One address, many names: refused after its limit, another address is not.
    for i in range(auth.addresses.limit):
        assert Client(staff, "127.0.2.1").login(f"orang{i}", "salah-salah")[0] == 401
    assert Client(staff, "127.0.2.1").login("budi", "sandi-budi-2")[0] == 429
    assert Client(staff, "127.0.2.2").login("budi", "sandi-budi-2")[0] == 303


def test_parallel_guesses_are_counted_before_the_hash(staff, monkeypatch):
    from web import users

    checked = []
    real = users.Users.check

    def counting(self, name, password):
        checked.append(name)
        return real(self, name, password)

    monkeypatch.setattr(users.Users, "check", counting)
    limit = auth_of(staff).names.limit
    clients = [Client(staff, f"127.0.3.{i + 1}") for i in range(40)]
    tokens = [c.form_token() for c in clients]
    with concurrent.futures.ThreadPoolExecutor(40) as pool:
        results = list(pool.map(lambda ct: ct[0].request("POST", "/masuk", {
            "csrf": ct[1], "nama": "kepala", "sandi": "tebakan"})[0], zip(clients, tokens)))
    assert results.count(401) == limit and results.count(429) == 40 - limit
    assert len(checked) == limit


def test_a_flood_of_addresses_and_names_cannot_clear_a_blocked_one(staff):
    auth = auth_of(staff)
    auth.names.size = auth.addresses.size = 30  # a small table, flooded below
    for i in range(auth.names.limit):
        Client(staff, f"127.0.4.{i + 1}").login("kepala", "salah-salah")
    for i in range(auth.addresses.limit):
        Client(staff, "127.0.5.1").login(f"korban{i}", "salah-salah")
    assert Client(staff, "127.0.6.1").login("kepala", PASSWORD)[0] == 429
    assert Client(staff, "127.0.5.1").login("budi", "sandi-budi-2")[0] == 429
    # A hundred new names from a hundred new addresses, twice the table's size, each
    # tried once: the table stays bounded and still holds the blocked ones.
    for i in range(100):
        Client(staff, f"127.0.7.{i + 1}").login(f"banjir{i}", "salah-salah")
    assert len(auth.names) <= 30 and len(auth.addresses) <= 30
    assert Client(staff, "127.0.6.2").login("kepala", PASSWORD)[0] == 429
    assert Client(staff, "127.0.5.1").login("budi", "sandi-budi-2")[0] == 429


def test_the_throttle_table_keeps_the_highest_counts():
    from web.throttle import Throttle, client_key

    now = [0.0]
    t = Throttle("name", limit=3, decay=10.0, size=4, clock=lambda: now[0])
    for _ in range(3):
        t.charge("victim")
    t.charge("partly")
    t.charge("partly")
    assert t.wait("victim") == pytest.approx(10.0) and t.wait("partly") == 0
    for i in range(50):  # a flood of new keys only pushes out keys of one attempt
        assert t.charge(f"flood{i}")
    assert t.wait("victim") > 0 and t._score("partly", now[0]) == 2
    # Full of refused keys: a new key is refused rather than let in by forgetting one.
    for key in ("a", "b", "c"):
        for _ in range(3):
            t.charge(key)
    assert len(t) == 4 and not t.charge("new")
    now[0] = 25.0  # every score fell by 2.5: nobody is refused, there is room again
    assert t.wait("victim") == 0 and t.charge("new")
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff") == "2001:db8::/64"
    assert client_key("::ffff:10.0.0.7") == "10.0.0.7" and client_key("10.0.0.7") == "10.0.0.7"


def test_hashes_beyond_the_waiting_line_get_503(site, users, web_app, monkeypatch):  # noqa: F811
    from argon2 import PasswordHasher

    from web import auth, passwords

    monkeypatch.setattr(auth, "HASH_SLOTS", 1)
    monkeypatch.setattr(auth, "HASH_QUEUE", 2)
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=3, memory_cost=32768, parallelism=1))
    app = web_app(site, "web1", users=users)
    clients = [Client(app, f"127.0.8.{i + 1}") for i in range(12)]
    tokens = [c.form_token() for c in clients]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda ct: ct[0].request("POST", "/masuk", {
            "csrf": ct[1], "nama": f"orang{ct[0].source}", "sandi": "tebakan"}), zip(clients, tokens)))
    codes = [r[0] for r in results]
    assert 503 in codes and codes.count(401) >= 3, codes
    assert all("sedang sibuk" in body for status, _, body in results if status == 503)
    assert auth_of(app).gate.inside == 0
    # Refused for being busy is no attempt: those names and addresses are not charged.
    busy = [c for c, r in zip(clients, results) if r[0] == 503]
    assert busy and not any(c.source in auth_of(app).addresses._table for c in busy)


# --- the users file ------------------------------------------------------------------------


def run_antrian(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "antrian.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_web_user_add_list_remove_from_the_command_line(tmp_path, site):
    users = tmp_path / "web-users"
    done = run_antrian("web-user", "--users", str(users), "add", "siti", "--role", "admin", stdin="kata-sandi-siti\n")
    assert done.returncode == 0, done.stderr
    assert users.stat().st_mode & 0o777 == 0o600
    line = users.read_text().splitlines()[-1]
    assert line.startswith("siti:admin::$argon2id$v=19$m=65536,t=3,p=4$")  # the real cost in the product
    short = run_antrian("web-user", "--users", str(users), "add", "andi", "--role", "kepala", stdin="pendek\n")
    assert short.returncode != 0 and "at least 8 characters" in short.stderr
    no_counters = run_antrian("web-user", "--users", str(users), "add", "andi", "--role", "petugas",
                              stdin="kata-sandi-andi\n")
    assert no_counters.returncode != 0 and "--counters" in no_counters.stderr
    unknown = run_antrian("web-user", "--users", str(users), "--config", str(site), "add", "andi", "--role",
                          "petugas", "--counters", "loket1,loket99", stdin="kata-sandi-andi\n")
    assert unknown.returncode != 0 and "loket99" in unknown.stderr
    assert run_antrian("web-user", "--users", str(users), "--config", str(site), "add", "andi", "--role", "petugas",
                       "--counters", "loket1,loket2", stdin="kata-sandi-andi\n").returncode == 0
    listed = run_antrian("web-user", "--users", str(users), "list")
    assert listed.stdout.splitlines() == ["siti\tadmin\t-", "andi\tpetugas\tloket1,loket2"]
    assert "argon2" not in listed.stdout and "$" not in listed.stdout
    if os.geteuid() == 0:  # run as root, a change keeps the file's owner (the app's user)
        os.chown(users, 65534, 65534)
        assert run_antrian("web-user", "--users", str(users), "remove", "siti").returncode == 0
        assert (users.stat().st_uid, users.stat().st_gid, users.stat().st_mode & 0o777) == (65534, 65534, 0o600)
    else:
        assert run_antrian("web-user", "--users", str(users), "remove", "siti").returncode == 0
    gone = run_antrian("web-user", "--users", str(users), "remove", "siti")
    assert gone.returncode != 0 and "no user 'siti'" in gone.stderr
    listed = run_antrian("web-user", "--users", str(users), "list")
    assert listed.stdout.splitlines() == ["andi\tpetugas\tloket1,loket2"]


def test_web_user_asks_twice_on_a_terminal(tmp_path):
    import pty

    users = tmp_path / "web-users"

    def run(first: str, second: str) -> tuple[int, str]:
        pid, fd = pty.fork()
        if pid == 0:  # the child: antrian on the terminal
            os.chdir(ROOT)
            os.execv(sys.executable, [sys.executable, "-m", "antrian.cli", "web-user", "--users", str(users), "add",
                                      "rina", "--role", "kepala"])
        out = b""
        for answer in (first, second):
            while b"sandi" not in out.split(b"\n")[-1].lower():
                out += os.read(fd, 1024)
            os.write(fd, answer.encode() + b"\n")
            out += b"\n"
        while True:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return os.waitpid(pid, 0)[1], out.decode(errors="replace")

    status, out = run("kata-sandi-rina", "lain-sandi-rina")
    assert status != 0 and "differ" in out and not users.exists()
    status, out = run("kata-sandi-rina", "kata-sandi-rina")
    assert status == 0 and "added rina" in out and "kata-sandi-rina" not in out
    assert users.read_text().splitlines()[-1].startswith("rina:kepala::$argon2id$")


def old_line(name: str, password: str, kind: str = "scrypt") -> str:
    """A line of the old dashboard's users file, as antrian dashboard-user wrote it."""
    salt = os.urandom(16)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    if kind == "scrypt":
        key = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32, maxmem=64 * 1024 * 1024)
        return f"{name}:scrypt$16384$8$1${b64(salt)}${b64(key)}"
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000, dklen=32)
    return f"{name}:pbkdf2_sha256$1000${b64(salt)}${b64(key)}"


def test_the_old_dashboard_users_file_still_logs_in_and_is_rehashed(tmp_path, site, web_app):  # noqa: F811
    users = tmp_path / "dashboard-users"
    users.write_text("# Users of the Antrian MPP dashboard\n" + old_line("ibu", "sandi-ibu-kepala") + "\n"
                     + old_line("pak", "sandi-pak-kepala", "pbkdf2") + "\n")
    app = web_app(site, "web1", users=users)
    listed = web_user(users, "list")[1]
    assert "ibu\tkepala\t-\t(old scrypt hash" in listed
    assert Client(app).login("ibu", "salah-sandi")[0] == 401
    ibu = Client(app)
    assert ibu.login("ibu", "sandi-ibu-kepala")[1]["location"] == "/dasbor"
    assert logged_in(ibu)  # the rehash did not end the session it made
    lines = users.read_text().splitlines()
    assert any(line.startswith("ibu:kepala::$argon2id$") for line in lines)
    assert any(line.startswith("pak:kepala::pbkdf2_sha256$") for line in lines)  # untouched until pak logs in
    assert Client(app).login("pak", "sandi-pak-kepala")[1]["location"] == "/dasbor"
    assert Client(app).login("ibu", "sandi-ibu-kepala")[0] == 303
    # convert: an old file into a new one (old hashes kept, role kepala).
    old = tmp_path / "old"
    old.write_text(old_line("lama", "sandi-lama-saja") + "\n")
    assert web_user(tmp_path / "baru", "convert", str(old))[0] == 0
    assert (tmp_path / "baru").read_text().splitlines()[-1].startswith("lama:kepala::scrypt$")


def test_a_broken_users_file_is_one_error_naming_file_and_line(tmp_path, site, users, broker, web_app,  # noqa: F811
                                                               caplog):
    broken = tmp_path / "broken"
    broken.write_text(users.read_text() + "siapa:raja::$argon2id$x\n")
    proc = WebProcess(site, "web1", broker, users=broken)
    with pytest.raises(AssertionError) as failed:
        proc.start()
    assert f"users file {broken}, line 4: role 'raja' is not one of kepala, petugas, admin" in str(failed.value)
    # Broken while the app runs: the users read before stay, the error is logged.
    app = web_app(site, "web1", users=users)
    good = users.read_text()
    users.write_text(good + "tanpa titik dua\n")
    assert Client(app).login("kepala", PASSWORD)[0] == 303
    assert f"users file {users}, line 4: not a 'name:role:counters:hash' line" in caplog.text


def test_a_petugas_of_a_counter_the_site_lacks_cannot_log_in(tmp_path, site, users, web_app, caplog):  # noqa: F811
    assert web_user(users, "add", "joko", "--role", "petugas", "--counters", "loket99", password="sandi-joko-9")[0] == 0
    app = web_app(site, "web1", users=users)
    assert Client(app).login("joko", "sandi-joko-9")[0] == 401
    assert "petugas 'joko' is bound to loket99, not in" in caplog.text
    assert Client(app).login("budi", "sandi-budi-2")[0] == 303


# --- HTTPS -----------------------------------------------------------------------------------


def test_login_over_https_with_a_pair_made_by_make_ca(tmp_path, users, web_app):  # noqa: F811
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl (./mpp installs it; broker-config/make-ca.sh uses it)")
    tls = tmp_path / "tls"
    subprocess.run(["bash", str(ROOT / "broker-config" / "make-ca.sh"), str(tls)], check=True, capture_output=True,
                   timeout=60)
    raw = yaml.safe_load(allday_site(tmp_path).read_text())
    web1 = next(d for d in raw["devices"] if d["id"] == "web1")
    web1.update(tls_cert=str(tls / "server.crt"), tls_key=str(tls / "server.key"))
    site = tmp_path / "site-https.yaml"
    site.write_text(yaml.safe_dump(raw, allow_unicode=True))
    app = web_app(site, "web1", users=users)
    context = ssl.create_default_context(cafile=str(tls / "ca.crt"))
    client = Client(app, https=context)
    status, headers, _ = client.login("kepala", PASSWORD)
    assert (status, headers["location"]) == (303, "/dasbor")
    session = next(c for c in client.set_cookie if c.startswith("antrian_sesi="))
    assert "Secure" in session and "HttpOnly" in session
    assert logged_in(client)
    assert headers["strict-transport-security"].startswith("max-age=")
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
        Client(app).request("GET", "/masuk")  # plain HTTP to the HTTPS port
