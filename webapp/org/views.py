"""The organisation pages for administrators (管理员): departments, branches and regions as a tree,
and the sites (运营场所) they are responsible for. Thin views: parse with the *Args schemas of
webapp/org/schemas.py, one operation of webapp/org/operations.py, commit once."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from jinja2_fragments.flask import render_block
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select

from webapp.auth.models import User
from webapp.authz import require
from webapp.core.formdata import form_to_dict, refusal_errors
from webapp.core.views import load_form
from webapp.extensions import db
from webapp.i18n import current_locale_code
from webapp.org import operations as ops
from webapp.org.models import DEPARTMENT_KINDS, SITE_CLASSES, Department, Person, Site
from webapp.org.schemas import DepartmentArgs, SiteArgs
from webapp.visits.models import Visit

bp = Blueprint("org", __name__, url_prefix="/admin/org")


@bp.app_template_global()
def choice_options(choices, selected=None) -> Markup:
    """The <option>s of departments or sites (`ops.live_choices`) for a filter. A chain has thousands
    of sites on every list and dashboard page: built here in one join (≈ 1 ms for 2,000), not by a
    template loop (≈ 15 ms)."""
    loc = current_locale_code()
    # the same <option>s until a department or site changes
    html = ops.built_once(choices, ("options", loc), lambda: "".join(
        f'<option value="{escape(c.id)}">{escape(c.label(loc))}</option>' for c in choices))
    if isinstance(selected, str) and selected:
        tag = f'<option value="{escape(selected)}">'
        html = html.replace(tag, f'<option value="{escape(selected)}" selected>', 1)
    return Markup(html)
PAGE_SIZE = 50
MAX_QUERY = 100


KIND_LABELS = {"department": _l("Department"), "branch": _l("Branch"), "region": _l("Region")}


@bp.before_request
@login_required
def _administrators_only():
    require(current_user, "admin.org")


@bp.context_processor
def _org_terms():
    return {"kind_label": lambda code: str(KIND_LABELS.get(code, code))}


# ---- the tree ----------------------------------------------------------------------------------

def _all_departments() -> list[Department]:
    return db.session.scalars(select(Department).where(Department.deleted_at.is_(None))
                              .order_by(Department.code)).all()


def _children_map(departments) -> dict:
    ids = {d.id for d in departments}
    out: dict = {}
    for d in departments:
        # A department whose parent is not in the set (archived, say) is shown at the top.
        out.setdefault(d.parent_id if d.parent_id in ids else None, []).append(d)
    return out


def _walk(children, parent_id=None, depth=0, seen=None):
    """(department, depth) in tree order."""
    seen = set() if seen is None else seen
    for d in children.get(parent_id, []):
        if d.id in seen:  # XXX: a cycle written behind the operations' back must not loop forever
            continue
        seen.add(d.id)
        yield d, depth
        yield from _walk(children, d.id, depth + 1, seen)


def descendant_ids(department_id: str, departments) -> set[str]:
    """The department and all its sub-departments (archived ones included)."""
    children = _children_map(departments)
    out, stack = {department_id}, [department_id]
    while stack:
        for d in children.get(stack.pop(), []):
            if d.id not in out:
                out.add(d.id)
                stack.append(d.id)
    return out


def _counts(model, column, extra=()) -> dict:
    rows = db.session.execute(select(column, func.count()).select_from(model)
                              .where(model.deleted_at.is_(None), *extra).group_by(column)).all()
    return dict(rows)


def _heads() -> dict:
    out: dict = {}
    for u in db.session.scalars(select(User).where(User.role == "dept_head", User.active.is_(True),
                                                   User.department_id.is_not(None))
                                .order_by(User.display_name)):
        out.setdefault(u.department_id, []).append(u)
    return out


def _nodes(departments, parent_id=None, children=None, seen=None) -> list[dict]:
    children = _children_map(departments) if children is None else children
    seen = set() if seen is None else seen
    out = []
    for d in children.get(parent_id, []):
        if d.id in seen:
            continue
        seen.add(d.id)
        out.append({"dept": d, "children": _nodes(departments, d.id, children, seen)})
    return out


@bp.get("/")
def index():
    departments = _all_departments()
    active = [d for d in departments if d.archived_at is None]
    archived = [d for d in departments if d.archived_at is not None]
    show_archived = request.args.get("archived") == "1"
    return render_template(
        "org/index.html", tree=_nodes(active), archived=archived, show_archived=show_archived,
        sites=_counts(Site, Site.department_id, [Site.archived_at.is_(None)]),
        people=_counts(Person, Person.department_id), heads=_heads(),
        parents={d.id: d for d in departments})


def _department_or_404(department_id) -> Department:
    dept = db.session.get(Department, department_id)
    if dept is None or dept.deleted_at is not None:
        abort(404)
    return dept


def _parent_choices(dept: Department | None) -> list[tuple[Department, int]]:
    """Active departments in tree order, without the department itself and its sub-departments
    (they cannot become its parent)."""
    departments = _all_departments()
    excluded = descendant_ids(dept.id, departments) if dept else set()
    active = [d for d in departments if d.archived_at is None or (dept and d.id == dept.parent_id)]
    return [(d, depth) for d, depth in _walk(_children_map(active)) if d.id not in excluded]


def _department_form(dept, values, errors, status=200):
    return render_template("org/department_form.html", dept=dept, values=values, errors=errors,
                           kinds=DEPARTMENT_KINDS, parents=_parent_choices(dept)), status


def _load(schema, raw):
    """load_form, and a control character or NUL the door dropped is refused next to its field
    rather than saved without it (webapp/core/request.py)."""
    data, errors = load_form(schema, raw)
    for name in sorted(getattr(request.form, "dropped", ())):
        if name in schema.fields:
            errors.setdefault(name, []).insert(0, _("Remove the control characters and line breaks from this text."))
    return (None, errors) if errors else (data, {})


def _save_department(dept):
    raw = form_to_dict(request.form)
    data, errors = _load(DepartmentArgs(), raw)
    if errors:
        return _department_form(dept, raw, errors, 400)
    try:
        dept, changes = ops.save_department(data, current_user, dept)
    except ops.OrgError as e:
        return _department_form(dept, raw, refusal_errors(e), e.status)
    db.session.commit()
    flash(_("The department was saved.") if changes else _("Nothing changed."), "info")
    return redirect(url_for("org.index", _anchor=f"dept-{dept.id}"), 303)


@bp.route("/departments/new", methods=["GET", "POST"])
def new_department():
    if request.method == "POST":
        return _save_department(None)
    parent = request.args.get("parent", "")
    return _department_form(None, {"kind": "department", "parent_id": parent}, {})


@bp.route("/departments/<department_id>/edit", methods=["GET", "POST"])
def edit_department(department_id):
    dept = _department_or_404(department_id)
    if request.method == "POST":
        return _save_department(dept)
    values = {"code": dept.code, "name": dept.name, "name_en": dept.name_en or "", "kind": dept.kind,
              "parent_id": dept.parent_id or ""}
    return _department_form(dept, values, {})


def _archive_action(operation, obj, done_message, target):
    try:
        operation(obj, current_user)
    except ops.OrgError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(target, 303)
    db.session.commit()
    flash(done_message, "info")
    return redirect(target, 303)


@bp.post("/departments/<department_id>/archive")
def archive_department(department_id):
    dept = _department_or_404(department_id)
    return _archive_action(ops.archive_department, dept, _("The department was archived."),
                           url_for("org.index", archived="1", _anchor=f"dept-{dept.id}"))


@bp.post("/departments/<department_id>/restore")
def restore_department(department_id):
    dept = _department_or_404(department_id)
    return _archive_action(ops.restore_department, dept, _("The department was restored."),
                           url_for("org.index", _anchor=f"dept-{dept.id}"))


# ---- sites -------------------------------------------------------------------------------------

def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@bp.get("/sites")
def sites():
    args = {k: request.args.get(k, "").strip() for k in ("q", "department_id", "site_class", "status")}
    errors = {}
    if len(args["q"]) > MAX_QUERY:
        errors["q"] = [_("This text is too long.")]
    departments = _all_departments()
    query = select(Site).where(Site.deleted_at.is_(None))
    if args["q"] and not errors:
        like = _like(args["q"])
        query = query.where(or_(Site.name.ilike(like, escape="\\"), Site.name_en.ilike(like, escape="\\"),
                                Site.code.ilike(like, escape="\\"), Site.address.ilike(like, escape="\\")))
    if args["department_id"]:
        query = query.where(Site.department_id.in_(descendant_ids(args["department_id"], departments)))
    if args["site_class"]:
        query = query.where(Site.site_class == args["site_class"])
    if args["status"] == "archived":
        query = query.where(Site.archived_at.is_not(None))
    elif args["status"] != "all":
        args["status"] = ""
        query = query.where(Site.archived_at.is_(None))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)  # an offset the database can hold
    total = 0 if errors else db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = [] if errors else db.session.scalars(
        query.order_by(Site.code).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("org/sites.html", sites=rows, args=args, errors=errors, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                           departments=list(_walk(_children_map(departments))), classes=_site_classes(),
                           by_id={d.id: d for d in departments}), 400 if errors else 200


def _site_classes() -> list[str]:
    used = db.session.scalars(select(Site.site_class).where(Site.site_class.is_not(None)).distinct()).all()
    return list(SITE_CLASSES) + sorted(c for c in used if c not in SITE_CLASSES)


def _site_or_404(site_id) -> Site:
    site = db.session.get(Site, site_id)
    if site is None or site.deleted_at is not None:
        abort(404)
    return site


@bp.get("/sites/<site_id>")
def site(site_id):
    site = _site_or_404(site_id)
    visits, last = db.session.execute(
        select(func.count(Visit.id), func.max(func.coalesce(Visit.completed_at, Visit.started_at)))
        .where(Visit.site_id == site.id, Visit.deleted_at.is_(None))).one()
    departments = {d.id: d for d in _all_departments()}
    return render_template("org/site.html", site=site, visits=visits, last_visit=last, departments=departments)


def people_of(department_id: str | None, q: str = "") -> list[Person]:
    """The people a site manager is picked from: those of the site's department."""
    if not department_id:
        return []
    query = select(Person).where(Person.department_id == department_id, Person.deleted_at.is_(None))
    if q:
        like = _like(q[:MAX_QUERY])
        query = query.where(or_(Person.name.ilike(like, escape="\\"), Person.code.ilike(like, escape="\\"),
                                Person.position.ilike(like, escape="\\")))
    return db.session.scalars(query.order_by(Person.name).limit(200)).all()


