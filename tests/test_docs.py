"""The documentation stays true to the code (docs/*.md, README.md, the sample INI files).

* every INI key the code reads is in the samples and in the administrator's guide, with the
  default the code uses;
* every ``modemd …`` command line the guides show parses with the real argparse parser;
* every link and image resolves, and every guide builds to HTML (and PDF, with Chromium)
  without a warning;
* every module and test docs/requirements.md names exists, and every article of the domain
  page is in it;
* every WARNING and ERROR the code can log has a row in the technician's guide, and no row
  names a log call that is gone.
"""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modemd import cli
from modemd.config import MODEM_KEYS, SCHEMA
from modemd.receive.keywords import KNOWN_KEYS

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
GUIDES = ("panduan-pengguna.md", "panduan-administrator.md", "panduan-teknisi.md", "architecture.md")
ADMIN_GUIDE = DOCS / "panduan-administrator.md"
REQUIREMENTS = DOCS / "requirements.md"
EMPTY = "(kosong)"


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


docbuild = _script("docbuild")
logcalls = _script("logcalls")


# --------------------------------------------------------------------------
# INI keys


def _sample_keys(path: Path) -> dict[str, set[str]]:
    """Keys per section of a sample INI, commented-out ones (";key = value") included."""
    keys: dict[str, set[str]] = {"": set()}  # "": the comments above the first section
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^\[([^\]]+)\]", line):
            section = match.group(1)
            keys.setdefault(section, set())
        elif match := re.match(r"^;?\s*([a-z_]+)\s*=", line):
            keys[section].add(match.group(1))
    return keys


def _guide_tables(path: Path) -> dict[str, dict[str, str]]:
    """The reference tables of the administrator's guide: section -> key -> default as written."""
    tables: dict[str, dict[str, str]] = {}
    section = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^### `\[([^\]]+)\]`", line):
            section = match.group(1)
            tables[section] = {}
        elif line.startswith("#"):
            section = None
        elif section and (match := re.match(r"^\| `([a-z_]+)` \| ([^|]*) \|", line)):
            tables[section][match.group(1)] = match.group(2).strip()
    return tables


def _written(default: str) -> str:
    return f"`{default}`" if default else EMPTY


def test_every_modemd_ini_key_is_in_the_sample_and_the_guide_with_its_default():
    sample = _sample_keys(REPO / "config" / "modemd.ini")
    modem_sample = set().union(*(keys for name, keys in sample.items() if name.startswith("modem:")))
    tables = _guide_tables(ADMIN_GUIDE)
    expected = {section: keys for section, keys in SCHEMA.items()} | {"modem:NAME": MODEM_KEYS}
    for section, keys in expected.items():
        in_sample = modem_sample if section == "modem:NAME" else sample.get(section, set())
        assert set(keys) <= in_sample, f"[{section}] keys missing in config/modemd.ini: {set(keys) - in_sample}"
        assert section in tables, f"panduan-administrator.md has no table ### `[{section}]`"
        written = {key: _written(key_spec.default) for key, key_spec in keys.items()}
        assert tables[section] == written, f"[{section}] in panduan-administrator.md differs from SCHEMA"


def test_every_keywords_ini_key_is_in_the_sample_and_the_guide():
    sample = set().union(*_sample_keys(REPO / "config" / "keywords.ini").values())
    guide = ADMIN_GUIDE.read_text(encoding="utf-8")
    for key in KNOWN_KEYS:
        assert key in sample, f"{key} is not in config/keywords.ini"
        assert f"| `{key}` |" in guide, f"keywords.ini key {key} has no row in panduan-administrator.md"


def test_the_ini_check_sees_a_key_missing_from_the_guide(tmp_path):
    guide = tmp_path / "guide.md"
    guide.write_text(
        "### `[web]`\n\n| kunci | bawaan | artinya |\n|---|---|---|\n| `listen` | `127.0.0.1:8080` | x |\n"
    )
    assert _guide_tables(guide) == {"web": {"listen": "`127.0.0.1:8080`"}}
    assert _guide_tables(guide)["web"] != {key: _written(spec.default) for key, spec in SCHEMA["web"].items()}


# --------------------------------------------------------------------------
# modemd command lines

