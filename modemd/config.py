"""Load and check ``modemd.ini``.

Every known key is declared in :data:`SCHEMA` with its type and default, so a
typo, a bad value or a missing file is reported with file, line, section and
key, all problems at once, before anything starts. The sample in
``config/modemd.ini`` writes the same defaults beside each key.

Later parts of modemd read typed values from :class:`Config`, one frozen
object per section declared in :mod:`modemd.settings` (``config.sms.expiry``),
never from the raw INI. ``Config.defaults()`` is the schema's defaults with no
file, for tests.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from modemd.sms import phone

from .drivers import DRIVERS, missing_library
from .settings import (
    SECTIONS,
    ApiSettings,
    ModemdSettings,
    ModemSettings,
    NotifySettings,
    PrivacySettings,
    SmsSettings,
    WebSettings,
    build,
)
from .webhooks.urls import webhook_secret, webhook_url

DEFAULT_CONFIG_PATH = "/etc/modemd/modemd.ini"


# --------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a configuration file, said so a person can fix it."""

    file: str
    message: str
    section: str | None = None
    key: str | None = None
    line: int | None = None
    warning: bool = False

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        what = ""
        if self.section is not None:
            what = f"[{self.section}]" + (f" {self.key}" if self.key else "")
        level = "warning" if self.warning else "error"
        return f"{where}: {level}: {what + ': ' if what else ''}{self.message}"


class ConfigError(Exception):
    """Raised with every problem found, so they are fixed in one go."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --------------------------------------------------------------------------
# Value types: each turns a string into a value or raises ValueError("expected ...")


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "yes", "true", "on", "ya"):
        return True
    if value in ("0", "no", "false", "off", "tidak"):
        return False
    raise ValueError("expected yes or no")


def _int(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError("expected a whole number") from None
        if minimum is not None and value < minimum:
            raise ValueError(f"expected a number of at least {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"expected a number of at most {maximum}")
        return value

    return parse


def _float(minimum: float | None = None, maximum: float | None = None) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError("expected a number") from None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise ValueError(f"expected a number between {minimum} and {maximum}")
        return value

    return parse


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``3h``, ``2d`` -> seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError("expected a duration such as 30s, 5m, 3h or 2d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


def _durations(text: str) -> list[float]:
    items = [item for item in (part.strip() for part in text.split(",")) if item]
    if not items:
        raise ValueError("expected a list of durations such as 1m, 5m, 15m")
    return [duration(item) for item in items]


def clock(text: str) -> dtime:
    match = re.match(r"^\s*(\d{1,2})[:.](\d{2})\s*$", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ValueError("expected a time of day such as 07:30")
    return dtime(int(match.group(1)), int(match.group(2)))


def _clock_range(text: str) -> tuple[dtime, dtime] | None:
    if not text.strip():
        return None
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError("expected a range of times such as 07:00-16:00, or nothing")
    return clock(parts[0]), clock(parts[1])


def _zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"expected a time zone name such as Asia/Jakarta, Asia/Makassar or Asia/Jayapura, not {text!r}"
        ) from None


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(f"expected one of: {', '.join(choices)}")
        return value

    return parse


# what browsers show as an <img>, by the file name's ending (the web UI serves the file with this type)
IMAGE_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}


def _image(text: str) -> str:
    value = text.strip()
    if value and Path(value).suffix.lower() not in IMAGE_TYPES:
        raise ValueError(f"expected an image file ending in one of: {', '.join(IMAGE_TYPES)}")
    return value


def _baudrate(text: str) -> str:
    """A serial rate, or ``auto``: the AT driver tries the usual rates at connect."""
    value = text.strip().lower()
    if value == "auto":
        return value
    try:
        return str(_int(300, 4000000)(value))
    except ValueError:
        raise ValueError("expected auto or a rate such as 9600 or 115200") from None


def _str(text: str) -> str:
    return text.strip()


def _template(text: str) -> str:
    # INI values cannot hold a newline easily; "\n" in a template means one.
    return text.strip().replace("\\n", "\n")


def sender_id(text: str) -> str:
    value = text.strip()
    if len(value) > 8:
        raise ValueError(
            f"expected a sender ID of at most 8 characters (Banjarnegara Pasal 1 (20)), {value!r} has {len(value)}"
        )
    return value


def _status_keyword(text: str) -> str:
    value = text.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{2,20}", value):
        raise ValueError("expected one word of 2 to 20 letters or digits, such as CEK")
    return value


def _placeholders(text: str, allowed: tuple[str, ...]) -> str:
    value = _template(text)
    try:
        value.format(**{name: "x" for name in allowed})
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"expected a text using only {', '.join('{' + a + '}' for a in allowed)} ({exc})") from None
    return value


def _status_template(text: str) -> str:
    return _placeholders(text, ("case", "keyword", "state", "answer"))


def _status_help_template(text: str) -> str:
    return _placeholders(text, ("word",))


def _phones(text: str) -> list[str]:
    numbers = []
    for item in (part.strip() for part in text.split(",")):
        if item:
            try:
                numbers.append(phone.normalize(item))
            except phone.InvalidNumber as exc:
                raise ValueError(str(exc)) from None
    return numbers


def _networks(text: str) -> tuple:
    """``10.0.0.1, 192.168.0.0/24, ::1`` -> ip_network objects (a bare address is a network of one)."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(
                    f"expected addresses or networks such as 127.0.0.1, 10.0.0.0/8, not {item!r}"
                ) from None
    return tuple(networks)


