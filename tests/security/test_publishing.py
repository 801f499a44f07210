"""Issue 10: the public page shows reviewed snapshots only (Perbup Banjarnegara Pasal 12 (9)).

The attack: once a case was published, every later SMS of the citizen
("NIK 3201...", or any text at all) and every later reply appeared on
``/publik/`` at once, also after ``reopen``. Now the case's owner or an
admin picks one question and one answer, may edit their wording, previews it
and publishes that snapshot; later messages are never added by themselves.
"""

from __future__ import annotations

import json
import re

import peewee
import pytest
from playhouse.migrate import migrate
from webfixtures import *  # noqa: F401,F403

from modemd.store import migrations
from modemd.store.models import AuditLog, Case, InboundMessage, OutboundMessage, User, utcnow

NUMBER = "+6281234567890"
_DIGEST = re.compile(r'name="digest" value="([0-9a-f]{64})"')


def body(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def answered(make_case, officials):
    """An INFO case of humas: the citizen's question, the automatic acknowledgement, humas's delivered reply."""
    case = make_case("INFO", "INFO <b>kapan</b> pasar buka? NIK 3201234567890001", citizen=NUMBER)
    ack = OutboundMessage.create(
        recipient=NUMBER,
        text="Terima kasih. Pesan Anda tercatat dengan nomor #1.",
        kind="autoreply",
        state="delivered",
        case=case,
    )
    reply = OutboundMessage.create(
        recipient=NUMBER,
        text="Pasar buka jam 7 pagi. -HUMAS",
        kind="reply",
        state="delivered",
        case=case,
        created_by=officials["humas"],
    )
    Case.update(status="answered", answered_at=utcnow()).where(Case.id == case.id).execute()
    question = InboundMessage.get(InboundMessage.case == case)
    return {"case": Case.get_by_id(case.id), "question": question, "ack": ack, "reply": reply}


def choice(question, answer, question_text: str = "", answer_text: str = "") -> dict:
    return {
        "question": str(question.id),
        "answer": str(answer.id),
        "question_text": question_text,
        "answer_text": answer_text,
    }


def citizen_sms(case, text: str, route: str = "case", modem: str = "sim1") -> InboundMessage:
    """An SMS from the citizen (NUMBER, keyword INFO) stored in ``case``, as the router keeps it."""
    return InboundMessage.create(
        modem=modem, sender_raw=NUMBER, sender=NUMBER, route=route, keyword="INFO", case=case, text=text
    )


def publish_via_pages(client, case, data: dict):
    """Choose, preview, publish: the way staff do it. Returns the preview page and the publish response."""
    assert client.get(f"/cases/{case.id}/publikasi").status_code == 200
    preview = client.post(f"/cases/{case.id}/publikasi/pratinjau", data=data)
    assert preview.status_code == 200, body(preview)
    digest = _DIGEST.search(body(preview)).group(1)
    return preview, client.post(f"/cases/{case.id}/publikasi/terbitkan", data={**data, "digest": digest})


def test_the_old_publish_switch_no_longer_puts_later_sms_on_the_public_page(client, auth, answered):
    """The reported attack as it was: publish, then the citizen texts anything, and it is public at once."""
    case = answered["case"]
    auth.login("admin")
    client.post(f"/cases/{case.id}/publish", data={"published": "1"})
    citizen_sms(case, "INFO Bupati korup <script>alert(1)</script>")
    auth.logout()
    public = body(client.get("/publik/"))
    assert "Bupati korup" not in public and "3201234567890001" not in public


def test_later_sms_and_replies_of_a_published_case_never_reach_the_public_page(client, auth, answered, officials):
    case = answered["case"]
    auth.login("humas")  # the case's owner
    preview, published = publish_via_pages(
        client, case, choice(answered["question"], answered["reply"], question_text="Kapan pasar buka?")
    )
    assert published.status_code == 302
    public = body(client.get("/publik/"))
    assert "Kapan pasar buka?" in public and "Pasar buka jam 7 pagi. -HUMAS" in public

    # the citizen texts again, the case is reopened and answered again: nothing of it is published by itself
    client.post(f"/cases/{case.id}/reopen")
    citizen_sms(case, "NIK 3201999988887777 <script>alert('x')</script> Bupati korup")
    OutboundMessage.create(
        recipient=NUMBER,
        text="Data Anda kami terima: NIK 3201999988887777",
        kind="reply",
        state="delivered",
        case=case,
        created_by=officials["humas"],
    )
    assert Case.get_by_id(case.id).status == "open"
    auth.logout()
    public = body(client.get("/publik/"))
    assert "3201999988887777" not in public and "Bupati korup" not in public and "<script>" not in public
    assert "3201234567890001" not in public  # the NIK of the first SMS was edited out before publishing
    assert "Kapan pasar buka?" in public and public.count('data-published="answer"') == 1


def test_the_acknowledgement_is_never_an_answer(client, auth, answered):
    from modemd.cases import publications
    from modemd.store.models import Publication

    case = answered["case"]
    auth.login("admin")
    page = body(client.get(f"/cases/{case.id}/publikasi"))
    assert f'name="answer" value="{answered["reply"].id}"' in page
    assert f'name="answer" value="{answered["ack"].id}"' not in page
    refused = client.post(f"/cases/{case.id}/publikasi/pratinjau", data=choice(answered["question"], answered["ack"]))
    assert refused.status_code == 400 and "Pilih satu balasan yang sudah terkirim" in body(refused)
    with pytest.raises(publications.PublishError):
        publications.draft(case, User.by_login("admin"), answered["question"].id, answered["ack"].id)
    assert Publication.select().count() == 0


def test_a_pending_reply_cannot_be_published_before_it_left(client, auth, make_case, officials):
    case = make_case("INFO", "INFO jalan rusak")
    OutboundMessage.create(
        recipient=case.citizen,
        text="Segera kami perbaiki",
        kind="reply",
        state="pending",
        case=case,
        created_by=officials["humas"],
    )
    auth.login("humas")
    assert "belum dapat dipublikasikan" in body(client.get(f"/cases/{case.id}/publikasi"))


def test_edited_wording_is_published_and_the_original_stays_beside_it(client, auth, answered):
    from modemd.store.models import Publication

    case, question = answered["case"], answered["question"]
    auth.login("admin")
    preview, published = publish_via_pages(
        client, case, choice(question, answered["reply"], question_text="Kapan <b>pasar</b> buka?\r\nTerima kasih")
    )
    page = body(preview)
    # the preview shows the text as the public will see it (escaped), and the untouched original beside it
    assert 'data-published="question">Kapan &lt;b&gt;pasar&lt;/b&gt; buka?\nTerima kasih<' in page
    assert re.search(r'id="original-question">INFO &lt;b&gt;kapan&lt;/b&gt; pasar buka\? NIK 3201234567890001<', page)
    assert 'id="original-answer"' not in page  # the answer was not edited
    assert "+62812****7890" in page and NUMBER not in page
    assert published.status_code == 302
    assert InboundMessage.get_by_id(question.id).text == "INFO <b>kapan</b> pasar buka? NIK 3201234567890001"
    snapshot = Publication.get()
    assert snapshot.question_text == "Kapan <b>pasar</b> buka?\nTerima kasih"
    assert (snapshot.question_id, snapshot.answer_id, snapshot.citizen_masked) == (
        question.id,
        answered["reply"].id,
        "+62812****7890",
    )
    staff = body(client.get(f"/cases/{case.id}/publikasi"))  # staff see both wordings side by side
    assert "Kapan &lt;b&gt;pasar&lt;/b&gt; buka?" in staff and "NIK 3201234567890001" in staff
    entry = AuditLog.select().where(AuditLog.action == "case.publish").get()
    assert entry.actor == "admin" and json.loads(entry.detail)["question_edited"] is True

    public = body(client.get("/publik/"))
    assert "Kapan &lt;b&gt;pasar&lt;/b&gt; buka?" in public and "<b>pasar</b>" not in public
    assert "3201234567890001" not in public and NUMBER not in public and "0812-3456-7890" not in public


@pytest.mark.parametrize("digest", ["", "0" * 64])
def test_only_what_was_previewed_is_published(client, auth, answered, digest):
    from modemd.store.models import Publication

    auth.login("humas")
    data = choice(answered["question"], answered["reply"], question_text="Teks yang tidak pernah dipratinjau")
    response = client.post(f"/cases/{answered['case'].id}/publikasi/terbitkan", data={**data, "digest": digest})
    assert response.status_code == 400 and "lihat pratinjau lagi" in body(response)
    assert Publication.select().count() == 0


def test_a_text_changed_after_the_preview_is_refused(client, auth, answered):
    from modemd.store.models import Publication

    case = answered["case"]
    auth.login("humas")
    data = choice(answered["question"], answered["reply"])
    digest = _DIGEST.search(body(client.post(f"/cases/{case.id}/publikasi/pratinjau", data=data))).group(1)
    changed = {**data, "answer_text": "Jawaban lain", "digest": digest}
    assert client.post(f"/cases/{case.id}/publikasi/terbitkan", data=changed).status_code == 400
    assert Publication.select().count() == 0


def test_only_the_owner_or_an_admin_publishes_and_withdraws(client, auth, answered, make_case):
    from modemd.store.models import Publication

    case = answered["case"]
    auth.login("ketua")  # an approver sees every case, but does not own this one
    assert client.get(f"/cases/{case.id}/publikasi").status_code == 403
    data = choice(answered["question"], answered["reply"])
    assert client.post(f"/cases/{case.id}/publikasi/pratinjau", data=data).status_code == 403
    assert client.post(f"/cases/{case.id}/publikasi/terbitkan", data=data).status_code == 403
    assert "publish-link" not in body(client.get(f"/cases/{case.id}"))
    auth.logout()
    auth.login("dishub")  # cannot even see it
    assert client.get(f"/cases/{case.id}/publikasi").status_code == 404
    assert client.post(f"/cases/{case.id}/publikasi/tarik").status_code == 404
    assert Publication.select().count() == 0


def test_withdrawing_is_one_click_and_audited(client, auth, answered):
    from modemd.store.models import Publication

    case = answered["case"]
    auth.login("humas")
    publish_via_pages(client, case, choice(answered["question"], answered["reply"]))
    assert 'id="published-pill"' in body(client.get(f"/cases/{case.id}"))
    auth.logout()
    auth.login("admin")
    assert client.post(f"/cases/{case.id}/publikasi/tarik").status_code == 302
    assert "Pasar buka jam 7" not in body(client.get("/publik/"))
    assert 'id="published-pill"' not in body(client.get(f"/cases/{case.id}"))
    withdrawn = Publication.get()
    assert withdrawn.withdrawn_by.login == "admin" and withdrawn.withdrawn_at is not None
    assert AuditLog.select().where(AuditLog.action == "case.unpublish", AuditLog.actor == "admin").count() == 1


def test_publishing_again_replaces_the_live_snapshot(client, auth, answered):
    from modemd.store.models import Publication

    case = answered["case"]
    auth.login("humas")
    publish_via_pages(client, case, choice(answered["question"], answered["reply"], answer_text="Jawaban pertama"))
    publish_via_pages(client, case, choice(answered["question"], answered["reply"], answer_text="Jawaban kedua"))
    public = body(client.get("/publik/"))
    assert "Jawaban kedua" in public and "Jawaban pertama" not in public
    assert Publication.select().where(Publication.withdrawn_at.is_null()).count() == 1


# --------------------------------------------------------------------------
# The migration turns already-published cases into snapshots


def _as_before_v8(database: peewee.Database) -> peewee.Table:
    """Put an upgraded database back into the shape v8 starts from: case.published, no publication table."""
    from modemd.store.models import Publication

    migrator = migrations._migrator(database)
    database.drop_tables([Publication])
    migrate(migrator.add_column("case", "published", peewee.BooleanField(null=True)))
    return peewee.Table("case", ("id", "published")).bind(database)


def test_migration_snapshots_published_cases_without_later_messages_or_the_acknowledgement(any_db):
    from modemd import users
    from modemd.cases import publications
    from modemd.store.models import Publication

    humas = users.create_user("humas", "official", "rahasia-123")
    case_table = _as_before_v8(any_db)
    now = utcnow()
    published = Case.create(
        keyword="INFO", owner=humas, citizen=NUMBER, deadline_at=now, status="answered", answered_at=now
    )
    first = citizen_sms(published, "INFO kapan pasar buka?", route="new", modem="m")
    OutboundMessage.create(
        recipient=NUMBER, text="Terima kasih, tercatat.", kind="autoreply", state="delivered", case=published
    )
    answer = OutboundMessage.create(
        recipient=NUMBER, text="Jam 7 pagi.", kind="reply", state="sent", case=published, created_by=humas
    )
    citizen_sms(published, "NIK 3201999988887777", modem="m")
    OutboundMessage.create(recipient=NUMBER, text="NIK diterima", kind="reply", state="delivered", case=published)
    unanswered = Case.create(keyword="INFO", citizen=NUMBER, deadline_at=now)
    citizen_sms(unanswered, "INFO belum dijawab", route="new", modem="m")
    private = Case.create(keyword="INFO", citizen=NUMBER, deadline_at=now, answered_at=now)
    case_table.update(published=True).where(case_table.id.in_([published.id, unanswered.id])).execute()

    with any_db.atomic():
        migrations._v7_to_v8(any_db, migrations._migrator(any_db))

    assert "published" not in [c.name for c in any_db.get_columns("case")]
    snapshot = Publication.get()
    assert (snapshot.case_id, snapshot.question_id, snapshot.answer_id) == (published.id, first.id, answer.id)
    assert (snapshot.question_text, snapshot.answer_text) == ("INFO kapan pasar buka?", "Jam 7 pagi.")
    assert snapshot.citizen_masked == "+62812****7890" and snapshot.withdrawn_at is None
    assert publications.live(private) is None and publications.live(unanswered) is None
    assert AuditLog.select().where(AuditLog.action == "case.publish", AuditLog.actor == "migration").count() == 1
