#!/usr/bin/env bash
# Makes sure the servers the test suite starts by itself are installable here:
# PostgreSQL's server binaries (initdb, pg_ctl), and Debian's Chromium for the dashboard's browser
# tests (driven by Python Playwright through executable_path: never `playwright install`).
# Installs them with apt when run as root.
set -euo pipefail

have_postgres() {
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1
}

apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "ensure-test-servers: $* missing and not root; install it with your package manager" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "${APT_UPDATED:-}" ]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! have_postgres; then
    echo "ensure-test-servers: installing PostgreSQL"
    apt_install postgresql
fi
echo "ensure-test-servers: PostgreSQL $(ls -d /usr/lib/postgresql/*/ 2>/dev/null | head -1)"

if [ ! -x /usr/bin/chromium ]; then
    echo "ensure-test-servers: installing Chromium"
    if [ "$(id -u)" = 0 ]; then
        apt_install chromium fonts-dejavu-core
    else
        echo "ensure-test-servers: no Chromium and not root: the browser tests (tests/ui) will be skipped" >&2
    fi
fi
echo "ensure-test-servers: $(/usr/bin/chromium --version 2>/dev/null || echo 'Chromium missing')"
