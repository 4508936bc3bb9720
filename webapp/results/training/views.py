"""Training pages: needs, training plans with attendance, people's development records."""


from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.authz import developing_person_clause, get_scoped_or_404, scoped
from webapp.checklists.models import AREAS, ChecklistTemplate, TemplateItem
from webapp.core.clock import company_today
from webapp.core.formdata import form_to_dict
from webapp.core.views import is_htmx, load_form, render_page
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.i18n import current_locale_code
from webapp.org.models import Department, Person
from webapp.results.models import DevelopmentNote, TrainingAttendance, TrainingPlan
from webapp.results.periods import parse_period, period_containing, recent_periods
from webapp.results.training import operations as ops
from webapp.results.training.schemas import AttendanceArgs, NeedsArgs, NoteArgs, PrefillArgs, TrainingPlanArgs

bp = Blueprint("training", __name__, url_prefix="/results/training")

STATUS_LABELS = {"planned": _l("To be held"), "held": _l("Held"), "cancelled": _l("Cancelled")}
READERS = ("manager", "admin", "dept_head")


@bp.app_context_processor
def _labels():
    return {"training_status": lambda code: str(STATUS_LABELS.get(code, code))}




def _require(roles):
    if current_user.role not in roles:
        abort(403)



# ---- training plans ----------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    _require(READERS)
    counts = dict(db.session.execute(
        select(TrainingAttendance.training_id, func.count()).where(TrainingAttendance.attended.is_(True))
        .group_by(TrainingAttendance.training_id)).all())
    plans = db.session.scalars(scoped(TrainingPlan, current_user).order_by(
        TrainingPlan.held_on.desc().nulls_first(), TrainingPlan.topic)).all()
    return render_template("results/training/index.html", plans=plans, attended=counts,
                           can_manage=ops.can_manage_training(current_user))


def _choices():
    template = db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.is_current.is_(True),
                                                                 ChecklistTemplate.deleted_at.is_(None))
                                 .order_by(ChecklistTemplate.code))
    items = list(template.items) if template else []
    return {"areas": AREAS, "items": items, "statuses": ops.TRAINING_STATUSES}


def _item_values(item_id):
    """An item used by an older template revision is still offered when a plan or need names it."""
    return db.session.get(TemplateItem, item_id) if item_id else None


def _form(plan, values, errors, status=200):
    ctx = _choices()
    extra = _item_values(values.get("item_id"))
    if extra is not None and extra not in ctx["items"]:
        ctx["items"] = [extra, *ctx["items"]]
    return render_template("results/training/form.html", plan=plan, values=values, errors=errors,
                           **ctx), status


def _save(plan):
    raw = form_to_dict(request.form)
    data, errors = load_form(TrainingPlanArgs(), raw)
    if data is not None:
        try:
            plan = ops.create_training_plan(data) if plan is None else ops.update_training_plan(plan, data)
        except ops.TrainingError as e:
            db.session.rollback()
            errors = e.fields
        else:
            db.session.commit()
            flash(_("The training plan was saved."), "info")
            return redirect(url_for(".detail", plan_id=plan.id), 303)
    return _form(plan, raw, errors, 400)


@bp.route("/new", methods=("GET", "POST"))
@login_required
def new():
    _require(ops.WRITERS)
    if request.method == "POST":
        return _save(None)
    prefill, _errors = load_form(PrefillArgs(), form_to_dict(request.args))
    return _form(None, {"status": "planned", **{k: v for k, v in (prefill or {}).items() if v}}, {})


@bp.get("/<plan_id>")
@login_required
def detail(plan_id):
    plan = get_scoped_or_404(TrainingPlan, plan_id, current_user)
    return _detail(plan)


def _detail(plan, errors=None, values=None, status=200):
    people = db.session.scalars(select(Person).where(Person.deleted_at.is_(None))
                                .options(selectinload(Person.department))
                                .order_by(Person.department_id, Person.name)).all()
    rows = {a.person_id: a for a in plan.attendance}
    if values is not None:  # re-render what the user chose
        invited, attended = set(values["person_ids"]), set(values["attended_ids"])
    else:
        invited, attended = set(rows), {p for p, a in rows.items() if a.attended}
    item = db.session.get(TemplateItem, plan.item_id) if plan.item_id else None
    return render_page("results/training/detail.html", "attendance", status, plan=plan, people=people,
                 invited=invited, attended=attended, item=item, errors=errors or {},
                 can_manage=ops.can_manage_training(current_user))


@bp.route("/<plan_id>/edit", methods=("GET", "POST"))
@login_required
def edit(plan_id):
    plan = get_scoped_or_404(TrainingPlan, plan_id, current_user)  # the record first: 404 tells nothing
    _require(ops.WRITERS)
    if request.method == "POST":
        return _save(plan)
    values = {k: getattr(plan, k) for k in ("topic", "audience", "held_on", "trainer", "area", "item_id", "status")}
    return _form(plan, values, {})


