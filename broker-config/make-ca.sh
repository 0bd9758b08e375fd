#!/usr/bin/env bash
# Make a local certificate authority and a server certificate for the MPP's broker,
# for a site that has no certificates of its own.
#
#   broker-config/make-ca.sh DIR [NAME_OR_IP ...]
#   e.g. sudo broker-config/make-ca.sh /etc/antrian/tls 192.168.10.2 antrian-server.local
#
# Writes into DIR:
#   ca.key      the CA's private key (0600). Keep it off the devices; it signs server
#               certificates. Kept if it exists, so a new server certificate is
#               still trusted by devices that have ca.crt.
#   ca.crt      the CA certificate: copy it to every device (broker.tls.ca in the
#               site file).
#   server.key  the broker's private key (0600; readable by the broker's user).
#   server.crt  the broker's certificate for every NAME_OR_IP given, plus localhost
#               and 127.0.0.1 (broker.tls.cert and broker.tls.key). Devices check
#               that the address they connect to (broker.host) is one of them.
#
# EC P-256 keys: quick to make and to use on a Raspberry Pi. The CA lasts 10 years,
# the server certificate 5 (make a new one with this script before then).
set -euo pipefail

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
command -v openssl >/dev/null || { echo "make-ca.sh: openssl is not installed (apt-get install openssl)" >&2; exit 1; }

dir=$1
shift
mkdir -p "$dir"
umask 077

san="DNS:localhost,IP:127.0.0.1"
for name in "$@"; do
    if [[ $name =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || $name == *:* ]]; then
        san="$san,IP:$name"
    else
        san="$san,DNS:$name"
    fi
done
common=${1:-localhost}

if [ ! -f "$dir/ca.key" ] || [ ! -f "$dir/ca.crt" ]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key"
    openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 -subj "/O=Antrian MPP/CN=Antrian MPP local CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$dir/ca.crt"
    echo "made a new CA: $dir/ca.crt (copy it to every device)"
else
    echo "kept the CA in $dir"
fi

openssl ecparam -name prime256v1 -genkey -noout -out "$dir/server.key"
openssl req -new -key "$dir/server.key" -subj "/O=Antrian MPP/CN=$common" -out "$dir/server.csr"
extensions=$(mktemp)
trap 'rm -f "$extensions" "$dir/server.csr"' EXIT
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
    "$san" > "$extensions"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -sha256 -days 1825 \
    -extfile "$extensions" -out "$dir/server.crt" 2>/dev/null
chmod 0644 "$dir/ca.crt" "$dir/server.crt"
chmod 0600 "$dir/ca.key" "$dir/server.key"
echo "made $dir/server.crt for $san"
echo "the broker's user must be able to read $dir/server.key (e.g. chgrp mosquitto + chmod 0640)"
