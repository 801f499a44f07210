"""Templates: named texts for recurring broadcasts, to start a draft from."""

from __future__ import annotations

from modemd.store.models import Template, User, audit, database_proxy

from .rules import BroadcastError


def save_template(name: str, text: str, actor: User) -> Template:
    """Create or replace a template for recurring messages."""
    name = name.strip()
    if not name or len(name) > 64:
        raise BroadcastError("a template needs a name of at most 64 characters", code="template_name")
    if not text or not text.strip():
        raise BroadcastError("the template text is empty", code="empty")
    with database_proxy.atomic():
        template = Template.get_or_none(Template.name == name)
        if template is None:
            template = Template.create(name=name, text=text)
        else:
            template.text = text
            template.save()
        audit(actor.login, "template.save", template)
    return template


def delete_template(template: Template, actor: User) -> None:
    with database_proxy.atomic():
        audit(actor.login, "template.delete", template, name=template.name)
        template.delete_instance()
