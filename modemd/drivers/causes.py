"""What a ``+CMS ERROR: <code>`` means: try again later, or give up; and the words for people.

One table for every driver and every screen. The codes are those of
3GPP TS 27.005 clause 3.2.5 (``<err>`` of ``+CMS ERROR``):

* 0-127: RP-cause values of 3GPP TS 24.011 (Table 8.4 part 3, annex E),
  what the network answers to a submitted message;
* 128-255: TP-Failure-Cause values of 3GPP TS 23.040 clause 9.2.3.22,
  what the service centre answers;
* 300-500: errors of the modem itself (TS 27.005 clause 3.2.5).

The rule (3GPP's own grouping): only a cause about *the message* (a malformed
PDU, an unsupported coding) or *the recipient* (an unassigned, unknown or
barred number) fails for good. A network that is out of order, congested or
temporarily failing (24.011 annex E: causes 27, 38, 41, 42, 47), a modem or SIM
that is busy, and any code this table does not know are retried on the
``[sms] retry_intervals`` schedule, up to ``max_attempts``.

``text`` is plain Bahasa Indonesia for officials (never a raw code); the web
UI translates it through its catalogue (``N_`` marks it for extraction).
"""

from __future__ import annotations

from dataclasses import dataclass


def N_(text: str) -> str:
    """Mark ``text`` for the translation catalogue; it is translated where it is shown."""
    return text


@dataclass(frozen=True)
class Cause:
    code: int | None
    permanent: bool  # retrying the same message to the same number cannot succeed
    spec: str  # the 3GPP name, for logs and technicians
    text: str  # for officials, Bahasa Indonesia


# the words officials read; several codes share one
NUMBER_UNKNOWN = N_("Nomor tujuan tidak dikenal")
NUMBER_BARRED = N_("Nomor tujuan diblokir operator")
REJECTED = N_("SMS ditolak jaringan operator")
MESSAGE_INVALID = N_("Isi SMS tidak dapat dikirim dalam bentuk ini")
RECIPIENT_OFF = N_("Ponsel penerima tidak aktif atau di luar jangkauan")
RECIPIENT_FULL = N_("Memori ponsel penerima penuh")
NETWORK_DOWN = N_("Jaringan operator sedang gangguan")
NETWORK_BUSY = N_("Jaringan operator sedang padat")
CENTRE_FAILURE = N_("Pusat SMS operator sedang gangguan")
NO_SERVICE = N_("Modem tidak mendapat sinyal operator")
MODEM_FAILURE = N_("Modem sedang bermasalah")
SIM_PROBLEM = N_("Kartu SIM di modem bermasalah")
SIM_FULL = N_("Memori kartu SIM di modem penuh")
SUBSCRIPTION = N_("Kartu SIM di modem tidak berlangganan layanan ini")
SMSC_UNKNOWN = N_("Nomor pusat SMS operator belum diatur di modem")
UNKNOWN = N_("Gangguan yang tidak dikenal")


def _row(code: int, permanent: bool, spec: str, text: str) -> tuple[int, Cause]:
    return code, Cause(code, permanent, spec, text)


GIVE_UP, RETRY = True, False

