#!/bin/sh
# Set up and run a demo SMS Center on this PC: simulated modem, SQLite, web UI on 127.0.0.1:8080.
# Prints the address and a first admin login. Ctrl-C stops it; run it again to continue where you left.
# Usage (Debian 12, as root or with sudo):  sh scripts/demo.sh
set -eu
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check .
exec .venv/bin/modemd demo --dir demo "$@"
