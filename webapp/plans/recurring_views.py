"""Recurring visits pages (例行巡店): visit frequency by site class, generating a month's visits
with a preview of each supervisor's load, and the missed visits (应巡未巡) of a period with its
Excel export."""

import io
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.authz import can
from webapp.checklists.models import ChecklistTemplate
from webapp.core.clock import company_today
from webapp.core.clock import company_tz_name as _tz
from webapp.core.exports import safe_row
from webapp.core.formdata import form_to_dict, refusal_errors
from webapp.core.views import load_form, render_page
from webapp.extensions import db
from webapp.i18n import current_locale_code
from webapp.org.models import SITE_CLASSES, Department, Site
from webapp.plans import recurring as ops
from webapp.plans.models import RECURRENCE_INTERVALS
from webapp.plans.operations import PlanError
from webapp.plans.recurrence import add_months
from webapp.plans.schemas import GenerationArgs, MissedArgs, RecurrenceRuleArgs, RuleDeleteArgs
from webapp.results.periods import parse_period, period_containing, recent_periods

bp = Blueprint("recurring", __name__, url_prefix="/plans/recurring")

INTERVAL_LABELS = {1: _l("Monthly"), 2: _l("Every two months"), 3: _l("Quarterly"), 6: _l("Half-yearly"),
                   12: _l("Yearly")}


@bp.before_request
@login_required
def _management_only():
    if not can(current_user, "plans.missed"):
        abort(403)


def _require_manager():
    if not can(current_user, "plans.recurrence"):
        abort(403)


def _departments() -> list[Department]:
    return list(db.session.scalars(select(Department).where(Department.deleted_at.is_(None),
                                                            Department.archived_at.is_(None)).order_by(Department.code)))


def _classes() -> list[str]:
    used = db.session.scalars(select(Site.site_class).where(Site.site_class.is_not(None)).distinct()).all()
    return list(SITE_CLASSES) + sorted(c for c in used if c not in SITE_CLASSES)


def _months(today: date) -> list[date]:
    first = today.replace(day=1)
    return [add_months(first, n) for n in range(ops.MONTHS_AHEAD + 1)]


def _context(**extra) -> dict:
    today = company_today()
    ctx = {
        "rules": ops.rules(), "departments": _departments(), "classes": _classes(),
        "templates": list(db.session.scalars(select(ChecklistTemplate).where(
            ChecklistTemplate.is_current.is_(True), ChecklistTemplate.deleted_at.is_(None))
            .order_by(ChecklistTemplate.code))),
        "intervals": [(n, INTERVAL_LABELS[n]) for n in RECURRENCE_INTERVALS], "interval_labels": INTERVAL_LABELS,
        "months": _months(today), "today": today, "locale": current_locale_code(),
        "can_manage": can(current_user, "plans.recurrence"),
        "rule_errors": {}, "rule_values": {}, "gen_errors": {}, "gen_values": {"month": _months(today)[1]},
        "generation": None,
    }
    ctx.update(extra)
    return ctx


@bp.get("/")
def index():
    return render_template("plans/recurring.html", **_context())


@bp.post("/rules")
def save_rule():
    _require_manager()
    raw = form_to_dict(request.form)
    data, errors = load_form(RecurrenceRuleArgs(), raw)
    if data is not None and data["site_class"] not in _classes():
        errors = {"site_class": [_("Choose a site class.")]}
        data = None
    if data is not None:
        try:
            ops.save_rule(current_user, data)
        except PlanError as e:
            errors = refusal_errors(e)
        else:
            db.session.commit()
            flash(_("The visit frequency was saved."), "info")
            return redirect(url_for("recurring.index"))
    return render_template("plans/recurring.html", **_context(rule_errors=errors, rule_values=raw)), 400


@bp.post("/rules/delete")
def delete_rule():
    _require_manager()
    data, errors = load_form(RuleDeleteArgs(), form_to_dict(request.form))
    if data is None:
        return render_template("plans/recurring.html", **_context(rule_errors=errors)), 400
    try:
        ops.delete_rule(current_user, data["rule_id"])
    except PlanError as e:
        db.session.rollback()
        abort(e.status)
    db.session.commit()
    flash(_("The visit frequency was removed."), "info")
    return redirect(url_for("recurring.index"))


def _generation_args(source):
    raw = form_to_dict(source)
    data, errors = load_form(GenerationArgs(), raw)
    if data is not None and data.get("department_id") and data["department_id"] not in {d.id for d in _departments()}:
        data, errors = None, {"department": [_("This department does not exist.")]}
    return raw, data, errors


