"""The one error of the SMS codec (:mod:`modemd.sms`), and its refinement for numbers.

:func:`modemd.sms.tpdu.decode` raises :class:`PduError` for anything
malformed or truncated and nothing else; encoders raise it for a value that
cannot go into a PDU. It is a ``ValueError`` so callers that only care about
"bad input" need not know the codec.
"""

from __future__ import annotations

__all__ = ["PduError", "InvalidNumber"]


class PduError(ValueError):
    """A PDU (or a value to put into one) is malformed; the message says what and where."""


class InvalidNumber(PduError):
    """A phone number cannot be put into an address field."""
