"""Slowing down password guessing without handing anyone a way to lock others out.

Failures are counted in memory under three kinds of key, each with its own
policy (failures allowed free, then a lock that doubles with each further
failure, up to a cap):

* (account, address): the person who mistyped waits seconds, a script at one
  address waits up to 15 minutes per guess. A success clears only this key.
* address: one address spraying many accounts (an insider, a NAT'd office
  allows ten). Its own successful logins do NOT clear it.
* account, over all addresses: a slower ceiling against guessing spread over
  many addresses. It holds back only addresses that have already failed on
  that account: a correct password from an address that has not failed is
  never refused, so guessing at an account cannot lock its owner out.

A record with no failure for a day is forgotten. The administrator sees the
current locks and clears one (users page); ``clear()`` empties everything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple


class Kind(str, Enum):  # noqa: UP042 (str() and format() of a StrEnum differ: kept as written)
    PAIR = "pair"
    ADDRESS = "address"
    ACCOUNT = "account"


@dataclass(frozen=True)
class Policy:
    free_failures: int
    base_delay: float
    max_delay: float

    def delay(self, failures: int) -> float:
        over = failures - self.free_failures
        return min(self.max_delay, self.base_delay * 2 ** (over - 1)) if over > 0 else 0.0


POLICIES = {
    Kind.PAIR: Policy(free_failures=3, base_delay=2.0, max_delay=900.0),
    Kind.ADDRESS: Policy(free_failures=10, base_delay=2.0, max_delay=900.0),
    Kind.ACCOUNT: Policy(free_failures=20, base_delay=60.0, max_delay=3600.0),
}
FORGET_AFTER = 24 * 3600.0
MAX_RECORDS = 100_000


class Key(NamedTuple):
    kind: Kind
    account: str  # "" for an address key
    address: str  # "" for an account key


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0


class Lock(NamedTuple):
    """A lock as the administrator sees it."""

    kind: Kind
    account: str
    address: str
    failures: int
    seconds_left: float


def _keys(account: str, address: str) -> tuple[Key, Key, Key]:
    return Key(Kind.PAIR, account, address), Key(Kind.ADDRESS, "", address), Key(Kind.ACCOUNT, account, "")


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] | None = None, policies: dict[Kind, Policy] | None = None):
        self.clock = clock or (lambda: time.monotonic())  # looked up at each call, so tests can move time
        self.policies = policies or POLICIES
        self._records: dict[Key, _Record] = {}
        self._lock = threading.Lock()

    def wait_left(self, account: str, address: str) -> float:
        """Seconds until ``address`` may try a password for ``account`` (0 = may try now)."""
        now = self.clock()
        pair, by_address, by_account = _keys(account, address)
        with self._lock:
            waits = [self._left(pair, now), self._left(by_address, now)]
            if self._records.get(pair):  # the account's ceiling holds back only addresses that failed on it
                waits.append(self._left(by_account, now))
        return max(waits)

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        with self._lock:
            for key in _keys(account, address):
                record = self._records.setdefault(key, _Record())
                if now - record.last_failure > FORGET_AFTER:
                    record.failures = 0
                record.failures += 1
                record.last_failure = now
                delay = self.policies[key.kind].delay(record.failures)
                if delay:
                    record.locked_until = now + delay
            if len(self._records) > MAX_RECORDS:
                # a flood of made-up logins must not eat the memory: forget the unlocked ones
                for stale in [k for k, r in self._records.items() if r.locked_until < now]:
                    del self._records[stale]

    def succeeded(self, account: str, address: str) -> None:
        with self._lock:
            self._records.pop(Key(Kind.PAIR, account, address), None)

    def locks(self) -> list[Lock]:
        """The keys locked now, longest wait first."""
        now = self.clock()
        with self._lock:
            found = [
                Lock(k.kind, k.account, k.address, r.failures, r.locked_until - now)
                for k, r in self._records.items()
                if r.locked_until > now
            ]
        return sorted(found, key=lambda lock: -lock.seconds_left)

    def unlock(self, account: str, address: str) -> bool:
        """Forget the key of a lock the administrator picked (``account`` or ``address`` empty for those kinds)."""
        kind = Kind.PAIR if account and address else Kind.ACCOUNT if account else Kind.ADDRESS
        with self._lock:
            return self._records.pop(Key(kind, account, address), None) is not None

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def _left(self, key: Key, now: float) -> float:
        record = self._records.get(key)
        return max(0.0, record.locked_until - now) if record else 0.0
