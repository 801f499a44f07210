"""`modemd inbox` / `outbox` show times in the centre's own time zone, with the zone said.

The database keeps UTC; a technician in Jayapura reading "07:05" without a
zone would be nine hours off. Human output reads ``2026-12-02 14:05 WIB``;
``--json`` carries ISO 8601 with the offset.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from cli_run import modemd

from modemd.config import Config
from modemd.send import outqueue
from modemd.store.models import InboundMessage, OutboundMessage

DEFAULTS = Config.defaults()  # the schema's settings, no file

STORED_UTC = datetime(2026, 12, 2, 7, 5, 0)  # as the database keeps it: naive UTC


@pytest.fixture(params=[("Asia/Jakarta", "WIB", "+07:00", "14:05"), ("Asia/Jayapura", "WIT", "+09:00", "16:05")])
def center(request, officials, write_config):
    zone, abbreviation, offset, clock = request.param
    path = write_config(
        f"[modemd]\ndatabase = sqlite:///modemd.db\nstate_dir = .\ntimezone = {zone}\n"
        "[modem:sim1]\ndriver = sim\ndevice = spool1\n"
    )
    return path, abbreviation, offset, clock


def test_inbox_shows_local_time_with_its_zone(center):
    from tests.daemonharness import Conversation

    path, abbreviation, offset, clock = center
    routed = Conversation(path).receive("081211112222", "DISHUB lampu <b>mati</b>", smsc_time=None)
    InboundMessage.update(received_at=STORED_UTC, smsc_time=STORED_UTC).where(
        InboundMessage.id == routed.message.id
    ).execute()
    [row] = json.loads(modemd(path, "inbox", "--json").stdout)
    assert row["received_at"] == f"2026-12-02T{clock}:00{offset}"
    assert row["smsc_time"] == f"2026-12-02T{clock}:00{offset}"
    assert datetime.fromisoformat(row["deadline_at"]).utcoffset() is not None
    table = modemd(path, "inbox").stdout
    assert f"2026-12-02 {clock} {abbreviation}" in table


def test_outbox_shows_local_time_with_its_zone(center):
    path, abbreviation, offset, clock = center
    message = outqueue.enqueue("085712345678", "Balasan", "manual", config=DEFAULTS)
    OutboundMessage.update(created_at=STORED_UTC, sent_at=STORED_UTC).where(OutboundMessage.id == message.id).execute()
    [row] = json.loads(modemd(path, "outbox", "--json").stdout)
    assert row["created_at"] == row["sent_at"] == f"2026-12-02T{clock}:00{offset}"
    assert row["delivered_at"] is None
    assert f"2026-12-02 {clock} {abbreviation}" in modemd(path, "outbox").stdout
