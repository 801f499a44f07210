from __future__ import annotations

import getpass
import sys

from modemd.store.models import ROLES, User

from . import open_configured_database, print_json, print_table

HELP = "manage accounts: add, list, set-password, disable, enable (passwords never on the command line)"


def configure(parser) -> None:
    sub = parser.add_subparsers(dest="user_command", metavar="ACTION")
    sub.required = True
    add = sub.add_parser("add", help="create an account")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--name", default="", help="display name, e.g. 'Kepala Dinas Perhubungan'")
    add.add_argument("--phone", default=None, help="the one notification number, e.g. 0812xxxxxxxx")
    add.add_argument("--sender-id", default="", help="at most 8 characters, appended to this user's replies")
    add.add_argument(
        "--agency", default="", help="an operator's agency, as keywords.ini names it (verified flow); default: any"
    )
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    listing = sub.add_parser("list", help="list accounts")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    setpw = sub.add_parser("set-password", help="set a new password")
    setpw.add_argument("login")
    setpw.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    disable = sub.add_parser("disable", help="disable an account and end its sessions (refused while it owns keywords)")
    disable.add_argument("login")
    enable = sub.add_parser("enable", help="enable a disabled account again")
    enable.add_argument("login")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise SystemExit("modemd: the passwords do not match")
    return first


def _owned_keywords(args, login: str) -> list[str]:
    """Keywords of keywords.ini owned by ``login`` (an unreadable file owns nothing here; `check` reports it)."""
    from modemd.receive.keywords import load_keywords

    from . import load_config_or_exit

    table = load_keywords(load_config_or_exit(args).keywords_path, problems=[])
    return [keyword.name for keyword in table.owned_by(login)]


def main(args) -> int:
    from .. import users

    open_configured_database(args)
    try:
        if args.user_command == "add":
            created = users.create_user(
                args.login,
                args.role,
                _read_password(args.password_stdin),
                name=args.name,
                phone_number=args.phone,
                sender_id=args.sender_id,
                agency=args.agency,
            )
            print(f"user {created.login} ({created.role}) created")
        elif args.user_command == "list":
            rows = [users.as_dict(u) for u in User.select().order_by(User.login)]
            if args.json:
                print_json(rows)
            else:
                print_table(rows, ["login", "name", "role", "phone", "sender_id", "agency", "active"])
        else:
            user = User.by_login(args.login)
            if user is None:
                print(f"modemd: no user {args.login!r}", file=sys.stderr)
                return 1
            if args.user_command == "set-password":
                users.set_password(user, _read_password(args.password_stdin))
                print(f"password of {user.login} changed")
            elif args.user_command == "enable":
                users.enable(user)
                print(f"user {user.login} enabled")
            else:
                users.disable(user, owned_keywords=_owned_keywords(args, user.login))
                print(f"user {user.login} disabled")
    except users.UserError as exc:
        print(f"modemd: {exc}", file=sys.stderr)
        return 1
    return 0
