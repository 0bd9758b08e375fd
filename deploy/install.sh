#!/usr/bin/env bash
# Install Antrian MPP on a Raspberry Pi OS (Bookworm, 64-bit) or Debian machine for one role.
#
#   sudo deploy/install.sh ROLE [DEVICE] [--site FILE] [--password FILE] [--secret FILE]
#                          [--ca FILE] [--time-server HOST] [--dry-run]
#
# ROLE
#   server           the broker and the dispatcher
#   broker           the broker only          dispatcher   the dispatcher only
#   kiosk DEVICE     a touch kiosk            display DEVICE   a TV board (also: board)
#   panel DEVICE     a counter button panel
#   web DEVICE       a browser app (role: web): the staff app (dashboard, TV boards in a
#                    browser) or the public app (citizens' tickets), as the site file says
# Options
#   --site FILE      the site file to install as /etc/antrian/site.yaml (needed the
#                    first time; later runs keep the installed one unless given)
#   --password FILE  this device's broker password, the DEVICE.password that
#                    `antrian broker-files` made on the server (devices only)
#   --secret FILE    the site secret (site.secret, made by `antrian broker-files` on
#                    the server; web apps and a dispatcher on its own Pi)
#   --ca FILE        the broker's CA certificate, copied to the broker.tls.ca path
#                    the site file names (devices, when the site uses TLS)
#   --time-server HOST  devices: the LAN's time server (default: the site file's
#                    broker.host, the server Pi)
#   --dry-run        print what would be done, change nothing (no root needed)
#
# What it does: installs the Debian packages of the role, makes the service user
# "antrian", copies this checkout to /opt/antrian with its venv in /opt/antrian/.venv
# (only the role's Python extras), puts the site file in /etc/antrian, the broker
# files or this device's password in the site's credentials_dir, then installs and
# enables the role's systemd unit (Restart=always) and starts it. The clock: chrony
# on every Pi; the server (and a dispatcher Pi) serves time to the LAN from its own
# clock when the internet is away, the devices take their time from it. Running it
# again updates the code and keeps the site file, the passwords and the database.
# docs/operations.md has the whole procedure, updates, backups and password rotation.
set -euo pipefail

usage() { sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
die() { echo "install.sh: $*" >&2; exit 1; }
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/antrian
VENV=$PREFIX/.venv
ETC=/etc/antrian
SITE=$ETC/site.yaml
UNITS=/etc/systemd/system
USER_NAME=antrian

role=${1:-}
[ -n "$role" ] || usage
shift
device=""
case "$role" in
    kiosk|display|board|panel|web)
        if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
            die "$role needs the device id from the site file, e.g. $role ${role}1"
        fi
        device=$1
        shift
        ;;
    server|broker|dispatcher) ;;
    -h|--help) usage ;;
    *) die "unknown role '$role' (server, broker, dispatcher, kiosk, display, panel, web)" ;;
esac
[ "$role" = board ] && role=display

site_file="" password_file="" secret_file="" ca_file="" time_server="" dry=0
while [ $# -gt 0 ]; do
    case "$1" in
        --site) site_file=${2:?--site needs a file}; shift 2 ;;
        --password) password_file=${2:?--password needs a file}; shift 2 ;;
        --secret) secret_file=${2:?--secret needs a file}; shift 2 ;;
        --ca) ca_file=${2:?--ca needs a file}; shift 2 ;;
        --time-server) time_server=${2:?--time-server needs a host}; shift 2 ;;
        --dashboard) die "--dashboard is gone: the head's dashboard is the staff web app (install.sh web web1; docs/operations.md, \"Browser apps\")" ;;
        --dry-run) dry=1; shift ;;
        *) die "unknown option '$1'" ;;
    esac
done

# Every change goes through run (or write), so --dry-run shows the whole plan.
run() {
    if [ "$dry" = 1 ]; then
        printf '+ %s\n' "$*"
    else
        "$@"
    fi
}
# write FILE LINE...: FILE holds exactly these lines (mode 0644).
write() {
    local file=$1
    shift
    if [ "$dry" = 1 ]; then
        printf '+ write %s: %s\n' "$file" "$(printf '%s; ' "$@")"
    else
        install -d -m 0755 "$(dirname "$file")"
        printf '%s\n' "$@" >"$file"
        chmod 0644 "$file"
    fi
}

