"""Deployment on Raspberry Pi OS (deploy/): the shell scripts parse and pass shellcheck, the
systemd units parse, and install.sh's plan for each role (its --dry-run) installs what that
role needs and enables the right unit. (Nothing here needs root or a Pi.)"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from antrian.errors import EXIT_DATABASE
from conftest import BUTON, ROOT

SCRIPTS = ["broker-config/make-ca.sh", "deploy/install.sh"]
UNITS = sorted(p.name for p in (ROOT / "deploy").glob("*.service"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_shell_scripts_parse_and_pass_shellcheck(script):
    assert subprocess.run(["bash", "-n", str(ROOT / script)], capture_output=True).returncode == 0
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    result = subprocess.run(["shellcheck", "-x", script], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout


def test_the_units_restart_always_and_parse(tmp_path):
    assert set(UNITS) == {"antrian-broker.service", "antrian-dispatcher.service", "antrian-kiosk@.service",
                          "antrian-display@.service", "antrian-panel@.service", "antrian-web@.service"}
    for name in UNITS:
        text = (ROOT / "deploy" / name).read_text()
        assert "Restart=always" in text and "StartLimitIntervalSec=0" in text, name
        if shutil.which("systemd-analyze") is None:
            continue
        # An instance of a template, as systemd would load it.
        unit = tmp_path / name.replace("@.", "@x1.")
        unit.write_text(text)
        result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True)
        problems = [line for line in result.stderr.splitlines() if "is not executable" not in line]
        assert not problems, (name, problems)
    # A database the dispatcher refuses (exit 65, antrian/errors.py) is not restarted in a loop.
    assert f"RestartPreventExitStatus={EXIT_DATABASE}" in (ROOT / "deploy" / "antrian-dispatcher.service").read_text().splitlines()
    for name in ("antrian-kiosk@.service", "antrian-display@.service"):
        text = (ROOT / "deploy" / name).read_text()
        for line in ("TTYPath=/dev/tty1", "PAMName=login", "Environment=SDL_VIDEODRIVER=kmsdrm",
                     "Environment=KIVY_WINDOW=sdl2", "Conflicts=getty@tty1.service"):
            assert line in text.splitlines(), (name, line)


def test_the_web_unit_runs_one_app_hardened_and_bounded():
    lines = (ROOT / "deploy" / "antrian-web@.service").read_text().splitlines()
    assert ("ExecStart=/opt/antrian/.venv/bin/antrian web --config /etc/antrian/site.yaml --device %i") in lines
    for line in ("User=antrian", "StateDirectory=antrian-web/%i", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                 "CapabilityBoundingSet=", "MemoryMax=256M", "Restart=always",
                 # it never opens the database, and sees only its own password and the site secret
                 "InaccessiblePaths=-/var/lib/antrian", "TemporaryFileSystem=/etc/antrian/credentials:ro",
                 "BindReadOnlyPaths=-/etc/antrian/credentials/%i.password -/etc/antrian/credentials/site.secret"):
        assert line in lines, line
    # A Pi: the bound leaves room for the broker and the dispatcher beside it.
    assert not any(line.startswith(("MemoryMax=", "MemoryHigh=")) and line.endswith("G") for line in lines)


def plan(*args: str) -> list[str]:
    result = subprocess.run(["bash", str(ROOT / "deploy" / "install.sh"), *args, "--dry-run"], capture_output=True,
                            text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    return [line[2:] for line in result.stdout.splitlines() if line.startswith("+ ")]


@pytest.fixture
def deployed_site(tmp_path) -> Path:
    raw = yaml.safe_load(BUTON.read_text(encoding="utf-8"))
    raw["broker"] = {"host": "192.168.10.2", "port": 1883, "credentials_dir": "/etc/antrian/credentials",
                     "tls": {"ca": "/etc/antrian/tls/ca.crt", "cert": "/etc/antrian/tls/server.crt",
                             "key": "/etc/antrian/tls/server.key"}}
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


def test_install_plan_of_the_server(deployed_site):
    steps = plan("server", "--site", str(deployed_site))
    text = "\n".join(steps)
    assert "mosquitto" in steps[1] and "sqlite3" in steps[1]
    assert any(s.startswith("useradd --system") for s in steps)
    assert "install -m 0644 %s /etc/antrian/site.yaml" % deployed_site in steps
    assert ("/opt/antrian/.venv/bin/antrian broker-files --config /etc/antrian/site.yaml "
            "--out /etc/antrian/credentials") in steps
    assert "chown antrian /etc/antrian/credentials/dispatcher.password" in steps
    assert "chown antrian /etc/antrian/credentials/site.secret" in steps  # the tickets' links
    assert "chgrp mosquitto /etc/antrian/tls/server.key" in steps
    assert "systemctl disable --now mosquitto.service" in steps
    assert steps[-2:] == ["systemctl enable antrian-broker.service antrian-dispatcher.service",
                          "systemctl restart antrian-broker.service antrian-dispatcher.service"]
    assert "kivy" not in text and "[kiosk]" not in text  # a dispatcher Pi never installs Kivy


@pytest.mark.parametrize("role,device,extra,groups", [
    ("kiosk", "kiosk1", "kiosk", ["video", "input", "lp"]),
    ("board", "board1", "display", ["video", "input", "audio"]),
    ("panel", "panel1", "panel", ["input", "i2c", "spi"]),
])
def test_install_plan_of_a_device(deployed_site, tmp_path, role, device, extra, groups):
    secret = tmp_path / f"{device}.password"
    secret.write_text("x" * 32 + "\n")
    steps = plan(role, device, "--site", str(deployed_site), "--password", str(secret))
    assert any(s.endswith(f"-e /opt/antrian[{extra}]") or f"-e /opt/antrian[{extra}] lgpio" in s for s in steps)
    for group in groups:
        if subprocess.run(["getent", "group", group], capture_output=True).returncode == 0:
            assert f"usermod -a -G {group} antrian" in steps
    assert (f"install -o antrian -g antrian -m 0600 {secret} /etc/antrian/credentials/{device}.password") in steps
    unit = "display" if role == "board" else role
    assert f"systemctl enable antrian-{unit}@{device}.service" in steps
    assert f"install -m 0644 {ROOT}/deploy/antrian-{unit}@.service /etc/systemd/system/antrian-{unit}@.service" in steps
    assert ("systemctl disable getty@tty1.service" in steps) == (role != "panel")


def test_install_plan_of_the_staff_web_app(deployed_site, tmp_path):
    password, secret = tmp_path / "web1.password", tmp_path / "site.secret"
    password.write_text("x" * 32 + "\n")
    secret.write_text("s" * 64 + "\n")
    result = subprocess.run(["bash", str(ROOT / "deploy" / "install.sh"), "web", "web1", "--site",
                             str(deployed_site), "--password", str(password), "--secret", str(secret), "--dry-run"],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    steps = [line[2:] for line in result.stdout.splitlines() if line.startswith("+ ")]
    text = "\n".join(steps)
    assert any(s.endswith("-e /opt/antrian[web]") for s in steps)
    assert "kivy" not in text.lower() and "libgl1" not in text and "[display]" not in text
    assert "espeak-ng" in steps[1].split()  # the staff app renders the boards' announcements
    assert f"install -o antrian -g antrian -m 0600 {password} /etc/antrian/credentials/web1.password" in steps
    assert f"install -o antrian -g antrian -m 0600 {secret} /etc/antrian/credentials/site.secret" in steps
    # The users file (the site file's `users: web-users`, beside the installed site file)
    assert "chown antrian:antrian /etc/antrian/web-users" in steps
    assert "chmod 0600 /etc/antrian/web-users" in steps
    assert f"install -m 0644 {ROOT}/deploy/antrian-web@.service /etc/systemd/system/antrian-web@.service" in steps
    assert steps[-2:] == ["systemctl enable antrian-web@web1.service", "systemctl restart antrian-web@web1.service"]
    assert "systemctl disable getty@tty1.service" not in steps  # no screen of its own
    assert "note: no staff users yet: sudo /opt/antrian/.venv/bin/antrian web-user --users /etc/antrian/web-users" \
        in result.stderr


def test_install_plan_of_the_public_web_app_says_what_to_copy(deployed_site):
    result = subprocess.run(["bash", str(ROOT / "deploy" / "install.sh"), "web", "publik1", "--site",
                             str(deployed_site), "--dry-run"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "systemctl enable antrian-web@publik1.service" in result.stdout
    assert "web-users" not in result.stdout  # no logins on the public app
    assert "note: no /etc/antrian/credentials/publik1.password yet" in result.stderr
    assert "note: no /etc/antrian/credentials/site.secret yet: copy site.secret" in result.stderr


def test_install_refuses_a_web_app_that_is_not_one_and_the_old_dashboard(deployed_site):
    def install(*args):
        return subprocess.run(["bash", str(ROOT / "deploy" / "install.sh"), *args, "--site", str(deployed_site),
                               "--dry-run"], capture_output=True, text=True, cwd=ROOT, timeout=60)

    result = install("web", "kiosk1")
    assert result.returncode != 0 and "no web device 'kiosk1'" in result.stderr
    result = install("web")
    assert result.returncode != 0 and "web needs the device id" in result.stderr
    result = install("server", "--dashboard")
    assert result.returncode != 0 and "the staff web app (install.sh web web1" in result.stderr
    assert not (ROOT / "deploy" / "antrian-dashboard.service").exists()
    raw = yaml.safe_load(deployed_site.read_text(encoding="utf-8"))
    for device in raw["devices"]:
        if device["id"] == "web1":
            device.pop("users")
    deployed_site.write_text(yaml.safe_dump(raw, allow_unicode=True))
    result = install("web", "web1")
    assert result.returncode != 0 and "web1 is the staff app: give it 'users: web-users'" in result.stderr


def test_install_refuses_a_device_the_site_file_does_not_have(deployed_site):
    result = subprocess.run(["bash", str(ROOT / "deploy" / "install.sh"), "kiosk", "kiosk9", "--site",
                             str(deployed_site), "--dry-run"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode != 0 and "no kiosk device 'kiosk9' (known: kiosk1, kiosk2)" in result.stderr


def test_the_server_serves_time_to_the_lan_and_devices_take_it_from_it(deployed_site, tmp_path):
    server = plan("server", "--site", str(deployed_site))
    assert "chrony" in server[1].split()
    conf = next(s for s in server if s.startswith("write /etc/chrony/conf.d/antrian.conf: "))
    assert "allow 192.168.0.0/16; " in conf and "allow 10.0.0.0/8; " in conf
    assert "local stratum 10; " in conf  # its own clock when the internet is away
    assert "sed -i s/^makestep .*/makestep 1 -1/ /etc/chrony/chrony.conf" in server
    assert server.index("systemctl restart chrony.service") < server.index(
        "systemctl restart antrian-broker.service antrian-dispatcher.service")
    assert not any(s.startswith("write /etc/chrony/sources.d/") for s in server)
    secret = tmp_path / "kiosk1.password"
    secret.write_text("x" * 32 + "\n")
    kiosk = plan("kiosk", "kiosk1", "--site", str(deployed_site), "--password", str(secret))
    assert "write /etc/chrony/sources.d/antrian.sources: " in "\n".join(kiosk)
    source = next(s for s in kiosk if s.startswith("write /etc/chrony/sources.d/antrian.sources: "))
    assert "server 192.168.10.2 iburst prefer; " in source  # the site file's broker host
    assert not any(s.startswith("write /etc/chrony/conf.d/") for s in kiosk)  # a kiosk serves no time
    other = plan("panel", "panel1", "--site", str(deployed_site), "--time-server", "10.0.0.5")
    assert any("server 10.0.0.5 iburst prefer; " in s for s in other)


def test_a_device_on_a_site_file_with_a_loopback_broker_says_it_has_no_time_server():
    result = subprocess.run(["bash", str(ROOT / "deploy" / "install.sh"), "kiosk", "kiosk1", "--site", str(BUTON),
                             "--dry-run"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "note: no time server" in result.stderr and "--time-server HOST" in result.stderr
    assert "write /etc/chrony/sources.d" not in result.stdout
