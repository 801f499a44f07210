"""The officials' SMS counter (webui/static/smscount.js) is modemd.sms.segmentation.count, exactly, under node.

The reply box and the broadcast form must never promise fewer parts than the
queue sends. Thousands of generated texts -- GSM 7-bit with extension
characters, UCS2 with emoji, flags, skin tones, ZWJ sequences, combining
marks, mixtures, lengths around the part boundaries -- go to one node process
as JSON lines, and every field of every answer is compared with the server's.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from webfixtures import *  # noqa: F401,F403  (client, auth, make_case)

from modemd.sms import gsm7, segmentation

REPO = Path(__file__).resolve().parent.parent
SMSCOUNT_JS = REPO / "webui" / "static" / "smscount.js"
HARNESS = Path(__file__).resolve().parent / "js" / "smscount_lines.js"
NODE = shutil.which("node") or shutil.which("nodejs")

pytestmark = pytest.mark.skipif(
    NODE is None, reason="node is not installed (Debian package nodejs; scripts/test.sh installs it)"
)


class NodeCounter:
    """One node process running smscount.js; texts in, counts out, one JSON line each."""

    def __init__(self):
        self.process = subprocess.Popen(
            [NODE, str(HARNESS), str(SMSCOUNT_JS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def count(self, texts: list[str]) -> list[dict]:
        # written in one go, then read back: a batch costs one round trip
        self.process.stdin.write("".join(json.dumps(t) + "\n" for t in texts))
        self.process.stdin.flush()
        return [json.loads(self.process.stdout.readline()) for _ in texts]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def node():
    counter = NodeCounter()
    yield counter
    counter.close()


def disagreements(node: NodeCounter, texts: list[str]) -> list[tuple[str, dict, dict]]:
    server = [dataclasses.asdict(segmentation.count(t)) for t in texts]
    return [(t, s, b) for t, s, b in zip(texts, server, node.count(texts), strict=True) if s != b]


# ---------------------------------------------------------------------------
# Texts

GSM_BASIC = [c for c in gsm7.DEFAULT_ALPHABET if c != "\x1b"]
GSM_EXTENSION = list(gsm7.EXTENSION_TABLE.values())
FLAGS = ["🇮🇩", "🇯🇵", "🇺🇳", "🇪🇺"]
REGIONAL = st.characters(min_codepoint=0x1F1E6, max_codepoint=0x1F1FF)
SKIN_TONES = st.characters(min_codepoint=0x1F3FB, max_codepoint=0x1F3FF)
EMOJI = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
COMBINING = st.one_of(
    *(st.characters(min_codepoint=ord(low), max_codepoint=ord(high)) for low, high in segmentation._COMBINING_RANGES)
)
ZWJ_SEQUENCES = ["👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "🧑‍🤝‍🧑", "❤️‍🔥"]
BMP = st.characters(min_codepoint=0xA0, max_codepoint=0xFFFF, exclude_categories=("Cs",))

gsm_char = st.sampled_from(GSM_BASIC + GSM_EXTENSION)
pieces = st.one_of(
    gsm_char,
    st.sampled_from(GSM_EXTENSION),
    BMP,
    EMOJI,
    st.sampled_from(FLAGS),
    REGIONAL,  # a lone regional indicator, or an odd run of them
    st.tuples(EMOJI, SKIN_TONES).map("".join),
    st.sampled_from(ZWJ_SEQUENCES),
    st.tuples(st.sampled_from("aeiouжé"), st.lists(COMBINING, min_size=1, max_size=12)).map(
        lambda t: t[0] + "".join(t[1])
    ),
    COMBINING,  # a mark with no letter before it
)
mixed = st.lists(pieces, max_size=120).map("".join)
gsm_only = st.text(alphabet=gsm_char, max_size=480)
# the single-part and per-part capacities, and their multiples, of both encodings
BOUNDARIES = [70, 67, 134, 160, 153, 201, 306, 459]


@st.composite
def around_a_boundary(draw):
    """Filler up to a few units before or after a boundary, then something that may not fit: a flag, marks, an escape."""
    filler = draw(st.sampled_from(["a", "ж", "€", "😀"]))
    length = draw(st.sampled_from(BOUNDARIES)) // (2 if filler == "😀" else 1) + draw(st.integers(-4, 4))
    return filler * max(length, 0) + draw(mixed.filter(lambda t: len(t) < 12)) + filler * draw(st.integers(0, 80))


texts = st.one_of(mixed, gsm_only, around_a_boundary())


# ---------------------------------------------------------------------------
# Tests


def test_a_flag_at_a_part_boundary_is_not_split(node):
    text = "ж" * 65 + "🇮🇩" + "ж" * 65
    assert segmentation.count(text).parts == 3
    assert disagreements(node, [text]) == []


def test_every_gsm_character_every_mark_range_and_fixed_boundaries(node):
    fixed = [c * n for c in GSM_BASIC + GSM_EXTENSION for n in (1, 80, 81, 153, 161)]
    fixed += [f"x{low}{high}" * 40 for low, high in segmentation._COMBINING_RANGES]
    fixed += ["a" + "\u0301" * n for n in range(20)] + ["ж" * 66 + "e" + "\u0301" * n + "ж" * 10 for n in range(12)]
    fixed += ["🇮" * n for n in range(1, 80)] + ["ж" * n + "🇮🇩" for n in range(60, 140)]
    assert disagreements(node, fixed) == []


@settings(max_examples=2000, derandomize=True, deadline=None, database=None)
@given(text=texts)
def test_counter_agrees_with_the_server_on_generated_texts(node, text):
    assert disagreements(node, [text]) == []


@settings(max_examples=20, derandomize=True, deadline=None, database=None)
@given(batch=st.lists(texts, min_size=100, max_size=100))
def test_counter_agrees_with_the_server_on_batches(node, batch):
    assert disagreements(node, batch) == []


def test_the_pages_load_this_counter(client, auth, make_case):
    """The reply box and the broadcast form load this very file, and the app serves it unchanged."""
    case = make_case("INFO", "INFO jalan rusak")
    auth.login("admin")
    script = re.compile(r'<script src="([^"]*smscount[^"]*)"')
    for page in (f"/cases/{case.id}", "/siaran/baru"):
        html = client.get(page).get_data(as_text=True)
        assert script.findall(html) == ["/static/smscount.js"], page
    served = client.get("/static/smscount.js")
    assert served.status_code == 200 and served.data == SMSCOUNT_JS.read_bytes()
