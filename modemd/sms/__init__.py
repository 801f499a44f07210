"""SMS on the wire (3GPP TS 23.038 / 23.040) and the numbers it travels between, with no I/O.

Besides :mod:`modemd.sms.reassembly` (the parts of a long SMS put back
together, out of order, with a timeout) and :mod:`modemd.sms.phone`
(Indonesian numbers: E.164, sender kinds, masking), three codec layers,
each importing only the ones before it:

* :mod:`modemd.sms.gsm7` -- the GSM 03.38 default alphabet, its extension
  table and septet packing: which text is GSM-encodable and what it costs.
* :mod:`modemd.sms.segmentation` -- how a text is counted and cut into parts
  (what the reply box's counter shows; webui/static/smscount.js mirrors it).
* :mod:`modemd.sms.tpdu` -- the TPDU codec: SMS-SUBMIT encoding for the AT
  driver, SMS-DELIVER / STATUS-REPORT / SUBMIT decoding, and the DELIVER and
  STATUS-REPORT encoders the simulated modem and the tests need.

:class:`modemd.sms.errors.PduError` (a ``ValueError``) is the one error all
three raise for a malformed PDU or a value that cannot go into one.

Import each name from the module that defines it; this package re-exports
nothing.
"""
