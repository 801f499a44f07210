"""Contacts and groups for broadcasts: add, edit, delete, group membership, CSV import and export."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from peewee import JOIN, fn

from modemd.sms import phone
from modemd.store.models import Contact, ContactGroup, GroupMember, audit
from webui.admin import contacts_csv
from webui.auth import roles_required
from webui.params import form_ids

bp = Blueprint("admin_contacts", __name__, url_prefix="/admin/contacts")
LIST_LIMIT = 500


def _groups_of(contact_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if not contact_ids:
        return found
    query = (
        GroupMember.select(GroupMember.contact, ContactGroup.name)
        .join(ContactGroup)
        .where(GroupMember.contact.in_(contact_ids))
        .order_by(ContactGroup.name)
        .tuples()
    )
    for contact_id, name in query:
        found.setdefault(contact_id, []).append(name)
    return found


@bp.get("/")
@roles_required("admin")
def index():
    """Contacts (searchable) and groups with their sizes."""
    query = Contact.select().order_by(Contact.name, Contact.id)
    search = request.args.get("q", "").strip()[:100]
    if search:
        number = phone.try_normalize(search)
        query = query.where(
            (Contact.phone == number) if number else (Contact.name.contains(search) | Contact.position.contains(search))
        )
    contacts = list(query.limit(LIST_LIMIT))
    groups = (
        ContactGroup.select(ContactGroup, fn.COUNT(GroupMember.id).alias("size"))
        .join(GroupMember, join_type=JOIN.LEFT_OUTER)
        .group_by(ContactGroup)
        .order_by(ContactGroup.name)
    )
    return render_template(
        "admin/contacts.html",
        contacts=contacts,
        groups=groups,
        search=search,
        member_of=_groups_of([c.id for c in contacts]),
        limit=LIST_LIMIT,
        total=Contact.select().count(),
    )


def _save_contact(contact: Contact | None, form) -> Contact | None:
    name = form.get("name", "").strip()
    position = form.get("position", "").strip()
    number = phone.try_normalize(form.get("phone", ""))
    problems = []
    if not name or len(name) > 128:
        problems.append(_("Nama wajib diisi (paling banyak 128 karakter)."))
    if number is None:
        problems.append(_("Nomor telepon tidak sah (contoh: 0812xxxxxxxx)."))
    elif Contact.select().where((Contact.phone == number) & (Contact.id != (contact.id if contact else 0))).exists():
        problems.append(_("Nomor %(number)s sudah ada di kontak lain.", number=number))
    if len(position) > 128:
        problems.append(_("Jabatan terlalu panjang (paling banyak 128 karakter)."))
    if problems:
        for problem in problems:
            flash(problem, "error")
        return None
    group_ids = form_ids("groups")
    with Contact._meta.database.atomic():
        if contact is None:
            contact = Contact.create(name=name, phone=number, position=position)
            action = "contact.create"
        else:
            contact.name, contact.phone, contact.position = name, number, position
            contact.active = form.get("active") == "1"
            contact.save()
            action = "contact.update"
        GroupMember.delete().where(GroupMember.contact == contact).execute()
        for group in ContactGroup.select().where(ContactGroup.id.in_(list(group_ids) or [0])):
            GroupMember.create(group=group, contact=contact)
        audit(current_user.login, action, contact, phone=number, groups=sorted(group_ids))
    return contact


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def create():
    """Add one contact."""
    if request.method == "POST":
        if _save_contact(None, request.form):
            flash(_("Kontak disimpan."), "info")
            return redirect(url_for("admin_contacts.index"))
        return render_template(
            "admin/contact_form.html",
            contact=None,
            form=request.form,
            groups=ContactGroup.select().order_by(ContactGroup.name),
            chosen=set(),
        ), 400
    return render_template(
        "admin/contact_form.html",
        contact=None,
        form={"active": "1"},
        groups=ContactGroup.select().order_by(ContactGroup.name),
        chosen=set(),
    )


@bp.route("/<int:contact_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit(contact_id: int):
    """Change a contact (staff change posts: number, position, groups)."""
    contact = Contact.get_or_none(Contact.id == contact_id) or abort(404)
    groups = ContactGroup.select().order_by(ContactGroup.name)
    if request.method == "POST":
        if _save_contact(contact, request.form):
            flash(_("Kontak disimpan."), "info")
            return redirect(url_for("admin_contacts.index"))
        return render_template(
            "admin/contact_form.html", contact=contact, form=request.form, groups=groups, chosen=form_ids("groups")
        ), 400
    chosen = {m.group_id for m in GroupMember.select().where(GroupMember.contact == contact)}
    form = {
        "name": contact.name,
        "phone": contact.phone,
        "position": contact.position,
        "active": "1" if contact.active else "",
    }
    return render_template("admin/contact_form.html", contact=contact, form=form, groups=groups, chosen=chosen)


@bp.post("/<int:contact_id>/delete")
@roles_required("admin")
def delete(contact_id: int):
    """Delete a contact (and its group memberships)."""
    contact = Contact.get_or_none(Contact.id == contact_id) or abort(404)
    audit(current_user.login, "contact.delete", contact, phone=contact.phone, name=contact.name)
    contact.delete_instance(recursive=True)
    flash(_("Kontak dihapus."), "info")
    return redirect(url_for("admin_contacts.index"))


@bp.post("/groups")
@roles_required("admin")
def create_group():
    """Create a group of contacts."""
    name = request.form.get("name", "").strip()
    description = request.form.get("description", "").strip()
    if not name or len(name) > 64 or len(description) > 255:
        flash(_("Nama grup wajib diisi (paling banyak 64 karakter)."), "error")
    elif ContactGroup.select().where(ContactGroup.name == name).exists():
        flash(_("Grup %(name)s sudah ada.", name=name), "error")
    else:
        group = ContactGroup.create(name=name, description=description)
        audit(current_user.login, "group.create", group, name=name)
        flash(_("Grup dibuat."), "info")
    return redirect(url_for("admin_contacts.index"))


@bp.post("/groups/<int:group_id>/delete")
@roles_required("admin")
def delete_group(group_id: int):
    """Delete a group (its contacts stay)."""
    group = ContactGroup.get_or_none(ContactGroup.id == group_id) or abort(404)
    audit(current_user.login, "group.delete", group, name=group.name)
    group.delete_instance(recursive=True)
    flash(_("Grup dihapus."), "info")
    return redirect(url_for("admin_contacts.index"))


@bp.post("/import")
@roles_required("admin")
def import_csv():
    """Import contacts from CSV: valid lines are saved (new or updated by number), errors listed per line."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Pilih berkas CSV dulu."), "error")
        return redirect(url_for("admin_contacts.index"))
    result = contacts_csv.parse(contacts_csv.decode(upload.read()))
    created = updated = 0
    with Contact._meta.database.atomic():
        groups = {g.name: g for g in ContactGroup.select()}
        for line in result.lines:
            contact = Contact.get_or_none(Contact.phone == line.phone)
            if contact is None:
                contact = Contact.create(name=line.name, phone=line.phone, position=line.position)
                created += 1
            else:
                contact.name, contact.position = line.name, line.position
                contact.save()
                updated += 1
            for group_name in line.groups:
                group = groups.get(group_name) or ContactGroup.create(name=group_name)
                groups[group_name] = group
                GroupMember.insert(group=group, contact=contact).on_conflict_ignore().execute()
        audit(
            current_user.login,
            "contact.import",
            None,
            file=upload.filename[:100],
            created=created,
            updated=updated,
            errors=len(result.errors),
        )
    return render_template(
        "admin/contact_import.html", created=created, updated=updated, errors=result.errors, filename=upload.filename
    ), (200 if result.lines or not result.errors else 400)


@bp.get("/export.csv")
@roles_required("admin")
def export_csv():
    """All contacts as CSV (the same columns the import reads)."""
    contacts = list(Contact.select().order_by(Contact.name, Contact.id))
    member_of = _groups_of([c.id for c in contacts])
    text = contacts_csv.export([(c.name, c.phone, c.position, member_of.get(c.id, [])) for c in contacts])
    audit(current_user.login, "contact.export", None, count=len(contacts))
    return Response(
        "\ufeff" + text, mimetype="text/csv", headers={"Content-Disposition": "attachment; filename=kontak.csv"}
    )
