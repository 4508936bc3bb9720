"""Planning pages: list, draft/edit, detail with schedule and notes, the approval workflow, calendar."""

import io
from datetime import date, timedelta
from pathlib import PurePath

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from webapp.audit.models import AuditEntry
from webapp.auth.models import User
from webapp.authz import get_scoped_or_404, scope_clause, scoped
from webapp.checklists.models import AREAS, ChecklistTemplate
from webapp.core import keyset
from webapp.core.clock import company_today
from webapp.core.formdata import form_to_dict, refusal_errors
from webapp.core.views import is_htmx, load_form, render_page
from webapp.extensions import db
from webapp.org.models import Department, Site
from webapp.photos.operations import rejection_message, storage_failure, variant_key
from webapp.photos.storage import ObjectMissing, StorageError, get_store
from webapp.plans import operations as ops
from webapp.plans.models import PERIOD_TYPES, PLAN_STATUSES, Attachment, Plan, PlanNote, ScheduledVisit
from webapp.plans.progress import Progress, is_overdue, progress_columns
from webapp.plans.schemas import (
    CalendarArgs,
    PlanArgs,
    PlanFilterArgs,
    PlanNoteArgs,
    ScheduledVisitArgs,
    TransitionArgs,
    period_of,
)
from webapp.visits.models import Visit
from webapp.visits.operations import active_supervisors

bp = Blueprint("plans", __name__, url_prefix="/plans")

PLAN_LISTS = ("focus_areas", "department_ids", "site_ids")





# ---- lists -------------------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    args, _errors = load_form(PlanFilterArgs(), form_to_dict(request.args))
    args = args or {"status": None, "period_type": None}
    q = scoped(Plan, current_user).where(Plan.deleted_at.is_(None)).options(
        selectinload(Plan.parent), selectinload(Plan.author))
    if args["status"]:
        q = q.where(Plan.status == args["status"])
    if args["period_type"]:
        q = q.where(Plan.period_type == args["period_type"])
    plans = db.session.scalars(q.order_by(Plan.period_start.desc(), Plan.title)).all()
    by_plan, by_sup = _progress(_progress_counts([p.id for p in plans]))
    progress = {p.id: by_plan.get(p.id, Progress()) for p in plans}
    names = _user_names(by_sup)
    return render_page("plans/index.html", "plan_list", plans=plans, progress=progress, args=args,
                 statuses=PLAN_STATUSES, period_types=PERIOD_TYPES, by_supervisor=by_sup, names=names,
                 can_draft=ops.can_draft(current_user))


VISITS_PAGE = 50  # a plan's page lists its visits 50 at a time; "Load more" brings the next ones


def _progress_counts(plan_ids) -> list:
    """The plans' progress per plan and supervisor in the user's scope, counted by the database:
    rows of (plan_id, supervisor_id, planned, done, overdue). A chain plan has tens of thousands of
    visits (71,429 at 1M findings: 2 s read as records and counted in Python, 23 ms counted by the
    database; docs/benchmarks.md, "Plans list and a plan's page")."""
    if not plan_ids:
        return []
    return db.session.execute(
        select(Visit.plan_id, Visit.supervisor_id, *progress_columns(Visit, company_today()))
        .where(scope_clause(Visit, current_user), Visit.plan_id.in_(plan_ids), Visit.deleted_at.is_(None))
        .group_by(Visit.plan_id, Visit.supervisor_id)).all()


def _progress(counts) -> tuple[dict, dict]:
    """(Progress by plan, Progress by supervisor) from `_progress_counts`' rows."""
    by_plan, by_sup = {}, {}
    for plan_id, supervisor_id, *figures in counts:
        for total in (by_plan.setdefault(plan_id, Progress()), by_sup.setdefault(supervisor_id, Progress())):
            total += Progress(*figures)
    return by_plan, by_sup


def _visits_page(plan, cursor: str | None, limit: int | None = None):
    """A page of the plan's live visits in the user's scope, by first day then id, any without a day
    last; `cursor` is the last row of the page before. Returns (visits, the next page's cursor or None)."""
    q = select(Visit).where(scope_clause(Visit, current_user), Visit.plan_id == plan.id,
                            Visit.deleted_at.is_(None)).options(selectinload(Visit.site), selectinload(Visit.supervisor))
    return keyset.page([
        keyset.Walk("s", q.where(Visit.scheduled_for.is_not(None)), ((Visit.scheduled_for, False), (Visit.id, False)),
                    ("date", "id")),
        keyset.Walk("n", q.where(Visit.scheduled_for.is_(None)), ((Visit.id, False),), ("id",)),
    ], cursor, limit or VISITS_PAGE)


