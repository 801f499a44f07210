"""Language: Bahasa Indonesia by default, English selectable (kept in the session)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, g, request, session
from flask_babel import Babel, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

from . import modemd_config
from .redirects import redirect_to

bp = Blueprint("i18n", __name__)
LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    if request.path.startswith("/api/"):  # programs: Accept-Language (the API never reads the session)
        return request.accept_languages.best_match(LANGUAGES) or modemd_config().web.language
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return modemd_config().web.language


def translations():
    """This request's catalogue, looked up once.

    Flask-Babel finds the locale and the catalogue again on every gettext call
    (several ``g`` lookups each); a page calls gettext about a hundred times.
    The locale is fixed for a request (Flask-Babel caches it per request too;
    nothing here calls ``refresh()`` or ``force_locale()``).
    """
    try:
        return g._modemd_translations
    except AttributeError:
        g._modemd_translations = get_translations()
        return g._modemd_translations
    except RuntimeError:  # no application context: Flask-Babel answers with the untranslated text
        return get_translations()


def gettext(string: str, **variables) -> str:
    """flask_babel.gettext through :func:`translations`: the same text, for hot paths (an inbox row's deadline)."""
    text = translations().ugettext(string)
    return text % variables if variables else text


@pass_context
def template_gettext(context, string: str, **variables) -> str:
    """What Jinja's newstyle gettext does (escaped when autoescaping, always %-formatted), in one call."""
    text = translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    # formatting a text without "%" returns it unchanged: skip Markup's costly %
    return text % variables if variables or "%" in text else text


@bp.post("/lang/<code>")
def switch(code: str):
    """Switch the interface language for this session."""
    if code in LANGUAGES:
        session["lang"] = code
    return redirect_to(request.form.get("next"))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "id")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=select_locale)
    # the templates' _() and friends, as Flask-Babel installs them but through translations()
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the jinja2.ext.i18n extension
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )
    # _() and gettext() are called ~40 times per page: Jinja's newstyle gettext, without its two indirections
    app.jinja_env.globals["gettext"] = app.jinja_env.globals["_"] = template_gettext
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["get_locale"] = get_locale
