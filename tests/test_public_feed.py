"""The public page as Atom and JSON Feed 1.1: only what was published, numbers masked, conditional GETs."""

from __future__ import annotations

import json

import feedparser
import pytest
from webfixtures import *  # noqa: F401,F403

from modemd.cases import publications
from modemd.store.models import InboundMessage, OutboundMessage

JSON_FEED_REQUIRED = ("version", "title", "items")


@pytest.fixture
def publish(make_case, officials):
    """publish(question, answer, citizen, edited_question=None) -> the live Publication of a new answered case."""

    def make(question: str, answer: str, citizen: str = "+6281234567890", edited_question: str | None = None):
        case = make_case("INFO", question, citizen=citizen)
        reply = OutboundMessage.create(recipient=citizen, text=answer, kind="reply", state="sent", case=case)
        chosen = publications.draft(
            case, officials["admin"], InboundMessage.get(InboundMessage.case == case).id, reply.id, edited_question
        )
        return publications.publish(chosen, officials["admin"], chosen.digest)

    return make


def test_the_atom_feed_parses_and_holds_only_the_published_snapshots(client, publish, make_case):
    hostile = publish("INFO jalan <rusak> & \x07 berlubang ]]>", "Sudah diperbaiki <b>kemarin</b>.", "+6281299998888")
    edited = publish("INFO NIK saya 3201999988887777 kapan KTP jadi?", "Besok.", edited_question="INFO kapan KTP jadi?")
    secret = make_case("INFO", "INFO rahasia: tidak dipublikasikan", citizen="+6285711112222")
    OutboundMessage.create(recipient="+6285711112222", text="Jawaban pribadi", kind="reply", state="sent", case=secret)
    withdrawn = publish("INFO ditarik kembali", "Jawaban yang ditarik")
    publications.withdraw(withdrawn.case, withdrawn.published_by)

    response = client.get("/publik/feed.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")  # well-formed Atom, as a real parser reads it
    assert feed.version == "atom10" and feed.feed.title == "Tanya jawab SMS Center"
    assert feed.feed.link == "http://localhost/publik/" and feed.feed.language == "id"
    assert [e.id for e in feed.entries] == [
        f"http://localhost/publik/#publikasi-{edited.id}",
        f"http://localhost/publik/#publikasi-{hostile.id}",
    ]
    first, second = feed.entries[1], feed.entries[0]
    text = first.content[0].value
    assert "INFO jalan <rusak> & \ufffd berlubang ]]>" in text  # as text: escaped, a control character replaced
    assert "Sudah diperbaiki <b>kemarin</b>." in text and "+62812****8888" in text
    assert first.tags[0].term == "INFO" and first.title.startswith(f"#{hostile.case_id} INFO: ")
    everything = response.get_data(as_text=True)
    assert "<rusak>" not in everything and "&lt;rusak&gt;" in everything
    # the edited wording, never the original; nothing of an unpublished or withdrawn case; no full number
    assert "INFO kapan KTP jadi?" in second.content[0].value and "3201999988887777" not in everything
    for absent in ("rahasia", "Jawaban pribadi", "ditarik", "6281299998888", "85711112222", "1234567890"):
        assert absent not in everything


def test_the_json_feed_has_the_json_feed_1_1_fields(client, publish, make_case):
    publication = publish("INFO kapan pasar buka?", "Jam 7 pagi.", "+6281299998888")
    make_case("INFO", "INFO belum dipublikasikan", citizen="+6285711112222")
    response = client.get("/publik/feed.json")
    assert response.status_code == 200 and response.mimetype == "application/feed+json"
    document = json.loads(response.data)
    assert all(key in document for key in JSON_FEED_REQUIRED)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == "http://localhost/publik/feed.json"
    [item] = document["items"]
    # JSON Feed 1.1: each item has an id (a string) and content_html or content_text
    assert isinstance(item["id"], str) and isinstance(item["content_text"], str)
    assert item["date_published"].endswith("Z") and item["tags"] == ["INFO"]
    assert item["_modemd"] == {
        "case": publication.case_id,
        "keyword": "INFO",
        "citizen": "+62812****8888",
        "asked_at": item["_modemd"]["asked_at"],
        "question": "INFO kapan pasar buka?",
        "answer": "Jam 7 pagi.",
    }
    assert "belum dipublikasikan" not in response.get_data(as_text=True)