def _user_names(ids) -> dict:
    ids = list(ids)
    if not ids:
        return {}
    return {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


# ---- draft and edit ----------------------------------------------------------------------------

def _form_choices(plan=None) -> dict:
    parents = db.session.scalars(scoped(Plan, current_user).where(
        Plan.deleted_at.is_(None), Plan.period_type.in_(("annual", "quarterly")), Plan.status != "closed",
        *( [Plan.id != plan.id] if plan else [])).order_by(Plan.period_start.desc())).all()
    # Archived departments and sites are offered only to a plan that already names them.
    kept_depts = [d.id for d in plan.departments] if plan else []
    kept_sites = list(ops.plan_site_ids(plan)) if plan else []
    return {
        "departments": db.session.scalars(select(Department).where(
            Department.deleted_at.is_(None), or_(Department.archived_at.is_(None), Department.id.in_(kept_depts)))
            .order_by(Department.code)).all(),
        "sites": db.session.scalars(select(Site).where(
            Site.deleted_at.is_(None), or_(Site.archived_at.is_(None), Site.id.in_(kept_sites)))
            .order_by(Site.code)).all(),
        "parents": parents,
        "areas": AREAS,
        "period_types": PERIOD_TYPES,
    }


def _form_values(plan: Plan | None) -> dict:
    if plan is None:
        today = company_today()
        return {"period_type": "quarterly", "year": today.year, "quarter": (today.month - 1) // 3 + 1,
                "month": today.month,
                "focus_areas": [], "department_ids": [], "site_ids": []}
    year, number = period_of(plan.period_start, plan.period_type)
    return {"title": plan.title, "period_type": plan.period_type, "year": year,
            "quarter": number if plan.period_type == "quarterly" else None,
            "month": number if plan.period_type == "monthly" else None,
            "parent_id": plan.parent_id, "goals": plan.goals, "focus_areas": plan.focus_areas or [],
            "focus_notes": plan.focus_notes, "methods": plan.methods, "staffing": plan.staffing,
            "department_ids": [d.id for d in plan.departments], "site_ids": [s.id for s in plan.sites]}


def _save_plan(plan: Plan | None):
    raw = form_to_dict(request.form, lists=PLAN_LISTS)
    data, errors = load_form(PlanArgs(), raw)
    if data is not None:
        try:
            plan = ops.create_plan(current_user, data) if plan is None else ops.update_plan(current_user, plan, data)
        except ops.PlanError as e:
            errors = refusal_errors(e)
        else:
            db.session.commit()
            flash(_("The plan was saved."), "info")
            return redirect(url_for("plans.detail", plan_id=plan.id))
    if plan is not None:
        db.session.refresh(plan)
    return render_template("plans/form.html", plan=plan, values=raw, errors=errors, **_form_choices(plan)), 400


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not ops.can_draft(current_user):
        abort(403)
    if request.method == "POST":
        return _save_plan(None)
    values = _form_values(None)
    parent_id = request.args.get("parent")
    if parent_id:
        values["parent_id"] = parent_id
    return render_template("plans/form.html", plan=None, values=values, errors={}, **_form_choices())


@bp.route("/<plan_id>/edit", methods=["GET", "POST"])
@login_required
def edit(plan_id):
    plan = get_scoped_or_404(Plan, plan_id, current_user)
    if not ops.can_edit(current_user, plan):
        abort(403)
    if request.method == "POST":
        return _save_plan(plan)
    return render_template("plans/form.html", plan=plan, values=_form_values(plan), errors={},
                           **_form_choices(plan))


# ---- detail ------------------------------------------------------------------------------------

def _schedule_choices(plan: Plan) -> dict:
    kept = list(ops.plan_site_ids(plan))  # an archived site stays offered only to a plan naming it
    return {
        "all_sites": db.session.scalars(select(Site).where(
            Site.deleted_at.is_(None), or_(Site.archived_at.is_(None), Site.id.in_(kept)))
            .order_by(Site.code)).all(),
        "supervisors": active_supervisors(),
        "templates": db.session.scalars(select(ChecklistTemplate).where(
            ChecklistTemplate.is_current.is_(True), ChecklistTemplate.deleted_at.is_(None))
            .order_by(ChecklistTemplate.code)).all(),
    }


def _detail_context(plan: Plan, cursor: str | None = None, **extra) -> dict:
    by_plan, by_sup = _progress(_progress_counts([plan.id]))
    visits, next_cursor = _visits_page(plan, cursor)
    sup_ids = {sid for row in plan.schedule for sid in row.supervisor_ids} | set(by_sup)
    history = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity == "plan", AuditEntry.entity_id == plan.id,
        AuditEntry.action.in_([f"plan.{s}" for s in PLAN_STATUSES] + ["plan.created"]))
        .order_by(AuditEntry.id)).all()
    children = db.session.scalars(scoped(Plan, current_user).where(
        Plan.parent_id == plan.id, Plan.deleted_at.is_(None)).order_by(Plan.period_start)).all()
    ctx = {
        "plan": plan, "visits": visits, "next_cursor": next_cursor, "cursor": cursor,
        "progress": by_plan.get(plan.id, Progress()), "by_supervisor": by_sup,
        "names": _user_names(sup_ids | {h.user_id for h in history if h.user_id}),
        "history": history, "children": children, "today": company_today(), "is_overdue": is_overdue,
        "editable": ops.can_edit(current_user, plan),
        "transitions": ops.allowed_transitions(current_user, plan),
        "can_note": (plan.author_id == current_user.id or current_user.role in ("manager", "admin"))
        and plan.status != "closed",
        "row_errors": {}, "row_values": {}, "editing": None, "note_errors": {}, "transition_errors": {},
        "note_kinds": ("gather", "analyse"),
    }
    if ctx["editable"]:
        ctx.update(_schedule_choices(plan))
    ctx.update(extra)
    return ctx


@bp.get("/<plan_id>")
@login_required
def detail(plan_id):
    plan = get_scoped_or_404(Plan, plan_id, current_user)
    cursor = request.args.get("cursor", "")[:80] or None
    if cursor and is_htmx():  # "Load more": the next visits only
        visits, next_cursor = _visits_page(plan, cursor)
        return render_block("plans/detail.html", "visit_rows", plan=plan, visits=visits, next_cursor=next_cursor,
                            cursor=cursor, today=company_today(), is_overdue=is_overdue)
    return render_template("plans/detail.html", **_detail_context(plan, cursor))


@bp.post("/<plan_id>/transition")
@login_required
def transition(plan_id):
    plan = get_scoped_or_404(Plan, plan_id, current_user)
    data, errors = load_form(TransitionArgs(), form_to_dict(request.form))
    if data is not None:
        try:
            ops.transition_plan(current_user, plan, data["to"], data.get("comment"))
        except ops.PlanError as e:
            errors = refusal_errors(e)
        else:
            db.session.commit()
            messages = {
                "submitted": _("The plan was submitted for approval."),
                "returned": _("The plan was returned to its author."),
                "approved": _("The plan was approved."),
                "published": _("The plan was published: its visits reach the supervisors' phones at their next sync.")
                if plan.schedule else _("The plan was published. Its visits are scheduled in its sub-plans."),
                "closed": _("The plan was closed."),
            }
            flash(messages[plan.status], "info")
            return redirect(url_for("plans.detail", plan_id=plan.id))
    db.session.refresh(plan)
    return render_template("plans/detail.html", **_detail_context(
        plan, transition_errors=errors, comment=request.form.get("comment", ""))), 400


# ---- schedule (htmx rows) ----------------------------------------------------------------------

def _schedule_response(plan, status=200, **extra):
    if is_htmx():
        return render_block("plans/detail.html", "schedule", **_detail_context(plan, **extra)), status
    if status >= 400:
        return render_template("plans/detail.html", **_detail_context(plan, **extra)), status
    return redirect(url_for("plans.detail", plan_id=plan.id, _anchor="schedule"))


def _row_or_404(plan, row_id) -> ScheduledVisit:
    row = db.session.get(ScheduledVisit, row_id)
    if row is None or row.plan_id != plan.id:
        abort(404)
    return row


def _save_row(plan, row):
    raw = form_to_dict(request.form, lists=("supervisor_ids",))
    data, errors = load_form(ScheduledVisitArgs(), raw)
    if data is not None:
        try:
            if row is None:
                ops.add_scheduled_visit(current_user, plan, data)
            else:
                ops.update_scheduled_visit(current_user, row, data)
        except ops.PlanError as e:
            errors = refusal_errors(e)
        else:
            db.session.commit()
            return _schedule_response(plan)
    db.session.refresh(plan)
    return _schedule_response(plan, 400, row_errors=errors, row_values=raw, editing=row.id if row else None)


@bp.post("/<plan_id>/schedule")
@login_required
def add_row(plan_id):
    plan = get_scoped_or_404(Plan, plan_id, current_user)
    return _save_row(plan, None)


@bp.get("/<plan_id>/schedule/<row_id>/edit")
@login_required
def edit_row(plan_id, row_id):
    plan = get_scoped_or_404(Plan, plan_id, current_user)
    row = _row_or_404(plan, row_id)
    if not ops.can_edit(current_user, plan):
        abort(403)
    values = {"site_id": row.site_id, "window_start": row.window_start.isoformat(),
              "window_end": row.window_end.isoformat(), "supervisor_ids": row.supervisor_ids,
              "template_id": row.template_id, "note": row.note or ""}
    return _schedule_response(plan, editing=row.id, row_values=values) if is_htmx() else render_template(
        "plans/detail.html", **_detail_context(plan, editing=row.id, row_values=values))


@bp.post("/<plan_id>/schedule/<row_id>")
@login_required
def update_row(plan_id, row_id):
    plan = get_scoped_or_404(Plan, plan_id, current_user)
    return _save_row(plan, _row_or_404(plan, row_id))


@bp.post("/<plan_id>/schedule/<row_id>/delete")
@login_required
def delete_row(plan_id, row_id):
    plan = get_scoped_or_404(Plan, plan_id, current_user)
    row = _row_or_404(plan, row_id)
    try:
        ops.remove_scheduled_visit(current_user, row)
    except ops.PlanError as e:
        db.session.rollback()
        abort(e.status)
    db.session.commit()
    return _schedule_response(plan)


# ---- notes and attachments ---------------------------------------------------------------------

@bp.post("/<plan_id>/notes")
@login_required
def add_note(plan_id):
    plan = get_scoped_or_404(Plan, plan_id, current_user)
    data, errors = load_form(PlanNoteArgs(), form_to_dict(request.form))
    if data is not None:
        try:
            ops.add_plan_note(current_user, plan, data, request.files.getlist("files"))
        except ops.PlanError as e:
            errors = refusal_errors(e)
        else:
            db.session.commit()
            flash(_("The note was added."), "info")
            return redirect(url_for("plans.detail", plan_id=plan.id, _anchor="notes"))
    db.session.refresh(plan)
    return render_template("plans/detail.html", **_detail_context(
        plan, note_errors=errors, note_values=form_to_dict(request.form))), 400


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id):
    att = db.session.get(Attachment, attachment_id)
    note = db.session.get(PlanNote, att.note_id) if att and att.note_id else None
    if note is None:
        abort(404)
    get_scoped_or_404(Plan, note.plan_id, current_user)
    if att.content_type.startswith("image/"):
        # Ingested as a photo: the display rendition, without the original's metadata (GPS, serials).
        # Images attached before the one ingest path have none: their file as it was.
        return _send_stored(variant_key(att.sha256, "display"), "image/jpeg",
                            f"{PurePath(att.filename).stem or 'image'}.jpg",
                            fallback=(att.sha256, att.content_type, att.filename))
    return _send_stored(att.sha256, att.content_type, att.filename)


def _send_stored(key: str, mimetype: str, filename: str, fallback=None):
    try:
        data = get_store().get(key)
    except ObjectMissing:
        if fallback is not None:
            return _send_stored(*fallback)
        abort(404)
    except StorageError as e:
        status, code = storage_failure(e)
        abort(status, rejection_message(code))
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=filename, max_age=0)


# ---- calendar ----------------------------------------------------------------------------------

def calendar_range(view: str, day: date) -> tuple[date, date]:
    """The first and last day shown: whole weeks (Monday first) around the month, or day's week."""
    if view == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    first = day.replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())


@bp.get("/calendar")
@login_required
def calendar():
    args, errors = load_form(CalendarArgs(), form_to_dict(request.args))
    if args is None:
        args = CalendarArgs().load({})
    day = args["day"] or company_today()
    start, end = calendar_range(args["view"], day)
    q = scoped(Visit, current_user).where(Visit.deleted_at.is_(None), Visit.scheduled_for >= start,
                                          Visit.scheduled_for <= end)
    if args["supervisor_id"]:
        q = q.where(Visit.supervisor_id == args["supervisor_id"])
    if args["department_id"]:
        q = q.where(Visit.department_id == args["department_id"])
    visits = db.session.scalars(q.options(selectinload(Visit.site), selectinload(Visit.supervisor),
                                          selectinload(Visit.plan))
                                .order_by(Visit.scheduled_for, Visit.id)).all()
    by_day: dict = {}
    for v in visits:
        by_day.setdefault(v.scheduled_for, []).append(v)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    weeks = [days[i:i + 7] for i in range(0, len(days), 7)]
    if args["view"] == "week":
        prev_day, next_day = day - timedelta(days=7), day + timedelta(days=7)
    else:
        prev_day = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
        next_day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    supervisors = (db.session.scalars(select(User).where(User.role == "supervisor").order_by(User.display_name)).all()
                   if current_user.role != "supervisor" else [current_user])
    departments = db.session.scalars(select(Department).where(Department.deleted_at.is_(None))
                                     .order_by(Department.code)).all()
    return render_page("plans/calendar.html", "calendar", args=args, day=day, weeks=weeks, by_day=by_day,
                 month=day.month, prev_day=prev_day, next_day=next_day, today=company_today(), supervisors=supervisors,
                 departments=departments, errors=errors, is_overdue=is_overdue)
