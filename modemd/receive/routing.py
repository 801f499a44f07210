"""Routing one stored inbound SMS: a pipeline of small named steps.

Each step looks at a :class:`Routing` (the message and what earlier steps
found) and may stop the pipeline::

    screen_sender      blocked numbers and senders that cannot be answered: kept, never answered
    parse_keyword      the first word in any form citizens type it (below), aliases, one-letter typos
    answer_status_query  "CEK 123": the state of the citizen's own case (modemd.receive.status_query)
    open_or_join_case  same citizen + same keyword + an open case = the same conversation; a keyword with
                       flow = verified opens it in the central admin's queue (modemd.cases.flow)
    note_correction    a mistyped keyword: the case's history says which word was read as which keyword
    acknowledge        the keyword's reply, always with the case number, when a case opens
    unknown_keyword    the list of valid keywords, in one SMS where possible; the case is unrouted
    announce           the webhook event (new case, or new message in a case), queued in the same transaction

The first word is the first run of letters and digits (any script and width),
whatever comes before it -- spaces, an emoji, ``#``, ``*``, a quote or a
bracket -- and whatever ends it: ``#DISHUB …``, ``(DISHUB)``, ``DISHUB-jalan``,
``Dishub/jalan``, ``ＤＩＳＨＵＢ``. Letters glued to the keyword make another word
(``DISHUBjalan`` is not DISHUB: keywords may be prefixes of others). A word
that is no keyword but one letter away from exactly one keyword of five
letters or more goes to that keyword, marked "kata kunci dikoreksi" (an audit
entry ``case.keyword_corrected`` on the case); see :mod:`modemd.receive.keywords`.

Automatic replies go through :func:`autoreply`, which limits them per number
per window so two robots never answer each other forever. The whole pipeline
for one message runs in one transaction; the message's ``route``, ``keyword``
and ``case`` are written once at its end (the original text is never touched).
``run_on_receive`` runs after the commit, off the worker's thread: it gets
the message id in ``MODEMD_MESSAGE_ID`` and the message as one JSON document
on its standard input (:func:`receive_document`), never the text in its
arguments or environment, where a NUL from a UCS-2 SMS cannot go.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

import peewee

from modemd.cases import flow
from modemd.config import Config
from modemd.receive import status_query
from modemd.receive.keywords import Keyword, KeywordTable
from modemd.send import outqueue
from modemd.sms import phone
from modemd.sms.segmentation import count as sms_count
from modemd.states import CaseStatus
from modemd.store.models import (
    AuditLog,
    BlockedNumber,
    Case,
    InboundMessage,
    OutboundMessage,
    User,
    database_proxy,
    utcnow,
)
from modemd.store.sqlcache import Compiled, CompiledInsert, Param
from modemd.webhooks import events as webhook_events

log = logging.getLogger("modemd.routing")

# Before the first word: anything but letters and digits, a keycap emoji ("1️⃣") included; possessive, so
# a text of symbols only fails at once instead of trying every way to read "#⃣#⃣#⃣…".
# The word: letters and digits, with combining marks inside ("DÍSHUB" typed with a separate accent).
# After it: closing quotes and brackets, the glue citizens use ("dishub#jalan", "DisHub: jalan",
# "DISHUB-jalan", "Dishub/jalan") and spaces; then the text. One match does it all.
_FIRST_WORD = re.compile(
    r"(?:[0-9#*]\ufe0f?\u20e3|[\W_])*+([^\W_]+(?:[\u0300-\u036f]+[^\W_]*)*)"
    r"[\s)\]}>\"'»”’）]*[#.:,;/\-*=!_＃．：，／－]*\s*(.*)",
    re.DOTALL,
)
# "dll." (and so on) ends a keyword list shortened to fit one SMS; GSM 7-bit, unlike an ellipsis.
_MORE = "dll."
KEYWORD_CORRECTED = "case.keyword_corrected"  # the audit action marking a message read with a corrected keyword
OWNER_CACHE_SECONDS = 60.0


# SQL compiled once ---------------------------------------------------------
# storing and routing one message runs about ten statements, each of which
# peewee would render anew (about 0.1 ms, more than SQLite takes to run it):
# rendered once instead, see modemd.store.sqlcache.


_BLOCKED = Compiled(
    lambda: (
        BlockedNumber.select(peewee.SQL("1")).where(BlockedNumber.phone.in_([Param("number"), Param("raw")])).limit(1)
    )
)
_OPEN_CASE = Compiled(
    lambda: (
        Case.select()
        .where(Case.citizen == Param("citizen"), Case.status == CaseStatus.OPEN, Case.keyword == Param("keyword"))
        .order_by(Case.id.desc())
        .limit(1)
    )
)
_OPEN_UNROUTED_CASE = Compiled(
    lambda: (
        Case.select()
        .where(Case.citizen == Param("citizen"), Case.status == CaseStatus.OPEN, Case.keyword.is_null())
        .order_by(Case.id.desc())
        .limit(1)
    )
)
_TOUCH_CASE = Compiled(lambda: Case.update(last_message_at=Param("at")).where(Case.id == Param("case")))
_RECENT_AUTOREPLIES = Compiled(
    lambda: OutboundMessage.select(peewee.fn.COUNT(OutboundMessage.id)).where(
        OutboundMessage.recipient == Param("recipient"),
        OutboundMessage.kind == "autoreply",
        OutboundMessage.created_at >= Param("since"),
    )
)
_ROUTED = Compiled(
    lambda: InboundMessage.update(route=Param("route"), keyword=Param("keyword"), case=Param("case")).where(
        InboundMessage.id == Param("message")
    )
)
_INSERT_CASE = CompiledInsert(Case)
_INSERT_AUDIT = CompiledInsert(AuditLog)
_INSERT_OUTBOUND = CompiledInsert(OutboundMessage)


@dataclass
class Routing:
    """One message on its way through the pipeline."""

    message: InboundMessage
    word: str | None = None  # the first word as written
    keyword: Keyword | None = None
    corrected: bool = False  # ``word`` is a keyword mistyped by one letter
    body: str = ""  # the text after the keyword
    case: Case | None = None
    case_opened: bool = False
    route: str = "new"
    replies: list[OutboundMessage] = field(default_factory=list)
    webhook_events: int = 0  # webhook deliveries queued
    stopped: bool = False

    def stop(self, route: str) -> None:
        self.route, self.stopped = route, True


def split_keyword(text: str) -> tuple[str | None, str]:
    """(first word as written, the text after it); (None, the text) when it has no letters or digits."""
    match = _FIRST_WORD.match(text or "")
    if not match:
        return None, (text or "").strip()
    return match.group(1), match.group(2).strip()


def unknown_keyword_text(template: str, names: list[str]) -> str:
    """The unknown-keyword reply listing as many keywords as fit in one SMS (all, when they fit)."""
    full = template.format(keywords=", ".join(names))
    if sms_count(full).parts <= 1 or not names:
        return full
    for keep in range(len(names) - 1, 0, -1):
        text = template.format(keywords=", ".join(names[:keep]) + " " + _MORE)
        if sms_count(text).parts <= 1:
            return text
    return full  # even one keyword does not fit: send the whole list as a long SMS


class Router:
    """Routes stored messages with the keyword table ``keywords()`` returns at that moment."""

    def __init__(self, config: Config, keywords: Callable[[], KeywordTable]):
        self.config = config
        self.keywords = keywords
        self.steps = [
            self.screen_sender,
            self.parse_keyword,
            self.answer_status_query,
            self.open_or_join_case,
            self.note_correction,
            self.acknowledge,
            self.unknown_keyword,
            self.announce,
        ]
        self._commands: ThreadPoolExecutor | None = None
        self._owners: dict[str, int | None] = {}
        self._owners_at = 0.0

    # the pipeline ---------------------------------------------------------
    def route(self, message: InboundMessage) -> Routing:
        """Run every step for one stored message, in one transaction, then the after-commit work."""
        with database_proxy.obj.atomic():
            state = self.apply(message)
        self.after_commit(state)
        return state

    def apply(self, message: InboundMessage) -> Routing:
        """The steps and the message's routing columns, inside the caller's transaction."""
        state = Routing(message)
        for step in self.steps:
            step(state)
            if state.stopped:
                break
        keyword = state.keyword.name if state.keyword else None
        _ROUTED.execute(
            route=state.route, keyword=keyword, case=state.case.id if state.case else None, message=message.id
        )
        message.route = state.route
        return state

    def after_commit(self, state: Routing) -> None:
        """What must wait until the routing is committed: waking the workers, run_on_receive."""
        if state.replies:
            outqueue.notify()  # committed now: wake every worker, not only the one that routed
        if state.webhook_events:
            webhook_events.wake()
        log.info(
            "message #%d: %s%s%s%s",
            state.message.id,
            state.route,
            f" {state.keyword.name}" if state.keyword else "",
            " (keyword corrected)" if state.corrected else "",
            f" case #{state.case.id}" if state.case else "",
        )
        self.run_on_receive(state)

    def screen_sender(self, state: Routing) -> None:
        """Blocked numbers and senders that cannot be answered are kept and never answered."""
        message = state.message
        if _BLOCKED.execute(number=message.sender, raw=message.sender_raw).fetchone() is not None:
            state.stop("blocked")
        elif message.sender_kind != "number":
            state.stop("unanswerable")

    def parse_keyword(self, state: Routing) -> None:
        state.word, state.body = split_keyword(state.message.text)
        if state.word:
            table = self.keywords()
            state.keyword = table.find(state.word)
            if state.keyword is None:
                state.keyword = table.correct(state.word)
                state.corrected = state.keyword is not None

    def answer_status_query(self, state: Routing) -> None:
        """``CEK 123``: the state of the sender's own case, else "tidak ditemukan"; no case is opened.

        The message joins the case it asked about when that is the sender's (the
        case's history shows the citizen asked); otherwise it is kept unrouted.
        """
        if not status_query.is_status_word(state.word, self.config):
            return
        state.keyword = None
        text, case = status_query.reply_text(state.body, state.message.sender, self.config)
        state.case = case
        self.autoreply(state, text)
        state.stop("case" if case is not None else "unrouted")

    def open_or_join_case(self, state: Routing) -> None:
        """Join the citizen's open case of this keyword (or open unrouted case), else open one."""
        keyword = state.keyword.name if state.keyword else None
        now = utcnow()
        citizen = state.message.sender
        open_case = (
            _OPEN_CASE.first(citizen=citizen, keyword=keyword)
            if keyword
            else _OPEN_UNROUTED_CASE.first(citizen=citizen)
        )
        if open_case is not None:
            _TOUCH_CASE.execute(at=now, case=open_case.id)
            open_case.last_message_at = now
            state.case, state.route = open_case, "case"
            return
        verified = state.keyword is not None and state.keyword.flow == flow.VERIFIED
        # a verified case belongs to no one until the central admin gives it to an operator
        owner = self.owner_id(state.keyword.owner) if state.keyword and not verified else None
        values = {
            "keyword": keyword,
            "owner": owner,
            "citizen": citizen,
            "opened_at": now,
            "deadline_at": now + timedelta(seconds=self.config.sms.deadline),
            "last_message_at": now,
        }
        if verified and state.keyword is not None:
            values.update(flow.opening_values(state.keyword.agency, now, self.config))
        # the row is built from the values just written rather than read back
        state.case = Case(id=_INSERT_CASE.execute(values), **values)
        if verified:
            flow.record_opening(state.case, now)
        state.case_opened = True
        state.route = "case" if keyword else "unrouted"
        audit_case_opened(
            state.case,
            message=state.message.id,
            keyword=keyword,
            owner=state.keyword.owner if owner and state.keyword else None,
        )

    def note_correction(self, state: Routing) -> None:
        """A mistyped keyword: which word was read as which keyword, for the official (the text stays as sent)."""
        if state.corrected:
            assert state.case is not None and state.keyword is not None, "a correction is to a keyword, in a case"
            _INSERT_AUDIT.execute(
                {
                    "actor": "daemon",
                    "action": KEYWORD_CORRECTED,
                    "object_type": "case",
                    "object_id": str(state.case.id),
                    "detail": json.dumps(
                        {"message": state.message.id, "typed": state.word, "keyword": state.keyword.name},
                        ensure_ascii=False,
                    ),
                }
            )

    def owner_id(self, login: str) -> int | None:
        """The id of a keyword owner's account, looked up once a minute at most (a burst opens many cases)."""
        now = time.monotonic()
        if now - self._owners_at > OWNER_CACHE_SECONDS:
            self._owners.clear()
            self._owners_at = now
        if login not in self._owners:
            user = User.by_login(login)
            self._owners[login] = user.id if user is not None else None
        return self._owners[login]

    def acknowledge(self, state: Routing) -> None:
        """A known keyword's acknowledgement, once per case."""
        if state.keyword and state.keyword.reply and state.case_opened and state.case is not None:
            template = state.keyword.reply
            if "{case}" not in template:  # the citizen needs the number to follow the case (CEK 123)
                template = template.rstrip() + " No. laporan #{case}."
            text = template.format(case=state.case.id, keyword=state.keyword.name)
            self.autoreply(state, text)

    def unknown_keyword(self, state: Routing) -> None:
        """An unknown or missing keyword: tell the citizen which keywords exist."""
        if state.keyword is None:
            state.route = "unrouted"
            template = self.config.sms.unknown_keyword_reply
            # the same text for every unknown word until the table changes: fitted into one SMS once
            self.autoreply(state, _fitted_unknown_keyword_text(template, tuple(self.keywords().names())))

    def announce(self, state: Routing) -> None:
        """Queue the webhook event of a message that opened or joined a case (posted later by the daemon)."""
        if state.case is not None:
            state.webhook_events = webhook_events.message_arrived(state.case, state.message, state.case_opened)

    # automatic replies ----------------------------------------------------
    def autoreply(self, state: Routing, text: str) -> OutboundMessage | None:
        """Queue an automatic reply unless this number already had its share in the window."""
        limit = self.config.sms.autoreply_limit
        since = utcnow() - timedelta(seconds=self.config.sms.autoreply_window)
        recent = _RECENT_AUTOREPLIES.scalar(recipient=state.message.sender, since=since)
        if recent >= limit:
            log.info(
                "message #%d: no automatic reply to %s, %d already in the window (limit %d)",
                state.message.id,
                phone.mask(state.message.sender),
                recent,
                limit,
            )
            return None
        reply = queue_autoreply(state.message.sender, text, self.config, state.case)
        state.replies.append(reply)
        return reply

    # run_on_receive -------------------------------------------------------
    def run_on_receive(self, state: Routing) -> None:
        command = self.config.modemd.run_on_receive
        if not command:
            return
        if self._commands is None:
            # a slow hook must never hold up the modem: it runs on a thread of its own
            self._commands = ThreadPoolExecutor(max_workers=2, thread_name_prefix="run_on_receive")
        self._commands.submit(
            run_hook,
            shlex.split(command),
            state.message.id,
            receive_document(state),
            self.config.modemd.run_on_receive_timeout,
        )

    def close(self) -> None:
        if self._commands is not None:
            self._commands.shutdown(wait=True)


