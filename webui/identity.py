"""The centre's identity on every page: its name (``[web] title``), its emblem (``[web] logo``) and the icons.

The logo is a file the administrator names in the INI; this blueprint serves
that one file (no upload, no other path), with the image type taken from its
name. The icons are a sprite of Lucide icons (ISC licence, see
``static/icons/LICENSE``) drawn with ``<use>``, so they take the text colour.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_file, url_for
from markupsafe import Markup

from modemd.config import IMAGE_TYPES, SCHEMA

from . import modemd_config

bp = Blueprint("identity", __name__)

DEFAULT_TITLE = SCHEMA["web"]["title"].default  # also when the INI sets an empty title
_ICON = Markup('<svg class="icon" aria-hidden="true" focusable="false"><use href="{}#{}"></use></svg>')


def site_title() -> str:
    return modemd_config().web.title or DEFAULT_TITLE


def logo_path() -> Path | None:
    path = modemd_config().web.logo
    return Path(path) if path else None


@bp.get("/logo")
def logo():
    """The emblem named by ``[web] logo``; 404 when none is set or the file is gone."""
    path = logo_path()
    if path is None or not path.is_file():
        abort(404)
    return send_file(path, mimetype=IMAGE_TYPES[path.suffix.lower()], max_age=3600)


def icon(name: str) -> Markup:
    """An icon of the sprite, decorative (its text stands beside it)."""
    return _ICON.format(url_for("static", filename="icons/sprite.svg"), name)


def template_globals() -> dict:
    path = logo_path()
    # a logo file that went missing shows no image rather than a broken one
    return {"site_title": site_title(), "has_logo": path is not None and path.is_file()}


def init_app(app) -> None:
    app.add_template_global(icon)
    app.context_processor(template_globals)
