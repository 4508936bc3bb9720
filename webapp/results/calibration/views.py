"""校准 Calibration: management schedules blind double inspections and reads the agreement between
inspectors, per pair and per checklist item."""

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from webapp.authz import EVERYTHING, can
from webapp.core.clock import company_tz_name
from webapp.core.formdata import form_to_dict, refusal_errors
from webapp.core.models import utcnow
from webapp.core.views import load_form, render_page
from webapp.extensions import db
from webapp.i18n import current_locale_code
from webapp.plans.recurring import active_supervisors
from webapp.results.calibration import operations as ops
from webapp.results.calibration.schemas import CalibrationArgs, CalibrationFilterArgs
from webapp.results.periods import local_date, parse_period, period_containing, recent_periods

bp = Blueprint("calibration", __name__, url_prefix="/results/calibration")


@bp.before_request
@login_required
def _managers_only():
    if current_user.role not in EVERYTHING:
        abort(404)  # like every results page: the management area hides itself


def _context(**extra) -> dict:
    tz = company_tz_name()
    today = local_date(utcnow(), tz)
    args, errors = load_form(CalibrationFilterArgs(), form_to_dict(request.args))
    args = args or {}
    period = None
    if args.get("period"):
        try:
            period = parse_period(args["period"])
        except ValueError:
            errors = {**errors, "period": [_("Choose a period from the list.")]}
    period = period or period_containing(today, "quarter")
    supervisors = active_supervisors()
    sup = args.get("supervisor_id") if args.get("supervisor_id") in {u.id for u in supervisors} else None
    results = ops.pair_results(sup)
    ctx = {
        "results": results, "supervisors": supervisors, "visits": ops.calibratable_visits(),
        "lowest": ops.lowest_agreement_items(period, tz), "period": period,
        "periods": list(reversed(recent_periods(today, "quarter", 6))) + list(reversed(recent_periods(today, "month", 6))),
        "filter_supervisor": sup, "filter_errors": errors, "today": today, "locale": current_locale_code(),
        "can_schedule": can(current_user, "calibration.schedule"), "errors": {},
        "values": {"scheduled_for": today.isoformat(), "due_by": (today + timedelta(days=7)).isoformat(),
                   "sample_size": ops.DEFAULT_SAMPLE},
    }
    ctx.update(extra)
    return ctx


@bp.get("/")
def index():
    ctx = _context()
    return render_page("results/calibration/index.html", "pairs", status=400 if ctx["filter_errors"] else 200, **ctx)


@bp.post("/")
def schedule():
    if not can(current_user, "calibration.schedule"):
        abort(403)
    raw = form_to_dict(request.form)
    data, errors = load_form(CalibrationArgs(), raw)
    if data is not None:
        try:
            ops.schedule_calibration(current_user, data)
        except ops.CalibrationError as e:
            errors = refusal_errors(e)
        else:
            db.session.commit()
            flash(_("The calibration inspection was scheduled: the second supervisor sees it at their next sync, "
                    "without the first inspector's answers."), "info")
            return redirect(url_for("calibration.index"))
    return render_template("results/calibration/index.html", **_context(errors=errors, values=raw)), 400
