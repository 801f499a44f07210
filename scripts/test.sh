#!/bin/sh
# Install what the tests need and run the whole test suite.
# Usage (Debian 12, as root or with sudo):  sh scripts/test.sh [pytest options]
# PostgreSQL/MariaDB tests run when MODEMD_TEST_POSTGRES_URL / MODEMD_TEST_MYSQL_URL are set.
set -eu
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
# gammu: the CLI the fake modem is checked against; chromium: browser tests; systemd: systemd-analyze verify;
# nodejs: the web UI's SMS counter is compared with the server's under node;
# npm: axe-core (accessibility checks in tests/browser), installed into a test-only folder
PACKAGES="python3 python3-venv gammu chromium systemd"
# a Node.js installed another way (e.g. NodeSource's nodejs, which bundles npm and conflicts with
# Debian's npm package) is used as it is
command -v node >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs"
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"
missing=""
for package in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing="$missing $package"
done
if [ -n "$missing" ]; then
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test,server,gammu]"
# axe-core for the accessibility test, pinned in tests/browser/node/package.json; offline, that test is skipped
npm install --silent --no-audit --no-fund --prefix tests/browser/node \
    || echo "test.sh: could not install axe-core with npm: the accessibility test will be skipped" >&2
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "test.sh: pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
