"""Accounts: create, change and list users, shared by the CLI and the web UI."""

from __future__ import annotations

import secrets
from functools import lru_cache

from werkzeug.security import check_password_hash, generate_password_hash

from modemd.receive import keywords
from modemd.receive.keywords import MAX_AGENCY
from modemd.sms import phone
from modemd.store.models import PASSWORD_METHOD, ROLES, User, WebSession, audit

from .config import sender_id as parse_sender_id

MIN_PASSWORD_LENGTH = 8


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash made like a real one (same method and cost), so that checking it takes as long.

    Made once per process; the web UI makes it at start-up, so the first unknown login is not slower."""
    return generate_password_hash(secrets.token_hex(16), method=PASSWORD_METHOD)


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s; always exactly one hash check, whatever the account's state.

    An unknown account (None) or one without a password is checked against a
    dummy hash, and a disabled account is checked too (the caller refuses it
    after), so the time taken says nothing about which accounts exist or are active.
    """
    stored = user.password_hash if user is not None and user.password_hash else dummy_hash()
    matches = check_password_hash(stored, password)
    return matches and user is not None and bool(user.password_hash)


class UserError(ValueError):
    pass


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def random_password() -> str:
    """A password a person can type from a printout: 4 groups of 4 letters and digits."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def create_user(
    login: str,
    role: str,
    password: str,
    *,
    name: str = "",
    phone_number: str | None = None,
    sender_id: str = "",
    agency: str = "",
    actor: str = "cli",
) -> User:
    login = login.strip()
    if not login or not login.replace("_", "").replace("-", "").replace(".", "").isalnum() or len(login) > 64:
        raise UserError(f"login {login!r}: use letters, digits, '.', '-' or '_' (at most 64)")
    if role not in ROLES:
        raise UserError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    if User.by_login(login) is not None:
        raise UserError(f"user {login!r} already exists")
    check_password_strength(password)
    number = _phone_or_none(phone_number)
    try:
        sender = parse_sender_id(sender_id or "")
    except ValueError as exc:
        raise UserError(str(exc)) from None
    user = User(
        login=login, role=role, name=name or login, phone=number, sender_id=sender, agency=operator_agency(agency)
    )
    user.set_password(password)
    user.save()
    audit(actor, "user.create", user, role=role, phone=number, **({"agency": agency} if agency else {}))
    return user


def operator_agency(raw: str | None) -> str:
    """An operator's agency as stored: spaces collapsed ("" = serves any agency); too long is refused."""
    name = keywords.agency_name(raw)
    if len(name) > MAX_AGENCY:
        raise UserError(f"agency {name[:40]!r}...: at most {MAX_AGENCY} characters")
    return name


def _phone_or_none(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return phone.normalize(raw)
    except phone.InvalidNumber as exc:
        raise UserError(str(exc)) from None


def set_password(user: User, password: str, *, actor: str = "cli") -> None:
    check_password_strength(password)
    user.set_password(password)
    user.save()
    WebSession.end_all(user)
    audit(actor, "user.set_password", user)


class OwnsKeywords(UserError):
    """Disabling a keyword owner would stop the centre: check, run and web refuse a disabled owner."""

    def __init__(self, login: str, keywords: list[str]):
        self.login = login
        self.keywords = keywords
        super().__init__(
            f"user {login!r} owns keyword(s) {', '.join(keywords)}: give them to another user in keywords.ini first "
            "(modemd refuses to start while a keyword belongs to a disabled user)"
        )


def disable(user: User, *, actor: str = "cli", owned_keywords: list[str] | None = None) -> None:
    """Disable an account and end its sessions; refused while it owns keywords."""
    if owned_keywords:
        raise OwnsKeywords(user.login, owned_keywords)
    user.active = False
    user.save()
    WebSession.end_all(user)
    audit(actor, "user.disable", user)


def enable(user: User, *, actor: str = "cli") -> None:
    user.active = True
    user.save()
    audit(actor, "user.enable", user)


def as_dict(user: User) -> dict:
    return {
        "id": user.id,
        "login": user.login,
        "name": user.name,
        "role": user.role,
        "phone": user.phone,
        "sender_id": user.sender_id,
        "agency": user.agency,
        "active": user.active,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }
