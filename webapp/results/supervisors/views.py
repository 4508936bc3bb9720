"""Supervisor management pages (督导人员管理): the list and ranking, a supervisor's profile with the
period scorecard, the profile editor (managers/admins) and the department head's visit rating."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from webapp.auth.models import User
from webapp.authz import get_scoped_or_404
from webapp.core.clock import company_today
from webapp.core.formdata import form_to_dict, translate_errors
from webapp.core.views import render_page
from webapp.extensions import db
from webapp.i18n import current_locale_code
from webapp.results.models import SupervisorProfile
from webapp.results.periods import Period, parse_period, period_containing, recent_periods
from webapp.results.supervisors import operations as ops
from webapp.results.supervisors.schemas import SELECTION_SOURCES, PeriodArgs, ProfileArgs, RatingArgs
from webapp.results.supervisors.scorecard import WEIGHTS, rank, trends
from webapp.visits.models import Visit

bp = Blueprint("supervisors", __name__, url_prefix="/results/supervisors")

SOURCE_LABELS = {"internal": _l("Internal selection"), "external": _l("External recruitment")}
COMPONENT_LABELS = {
    "completion": _l("Plan completion rate"),
    "resolution": _l("Resolution rate"),
    "first_round": _l("First-round acceptance rate"),
    "recurrence": _l("(1 − recurrence rate)"),
    "satisfaction": _l("(satisfaction ÷ 5)"),
}
TRAINING_FIELDS = ("date", "topic", "hours", "certificate")
RECOGNITION_FIELDS = ("date", "title")
BLANK_ROWS = 1  # empty rows offered under the filled ones




def _period() -> tuple[Period, dict]:
    """The period asked for (?period=2026-Q4 | 2026-11 | 2026), else the current quarter."""
    raw = form_to_dict(request.args)
    try:
        args = PeriodArgs().load({k: v for k, v in raw.items() if k == "period"})
    except ValidationError as e:
        return period_containing(company_today()), translate_errors(e.messages)
    if args.get("period"):
        return parse_period(args["period"]), {}
    return period_containing(company_today()), {}


def _period_choices(current: Period) -> list[Period]:
    """Recent quarters, then recent months, then the year — newest first — plus the one shown."""
    today = company_today()
    choices = [*reversed(recent_periods(today, "quarter", 6)), *reversed(recent_periods(today, "month", 3)),
               period_containing(today, "year")]
    return choices if current in choices else [current, *choices]


def _supervisor_or_404(user_id: str) -> User:
    """A supervisor the viewer may see; anyone else (or a guessed id) is a 404."""
    supervisor = db.session.get(User, user_id)
    if supervisor is None or not ops.is_supervisor(supervisor) or \
            not ops.can_view_supervisor(current_user, supervisor):
        raise NotFound()
    return supervisor


def _findings_link(supervisor_id: str, period: Period, **extra) -> str:
    return url_for("findings.index", supervisor_id=supervisor_id, date_from=period.start.isoformat(),
                   date_to=(period.end - timedelta(days=1)).isoformat(), **extra)


# ---- the list and ranking ----------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    if current_user.role == "supervisor":
        return redirect(url_for(".detail", user_id=current_user.id, **request.args))
    if not ops.can_manage(current_user):
        abort(403)  # a page for a role, not a record (docs/security.md, "Denials")
    period, errors = _period()
    people = ops.supervisors()
    profiles = ops.profiles_by_user(current_user, [u.id for u in people])
    today = company_today()
    ids = [u.id for u in people]
    cards = ops.scorecards_for(current_user, ids, period, today)
    previous = ops.scorecards_for(current_user, ids, period.previous(), today)
    by_id = {u.id: u for u in people}
    ranking = [(by_id[uid], card, trends(card, previous[uid])) for uid, card in rank(cards)]
    return render_page("results/supervisors/index.html", "ranking", ranking=ranking, profiles=profiles,
                 period=period, periods=_period_choices(period), errors=errors,
                 source_labels=SOURCE_LABELS, locale=current_locale_code(), findings_link=_findings_link,
                 weights=[(COMPONENT_LABELS[k], w) for k, w in WEIGHTS.items()])


# ---- profile and scorecard ---------------------------------------------------------------------

def _figure_rows(supervisor: User, card, trend: dict, period: Period) -> list[dict]:
    """Each figure with its formula (numbers filled in) and a link to its records."""
    sid = supervisor.id
    c, r, f, rec = card.completion, card.resolution, card.first_round_rate, card.recurrence
    return [
        {"key": "completion", "label": COMPONENT_LABELS["completion"], "value": c.value, "kind": "rate",
         "formula": _("completed planned visits ÷ visits planned in the period = %(done)s ÷ %(planned)s",
                      done=c.numerator, planned=c.denominator),
         "link": "#planned-visits", "link_label": _("Planned visits")},
        {"key": "found", "label": _("Problems found"), "value": len(card.found), "kind": "count",
         "formula": _("findings captured by the supervisor in the period"),
         "link": _findings_link(sid, period), "link_label": _("Open the findings")},
        {"key": "resolved", "label": _("Problems resolved"), "value": len(card.resolved), "kind": "count",
         "formula": _("of the problems found, those now closed"),
         "link": _findings_link(sid, period, status="closed"), "link_label": _("Open the closed findings")},
        {"key": "resolution", "label": _("Resolution rate"), "value": r.value, "kind": "rate",
         "formula": _("problems resolved ÷ problems found = %(n)s ÷ %(d)s", n=r.numerator, d=r.denominator),
         "link": _findings_link(sid, period, status="closed"), "link_label": _("Open the closed findings")},
        {"key": "first_round", "label": _("First-round acceptance rate"), "value": f.value, "kind": "rate",
         "formula": _("rectifications of the supervisor's findings accepted in the period on the first round "
                      "÷ accepted in the period = %(n)s ÷ %(d)s", n=f.numerator, d=f.denominator),
         "link": "#acceptances", "link_label": _("Accepted rectifications")},
        {"key": "recurrence", "label": _("Recurrence rate"), "value": rec.value, "kind": "rate",
         "formula": _("repeat problems (same site and checklist item within a year) among the problems found "
                      "÷ problems found = %(n)s ÷ %(d)s", n=rec.numerator, d=rec.denominator),
         "link": _findings_link(sid, period, repeat=1), "link_label": _("Open the repeat problems")},
        {"key": "satisfaction", "label": _("Satisfaction"), "value": card.satisfaction, "kind": "mean",
         "formula": _("mean of the 1–5 ratings department heads gave the supervisor's visits completed in the "
                      "period = %(sum)s ÷ %(n)s ratings", sum=sum(x.score for x in card.ratings),
                      n=len(card.ratings)),
         "link": "#ratings", "link_label": _("Ratings and teamwork notes")},
        {"key": "agreement", "label": _("Agreement with peers"), "value": card.agreement.rate, "kind": "rate",
         "formula": _("checklist items judged the same as a peer in blind double inspections completed in the "
                      "period ÷ items both judged = %(n)s ÷ %(d)s (calibration inspections: %(pairs)s)",
                      n=card.agreement.agreed, d=card.agreement.compared, pairs=card.agreement.pairs),
         "link": _calibration_link(supervisor), "link_label": _("Calibration")},
    ]


def _calibration_link(supervisor: User) -> str:
    if current_user.role in ("manager", "admin"):
        return url_for("calibration.index", supervisor=supervisor.id)
    return "#scorecard"


def _overall_rows(card) -> tuple[float | None, list[dict]]:
    components = card.components()
    score, used = card.overall()
    rows = [{"key": k, "label": COMPONENT_LABELS[k], "value": components[k], "weight": w,
             "used": used.get(k), "contribution": 100 * components[k] * used[k] if k in used else None}
            for k, w in WEIGHTS.items()]
    return score, rows


@bp.get("/<user_id>")
@login_required
def detail(user_id):
    supervisor = _supervisor_or_404(user_id)
    period, errors = _period()
    today = company_today()
    profile = db.session.scalar(select(SupervisorProfile).where(SupervisorProfile.user_id == supervisor.id))
    card = ops.scorecard_for(current_user, supervisor.id, period, today)
    previous = ops.scorecard_for(current_user, supervisor.id, period.previous(), today)
    trend = trends(card, previous)
    overall, overall_rows = _overall_rows(card)
    return render_page("results/supervisors/detail.html", "scorecard", supervisor=supervisor, profile=profile,
                 card=card, previous=previous, trend=trend, rows=_figure_rows(supervisor, card, trend, period),
                 overall=overall, overall_rows=overall_rows, period=period, periods=_period_choices(period),
                 errors=errors, source_labels=SOURCE_LABELS, locale=current_locale_code(),
                 can_edit=ops.can_manage(current_user), today=today)


# ---- profile editor ----------------------------------------------------------------------------

def _rows_from_form(form, prefix: str, names: tuple) -> list[dict]:
    """prefix-<i>-<name> fields → rows in index order; rows left entirely blank are dropped
    (clearing a row removes it)."""
    rows: dict[int, dict] = {}
    for key in form:
        parts = key.split("-")
        if len(parts) == 3 and parts[0] == prefix and parts[1].isdigit() and parts[2] in names:
            value = form.get(key, "").strip()
            if value:
                rows.setdefault(int(parts[1]), {})[parts[2]] = value
    return [rows[i] for i in sorted(rows)]


def _form_values(profile: SupervisorProfile | None) -> dict:
    if profile is None:
        return {"selection_source": "internal", "training_records": [], "recognitions": []}
    return {"selection_source": profile.selection_source, "experience_years": profile.experience_years,
            "qualifications": profile.qualifications,
            "training_records": [dict(r) for r in profile.training_records or []],
            "recognitions": [dict(r) for r in profile.recognitions or []]}


def _render_form(supervisor, values, errors, status=200, extra_rows=None):
    extra_rows = extra_rows or {}
    return render_template(
        "results/supervisors/form.html", supervisor=supervisor, values=values, errors=errors,
        sources=SELECTION_SOURCES, source_labels=SOURCE_LABELS,
        blank_training=BLANK_ROWS + extra_rows.get("training", 0),
        blank_recognition=BLANK_ROWS + extra_rows.get("recognition", 0)), status


@bp.route("/<user_id>/profile", methods=["GET", "POST"])
@login_required
def edit(user_id):
    supervisor = _supervisor_or_404(user_id)
    if not ops.can_manage(current_user):
        abort(403)
    profile = db.session.scalar(select(SupervisorProfile).where(SupervisorProfile.user_id == supervisor.id))
    if request.method == "GET":
        return _render_form(supervisor, _form_values(profile), {})
    raw = {k: v for k, v in form_to_dict(request.form).items()
           if k in ("selection_source", "experience_years", "qualifications")}
    raw["training_records"] = _rows_from_form(request.form, "training", TRAINING_FIELDS)
    raw["recognitions"] = _rows_from_form(request.form, "recognition", RECOGNITION_FIELDS)
    add = request.form.get("add_row")
    if add in ("training", "recognition"):
        # "Add a row" without JavaScript: show the form again with one more empty row; nothing is saved.
        return _render_form(supervisor, raw, {}, extra_rows={add: 1})
    try:
        data = ProfileArgs().load(raw)
    except ValidationError as e:
        return _render_form(supervisor, raw, translate_errors(e.messages), 400)
    ops.save_profile(current_user, supervisor, data)
    db.session.commit()
    flash(_("The profile was saved."), "info")
    return redirect(url_for(".detail", user_id=supervisor.id), 303)


# ---- a department head rates a visit -----------------------------------------------------------

def _render_rating(visit, values, errors, status=200):
    rating = ops.rating_of(current_user, visit)
    period = period_containing(visit.completed_at.astimezone(ZoneInfo(ops.company_tz())).date()) \
        if visit.completed_at else None
    return render_template("results/supervisors/rating.html", visit=visit, rating=rating, values=values,
                           errors=errors, period=period, locale=current_locale_code()), status


@bp.route("/visits/<visit_id>/rating", methods=["GET", "POST"])
@login_required
def rate(visit_id):
    visit = get_scoped_or_404(Visit, visit_id, current_user)
    if visit.deleted_at is not None:
        abort(404)
    if not ops.can_rate(current_user, visit):
        abort(403)
    if request.method == "GET":
        rating = ops.rating_of(current_user, visit)
        values = {"score": rating.score, "comment": rating.comment, "teamwork_note": rating.teamwork_note} \
            if rating else {}
        return _render_rating(visit, values, {})
    raw = form_to_dict(request.form)
    try:
        data = RatingArgs().load(raw)
        ops.rate_visit(current_user, visit, data)
    except ValidationError as e:
        db.session.rollback()
        return _render_rating(visit, raw, translate_errors(e.messages), 400)
    except ops.RatingError as e:
        db.session.rollback()
        if e.status == 403:
            abort(403)
        return _render_rating(visit, raw, {"_schema": [e.message]}, e.status)
    db.session.commit()
    flash(_("Thank you: your rating of this visit was saved."), "info")
    return redirect(url_for("visits.detail", visit_id=visit.id), 303)
