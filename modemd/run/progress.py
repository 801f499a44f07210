"""Whether each worker thread still gets on with its work: what the systemd watchdog is fed on.

The main loop alone could feed the watchdog while a modem's worker hangs for
minutes (a USB stall blocks a write forever, libGammu waits on a dead port).
So each worker reports at every step of its checklist which step it starts
and how long that step may take (:meth:`Progress.step`): a wait as long as
the wait, a send as long as the driver's own limits for its parts, any other
step as long as ``STEP_COMMANDS`` exchanges with the modem. A worker is
*stuck* once a step outlasts its allowance by more than ``GRACE``; a slow but
live send is therefore never stuck before its driver would have given up on
it. The daemon feeds ``WATCHDOG=1`` only while no worker is stuck, and says
which one is in the log and in systemd's ``STATUS=``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: slack beyond a step's allowance: scheduling, a database commit, a slow disk
GRACE = 5.0


@dataclass(frozen=True)
class Stuck:
    name: str
    step: str
    seconds: float

    def __str__(self) -> str:
        return f"{self.name} stuck {self.step} for {self.seconds:.0f} s"


class Progress:
    """One worker's last sign of life: the step it is in, since when, and how long that step may take."""

    def __init__(self, name: str, may_take: float, clock: Callable[[], float] = time.monotonic):
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._step, self._since, self._may_take = "starting", clock(), may_take

    def step(self, what: str, may_take: float) -> None:
        """The worker starts ``what``, which may take up to ``may_take`` seconds when all is well."""
        now = self._clock()
        with self._lock:
            self._step, self._since, self._may_take = what, now, may_take

    def stuck(self) -> Stuck | None:
        """The step it has been in for longer than allowed, or None while it gets on."""
        now = self._clock()
        with self._lock:
            elapsed = now - self._since
            if elapsed <= self._may_take + GRACE:
                return None
            return Stuck(self.name, self._step, elapsed)
