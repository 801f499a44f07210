"""Render the guides in docs/ to one self-contained HTML file each (and a PDF with Chromium).

    python scripts/docbuild.py [--out build/docs] [--pdf] [--check] [FILE.md ...]

Markdown is read by markdown-it-py (CommonMark plus tables, raw HTML off, so nothing in a
guide can inject markup). Headings get the ids GitHub gives them, so a link such as
``panduan-teknisi.md#membaca-log`` works on the forge and in the HTML alike. Images are
embedded as ``data:`` URIs and the stylesheet (docs/guide.css) is inlined: one file a
government office can mail, archive or print, with nothing fetched from anywhere.

Every problem that would make a reader stumble is a warning, and any warning makes the
build fail: a link or image to a file that does not exist, a ``#fragment`` that is no
heading of its target, an image from the internet, two headings with the same id.
tests/test_docs.py builds every guide and asserts there is none.

The PDF is Chromium's print of that HTML (``--print-to-pdf``), so HTML and PDF never
differ; it needs Debian's ``chromium`` package and nothing else.
"""

from __future__ import annotations

import argparse
import base64
import html
import mimetypes
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
STYLE = DOCS / "guide.css"
CHROMIUM = "/usr/bin/chromium"
REMOTE = ("http://", "https://", "mailto:")


def parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def slug(text: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _inline_text(token) -> str:
    return "".join(child.content for child in token.children or () if child.type in ("text", "code_inline"))


def heading_ids(path: Path) -> list[str]:
    """The ids of ``path``'s headings in order, numbered like GitHub's when one repeats."""
    tokens = parser().parse(path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    ids = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            base = slug(_inline_text(tokens[i + 1]))
            count = seen.get(base, 0)
            seen[base] = count + 1
            ids.append(base if count == 0 else f"{base}-{count}")
    return ids


@dataclass
class Rendered:
    path: Path
    html: str
    title: str
    warnings: list[str] = field(default_factory=list)


def _check_target(source: Path, target: str, warnings: list[str], *, image: bool) -> Path | None:
    """The local file ``target`` names (relative to ``source``), or None with a warning."""
    if target.startswith(REMOTE):
        if image:
            warnings.append(f"{source.name}: image from the internet: {target} (keep images in docs/)")
        return None
    parts = urlsplit(target)
    if not parts.path:  # "#fragment" in the same file
        file = source
    else:
        file = (source.parent / unquote(parts.path)).resolve()
        if not file.exists():
            warnings.append(f"{source.name}: {'image' if image else 'link'} to a missing file: {target}")
            return None
    if parts.fragment and file.suffix == ".md" and parts.fragment not in heading_ids(file):
        warnings.append(f"{source.name}: link to a missing heading: {target}")
    return file


def check_links(path: Path) -> list[str]:
    """Every link and image of a Markdown file checked, as warnings (README.md too)."""
    warnings: list[str] = []
    for token in parser().parse(path.read_text(encoding="utf-8")):
        for child in token.children or ():
            if child.type == "link_open":
                _check_target(path, child.attrs["href"], warnings, image=False)
            elif child.type == "image":
                _check_target(path, child.attrs["src"], warnings, image=True)
    return warnings


def _data_uri(file: Path) -> str:
    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(file.read_bytes()).decode('ascii')}"


def render(path: Path, rendered_names: set[str] | None = None) -> Rendered:
    """``path`` as one HTML page: heading ids, embedded images, links between guides to .html."""
    md = parser()
    tokens = md.parse(path.read_text(encoding="utf-8"))
    warnings: list[str] = []
    rendered_names = rendered_names if rendered_names is not None else set()
    seen: dict[str, int] = {}
    title = path.stem
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            text = _inline_text(tokens[i + 1])
            if token.tag == "h1" and title == path.stem:
                title = text
            base = slug(text)
            count = seen.get(base, 0)
            seen[base] = count + 1
            token.attrSet("id", base if count == 0 else f"{base}-{count}")
        for child in token.children or ():
            if child.type == "image":
                file = _check_target(path, child.attrs["src"], warnings, image=True)
                if file is not None:
                    child.attrSet("src", _data_uri(file))
            elif child.type == "link_open":
                href = child.attrs["href"]
                file = _check_target(path, href, warnings, image=False)
                if file is not None and file.name in rendered_names and file != path:
                    parts = urlsplit(href)
                    new = parts.path[: -len(".md")] + ".html" + (f"#{parts.fragment}" if parts.fragment else "")
                    child.attrSet("href", new)
    body = md.renderer.render(tokens, md.options, {})
    contents = [
        (token.attrGet("id"), _inline_text(tokens[i + 1]))
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and token.tag == "h2"
    ]
    if len(contents) > 2 and "</h1>" in body:  # a printed guide needs its table of contents
        items = "".join(f'<li><a href="#{anchor}">{html.escape(text)}</a></li>' for anchor, text in contents)
        body = body.replace("</h1>", f'</h1>\n<nav class="toc"><ol>{items}</ol></nav>', 1)
    page = (
        '<!doctype html>\n<html lang="id">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{STYLE.read_text(encoding='utf-8')}</style>\n"
        f"</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )
    return Rendered(path, page, title, warnings)


def print_pdf(html_file: Path, pdf_file: Path, chromium: str = CHROMIUM) -> None:
    """Chromium's print of ``html_file``; raises CalledProcessError with its output on failure."""
    with tempfile.TemporaryDirectory(prefix="modemd-docs-") as profile:
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf_file}",
                html_file.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def default_sources() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def build(sources: list[Path], out: Path, *, pdf: bool) -> list[str]:
    """Write NAME.html (and NAME.pdf) for each source into ``out``; the warnings of all."""
    out.mkdir(parents=True, exist_ok=True)
    names = {source.name for source in sources}
    warnings: list[str] = []
    for source in sources:
        result = render(source, names)
        warnings += result.warnings
        html_file = out / f"{source.stem}.html"
        html_file.write_text(result.html, encoding="utf-8")
        if pdf:
            print_pdf(html_file, out / f"{source.stem}.pdf")
    warnings += check_links(REPO / "README.md")
    return warnings


def main(argv: list[str] | None = None) -> int:
    options = argparse.ArgumentParser(description="Render docs/*.md to self-contained HTML (and PDF).")
    options.add_argument("sources", nargs="*", type=Path, help="Markdown files (default: docs/*.md)")
    options.add_argument("--out", type=Path, default=REPO / "build" / "docs", help="output folder")
    options.add_argument("--pdf", action="store_true", help=f"also print each page to PDF with {CHROMIUM}")
    args = options.parse_args(argv)
    if args.pdf and not shutil.which(CHROMIUM):
        print(f"docbuild: {CHROMIUM} is missing: apt-get install chromium (or leave out --pdf)", file=sys.stderr)
        return 2
    sources = [source.resolve() for source in args.sources] or default_sources()
    warnings = build(sources, args.out, pdf=args.pdf)
    for warning in warnings:
        print(f"docbuild: warning: {warning}", file=sys.stderr)
    print(f"docbuild: {len(sources)} page(s) in {args.out}{' (HTML and PDF)' if args.pdf else ''}", file=sys.stderr)
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main())
