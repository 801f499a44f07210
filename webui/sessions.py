"""Web sessions kept on the server, so that logging out really ends them.

The cookie (Flask's signed session) carries only a random secret; the
database keeps its SHA-256 in a :class:`~modemd.store.models.WebSession` row with
the user, when it started, when it was last used and when it ended. A session
is refused once it has ended (logout; a password change or a disabled account
ends all of the user's sessions), once it is older than ``[web] session_hours``
however busy it was, and once it has been idle for ``[web] idle_minutes``.
A copied cookie therefore dies with the session it was copied from.

``last_seen_at`` is written at most once a minute per session, not on every
request: the idle timeout does not need more precision than that. The two
SELECTs every request makes (session, user) are compiled once (:mod:`modemd.store.sqlcache`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app

from modemd.store.models import User, WebSession, utcnow
from modemd.store.sqlcache import Compiled, Param, get_or_none_by_id

TOUCH_EVERY = timedelta(minutes=1)
KEEP_ENDED = timedelta(days=90)  # old rows say who was logged in when; beyond this they are dropped
_BY_KEY = Compiled(lambda: WebSession.select().where(WebSession.key_hash == Param("key_hash")))


@dataclass(frozen=True)
class Limits:
    lifetime: timedelta
    idle: timedelta


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _limits() -> Limits:
    return current_app.extensions["modemd_session_limits"]


def start(user: User, address: str | None) -> str:
    """A new session for ``user``; returns the secret the cookie carries."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    WebSession.create(key_hash=_hash(key), user=user, address=(address or "")[:64], created_at=now, last_seen_at=now)
    # every session started before this is over by now: logins are rare enough to prune here
    WebSession.delete().where(WebSession.created_at < now - _limits().lifetime - KEEP_ENDED).execute()
    return key


def open_session(key: str, now: datetime | None = None) -> WebSession | None:
    """The live session for ``key`` (with its user loaded), or None; ends it if it just expired."""
    if not key:
        return None
    row = _BY_KEY.first(key_hash=_hash(key))
    if row is None or row.ended_at is not None:
        return None
    user = get_or_none_by_id(User, row.user_id)
    if user is None or not user.active:
        return None
    row.user = user
    now = now or utcnow()
    limits = _limits()
    if now - row.created_at >= limits.lifetime or now - row.last_seen_at >= limits.idle:
        end(row, now)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        WebSession.update(last_seen_at=now).where(WebSession.id == row.id).execute()
    return row


def end(row: WebSession, now: datetime | None = None) -> None:
    WebSession.update(ended_at=now or utcnow()).where(
        (WebSession.id == row.id) & WebSession.ended_at.is_null()
    ).execute()


def end_key(key: str) -> None:
    """End the session whose cookie carries ``key`` (logout)."""
    WebSession.update(ended_at=utcnow()).where(
        (WebSession.key_hash == _hash(key)) & WebSession.ended_at.is_null()
    ).execute()


def init_app(app: Flask, session_hours: int, idle_minutes: int) -> None:
    limits = Limits(lifetime=timedelta(hours=session_hours), idle=timedelta(minutes=idle_minutes))
    app.extensions["modemd_session_limits"] = limits
    app.config["PERMANENT_SESSION_LIFETIME"] = limits.lifetime  # the cookie need not outlive the session
