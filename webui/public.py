"""The public page (Perbup Banjarnegara Pasal 12 (9)): questions and answers their case's owner or an admin published.

Anyone may read it, without logging in. It shows only reviewed snapshots
(:mod:`modemd.cases.publications`): later SMS of a published case never appear by
themselves. The citizen's number is stored masked; every text is escaped.

The same rows as feeds for the government's website (:mod:`webui.feeds`):
``feed.atom`` and ``feed.json``. Both carry an ETag and Last-Modified made from
one small query, and a conditional request that matches gets 304 before any
row is read; ``Cache-Control`` lets a web server keep them a few minutes, and
``Access-Control-Allow-Origin: *`` lets a website's own script read them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.http import is_resource_modified

from modemd.cases import publications

from .feeds import FeedInfo, atom, json_feed
from .identity import site_title
from .params import arg_id

bp = Blueprint("public", __name__, url_prefix="/publik")
PAGE_SIZE = 20
FEED_SIZE = 50
FEED_MAX_AGE = 300  # seconds a web server or browser may reuse a feed without asking again
FEEDS = {
    "feed.atom": ("application/atom+xml; charset=utf-8", atom),
    "feed.json": ("application/feed+json; charset=utf-8", json_feed),
}


@bp.get("/")
def index():
    """Published questions and answers, newest first."""
    rows, next_before = publications.public_page(arg_id("before"), PAGE_SIZE)
    return render_template("public.html", rows=rows, next_before=next_before)


@bp.get("/<any('feed.atom', 'feed.json'):name>")
def feed(name: str):
    """The newest published questions and answers as Atom or JSON Feed 1.1."""
    mimetype, build = FEEDS[name]
    version = publications.feed_version()
    language = str(get_locale() or "id")
    etag = hashlib.sha256(f"{name}-{language}-{version.tag}-{site_title()}".encode()).hexdigest()[:32]
    changed = version.changed_at.replace(tzinfo=UTC) if version.changed_at is not None else None
    if not is_resource_modified(request.environ, etag=etag, last_modified=changed):
        response = Response(status=304)
    else:
        info = FeedInfo(
            title=_("Tanya jawab %(site)s", site=site_title()),
            language=language,
            page_url=url_for("public.index", _external=True),
            self_url=url_for("public.feed", name=name, _external=True),
            question_label=_("Pertanyaan"),
            answer_label=_("Jawaban"),
            updated=version.changed_at,
        )
        response = Response(build(publications.feed_rows(FEED_SIZE), info), mimetype=mimetype)
    response.set_etag(etag)
    response.last_modified = changed
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE
    response.vary.add("Cookie")  # the language is the session's
    # public content, read without credentials: the government's website may fetch it from its own pages
    response.access_control_allow_origin = "*"
    return response
