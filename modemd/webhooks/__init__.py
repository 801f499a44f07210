"""Webhooks: other systems hear what happens in the centre without reading its database.

Events (new case, new message in a case, a reply sent / delivered / failed, a
broadcast done) are written to a queue table (``webhook_delivery``) in the
same transaction as the change that causes them (events), one row per
endpoint configured for them (endpoints: ``[api] webhook_url`` and each
keyword's ``webhook =`` in keywords.ini). The daemon posts them from its own
threads, one lane per endpoint (dispatch), with a timeout per attempt and
exponential back-off for 24 hours; every attempt is kept (``webhook_attempt``)
for the admin page and ``modemd webhooks``. Each POST is signed with
HMAC-SHA256 over the timestamp and the body (signing). Nothing here ever runs
an HTTP request inside receiving or sending an SMS.
"""