@bp.post("/<plan_id>/attendance")
@login_required
def attendance(plan_id):
    plan = get_scoped_or_404(TrainingPlan, plan_id, current_user)
    _require(ops.WRITERS)
    data, errors = load_form(AttendanceArgs(), form_to_dict(request.form, lists=("person_ids", "attended_ids")))
    if data is not None:
        try:
            ops.set_attendance(plan, data["person_ids"], data["attended_ids"])
        except ops.TrainingError as e:
            db.session.rollback()
            errors = e.fields
        else:
            db.session.commit()
            if not is_htmx():
                flash(_("Attendance was saved."), "info")
                return redirect(url_for(".detail", plan_id=plan.id), 303)
            return _detail(plan)
    values = data or {"person_ids": request.form.getlist("person_ids"),
                      "attended_ids": request.form.getlist("attended_ids")}
    return _detail(plan, errors, values, 400)


# ---- training needs ----------------------------------------------------------------------------

@bp.get("/needs")
@login_required
def needs():
    _require(ops.WRITERS)
    today = company_today()
    args, errors = load_form(NeedsArgs(), form_to_dict(request.args))
    status = 200
    if args is None:
        status, args = 400, {"period": None, "min_departments": 2}
    period = parse_period(args["period"]) if args["period"] else period_containing(today, "quarter")
    found = ops.suggest_training_needs(period, args["min_departments"], current_user)
    locale = current_locale_code()
    departments = {d.id: d.label(locale) for d in db.session.scalars(select(Department))}
    periods = recent_periods(today, "quarter", 4)[::-1] + recent_periods(today, "month", 3)[::-1]
    return render_page("results/training/needs.html", "needs", status, needs=found, period=period, periods=periods,
                 min_departments=args["min_departments"], errors=errors,
                 dept_list=lambda ids: ", ".join(sorted(departments.get(i, "?") for i in ids)),
                 raw=request.args)


# ---- people and development notes --------------------------------------------------------------

def _person_or_404(person_id) -> Person:
    person = db.session.scalar(select(Person).where(Person.id == person_id, Person.deleted_at.is_(None),
                                                    developing_person_clause(current_user)))
    if person is None:
        abort(404)
    return person


@bp.get("/people/")
@login_required
def people():
    _require(READERS)
    rows = db.session.scalars(select(Person).where(Person.deleted_at.is_(None), developing_person_clause(current_user))
                              .options(selectinload(Person.department))
                              .order_by(Person.department_id, Person.name)).all()
    findings = dict(db.session.execute(
        select(Person.id, func.count(Finding.id)).join(Finding, (Finding.department_id == Person.department_id)
                                                       & (Finding.responsible_person == Person.name))
        .where(Finding.deleted_at.is_(None), developing_person_clause(current_user)).group_by(Person.id)).all())
    notes = dict(db.session.execute(select(DevelopmentNote.person_id, func.count()).where(
        DevelopmentNote.person_id.in_([p.id for p in rows])).group_by(DevelopmentNote.person_id)).all()) if rows else {}
    trained = dict(db.session.execute(select(TrainingAttendance.person_id, func.count()).where(
        TrainingAttendance.attended.is_(True), TrainingAttendance.person_id.in_([p.id for p in rows]))
        .group_by(TrainingAttendance.person_id)).all()) if rows else {}
    return render_template("results/training/people.html", people=rows, findings=findings, notes=notes,
                           trained=trained)


def _person_page(person, errors=None, draft=None, status=200):
    findings = ops.findings_of(person, current_user)
    notes = db.session.scalars(scoped(DevelopmentNote, current_user).where(DevelopmentNote.person_id == person.id)
                               .order_by(DevelopmentNote.created_at.desc())).all()
    from webapp.auth.models import User

    authors = {u.id: u.display_name for u in db.session.scalars(
        select(User).where(User.id.in_({n.author_id for n in notes})))} if notes else {}
    suggestion = ops.draft_development_note(person, findings)
    return render_page("results/training/person.html", "notes", status, person=person, findings=findings,
                 notes=notes, authors=authors, trainings=ops.trainings_of(person), suggestion=suggestion,
                 draft=suggestion if draft is None else draft, errors=errors or {},
                 can_write=ops.can_manage_training(current_user))


@bp.get("/people/<person_id>")
@login_required
def person(person_id):
    return _person_page(_person_or_404(person_id))


@bp.post("/people/<person_id>/notes")
@login_required
def add_note(person_id):
    person = _person_or_404(person_id)
    _require(ops.WRITERS)
    data, errors = load_form(NoteArgs(), form_to_dict(request.form))
    if data is None:
        return _person_page(person, errors, request.form.get("note", ""), 400)
    ops.add_development_note(person, current_user, data["note"])
    db.session.commit()
    if is_htmx():
        return _person_page(person)
    flash(_("The development note was saved."), "info")
    return redirect(url_for(".person", person_id=person.id), 303)


@bp.route("/notes/<note_id>/edit", methods=("GET", "POST"))
@login_required
def edit_note(note_id):
    row = get_scoped_or_404(DevelopmentNote, note_id, current_user)
    _require(ops.WRITERS)
    person = db.session.get(Person, row.person_id)
    errors, value = {}, row.note
    if request.method == "POST":
        data, errors = load_form(NoteArgs(), form_to_dict(request.form))
        if data is not None:
            ops.update_development_note(row, data["note"])
            db.session.commit()
            flash(_("The development note was saved."), "info")
            return redirect(url_for(".person", person_id=person.id), 303)
        value = request.form.get("note", "")
    return render_template("results/training/note_form.html", note=row, person=person, value=value,
                           errors=errors), 400 if errors else 200