if [ "$dry" = 0 ] && [ "$(id -u)" -ne 0 ]; then
    die "run it as root: sudo $0 $role ${device:+$device }..."
fi
if [ -n "$site_file" ]; then
    [ -f "$site_file" ] || die "no site file $site_file"
elif [ ! -f "$SITE" ] && [ "$dry" = 0 ]; then
    die "no $SITE yet: give the site file with --site FILE"
fi
for f in "$password_file" "$secret_file" "$ca_file"; do
    [ -z "$f" ] || [ -f "$f" ] || die "no file $f"
done

# -- packages -------------------------------------------------------------------------
apt_packages=(python3 python3-venv python3-pip rsync chrony)
extras=""
units=()
case "$role" in
    server)
        apt_packages+=(mosquitto mosquitto-clients sqlite3 openssl)
        units=(antrian-broker.service antrian-dispatcher.service)
        ;;
    broker)
        apt_packages+=(mosquitto mosquitto-clients openssl)
        units=(antrian-broker.service)
        ;;
    dispatcher)
        apt_packages+=(sqlite3 mosquitto-clients)
        units=(antrian-dispatcher.service)
        ;;
    kiosk)
        # Kivy's wheel brings SDL2; it loads GL/EGL and libmtdev at run time. libusb for a USB printer.
        # python-evdev (the barcode scanner) has no wheel for the Pi: pip builds it (gcc, headers).
        apt_packages+=(libgl1 libegl1 libgles2 libgl1-mesa-dri libmtdev1 libusb-1.0-0 fonts-dejavu-core
                       gcc python3-dev linux-libc-dev)
        extras="kiosk"
        units=("antrian-kiosk@$device.service")
        ;;
    display)
        apt_packages+=(libgl1 libegl1 libgles2 libgl1-mesa-dri libmtdev1 espeak-ng alsa-utils fonts-dejavu-core)
        extras="display"
        units=("antrian-display@$device.service")
        ;;
    panel)
        extras="panel"
        units=("antrian-panel@$device.service")
        ;;
    web)
        # No Kivy, no display libraries: the pages are drawn by the browsers. espeak-ng:
        # the staff app renders the boards' announcements (a public app never runs it).
        apt_packages+=(espeak-ng)
        extras="web"
        units=("antrian-web@$device.service")
        ;;
esac

say "Debian packages: ${apt_packages[*]}"
run apt-get update -qq
run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_packages[@]}"

# -- the service user -------------------------------------------------------------------------
say "service user $USER_NAME"
if ! id "$USER_NAME" >/dev/null 2>&1; then
    run useradd --system --home-dir /var/lib/antrian --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
fi
groups_wanted=()
case "$role" in
    kiosk) groups_wanted=(video render input lp dialout) ;;
    display) groups_wanted=(video render input audio) ;;
    panel) groups_wanted=(gpio input i2c spi) ;;  # i2c, spi: a counter's display (hardware/WIRING.md)
esac
for group in "${groups_wanted[@]}"; do
    if getent group "$group" >/dev/null; then
        run usermod -a -G "$group" "$USER_NAME"
    fi
done

# -- the code and its venv -------------------------------------------------------------------------
say "code in $PREFIX, venv in $VENV${extras:+ (extras: $extras)}"
run mkdir -p "$PREFIX"
run rsync -a --delete --exclude .git --exclude .venv --exclude var --exclude test-artifacts \
    --exclude '__pycache__' --exclude '*.egg-info' --exclude .pytest_cache --exclude .ruff_cache "$SRC/" "$PREFIX/"
[ -x "$VENV/bin/python" ] || run python3 -m venv "$VENV"
run "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
spec="$PREFIX${extras:+[$extras]}"
if [ "$role" = panel ]; then
    # lgpio: gpiozero's pin library on a Pi 5 (and the newer one on older Pis).
    run "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec" lgpio
else
    run "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec"
fi
antrian=$VENV/bin/antrian python=$VENV/bin/python
if [ "$dry" = 1 ] && [ ! -x "$antrian" ] && [ -x "$SRC/.venv/bin/antrian" ]; then
    antrian=$SRC/.venv/bin/antrian python=$SRC/.venv/bin/python  # to read the site file for the plan
fi

# -- the site file -------------------------------------------------------------------------
say "site file $SITE"
run install -d -m 0755 "$ETC"
if [ -n "$site_file" ]; then
    run install -m 0644 "$site_file" "$SITE"
