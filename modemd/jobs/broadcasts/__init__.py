"""Coordination broadcasts (Bekasi Pasal 6, 7 (6), 10): draft, approve, queue, follow, cancel, retry.

The life of a broadcast::

    draft --submit--> pending --approve--> approved --(its time)--> sending --> done
                        |  ^                  |                       |
                     reject |  edit          cancel                  cancel (what has not left)
                        v  |
                      rejected

The states and every allowed move are one table, ``BROADCAST_TRANSITIONS`` in
:mod:`modemd.states` (drawn in docs/architecture-states.md); each step asks it
before it writes a new state, and a refused move is a
:class:`BroadcastError` with code ``wrong_state``.

* Admins, officials and approvers draft; an approver approves or rejects with a reason;
  nobody approves their own broadcast, and a second approval is refused.
* An approval names the version the approver was shown (:func:`content_of`:
  the SHA-256 of the final text, the chosen groups and contacts and the send
  time); if the author changed anything since, the approval is refused
  (Bekasi Pasal 7 (6)), so nobody approves a text they did not see. Each
  submission records its content in the audit log, which is what
  :mod:`modemd.jobs.broadcast_review` compares to show the approver what changed.
* At approval the ``[notify] signature`` is appended and the final text's
  SHA-256 stored; queueing refuses a text that no longer matches.
* Recipients are the active contacts of the chosen groups plus the chosen
  contacts, one per number (a number in two groups gets one SMS), without
  blocked or invalid numbers.
* Queueing writes one :class:`~modemd.store.models.OutboundMessage` per recipient
  (kind ``broadcast``, lower priority than replies) in chunks, each chunk
  in one transaction; the unique index (broadcast, recipient) plus
  ``INSERT ... ON CONFLICT DO NOTHING`` make a duplicate impossible, and a
  queueing cut short by a restart is resumed where it stopped
  (``state = 'sending'`` with no ``queued_at`` yet).

One job a module; callers import this package and use the names below:

* :mod:`.rules`: the roles, categories and part limit, :class:`BroadcastError`,
  the state check and the row lock every step uses, who sees which broadcast;
* :mod:`.content`: the signed text and its hash, the recipients, the
  :class:`Content` an approver approves, the :class:`Preview`;
* :mod:`.drafting`: the author's side (draft, edit, submit);
* :mod:`.approval`: the approver's side (approve, reject);
* :mod:`.queueing`: writing the recipients' rows at the broadcast's time,
  closing finished broadcasts, the scheduler's pass (:func:`run_due`);
* :mod:`.outcome`: once under way (cancel, retry the failed, progress, per-recipient rows);
* :mod:`.templates`: named texts for recurring broadcasts.

A test that changes how queueing runs sets the attribute on the module that
reads it (``queueing.CHUNK``), not on this package: a name re-exported here is a
copy, and setting it would change nothing.
"""

from .approval import approve, check_approvable, may_approve, reject
from .content import (
    Content,
    Preview,
    Recipients,
    Rejected,
    content_of,
    final_text,
    preview,
    preview_of,
    resolve,
    signed,
    targets_of,
    text_hash,
)
from .drafting import EDITABLE, draft, edit, may_edit, submit
from .outcome import (
    FINISHED,
    RETRYABLE,
    Progress,
    cancel,
    may_cancel,
    may_retry,
    progress,
    recipient_rows,
    retry_failed,
)
from .queueing import OPEN_STATES, due, finish, queue_broadcast, run_due
from .rules import APPROVER_ROLES, CATEGORIES, DRAFTER_ROLES, MAX_PARTS, BroadcastError, visible_to
from .templates import delete_template, save_template

__all__ = [
    # rules
    "APPROVER_ROLES",
    "CATEGORIES",
    "DRAFTER_ROLES",
    "MAX_PARTS",
    "BroadcastError",
    "visible_to",
    # content
    "Content",
    "Preview",
    "Recipients",
    "Rejected",
    "content_of",
    "final_text",
    "preview",
    "preview_of",
    "resolve",
    "signed",
    "targets_of",
    "text_hash",
    # drafting
    "EDITABLE",
    "draft",
    "edit",
    "may_edit",
    "submit",
    # approval
    "approve",
    "check_approvable",
    "may_approve",
    "reject",
    # queueing
    "OPEN_STATES",
    "due",
    "finish",
    "queue_broadcast",
    "run_due",
    # outcome
    "FINISHED",
    "RETRYABLE",
    "Progress",
    "cancel",
    "may_cancel",
    "may_retry",
    "progress",
    "recipient_rows",
    "retry_failed",
    # templates
    "delete_template",
    "save_template",
]
