"""The one place a redirect target from the request (``next``, the referrer) is judged.

A target must be a path of this site. Browsers drop tab, CR and LF anywhere
in a URL and read a backslash as a slash, so ``/\\t/evil.com`` and ``/\\evil.com``
both mean ``//evil.com``, another site; and a CR/LF in a Location header is a
500 or a header injection. So the rule is strict and simple: printable ASCII
only (no space, no backslash, no control character), one leading ``/``, no
second ``/`` after it, and nothing that URL parsing reads as a scheme or a host.
Anything else goes to the fallback (the inbox by default).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import redirect, request, url_for

_PRINTABLE_PATH = re.compile(r"/(?![/\\])[\x21-\x7e]*")


def safe_target(target: str | None, fallback: str | None = None) -> str:
    """``target`` if it is a path of this site, else ``fallback`` (default: the inbox)."""
    if target and _PRINTABLE_PATH.fullmatch(target) and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return fallback or url_for("inbox.index")


def same_site_path(url: str | None) -> str | None:
    """The path (with query) of ``url`` when it points at this site (e.g. the Referer), else None."""
    if not url or not url.startswith(request.host_url):
        return None
    return "/" + url[len(request.host_url) :]


def redirect_to(target: str | None, fallback: str | None = None):
    """A redirect to ``target`` if it is safe, else to ``fallback``."""
    return redirect(safe_target(target, fallback))
