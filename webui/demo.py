"""Demo mode ([web] demo = yes): type a citizen's SMS and it arrives at the simulated modem.

The daemon receives it like any SMS, stores it, routes it by keyword, and it
shows up in the owner's inbox; nothing here writes the message to the
database itself.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from modemd.sms import phone
from modemd.store.models import audit

from . import modemd_config
from .auth import roles_required

log = logging.getLogger("modemd.web")
bp = Blueprint("demo", __name__, url_prefix="/demo")
MAX_TEXT = 1600
SENDER = re.compile(r"^\+?[0-9A-Za-z]{1,20}$")


def _sim_modems() -> dict:
    config = modemd_config()
    if not config.web.demo:
        abort(404)
    return {name: m for name, m in config.modems.items() if m.driver == "sim" and m.enabled}


@bp.route("/", methods=["GET", "POST"])
@roles_required("admin", "approver")
def index():
    """Inject a citizen's SMS into a simulated modem."""
    modems = _sim_modems()
    form = request.form if request.method == "POST" else {"sender": "081234567890", "text": "INFO "}
    if request.method == "POST":
        name = form.get("modem", "")
        sender = form.get("sender", "").strip()
        text = form.get("text", "")
        problems = []
        if name not in modems:
            problems.append(_("Pilih modem simulasi."))
        if not SENDER.match(sender):
            problems.append(
                _("Pengirim: nomor telepon, kode pendek atau nama (tanpa spasi, paling banyak 20 karakter).")
            )
        if not text.strip() or len(text) > MAX_TEXT:
            problems.append(_("Teks SMS wajib diisi (paling banyak %(n)d karakter).", n=MAX_TEXT))
        if not problems:
            from modemd.drivers import inject_simulated

            inject_simulated(modems[name].settings, sender, text)
            audit(current_user.login, "demo.inject", None, modem=name, sender=sender)
            log.info("demo: injected an SMS from %s into %s", phone.for_log(sender), name)
            flash(
                _(
                    "SMS dikirim ke modem simulasi %(name)s. Layanan SMS akan menerimanya dalam beberapa detik.",
                    name=name,
                ),
                "info",
            )
            return redirect(url_for("demo.index"))
        for problem in problems:
            flash(problem, "error")
        return render_template("demo.html", modems=modems, form=form), 400
    return render_template("demo.html", modems=modems, form=form)
