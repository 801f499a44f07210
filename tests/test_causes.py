"""The +CMS ERROR cause table: every row checked against 3GPP, written out here independently.

The expected classification below is this test's own reading of the specs,
not the table's: a cause about the message or the recipient fails for good;
the network, congestion, the modem, the SIM and anything unknown is retried.

* TS 24.011 Table 8.4 (part 3) and annex E.2 (RP-cause, mobile originating)
* TS 23.040 clause 9.2.3.22 (TP-Failure-Cause)
* TS 27.005 clause 3.2.5 (``<err>`` values 300-500 of the ME/TA)
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from modemd.config import Config
from modemd.drivers import causes
from modemd.drivers.base import CmsError, SendFailed
from modemd.send import failures
from modemd.send.outbound import IN_DOUBT_REASON
from modemd.states import OutboundState

DEFAULTS = Config.defaults()  # the schema's settings, no file

GIVE_UP, RETRY = True, False

# (code, permanent, 3GPP name as the spec writes it, where)
SPEC: list[tuple[int, bool, str, str]] = [
    (1, GIVE_UP, "Unassigned (unallocated) number", "24.011 E.2"),
    (8, GIVE_UP, "Operator determined barring", "24.011 E.2"),
    (10, GIVE_UP, "Call barred", "24.011 E.2"),
    (17, RETRY, "Network failure", "24.011 E.2 (mobile terminating; a network cause)"),
    (21, GIVE_UP, "Short message transfer rejected", "24.011 E.2"),
    (22, RETRY, "Memory capacity exceeded", "24.011 E.2: the recipient frees memory later"),
    (27, RETRY, "Destination out of order", "24.011 E.2: recipient phone off for a while"),
    (28, GIVE_UP, "Unidentified subscriber", "24.011 E.2"),
    (29, GIVE_UP, "Facility rejected", "24.011 E.2"),
    (30, GIVE_UP, "Unknown subscriber", "24.011 E.2"),
    (38, RETRY, "Network out of order", "24.011 E.2: 'likely to last a relatively long period', not the message"),
    (41, RETRY, "Temporary failure", "24.011 E.2"),
    (42, RETRY, "Congestion", "24.011 E.2"),
    (47, RETRY, "Resources unavailable, unspecified", "24.011 E.2"),
    (50, GIVE_UP, "Requested facility not subscribed", "24.011 E.2"),
    (69, GIVE_UP, "Requested facility not implemented", "24.011 E.2"),
    (81, GIVE_UP, "Invalid short message transfer reference value", "24.011 E.2"),
    (95, GIVE_UP, "Semantically incorrect message", "24.011 E.2"),
    (96, GIVE_UP, "Invalid mandatory information", "24.011 E.2"),
    (97, GIVE_UP, "Message type non-existent or not implemented", "24.011 E.2"),
    (98, GIVE_UP, "Message not compatible with short message protocol state", "24.011 E.2"),
    (99, GIVE_UP, "Information element non-existent or not implemented", "24.011 E.2"),
    (111, GIVE_UP, "Protocol error, unspecified", "24.011 E.2"),
    (127, RETRY, "Interworking, unspecified", "24.011 E.2: another network's trouble"),
    (128, GIVE_UP, "Telematic interworking not supported", "23.040 9.2.3.22"),
    (129, GIVE_UP, "Short message Type 0 not supported", "23.040 9.2.3.22"),
    (130, GIVE_UP, "Cannot replace short message", "23.040 9.2.3.22"),
    (143, GIVE_UP, "Unspecified TP-PID error", "23.040 9.2.3.22"),
    (144, GIVE_UP, "Data coding scheme (alphabet) not supported", "23.040 9.2.3.22"),
    (145, GIVE_UP, "Message class not supported", "23.040 9.2.3.22"),
    (159, GIVE_UP, "Unspecified TP-DCS error", "23.040 9.2.3.22"),
    (160, GIVE_UP, "Command cannot be actioned", "23.040 9.2.3.22"),
    (161, GIVE_UP, "Command unsupported", "23.040 9.2.3.22"),
    (175, GIVE_UP, "Unspecified TP-Command error", "23.040 9.2.3.22"),
    (176, GIVE_UP, "TPDU not supported", "23.040 9.2.3.22"),
    (192, RETRY, "SC busy", "23.040 9.2.3.22"),
    (193, RETRY, "No SC subscription", "23.040 9.2.3.22: the centre's SIM, not the message"),
    (194, RETRY, "SC system failure", "23.040 9.2.3.22"),
    (195, GIVE_UP, "Invalid SME address", "23.040 9.2.3.22"),
    (196, GIVE_UP, "Destination SME barred", "23.040 9.2.3.22"),
    (197, GIVE_UP, "SM Rejected-Duplicate SM", "23.040 9.2.3.22"),
    (198, GIVE_UP, "TP-VPF not supported", "23.040 9.2.3.22"),
    (199, GIVE_UP, "TP-VP not supported", "23.040 9.2.3.22"),
    (208, RETRY, "(U)SIM SMS storage full", "23.040 9.2.3.22"),
    (209, RETRY, "No SMS storage capability in (U)SIM", "23.040 9.2.3.22"),
    (210, RETRY, "Error in MS", "23.040 9.2.3.22"),
    (211, RETRY, "Memory Capacity Exceeded", "23.040 9.2.3.22"),
    (212, RETRY, "(U)SIM Application Toolkit Busy", "23.040 9.2.3.22"),
    (213, RETRY, "(U)SIM data download error", "23.040 9.2.3.22"),
    (255, RETRY, "Unspecified error cause", "23.040 9.2.3.22"),
    (300, RETRY, "ME failure", "27.005 3.2.5"),
    (301, RETRY, "SMS service of ME reserved", "27.005 3.2.5"),
    (302, RETRY, "Operation not allowed", "27.005 3.2.5"),
    (303, RETRY, "Operation not supported", "27.005 3.2.5"),
    (304, GIVE_UP, "Invalid PDU mode parameter", "27.005 3.2.5: the PDU we built"),
    (305, GIVE_UP, "Invalid text mode parameter", "27.005 3.2.5"),
    (310, RETRY, "(U)SIM not inserted", "27.005 3.2.5"),
    (311, RETRY, "(U)SIM PIN required", "27.005 3.2.5"),
    (312, RETRY, "PH-(U)SIM PIN required", "27.005 3.2.5"),
    (313, RETRY, "(U)SIM failure", "27.005 3.2.5"),
    (314, RETRY, "(U)SIM busy", "27.005 3.2.5"),
    (315, RETRY, "(U)SIM wrong", "27.005 3.2.5"),
    (316, RETRY, "(U)SIM PUK required", "27.005 3.2.5"),
    (317, RETRY, "(U)SIM PIN2 required", "27.005 3.2.5"),
    (318, RETRY, "(U)SIM PUK2 required", "27.005 3.2.5"),
    (320, RETRY, "Memory failure", "27.005 3.2.5"),
    (321, RETRY, "Invalid memory index", "27.005 3.2.5"),
    (322, RETRY, "Memory full", "27.005 3.2.5"),
    (330, RETRY, "SMSC address unknown", "27.005 3.2.5"),
    (331, RETRY, "No network service", "27.005 3.2.5"),
    (332, RETRY, "Network timeout", "27.005 3.2.5"),
    (340, RETRY, "No +CNMA acknowledgement expected", "27.005 3.2.5"),
    (500, RETRY, "Unknown error", "27.005 3.2.5"),
]

CATALOGUE = Path(__file__).resolve().parents[1] / "webui/translations/en/LC_MESSAGES/messages.po"


@pytest.mark.parametrize(("code", "permanent", "name", "where"), SPEC, ids=[str(row[0]) for row in SPEC])
def test_each_cause_is_classified_as_3gpp_says(code, permanent, name, where):
    row = causes.cause(code)
    assert row.code == code and row.spec == name, where
    assert row.permanent is permanent, f"{code} {name} ({where})"
    assert CmsError(code).permanent is permanent
    # words for officials: no modem code, no English jargon
    assert row.text and not re.search(r"\d|CMS|ERROR", row.text)


def test_the_table_has_no_row_this_test_does_not_check():
    assert sorted(causes.CAUSES) == [code for code, *_ in SPEC]


@pytest.mark.parametrize("code", [None, 0, 2, 200, 256, 399, 512, 999, -1])
def test_unknown_codes_are_retried_with_a_plain_text(code):
    row = causes.cause(code)
    assert row.permanent is False and CmsError(code).permanent is False
    assert row.text == causes.UNKNOWN


def test_every_text_has_an_english_translation():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    texts = {row.text for row in causes.CAUSES.values()} | {causes.UNKNOWN}
    missing = [text for text in texts if not (catalogue.get(text) and catalogue.get(text).string)]
    assert missing == []


# --------------------------------------------------------------------------
# the drivers follow the table


def test_gammu_send_errors_follow_the_table():
    gammu = pytest.importorskip("gammu", reason="python-gammu is not installed")
    from modemd.drivers.gammu import SEND_ERROR_CAUSES, convert_error

    def failed(name: str) -> SendFailed:
        error = getattr(gammu, name)({"Text": "x", "Where": "SendSMS", "Code": gammu.Errors[name]})
        converted = convert_error(error, "sending", sending=True)
        assert isinstance(converted, SendFailed)
        return converted

    network = failed("ERR_NETWORK_ERROR")
    assert (network.code, network.permanent) == (38, False)  # the network, not the message: retried
    invalid = failed("ERR_INVALIDDATA")
    assert (invalid.code, invalid.permanent) == (304, True)
    for name, code in SEND_ERROR_CAUSES.items():
        assert failed(name).permanent is causes.is_permanent(code)
    unknown = failed("ERR_UNKNOWN")  # not in the mapping: an unknown cause, retried
    assert (unknown.code, unknown.permanent) == (None, False)


def test_simulated_driver_fails_listed_numbers_for_good_and_random_sends_for_a_while(tmp_path):
    from modemd.drivers.sim import SimDriver

    listed = SimDriver(
        "sim1", {"device": str(tmp_path / "a"), "send_delay": "0", "fail_numbers": "+6285700000000"}, threading.Event()
    )
    random_fail = SimDriver(
        "sim2", {"device": str(tmp_path / "b"), "send_delay": "0", "failure_rate": "1"}, threading.Event()
    )
    for driver in (listed, random_fail):
        driver.connect()
    try:
        with pytest.raises(CmsError) as wrong_number:
            listed.send("+6285700000000", "halo")
        assert (wrong_number.value.code, wrong_number.value.permanent) == (1, True)
        with pytest.raises(CmsError) as network:
            random_fail.send("+6281234567890", "halo")
        assert (network.value.code, network.value.permanent) == (38, False)
    finally:
        for driver in (listed, random_fail):
            driver.close()


# --------------------------------------------------------------------------
# the plain words are what people read, in the CLI as in the web UI


def test_modemd_outbox_gives_the_cause_in_plain_words(officials, write_config):
    import json

    from modemd import config as config_module
    from modemd.send import outbound, outqueue
    from tests.test_cli_daemon import SIM, modemd

    path = write_config(SIM + "[sms]\nretry_intervals = 1m\nmax_attempts = 3\n")
    config = config_module.load(path)
    retrying = outqueue.enqueue("081211112222", "balasan satu", "manual", config=DEFAULTS)
    failed = outqueue.enqueue("081211113333", "balasan dua", "manual", config=DEFAULTS)
    eligibility = outbound.Eligibility.build("sim1", ["sim1"], None)
    for message, code in ((outbound.claim("pc", eligibility), 38), (outbound.claim("pc", eligibility), 1)):
        outbound.record_failure(
            message, f"+CMS ERROR: {code}", permanent=CmsError(code).permanent, config=config, code=code
        )
    rows = {row["id"]: row for row in json.loads(modemd(path, "outbox", "--json", check=True).stdout)}
    assert (rows[retrying.id]["status"], rows[retrying.id]["failure_code"], rows[retrying.id]["failure_text"]) == (
        "pending",
        38,
        "Jaringan operator sedang gangguan, akan dicoba lagi",
    )
    assert (rows[failed.id]["status"], rows[failed.id]["failure_code"], rows[failed.id]["failure_text"]) == (
        "failed",
        1,
        "Nomor tujuan tidak dikenal",
    )
    table = modemd(path, "outbox", check=True).stdout
    assert "Jaringan operator sedang gangguan, akan dicoba lagi" in table and "Nomor tujuan tidak dikenal" in table
    assert "CMS" not in table


@pytest.mark.parametrize("reason", ["broadcast cancelled", "cancelled by admin", ""])
def test_a_cancelled_message_reads_dibatalkan_however_its_reason_is_worded(reason):
    # a cancelled broadcast's recipients read "Gangguan yang tidak dikenal" before: its reason did not begin with "cancelled"
    assert failures.plain(None, reason, OutboundState.CANCELLED) == "Dibatalkan"


def test_a_message_in_doubt_twice_says_it_may_have_arrived_in_both_languages():
    reason = f"{IN_DOUBT_REASON} (the daemon stopped during its resend too)"
    assert failures.plain(None, reason, OutboundState.FAILED) == failures.IN_DOUBT
    with CATALOGUE.open("rb") as handle:
        english = read_po(handle).get(failures.IN_DOUBT).string
    assert "may have arrived" in english
