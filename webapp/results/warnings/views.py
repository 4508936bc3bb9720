"""Warnings page for managers: open / acknowledged / closed, acknowledge and close, check now, rules."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.auth.models import User
from webapp.authz import get_scoped_or_404, scope_clause, scoped
from webapp.core.formdata import form_to_dict, translate_errors
from webapp.core.views import is_htmx
from webapp.extensions import db
from webapp.results.models import Warning, WarningRule
from webapp.results.warnings import operations as ops
from webapp.results.warnings.schemas import TABS, WarningListArgs, WarningRuleArgs

bp = Blueprint("warnings", __name__, url_prefix="/results/warnings")

KIND_LABELS = {
    "high_severity_open": _l("High-severity finding open too long"),
    "score_drop": _l("Checklist score fell"),
    "repeat_problem": _l("Repeat problems"),
    "overdue_rectifications": _l("Overdue rectifications"),
}
THRESHOLD_LABELS = {
    "high_severity_open": _l("days open (more than)"),
    "score_drop": _l("points fallen (more than)"),
    "repeat_problem": _l("findings in a repeat chain (at least)"),
    "overdue_rectifications": _l("overdue rectifications per department (at least)"),
}
TAB_LABELS = {"open": _l("Open"), "acknowledged": _l("Acknowledged"), "closed": _l("Closed")}


@bp.app_context_processor
def _badge():
    """The number of open warnings, next to the nav entry (managers and admins only)."""
    if current_user and current_user.is_authenticated and current_user.role in ops.MANAGERS:
        return {"open_warnings_count": ops.open_warning_count()}
    return {}



def _require_manager():
    if current_user.role not in ops.MANAGERS:
        abort(403)


def subject_links(w: Warning) -> list[tuple[str, str]]:
    """(label, url) of what the warning is about: the finding, or the filtered findings list."""
    p = w.params or {}
    if w.kind == "high_severity_open":
        return [(_("Open the finding"), url_for("findings.detail", finding_id=w.subject_id))]
    if w.kind == "score_drop":
        links = [(_("Findings at this site"), url_for("findings.index", site_id=w.subject_id))]
        if p.get("visit_id"):
            links.append((_("Latest visit"), url_for("visits.detail", visit_id=p["visit_id"])))
        return links
    if w.kind == "repeat_problem":
        links = [(_("Repeat findings at this site"), url_for("findings.index", site_id=w.subject_id, repeat=1))]
        for item in p.get("items", []):
            links.append((item["code"], url_for("findings.index", site_id=w.subject_id, item_id=item["id"])))
        return links
    if w.kind == "overdue_rectifications":
        return [(_("Overdue findings of this department"),
                 url_for("findings.index", department_id=w.subject_id, overdue=1))]
    return []


def _list(tab: str, status: int = 200):
    warnings = db.session.scalars(scoped(Warning, current_user).where(Warning.status == tab)
                                  .order_by(Warning.created_at.desc(), Warning.id).limit(300)).all()
    counts = dict(db.session.execute(select(Warning.status, func.count()).where(scope_clause(Warning, current_user))
                                     .group_by(Warning.status)).all())
    people = {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(
        {w.acknowledged_by for w in warnings} | {w.closed_by for w in warnings})))} if warnings else {}
    ctx = dict(warnings=warnings, tab=tab, tabs=TABS, counts=counts, people=people, kinds=KIND_LABELS,
               tab_labels=TAB_LABELS, render=ops.render_warning, links=subject_links)
    if is_htmx():
        return render_block("results/warnings/index.html", "warning_list", **ctx), status
    return render_template("results/warnings/index.html", **ctx), status


@bp.get("/")
@login_required
def index():
    _require_manager()
    try:
        args = WarningListArgs().load(form_to_dict(request.args))
    except ValidationError:
        args = {"status": "open"}
    return _list(args["status"])


@bp.post("/check")
@login_required
def check():
    _require_manager()
    try:
        result = ops.check_warnings()
        db.session.commit()
    except IntegrityError:
        # XXX: another check (cron or a second click) raised the same warning at the same moment; the
        # partial unique index kept it single. Nothing is lost: that check's result stands.
        db.session.rollback()
        flash(_("Another check was running at the same time; its warnings are shown."), "info")
        return redirect(url_for(".index"), 303)
    flash(_("Check done: %(new)d new warnings, %(closed)d closed automatically.",
            new=len(result.raised), closed=len(result.closed)), "info")
    return redirect(url_for(".index"), 303)


def _act(warning_id, action, done):
    _require_manager()
    warning = get_scoped_or_404(Warning, warning_id, current_user)
    tab = request.form.get("tab") if request.form.get("tab") in TABS else warning.status
    try:
        action(warning, current_user)
    except ops.WarningError as e:
        db.session.rollback()
        if is_htmx():
            flash(e.message, "error")
            return _list(tab, e.status)
        flash(e.message, "error")
        return redirect(url_for(".index", status=tab), 303)
    db.session.commit()
    flash(done, "info")
    if is_htmx():
        return _list(tab)
    return redirect(url_for(".index", status=tab), 303)


@bp.post("/<warning_id>/acknowledge")
@login_required
def acknowledge(warning_id):
    return _act(warning_id, ops.acknowledge_warning, _("The warning was acknowledged."))


@bp.post("/<warning_id>/close")
@login_required
def close(warning_id):
    return _act(warning_id, ops.close_warning, _("The warning was closed."))


# ---- rules -------------------------------------------------------------------------------------

def _rules(errors=None, values=None, status=200):
    rules = db.session.scalars(scoped(WarningRule, current_user).order_by(WarningRule.kind)).all()
    return render_template("results/warnings/rules.html", rules=rules, kinds=KIND_LABELS,
                           thresholds=THRESHOLD_LABELS, errors=errors or {}, values=values or {},
                           num=ops._num), status


@bp.get("/rules")
@login_required
def rules():
    _require_manager()
    return _rules()


@bp.post("/rules/<rule_id>")
@login_required
def update_rule(rule_id):
    _require_manager()
    rule = get_scoped_or_404(WarningRule, rule_id, current_user)
    if current_user.role != "admin":
        abort(403)
    raw = form_to_dict(request.form)
    try:
        data = WarningRuleArgs().load(raw)
    except ValidationError as e:
        return _rules({rule.id: translate_errors(e.messages)}, {rule.id: raw}, 400)
    try:
        ops.update_warning_rule(rule, current_user, data["threshold"], data["active"])
    except ops.WarningError as e:
        db.session.rollback()
        return _rules({rule.id: e.fields or {"threshold": [e.message]}}, {rule.id: raw}, e.status)
    db.session.commit()
    flash(_("The warning rule was saved."), "info")
    return redirect(url_for(".rules"), 303)
