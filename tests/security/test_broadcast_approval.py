"""Issue 10: an approval names the version the approver saw (Bekasi Pasal 7 (6), 10 c).

The attack: the author submits, the Ketua opens the page, the author posts a
new text (or other recipients) with ``action=submit``, the Ketua presses
approve with the page's token. The approval must be refused and the page must
show what changed. From the command line, approving needs the approver's
password and approves only the version it showed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from webfixtures import *  # noqa: F401,F403
from webfixtures import PASSWORD, WEB_INI, AuthActions, csrf_token_from

from modemd import config as config_module
from modemd.jobs import broadcasts
from modemd.jobs.broadcasts import BroadcastError
from modemd.store.models import AuditLog, Broadcast, Contact, ContactGroup, GroupMember

_VERSION = re.compile(r'name="version" value="([0-9a-f]{64})"')


@pytest.fixture
def web_ini() -> str:
    return WEB_INI + "\n[notify]\nsignature = HUMAS\n"


# key: (group name, members, number prefix); a name with HTML, to see it escaped in the difference
GROUPS = {"camat": ("Camat", 3, "+628131111000"), "lurah": ("Lurah <i>Baru</i>", 5, "+628131112000")}


@pytest.fixture
def groups(officials):
    made = {}
    for key, (name, size, prefix) in GROUPS.items():
        made[key] = ContactGroup.create(name=name)
        for i in range(size):
            GroupMember.create(group=made[key], contact=Contact.create(name=f"{name} {i}", phone=f"{prefix}{i}"))
    return made


def _form(groups: list, text: str, action: str = "submit") -> dict:
    return {
        "title": "Rapat",
        "category": "invitation",
        "text": text,
        "groups": [g.id for g in groups],
        "contacts": "",
        "send_at": "",
        "action": action,
    }


def _post(client, url: str, page_html: str, data: dict):
    return client.post(url, data={**data, "csrf_token": csrf_token_from(page_html)})


def _version_in(page_html: str) -> str:
    match = _VERSION.search(page_html)
    return match.group(1) if match else ""


def test_text_and_groups_changed_after_the_ketua_opened_the_page_are_not_approved(csrf_app, groups):
    author, ketua = csrf_app.test_client(), csrf_app.test_client()
    AuthActions(author).login("dishub")
    AuthActions(ketua).login("ketua")
    form = author.get("/siaran/baru").get_data(as_text=True)
    assert _post(author, "/siaran/baru", form, _form([groups["camat"]], "Rapat camat Senin 08.00")).status_code == 302
    bc = Broadcast.get()
    assert bc.state == "pending"

    shown = ketua.get(f"/siaran/{bc.id}").get_data(as_text=True)  # the Ketua reads the text ...
    assert "Rapat camat Senin 08.00 -HUMAS" in shown
    edit_page = author.get(f"/siaran/{bc.id}/ubah").get_data(as_text=True)  # ... the author changes it meanwhile
    swapped = _form([groups["camat"], groups["lurah"]], "<script>alert(1)</script> Rapat dibatalkan")
    assert _post(author, f"/siaran/{bc.id}/ubah", edit_page, swapped).status_code == 302
    assert Broadcast.get_by_id(bc.id).state == "pending"

    # ... and the Ketua presses approve on the page they read
    response = _post(ketua, f"/siaran/{bc.id}/setujui", shown, {"version": _version_in(shown)})
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    current = Broadcast.get_by_id(bc.id)
    assert current.state == "pending" and current.approved_at is None and current.text_sha256 == ""
    assert "Isi siaran berubah, periksa lagi." in page
    old_text = re.search(r'id="old-text">([^<]*)<', page).group(1)
    new_text = re.search(r'id="new-text">([^<]*)<', page).group(1)
    assert old_text == "Rapat camat Senin 08.00 -HUMAS"
    assert new_text == "&lt;script&gt;alert(1)&lt;/script&gt; Rapat dibatalkan -HUMAS"
    assert "<script>alert(1)" not in page
    assert re.search(r'id="groups-added">Lurah &lt;i&gt;Baru&lt;/i&gt;<', page)
    assert 'id="groups-removed"' not in page

    # having seen it, the Ketua approves the new version from the refreshed page
    fresh = ketua.get(f"/siaran/{bc.id}").get_data(as_text=True)
    assert _post(ketua, f"/siaran/{bc.id}/setujui", fresh, {"version": _version_in(fresh)}).status_code == 302
    approved = Broadcast.get_by_id(bc.id)
    assert approved.state == "approved" and approved.recipient_count == 8
    assert approved.text == "<script>alert(1)</script> Rapat dibatalkan -HUMAS"


def test_recipients_swapped_with_the_same_text_are_not_approved(client, auth, groups, officials, web_config):
    bc = broadcasts.draft(officials["dishub"], "Apel pagi", groups=[groups["camat"].id])
    broadcasts.submit(bc, officials["dishub"], web_config)
    auth.login("ketua")
    shown = client.get(f"/siaran/{bc.id}").get_data(as_text=True)
    broadcasts.edit(bc, officials["dishub"], groups=[groups["lurah"].id])
    broadcasts.submit(bc, officials["dishub"], web_config)
    response = client.post(f"/siaran/{bc.id}/setujui", data={"version": _version_in(shown)})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and Broadcast.get_by_id(bc.id).state == "pending"
    assert re.search(r'id="groups-added">Lurah &lt;i&gt;Baru&lt;/i&gt;<', page)
    assert re.search(r'id="groups-removed">Camat<', page)
    assert 'id="old-text"' not in page  # the text did not change


@pytest.mark.parametrize("version", ["", "0" * 64, "not-a-hash"])
def test_an_approval_without_the_shown_version_is_refused(client, auth, groups, officials, web_config, version):
    bc = broadcasts.draft(officials["dishub"], "Apel pagi", groups=[groups["camat"].id])
    broadcasts.submit(bc, officials["dishub"], web_config)
    auth.login("ketua")
    response = client.post(f"/siaran/{bc.id}/setujui", data={"version": version} if version else {})
    assert response.status_code == 409
    assert "Isi siaran berubah, periksa lagi." in response.get_data(as_text=True)
    assert Broadcast.get_by_id(bc.id).approved_at is None


def test_the_rules_refuse_a_stale_version_and_editing_a_pending_broadcast_is_audited(groups, officials, web_config):
    bc = broadcasts.draft(officials["dishub"], "Rapat Senin", groups=[groups["camat"].id])
    broadcasts.submit(bc, officials["dishub"], web_config)
    seen = broadcasts.content_of(bc, web_config).version
    broadcasts.edit(bc, officials["dishub"], text="Rapat Selasa")
    assert Broadcast.get_by_id(bc.id).state == "draft"  # back to draft: it must be submitted and seen again
    entry = AuditLog.select().where(AuditLog.action == "broadcast.edit").order_by(AuditLog.id.desc()).get()
    assert json.loads(entry.detail) == {"was": "pending", "changed": ["text"]}
    broadcasts.submit(bc, officials["dishub"], web_config)
    with pytest.raises(BroadcastError) as refused:
        broadcasts.approve(bc, officials["ketua"], web_config, version=seen)
    assert refused.value.code == "changed_version"
    assert Broadcast.get_by_id(bc.id).state == "pending"


# --------------------------------------------------------------------------
# modemd broadcast approve


@pytest.fixture
def cli_config(write_config, officials):
    return config_module.load(write_config("[notify]\nsignature = HUMAS\n"))


def approve_command(config, *args, stdin: str = "") -> subprocess.CompletedProcess:
    # a session of its own: no controlling terminal, so getpass reads standard input like a script's pipe
    return subprocess.run(
        [sys.executable, "-m", "modemd", "-c", str(config.path), "broadcast", "approve", *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        start_new_session=True,
    )


def _pending(officials, config, groups_) -> Broadcast:
    bc = broadcasts.draft(officials["dishub"], "Rapat <b>Senin</b>", groups=[g.id for g in groups_])
    return broadcasts.submit(bc, officials["dishub"], config)


def test_command_line_approval_needs_the_approvers_password(cli_config, officials, groups):
    bc = _pending(officials, cli_config, [groups["camat"]])
    no_password = approve_command(cli_config, str(bc.id), "--as", "ketua")
    assert no_password.returncode == 1 and "not approved" in no_password.stderr
    wrong = approve_command(cli_config, str(bc.id), "--as", "ketua", "--password-stdin", stdin="tebakan\n")
    assert wrong.returncode == 1 and "wrong password for ketua" in wrong.stderr
    assert Broadcast.get_by_id(bc.id).state == "pending"
    refusals = AuditLog.select().where(AuditLog.action == "broadcast.approve_refused")
    assert [(r.actor, json.loads(r.detail)["approver"]) for r in refusals] == [("cli", "ketua")] * 2

    right = approve_command(cli_config, str(bc.id), "--as", "ketua", "--password-stdin", stdin=PASSWORD + "\n")
    assert right.returncode == 0, right.stderr
    # what is approved is shown before the password is asked
    assert "Rapat <b>Senin</b> -HUMAS" in right.stdout and "to 3 recipient(s)" in right.stdout
    assert Broadcast.get_by_id(bc.id).state == "approved"
    entry = AuditLog.select().where(AuditLog.action == "broadcast.approve").get()
    assert entry.actor == "ketua" and json.loads(entry.detail)["via"] == "cli"


def test_command_line_approves_only_the_version_it_showed(cli_config, officials, groups):
    bc = _pending(officials, cli_config, [groups["camat"]])
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modemd",
            "-c",
            str(cli_config.path),
            "broadcast",
            "approve",
            str(bc.id),
            "--as",
            "ketua",
            "--password-stdin",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    shown = []
    for line in process.stdout:  # the command shows the text, then waits for the password
        shown.append(line)
        if line.startswith("version "):
            break
    assert any("Rapat <b>Senin</b> -HUMAS" in line for line in shown), shown
    broadcasts.edit(bc, officials["dishub"], text="Rapat dibatalkan", groups=[groups["lurah"].id])
    broadcasts.submit(bc, officials["dishub"], cli_config)
    out, err = process.communicate(PASSWORD + "\n", timeout=120)
    assert process.returncode == 1 and "changed after it was shown" in err
    assert Broadcast.get_by_id(bc.id).state == "pending"
