"""Files that hold personal data or secrets are private to the modemd user, whatever the umask.

The database holds password hashes and citizens' numbers; the INI files,
the web secret key, the privacy salt and the simulated modem's spool are
no one else's business either. With the usual umask 022 a plain ``open`` or
``mkdir`` would make them readable by every local user. So:

* folders modemd creates are 0700, files 0600, by explicit modes (a umask can
  only take bits away from those);
* a file or folder an older version left open to others is tightened when
  modemd uses it, if it belongs to the user running modemd (the installed
  ``/etc/modemd`` belongs to root, mode 0640/0750, group modemd: left alone);
* every ``modemd`` command runs with at least umask 027 (:func:`restrict_umask`),
  so nothing else it writes is writable by its group or visible to others.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger("modemd.files")

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
LEAST_UMASK = 0o027


def restrict_umask() -> None:
    """Add group-write and every "other" bit to the process umask (it never loosens it)."""
    os.umask(os.umask(LEAST_UMASK) | LEAST_UMASK)


def tighten(path: Path | str, allowed: int) -> None:
    """Remove the mode bits outside ``allowed`` from our own ``path``; others' files and missing ones are left."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    current = info.st_mode & 0o7777
    if info.st_uid == os.geteuid() and current & ~allowed:
        os.chmod(path, current & allowed)


def private_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a folder only its owner can enter (created 0700 with missing parents, or tightened)."""
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:  # another process made it just now
            pass
    tighten(path, PRIVATE_DIR)
    return path


def create_private_file(path: Path | str, text: str) -> bool:
    """Write ``text`` into a new file of mode 0600; False (nothing written) if it exists already.

    Exclusive creation: two processes starting together never both write,
    and the file is never, even for a moment, readable by others.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return True


def secret_file(path: Path | str, what: str) -> str:
    """The secret in ``path``; a new random one (64 hex digits) is written 0600 if the file is missing.

    If another process (a second waitress worker) writes it at the same
    moment, both read the one that was written first.
    """
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if not path.parent.exists():
            private_dir(path.parent)
        if create_private_file(path, secrets.token_hex(32) + "\n"):
            log.info("created a new %s in %s", what, path)
        return path.read_text(encoding="utf-8").strip()


def private_sqlite_files(path: str) -> None:
    """Create a new SQLite database file 0600 (SQLite gives its -wal, -shm and -journal the same mode),
    and tighten those an older version left readable."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except (FileExistsError, FileNotFoundError, PermissionError):
        pass  # there already, or a folder SQLite will report as missing or closed
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        tighten(name, PRIVATE_FILE)
