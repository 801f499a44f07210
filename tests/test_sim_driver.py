"""The simulated modem: a spool directory as SIM, real delays, real threads."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from modemd.drivers import create_driver, inject_simulated
from modemd.drivers.base import CmsError, ModemError, ModemGone, SendFailed, StatusReport
from modemd.drivers.sim import SENT_KEPT, SENT_LOG, SimDriver, inject
from modemd.sms import segmentation, tpdu

ROOT = Path(__file__).resolve().parents[1]
LONG_TEXT = "Terima kasih, laporan jalan rusak di desa Anda sudah kami teruskan ke Dinas PU. " * 3


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "sim-spool"


@pytest.fixture
def settings(spool: Path) -> dict[str, str]:
    return {"driver": "sim", "device": str(spool), "send_delay": "0", "report_delay": "0"}


@pytest.fixture
def make_modem(settings):
    """Builds connected simulated modems and closes them after the test."""
    made: list[SimDriver] = []

    def make(**overrides: str) -> SimDriver:
        driver = create_driver("sim1", dict(settings, **overrides))
        driver.connect()
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


def inject_from_another_process(spool: Path, sender: str, text: str) -> str:
    script = "import sys; from modemd.drivers.sim import inject; print(inject(sys.argv[1], sys.argv[2], sys.argv[3]))"
    result = subprocess.run(
        [sys.executable, "-c", script, str(spool), sender, text], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return result.stdout.strip()


# --------------------------------------------------------------------------
# receiving


def test_message_injected_by_another_process_is_received(make_modem, spool):
    modem = make_modem()
    path = inject_from_another_process(spool, "+6281234567890", "DISHUB jalan rusak di Jl. Merdeka \u263a")
    [message] = modem.receive()
    assert message.sender == "+6281234567890"
    assert message.text == "DISHUB jalan rusak di Jl. Merdeka \u263a"
    assert message.handle == path
    assert message.smsc_time is not None and message.smsc_time.tzinfo is not None
    assert not message.incomplete


def test_received_message_carries_real_deliver_pdus(make_modem, spool):
    modem = make_modem()
    stamp = datetime(2026, 11, 23, 9, 30, tzinfo=timezone(timedelta(hours=7)))
    inject(spool, "+6281234567890", LONG_TEXT, smsc_time=stamp)
    [message] = modem.receive()
    assert message.parts_total == len(message.pdus) > 1
    decoded = [tpdu.decode(part) for part in message.pdus]
    assert all(isinstance(part, tpdu.DeliverPdu) for part in decoded)
    assert "".join(part.text for part in decoded) == LONG_TEXT
    assert {part.sender for part in decoded} == {"+6281234567890"}
    assert message.smsc_time == stamp


def test_background_thread_sets_wakeup_when_a_message_arrives(make_modem, spool):
    modem = make_modem()
    modem.wakeup.clear()
    inject_from_another_process(spool, "+6281234567890", "INFO halo")
    assert modem.wakeup.wait(timeout=5), "the poller did not notice the new file"


def test_message_is_offered_once_until_acknowledged(make_modem, spool):
    modem = make_modem()
    inject(spool, "+6281234567890", "INFO halo")
    assert len(modem.receive()) == 1
    assert modem.receive() == []


def test_acknowledge_deletes_the_file(make_modem, spool):
    modem = make_modem()
    path = Path(inject(spool, "+6281234567890", "INFO halo"))
    other = Path(inject(spool, "+6281234567891", "INFO lain"))
    first, second = modem.receive()
    assert first.handle == str(path)
    modem.acknowledge(first)
    assert not path.exists()
    assert other.exists()
    assert modem.storage().used == 1


def test_unacknowledged_message_survives_a_crash(settings, spool):
    inject(spool, "+6281234567890", "INFO masih di SIM")
    crashed = create_driver("sim1", settings)
    crashed.connect()
    assert [m.text for m in crashed.receive()] == ["INFO masih di SIM"]
    crashed.close()  # the daemon died before it stored and acknowledged the message
    restarted = create_driver("sim1", settings)
    restarted.connect()
    try:
        [message] = restarted.receive()
        assert message.text == "INFO masih di SIM"
        restarted.acknowledge(message)
        assert restarted.receive() == []
        assert restarted.storage().used == 0
    finally:
        restarted.close()


def test_messages_come_in_arrival_order(make_modem, spool):
    modem = make_modem()
    for n in range(5):
        inject(spool, "+6281234567890", f"INFO pesan {n}")
    assert [m.text for m in modem.receive()] == [f"INFO pesan {n}" for n in range(5)]


def test_inject_leaves_no_temporary_files(spool):
    inject(spool, "+6281234567890", "INFO halo")
    assert [path.suffix for path in spool.iterdir()] == [".sms"]


def test_unreadable_file_is_handed_over_not_skipped(make_modem, spool):
    modem = make_modem()
    broken = spool / "00000000000000000001-1-broken.sms"
    broken.write_text("{not json", encoding="utf-8")
    [message] = modem.receive()
    assert message.decode_error and message.text == ""
    modem.acknowledge(message)
    assert not broken.exists()


def test_inject_simulated_through_the_registry(make_modem, settings):
    modem = make_modem()
    path = inject_simulated(settings, "081234567890", "INFO lewat registry")
    assert Path(path).parent == Path(settings["device"])
    assert [m.text for m in modem.receive()] == ["INFO lewat registry"]


def test_inject_simulated_refuses_other_drivers(tmp_path):
    with pytest.raises(ValueError, match="sim"):
        inject_simulated({"driver": "at", "device": str(tmp_path)}, "0812", "halo")


# --------------------------------------------------------------------------
# sending


def test_send_records_what_left(make_modem, spool):
    modem = make_modem()
    references = modem.send("+6281234567890", "Terima kasih")
    assert references == [0]
    [record] = modem.sent
    assert (record["number"], record["text"], record["references"]) == ("+6281234567890", "Terima kasih", [0])
    logged = [json.loads(line) for line in (spool / SENT_LOG).read_text(encoding="utf-8").splitlines()]
    assert logged == [record]


def test_multipart_send_returns_a_reference_per_part(make_modem):
    modem = make_modem()
    parts = segmentation.count(LONG_TEXT).parts
    assert parts > 1
    assert modem.send("+6281234567890", LONG_TEXT) == list(range(parts))
    assert modem.send("+6281234567890", "lagi") == [parts]


def test_references_wrap_at_255(make_modem):
    modem = make_modem()
    references = [modem.send("+6281234567890", "x")[0] for _ in range(258)]
    assert references[:256] == list(range(256))
    assert references[256:] == [0, 1]


def test_references_go_on_after_a_restart(make_modem):
    make_modem().send("+6281234567890", "satu")
    assert make_modem().send("+6281234567890", "dua") == [1]


def test_send_takes_at_least_the_delay_per_part(make_modem):
    modem = make_modem(send_delay="0.2")
    started = time.monotonic()
    references = modem.send("+6281234567890", LONG_TEXT)
    assert time.monotonic() - started >= 0.2 * len(references)


def test_close_interrupts_a_long_send(make_modem):
    modem = make_modem(send_delay="600")
    outcome: list[BaseException] = []

    def sending() -> None:
        try:
            modem.send("+6281234567890", "tidak akan terkirim")
        except ModemError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=sending)
    worker.start()
    time.sleep(0.2)
    modem.close()
    worker.join(timeout=10)
    assert not worker.is_alive(), "close() did not interrupt send()"
    assert len(outcome) == 1 and isinstance(outcome[0], ModemGone)
    assert modem.sent == []


def test_failure_rate_one_always_fails_and_may_be_retried(make_modem):
    modem = make_modem(failure_rate="1.0")
    for _ in range(5):
        with pytest.raises(SendFailed) as caught:
            modem.send("+6281234567890", "halo")
        assert not caught.value.permanent
    assert modem.sent == []


def test_failures_are_reproducible_with_a_seed(make_modem):
    def outcomes(modem: SimDriver) -> list[bool]:
        result = []
        for _ in range(30):
            try:
                modem.send("+6281234567890", "halo")
                result.append(True)
            except SendFailed:
                result.append(False)
        return result

    first = outcomes(make_modem(failure_rate="0.5", seed="42"))
    second = outcomes(make_modem(failure_rate="0.5", seed="42"))
    assert first == second
    assert True in first and False in first


def test_fail_numbers_fail_permanently_in_any_spelling(make_modem):
    modem = make_modem(fail_numbers="081299999999, +6281377777777")
    for number in ("+6281299999999", "6281299999999", "081299999999", "081377777777"):
        with pytest.raises(CmsError) as caught:
            modem.send(number, "halo")
        assert caught.value.code == 1  # unassigned number (TS 24.011)
        assert caught.value.permanent
    assert modem.send("+6281234567890", "halo") == [0]


# --------------------------------------------------------------------------
# delivery reports


def test_report_arrives_after_the_delay(make_modem):
    modem = make_modem(report_delay="0.5")
    [reference] = modem.send("+6281234567890", "halo")
    assert modem.status_reports() == []
    time.sleep(0.6)
    [report] = modem.status_reports()
    assert isinstance(report, StatusReport)
    assert (report.reference, report.recipient, report.delivered, report.final) == (
        reference,
        "+6281234567890",
        True,
        True,
    )
    decoded = tpdu.decode(report.pdu)
    assert isinstance(decoded, tpdu.StatusReportPdu)
    assert decoded.reference == reference


def test_due_report_sets_wakeup(make_modem):
    modem = make_modem(report_delay="0.3")
    modem.send("+6281234567890", "halo")
    modem.wakeup.clear()
    assert modem.wakeup.wait(timeout=5)
    assert len(modem.status_reports()) == 1


def test_report_is_returned_once_and_acknowledged(make_modem):
    modem = make_modem()
    references = modem.send("+6281234567890", LONG_TEXT)
    reports = modem.status_reports()
    assert sorted(report.reference for report in reports) == references
    assert modem.status_reports() == []
    for report in reports:
        modem.acknowledge(report)
    assert modem.status_reports() == []


def test_no_report_when_none_was_asked_for(make_modem):
    modem = make_modem()
    modem.send("+6281234567890", "halo", status_report=False)
    assert modem.status_reports() == []


# --------------------------------------------------------------------------
# information and lifecycle


def test_identify_signal_storage_balance(make_modem, spool):
    modem = make_modem(signal_dbm="-85", operator="TELKOMSEL")
    inject(spool, "+6281234567890", "INFO halo")
    identity = modem.identify()
    assert len(identity.imei) == 15 and identity.imei.isdigit()
    assert identity.imsi.startswith("510")  # Indonesia's mobile country code
    assert identity.operator == "TELKOMSEL"
    signal = modem.signal()
    assert (signal.dbm, signal.registration, signal.operator) == (-85, "home", "TELKOMSEL")
    assert modem.storage().used == 1
    assert "Sisa pulsa" in modem.balance()


def test_spool_directory_is_created(spool, settings):
    assert not spool.exists()
    modem = create_driver("sim1", settings)
    modem.connect()
    modem.close()
    assert spool.is_dir()


def test_closed_modem_is_gone(make_modem):
    modem = make_modem()
    modem.close()
    modem.close()
    with pytest.raises(ModemGone):
        modem.send("+6281234567890", "halo")
    with pytest.raises(ModemGone):
        modem.receive()


@pytest.mark.parametrize(("key", "value"), [("failure_rate", "1.5"), ("send_delay", "-1"), ("signal_dbm", "lots")])
def test_nonsense_settings_are_refused(settings, key, value):
    with pytest.raises(ValueError, match=key):
        SimDriver("sim1", dict(settings, **{key: value}))


def test_a_long_running_modem_keeps_only_the_latest_sends_in_memory(make_modem, spool):
    # every send used to stay in SimDriver.sent for the life of the daemon (~0.2 KiB each, found by bench/soak.py)
    modem = make_modem()
    for n in range(SENT_KEPT + 50):
        modem.send("+6281234567890", f"pesan {n}")
    assert len(modem.sent) <= SENT_KEPT
    assert modem.sent[-1]["text"] == f"pesan {SENT_KEPT + 49}"
    logged = (spool / SENT_LOG).read_text(encoding="utf-8").splitlines()
    assert len(logged) == SENT_KEPT + 50  # the full record stays in sent.log
