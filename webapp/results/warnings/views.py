"""Warnings pages for managers: open / acknowledged / snoozed / closed, one warning's history,
acknowledge, snooze, wake, close, check now; the rules (thresholds) for administrators."""

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.audit.models import AuditEntry
from webapp.auth.models import User
from webapp.authz import can, get_scoped_or_404, require, scope_clause, scoped
from webapp.core.clock import company_today
from webapp.core.formdata import form_to_dict, translate_errors
from webapp.core.views import is_htmx, load_form
from webapp.extensions import db
from webapp.results.models import WARNING_KINDS, WARNING_LIVE, Warning, WarningRule
from webapp.results.warnings import operations as ops
from webapp.results.warnings.schemas import TABS, SnoozeArgs, WarningListArgs, WarningRuleArgs

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
SETTING_LABELS = {
    "repeat_problem": _l("within this many days"),
    "overdue_rectifications": _l("grace period: overdue by more than this many days"),
}
TAB_LABELS = {"open": _l("Open"), "acknowledged": _l("Acknowledged"), "snoozed": _l("Snoozed"), "closed": _l("Closed")}
HISTORY_LABELS = {
    "warning.raised": _l("Raised"),
    "warning.acknowledged": _l("Acknowledged"),
    "warning.snoozed": _l("Snoozed"),
    "warning.unsnoozed": _l("Snooze ended by hand"),
    "warning.woke": _l("Back from snooze"),
    "warning.closed": _l("Closed"),
    "warning.auto_closed": _l("Closed automatically: the condition no longer holds"),
}


@bp.app_context_processor
def _badge():
    """The number of open warnings that are not snoozed, next to the nav entry (management only)."""
    if current_user and current_user.is_authenticated and can(current_user, "warnings.view"):
        return {"open_warnings_count": ops.open_warning_count()}
    return {}


def subject_links(w: Warning) -> list[tuple[str, str]]:
    """(label, url) of what the warning is about: the findings list filtered to it, or the finding."""
    p = w.params or {}
    if w.kind == "high_severity_open":
        if w.subject_type == "finding":
            return [(_("Open the finding"), url_for("findings.detail", finding_id=w.subject_id))]
        problem = p.get("problem") or {}
        filters = {"site_id": w.subject_id, "min_severity": "high"}
        if problem.get("item_id"):
            filters["item_id"] = problem["item_id"]
        elif problem.get("area"):
            filters["area"] = problem["area"]
        links = [(_("High-severity findings on this problem"), url_for("findings.index", **filters))]
        return links + [(f["title"], url_for("findings.detail", finding_id=f["id"])) for f in p.get("findings", [])[:3]]
    if w.kind == "score_drop":
        links = [(_("Findings at this site"), url_for("findings.index", site_id=w.subject_id))]
        if p.get("visit_id"):
            links.append((_("Latest visit"), url_for("visits.detail", visit_id=p["visit_id"])))
        return links
    if w.kind == "repeat_problem":
        item_id = (p.get("problem") or {}).get("item_id")
        return [(_("Repeat findings on this item"), url_for("findings.index", site_id=w.subject_id, repeat=1,
                                                              **({"item_id": item_id} if item_id else {})))]
    if w.kind == "overdue_rectifications":
        return [(_("Overdue findings of this department"),
                 url_for("findings.index", department_id=w.subject_id, overdue=1))]
    return []


def _tab_clause(tab: str, today):
    if tab == "snoozed":
        return Warning.status.in_(WARNING_LIVE) & Warning.snoozed_until.is_not(None) & (Warning.snoozed_until > today)
    if tab == "closed":
        return Warning.status == "closed"
    return (Warning.status == tab) & ops.not_snoozed(today)


