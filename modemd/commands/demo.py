"""``modemd demo``: a complete SMS Center on this PC with a simulated modem.

Writes a configuration into a folder (once), creates the database and the
accounts, prints the web address and a first admin login, then runs the
daemon and the web UI as two processes -- exactly as systemd would -- until
Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HELP = "run a demo SMS Center here: simulated modem, SQLite, web UI on 127.0.0.1, a first admin login printed"

DEMO_INI = """\
; modemd demo configuration, written by `modemd demo`. Edit freely; see config/modemd.ini for every key.
[modemd]
database = sqlite:///modemd.db
keywords = keywords.ini
state_dir = .
log_level = info

[modem:sim1]
driver = sim
; seconds per SMS part, like a real modem; delivery reports after report_delay seconds
send_delay = {send_delay}
report_delay = 5
; replies to this number always fail, to show how a failure looks
fail_numbers = +6281111111111

[web]
listen = {listen}
secret_key_file = secret.key
demo = yes
base_url = http://{listen}/
"""

DEMO_KEYWORDS = """\
; Demo keywords. A citizen sends e.g. "DISHUB lampu merah di Jl. Merdeka mati".
[INFO]
owner = humas
aliases = HUMAS, TANYA
description = Informasi umum dan pertanyaan kepada Pemerintah Daerah
reply = Terima kasih. Pesan Anda tercatat dengan nomor #{case} dan akan dijawab paling lambat 3 jam.

[DISHUB]
owner = dishub
aliases = PERHUBUNGAN, JALAN
description = Dinas Perhubungan: jalan, angkutan umum, lampu lalu lintas
reply = Terima kasih. Laporan #{case} diteruskan ke Dinas Perhubungan.

[DINKES]
owner = dinkes
aliases = KESEHATAN
description = Dinas Kesehatan: puskesmas, rumah sakit, layanan kesehatan
"""

DEMO_OFFICIALS = (
    ("humas", "Bagian Humas", "081200000001", "HUMAS"),
    ("dishub", "Dinas Perhubungan", "081200000002", "DISHUB"),
    ("dinkes", "Dinas Kesehatan", "081200000003", "DINKES"),
)


def configure(parser) -> None:
    parser.add_argument(
        "--dir", default="demo", help="folder for the demo's configuration and database (default ./demo)"
    )
    parser.add_argument("--listen", default="127.0.0.1:8080", help="web UI address (default 127.0.0.1:8080)")
    parser.add_argument("--send-delay", default="3", help="simulated seconds per SMS part (default 3)")
    parser.add_argument("--setup-only", action="store_true", help="write the configuration and accounts, then stop")


def prepare(folder: Path, listen: str, send_delay: str) -> tuple[Path, list[tuple[str, str]]]:
    """Write the demo files if missing, create the database and accounts. Returns (ini, new logins)."""
    from modemd.store import db, migrations
    from modemd.store.models import User

    from .. import config as config_module
    from .. import users
    from ..privatefiles import PRIVATE_FILE, create_private_file, private_dir, tighten

    private_dir(folder)  # the database in it holds password hashes and citizens' numbers
    ini = folder / "modemd.ini"
    keywords = folder / "keywords.ini"
    for path, text in ((ini, DEMO_INI.format(listen=listen, send_delay=send_delay)), (keywords, DEMO_KEYWORDS)):
        if not create_private_file(path, text):
            tighten(path, PRIVATE_FILE)  # kept as edited, but no longer readable by others
    config = config_module.load(ini)
    database = db.open_database(config.database_url)
    migrations.upgrade(database)
    created = []
    if User.by_login("admin") is None:
        password = users.random_password()
        users.create_user("admin", "admin", password, name="Administrator", actor="demo")
        created.append(("admin", password))
    if User.by_login("ketua") is None:
        password = users.random_password()
        users.create_user("ketua", "approver", password, name="Ketua Humas", phone_number="081200000008", actor="demo")
        created.append(("ketua", password))
    for login, name, number, sender in DEMO_OFFICIALS:
        if User.by_login(login) is None:
            password = users.random_password()
            users.create_user(
                login, "official", password, name=name, phone_number=number, sender_id=sender, actor="demo"
            )
            created.append((login, password))
    database.close()
    return ini, created


def _command_name() -> str:
    """How to call modemd from a shell: a venv's modemd is not on PATH."""
    beside = Path(sys.executable).parent / "modemd"
    return str(beside) if beside.exists() and shutil.which("modemd") != str(beside) else "modemd"


def main(args) -> int:
    folder = Path(args.dir).resolve()
    ini, created = prepare(folder, args.listen, args.send_delay)
    print(f"modemd demo in {folder}")
    print(f"  web UI:  http://{args.listen}/")
    if created:
        print("  logins (printed once; change them in the web UI):")
        for login, password in created:
            print(f"    {login:8} {password}")
    else:
        print(f"  accounts exist already; new admin password: {_command_name()} -c {ini} user set-password admin")
    print(f"  send a citizen's SMS:  {_command_name()} -c {ini} simulate 081234567890 'DISHUB lampu merah mati'")
    print("  (or use the Demo page in the web UI). Ctrl-C stops the demo.")
    sys.stdout.flush()
    if args.setup_only:
        return 0
    return _run_both(ini)


def _run_both(ini: Path) -> int:
    command = [sys.executable, "-m", "modemd", "--config", str(ini)]
    children = [subprocess.Popen(command + ["run"]), subprocess.Popen(command + ["web"])]
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    status = 0
    while not stopping:
        exited = [child for child in children if child.poll() is not None]
        if exited:
            status = exited[0].returncode or 1
            break
        time.sleep(0.3)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(child.pid, signal.SIGKILL)
    return 0 if stopping else status