fi
if [ "$dry" = 1 ]; then
    check_site=${site_file:-$SITE}
else
    check_site=$SITE
fi
if [ -x "$antrian" ] && [ -f "$check_site" ]; then
    "$antrian" check-config "$check_site" >/dev/null || die "$check_site has problems: $antrian check-config $check_site"
    # Where the site file says the credentials and the CA live; and is DEVICE one of its ROLE?
    # A web app: is it the staff app, and where is its users file?
    found=$("$python" -c 'import sys; from antrian.site import load, ConfigError
config = load(sys.argv[1])
try:
    device = config.device(sys.argv[2], sys.argv[3]) if sys.argv[2] else None
except ConfigError as exc:
    sys.exit(str(exc))
b = config.broker
app, users = "-", "-"
if sys.argv[3] == "web":
    app = "public" if device.options.get("public") else "staff"
    users = device.options.get("users") or "-"
print(b.credentials_dir or "-", b.tls.ca if b.tls else "-", b.tls.key or "-" if b.tls else "-", b.host, app, users)' \
        "$check_site" "$device" "$role") || exit 1
    read -r creds ca key broker_host web_app users_file <<< "$found"
else
    creds=- ca=- key=- broker_host=- web_app=- users_file=-
fi
[ "$creds" = - ] && echo "note: the site file names no broker.credentials_dir: devices connect without passwords" >&2

# -- credentials -------------------------------------------------------------------------
case "$role" in
    server|broker)
        [ "$creds" != - ] || die "the broker needs broker.credentials_dir in the site file (docs/operations.md)"
        say "broker files in $creds"
        run install -d -m 0755 "$creds"
        run "$VENV/bin/antrian" broker-files --config "$SITE" --out "$creds"
        # The broker (user mosquitto) reads passwd, acl and its config; each secret stays 0600.
        run chgrp mosquitto "$creds/passwd" "$creds/acl" "$creds/mosquitto.conf"
        # The dispatcher (user antrian) reads its password and the site secret (the
        # tickets' links); a web app installed on this Pi too gets its own in the web role.
        for file in dispatcher.password site.secret; do
            if [ "$dry" = 1 ] || [ -f "$creds/$file" ]; then
                run chown "$USER_NAME" "$creds/$file"
            fi
        done
        if [ "$key" != - ]; then
            # The TLS listener: Mosquitto must read its private key (broker-config/make-ca.sh).
            [ "$dry" = 1 ] || [ -f "$key" ] || die "no $key: make it with $PREFIX/broker-config/make-ca.sh"
            run chgrp mosquitto "$key"
            run chmod 0640 "$key"
        fi
        # Debian's own instance would take port 1883.
        run systemctl disable --now mosquitto.service || true
        ;;
    dispatcher)
        [ "$creds" = - ] || [ -f "$creds/dispatcher.password" ] || [ -n "$password_file" ] \
            || echo "note: no $creds/dispatcher.password: give it with --password" >&2
        ;;
    web)
        # On the server Pi, broker-files made this app's password there (root's, 0600).
        if [ -z "$password_file" ] && [ "$creds" != - ] && [ -f "$creds/$device.password" ]; then
            run chown "$USER_NAME:$USER_NAME" "$creds/$device.password"
            run chmod 0600 "$creds/$device.password"
        fi
        ;;
esac
if [ -n "$password_file" ]; then
    [ "$creds" != - ] || die "--password given, but the site file names no broker.credentials_dir"
    user=${device:-dispatcher}
    say "broker password of $user in $creds"
    run install -d -m 0755 "$creds"
    run install -o "$USER_NAME" -g "$USER_NAME" -m 0600 "$password_file" "$creds/$user.password"
elif [ -n "$device" ] && [ "$creds" != - ] && [ ! -f "$creds/$device.password" ]; then
    echo "note: no $creds/$device.password yet: copy $device.password from the server's $creds" \
         "(made by antrian broker-files) and run again with --password FILE" >&2
fi
# The site secret: the citizens' ticket addresses are made from it (antrian/links.py).
if [ -n "$secret_file" ]; then
    [ "$creds" != - ] || die "--secret given, but the site file names no broker.credentials_dir"
    say "site secret in $creds"
    run install -d -m 0755 "$creds"
    run install -o "$USER_NAME" -g "$USER_NAME" -m 0600 "$secret_file" "$creds/site.secret"
