#!/bin/sh
# Install modemd for real on a Debian 12 PC (run as root from the source folder):
#   system user "modemd" (in group dialout), program in /opt/modemd, configuration in /etc/modemd
#   (an edited file is never overwritten; the new sample goes beside it as *.dist), data in
#   /var/lib/modemd, systemd units, and a first admin account whose password is printed once.
# Running it again upgrades the program and keeps the configuration and the data.
#
# The folders can be changed through the environment (tests/test_install.py installs into a
# temporary root this way): PREFIX, ETC, STATE, BINDIR (the `modemd` command's link), UNITDIR
# (systemd units), SYSTEMCTL (the systemctl command), and SKIP_APT=1 when the Debian packages
# below are installed already.
set -eu
# nothing below may be readable by other local users (the database holds citizens' numbers)
umask 027
cd "$(dirname "$0")/.."
SRC=$(pwd)
PREFIX=${PREFIX:-/opt/modemd}
ETC=${ETC:-/etc/modemd}
STATE=${STATE:-/var/lib/modemd}
BINDIR=${BINDIR:-/usr/local/bin}
UNITDIR=${UNITDIR:-/etc/systemd/system}
SYSTEMCTL=${SYSTEMCTL:-systemctl}
# Debian's Python, never the first python3 on root's PATH: a pyenv or conda Python under /root
# would become the venv's interpreter, which the modemd user may not open ("Permission denied")
PYTHON=/usr/bin/python3

[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo sh scripts/install.sh)" >&2; exit 1; }

if [ "${SKIP_APT:-0}" != 1 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 python3-venv gammu
fi
"$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || {
    echo "install.sh: $PYTHON cannot make a venv: apt-get install python3 python3-venv" >&2; exit 1; }

getent group modemd >/dev/null || addgroup --system modemd
id modemd >/dev/null 2>&1 || adduser --system --ingroup modemd --home "$STATE" --no-create-home \
    --shell /usr/sbin/nologin --gecos "modemd SMS Center" modemd
adduser modemd dialout >/dev/null

# The program is no secret and the modemd user must run it: readable by all (umask 022 here only).
# A venv made by an older install.sh from another Python (pyenv, conda) is made anew.
if [ -e "$PREFIX/venv/bin/python" ] && [ "$(readlink -f "$PREFIX/venv/bin/python")" != "$(readlink -f "$PYTHON")" ]; then
    echo "install.sh: $PREFIX/venv was made with $(readlink -f "$PREFIX/venv/bin/python"); making it anew with $PYTHON"
    rm -rf "$PREFIX/venv"
fi
(
    umask 022
    install -d -m 0755 "$PREFIX"
    [ -x "$PREFIX/venv/bin/python" ] || "$PYTHON" -m venv "$PREFIX/venv"
    # the gammu extra (python-gammu) always: switching a modem to driver = gammu, when the AT driver does
    # not get along with it, must not need another install (the AT and sim drivers never load it)
    "$PREFIX/venv/bin/python" -m pip install -q --disable-pip-version-check --root-user-action=ignore "$SRC[server,gammu]"
    install -m 0644 README.md "$PREFIX/README.md"
)
ln -sf "$PREFIX/venv/bin/modemd" "$BINDIR/modemd"

install -d -o root -g modemd -m 0750 "$ETC"
install -d -o modemd -g modemd -m 0750 "$STATE"
for file in modemd.ini keywords.ini; do
    if [ -e "$ETC/$file" ]; then
        target=$ETC/$file.dist
        echo "kept your $ETC/$file (the new sample is $target)"
    else
        target=$ETC/$file
    fi
    if [ "$file" = keywords.ini ] && [ "$target" = "$ETC/$file" ]; then
        # the sample's owners (humas, dishub, ...) do not exist yet, and modemd refuses to start
        # with a keyword owned by an unknown user: install the examples commented out
        sed -e 's/^\([^;#]\)/;\1/' "config/$file" > "$target"
    else
        sed -e "s#/var/lib/modemd#$STATE#g" "config/$file" > "$target"
    fi
    chown root:modemd "$target"
    chmod 0640 "$target"
done
install -m 0644 config/99-modemd.rules "$ETC/99-modemd.rules.example"

# the units name the default folders; other folders are written into them
for unit in modemd.service modemd-web.service; do
    sed -e "s#/usr/local/bin/modemd#$BINDIR/modemd#g; s#/opt/modemd#$PREFIX#g" \
        -e "s#/etc/modemd#$ETC#g; s#/var/lib/modemd#$STATE#g" "systemd/$unit" > "$UNITDIR/$unit"
    chmod 0644 "$UNITDIR/$unit"
done
$SYSTEMCTL daemon-reload

# as the modemd user, from a folder it may enter (the source folder may be under /root)
cd "$STATE"
export MODEMD_CONFIG="$ETC/modemd.ini"
runuser -u modemd -- "$BINDIR/modemd" db upgrade
if ! runuser -u modemd -- "$BINDIR/modemd" user list --json | grep -q '"role": "admin"'; then
    password=$(runuser -u modemd -- "$PREFIX/venv/bin/python" -c 'from modemd.users import random_password; print(random_password())')
    printf '%s\n' "$password" | runuser -u modemd -- "$BINDIR/modemd" user add admin --role admin --name Administrator --password-stdin
    echo "first admin login: admin / $password   (shown once; change it in the web UI)"
fi

runuser -u modemd -- "$BINDIR/modemd" check || true
$SYSTEMCTL enable --now modemd-web.service
$SYSTEMCTL enable modemd.service
cat <<MSG

Installed. Next:
  1. Plug in the modem; give it a stable name: $ETC/99-modemd.rules.example -> /etc/udev/rules.d/
  2. Edit $ETC/modemd.ini ([modem:...] device) and $ETC/keywords.ini; create each keyword owner:
       modemd user add kadishub --role official --name "Kepala Dinas Perhubungan" --phone 0812...
  3. modemd check          (prints every problem with file, line and key)
     modemd probe          (talks to the modem: signal, operator, SIM)
  4. systemctl start modemd; journalctl -u modemd -f
MSG
