"""The administrator's webhook page: every delivery with each attempt, texts escaped, retry of failed ones."""

from __future__ import annotations

from datetime import timedelta

from webfixtures import *  # noqa: F401,F403

from modemd.store.models import AuditLog, WebhookAttempt, WebhookDelivery, utcnow


def delivery(state: str, error: str | None = None, **kw) -> WebhookDelivery:
    now = utcnow()
    row = WebhookDelivery.create(
        event_id="3f1e",
        event=kw.pop("event", "case.opened"),
        endpoint=kw.pop("endpoint", "keyword:DISHUB"),
        url="https://dishub.example.go.id/hook?<x>",
        body="{}",
        state=state,
        attempts=kw.pop("attempts", 1 if error else 0),
        give_up_at=now + timedelta(hours=24),
        last_error=error,
        **kw,
    )
    if error:
        WebhookAttempt.create(delivery=row, at=now, url=row.url, status_code=500, error=error, duration_ms=1234)
    return row


def test_the_admin_sees_each_delivery_with_its_attempts(client, auth):
    failed = delivery("failed", "HTTP 500 <script>alert(1)</script>")
    delivery("delivered", event="broadcast.done", endpoint="api")
    auth.login("admin")
    page = client.get("/admin/webhooks/").get_data(as_text=True)
    assert "Kasus baru" in page and "Siaran selesai" in page and "keyword:DISHUB" in page
    assert "HTTP 500" in page and "1234 ms" in page and f'id="delivery-{failed.id}"' in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page  # an endpoint's answer is escaped
    assert "?&lt;x&gt;" in page
    only_failed = client.get("/admin/webhooks/?state=failed").get_data(as_text=True)
    assert "Kasus baru" in only_failed and "Siaran selesai" not in only_failed
    assert client.get("/admin/webhooks/?state=nonsense").status_code == 200  # an unknown state: all of them
    english = client.post("/lang/en", data={"next": "/admin/webhooks/"}, follow_redirects=True)
    assert "New case" in english.get_data(as_text=True)


def test_the_admin_retries_one_failed_delivery_or_all_of_them(client, auth):
    first = delivery("failed", "HTTP 500")
    second = delivery("failed", "no answer within 10 s")
    done = delivery("delivered")
    auth.login("admin")
    answer = client.post(f"/admin/webhooks/{first.id}/retry", follow_redirects=True)
    assert f"Pengiriman #{first.id} diantrekan lagi." in answer.get_data(as_text=True)
    assert WebhookDelivery.get_by_id(first.id).state == "pending"
    refused = client.post(f"/admin/webhooks/{done.id}/retry", follow_redirects=True)
    assert "tidak gagal" in refused.get_data(as_text=True) and WebhookDelivery.get_by_id(done.id).state == "delivered"
    client.post("/admin/webhooks/retry-failed")
    assert WebhookDelivery.get_by_id(second.id).state == "pending"
    assert [a.actor for a in AuditLog.select().where(AuditLog.action == "webhook.retry")] == ["admin", "admin"]


def test_only_the_admin_may_see_or_retry(client, auth):
    failed = delivery("failed", "HTTP 500")
    assert client.get("/admin/webhooks/").status_code == 302  # to the login page
    auth.login("humas")
    assert client.get("/admin/webhooks/").status_code == 403
    assert client.post(f"/admin/webhooks/{failed.id}/retry").status_code == 403
    assert WebhookDelivery.get_by_id(failed.id).state == "failed"


def test_a_retry_needs_the_csrf_token(csrf_client, officials):
    from webfixtures import AuthActions

    failed = delivery("failed", "HTTP 500")
    AuthActions(csrf_client).login("admin")
    assert csrf_client.post(f"/admin/webhooks/{failed.id}/retry").status_code == 400
    assert WebhookDelivery.get_by_id(failed.id).state == "failed"


def test_why_a_delivery_failed_reads_in_bahasa_with_the_technical_words_beside_it(client, auth):
    from modemd.webhooks import errors, post

    timeout = delivery("pending", f"{post.NO_ANSWER} 10 s")
    refused = delivery(
        "failed", f"{post.REFUSED} (nothing listens at that address) (given up after 14 attempts)", attempts=14
    )
    auth.login("admin")
    page = client.get("/admin/webhooks/").get_data(as_text=True)
    row = page.split(f'id="delivery-{timeout.id}"')[1].split("</tr>")[0]
    assert "Penerima tidak menjawab tepat waktu" in row and "no answer within 10 s" in row
    assert "dihentikan" not in row  # still pending: not given up
    row = page.split(f'id="delivery-{refused.id}"')[1].split("</tr>")[0]
    assert "Sambungan ditolak" in row and "dihentikan setelah 14 percobaan" in row
    assert errors.plain("something nobody foresaw") == errors.OTHER  # an unknown error still reads in Bahasa
    english = client.post("/lang/en", data={"next": "/admin/webhooks/"}, follow_redirects=True)
    assert "The receiver did not answer in time" in english.get_data(as_text=True)