elif [ "$role" = web ] || [ "$role" = dispatcher ]; then
    if [ "$creds" != - ] && [ ! -f "$creds/site.secret" ]; then
        echo "note: no $creds/site.secret yet: copy site.secret from the server's $creds" \
             "(made by antrian broker-files) and run again with --secret FILE" >&2
    elif [ "$role" = web ] && [ "$creds" != - ]; then
        run chown "$USER_NAME" "$creds/site.secret"  # on the server Pi: the dispatcher's too
    fi
fi
if [ -n "$ca_file" ]; then
    [ "$ca" != - ] || die "--ca given, but the site file has no broker.tls.ca"
    run install -D -m 0644 "$ca_file" "$ca"
fi

# -- the staff app's logins -------------------------------------------------------------------------
# Only the staff app has users (`antrian web-user`); the file holds password hashes and
# stays readable by the service user alone.
if [ "$web_app" = staff ]; then
    [ "$users_file" != - ] || die "$device is the staff app: give it 'users: web-users' in the site file" \
        "(its logins, then $ETC/web-users; docs/operations.md, \"Browser apps\")"
    case "$users_file" in
        /*) ;;
        *) users_file=$ETC/$users_file ;;  # relative to the installed site file's folder
    esac
    say "the staff app's users in $users_file"
    if [ "$dry" = 1 ] || [ -f "$users_file" ]; then
        run chown "$USER_NAME:$USER_NAME" "$users_file"
        run chmod 0600 "$users_file"
    fi
    if [ ! -f "$users_file" ]; then
        echo "note: no staff users yet: sudo $VENV/bin/antrian web-user --users $users_file add NAME --role kepala," \
             "then run this again (it gives the file to $USER_NAME, mode 0600)" >&2
    fi
fi

# -- the clock -------------------------------------------------------------------------
# The business day and the ticket numbers follow the server's clock, and a Pi has no
# battery clock: one time for the whole LAN, kept by the server even with the internet
# away for days (docs/operations.md, "Time on the LAN"). chrony replaces Debian's
# systemd-timesyncd; a fitted RTC keeps the time across a power cut (chrony's rtcsync,
# on in Debian's chrony.conf).
case "$role" in
    server|dispatcher)
        say "time server for the LAN (chrony)"
        write /etc/chrony/conf.d/antrian.conf \
            "# Antrian MPP: this Pi is the LAN's time server (deploy/install.sh)." \
            "allow 10.0.0.0/8" "allow 172.16.0.0/12" "allow 192.168.0.0/16" \
            "# With no internet source, serve this Pi's own clock rather than nothing." \
            "local stratum 10"
        ;;
    *)
        if [ -z "$time_server" ]; then
            case "$broker_host" in
                -|127.*|localhost|::1) ;;
                *) time_server=$broker_host ;;
            esac
        fi
        if [ -n "$time_server" ]; then
            say "time from $time_server (chrony)"
            write /etc/chrony/sources.d/antrian.sources \
                "# Antrian MPP: the LAN's time server, the server Pi (deploy/install.sh)." \
                "server $time_server iburst prefer"
        else
            echo "note: no time server: the site file's broker.host is this machine; give --time-server HOST" >&2
        fi
        ;;
esac
# Step a clock more than a second off at any time, not only in the first three updates:
# a Pi that reaches its time server an hour after boot must not slew for a day. (Debian's
# chrony.conf sets makestep after its conf.d, so the line itself is changed.)
run sed -i 's/^makestep .*/makestep 1 -1/' /etc/chrony/chrony.conf
run systemctl enable chrony.service
run systemctl restart chrony.service

# -- the units -------------------------------------------------------------------------
say "systemd units: ${units[*]}"
for unit in "${units[@]}"; do
    template=${unit/@*./@.}
    run install -m 0644 "$SRC/deploy/$template" "$UNITS/$template"
done
if [ "$role" = kiosk ] || [ "$role" = display ]; then
    # The app takes tty1 instead of its login prompt (other consoles: Ctrl-Alt-F2).
    run systemctl disable getty@tty1.service || true
fi
run systemctl daemon-reload
run systemctl enable "${units[@]}"
run systemctl restart "${units[@]}"
say "done. Logs: journalctl -u ${units[0]%.service} -f"
