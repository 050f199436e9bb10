#!/usr/bin/env bash
# Makes sure the servers the test suite starts by itself are installable here:
# PostgreSQL's server binaries (initdb, pg_ctl). Installs them with apt when run as root.
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
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! have_postgres; then
    echo "ensure-test-servers: installing PostgreSQL"
    apt_install postgresql
fi
echo "ensure-test-servers: PostgreSQL $(ls -d /usr/lib/postgresql/*/ 2>/dev/null | head -1)"
