"""The public page as feeds the government's website embeds: Atom (RFC 4287) and JSON Feed 1.1.

They carry exactly what ``/publik/`` shows (:func:`modemd.cases.publications.feed_rows`):
reviewed snapshots, the citizen's number masked as stored, nothing of a case
that was not published or was withdrawn. The Atom document is built with
ElementTree, which escapes every text: an SMS can hold ``<``, ``&`` or a
control character, and it must arrive as text, never as markup.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from modemd.store.models import Publication

ATOM = "http://www.w3.org/2005/Atom"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# XML 1.0 allows no C0 control character but tab, newline and carriage return: an SMS may hold one
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class FeedInfo:
    title: str
    language: str  # "id" or "en"
    page_url: str  # /publik/, absolute
    self_url: str  # this feed, absolute
    question_label: str  # "Pertanyaan" / "Question"
    answer_label: str
    updated: datetime | None  # naive UTC


def rfc3339(moment: datetime | None) -> str:
    return (moment or datetime(1970, 1, 1)).replace(tzinfo=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def entry_title(row: Publication) -> str:
    words = " ".join(row.question_text.split())
    short = words if len(words) <= 80 else words[:77] + "..."
    return f"#{row.case_id} {row.keyword or ''}: {short}".replace("  ", " ")


def entry_text(row: Publication, info: FeedInfo) -> str:
    return (
        f"{info.question_label} ({row.citizen_masked}):\n{row.question_text}\n\n{info.answer_label}:\n{row.answer_text}"
    )


def entry_url(row: Publication, info: FeedInfo) -> str:
    return f"{info.page_url}#publikasi-{row.id}"


def atom(rows: list[Publication], info: FeedInfo) -> bytes:
    ET.register_namespace("", ATOM)

    def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        if text is not None:
            element.text = _xml_text(text)
        return element

    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": info.language})
    add(feed, "id", info.page_url)
    add(feed, "title", info.title)
    add(feed, "updated", rfc3339(info.updated))
    add(feed, "link", rel="self", type="application/atom+xml", href=info.self_url)
    add(feed, "link", rel="alternate", type="text/html", href=info.page_url)
    add(add(feed, "author"), "name", info.title)
    add(feed, "generator", "modemd")
    for row in rows:
        entry = add(feed, "entry")
        add(entry, "id", entry_url(row, info))
        add(entry, "title", entry_title(row))
        add(entry, "published", rfc3339(row.published_at))
        add(entry, "updated", rfc3339(row.published_at))
        add(entry, "link", rel="alternate", type="text/html", href=entry_url(row, info))
        if row.keyword:
            add(entry, "category", term=row.keyword)
        add(entry, "content", entry_text(row, info), type="text")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8", xml_declaration=False)


def json_feed(rows: list[Publication], info: FeedInfo) -> bytes:
    document = {
        "version": JSON_FEED_VERSION,
        "title": info.title,
        "home_page_url": info.page_url,
        "feed_url": info.self_url,
        "language": info.language,
        "authors": [{"name": info.title}],
        "items": [
            {
                "id": entry_url(row, info),
                "url": entry_url(row, info),
                "title": entry_title(row),
                "content_text": entry_text(row, info),
                "date_published": rfc3339(row.published_at),
                "tags": [row.keyword] if row.keyword else [],
                "_modemd": {
                    "case": row.case_id,
                    "keyword": row.keyword,
                    "citizen": row.citizen_masked,
                    "asked_at": rfc3339(row.asked_at),
                    "question": row.question_text,
                    "answer": row.answer_text,
                },
            }
            for row in rows
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