PREFIXES = re.compile(r"^(?:\$ |# )?(?:sudo )?(?:runuser -u modemd -- )?(?:\S*/)?(?=modemd\s)")
TRUNCATED = ("...", "…")


def command_lines(text: str) -> list[tuple[str, bool]]:
    """``modemd …`` lines: (line, whole). Lines of fenced sh blocks are whole commands a reader
    types; inline code spans may name a command or show its synopsis (``[--json]``, ``A|B``)."""
    found = []
    for block in re.findall(r"^```(?:sh|console|bash|shell)\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.splitlines():
            line = line.strip()
            if PREFIXES.match(line):
                found.append((PREFIXES.sub("", line, count=1), True))
    for span in re.findall(r"(?<!`)`([^`\n]+)`(?!`)", text):
        if PREFIXES.match(span):
            found.append((PREFIXES.sub("", span, count=1), False))
    return found


def _argv(line: str) -> list[str]:
    tokens = shlex.split(re.sub(r"\$\([^)]*\)", "X", line), comments=True)  # $(date +%F) is one value
    for stop in ("|", "||", "&&", ";", ">", "2>", "<"):
        if stop in tokens:
            tokens = tokens[: tokens.index(stop)]
    return tokens[1:]  # after "modemd"


def _walk(argv: list[str]) -> str | None:
    """Each subcommand and option named exists (values and required arguments not checked)."""
    parser = cli.build_parser()
    for token in argv:
        if token in TRUNCATED:
            return None
        for word in token.strip("[]").replace("\\|", "|").split("|"):
            subparsers = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
            if word.startswith("-"):
                if word.split("=", 1)[0] not in parser._option_string_actions:
                    return f"no option {word}"
            elif subparsers and word in subparsers[0].choices:  # type: ignore[operator]
                parser = subparsers[0].choices[word]  # type: ignore[index]
            elif subparsers:
                return f"no command {word}"
    return None


def check_command(line: str, whole: bool = True) -> str | None:
    """None when ``line`` is right: parsed by modemd's own parser when ``whole`` (and not cut
    short with "..."), else each of its command and option names exists; what is wrong else."""
    try:
        argv, _config = cli._pull_config(_argv(line))
    except ValueError as exc:  # shlex: an unclosed quote
        return str(exc)
    if not whole or any(token in TRUNCATED for token in argv):
        return _walk(argv)
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
            cli.build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            return errors.getvalue().strip().splitlines()[-1]
    return None


def _documents() -> list[Path]:
    return sorted(DOCS.glob("*.md")) + [REPO / "README.md"]


def test_every_modemd_command_the_guides_show_exists():
    problems, seen = [], 0
    for path in _documents():
        for line, whole in command_lines(path.read_text(encoding="utf-8")):
            seen += 1
            if problem := check_command(line, whole):
                problems.append(f"{path.name}: `{line}`: {problem}")
    assert problems == []
    assert seen > 60, "the command finder found suspiciously few modemd lines"


def _commands(parser, prefix: str = "modemd") -> list[str]:
    """Every command and nested action of the parser, e.g. "modemd db upgrade"."""
    found = []
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                found.append(f"{prefix} {name}")
                found += _commands(sub, f"{prefix} {name}")
    return found


def test_the_technicians_guide_lists_every_command_and_action():
    table = (DOCS / "panduan-teknisi.md").read_text(encoding="utf-8").split("## Daftar perintah `modemd`")[1]
    table = table.split("\n## ")[0]
    missing = []
    for command in _commands(cli.build_parser()):
        words = command.split()
        # "`modemd user add`", or an action after its command in the same row: "`user set-password`", "`approve`"
        if not any(f"`{' '.join(words[start:])}" in table for start in range(len(words))):
            missing.append(command)
    assert missing == []


@pytest.mark.parametrize(
    "line",
    [
        "modemd db bakcup FILE",
        "modemd user add kadishub --role kepala",
        "modemd probe --no-such-option",
        "modemd broadcast approve 12",
        "modemd frobnicate ...",
        "modemd probe --modme ...",
    ],
)
def test_a_wrong_command_line_is_caught(line):
    assert check_command(line)


@pytest.mark.parametrize(
    "line", ["modemd probe [--modme NAME]", "modemd user add LOGIN --role admin|approver --nmae N", "modemd db bakcup"]
)
def test_a_wrong_name_in_a_synopsis_is_caught(line):
    assert check_command(line, whole=False)
    assert (
        check_command(line.replace("modme", "modem").replace("nmae", "name").replace("bakcup", "upgrade"), whole=False)
        is None
    )


def test_command_lines_are_found_in_blocks_and_spans():
    text = "Run `modemd check` then\n\n```sh\nsudo runuser -u modemd -- modemd probe --json  # signal\nls\n```\n"
    assert command_lines(text) == [("modemd probe --json  # signal", True), ("modemd check", False)]


# --------------------------------------------------------------------------
# links, images, the build


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_every_link_and_image_resolves(path):
    assert docbuild.check_links(path) == []


def test_a_broken_link_or_a_missing_heading_is_a_warning(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Judul\n\n[a](nowhere.md) [b](#judul) [c](#tidak-ada) ![d](https://example.org/x.png)\n")
    warnings = docbuild.check_links(page)
    assert len(warnings) == 3, warnings
    assert "nowhere.md" in warnings[0] and "#tidak-ada" in warnings[1] and "internet" in warnings[2]


def test_guides_build_to_self_contained_html_without_warnings(tmp_path):
    warnings = docbuild.build(docbuild.default_sources(), tmp_path, pdf=False)
    assert warnings == []
    for name in GUIDES:
        page = (tmp_path / name.replace(".md", ".html")).read_text(encoding="utf-8")
        assert "<h1 " in page and "<style>" in page and '<nav class="toc">' in page
        assert not re.search(r'(src|href)="(https?:)?//', page.split("</style>", 1)[1].split("<main>")[0])
        assert not re.search(r'<img [^>]*src="(?!data:)', page), f"{name}: an image is not embedded"
    pengguna = (tmp_path / "panduan-pengguna.html").read_text(encoding="utf-8")
    assert 'href="panduan-administrator.html"' in pengguna  # links between guides follow the rendering


@pytest.mark.skipif(
    not shutil.which(docbuild.CHROMIUM), reason=f"{docbuild.CHROMIUM} is missing: apt-get install chromium"
)
def test_a_guide_prints_to_pdf(tmp_path):
    warnings = docbuild.build([DOCS / "panduan-pengguna.md"], tmp_path, pdf=True)
    assert warnings == []
    pdf = (tmp_path / "panduan-pengguna.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 100_000  # the screenshots are in it


def test_docs_sh_renders_a_guide_and_fails_on_a_broken_link(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(out)}
    done = subprocess.run(
        ["sh", "scripts/docs.sh", "docs/panduan-teknisi.md"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (out / "panduan-teknisi.html").exists()
    assert (out / "panduan-teknisi.pdf").exists() == bool(shutil.which(docbuild.CHROMIUM))
    broken = tmp_path / "broken.md"
    broken.write_text("# Rusak\n\n[hilang](tidak-ada.md)\n")
    done = subprocess.run(
        [sys.executable, "scripts/docbuild.py", "--out", str(out), str(broken)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "missing file: tidak-ada.md" in done.stderr


# --------------------------------------------------------------------------
# UI labels

GUIDES_ID = ("panduan-pengguna.md", "panduan-administrator.md", "panduan-teknisi.md")
CATALOGUE = REPO / "webui" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def ui_labels() -> set[str]:
    """Every msgid of the web UI, with %(n)d-style fields written as N (as the guides write them)."""
    text = CATALOGUE.read_text(encoding="utf-8")
    labels = set()
    for block in re.findall(r'^msgid ((?:".*"\n)+)', text, flags=re.M):
        label = "".join(re.findall(r'^"(.*)"$', block, flags=re.M)).replace('\\"', '"')
        labels |= {label, re.sub(r"%\(\w+\)[sd]", "N", label)}
    return labels - {""}


def bold_phrases(text: str) -> list[str]:
    """**Bold** in the guides is a label of the web UI; a menu path is written **Admin → Kontak**."""
    phrases = []
    for bold in re.findall(r"\*\*([^*]+)\*\*", text):
        phrases += [" ".join(part.split()) for part in bold.split("→")]
    return phrases


def test_every_bold_label_in_the_guides_is_what_the_web_ui_shows():
    labels = ui_labels()
    unknown = {
        name: sorted({p for p in bold_phrases((DOCS / name).read_text(encoding="utf-8")) if p not in labels})
        for name in GUIDES_ID
    }
    assert unknown == dict.fromkeys(GUIDES_ID, []), "write UI labels as the templates do; emphasis in *italics*"
    assert len(bold_phrases((DOCS / "panduan-pengguna.md").read_text(encoding="utf-8"))) > 50


def test_a_label_the_ui_does_not_have_is_caught():
    labels = ui_labels()
    assert {"Kotak masuk", "Kirim ulang N yang gagal", "Admin", "Kontak"} <= labels
    assert [p for p in bold_phrases("**Admin → Kontak** dan **Kotak surat**") if p not in labels] == ["Kotak surat"]


# --------------------------------------------------------------------------
# requirements.md


def _named(text: str) -> tuple[set[str], set[str]]:
    spans = re.findall(r"`([^`\n]+)`", text)
    tests = {s for s in spans if re.match(r"^tests/\S+\.py::\w+", s)}
    modules = {s for s in spans if re.match(r"^(modemd|webui|scripts|config|systemd|bench)/\S+$", s)}
    return tests, modules


def _defines(path: Path, name: str) -> bool:
    parts = name.split("::")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = tree.body
    for part in parts[:-1]:
        classes = [n for n in body if isinstance(n, ast.ClassDef) and n.name == part]
        if not classes:
            return False
        body = classes[0].body
    return any(isinstance(n, ast.FunctionDef) and n.name == parts[-1] for n in body)


def test_every_module_and_test_requirements_md_names_exists():
    tests, modules = _named(REQUIREMENTS.read_text(encoding="utf-8"))
    assert len(tests) > 40 and len(modules) > 30
    missing = [m for m in modules if not (REPO / m.rstrip("/")).exists()]
    for test in tests:
        path, _sep, name = test.partition("::")
        if not (REPO / path).exists() or not _defines(REPO / path, name):
            missing.append(test)
    assert sorted(missing) == []


def _domain_page() -> Path | None:
    for folder in (REPO.parent, REPO.parent.parent):
        if (folder / "shared" / "DOMAIN.md").exists():
            return folder / "shared" / "DOMAIN.md"
    return None


@pytest.mark.skipif(_domain_page() is None, reason="shared/DOMAIN.md is not beside this checkout")
def test_every_article_of_the_domain_page_is_in_requirements_md():
    articles = set(re.findall(r"Pasal \d+(?: \(\d+\))?", _domain_page().read_text(encoding="utf-8")))  # type: ignore[union-attr]
    text = REQUIREMENTS.read_text(encoding="utf-8")
    assert articles and sorted(a for a in articles if a not in text) == []


# --------------------------------------------------------------------------
# the log table of the technician's guide


def test_every_warning_and_error_the_code_logs_has_a_row_and_no_row_is_stale():
    calls, rows = set(logcalls.all_calls()), logcalls.documented()
    assert len(calls) > 40
    assert sorted(calls - set(rows)) == [], "run: python scripts/logcalls.py, paste and complete the rows"
    assert sorted(set(rows) - calls) == []
    assert len(rows) == len(set(rows)), "a log call has two rows"


def test_a_new_log_call_is_found(tmp_path):
    package = tmp_path / "modemd"
    package.mkdir()
    (package / "x.py").write_text(
        "import logging\nlog = logging.getLogger('x')\n"
        "log.warning('modem %s: %s', a, b)\nlog.info('fine')\nlogging.getLogger('y').error(f'{a} gone')\n"
        "log.log(logging.ERROR, 'lost %d', 3)\nlog.exception('boom')\n"
    )
    assert logcalls.calls_in(package / "x.py", tmp_path) == [
        logcalls.LogCall("WARNING", "modemd/x.py", "modem %s: %s"),
        logcalls.LogCall("ERROR", "modemd/x.py", "{a} gone"),
        logcalls.LogCall("ERROR", "modemd/x.py", "lost %d"),
        logcalls.LogCall("ERROR", "modemd/x.py", "boom"),
    ]
