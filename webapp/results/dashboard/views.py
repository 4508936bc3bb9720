"""决策支持: the managers' decision dashboard. One URL serves the page or, for htmx, the dashboard
block; every figure links to the findings list filtered to exactly the records it counts. The
figures come from a snapshot counted ahead (snapshots.py), shown with the time they were counted."""

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from marshmallow import ValidationError

from webapp.authz import EVERYTHING
from webapp.core.clock import company_tz_name
from webapp.core.database import write_retrying
from webapp.core.formdata import form_to_dict, translate_errors
from webapp.core.models import utcnow
from webapp.i18n import current_locale_code
from webapp.jobs import ask_queue
from webapp.results.calibration.operations import lowest_agreement_items
from webapp.results.dashboard.operations import DashboardError, period_options, reference
from webapp.results.dashboard.schemas import DashboardArgs
from webapp.results.dashboard.snapshots import note_served, read_dashboard
from webapp.results.periods import local_date, parse_period, period_containing

bp = Blueprint("results", __name__, url_prefix="/results")


@bp.before_request
@login_required
def _managers_only():
    # A page for a role, not a record: 403 (docs/security.md, "Denials").
    if current_user.role not in EVERYTHING:
        abort(403)


@bp.get("/")
def dashboard():
    tz = company_tz_name()
    today = local_date(utcnow(), tz)
    ref = reference()
    raw = form_to_dict(request.args)
    errors, data = {}, None
    try:
        args = DashboardArgs().load(raw)
    except ValidationError as e:
        args, errors = {}, translate_errors(e.messages)
    period = parse_period(args["period"]) if args.get("period") else period_containing(today, "quarter")
    if args.get("department_id") and args["department_id"] not in {d.id for d in ref["departments"]}:
        errors["department_id"] = [_("This department does not exist.")]
    if args.get("site_id") and args["site_id"] not in {s.id for s in ref["sites"]}:
        errors["site_id"] = [_("This site does not exist.")]
    served = None
    if not errors:
        try:
            served = read_dashboard(period, args.get("department_id"), args.get("site_id"), today, tz)
        except DashboardError:
            errors["period"] = [_("This period has not started yet; choose one up to today.")]
        else:
            data = served.data
            if served.writes:
                write_retrying(lambda: note_served(served))
            if served.ask:
                ask_queue(current_app._get_current_object(), "dashboard_recount", served.key)
    locale = current_locale_code()
    from webapp.findings.review import awaiting_review_count

    calibration = lowest_agreement_items(period, tz) if data is not None else []
    site_by_id = {s.id: s for s in ref["sites"]}
    ctx = dict(served=served, awaiting_review=awaiting_review_count(current_user), data=data, calibration=calibration, errors=errors,
               raw=raw, period=period, today=today, locale=locale,
               options=period_options(today, period), **ref,
               base_filters={k: args[k] for k in ("department_id", "site_id") if args.get(k) and not errors},
               dept_by_id={d.id: d for d in ref["departments"]}, site_by_id=site_by_id,
               top_sites=[site_by_id[s] for s in data["top_sites"] if s in site_by_id] if data else [],
               item_title=lambda item: item.title_en if locale == "en" and item.title_en else item.title)
    status = 400 if errors else 200
    if request.headers.get("HX-Request"):
        response = current_app.make_response((render_block("results/dashboard/index.html", "dashboard", **ctx), status))
    else:
        response = current_app.make_response((render_template("results/dashboard/index.html", **ctx), status))
    response.vary.add("HX-Request")
    return response