def _site_department_choices(site: Site | None) -> list[tuple[Department, int]]:
    departments = _all_departments()
    keep = [d for d in departments if d.archived_at is None or (site and d.id == site.department_id)]
    return list(_walk(_children_map(keep)))


def _site_form(site, values, errors, status=200):
    people = people_of(values.get("department_id"))
    chosen = values.get("manager_person_id")
    if chosen and chosen not in {p.id for p in people}:
        # The current manager stays visible (and selected) even after they left the department.
        person = db.session.get(Person, chosen)
        if person is not None:
            people = [person, *people]
    return render_template("org/site_form.html", site=site, values=values, errors=errors, people=people,
                           departments=_site_department_choices(site), classes=_site_classes()), status


@bp.get("/people")
def people():
    """The options of the site-manager picker for a department and a search (htmx)."""
    department_id = request.args.get("department_id", "")
    chosen = request.args.get("manager_person_id", "")
    people = people_of(department_id, request.args.get("manager_q", "").strip())
    if chosen and chosen not in {p.id for p in people}:
        # The one already chosen stays chosen while the search narrows the others.
        person = db.session.get(Person, chosen)
        if person is not None and person.deleted_at is None and person.department_id == department_id:
            people = [person, *people]
    return render_block("org/site_form.html", "manager_options", people=people,
                        values={"manager_person_id": chosen})


