"""The keyword table from ``keywords.ini``: plain data, loaded and checked.

One section per keyword::

    [DISHUB]
    owner = kadishub            ; login of the official who answers
    aliases = PERHUBUNGAN, JALAN
    description = Dinas Perhubungan: jalan, angkutan, lampu lalu lintas
    reply = Terima kasih, laporan Anda #{case} diteruskan ke Dinas Perhubungan.
    webhook = https://dishub.example.go.id/modemd   ; optional: this keyword's events (modemd.webhooks)
    webhook_secret = 6f1c0b9e...                     ; required with webhook, 16 characters or more
    agency = Dinas Perhubungan  ; the agency (SKPD) the keyword belongs to, for reports (optional)
    flow = direct               ; or verified: Muara Enim's flow through the central admin

``flow = verified`` sends a new case first to the central admin's queue
(:mod:`modemd.cases.flow`); a case keeps the flow it was opened with.

Keywords and aliases are compared case-insensitively, and in any width or
accent (``ＤＩＳＨＵＢ`` and ``DÍSHUB`` are DISHUB: compatibility decomposition,
marks dropped). A word that is no keyword but one edit away from exactly one
keyword of five letters or more (a letter left out, added, changed, or two
neighbours swapped) is :meth:`KeywordTable.correct`-ed to it. The candidates
are found through an index of every keyword with one letter deleted, built
when the table loads, so an unknown word costs a few dictionary look-ups, not
a comparison with every keyword.

Whether each owner exists and is active is checked against the database by
:func:`check_owners`, for every section that names one -- also a section
refused for another reason (a clashing alias, a bad reply), so that
``modemd check`` reports every problem of the file in one run instead of one
after the other.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from modemd.config import Problem, key_lines, read_ini
from modemd.webhooks.urls import webhook_secret, webhook_url

KEYWORD_PATTERN = re.compile(r"^[A-Za-z0-9]{2,20}$")
KNOWN_KEYS = ("owner", "aliases", "description", "reply", "webhook", "webhook_secret", "agency", "flow")
FLOWS = ("direct", "verified")
MAX_AGENCY = 128  # the width of case.agency


def agency_name(raw: str | None) -> str:
    """An agency's name as keywords.ini, the verified flow and operators' accounts keep it: spaces collapsed."""
    return " ".join((raw or "").split())


CORRECTABLE_LENGTH = 5  # shorter keywords are too close to ordinary words to guess at


@dataclass(frozen=True)
class Keyword:
    name: str  # upper case
    owner: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    reply: str = ""
    webhook: str = ""  # where this keyword's events are posted, besides [api] webhook_url
    webhook_secret: str = field(default="", repr=False)
    agency: str = ""  # the agency (SKPD) answering this keyword; "" when unset
    flow: str = "direct"  # "direct": straight to the owner; "verified": through the central admin


@dataclass
class KeywordTable:
    path: Path
    keywords: dict[str, Keyword] = field(default_factory=dict)
    # (section as written, owner login) of every section naming an owner, usable or not
    owner_refs: list[tuple[str, str]] = field(default_factory=list)
    _lookup: dict[str, Keyword] = field(default_factory=dict, repr=False)
    # a correctable word, and each of its one-letter deletions -> the words it came from
    _near: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _corrected: dict[str, Keyword | None] = field(default_factory=dict, repr=False)  # typed word -> answer

    def add(self, keyword: Keyword) -> None:
        self.keywords[keyword.name] = keyword
        for word in (keyword.name, *keyword.aliases):
            word = word.upper()
            self._lookup[word] = keyword
            if len(word) >= CORRECTABLE_LENGTH:
                for variant in (word, *_deletions(word)):
                    self._near.setdefault(variant, set()).add(word)

    def find(self, word: str) -> Keyword | None:
        """The keyword a word names, by name or alias, any case, width or accent."""
        return self._lookup.get(comparable(word))

    def correct(self, word: str) -> Keyword | None:
        """The one keyword (of five letters or more) that ``word`` misses by one edit; None if none or several."""
        typed = comparable(word)
        if not CORRECTABLE_LENGTH - 1 <= len(typed) <= 21:  # too short or too long to be one edit from a keyword
            return None
        try:
            return self._corrected[typed]  # the same unknown word tends to come again and again
        except KeyError:
            pass
        found: set[str] = set()
        for variant in (typed, *_deletions(typed)):
            found.update(self._lookup[c].name for c in self._near.get(variant, ()) if one_edit_apart(typed, c))
        if len(self._corrected) >= 10_000:
            self._corrected.clear()
        self._corrected[typed] = answer = self.keywords[found.pop()] if len(found) == 1 else None
        return answer

    def names(self) -> list[str]:
        return sorted(self.keywords)

    def agencies(self) -> list[str]:
        """The agencies named by the keywords, sorted."""
        return sorted({k.agency for k in self.keywords.values() if k.agency})

    def owned_by(self, login: str) -> list[Keyword]:
        return [k for k in self.keywords.values() if k.owner == login]

    def __len__(self) -> int:
        return len(self.keywords)


def comparable(word: str) -> str:
    """A word as keywords are compared: upper case; full-width and accented letters as plain ones."""
    word = word.strip()
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return word.upper()


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def one_edit_apart(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter left out, added, changed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) != len(b):
        short, long_ = (a, b) if len(a) < len(b) else (b, a)
        return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
    differ = [i for i in range(len(a)) if a[i] != b[i]]
    if len(differ) == 1:
        return True
    return (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and a[differ[0]] == b[differ[1]]
        and a[differ[1]] == b[differ[0]]
    )


class KeywordError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_keywords(path: Path | str, problems: list[Problem] | None = None) -> KeywordTable:
    """Parse and check keywords.ini. Raises KeywordError unless ``problems`` is given to collect into."""
    path = Path(path)
    collected: list[Problem] = [] if problems is None else problems
    start = len(collected)
    table = KeywordTable(path)
    parser = read_ini(path, collected)
    if parser is not None:
        _fill(table, parser, str(path), key_lines(path), collected)
    if problems is None and any(not p.warning for p in collected[start:]):
        raise KeywordError(collected)
    return table


def _fill(table: KeywordTable, parser, file: str, lines: dict, problems: list[Problem]) -> None:
    seen: dict[str, str] = {}  # upper word -> section that claimed it
    for section in parser.sections():
        raw = parser[section]
        line = lines.get((section, None))
        name = section.strip().upper()
        owner = raw.get("owner", "").strip()
        if owner:
            table.owner_refs.append((section, owner))
        if not KEYWORD_PATTERN.match(section.strip()):
            problems.append(
                Problem(file, "a keyword is 2 to 20 letters or digits, no spaces (e.g. [DISHUB])", section, line=line)
            )
            continue
        if not owner:
            problems.append(
                Problem(
                    file,
                    "missing key owner (the login of the official who answers this keyword)",
                    section,
                    "owner",
                    line,
                )
            )
        aliases = tuple(a.strip().upper() for a in raw.get("aliases", "").split(",") if a.strip())
        ok = True
        for word in (name, *aliases):
            key = "aliases" if word != name else None
            if not KEYWORD_PATTERN.match(word):
                problems.append(
                    Problem(
                        file,
                        f"alias {word!r} must be 2 to 20 letters or digits",
                        section,
                        "aliases",
                        lines.get((section, "aliases")),
                    )
                )
                ok = False
            elif word in seen:
                problems.append(
                    Problem(
                        file,
                        f"{word} is already used by [{seen[word]}] (keywords and aliases must be unique, any case)",
                        section,
                        key,
                        lines.get((section, key)) if key else line,
                    )
                )
                ok = False
            else:
                seen[word] = section
        for key in raw:
            if key not in KNOWN_KEYS:
                problems.append(
                    Problem(
                        file,
                        f"unknown key (expected one of: {', '.join(KNOWN_KEYS)})",
                        section,
                        key,
                        lines.get((section, key)),
                        warning=True,
                    )
                )
        reply = raw.get("reply", "").strip().replace("\\n", "\n")
        if reply:
            try:
                reply.format(case=1, keyword=name)
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(
                    Problem(
                        file,
                        f"reply may only use {{case}} and {{keyword}} placeholders ({exc})",
                        section,
                        "reply",
                        lines.get((section, "reply")),
                    )
                )
                ok = False
        flow = raw.get("flow", "direct").strip().lower() or "direct"
        if flow not in FLOWS:
            problems.append(
                Problem(
                    file,
                    f"unknown flow {flow!r} (expected one of: {', '.join(FLOWS)})",
                    section,
                    "flow",
                    lines.get((section, "flow")),
                )
            )
            ok = False
        agency = agency_name(raw.get("agency"))
        if len(agency) > MAX_AGENCY:
            problems.append(
                Problem(
                    file,
                    f"an agency name is at most {MAX_AGENCY} characters, this one has {len(agency)}",
                    section,
                    "agency",
                    lines.get((section, "agency")),
                )
            )
            ok = False
        hook, secret = _webhook(raw, section, file, lines, problems)
        if ok and owner:
            description = raw.get("description", "").strip()
            table.add(
                Keyword(
                    name,
                    owner,
                    aliases,
                    description,
                    reply,
                    webhook=hook,
                    webhook_secret=secret,
                    agency=agency,
                    flow=flow,
                )
            )


def _webhook(raw, section: str, file: str, lines: dict, problems: list[Problem]) -> tuple[str, str]:
    """The keyword's webhook and its secret, each checked as [api] checks its own; ("", "") when refused."""
    found: dict[str, str] = {}
    for key, parse in (("webhook", webhook_url), ("webhook_secret", webhook_secret)):
        text = raw.get(key, "")
        try:
            found[key] = parse(text)
        except ValueError as exc:
            problems.append(Problem(file, f"{exc} (got {text.strip()!r})", section, key, lines.get((section, key))))
            return "", ""
    if found["webhook"] and not found["webhook_secret"]:
        problems.append(
            Problem(
                file,
                "missing key webhook_secret (webhook needs a secret of 16 characters or more to sign with)",
                section,
                "webhook_secret",
                lines.get((section, "webhook")),
            )
        )
        return "", ""
    return found["webhook"], found["webhook_secret"]


def check_owners(table: KeywordTable, user_state: Callable[[str], str | None], problems: list[Problem]) -> None:
    """``user_state(login)`` returns "active", "disabled" or None (unknown); every owner named is checked."""
    lines = key_lines(table.path)
    for section, owner in table.owner_refs:
        state = user_state(owner)
        line = lines.get((section, "owner"))
        if state is None:
            problems.append(
                Problem(
                    str(table.path),
                    f"owner {owner!r} is not a user (create it with: modemd user add {owner} --role official)",
                    section,
                    "owner",
                    line,
                )
            )
        elif state != "active":
            problems.append(
                Problem(
                    str(table.path),
                    f"owner {owner!r} is disabled; give the keyword to an active user",
                    section,
                    "owner",
                    line,
                )
            )


def keyword_list_text(names: Iterable[str]) -> str:
    return ", ".join(names)
