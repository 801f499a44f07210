"""The CI soak (bench/soak.py for ten minutes, started in the background as the session begins:
tests/soakrun.py): mixed traffic through the real daemon loses nothing and leaks no file descriptors
or threads. The long run is ``bench/soak.py --hours N``."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.soak


def test_ten_minutes_of_mixed_traffic_lose_nothing_and_leak_no_fds_or_threads(background_soak):
    assert background_soak.wait() == 0, background_soak.output()[-5000:]
    summary = json.loads(background_soak.summary_file.read_text(encoding="utf-8"))
    assert summary["seconds"] >= background_soak.minutes * 60, summary["seconds"]
    accounts = summary["accounts"]

    assert summary["drained"], "the queue did not drain after the traffic stopped"
    assert accounts["inbound_injected"] > 100
    assert accounts["inbound_stored"] == accounts["inbound_injected"]
    assert (accounts["inbound_lost"], accounts["inbound_duplicated"]) == (0, 0), accounts["lost_examples"]
    assert accounts["outbound_sent_twice_or_unrecorded"] == 0
    assert accounts["failed_without_reason"] == 0
    assert set(accounts["outbound_by_state"]) <= {"sent", "delivered", "failed"}
    assert {"autoreply", "reply", "broadcast"} <= set(accounts["outbound_by_kind"])
    assert accounts["broadcasts"] >= 2 and accounts["replies_queued"] > 0

    samples = summary["samples"]
    early = [s for s in samples if s["minute"] <= 2]
    final = samples[-1]
    assert final["fds"] <= max(s["fds"] for s in early) + 1, samples
    assert final["threads"] <= max(s["threads"] for s in early), samples
