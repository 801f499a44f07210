"""Crafted input is refused with 400 or 404, never a 500 (issue 10, item 7).

``str.isdigit()`` accepts "²" and ``int()`` then fails; a CR/LF in ``next``
breaks the Location header. The walk below requests EVERY route of the app
(from ``app.url_map``) as anonymous, official and admin, with GET and POST
(a valid CSRF token), and puts each hostile value into each query parameter
and form field the route reads. Which fields a route reads is recorded while
it runs (the request's parameter dictionaries note every key looked up), so a
new field is covered without touching this file.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask import Request
from webfixtures import *  # noqa: F401,F403
from webfixtures import PASSWORD, csrf_token_from
from werkzeug.datastructures import ImmutableMultiDict

from modemd.jobs import broadcasts
from modemd.store.models import BlockedNumber, Contact, ContactGroup, OutboundMessage, Template
from webui.params import BadParameter, parse_id


class Raw(str):
    """A value sent exactly as written in the query or body (already %-encoded, possibly invalid UTF-8)."""


HOSTILE = [
    "²",
    "٣",
    "１２",
    "𝟗",
    "-1",
    "0",
    "-0",
    "+5",
    " 7",
    "7 ",
    "1e3",
    "0x10",
    "1_000",
    "4.5",
    "9" * 25,
    "9" * 400,
    str(2**63),
    str(-(2**63) - 1),
    "\r\nX-Injected: 1",
    "/\r\n/evil.com",
    "\x00",
    "a\x00b",
    "\t",
    "x" * 10_000,
    "#²",
    "#٣",
    "%C2%B2",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "o.2026-13-45T99:99.x",
    "o..1",
    "9999-12-31",
    "0001-01-01",
    "٢٠٢٦-٠١-٠١",
    "o.9999-12-31T23:59:59.1",
    "o.2026-01-01T00:00:00." + "9" * 30,
    Raw("%ff%fe"),
    Raw("%ED%A0%80"),
    Raw("%"),
    Raw("%zz"),
    Raw("%00"),
    Raw("%0D%0A"),
]


def _encode(value: str) -> str:
    return str(value) if isinstance(value, Raw) else quote(value, safe="")


class _Recorder:
    keys: set[str] = set()


class RecordingDict(ImmutableMultiDict):
    """Request parameters that note every key a view looks up."""

    def __getitem__(self, key):
        _Recorder.keys.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # noqa: A002 (werkzeug's signature)
        _Recorder.keys.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        _Recorder.keys.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):
        _Recorder.keys.add(key)
        return super().__contains__(key)


class RecordingRequest(Request):
    parameter_storage_class = RecordingDict


@pytest.fixture
def world(officials, make_case, make_user):
    """One of everything a route can name by id; the ids a path converter gets."""
    victim = make_user("korban", "official")
    case = make_case("INFO", "INFO jalan rusak")
    group = ContactGroup.create(name="Camat")
    contact = Contact.create(name="Pak Camat", phone="+6281299990001")
    template = Template.create(name="Rapat", text="Rapat jam 9")
    broadcast = broadcasts.draft(officials["admin"], "Rapat koordinasi", groups=[group.id])
    message = OutboundMessage.create(recipient="+6281299990002", text="uji", kind="manual", state="failed")
    blocked = BlockedNumber.create(phone="+6281299990003")
    return {
        "user_id": victim.id,
        "case_id": case.id,
        "group_id": group.id,
        "contact_id": contact.id,
        "template_id": template.id,
        "broadcast_id": broadcast.id,
        "message_id": message.id,
        "row_id": blocked.id,
    }


STRING_ARGS = {"code": "en", "filename": "style.css"}
_serial = iter(range(10**6))
# what a real form holds, so that a hostile value in one field reaches code that runs only after the others passed
PLAUSIBLE = {
    "phone": lambda: f"08129{next(_serial):07d}",
    "sender": lambda: "081299990077",
    "name": lambda: f"Uji {next(_serial)}",
    "login": lambda: f"uji{next(_serial)}",
    "role": lambda: "official",
    "text": lambda: "INFO uji",
    "title": lambda: "Uji",
    "category": lambda: "information",
    "password": lambda: "sandi-uji-123",
    "current": lambda: PASSWORD,
    "new": lambda: PASSWORD,
    "repeat": lambda: PASSWORD,
    "keyword": lambda: "INFO",
    "send_at": lambda: "",
    "active": lambda: "1",
    "modem": lambda: "sim1",
    "next": lambda: "/",
    "reason": lambda: "uji",
}


def plausible(keys, but: str | None = None, value: str = "") -> dict[str, str]:
    """A plausible value for each of ``keys``, except ``value`` in the field ``but``."""
    return {key: value if key == but else PLAUSIBLE.get(key, lambda: "1")() for key in sorted(keys)}


ROLES = {"anonymous": (None, "10.9.0.1"), "official": ("humas", "10.9.0.2"), "admin": ("admin", "10.9.0.3")}


class Walker:
    def __init__(self, app, role):
        self.app = app
        self.login, self.address = ROLES[role]
        self.client = app.test_client()
        self.token = ""
        self.failures: list[str] = []
        self.requests = 0
        self.start()

    def start(self):
        throttle = self.app.extensions["modemd_login_throttle"]
        self.app.extensions["modemd_login_throttle"] = type(throttle)()  # hostile logins must not lock the walk out
        self.client = self.app.test_client()
        page = self.client.get("/login", environ_base={"REMOTE_ADDR": self.address})
        token = csrf_token_from(page.get_data(as_text=True))
        if self.login:
            response = self.client.post(
                "/login",
                data={"login": self.login, "password": PASSWORD, "csrf_token": token},
                environ_base={"REMOTE_ADDR": self.address},
            )
            assert response.status_code == 302, f"{self.login} cannot log in"
            token = csrf_token_from(self.client.get("/password").get_data(as_text=True))
        self.token = token

    def send(self, method: str, path: str, fields: dict[str, str]) -> int:
        """One request with ``fields`` in the query and (for POST) in the form too; returns its status."""
        query = "&".join(f"{quote(k)}={_encode(v)}" for k, v in fields.items())
        body = "&".join([f"csrf_token={quote(self.token)}", query] if query else [f"csrf_token={quote(self.token)}"])
        for attempt in (1, 2):
            self.requests += 1
            try:
                response = self.client.open(
                    path,
                    method=method,
                    query_string=query,
                    data=body.encode("latin-1") if method == "POST" else None,
                    content_type="application/x-www-form-urlencoded" if method == "POST" else None,
                    environ_base={"REMOTE_ADDR": self.address},
                )
            except Exception as exc:  # noqa: BLE001 (an unhandled error is the 500 this test looks for)
                self.failures.append(f"{method} {path} {fields!r:.120}: {type(exc).__name__}: {exc!s:.200}")
                return 500
            if response.status_code >= 500:
                self.failures.append(f"{method} {path} {fields!r:.120}: {response.status_code}")
            lost = self.login and response.status_code == 302 and "/login" in response.headers.get("Location", "")
            if lost and attempt == 1 and path != "/logout":
                self.start()  # a route ended the session (logout, own account changed): log in again and retry
                continue
            if response.status_code == 400 and b"CSRF" in response.data and attempt == 1:
                self.start()  # a route renewed the session (own password changed): a fresh token, and retry
                continue
            return response.status_code
        return response.status_code

    def keys_read(self, method: str, path: str) -> set[str]:
        """The parameters the route reads, found by running it until no new key appears."""
        known: set[str] = set()
        for _ in range(4):
            _Recorder.keys = set()
            self.send(method, path, plausible(known))
            found = _Recorder.keys - {"csrf_token"}
            if found <= known:
                break
            known |= found
        return known - {"csrf_token"}


def _paths(rule, ids) -> list[str]:
    """The rule's URL with real ids, then with each hostile value in each string argument."""
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind == "IntegerConverter":
            values[name] = ids.get(name, 1)
        elif kind == "AnyConverter":  # one of a fixed list (/publik/<any(feed.atom, feed.json)>): the first
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = STRING_ARGS.get(name, "x")
    base = rule.build(values, append_unknown=False)[1]
    paths = [base]
    for name, converter in rule._converters.items():
        if type(converter).__name__ not in ("IntegerConverter", "AnyConverter"):
            for value in HOSTILE:
                paths.append(
                    rule.build({**values, name: "§§"}, append_unknown=False)[1].replace("%C2%A7%C2%A7", _encode(value))
                )
    return paths


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_hostile_parameters_without_a_server_error(csrf_app, world, role):
    csrf_app.request_class = RecordingRequest
    walker = Walker(csrf_app, role)
    rules = sorted(csrf_app.url_map.iter_rules(), key=lambda r: (r.rule == "/logout", r.rule))
    covered = 0
    for rule in rules:
        for method in sorted(rule.methods & {"GET", "POST"}):
            paths = _paths(rule, world)
            keys = walker.keys_read(method, paths[0])
            for path in paths[1:]:
                walker.send(method, path, {})
            for key in sorted(keys):
                for value in HOSTILE:
                    walker.send(method, paths[0], plausible(keys, key, value))
                    covered += 1
    assert not walker.failures, f"{len(walker.failures)} server errors:\n" + "\n".join(walker.failures[:40])
    assert covered > (0 if role == "anonymous" else 500), "the walk read almost no parameters: the recorder is broken"


