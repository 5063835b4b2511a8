#!/usr/bin/env bash
# Installs the Debian servers of the matrix (tests/servers/): Cyrus IMAP, SOGo, DAViCal,
# sabre/dav, with PostgreSQL, memcached, Apache and PHP. Needs root and apt-get (Debian 12).
# Starts nothing: each test session starts its own servers on 127.0.0.1 (conftest.py).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# No service may start on install: the tests start every server by hand, on loopback only.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
packages=(
    cyrus-imapd cyrus-caldav sasl2-bin                      # Cyrus (Fastmail runs Cyrus)
    sogo postgresql-15 memcached apache2                    # SOGo, behind Apache as Debian ships it
    davical libapache2-mod-php8.2 php-pgsql                 # DAViCal on the same PostgreSQL and Apache
    php-sabre-dav php-sqlite3 php-cli                       # sabre/dav 1.8 (Nextcloud's and Baikal's library)
)
if ! dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | grep -qv 'install ok installed' \
        && [ "$(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | wc -l)" -eq "${#packages[@]}" ]; then
    echo "server matrix: every package is installed already"
    exit 0
fi
apt-get update -qq
apt-get install -y -qq "${packages[@]}" > /tmp/syncd-matrix-apt.log 2>&1 \
    || { tail -30 /tmp/syncd-matrix-apt.log; exit 1; }
echo "server matrix: installed ${packages[*]}"
