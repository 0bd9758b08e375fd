"""What the web wing's tests share: a web app on a free port (in this process, or as its
own `antrian web` process that a test can kill and start again), Debian's headless
Chromium through Selenium, and small helpers to read a page.

    def test_x(web_app, browser):
        app = web_app("web1")                  # the staff app of the site file, on the test broker
        browser.get(app.url + "/papan/board3")

Screenshots go to test-artifacts/ (git-ignored) to be looked at.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from antrian.adapters.mosquitto import free_port
from antrian.site import load
from conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


class App:
    """A running web app: its base URL, its Web (in process only) and a way to stop it."""

    def __init__(self, url: str, web: Any = None, stop: Any = None) -> None:
        self.url = url
        self.web = web
        self._stop = stop
        host, _, port = url.removeprefix("http://").partition(":")
        self.address = (host, int(port))

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None

    def request(self, method: str, path: str, body: str | bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, dict[str, str], str]:
        """One plain HTTP request: (status, headers with lower-case names, body text)."""
        conn = http.client.HTTPConnection(*self.address, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            got = {k.lower(): v for k, v in resp.getheaders()}
            return resp.status, got, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def health(self) -> dict[str, Any] | None:
        try:
            status, _, body = self.request("GET", "/sehat", timeout=1.0)
        except OSError:
            return None
        return json.loads(body) if status == 200 else None

    def wait_broker(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            health = self.health()
            if health and health.get("broker"):
                return
            assert time.monotonic() < deadline, f"the web app at {self.url} did not reach the broker"
            time.sleep(0.05)


def start_in_process(site_file: Path, device: str, broker: Any, users: Path | None = None) -> App:
    """The app of *device* in a thread of this process, on a free port."""
    import uvicorn

    from web.server import build, uvicorn_config

    web = build(load(site_file), device, users=str(users) if users else None)
    port = free_port()
    config = uvicorn_config(web, (broker.host, broker.port), ("127.0.0.1", port))
    config.timeout_graceful_shutdown = 1
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"web-{device}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, f"web app {device} did not start"
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return App(f"http://127.0.0.1:{port}", web, stop)


class WebProcess:
    """`antrian web` as its own process (to be killed and started again on the same port)."""

    def __init__(self, site_file: Path, device: str, broker: Any, users: Path | None = None,
                 port: int | None = None) -> None:
        self.args = [sys.executable, "-m", "antrian.cli", "web", "--config", str(site_file), "--device", device,
                     "--broker", f"{broker.host}:{broker.port}"]
        if users is not None:
            self.args += ["--users", str(users)]
        self.port = port or free_port()
        self.args += ["--listen", f"127.0.0.1:{self.port}"]
        self.proc: subprocess.Popen | None = None
        self.app = App(f"http://127.0.0.1:{self.port}")

    def start(self, timeout: float = 20.0) -> App:
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        deadline = time.monotonic() + timeout
        while self.app.health() is None:
            if self.proc.poll() is not None:
                raise AssertionError(f"antrian web exited {self.proc.returncode}: {self.proc.stderr.read()[-2000:]}")
            assert time.monotonic() < deadline, "antrian web did not answer /sehat"
            time.sleep(0.05)
        return self.app

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


@pytest.fixture
def web_app(broker):
    """Factory: ``web_app(site_file, "web1", users=...)`` starts that app in this process."""
    started: list[App] = []

    def start(site_file: Path, device: str, users: Path | None = None) -> App:
        app = start_in_process(site_file, device, broker, users)
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()


def chrome_driver(width: int = 1600, height: int = 1000, *extra: str):
    """Debian's headless Chromium (skip when it is not installed: ./mpp test installs it)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="antrian-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--window-size={width},{height}", f"--user-data-dir={profile}",
                f"--disk-cache-dir={profile}/cache", *extra):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver._antrian_profile = profile
    return driver


def quit_driver(driver) -> None:
    driver.quit()
    shutil.rmtree(driver._antrian_profile, ignore_errors=True)


@pytest.fixture(scope="module")
def chrome():
    driver = chrome_driver()
    try:
        yield driver
    finally:
        quit_driver(driver)


@pytest.fixture
def browser(chrome):
    chrome.delete_all_cookies()  # cookies ignore the port: each test starts logged out
    chrome.set_window_size(1600, 1000)
    return chrome


def wait(driver, condition, timeout: float = 5.0, poll: float = 0.01):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=poll).until(condition)


def css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def text(driver, selector: str) -> str | None:
    """The text of the first match, read in one step in the page."""
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null", selector)


def console_errors(driver) -> list[str]:
    """The page's console errors (a CSP refusal shows up here)."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def screenshot(driver, path: Path, width: int = 1600, height: int | None = None, mobile: bool = False) -> Path:
    """The page at *width* CSS pixels: its whole height, or the *height* of a screen."""
    path.parent.mkdir(parents=True, exist_ok=True)

    def metrics(h: int) -> None:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": h, "deviceScaleFactor": 1, "mobile": mobile})

    metrics(height or 800)
    try:
        if height is None:
            metrics(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.execute_script("return new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        driver.save_screenshot(str(path))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return path