def test_an_empty_feed_is_still_a_valid_feed(client):
    feed = feedparser.parse(client.get("/publik/feed.atom").data)
    assert not feed.bozo and feed.entries == []
    assert json.loads(client.get("/publik/feed.json").data)["items"] == []


@pytest.mark.parametrize("name", ["feed.atom", "feed.json"])
def test_a_conditional_request_gets_304_until_something_is_published_or_withdrawn(client, publish, name):
    first = publish("INFO satu", "Jawaban satu")
    response = client.get(f"/publik/{name}")
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert response.headers["Cache-Control"] in ("public, max-age=300", "max-age=300, public")
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # a website's script may read it
    assert client.get(f"/publik/{name}", headers={"If-None-Match": etag}).status_code == 304
    not_modified = client.get(f"/publik/{name}", headers={"If-Modified-Since": modified})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert client.get(f"/publik/{name}", headers={"If-None-Match": '"something-else"'}).status_code == 200

    publications.withdraw(first.case, first.published_by)  # withdrawing changes the feed
    after = client.get(f"/publik/{name}", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag and b"satu" not in after.data
    publish("INFO dua", "Jawaban dua")
    assert client.get(f"/publik/{name}", headers={"If-None-Match": after.headers["ETag"]}).status_code == 200


def test_the_public_page_announces_its_feeds_and_anchors_each_entry(client, publish):
    publication = publish("INFO satu", "Jawaban satu")
    page = client.get("/publik/").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml"' in page and 'href="/publik/feed.atom"' in page
    assert '<link rel="alternate" type="application/feed+json"' in page and 'href="/publik/feed.json"' in page
    assert f'id="publikasi-{publication.id}"' in page


def test_the_feed_speaks_english_when_english_is_chosen(client, publish):
    publish("INFO satu", "Jawaban satu")
    client.post("/lang/en", data={"next": "/publik/"})
    feed = feedparser.parse(client.get("/publik/feed.atom").data)
    assert feed.feed.language == "en" and feed.entries[0].content[0].value.startswith("Question (")


@pytest.mark.parametrize("path", ["/publik/feed.xml", "/publik/feed.atom/1", "/publik/feed.json?before=x"])
def test_other_feed_paths_are_not_found_and_a_stray_parameter_is_ignored(client, path):
    expected = 200 if "?" in path else 404
    assert client.get(path).status_code == expected


def test_the_feed_version_changes_with_each_publish_and_withdraw_on_each_database(any_db):
    """The one query behind ETag and Last-Modified, on SQLite, PostgreSQL and MariaDB."""
    from datetime import datetime

    from modemd.store.models import Case, Publication, User, utcnow

    assert publications.feed_version() == publications.FeedVersion(0, 0, None)
    admin = User.create(login="admin", role="admin")
    case = Case.create(keyword="INFO", citizen="+6281234567890", deadline_at=utcnow())
    question = InboundMessage.create(modem="m", sender_raw="x", sender="x", text="INFO tanya", case=case)
    answer = OutboundMessage.create(recipient="+6281234567890", text="Jawab", kind="reply", state="sent", case=case)
    chosen = publications.draft(case, admin, question.id, answer.id)
    first = publications.publish(chosen, admin, chosen.digest)
    published = publications.feed_version()
    assert (published.live, published.newest_id) == (1, first.id) and isinstance(published.changed_at, datetime)
    publications.withdraw(case, admin)
    withdrawn = publications.feed_version()
    assert withdrawn.live == 0 and withdrawn.tag != published.tag and withdrawn.changed_at >= published.changed_at
    assert publications.feed_rows(10) == [] and Publication.select().count() == 1