def _people(warnings) -> dict:
    ids = {i for w in warnings for i in (w.acknowledged_by, w.closed_by, w.snoozed_by) if i}
    return {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def _ctx(**extra):
    today = company_today()
    return dict(kinds=KIND_LABELS, tab_labels=TAB_LABELS, render=ops.render_warning, links=subject_links,
                subject=ops.subject_label, snooze_choices=ops.SNOOZE_CHOICES, today=today,
                tomorrow=today + timedelta(days=1), plain=False,
                max_until=today + timedelta(days=ops.SNOOZE_MAX_DAYS), reason_max=ops.REASON_MAX,
                is_snoozed=lambda w: ops.is_snoozed(w, today)) | extra


def _list(tab: str, status: int = 200, errors=None, values=None):
    today = company_today()
    warnings = db.session.scalars(scoped(Warning, current_user).where(_tab_clause(tab, today))
                                  .order_by(Warning.last_seen_on.desc().nulls_last(), Warning.created_at.desc(),
                                            Warning.id).limit(300)).all()
    counts = {t: db.session.scalar(select(func.count()).select_from(Warning).where(
        scope_clause(Warning, current_user), _tab_clause(t, today))) or 0 for t in TABS}
    ctx = _ctx(warnings=warnings, tab=tab, tabs=TABS, counts=counts, people=_people(warnings),
               errors=errors or {}, values=values or {})
    if is_htmx():
        return render_block("results/warnings/index.html", "warning_list", **ctx), status
    return render_template("results/warnings/index.html", **ctx), status


@bp.get("/")
@login_required
def index():
    require(current_user, "warnings.view")
    try:
        args = WarningListArgs().load(form_to_dict(request.args))
    except ValidationError:
        args = {"status": "open"}
    return _list(args["status"])


@bp.get("/<warning_id>")
@login_required
def detail(warning_id):
    """One warning with its history: raised, acknowledged, snoozed (who, when, until, why), closed."""
    require(current_user, "warnings.view")
    warning = get_scoped_or_404(Warning, warning_id, current_user)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "warning",
                                                          AuditEntry.entity_id == warning.id)
                                 .order_by(AuditEntry.id)).all()
    people = _people([warning])
    ids = {e.user_id for e in entries if e.user_id} - set(people)
    if ids:
        people |= {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    tab = "closed" if warning.status == "closed" else (
        "snoozed" if ops.is_snoozed(warning) else warning.status)
    return render_template("results/warnings/detail.html", **_ctx(
        w=warning, entries=entries, people=people, history=HISTORY_LABELS, tab=tab, errors={}, values={},
        plain=True))


@bp.post("/check")
@login_required
def check():
    require(current_user, "warnings.act")
    try:
        result = ops.check_warnings()
        db.session.commit()
    except IntegrityError:
        # XXX: another check (cron or a second click) raised the same warning at the same moment; the
        # partial unique index kept it single. Nothing is lost: that check's result stands.
        db.session.rollback()
        flash(_("Another check was running at the same time; its warnings are shown."), "info")
        return redirect(url_for(".index"), 303)
    flash(_("Check done: %(new)d new warnings, %(updated)d with new occurrences, %(closed)d closed automatically.",
            new=len(result.raised), updated=len(result.updated), closed=len(result.closed)), "info")
    return redirect(url_for(".index"), 303)


def _back(tab, status=200):
    if is_htmx():
        return _list(tab, status)
    return redirect(url_for(".index", status=tab), 303)


def _act(warning_id, action, done):
    require(current_user, "warnings.act")
    warning = get_scoped_or_404(Warning, warning_id, current_user)
    tab = request.form.get("tab") if request.form.get("tab") in TABS else "open"
    try:
        action(warning, current_user)
    except ops.WarningError as e:
        db.session.rollback()
        flash(e.message, "error")
        return _back(tab, e.status)
    db.session.commit()
    flash(done, "info")
    return _back(tab)


@bp.post("/<warning_id>/acknowledge")
@login_required
def acknowledge(warning_id):
    return _act(warning_id, ops.acknowledge_warning, _("The warning was acknowledged."))


@bp.post("/<warning_id>/close")
@login_required
def close(warning_id):
    return _act(warning_id, ops.close_warning, _("The warning was closed."))


@bp.post("/<warning_id>/wake")
@login_required
def wake(warning_id):
    return _act(warning_id, ops.wake_warning, _("The warning is back on the list."))


@bp.post("/<warning_id>/snooze")
@login_required
def snooze(warning_id):
    require(current_user, "warnings.act")
    warning = get_scoped_or_404(Warning, warning_id, current_user)
    tab = request.form.get("tab") if request.form.get("tab") in TABS else "open"
    raw = form_to_dict(request.form)
    data, errors = load_form(SnoozeArgs(), raw)
    if "reason" in getattr(request.form, "dropped", ()):
        errors.setdefault("reason", []).insert(0, _("Remove the control characters from this text."))
    if not errors:
        today = company_today()
        until = today + timedelta(days=data["days"]) if data.get("days") else data["until"]
        try:
            ops.snooze_warning(warning, current_user, until, data["reason"], today)
        except ops.WarningError as e:
            db.session.rollback()
            if e.status == 403:
                abort(403)
            errors = e.fields or {"until": [e.message]}
    if errors:
        errors = translate_errors(errors)
        flash(_("The warning was not snoozed: %(reason)s", reason=" ".join(m for ms in errors.values() for m in ms)),
              "error")
        # the list again (a full page, or its block for htmx) with the reason next to the form
        return _list(tab, 400, {warning.id: errors}, {warning.id: raw})
    db.session.commit()
    flash(_("The warning is snoozed until %(date)s.", date=until.isoformat()), "info")
    return _back(tab)


# ---- rules -------------------------------------------------------------------------------------

def _rules(errors=None, values=None, status=200):
    stored = {}
    for r in db.session.scalars(scoped(WarningRule, current_user).order_by(WarningRule.created_at, WarningRule.id)):
        stored.setdefault(r.kind, r)
    rows = []
    for kind in WARNING_KINDS:
        default, default_settings = ops.DEFAULT_RULES[kind]
        rule = stored.get(kind)
        setting = ops.RULE_SETTINGS.get(kind)
        current = None
        if setting:
            current = ((rule.params or {}) if rule else {}).get(setting[0], default_settings[setting[0]])
        rows.append({"kind": kind, "key": rule.id if rule else kind, "rule": rule, "default": default,
                     "threshold": rule.threshold if rule else default, "active": rule.active if rule else True,
                     "setting": setting, "setting_value": current,
                     "setting_default": default_settings.get(setting[0]) if setting else None})
    return render_template("results/warnings/rules.html", rows=rows, kinds=KIND_LABELS,
                           thresholds=THRESHOLD_LABELS, settings=SETTING_LABELS, errors=errors or {},
                           values=values or {}, num=ops._num,
                           may_edit=can(current_user, "warnings.rules")), status


@bp.get("/rules")
@login_required
def rules():
    require(current_user, "warnings.view")
    return _rules()


@bp.post("/rules/<rule_id>")
@login_required
def update_rule(rule_id):
    """Save a rule; `rule_id` is a stored rule's id, or a kind still running on its default."""
    require(current_user, "warnings.view")
    rule = None if rule_id in WARNING_KINDS else get_scoped_or_404(WarningRule, rule_id, current_user)
    require(current_user, "warnings.rules", rule)
    key = rule.id if rule else rule_id
    raw = form_to_dict(request.form)
    try:
        data = WarningRuleArgs().load(raw)
    except ValidationError as e:
        return _rules({key: translate_errors(e.messages)}, {key: raw}, 400)
    try:
        if rule is None:
            ops.save_default_rule(rule_id, current_user, data["threshold"], data["active"], data["setting"])
        else:
            ops.update_warning_rule(rule, current_user, data["threshold"], data["active"], data["setting"])
    except ops.WarningError as e:
        db.session.rollback()
        return _rules({key: e.fields or {"threshold": [e.message]}}, {key: raw}, e.status)
    db.session.commit()
    flash(_("The warning rule was saved."), "info")
    return redirect(url_for(".rules"), 303)
