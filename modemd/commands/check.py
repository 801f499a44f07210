from __future__ import annotations

from ..checks import check_all
from ..config import config_path_from
from . import print_json, print_problems

HELP = "check modemd.ini, keywords.ini and the database; print every problem (exit 0 when all is well)"


def configure(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print the problems as JSON")


def main(args) -> int:
    result = check_all(config_path_from(args.config))
    if args.json:
        print_json(
            [
                {
                    "file": p.file,
                    "line": p.line,
                    "section": p.section,
                    "key": p.key,
                    "message": p.message,
                    "level": "warning" if p.warning else "error",
                }
                for p in result.problems
            ]
        )
    else:
        print_problems(result.problems)
        if result.ok and result.config is not None:
            keywords = len(result.keywords) if result.keywords else 0
            modems = len(result.config.modems) if result.config else 0
            print(f"OK: {modems} modem(s), {keywords} keyword(s), database ready ({result.config.database_url})")
    return 0 if result.ok else 1