CAUSES: dict[int, Cause] = dict(
    [
        # 3GPP TS 24.011 Table 8.4 (part 3): RP-cause
        _row(1, GIVE_UP, "Unassigned (unallocated) number", NUMBER_UNKNOWN),
        _row(8, GIVE_UP, "Operator determined barring", NUMBER_BARRED),
        _row(10, GIVE_UP, "Call barred", NUMBER_BARRED),
        _row(17, RETRY, "Network failure", NETWORK_DOWN),
        _row(21, GIVE_UP, "Short message transfer rejected", REJECTED),
        _row(22, RETRY, "Memory capacity exceeded", RECIPIENT_FULL),
        _row(27, RETRY, "Destination out of order", RECIPIENT_OFF),
        _row(28, GIVE_UP, "Unidentified subscriber", NUMBER_UNKNOWN),
        _row(29, GIVE_UP, "Facility rejected", REJECTED),
        _row(30, GIVE_UP, "Unknown subscriber", NUMBER_UNKNOWN),
        _row(38, RETRY, "Network out of order", NETWORK_DOWN),
        _row(41, RETRY, "Temporary failure", NETWORK_DOWN),
        _row(42, RETRY, "Congestion", NETWORK_BUSY),
        _row(47, RETRY, "Resources unavailable, unspecified", NETWORK_BUSY),
        _row(50, GIVE_UP, "Requested facility not subscribed", SUBSCRIPTION),
        _row(69, GIVE_UP, "Requested facility not implemented", REJECTED),
        _row(81, GIVE_UP, "Invalid short message transfer reference value", MESSAGE_INVALID),
        _row(95, GIVE_UP, "Semantically incorrect message", MESSAGE_INVALID),
        _row(96, GIVE_UP, "Invalid mandatory information", MESSAGE_INVALID),
        _row(97, GIVE_UP, "Message type non-existent or not implemented", MESSAGE_INVALID),
        _row(98, GIVE_UP, "Message not compatible with short message protocol state", MESSAGE_INVALID),
        _row(99, GIVE_UP, "Information element non-existent or not implemented", MESSAGE_INVALID),
        _row(111, GIVE_UP, "Protocol error, unspecified", MESSAGE_INVALID),
        _row(127, RETRY, "Interworking, unspecified", NETWORK_DOWN),
        # 3GPP TS 23.040 9.2.3.22: TP-Failure-Cause
        _row(128, GIVE_UP, "Telematic interworking not supported", MESSAGE_INVALID),
        _row(129, GIVE_UP, "Short message Type 0 not supported", MESSAGE_INVALID),
        _row(130, GIVE_UP, "Cannot replace short message", MESSAGE_INVALID),
        _row(143, GIVE_UP, "Unspecified TP-PID error", MESSAGE_INVALID),
        _row(144, GIVE_UP, "Data coding scheme (alphabet) not supported", MESSAGE_INVALID),
        _row(145, GIVE_UP, "Message class not supported", MESSAGE_INVALID),
        _row(159, GIVE_UP, "Unspecified TP-DCS error", MESSAGE_INVALID),
        _row(160, GIVE_UP, "Command cannot be actioned", MESSAGE_INVALID),
        _row(161, GIVE_UP, "Command unsupported", MESSAGE_INVALID),
        _row(175, GIVE_UP, "Unspecified TP-Command error", MESSAGE_INVALID),
        _row(176, GIVE_UP, "TPDU not supported", MESSAGE_INVALID),
        _row(192, RETRY, "SC busy", NETWORK_BUSY),
        _row(193, RETRY, "No SC subscription", SUBSCRIPTION),
        _row(194, RETRY, "SC system failure", CENTRE_FAILURE),
        _row(195, GIVE_UP, "Invalid SME address", NUMBER_UNKNOWN),
        _row(196, GIVE_UP, "Destination SME barred", NUMBER_BARRED),
        _row(197, GIVE_UP, "SM Rejected-Duplicate SM", REJECTED),
        _row(198, GIVE_UP, "TP-VPF not supported", MESSAGE_INVALID),
        _row(199, GIVE_UP, "TP-VP not supported", MESSAGE_INVALID),
        _row(208, RETRY, "(U)SIM SMS storage full", SIM_FULL),
        _row(209, RETRY, "No SMS storage capability in (U)SIM", SIM_PROBLEM),
        _row(210, RETRY, "Error in MS", MODEM_FAILURE),
        _row(211, RETRY, "Memory Capacity Exceeded", SIM_FULL),
        _row(212, RETRY, "(U)SIM Application Toolkit Busy", SIM_PROBLEM),
        _row(213, RETRY, "(U)SIM data download error", SIM_PROBLEM),
        _row(255, RETRY, "Unspecified error cause", UNKNOWN),
        # 3GPP TS 27.005 3.2.5: errors of the modem (ME) and the SIM
        _row(300, RETRY, "ME failure", MODEM_FAILURE),
        _row(301, RETRY, "SMS service of ME reserved", MODEM_FAILURE),
        _row(302, RETRY, "Operation not allowed", MODEM_FAILURE),
        _row(303, RETRY, "Operation not supported", MODEM_FAILURE),
        _row(304, GIVE_UP, "Invalid PDU mode parameter", MESSAGE_INVALID),
        _row(305, GIVE_UP, "Invalid text mode parameter", MESSAGE_INVALID),
        _row(310, RETRY, "(U)SIM not inserted", SIM_PROBLEM),
        _row(311, RETRY, "(U)SIM PIN required", SIM_PROBLEM),
        _row(312, RETRY, "PH-(U)SIM PIN required", SIM_PROBLEM),
        _row(313, RETRY, "(U)SIM failure", SIM_PROBLEM),
        _row(314, RETRY, "(U)SIM busy", SIM_PROBLEM),
        _row(315, RETRY, "(U)SIM wrong", SIM_PROBLEM),
        _row(316, RETRY, "(U)SIM PUK required", SIM_PROBLEM),
        _row(317, RETRY, "(U)SIM PIN2 required", SIM_PROBLEM),
        _row(318, RETRY, "(U)SIM PUK2 required", SIM_PROBLEM),
        _row(320, RETRY, "Memory failure", SIM_PROBLEM),
        _row(321, RETRY, "Invalid memory index", SIM_PROBLEM),
        _row(322, RETRY, "Memory full", SIM_FULL),
        _row(330, RETRY, "SMSC address unknown", SMSC_UNKNOWN),
        _row(331, RETRY, "No network service", NO_SERVICE),
        _row(332, RETRY, "Network timeout", NETWORK_DOWN),
        _row(340, RETRY, "No +CNMA acknowledgement expected", MODEM_FAILURE),
        _row(500, RETRY, "Unknown error", UNKNOWN),
    ]
)


def cause(code: int | None) -> Cause:
    """The table's row for ``code``; a code it does not know (or none) is an unknown, temporary trouble."""
    if code is not None and code in CAUSES:
        return CAUSES[code]
    return Cause(code, False, "unknown cause", UNKNOWN)


def is_permanent(code: int | None) -> bool:
    """Whether a send that failed with ``code`` should not be tried again."""
    return cause(code).permanent
