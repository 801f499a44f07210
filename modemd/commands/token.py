"""``modemd token create|list|revoke``: API tokens for other systems (see :mod:`modemd.apitokens`)."""

from __future__ import annotations

import sys

from . import open_configured_database, print_json, print_table

HELP = "manage API tokens: create (the secret is printed once), list, revoke"


def configure(parser) -> None:
    from modemd.apitokens import SCOPES

    sub = parser.add_subparsers(dest="token_command", metavar="ACTION")
    sub.required = True
    create = sub.add_parser("create", help="create a token and print its secret (shown only this once)")
    create.add_argument("name", help="what uses it, e.g. e-office or lapor-portal")
    create.add_argument("--user", required=True, metavar="LOGIN", help="the account the token acts as")
    create.add_argument(
        "--scope", required=True, metavar="SCOPES", help=f"comma-separated, some of: {','.join(SCOPES)}"
    )
    create.add_argument("--expires", default="", metavar="AGE", help="e.g. 90d or 12h (default: never)")
    create.add_argument("--json", action="store_true", help="print the token and its secret as JSON")
    listing = sub.add_parser("list", help="list tokens (never their secrets)")
    listing.add_argument("--json", action="store_true", help="print as JSON")
    revoke = sub.add_parser("revoke", help="revoke a token: it is refused from its next request on")
    revoke.add_argument("name")


def main(args) -> int:
    from modemd import apitokens
    from modemd.store.models import User

    open_configured_database(args)
    try:
        if args.token_command == "create":
            user = User.by_login(args.user)
            if user is None:
                print(f"modemd token: no user {args.user!r}", file=sys.stderr)
                return 2
            made = apitokens.create(
                args.name, user, args.scope, expires=apitokens.parse_expiry(args.expires), actor="cli"
            )
            if args.json:
                print_json({**apitokens.as_dict(made.token), "token": made.secret})
            else:
                print(made.secret)
                print(
                    f"token {made.token.name} for {user.login} ({made.token.scopes}) created;"
                    " the secret above is shown only this once",
                    file=sys.stderr,
                )
        elif args.token_command == "list":
            rows = [apitokens.as_dict(token) for token in apitokens.listing()]
            if args.json:
                print_json(rows)
            else:
                for row in rows:
                    row["scopes"] = ",".join(row["scopes"])
                print_table(rows, ["name", "prefix", "user", "scopes", "state", "expires_at", "last_used_at"])
        else:
            token = apitokens.by_name(args.name)
            if token is None:
                print(f"modemd token: no token {args.name!r}", file=sys.stderr)
                return 1
            if apitokens.revoke(token, actor="cli"):
                print(f"token {token.name} revoked")
            else:
                print(f"token {token.name} was revoked already")
    except apitokens.TokenError as exc:
        print(f"modemd token: {exc}", file=sys.stderr)
        return 2
    return 0
