"""Template filters and globals: local times, deadlines, phone numbers, navigation, the badge."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import overload
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request, url_for
from flask_login import current_user
from jinja2 import pass_environment
from markupsafe import Markup

from modemd.send import failures
from modemd.sms import phone
from modemd.states import CaseStatus
from modemd.store.models import Case, utcnow
from modemd.webhooks import errors as webhook_errors

from . import labels, modemd_config
from .i18n import gettext as _
from .identity import icon


def _zone_of(app: Flask) -> ZoneInfo:
    return app.config["MODEMD"].timezone


def zone() -> ZoneInfo:
    return _zone_of(current_app)


@overload
def to_local(moment: datetime) -> datetime: ...
@overload
def to_local(moment: None) -> None: ...
def to_local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(zone())


def localtime(moment: datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    local = to_local(moment)
    return local.strftime(fmt) if local else "-"


@pass_environment
def localtime_filter(env, moment: datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """:func:`localtime` for templates: a case page formats a time per message, and the zone
    comes from the template's own app rather than through the current_app proxy each time."""
    if moment is None:
        return "-"
    return moment.replace(tzinfo=UTC).astimezone(_zone_of(env.app)).strftime(fmt)


def duration_text(seconds: float) -> str:
    minutes = int(abs(seconds)) // 60
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return _("%(d)dh %(h)dj", d=days, h=hours)
    if hours:
        return _("%(h)dj %(m)dm", h=hours, m=minutes)
    return _("%(m)dm", m=minutes)


def old_signal_text(seconds: float) -> str:
    """A signal nobody reads any more, with its age: "sinyal terakhir 2 jam lalu".

    One text per unit and number (1 or more) instead of ngettext: English needs the plural, Indonesian not.
    """
    minutes = max(int(seconds), 0) // 60
    if minutes < 60:
        return _("sinyal terakhir 1 menit lalu") if minutes <= 1 else _("sinyal terakhir %(n)d menit lalu", n=minutes)
    hours = minutes // 60
    if hours < 24:
        return _("sinyal terakhir 1 jam lalu") if hours == 1 else _("sinyal terakhir %(n)d jam lalu", n=hours)
    days = hours // 24
    return _("sinyal terakhir 1 hari lalu") if days == 1 else _("sinyal terakhir %(n)d hari lalu", n=days)


def deadline_info(case: Case, now: datetime | None = None) -> dict:
    """What the inbox shows about a case's 3-hour deadline: text and a CSS class."""
    if case.status != CaseStatus.OPEN:
        return {"text": "", "css": "done", "overdue": False}
    left = (case.deadline_at - (now or utcnow())).total_seconds()
    if left < 0:
        return {"text": _("lewat %(t)s", t=duration_text(left)), "css": "overdue", "overdue": True}
    css = "soon" if left < 3600 else "ok"
    return {"text": _("sisa %(t)s", t=duration_text(left)), "css": css, "overdue": False}


@lru_cache(maxsize=8192)
def phone_local(number: str | None) -> str:
    # cached: parsing a number costs ~0.1 ms, and an inbox page shows 50 of them
    return phone.local_format(number) if number else "-"


def person(user) -> str:
    """How a user is shown to people: the name, or the login when no name was given."""
    if user is None:
        return "-"
    return user.name or user.login


def signal_bars(dbm: int | None) -> int:
    """0-5 bars from dBm, the way phones draw them."""
    if dbm is None:
        return 0
    for bars, floor in ((5, -73), (4, -83), (3, -93), (2, -103), (1, -111)):
        if dbm >= floor:
            return bars
    return 0


def plain_failure(message) -> str:
    """Why a message (a row or a dict with failure_code, failure_reason, state) is not out, in the reader's
    language."""
    if isinstance(message, dict):
        return failures.plain(message.get("failure_code"), message.get("failure_reason"), message.get("state", ""), _)
    return failures.plain(message.failure_code, message.failure_reason, message.state, _)


_WEBHOOK_ERROR = Markup("{}{} <small><code>{}</code></small>")


def webhook_error(error: str, gave_up_after: int = 0) -> Markup:
    """A failed webhook attempt in the reader's language, its technical text beside it (escaped);
    ``gave_up_after``: the attempts of a delivery given up."""
    gave_up = "; " + _(webhook_errors.GAVE_UP) % {"attempts": gave_up_after} if gave_up_after else ""
    return _WEBHOOK_ERROR.format(_(webhook_errors.plain(error)), gave_up, error)


def unanswered_count() -> int:
    from .access import open_count

    if "unanswered" not in g:  # a view that counted already (the dashboard) left it here
        g.unanswered = open_count(current_user)
    return g.unanswered


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


_NAV_LINK = Markup('<a href="{}"{}>{}{}</a>')
_CURRENT = Markup(' aria-current="page"')


def navlink(endpoint: str, text: str, icon_name: str | None = None) -> Markup:
    """A menu link to ``endpoint`` (marked current in its section), or nothing if that page is not installed.

    A function rather than a Jinja macro: the menu has up to 11 links on every page, and a macro call costs
    more than the link itself. The URL and the text are escaped as the template would.
    """
    if endpoint not in current_app.view_functions:
        return Markup("")
    here = request.endpoint
    current = here is not None and here.split(".")[0] == endpoint.split(".")[0]
    return _NAV_LINK.format(url_for(endpoint), _CURRENT if current else "", icon(icon_name) if icon_name else "", text)


def template_globals() -> dict:
    data = {
        "labels": labels,
        "label": labels.label,
        "has_endpoint": has_endpoint,
        "history_text": labels.history_text,
        "demo_mode": modemd_config().web.demo,
    }
    if current_user.is_authenticated and request.endpoint not in (None, "static"):
        data["badge"] = unanswered_count()
    return data


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime_filter, "localtime")
    app.add_template_filter(phone_local)
    app.add_template_filter(person)
    app.add_template_filter(lambda number: phone.mask(number) if number else "-", "mask")
    app.add_template_global(deadline_info)
    app.add_template_global(plain_failure)
    app.add_template_global(webhook_error)
    app.add_template_global(signal_bars)
    app.add_template_global(navlink)
    app.context_processor(template_globals)
