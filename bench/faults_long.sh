#!/bin/sh
# The fault campaign of tests/faults/ at the issue's sizes: a 500-message queue unplugged for 5 s and
# for 2 min, a modem silent for 30 s, kill -9 twenty times during a 1,000-recipient broadcast and a
# 1,000-SMS inbound burst... (CI runs the same cases smaller). Prints the fault table of README.md.
#   sh bench/faults_long.sh [--results FILE] [pytest arguments, e.g. -k unplug]
# PostgreSQL and MariaDB cases run when MODEMD_TEST_POSTGRES_URL / MODEMD_TEST_MYSQL_URL are set.
cd "$(dirname "$0")/.." || exit 1
exec .venv/bin/python bench/fault_table.py --full "$@"
