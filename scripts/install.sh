#!/bin/sh
# Install modemd for real on a Debian 12 PC (run as root from the source folder):
#   system user "modemd" (in group dialout), program in /opt/modemd, configuration in /etc/modemd
#   (an edited file is never overwritten; the new sample goes beside it as *.dist), data in
#   /var/lib/modemd, systemd units, and a first admin account whose password is printed once.
set -eu
# nothing below may be readable by other local users (the database holds citizens' numbers)
umask 027
cd "$(dirname "$0")/.."
SRC=$(pwd)
PREFIX=/opt/modemd
ETC=/etc/modemd
STATE=/var/lib/modemd

[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo sh scripts/install.sh)" >&2; exit 1; }

apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 python3-venv gammu

getent group modemd >/dev/null || addgroup --system modemd
id modemd >/dev/null 2>&1 || adduser --system --ingroup modemd --home "$STATE" --no-create-home \
    --shell /usr/sbin/nologin --gecos "modemd SMS Center" modemd
adduser modemd dialout >/dev/null

[ -x "$PREFIX/venv/bin/python" ] || python3 -m venv "$PREFIX/venv"
# the gammu extra (python-gammu) always: switching a modem to driver = gammu, when the AT driver does
# not get along with it, must not need another install (the AT and sim drivers never load it)
"$PREFIX/venv/bin/python" -m pip install -q --disable-pip-version-check "$SRC[server,gammu]"
ln -sf "$PREFIX/venv/bin/modemd" /usr/local/bin/modemd
install -m 0644 README.md "$PREFIX/README.md"

install -d -o root -g modemd -m 0750 "$ETC"
install -d -o modemd -g modemd -m 0750 "$STATE"
for file in modemd.ini keywords.ini; do
    if [ -e "$ETC/$file" ]; then
        install -o root -g modemd -m 0640 "config/$file" "$ETC/$file.dist"
        echo "kept your $ETC/$file (the new sample is $ETC/$file.dist)"
    elif [ "$file" = keywords.ini ]; then
        # the sample's owners (humas, dishub, ...) do not exist yet, and modemd refuses to start
        # with a keyword owned by an unknown user: install the examples commented out
        sed -e 's/^\([^;#]\)/;\1/' "config/$file" > "$ETC/$file"
        chown root:modemd "$ETC/$file"; chmod 0640 "$ETC/$file"
    else
        install -o root -g modemd -m 0640 "config/$file" "$ETC/$file"
    fi
done
install -m 0644 config/99-modemd.rules "$ETC/99-modemd.rules.example"

install -m 0644 systemd/modemd.service systemd/modemd-web.service /etc/systemd/system/
systemctl daemon-reload

export MODEMD_CONFIG="$ETC/modemd.ini"
runuser -u modemd -- /usr/local/bin/modemd db upgrade
if ! runuser -u modemd -- /usr/local/bin/modemd user list --json | grep -q '"role": "admin"'; then
    password=$(runuser -u modemd -- "$PREFIX/venv/bin/python" -c 'from modemd.users import random_password; print(random_password())')
    printf '%s\n' "$password" | runuser -u modemd -- /usr/local/bin/modemd user add admin --role admin --name Administrator --password-stdin
    echo "first admin login: admin / $password   (shown once; change it in the web UI)"
fi

runuser -u modemd -- /usr/local/bin/modemd check || true
systemctl enable --now modemd-web.service
systemctl enable modemd.service
cat <<MSG

Installed. Next:
  1. Plug in the modem; give it a stable name: $ETC/99-modemd.rules.example -> /etc/udev/rules.d/
  2. Edit $ETC/modemd.ini ([modem:...] device) and $ETC/keywords.ini; create each keyword owner:
       modemd user add kadishub --role official --name "Kepala Dinas Perhubungan" --phone 0812...
  3. modemd check          (prints every problem with file, line and key)
     modemd probe          (talks to the modem: signal, operator, SIM)
  4. systemctl start modemd; journalctl -u modemd -f
MSG
