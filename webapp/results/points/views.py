"""绩效评估 pages: the ledger (/results/points/), its Excel export, entries with their appeals (申诉),
the appeals desk and the rules (admin)."""

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from webapp.auth.models import User
from webapp.authz import get_scoped_or_404
from webapp.core.clock import company_today
from webapp.core.formdata import form_to_dict, translate_errors
from webapp.core.models import utcnow
from webapp.core.views import render_page
from webapp.extensions import db
from webapp.findings.models import SEVERITIES
from webapp.i18n import current_locale_code
from webapp.org.models import Department
from webapp.results.models import POINT_TRIGGERS, PointAppeal, PointEntry, PointRule
from webapp.results.periods import period_containing
from webapp.results.points import labels
from webapp.results.points import operations as ops
from webapp.results.points.export import points_workbook
from webapp.results.points.schemas import (
    AppealArgs,
    AppealListArgs,
    DecisionArgs,
    LedgerArgs,
    PostArgs,
    RuleArgs,
)

bp = Blueprint("points", __name__, url_prefix="/results/points")
MAX_ROWS = 200  # the page lists the newest; the Excel export has every entry


@bp.app_template_filter("signed_points")
def signed_points(value) -> str:
    return labels.signed(float(value or 0))


@bp.context_processor
def _labels():
    return {"pl": labels, "label": labels.label}


def _errors(e: ValidationError) -> dict:
    """Field → list of messages in the user's language (a lazy message comes back unwrapped)."""
    return {k: v if isinstance(v, list) else [v] for k, v in translate_errors(e.messages).items()}




def _short_dt():
    """Local date and time, formatted cheaply (Babel's formatter per row is the page's main cost)."""
    tz = ops.company_tz()
    return lambda v: v.astimezone(tz).strftime("%Y-%m-%d %H:%M") if v else "—"


def _require(allowed: bool):
    if not allowed:
        abort(403)


def _may_see_ledger(user) -> bool:
    return ops.sees_all(user) or (user.role == "dept_head" and user.department_id is not None)


# ---- the ledger --------------------------------------------------------------------------------

def _ledger_args() -> tuple[dict, dict]:
    """The filters, with the period resolved; a bad value is reported and replaced by the default."""
    errors = {}
    try:
        args = LedgerArgs().load(form_to_dict(request.args))
    except ValidationError as e:
        errors = _errors(e)
        args = {"period": None, "department_id": None, "status": None}
    period = period_containing(company_today(), "quarter")
    if args.get("period"):
        try:
            period = ops.posting_period(args["period"])
        except ops.PointsError as e:
            errors.update(e.fields)
    args["period"] = period
    if args.get("department_id") and db.session.get(Department, args["department_id"]) is None:
        errors["department_id"] = [_("Choose one of the offered options.")]
        args["department_id"] = None
    if not ops.sees_all(current_user):
        args["department_id"] = current_user.department_id
    return args, errors


def _entries(args, limit=MAX_ROWS):
    q = ops.ledger_query(current_user, args["period"].code, args.get("department_id"))
    if args.get("status"):
        q = q.where(PointEntry.status == args["status"])
    q = q.options(selectinload(PointEntry.rule), selectinload(PointEntry.department),
                  selectinload(PointEntry.person), selectinload(PointEntry.finding))
    q = q.order_by(PointEntry.occurred_at.desc(), PointEntry.id.desc())
    return db.session.scalars(q.limit(limit) if limit else q).all()


@bp.get("/")
@login_required
def ledger():
    _require(_may_see_ledger(current_user))
    args, errors = _ledger_args()
    period = args["period"]
    entries = _entries(args, MAX_ROWS + 1)
    ctx = dict(
        args=args, errors=errors, period=period, entries=entries[:MAX_ROWS], more=len(entries) > MAX_ROWS,
        dept_rows=ops.department_totals(current_user, period.code, args.get("department_id")),
        person_rows=ops.person_totals(current_user, period.code, args.get("department_id")),
        periods=[ops.posting_period(c) for c in ops.ledger_periods(company_today())],
        departments=db.session.scalars(select(Department).where(Department.deleted_at.is_(None))
                                       .order_by(Department.code)).all() if ops.sees_all(current_user) else [],
        sees_all=ops.sees_all(current_user), can_post=ops.can_post(current_user),
        pending=db.session.scalar(select(db.func.count()).select_from(
            ops.appeals_query(current_user, "pending").subquery())) or 0,
        locale=current_locale_code(), short_dt=_short_dt(),
    )
    return render_page("results/points/ledger.html", "ledger", 400 if errors else 200, **ctx)