# -- the cases reported in the issue, one by one -------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/publik/?before=%C2%B2", "/publik/?before=-3", f"/publik/?before={'9' * 30}"])
def test_public_page_refuses_a_bad_cursor(client, url):
    assert client.get(url).status_code == 400


@pytest.mark.parametrize(
    "url", ["/outbox/?before=²", "/admin/audit/?before=²", "/outbox/?before=٣", f"/admin/audit/?before={'9' * 30}"]
)
def test_admin_lists_refuse_a_bad_cursor(client, auth, url):
    auth.login("admin")
    assert client.get(url).status_code == 400


def test_inbox_search_for_a_case_number_in_unicode_digits_is_a_text_search(client, auth, make_case):
    auth.login("humas")
    case = make_case("INFO", "INFO ²³ lampu mati")
    response = client.get("/?q=%23%C2%B2")
    assert response.status_code == 200
    assert f"/cases/{case.id}" not in response.get_data(as_text=True)  # "#²" is not a case number
    assert f"/cases/{case.id}" in client.get(f"/?q=%23{case.id}").get_data(as_text=True)


def test_assign_to_an_owner_in_unicode_digits_is_refused(client, auth, make_case):
    auth.login("admin")
    case = make_case("INFO")
    response = client.post(f"/cases/{case.id}/assign", data={"keyword": "", "owner": "²"})
    assert response.status_code == 400
    assert case.owner_id == type(case).get_by_id(case.id).owner_id


@pytest.mark.parametrize("url", ["/admin/contacts/new", "/siaran/baru"])
def test_groups_in_unicode_digits_are_refused(client, auth, url):
    auth.login("admin")
    data = {"name": "Pak Lurah", "phone": "081299990009", "title": "Rapat", "text": "Rapat jam 9", "groups": "²"}
    assert client.post(url, data=data).status_code == 400


def test_login_with_a_header_in_next_logs_in_with_a_plain_redirect(app):
    client = app.test_client()
    response = client.post("/login?next=%2F%0D%0AX:1", data={"login": "humas", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "X" not in response.headers


# -- the helper itself -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["²", "٣", "１２", "-1", "0", "+5", " 7", "7\n", "1e3", "", "9" * 20, str(2**63)])
def test_parse_id_refuses_anything_but_a_positive_ascii_number_in_range(text):
    with pytest.raises(BadParameter):
        parse_id(text)


@pytest.mark.parametrize("text, value", [("1", 1), ("0042", 42), (str(2**63 - 1), 2**63 - 1)])
def test_parse_id_reads_plain_numbers(text, value):
    assert parse_id(text) == value
