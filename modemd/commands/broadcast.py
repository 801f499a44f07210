"""``modemd broadcast``: draft, approve, queue and follow broadcasts from scripts.

Approving from the command line needs the approver's password (typed at a
prompt, or one line on standard input with ``--password-stdin``): ``--as``
alone proves nothing about who sits at the keyboard. The text and the number
of recipients are shown before the password is asked, and exactly that
version is approved; a change by the author in between refuses the approval.
"""

from __future__ import annotations

import getpass
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from modemd.jobs import broadcasts
from modemd.jobs.broadcasts import BroadcastError
from modemd.send import failures
from modemd.sms import phone
from modemd.store.models import (
    BROADCAST_STATES,
    OUTBOUND_STATES,
    Broadcast,
    Contact,
    ContactGroup,
    Template,
    User,
    audit,
)

from . import open_configured_database, print_json, print_table

if TYPE_CHECKING:
    from ..config import Config

HELP = "broadcasts: create, preview, submit, approve, reject, cancel, retry failed, follow progress, templates"

BAR_WIDTH = 30


def configure(parser) -> None:
    sub = parser.add_subparsers(dest="broadcast_command", metavar="ACTION")
    sub.required = True

    listing = sub.add_parser("list", help="list broadcasts")
    listing.add_argument("--state", choices=BROADCAST_STATES)
    listing.add_argument("--json", action="store_true", help="print as JSON")

    create = sub.add_parser("create", help="draft a broadcast to groups and/or contacts")
    _actor(create)
    text = create.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the message")
    text.add_argument("--text-file", type=Path, help="read the message from a UTF-8 file ('-' for standard input)")
    text.add_argument("--template", help="start from a saved template, by name")
    create.add_argument("--group", action="append", default=[], metavar="NAME", help="a contact group (repeatable)")
    create.add_argument(
        "--contact", action="append", default=[], metavar="PHONE", help="a single contact by phone number (repeatable)"
    )
    create.add_argument("--category", default="information", choices=broadcasts.CATEGORIES)
    create.add_argument("--title", default="")
    create.add_argument(
        "--send-at",
        metavar="'YYYY-MM-DD HH:MM'",
        help="when to send, in the centre's time zone (default: as soon as approved)",
    )
    create.add_argument("--submit", action="store_true", help="submit for approval right away")

    for name, text_help in (
        ("preview", "show encoding, parts, recipients and cost"),
        ("submit", "ask an approver to approve it"),
        ("approve", "approve it (an approver other than its author)"),
        ("reject", "send it back to its author with a reason"),
        ("queue", "queue an approved, due broadcast now (the daemon does this by itself)"),
        ("cancel", "cancel it; what has already left stays sent"),
        ("retry", "queue its failed recipients again"),
        ("status", "show its progress"),
        ("recipients", "per-recipient states"),
    ):
        action = sub.add_parser(name, help=text_help)
        action.add_argument("id", type=int, help="broadcast number")
        if name in ("submit", "approve", "reject", "cancel", "retry"):
            _actor(action)
        if name in ("preview", "status", "recipients"):
            action.add_argument("--json", action="store_true", help="print as JSON")
        if name == "approve":
            action.add_argument(
                "--password-stdin",
                action="store_true",
                help="read the approver's password from standard input (default: ask for it)",
            )
        if name == "reject":
            action.add_argument("--reason", required=True)
        if name == "cancel":
            action.add_argument("--reason", default="")
        if name == "status":
            action.add_argument("--watch", action="store_true", help="refresh until nothing is left to send")
            action.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default 2)")
        if name == "recipients":
            action.add_argument("--state", choices=OUTBOUND_STATES)
            action.add_argument("--limit", type=int, default=1000)

    template = sub.add_parser("template", help="templates for recurring messages: list, add, delete")
    tsub = template.add_subparsers(dest="template_command", metavar="ACTION")
    tsub.required = True
    tlist = tsub.add_parser("list", help="list templates")
    tlist.add_argument("--json", action="store_true", help="print as JSON")
    add = tsub.add_parser("add", help="save a template (replaces one of the same name)")
    _actor(add)
    add.add_argument("name")
    add.add_argument("--text", required=True)
    delete = tsub.add_parser("delete", help="delete a template")
    _actor(delete)
    delete.add_argument("name")


def _actor(parser) -> None:
    parser.add_argument(
        "--as",
        dest="actor",
        required=True,
        metavar="LOGIN",
        help="the account this is done as (recorded in the audit log)",
    )


class _Refused(Exception):
    pass


def _user(login: str) -> User:
    user = User.by_login(login)
    if user is None or not user.active:
        raise _Refused(f"no active user {login!r}")
    return user


def _broadcast(number: int) -> Broadcast:
    broadcast = Broadcast.get_or_none(Broadcast.id == number)
    if broadcast is None:
        raise _Refused(f"no broadcast {number}")
    return broadcast


