"""The English catalogue: complete, compiled, and used when English is chosen."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from webfixtures import *  # noqa: F401,F403

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "webui" / "translations" / "en" / "LC_MESSAGES"


def _source_messages() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT / "webui", method_map, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_ui_string_has_an_english_translation():
    with open(CATALOGUE / "messages.po", "rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id for m in catalogue if m.id and m.string}
    missing = sorted(_source_messages() - translated)
    assert not missing, f"untranslated (see webui/babel.cfg to update the catalogue): {missing[:10]}"


def test_compiled_catalogue_matches_the_po_file():
    with open(CATALOGUE / "messages.po", "rb") as handle:
        po = {m.id: m.string for m in read_po(handle) if m.id}
    with open(CATALOGUE / "messages.mo", "rb") as handle:
        mo = {m.id: m.string for m in read_mo(handle) if m.id}
    assert po == mo, "messages.mo is stale: run pybabel compile -d webui/translations"


def test_english_is_used_after_switching(client, auth):
    auth.login("humas")
    client.post("/lang/en", data={"next": "/"})
    body = client.get("/dashboard/").get_data(as_text=True)
    assert "SMS received today" in body and "Dasbor" not in body
    assert 'lang="en"' in body


def test_default_language_from_the_configuration(write_config, officials):
    from modemd import config as config_module
    from webui import create_app

    config = config_module.load(write_config("[web]\nsecret_key_file = secret.key\nlanguage = en\n"))
    client = create_app(config=config, test_config={"WTF_CSRF_ENABLED": False}).test_client()
    assert "Password" in client.get("/login").get_data(as_text=True)