def queue_autoreply(recipient: str, text: str, config: Config, case: Case | None) -> OutboundMessage:
    """``queue.enqueue(recipient, text, "autoreply", config=config, case=case)`` with its INSERT compiled once.

    The row's columns come from :func:`queue.row_values`, as for broadcasts'
    bulk inserts. The dispatcher is woken by :meth:`Router.after_commit`, once
    the row can be seen (enqueue wakes it before the commit).
    """
    if not text or not text.strip():
        raise outqueue.EmptyMessage("the message is empty")
    values = {
        **outqueue.row_values(text, "autoreply", config=config),
        "recipient": phone.normalize(recipient),
        "case": case,
    }
    return OutboundMessage(id=_INSERT_OUTBOUND.execute(values), **values)


def audit_case_opened(case: Case, **detail) -> None:
    """``audit("daemon", "case.open", case, **detail)`` with its INSERT compiled once."""
    _INSERT_AUDIT.execute(
        {
            "actor": "daemon",
            "action": "case.open",
            "object_type": "case",
            "object_id": str(case.id),
            "detail": json.dumps(detail, ensure_ascii=False, default=str),
        }
    )


@lru_cache(maxsize=8)
def _fitted_unknown_keyword_text(template: str, names: tuple[str, ...]) -> str:
    return unknown_keyword_text(template, list(names))