@bp.get("/export.xlsx")
@login_required
def export():
    _require(_may_see_ledger(current_user))
    args, errors = _ledger_args()
    if errors:
        abort(400)
    period = args["period"]
    data = points_workbook(
        period, current_locale_code(), utcnow(),
        ops.department_totals(current_user, period.code, args.get("department_id")),
        ops.person_totals(current_user, period.code, args.get("department_id")),
        _entries(args, limit=None), ops.company_tz(), ranked=ops.sees_all(current_user))
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"points-{period.code}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/post")
@login_required
def post():
    """Recalculate: post the period's ledger (adds what is new, voids entries of deleted findings)."""
    _require(ops.can_post(current_user))
    try:
        period = ops.posting_period(PostArgs().load(form_to_dict(request.form))["period"])
        result = ops.post_points(period, user=current_user)
        db.session.commit()
    except (ValidationError, ops.PointsError):
        db.session.rollback()
        flash(_("Enter a quarter such as 2026-Q4."), "error")
        return redirect(url_for(".ledger"), 303)
    except IntegrityError:
        # Another posting of the same causes committed first; nothing is lost, run it again.
        db.session.rollback()
        flash(_("The ledger was being posted at the same time; try again."), "error")
        return redirect(url_for(".ledger", period=period.code), 303)
    flash(_("Ledger posted for %(period)s: %(added)d new entries, %(voided)d voided.",
            period=period.label(current_locale_code()), added=result.total_added, voided=result.voided), "info")
    return redirect(url_for(".ledger", period=period.code), 303)


# ---- entries and appeals -----------------------------------------------------------------------