def _local_to_utc(text: str, config: Config) -> datetime:
    try:
        local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise _Refused(f"--send-at {text!r}: expected 'YYYY-MM-DD HH:MM' in {config.timezone.key}") from None
    return local.replace(tzinfo=config.timezone).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _text(args) -> str:
    if args.text is not None:
        return args.text
    if args.template is not None:
        template = Template.get_or_none(Template.name == args.template)
        if template is None:
            raise _Refused(f"no template {args.template!r}")
        return template.text
    if str(args.text_file) == "-":
        return sys.stdin.read()
    try:
        return args.text_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _Refused(f"cannot read {args.text_file}: {exc}") from None


def _targets(args) -> tuple[list[int], list[int]]:
    groups, contacts = [], []
    for name in args.group:
        group = ContactGroup.get_or_none(ContactGroup.name == name)
        if group is None:
            raise _Refused(f"no contact group {name!r}")
        groups.append(group.id)
    for raw in args.contact:
        number = phone.try_normalize(raw)
        contact = Contact.get_or_none(Contact.phone == (number or raw))
        if contact is None:
            raise _Refused(f"no contact with number {raw!r} (add it as a contact first)")
        contacts.append(contact.id)
    return groups, contacts


def _approver_password(login: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        return getpass.getpass(f"Password of {login}: ")
    except EOFError:
        return ""


def _approve(broadcast: Broadcast, approver: User, config: Config, password_from_stdin: bool) -> Broadcast:
    """Show what is approved, ask the approver's password, approve that version only."""
    broadcasts.check_approvable(broadcast, approver)
    content = broadcasts.content_of(broadcast, config)
    shown = broadcasts.preview(broadcast, config)
    print(
        f"broadcast {broadcast.id} by {broadcast.created_by.login}, to {shown.count} recipient(s), "
        f"{shown.parts} SMS part(s) each:"
    )
    print(content.text)
    print(f"version {content.version[:12]}", flush=True)
    if not approver.check_password(_approver_password(approver.login, password_from_stdin)):
        # whoever typed it is not known to be the approver: the command line is the actor
        audit("cli", "broadcast.approve_refused", broadcast, approver=approver.login, reason="wrong password")
        raise _Refused(f"wrong password for {approver.login}; broadcast {broadcast.id} is not approved")
    return broadcasts.approve(broadcast, approver, config, version=content.version, via="cli")


def _preview_dict(broadcast: Broadcast, shown: broadcasts.Preview) -> dict:
    return {
        "id": broadcast.id,
        "state": broadcast.state,
        "text": shown.text,
        "encoding": shown.encoding,
        "chars": shown.chars,
        "parts_per_recipient": shown.parts,
        "recipients": shown.count,
        "duplicates_removed": shown.recipients.duplicates,
        "inactive": shown.recipients.inactive,
        "invalid": [{"name": r.name, "phone": r.phone} for r in shown.recipients.invalid],
        "blocked": [{"name": r.name, "phone": r.phone} for r in shown.recipients.blocked],
        "total_parts": shown.total_parts,
        "problems": shown.problems,
    }


def _print_preview(info: dict) -> None:
    print(f"broadcast {info['id']} ({info['state']})")
    print(f"  text:        {info['text']}")
    print(f"  encoding:    {info['encoding']}, {info['chars']} characters, {info['parts_per_recipient']} part(s) each")
    print(
        f"  recipients:  {info['recipients']} (duplicates removed: {info['duplicates_removed']}, "
        f"inactive: {info['inactive']})"
    )
    for what in ("invalid", "blocked"):
        for item in info[what]:
            print(f"  {what}:     {item['name']} {item['phone']}")
    print(f"  total parts: {info['total_parts']}")
    for problem in info["problems"]:
        print(f"  problem:     {problem}")


def progress_line(progress: broadcasts.Progress) -> str:
    """``[#####-----.....] 50%  delivered 5, sent 0, failed 1, pending 4 of 10``."""
    if not progress.total:
        return "[" + "." * BAR_WIDTH + "]   0%  nothing queued yet"
    done = progress.delivered + progress.sent
    filled = round(BAR_WIDTH * done / progress.total)
    failed = round(BAR_WIDTH * (progress.failed + progress.cancelled) / progress.total)
    bar = "#" * filled + "x" * min(failed, BAR_WIDTH - filled)
    bar += "." * (BAR_WIDTH - len(bar))
    percent = 100 * (progress.total - progress.left) // progress.total
    return (
        f"[{bar}] {percent:3d}%  delivered {progress.delivered}, sent {progress.sent}, failed {progress.failed}, "
        f"pending {progress.left}"
        + (f", cancelled {progress.cancelled}" if progress.cancelled else "")
        + f" of {progress.total}"
    )


def _status(args) -> int:
    broadcast = _broadcast(args.id)
    while True:
        shown = broadcasts.progress(broadcast.id)
        broadcast = Broadcast.get_by_id(broadcast.id)
        if args.json:
            # watching prints JSON Lines: a reader takes each line as it comes
            print_json({"id": broadcast.id, "state": broadcast.state, **vars(shown)}, one_line=args.watch)
        else:
            line = f"broadcast {broadcast.id} {broadcast.state:9} {progress_line(shown)}"
            end = "\r" if args.watch and sys.stdout.isatty() else "\n"
            print(line, end=end, flush=True)
        finished = broadcast.state in broadcasts.FINISHED or (broadcast.queued_at is not None and not shown.left)
        if not args.watch or finished:
            if args.watch and sys.stdout.isatty() and not args.json:
                print()
            return 0
        time.sleep(max(args.interval, 0.2))


def main(args) -> int:
    """Run one broadcast action; exit status 1 when the rules refuse it."""
    config, _database = open_configured_database(args)
    command = args.broadcast_command
    try:
        if command == "list":
            query = Broadcast.select().order_by(Broadcast.id)
            if args.state:
                query = query.where(Broadcast.state == args.state)
            rows = [
                {
                    "id": b.id,
                    "state": b.state,
                    "category": b.category,
                    "title": b.title,
                    "recipients": b.recipient_count,
                    "author": b.created_by.login,
                    "created_at": b.created_at,
                    "send_at": b.send_at,
                }
                for b in query
            ]
            if args.json:
                print_json(rows)
            else:
                print_table(rows, ["id", "state", "category", "title", "recipients", "author", "send_at"])
        elif command == "create":
            author = _user(args.actor)
            groups, contacts = _targets(args)
            send_at = _local_to_utc(args.send_at, config) if args.send_at else None
            broadcast = broadcasts.draft(
                author,
                _text(args),
                title=args.title,
                category=args.category,
                groups=groups,
                contacts=contacts,
                send_at=send_at,
            )
            if args.submit:
                broadcast = broadcasts.submit(broadcast, author, config)
            _print_preview(_preview_dict(broadcast, broadcasts.preview(broadcast, config)))
        elif command == "preview":
            broadcast = _broadcast(args.id)
            info = _preview_dict(broadcast, broadcasts.preview(broadcast, config))
            print_json(info) if args.json else _print_preview(info)
        elif command == "submit":
            broadcast = broadcasts.submit(_broadcast(args.id), _user(args.actor), config)
            print(f"broadcast {broadcast.id} submitted: {broadcast.recipient_count} recipient(s), waiting for approval")
        elif command == "approve":
            broadcast = _approve(_broadcast(args.id), _user(args.actor), config, args.password_stdin)
            when = "at " + str(broadcast.send_at) + " UTC" if broadcast.send_at else "now"
            print(f"broadcast {broadcast.id} approved; it goes out {when} to {broadcast.recipient_count} recipient(s)")
        elif command == "reject":
            broadcast = broadcasts.reject(_broadcast(args.id), _user(args.actor), args.reason)
            print(f"broadcast {broadcast.id} rejected")
        elif command == "queue":
            added = broadcasts.queue_broadcast(_broadcast(args.id).id, config)
            print(f"broadcast {args.id}: {added} SMS queued")
        elif command == "cancel":
            cancelled = broadcasts.cancel(_broadcast(args.id), _user(args.actor), args.reason)
            print(f"broadcast {args.id} cancelled; {cancelled} SMS that had not left were cancelled")
        elif command == "retry":
            retried = broadcasts.retry_failed(_broadcast(args.id), _user(args.actor), config)
            print(f"broadcast {args.id}: {retried} failed recipient(s) queued again")
        elif command == "status":
            return _status(args)
        elif command == "recipients":
            rows = broadcasts.recipient_rows(_broadcast(args.id).id, state=args.state, limit=args.limit)
            for row in rows:  # the words an official reads beside the modem's own (failure_reason)
                row["why"] = failures.plain(row["failure_code"], row["failure_reason"], row["state"])
            if args.json:
                print_json(rows)
            else:
                print_table(rows, ["recipient", "name", "state", "attempts", "sent_at", "delivered_at", "why"])
        elif command == "template":
            return _template(args)
    except (BroadcastError, _Refused) as exc:
        print(f"modemd: {exc}", file=sys.stderr)
        return 1
    return 0


def _template(args) -> int:
    if args.template_command == "list":
        rows = [{"name": t.name, "text": t.text} for t in Template.select().order_by(Template.name)]
        if args.json:
            print_json(rows)
        else:
            print_table(rows, ["name", "text"])
    elif args.template_command == "add":
        template = broadcasts.save_template(args.name, args.text, _user(args.actor))
        print(f"template {template.name!r} saved")
    else:
        template = Template.get_or_none(Template.name == args.name)
        if template is None:
            raise _Refused(f"no template {args.name!r}")
        broadcasts.delete_template(template, _user(args.actor))
        print(f"template {args.name!r} deleted")
    return 0
