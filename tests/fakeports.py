"""Serial ports that are not modems, on real pseudo-terminals, for ``modemd detect``'s tests.

``NoModemPort("silent")`` swallows everything (a stick's diagnostics port),
``"echo"`` sends every byte back (a loopback plug, a terminal), ``"junk"``
prints noise of its own (a GPS, a UPS, a console at another rate).
"""

from __future__ import annotations

import os
import select
import tempfile
import threading
import time
import tty

JUNK = b"\x00\xfe$GPGGA,0,,,,,0*66\r\n\x9c\x80 ups: 231V 50Hz\r\n"


class NoModemPort:
    def __init__(self, kind: str, directory: str | None = None, name: str | None = None):
        if kind not in ("silent", "echo", "junk"):
            raise ValueError(kind)
        self.kind = kind
        self._dir = directory or tempfile.mkdtemp(prefix="fakeport-")
        self.device = os.path.join(self._dir, name or f"tty{kind}")
        self.received = bytearray()
        self._stop = threading.Event()
        master, slave = os.openpty()
        tty.setraw(slave)
        os.symlink(os.ttyname(slave), self.device)
        os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        self._thread = threading.Thread(target=self._serve, name=f"fakeport {kind}", daemon=True)

    def __enter__(self) -> NoModemPort:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        os.close(self._master)
        os.unlink(self.device)

    def _serve(self) -> None:
        next_junk = 0.0
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master], [], [], 0.05)
            data = b""
            if readable:
                try:
                    data = os.read(self._master, 4096)
                except OSError:
                    data = b""
                self.received.extend(data)
            try:
                if self.kind == "echo" and data:
                    os.write(self._master, data)
                elif self.kind == "junk" and time.monotonic() >= next_junk:
                    next_junk = time.monotonic() + 0.1
                    os.write(self._master, JUNK)
            except OSError:
                pass  # nobody on the other side, or its buffer is full
