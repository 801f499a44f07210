"""The keyword table from ``keywords.ini``: plain data, loaded and checked.

One section per keyword::

    [DISHUB]
    owner = kadishub            ; login of the official who answers
    aliases = PERHUBUNGAN, JALAN
    description = Dinas Perhubungan: jalan, angkutan, lampu lalu lintas
    reply = Terima kasih, laporan Anda #{case} diteruskan ke Dinas Perhubungan.

Keywords and aliases are compared case-insensitively. Whether each owner
exists and is active is checked against the database by :func:`check_owners`,
for every section that names one -- also a section refused for another reason
(a clashing alias, a bad reply), so that ``modemd check`` reports every
problem of the file in one run instead of one after the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .config import Problem, key_lines, read_ini

KEYWORD_PATTERN = re.compile(r"^[A-Za-z0-9]{2,20}$")
KNOWN_KEYS = ("owner", "aliases", "description", "reply")


@dataclass(frozen=True)
class Keyword:
    name: str  # upper case
    owner: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    reply: str = ""


@dataclass
class KeywordTable:
    path: Path
    keywords: dict[str, Keyword] = field(default_factory=dict)
    # (section as written, owner login) of every section naming an owner, usable or not
    owner_refs: list[tuple[str, str]] = field(default_factory=list)
    _lookup: dict[str, Keyword] = field(default_factory=dict, repr=False)

    def add(self, keyword: Keyword) -> None:
        self.keywords[keyword.name] = keyword
        for word in (keyword.name, *keyword.aliases):
            self._lookup[word.upper()] = keyword

    def find(self, word: str) -> Keyword | None:
        """The keyword a word names, by name or alias, any case."""
        return self._lookup.get(word.strip().upper())

    def names(self) -> list[str]:
        return sorted(self.keywords)

    def owned_by(self, login: str) -> list[Keyword]:
        return [k for k in self.keywords.values() if k.owner == login]

    def __len__(self) -> int:
        return len(self.keywords)


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
            problems.append(Problem(file, "a keyword is 2 to 20 letters or digits, no spaces (e.g. [DISHUB])", section, line=line))
            continue
        if not owner:
            problems.append(Problem(file, "missing key owner (the login of the official who answers this keyword)", section, "owner", line))
        aliases = tuple(a.strip().upper() for a in raw.get("aliases", "").split(",") if a.strip())
        ok = True
        for word in (name, *aliases):
            key = "aliases" if word != name else None
            if not KEYWORD_PATTERN.match(word):
                problems.append(Problem(file, f"alias {word!r} must be 2 to 20 letters or digits", section, "aliases", lines.get((section, "aliases"))))
                ok = False
            elif word in seen:
                problems.append(Problem(
                    file, f"{word} is already used by [{seen[word]}] (keywords and aliases must be unique, any case)",
                    section, key, lines.get((section, key)) if key else line,
                ))
                ok = False
            else:
                seen[word] = section
        for key in raw:
            if key not in KNOWN_KEYS:
                problems.append(Problem(file, f"unknown key (expected one of: {', '.join(KNOWN_KEYS)})", section, key, lines.get((section, key)), warning=True))
        reply = raw.get("reply", "").strip().replace("\\n", "\n")
        if reply:
            try:
                reply.format(case=1, keyword=name)
            except (KeyError, IndexError, ValueError) as exc:
                problems.append(Problem(file, f"reply may only use {{case}} and {{keyword}} placeholders ({exc})", section, "reply", lines.get((section, "reply"))))
                ok = False
        if ok and owner:
            table.add(Keyword(name, owner, aliases, raw.get("description", "").strip(), reply))


def check_owners(table: KeywordTable, user_state: Callable[[str], str | None], problems: list[Problem]) -> None:
    """``user_state(login)`` returns "active", "disabled" or None (unknown); every owner named is checked."""
    lines = key_lines(table.path)
    for section, owner in table.owner_refs:
        state = user_state(owner)
        line = lines.get((section, "owner"))
        if state is None:
            problems.append(Problem(str(table.path), f"owner {owner!r} is not a user (create it with: modemd user add {owner} --role official)", section, "owner", line))
        elif state != "active":
            problems.append(Problem(str(table.path), f"owner {owner!r} is disabled; give the keyword to an active user", section, "owner", line))


def keyword_list_text(names: Iterable[str]) -> str:
    return ", ".join(names)
