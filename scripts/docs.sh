#!/bin/sh
# Render every guide in docs/ to one self-contained HTML file and one PDF each, into build/docs/
# (or the folder given as OUT=...). No internet: markdown-it-py from the venv (the test extra),
# Debian's chromium for the PDF (left out, with a note, when chromium is not installed).
#   sh scripts/docs.sh            HTML and PDF of docs/*.md
#   OUT=/tmp/guides sh scripts/docs.sh docs/panduan-pengguna.md
# A warning (a broken link or image, a heading a link names that does not exist) fails the build.
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
OUT=${OUT:-build/docs}
if [ -x /usr/bin/chromium ]; then
    exec "$PYTHON" scripts/docbuild.py --out "$OUT" --pdf "$@"
fi
echo "docs.sh: /usr/bin/chromium is missing (apt-get install chromium): HTML only" >&2
exec "$PYTHON" scripts/docbuild.py --out "$OUT" "$@"