def receive_document(state: Routing) -> bytes:
    """The message as the JSON document run_on_receive reads on its standard input.

    JSON with every non-ASCII character escaped: a NUL, a newline or an emoji
    in a citizen's text arrives intact, and nothing the citizen wrote ever
    goes into an argument or an environment variable.
    """
    message = state.message
    document = {
        "id": message.id,
        "case": state.case.id if state.case else None,
        "keyword": state.keyword.name if state.keyword else None,
        "route": state.route,
        "sender": message.sender,
        "text": message.text,
        "received_at": message.received_at.isoformat() + "Z",  # stored as naive UTC
        "modem": message.modem,
    }
    return json.dumps(document, ensure_ascii=True).encode("ascii")


def run_hook(argv: list[str], message_id: int, document: bytes, timeout: float) -> int | None:
    """Run a run_on_receive program: an argument list, never a shell; every failure is logged, never raised.

    It runs on a pool thread, where an exception would vanish unseen: so
    anything that goes wrong becomes a warning naming the message.
    """
    env = {**os.environ, "MODEMD_MESSAGE_ID": str(message_id)}
    what = f"run_on_receive {argv[0] if argv else '?'} for message #{message_id}"
    try:
        done = subprocess.run(argv, input=document, env=env, timeout=timeout, capture_output=True, check=False)
    except subprocess.TimeoutExpired:
        log.warning("%s: still running after %.0f s, stopped", what, timeout)
        return None
    except OSError as exc:
        log.warning("%s: cannot start: %s", what, exc)
        return None
    except Exception as exc:  # e.g. ValueError for an argument the system refuses
        log.warning("%s: failed: %s", what, exc)
        return None
    if done.returncode != 0:
        log.warning(
            "%s: exit status %d: %s", what, done.returncode, done.stderr.decode("utf-8", "replace").strip()[:300]
        )
    return done.returncode


def route_pending(router: Router, limit: int = 1000) -> int:
    """Route messages stored but not yet routed (a crash came between storing and routing)."""
    waiting = list(
        InboundMessage.select().where(InboundMessage.route == "new").order_by(InboundMessage.id).limit(limit)
    )
    for message in waiting:
        router.route(message)
    return len(waiting)