def _entry_context(entry, errors=None, form=None):
    appeals = db.session.scalars(select(PointAppeal).where(PointAppeal.entry_id == entry.id)
                                 .order_by(PointAppeal.created_at)).all()
    ids = {a.appellant_id for a in appeals} | {a.decided_by for a in appeals if a.decided_by}
    users = {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    pending = next((a for a in appeals if a.status == "pending"), None)
    return dict(entry=entry, appeals=appeals, users=users, pending=pending, errors=errors or {},
                form=form or {}, can_appeal=ops.can_appeal(current_user, entry),
                can_decide=ops.can_decide_appeals(current_user) and pending is not None,
                locale=current_locale_code())


@bp.get("/entries/<int:entry_id>")
@login_required
def entry(entry_id):
    e = get_scoped_or_404(PointEntry, entry_id, current_user)
    return render_page("results/points/entry.html", "entry", **_entry_context(e))


def _refused(entry, e: ops.PointsError, form):
    db.session.rollback()
    if e.status == 403:
        abort(403)
    entry = db.session.get(PointEntry, entry.id)
    errors = e.fields or {"_schema": [e.message]}
    return render_page("results/points/entry.html", "entry", e.status, **_entry_context(entry, errors, form))


@bp.post("/entries/<int:entry_id>/appeal")
@login_required
def appeal(entry_id):
    e = get_scoped_or_404(PointEntry, entry_id, current_user)
    if current_user.role != "dept_head":
        abort(403)
    try:
        args = AppealArgs().load(form_to_dict(request.form))
        ops.appeal_entry(e, current_user, args["reason"])
    except ValidationError as err:
        return _refused(e, ops.PointsError("", _errors(err)), request.form)
    except ops.PointsError as err:
        return _refused(e, err, request.form)
    db.session.commit()
    flash(_("Your appeal was sent to management."), "info")
    return redirect(url_for(".entry", entry_id=entry_id), 303)


@bp.post("/appeals/<appeal_id>/decide")
@login_required
def decide(appeal_id):
    a = get_scoped_or_404(PointAppeal, appeal_id, current_user)
    _require(ops.can_decide_appeals(current_user))
    try:
        args = DecisionArgs().load(form_to_dict(request.form))
        ops.decide_appeal(a, current_user, args["result"], args["decision_note"])
    except ValidationError as err:
        return _refused(a.entry, ops.PointsError("", _errors(err)), request.form)
    except ops.PointsError as err:
        return _refused(a.entry, err, request.form)
    db.session.commit()
    flash(_("The appeal was decided."), "info")
    return redirect(url_for(".entry", entry_id=a.entry_id), 303)


@bp.get("/appeals/")
@login_required
def appeals():
    _require(_may_see_ledger(current_user))
    try:
        args = AppealListArgs().load(form_to_dict(request.args))
        status = 200
    except ValidationError:
        args, status = {"status": None}, 400
    rows = db.session.scalars(ops.appeals_query(current_user, args["status"]).options(
        selectinload(PointAppeal.entry).selectinload(PointEntry.finding),
        selectinload(PointAppeal.entry).selectinload(PointEntry.department),
        selectinload(PointAppeal.entry).selectinload(PointEntry.rule)).limit(300)).all()
    ids = {a.appellant_id for a in rows}
    users = {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return render_page("results/points/appeals.html", "appeals", status, appeals=rows, users=users, args=args,
                 can_decide=ops.can_decide_appeals(current_user), locale=current_locale_code())


# ---- rules (admin) -----------------------------------------------------------------------------

def _rule_choices() -> dict:
    return {"triggers": POINT_TRIGGERS, "severities": SEVERITIES, "targets": ops.TARGETS}


@bp.get("/rules/")
@login_required
def rules():
    _require(ops.can_see_rules(current_user))
    rows = db.session.scalars(select(PointRule).order_by(PointRule.active.desc(), PointRule.trigger,
                                                         PointRule.code)).all()
    return render_page("results/points/rules.html", "rules", rules=rows, can_edit=ops.can_manage_rules(current_user))


def _rule_values(rule: PointRule | None) -> dict:
    if rule is None:
        return {"trigger": "finding_severity", "applies_to": "department", "active": True}
    return {"code": rule.code, "name": rule.name, "trigger": rule.trigger, "severity": rule.severity,
            "points": f"{rule.points:g}", "applies_to": rule.applies_to, "active": rule.active}


def _save_rule(rule: PointRule | None):
    raw = form_to_dict(request.form)
    try:
        data = RuleArgs().load(raw)
        rule = ops.create_rule(current_user, data) if rule is None else ops.update_rule(current_user, rule, data)
    except ValidationError as e:
        errors = _errors(e)
    except ops.PointsError as e:
        db.session.rollback()
        if e.status == 403:
            abort(403)
        errors = e.fields or {"_schema": [e.message]}
    else:
        db.session.commit()
        flash(_("The rule was saved. It applies to entries posted from now on."), "info")
        return redirect(url_for(".rules"), 303)
    values = {**raw, "active": raw.get("active") in ("1", "on", "true", "y")}
    return render_template("results/points/rule_form.html", rule=rule, values=values, errors=errors,
                           **_rule_choices()), 400


@bp.route("/rules/new", methods=["GET", "POST"])
@login_required
def new_rule():
    _require(ops.can_manage_rules(current_user))
    if request.method == "POST":
        return _save_rule(None)
    return render_template("results/points/rule_form.html", rule=None, values=_rule_values(None), errors={},
                           **_rule_choices())


@bp.route("/rules/<rule_id>", methods=["GET", "POST"])
@login_required
def edit_rule(rule_id):
    _require(ops.can_manage_rules(current_user))
    rule = db.session.get(PointRule, rule_id) or abort(404)
    if request.method == "POST":
        return _save_rule(rule)
    return render_template("results/points/rule_form.html", rule=rule, values=_rule_values(rule), errors={},
                           **_rule_choices())


@bp.post("/rules/<rule_id>/active")
@login_required
def toggle_rule(rule_id):
    _require(ops.can_manage_rules(current_user))
    rule = db.session.get(PointRule, rule_id) or abort(404)
    ops.set_rule_active(current_user, rule, request.form.get("active") == "1")
    db.session.commit()
    flash(_("The rule was activated.") if rule.active else _("The rule was deactivated."), "info")
    return redirect(url_for(".rules"), 303)