def _listen(text: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT such as 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


def _listen_or_empty(text: str) -> tuple[str, int] | None:
    return _listen(text) if text.strip() else None


def _validity(text: str) -> str | int:
    value = text.strip().lower()
    if value == "max":
        return "max"
    seconds = duration(value)
    if not 300 <= seconds <= 63 * 604800:
        raise ValueError("expected max, or a duration between 5m and 63w")
    return int(seconds // 60)


_DAY_NAMES = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "sen": 0,
    "sel": 1,
    "rab": 2,
    "kam": 3,
    "jum": 4,
    "sab": 5,
    "min": 6,
}


def weekdays(text: str) -> frozenset[int]:
    """``mon-sat``, ``mon-fri``, ``mon,wed,fri`` or ``sen-jum`` -> weekday numbers (Monday 0). Empty = every day."""
    days: set[int] = set()
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        ends = [end.strip()[:3] for end in item.split("-")]
        if len(ends) > 2 or any(end not in _DAY_NAMES for end in ends):
            raise ValueError(f"expected days such as mon-sat, mon-fri or mon,wed,fri (or sen-sab); {item!r} is not one")
        day, last = _DAY_NAMES[ends[0]], _DAY_NAMES[ends[-1]]
        days.add(day)
        while day != last:  # a range may wrap past Sunday: fri-mon
            day = (day + 1) % 7
            days.add(day)
    return frozenset(days) if days else frozenset(range(7))


def _weekday_list(text: str) -> str:
    weekdays(text)  # checked here so `modemd check` reports it; the scheduler parses it again
    return text.strip()


def _log_level(text: str) -> str:
    value = text.strip().upper()
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("expected debug, info, warning or error")
    return value


def _validity_or_empty(text: str) -> str | int:
    return _validity(text) if text.strip() else ""


def _duration_or_empty(text: str) -> float | str:
    return duration(text) if text.strip() else ""


@dataclass(frozen=True)
class Key:
    default: str
    parse: Callable[[str], Any] = _str
    path: bool = False  # relative to the INI file's folder


# --------------------------------------------------------------------------
# Schema. The sample config/modemd.ini mirrors these defaults; a test keeps them in step.

SCHEMA: dict[str, dict[str, Key]] = {
    "modemd": {
        "database": Key("sqlite:///modemd.db"),
        "keywords": Key("keywords.ini", path=True),
        "state_dir": Key("/var/lib/modemd", path=True),
        "log_level": Key("info", _log_level),
        "timezone": Key("Asia/Jakarta", _zone),
        "run_on_receive": Key(""),
        "run_on_receive_timeout": Key("30s", duration),
    },
    "sms": {
        "validity": Key("max", _validity),
        "status_report": Key("yes", _bool),
        "reassembly_timeout": Key("30m", duration),
        "deadline": Key("3h", duration),
        "retry_intervals": Key("1m, 5m, 15m", _durations),
        "max_attempts": Key("4", _int(1, 50)),
        "expiry": Key("24h", duration),
        "autoreply_limit": Key("3", _int(0, 100)),
        "autoreply_window": Key("1h", duration),
        "unknown_keyword_reply": Key(
            "Maaf, kata kunci tidak dikenal. Kirim KATAKUNCI spasi pesan. Kata kunci: {keywords}", _template
        ),
        "sender_id": Key("", sender_id),
        "modem_rest_after": Key("5", _int(1, 1000)),
        "modem_rest": Key("10m", duration),
        # citizens follow their case: "CEK 123" from the number that opened case 123 (modemd.receive.status_query)
        "status_keyword": Key("CEK", _status_keyword),
        "status_reply": Key("Laporan #{case} ({keyword}): {state}.", _status_template),
        "status_answer_reply": Key("Laporan #{case} ({keyword}): {state}. Jawaban: {answer}", _status_template),
        "status_not_found": Key("Laporan #{case} tidak ditemukan.", _status_template),
        "status_help": Key(
            "Untuk mengecek laporan, kirim {word} spasi nomor laporan, contoh: {word} 123", _status_help_template
        ),
    },
    "routing": {},  # operator = modem[, modem]; checked in _check_routing
    "web": {
        "listen": Key("127.0.0.1:8080", _listen),
        "secret_key_file": Key("secret.key", path=True),
        "base_url": Key(""),
        "https": Key("no", _bool),
        "demo": Key("no", _bool),
        "language": Key("id", _choice("id", "en")),
        "session_hours": Key("12", _int(1, 720)),  # absolute: a session ends this long after login, busy or not
        "idle_minutes": Key("60", _int(1, 1440)),
        "trusted_proxies": Key("", _networks),  # only these may say who the client is (X-Forwarded-For)
        # the centre's name and emblem in the header, the login page, the public page and printouts
        "title": Key("SMS Center"),
        "logo": Key("", _image, path=True),
        # a second address serving only the public pages and feeds (/publik/); empty = none
        "public_listen": Key("", _listen_or_empty),
    },
    "notify": {
        "hourly": Key("yes", _bool),
        "hourly_text": Key("Ada {count} SMS baru untuk {keywords}. Buka {url}", _template),
        "daily": Key("yes", _bool),
        "daily_time": Key("15:00", clock),
        "daily_text": Key("{count} SMS hari ini belum dijawab ({keywords}). Batas jawab 3 jam. Buka {url}", _template),
        "deadline_alert": Key("yes", _bool),
        "deadline_text": Key("SMS #{case} ({keyword}) belum dijawab, batas waktu lewat. Buka {url}", _template),
        "escalate_after": Key("1h", duration),
        "escalate_text": Key("SMS #{case} ({keyword}, {owner}) belum dijawab {late} setelah batas waktu.", _template),
        "assign_text": Key(
            "SMS #{case} ({keyword}) dialihkan kepada Anda, batas jawab {deadline}. Buka {url}", _template
        ),
        "recap_time": Key("17:00", clock),
        "recap_numbers": Key("", _phones),
        "recap_text": Key(
            "Rekap SMS {period}: masuk {received} ({cases} kasus), dijawab {answered}, tepat waktu {within}, "
            "terlambat {overdue}. Per kata kunci (kasus/dijawab): {keywords}",
            _template,
        ),
        "office_hours": Key("07:00-17:00", _clock_range),
        "office_days": Key("mon-sat", _weekday_list),
        "quiet_hours": Key("21:00-06:00", _clock_range),
        "signature": Key("", sender_id),
        # the centre's own problems (a modem's credit or active period running out); empty = admin accounts' phones
        "admin_numbers": Key("", _phones),
        # the verified flow (keywords.ini flow = verified): the central admin's time to verify and to approve
        # an answer, the operator's time to answer; a step past it is reminded once (modemd.jobs.flow_reminders)
        "verify_within": Key("30m", duration),
        "answer_within": Key("2h", duration),
        "flow_text": Key("Laporan #{case} ({keyword}) {step}, batas {deadline} lewat. Buka {url}", _template),
    },
    "privacy": {
        # days after a case is closed until its citizen's number is purged (modemd.jobs.privacy); 0 = never
        "keep_days": Key("0", _int(0, 36500)),
    },
    "api": {
        # the endpoint every webhook event goes to (keywords.ini adds one per keyword); empty = none
        "webhook_url": Key("", webhook_url),
        "webhook_secret": Key("", webhook_secret),  # signs each POST (X-Modemd-Signature); required with a URL
        "webhook_timeout": Key("10s", duration),  # one delivery attempt, connection to answer
        # requests per minute per API token (0 = no limit), and how many may come at once above that pace
        "rate_limit": Key("600", _int(0, 1_000_000)),
        "rate_burst": Key("60", _int(1, 1_000_000)),
    },
}

MODEM_KEYS: dict[str, Key] = {
    "driver": Key(""),
    "device": Key(""),
    "enabled": Key("yes", _bool),
    "baudrate": Key("115200", _baudrate),  # or auto
    "pin": Key(""),
    "smsc": Key(""),
    "init": Key(""),
    "command_timeout": Key("10s", duration),
    "send_timeout": Key("60s", duration),  # one AT+CMGS, network round trip included
    "ussd_timeout": Key("30s", duration),
    "sweep_interval": Key("60s", duration),
    "storage": Key("SM", _choice("sm", "me", "mt")),
    "rate_limit": Key("0", _int(0, 10000)),  # messages per minute, 0 = as fast as the modem goes
    "balance_ussd": Key("*888#"),  # empty: no balance checks
    "balance_every": Key("6h", duration),  # the daemon asks at start and then this often; 0 = only at start
    "balance_low": Key("10000", _int(0, 100_000_000)),  # rupiah; warn below this (0 = never)
    # gammu driver
    "connection": Key("at"),
    "model": Key(""),
    "gammu_log": Key("", path=True),
    # simulated modem
    "send_delay": Key("3", _float(0, 600)),
    "failure_rate": Key("0", _float(0, 1)),
    "report_delay": Key("5", _float(0, 86400)),
    "signal_dbm": Key("-71", _int(-113, -51)),
    "operator": Key("SIMULATED"),
    "fail_numbers": Key(""),
    "seed": Key(""),
    # per-modem overrides of [sms]
    "validity": Key("", _validity_or_empty),
    "reassembly_timeout": Key("", _duration_or_empty),
}


# --------------------------------------------------------------------------
# The loaded configuration


@dataclass
class ModemConfig:
    name: str
    driver: str
    enabled: bool
    rate_limit: int
    #: strings for the driver, defaults filled in and paths resolved
    settings: dict[str, str]
    #: every MODEM_KEYS value as parsed by its schema type (durations in seconds, numbers as numbers)
    typed: ModemSettings


@dataclass
class Config:
    """The loaded configuration: one typed, frozen object per section (``config.sms.expiry``)."""

    path: Path
    values: dict[str, dict[str, Any]]
    modems: dict[str, ModemConfig]
    routing: dict[str, list[str]]
    warnings: list[Problem] = field(default_factory=list)
    modemd: ModemdSettings = field(init=False)
    sms: SmsSettings = field(init=False)
    web: WebSettings = field(init=False)
    notify: NotifySettings = field(init=False)
    privacy: PrivacySettings = field(init=False)
    api: ApiSettings = field(init=False)

    def __post_init__(self) -> None:
        for section, cls in SECTIONS.items():
            setattr(self, section, build(cls, self.values[section]))

    @classmethod
    def defaults(cls, folder: Path | str = ".") -> Config:
        """The schema's defaults, read from no file (tests; relative paths are taken from ``folder``)."""
        folder = Path(folder).resolve()
        problems: list[Problem] = []
        values = {
            section: _parse_section("(defaults)", section, None, schema, folder, {}, problems)
            for section, schema in SCHEMA.items()
            if section in SECTIONS
        }
        if problems:  # a schema default its own parser refuses: a bug in SCHEMA
            raise ConfigError(problems)
        return cls(path=folder / "modemd.ini", values=values, modems={}, routing={})

    def get(self, section: str, key: str) -> Any:
        """A setting named by strings at run time (tests, tools); modemd's own code uses the attributes."""
        return getattr(getattr(self, section), key)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def timezone(self) -> ZoneInfo:
        return self.modemd.timezone

    @property
    def database_url(self) -> str:
        return resolve_database_url(self.modemd.database, self.folder)

    @property
    def keywords_path(self) -> Path:
        return self.modemd.keywords

    @property
    def state_dir(self) -> Path:
        return self.modemd.state_dir


def resolve_database_url(url: str, folder: Path) -> str:
    """Relative SQLite paths are taken from the INI file's folder."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url[len("sqlite:///") :]
        if relative and relative != ":memory:":
            return "sqlite:///" + str((folder / relative).resolve())
    return url


def config_path_from(cli_value: str | None) -> Path:
    """``--config``, else ``$MODEMD_CONFIG``, else /etc/modemd/modemd.ini."""
    return Path(cli_value or os.environ.get("MODEMD_CONFIG") or DEFAULT_CONFIG_PATH)


def _headers_and_keys(text: str) -> Iterator[tuple[int, str, str | None]]:
    """(line number, section, key or None for the header) of each section header and key line."""
    section = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[") and "]" in stripped:
            section = stripped[1 : stripped.index("]")].strip()
            yield number, section, None
        elif section and not line[:1].isspace() and "=" in stripped and not stripped.startswith(("#", ";")):
            yield number, section, stripped.split("=", 1)[0].strip().lower()


def key_lines(path: Path) -> dict[tuple[str, str | None], int]:
    """Line numbers of sections and keys, for error messages (configparser keeps none)."""
    lines: dict[tuple[str, str | None], int] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return lines
    for number, section, key in _headers_and_keys(text):
        lines.setdefault((section, key), number)
    return lines


def _repeats(path: Path) -> list[Problem]:
    """Every section and key written twice (configparser's strict mode stops at the first)."""
    found: list[Problem] = []
    seen: set[tuple[str, str | None]] = set()
    for number, section, key in _headers_and_keys(path.read_text(encoding="utf-8")):
        if (section, key) in seen:
            message = "this key appears twice in the section" if key else "this section appears twice"
            found.append(Problem(str(path), message, section, key, number))
        seen.add((section, key))
    return found


def _unparsable(path: Path, exc: configparser.ParsingError) -> list[Problem]:
    return [
        Problem(str(path), "cannot parse this line (expected key = value)", line=lineno) for lineno, _line in exc.errors
    ]


def read_ini(path: Path, problems: list[Problem]) -> configparser.ConfigParser | None:
    """Parse an INI file strictly; problems are appended, None if unreadable."""
    parser = configparser.ConfigParser(interpolation=None, strict=True, empty_lines_in_values=False)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        problems.append(Problem(str(path), "file not found"))
        return None
    except PermissionError:
        problems.append(
            Problem(str(path), "cannot read the file: permission denied (is it readable by the modemd user?)")
        )
        return None
    except UnicodeDecodeError as exc:
        problems.append(Problem(str(path), f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})"))
        return None
    except (configparser.DuplicateSectionError, configparser.DuplicateOptionError) as exc:
        # every repeat is reported, then the file is read leniently so its other problems show in the same run
        repeats = _repeats(path)
        problems.extend(
            repeats
            or [
                Problem(
                    str(path),
                    "this section or key appears twice",
                    exc.section,
                    getattr(exc, "option", None),
                    exc.lineno,
                )
            ]
        )
        parser = configparser.ConfigParser(interpolation=None, strict=False, empty_lines_in_values=False)
        try:
            with open(path, encoding="utf-8") as handle:
                parser.read_file(handle)
        except configparser.ParsingError as exc:
            problems.extend(_unparsable(path, exc))
            return None
        except configparser.Error:
            return None
    except configparser.MissingSectionHeaderError as exc:
        problems.append(Problem(str(path), "text before the first [section] header", line=exc.lineno))
        return None
    except configparser.ParsingError as exc:
        problems.extend(_unparsable(path, exc))
        return None
    except IsADirectoryError:
        problems.append(Problem(str(path), "is a directory, expected an INI file"))
        return None
    return parser


def _parse_section(
    file: str,
    section: str,
    raw: configparser.SectionProxy | None,
    schema: dict[str, Key],
    folder: Path,
    lines: dict,
    problems: list[Problem],
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    given = dict(raw) if raw is not None else {}
    for key, spec in schema.items():
        text = given.get(key, spec.default)
        try:
            value = spec.parse(text)
        except ValueError as exc:
            problems.append(Problem(file, f"{exc} (got {text!r})", section, key, lines.get((section, key))))
            value = spec.parse(spec.default) if spec.default or spec.parse is _str else None
        if spec.path and isinstance(value, str) and value:
            value = (folder / value).resolve()
        values[key] = value
    for key in given:
        if key not in schema:
            problems.append(
                Problem(
                    file,
                    f"unknown key (expected one of: {', '.join(schema)})",
                    section,
                    key,
                    lines.get((section, key)),
                    warning=True,
                )
            )
    return values


def load(path: Path | str) -> Config:
    """Load modemd.ini, or raise ConfigError listing every problem."""
    path = Path(path)
    problems: list[Problem] = []
    parser = read_ini(path, problems)
    if parser is None:
        raise ConfigError(problems)
    file = str(path)
    folder = path.resolve().parent
    lines = key_lines(path)

    values = {}
    for section, schema in SCHEMA.items():
        if section == "routing":
            continue
        values[section] = _parse_section(
            file, section, parser[section] if parser.has_section(section) else None, schema, folder, lines, problems
        )
    _check_webhook(file, values["api"], lines, problems)
    modems = _load_modems(file, parser, values, folder, lines, problems)
    routing = _check_routing(file, parser, modems, lines, problems)
    for section in parser.sections():
        if section not in SCHEMA and not section.startswith("modem:"):
            problems.append(
                Problem(
                    file,
                    f"unknown section (expected {', '.join('[' + s + ']' for s in SCHEMA)} or [modem:NAME])",
                    section,
                    line=lines.get((section, None)),
                    warning=True,
                )
            )
    errors = [p for p in problems if not p.warning]
    if errors:
        raise ConfigError(problems)
    return Config(path=path, values=values, modems=modems, routing=routing, warnings=problems)


def _check_webhook(file: str, api: dict[str, Any], lines: dict, problems: list[Problem]) -> None:
    """A webhook URL needs its secret: an unsigned POST could come from anyone."""
    refused = any(p.section == "api" and p.key == "webhook_secret" for p in problems)  # already said why
    if api["webhook_url"] and not api["webhook_secret"] and not refused:
        problems.append(
            Problem(
                file,
                "missing key webhook_secret (webhook_url needs a secret of 16 characters or more to sign with)",
                "api",
                "webhook_secret",
                lines.get(("api", "webhook_url")),
            )
        )


def _load_modems(file, parser, values, folder, lines, problems) -> dict[str, ModemConfig]:
    modems: dict[str, ModemConfig] = {}
    for section in parser.sections():
        if not section.startswith("modem:"):
            continue
        name = section[len("modem:") :].strip()
        line = lines.get((section, None))
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", name):
            problems.append(
                Problem(
                    file,
                    "a modem name uses letters, digits, - and _ only (e.g. [modem:telkomsel1])",
                    section,
                    line=line,
                )
            )
            continue
        raw = parser[section]
        parsed = _parse_section(file, section, raw, MODEM_KEYS, folder, lines, problems)
        driver = parsed["driver"].lower()
        if not driver:
            problems.append(
                Problem(file, f"missing key driver (expected one of: {', '.join(DRIVERS)})", section, "driver", line)
            )
            continue
        if driver not in DRIVERS:
            problems.append(
                Problem(
                    file,
                    f"unknown driver {driver!r} (expected one of: {', '.join(DRIVERS)})",
                    section,
                    "driver",
                    lines.get((section, "driver")),
                )
            )
            continue
        lacking = missing_library(driver)
        if lacking:
            problems.append(Problem(file, lacking, section, "driver", lines.get((section, "driver"))))
        for required in DRIVERS[driver][2]:
            if not raw.get(required, "").strip():
                problems.append(
                    Problem(
                        file,
                        f"missing key {required} (the {driver} driver needs it, e.g. /dev/ttyUSB0)",
                        section,
                        required,
                        line,
                    )
                )
        settings = {key: str(raw.get(key, spec.default)).strip() for key, spec in MODEM_KEYS.items()}
        settings.update({key: str(parsed[key]) for key, spec in MODEM_KEYS.items() if spec.path and parsed[key]})
        settings["driver"] = driver
        settings["name"] = name
        settings["validity"] = str(parsed["validity"] or values["sms"]["validity"])
        settings["reassembly_timeout"] = str(parsed["reassembly_timeout"] or values["sms"]["reassembly_timeout"])
        settings["status_report"] = "yes" if values["sms"]["status_report"] else "no"
        for key in ("command_timeout", "sweep_interval", "send_timeout", "ussd_timeout", "baudrate"):
            settings[key] = str(parsed[key])
        if driver == "sim" and not settings["device"]:
            settings["device"] = str(values["modemd"]["state_dir"] / f"sim-{name}")
        elif settings["device"] and not settings["device"].startswith("/") and "://" not in settings["device"]:
            # a relative path (a sim spool, a gammu dummy directory) is taken from the INI's folder
            settings["device"] = str((folder / settings["device"]).resolve())
        modems[name] = ModemConfig(
            name, driver, parsed["enabled"], parsed["rate_limit"], settings, build(ModemSettings, parsed)
        )
    return modems


def _check_routing(file, parser, modems, lines, problems) -> dict[str, list[str]]:
    routing: dict[str, list[str]] = {}
    if not parser.has_section("routing"):
        return routing
    for operator, value in parser["routing"].items():
        line = lines.get(("routing", operator))
        if operator not in phone.OPERATORS:
            problems.append(
                Problem(
                    file, f"unknown operator (expected one of: {', '.join(phone.OPERATORS)})", "routing", operator, line
                )
            )
            continue
        names = [name.strip() for name in value.split(",") if name.strip()]
        for name in names:
            if name not in modems:
                problems.append(Problem(file, f"no [modem:{name}] section for this route", "routing", operator, line))
        routing[operator] = names
    return routing
