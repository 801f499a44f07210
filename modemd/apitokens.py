"""API tokens: another system's key to the HTTP API (webui/api), acting as one user within scopes.

The secret is shown once, when the token is made; the database keeps only its
SHA-256 (the secret is 256 random bits, so a fast hash is enough: nothing to
guess), so a copy of the database opens nothing. The command line
(``modemd token``) and the admin page (webui/admin/tokens.py) both work here.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee

from modemd.store.models import ApiToken, User, audit, utcnow
from modemd.store.sqlcache import Compiled, Param, get_or_none_by_id

#: what a token may do; a request outside its scopes is answered 403
SCOPES = ("send", "cases:read", "cases:reply", "status", "broadcasts")
PREFIX = "mdt_"  # makes a leaked token easy to recognise (secret scanners, logs)
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
#: last use and address are written at most this often per token (not on every request)
TOUCH_EVERY = timedelta(seconds=60)


# every API request looks its token up: SQL compiled once (modemd.store.sqlcache, bench/bench_api.py)
_BY_HASH = Compiled(lambda: ApiToken.select().where(ApiToken.token_hash == Param("token_hash")))


class TokenError(ValueError):
    """A token that cannot be made or changed; ``code`` says why, for translated messages."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_scopes(text: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"send,status"`` (or a list) -> the scopes in :data:`SCOPES` order; TokenError for an unknown one."""
    items = text.split(",") if isinstance(text, str) else list(text)
    wanted = {item.strip() for item in items if item.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise TokenError(f"unknown scope {', '.join(unknown)} (expected some of: {', '.join(SCOPES)})", "scope")
    if not wanted:
        raise TokenError(f"choose at least one scope of: {', '.join(SCOPES)}", "no_scope")
    return [scope for scope in SCOPES if scope in wanted]


def parse_expiry(text: str) -> timedelta | None:
    """``"90d"``, ``"12h"``, ``"never"`` or empty -> a lifetime (None: never expires)."""
    text = (text or "").strip().lower()
    if text in ("", "never", "0"):
        return None
    match = re.fullmatch(r"(\d{1,5})\s*([dh])", text)
    if not match:
        raise TokenError(f"expiry {text!r}: expected a number of days or hours such as 90d or 12h, or never", "expiry")
    number, unit = int(match.group(1)), match.group(2)
    if number == 0:
        return None
    return timedelta(days=number) if unit == "d" else timedelta(hours=number)


@dataclass(frozen=True)
class Created:
    token: ApiToken
    secret: str  # shown once, never stored


def create(name: str, user: User, scopes, *, expires: timedelta | None, actor: str) -> Created:
    """A new token for ``user``; its secret is in the result and nowhere else."""
    name = (name or "").strip()
    if not NAME.match(name):
        raise TokenError(
            "the name must be 1-64 letters, digits, spaces, dots, dashes or underscores,"
            " starting with a letter or digit",
            "name",
        )
    if not user.active:
        raise TokenError(f"user {user.login} is disabled", "user")
    chosen = parse_scopes(scopes)
    if ApiToken.get_or_none(ApiToken.name == name) is not None:
        raise TokenError(f"a token named {name!r} exists already", "taken")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    try:
        row = ApiToken.create(
            name=name,
            token_hash=digest(secret),
            prefix=secret[: len(PREFIX) + 4],
            user=user,
            scopes=",".join(chosen),
            created_by=actor,
            created_at=now,
            expires_at=now + expires if expires else None,
        )
    except peewee.IntegrityError as exc:  # the same name made at the same moment elsewhere
        raise TokenError(f"a token named {name!r} exists already", "taken") from exc
    audit(actor, "token.create", row, name=name, user=user.login, scopes=chosen, expires_at=row.expires_at)
    return Created(row, secret)


def revoke(token: ApiToken, *, actor: str) -> bool:
    """Revoke ``token`` (False when it was revoked already); it answers 401 from the next request on."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    token.save(only=[ApiToken.revoked_at])
    audit(actor, "token.revoke", token, name=token.name)
    return True


def by_name(name: str) -> ApiToken | None:
    return ApiToken.get_or_none(ApiToken.name == name)


def listing() -> peewee.ModelSelect:
    """Every token with its user, newest first."""
    return ApiToken.select(ApiToken, User).join(User).order_by(ApiToken.id.desc())


def state(token: ApiToken, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked``."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def as_dict(token: ApiToken) -> dict:
    """What ``token list --json`` prints (never the secret nor its hash)."""
    return {
        "name": token.name,
        "prefix": token.prefix,
        "user": token.user.login,
        "scopes": token.scopes.split(","),
        "state": state(token),
        "created_at": token.created_at.isoformat(),
        "created_by": token.created_by,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "last_address": token.last_address,
    }


def authenticate(secret: str, address: str, now: datetime | None = None) -> tuple[ApiToken | None, str]:
    """The usable token with this secret and ``""``, or None and why not (``unknown``, ``expired``,
    ``revoked``, ``disabled_user``). Records the last use and the caller's address (to the minute)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None, "unknown"
    token = _BY_HASH.first(token_hash=digest(secret))
    if token is None:
        return None, "unknown"
    token.user = get_or_none_by_id(User, token.user_id)
    now = now or utcnow()
    why = state(token, now)
    if why != "active":
        return None, why
    if not token.user.active:
        return None, "disabled_user"
    address = (address or "")[:64]
    # at most once a minute per token, whatever the caller: a write per request would cost a disk flush each
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at, token.last_address = now, address
        ApiToken.update(last_used_at=now, last_address=address).where(ApiToken.id == token.id).execute()
    return token, ""


def scopes_of(token: ApiToken) -> frozenset[str]:
    return frozenset(token.scopes.split(","))
