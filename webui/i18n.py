"""Language: Bahasa Indonesia by default, English selectable (kept in the session)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, current_app, redirect, request, session, url_for
from flask_babel import Babel, get_locale

bp = Blueprint("i18n", __name__)
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    config = current_app.config.get("MODEMD")
    return config.get("web", "language") if config is not None else "id"


@bp.post("/lang/<code>")
def switch(code: str):
    """Switch the interface language for this session."""
    if code in LANGUAGES:
        session["lang"] = code
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("inbox.index")
    return redirect(target)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "id")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["get_locale"] = get_locale