@bp.get("/preview")
def preview():
    """What generating the month would create, and each supervisor's load: nothing is written."""
    _require_manager()
    raw, data, errors = _generation_args(request.args)
    generation = None
    if data is not None:
        try:
            generation = ops.plan_generation(data["month"], company_today(), data.get("department_id"))
        except PlanError as e:
            errors = e.fields or {"_schema": [e.message]}
    status = 400 if errors else 200
    return render_page("plans/recurring.html", "generation", status=status, **_context(
        generation=generation, gen_errors=errors, gen_values={**raw, "month": data["month"] if data else None}))


@bp.post("/generate")
def generate():
    _require_manager()
    raw, data, errors = _generation_args(request.form)
    if data is not None:
        try:
            result = ops.generate_visits(current_user, data["month"], company_today(), data.get("department_id"))
            db.session.commit()
        except PlanError as e:
            errors = refusal_errors(e)
        except IntegrityError:
            db.session.rollback()  # a generation for the same month ran at the same moment
            errors = {"_schema": [_("Visits for this month were being generated at the same moment; "
                                    "preview again to see what is still missing.")]}
        else:
            flash(_("%(n)s visits were generated; they reach the supervisors' phones at their next sync.",
                    n=len(result.proposals)) if result.proposals
                  else _("Nothing to generate: every due site already has a visit in its cycle."), "info")
            return redirect(url_for("plans.calendar", date=data["month"].isoformat()))
    return render_template("plans/recurring.html", **_context(gen_errors=errors, gen_values=raw)), 400


# ---- missed visits -----------------------------------------------------------------------------

def _missed_query():
    raw = form_to_dict(request.args)
    args, errors = load_form(MissedArgs(), raw)
    args = args or {}
    today = company_today()
    period = None
    if args.get("period"):
        try:
            period = parse_period(args["period"])
        except ValueError:
            errors = {**errors, "period": [_("Choose a period from the list.")]}
    if period is None:
        period = period_containing(today, "month").previous()
    departments = _departments()
    if args.get("department_id") and args["department_id"] not in {d.id for d in departments}:
        errors = {**errors, "department": [_("This department does not exist.")]}
    supervisors = ops.active_supervisors()
    if args.get("supervisor_id") and args["supervisor_id"] not in {u.id for u in supervisors}:
        errors = {**errors, "supervisor": [_("Choose a supervisor from the list.")]}
    rows = [] if errors else ops.missed_visits(period, today, _tz(), args.get("department_id"),
                                              args.get("supervisor_id"))
    periods = {kind: list(reversed(recent_periods(today, kind, count)))
               for kind, count in (("month", 12), ("quarter", 6), ("year", 3))}
    return {"rows": rows, "period": period, "periods": periods, "args": args, "raw": raw, "errors": errors,
            "departments": departments, "supervisors": supervisors,
            "names": {u.id: u.display_name for u in supervisors}, "today": today,
            "locale": current_locale_code(), "interval_labels": INTERVAL_LABELS}


@bp.get("/missed")
def missed():
    ctx = _missed_query()
    return render_page("plans/missed.html", "missed", status=400 if ctx["errors"] else 200, **ctx)


@bp.get("/missed.xlsx")
def missed_export():
    ctx = _missed_query()
    if ctx["errors"]:
        return render_page("plans/missed.html", "missed", status=400, **ctx)
    loc = ctx["locale"]
    wb = Workbook()
    ws = wb.active
    ws.title = _("Missed visits")
    ws.append(safe_row(ws, [_("Missed visits"), ctx["period"].label(loc)]))
    ws["A1"].font = Font(bold=True)
    ws.append([])
    headers = [_("Site"), _("Department"), _("Site class"), _("Frequency"), _("Cycle"), _("Due by"),
               _("Status"), _("Assigned supervisors")]
    ws.append(safe_row(ws, headers))
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for r in ctx["rows"]:
        ws.append(safe_row(ws, [
            r.site.label(loc), r.site.department.label(loc) if r.site.department else "", r.site.site_class,
            str(INTERVAL_LABELS.get(r.rule.interval_months, "")),
            f"{r.cycle.start.isoformat()} – {r.cycle.end.isoformat()}", r.cycle.end,
            _("Missed") if r.ended else _("Still due"),
            "、".join(ctx["names"].get(s, "") for s in r.supervisor_ids) or _("Not scheduled")]))
    for col, width in zip("ABCDEFGH", (24, 20, 10, 12, 26, 12, 10, 24), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    name = f"missed-visits-{ctx['period'].code}.xlsx"
    return send_file(buf, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     as_attachment=True, download_name=name, max_age=0)