def _save_site(site):
    raw = form_to_dict(request.form)
    raw.pop("manager_q", None)  # the picker's search box, not a field of the site
    data, errors = _load(SiteArgs(), raw)
    if errors:
        return _site_form(site, raw, errors, 400)
    try:
        site, changes = ops.save_site(data, current_user, site)
    except ops.OrgError as e:
        return _site_form(site, raw, refusal_errors(e), e.status)
    db.session.commit()
    if "department_id" in changes:
        flash(_("The site was moved. Its past visits keep their department; new visits follow the site."), "info")
    else:
        flash(_("The site was saved.") if changes else _("Nothing changed."), "info")
    return redirect(url_for("org.site", site_id=site.id), 303)


@bp.route("/sites/new", methods=["GET", "POST"])
def new_site():
    if request.method == "POST":
        return _save_site(None)
    return _site_form(None, {"department_id": request.args.get("department", ""), "geofence_radius_m": 200}, {})


@bp.route("/sites/<site_id>/edit", methods=["GET", "POST"])
def edit_site(site_id):
    site = _site_or_404(site_id)
    if request.method == "POST":
        return _save_site(site)
    values = {name: getattr(site, name) for name in ops.SITE_FIELDS}
    values = {k: ("" if v is None else v) for k, v in values.items()}
    return _site_form(site, values, {})


@bp.post("/sites/<site_id>/archive")
def archive_site(site_id):
    site = _site_or_404(site_id)
    return _archive_action(ops.archive_site, site, _("The site was archived: it is offered for no new plan "
                                                     "or visit; its visits and findings stay."),
                           url_for("org.site", site_id=site.id))


@bp.post("/sites/<site_id>/restore")
def restore_site(site_id):
    site = _site_or_404(site_id)
    return _archive_action(ops.restore_site, site, _("The site was restored."), url_for("org.site", site_id=site.id))
