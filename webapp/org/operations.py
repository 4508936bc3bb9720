"""The organisation: departments, branches and regions as a tree, and the sites they are responsible
for. Operations take values already loaded by webapp/org/schemas.py, flush, and never commit; every
change is audited. Nothing is deleted: archiving keeps the history (visits, findings, people) and
only stops offering the record for new work."""

from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.audit.operations import record_audit
from webapp.core.models import utcnow
from webapp.extensions import db
from webapp.org.models import Department, Person, Site

DEPARTMENT_FIELDS = ("code", "name", "name_en", "kind", "parent_id")
SITE_FIELDS = ("code", "name", "name_en", "department_id", "address", "lat", "lng", "geofence_radius_m",
               "site_class", "manager_person_id")


class OrgError(Exception):
    """A change the organisation refuses: `message` for the page, `fields` for the form."""

    def __init__(self, message: str, fields: dict | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.status = status


def site_people(site: Site, department_id: str | None = None) -> list[Person]:
    """Who can be named responsible (责任人) for a finding at `site`: its manager first, then the
    people of the site's department and of the finding's responsible department, by name."""
    depts = {d for d in (site.department_id, department_id) if d}
    people = list(db.session.scalars(select(Person).where(Person.department_id.in_(sorted(depts)),
                                                          Person.deleted_at.is_(None))
                                      .order_by(Person.name)))
    people.sort(key=lambda p: p.id != site.manager_person_id)
    return people


def is_site_person(site: Site | None, department_id: str | None, name: str | None) -> bool:
    """An empty name names nobody and passes; any other must be one of `site_people`."""
    name = (name or "").strip()
    if not name:
        return True
    return site is not None and any(p.name == name for p in site_people(site, department_id))


def _refuse(field: str, message: str, status: int = 400):
    raise OrgError(_("Some fields are not valid."), {field: [message]}, status)


def _changes(obj, values: dict, names) -> dict:
    """{field: [old, new]} for the fields whose value differs (what the audit log shows)."""
    out = {}
    for name in names:
        if name in values and getattr(obj, name) != values[name]:
            out[name] = [_plain(getattr(obj, name)), _plain(values[name])]
    return out


def _plain(value):
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def _code_taken(model, code: str, own_id: str | None) -> bool:
    q = select(model.id).where(model.code == code)
    if own_id:
        q = q.where(model.id != own_id)
    return db.session.execute(q).first() is not None


def _check_parent(department: Department | None, parent_id: str | None) -> None:
    if not parent_id:
        return
    parent = db.session.get(Department, parent_id)
    if parent is None or parent.deleted_at is not None:
        _refuse("parent_id", _("Choose a department from the list."))
    # An archived parent is refused for a move, not when an archived branch's own sub-department is
    # corrected in place.
    if parent.archived_at is not None and (department is None or department.parent_id != parent_id):
        _refuse("parent_id", _("This department is archived; choose another."))
    # A department cannot sit under itself or under one of its own sub-departments.
    node, seen = parent, set()
    while node is not None and node.id not in seen:
        if department is not None and node.id == department.id:
            _refuse("parent_id", _("A department cannot be placed under itself or its own sub-departments."))
        seen.add(node.id)
        node = db.session.get(Department, node.parent_id) if node.parent_id else None


def save_department(values: dict, actor, department: Department | None = None) -> tuple[Department, dict]:
    """Create (department None) or change a department. Returns it and {field: [old, new]} (empty
    when nothing changed: then nothing is written)."""
    values = {k: values.get(k) for k in DEPARTMENT_FIELDS if k in values}
    if _code_taken(Department, values["code"], department.id if department else None):
        _refuse("code", _("This code is already in use."), 409)
    _check_parent(department, values.get("parent_id"))
    if department is None:
        department = Department(**values)
        db.session.add(department)
        db.session.flush()
        changes = {k: [None, _plain(v)] for k, v in values.items() if v is not None}
        record_audit(actor, "department.create", "department", department.id, {"code": department.code,
                                                                              "changes": changes})
        return department, changes
    changes = _changes(department, values, DEPARTMENT_FIELDS)
    if changes:
        for name in changes:
            setattr(department, name, values[name])
        db.session.flush()
        record_audit(actor, "department.update", "department", department.id, {"code": department.code,
                                                                              "changes": changes})
    return department, changes


def _check_site_refs(values: dict, site: Site | None) -> None:
    dept = db.session.get(Department, values["department_id"]) if values.get("department_id") else None
    if dept is None or dept.deleted_at is not None:
        _refuse("department_id", _("Choose a department from the list."))
    moved = site is None or site.department_id != dept.id
    # An archived department is refused for a new or moved site, not when an archived site of an
    # archived department is corrected in place.
    if dept.archived_at is not None and moved:
        _refuse("department_id", _("This department is archived; choose another."))
    manager_id = values.get("manager_person_id")
    if manager_id and (moved or site.manager_person_id != manager_id):
        person = db.session.get(Person, manager_id)
        if person is None or person.deleted_at is not None:
            _refuse("manager_person_id", _("Choose a person from the list."))
        # The site manager (场所负责人) is one of the responsible department's people.
        if person.department_id != dept.id:
            _refuse("manager_person_id", _("Choose a person of the site's department (or leave it empty)."))


def save_site(values: dict, actor, site: Site | None = None) -> tuple[Site, dict]:
    """Create (site None) or change a site, moving it to another department included: its visits keep
    their department of the time; new visits follow the site. Returns it and what changed."""
    values = {k: values.get(k) for k in SITE_FIELDS if k in values}
    if _code_taken(Site, values["code"], site.id if site else None):
        _refuse("code", _("This code is already in use."), 409)
    _check_site_refs(values, site)
    if site is None:
        site = Site(**values)
        db.session.add(site)
        db.session.flush()
        changes = {k: [None, _plain(v)] for k, v in values.items() if v is not None}
        record_audit(actor, "site.create", "site", site.id, {"code": site.code, "changes": changes})
        return site, changes
    changes = _changes(site, values, SITE_FIELDS)
    if changes:
        for name in changes:
            setattr(site, name, values[name])
        db.session.flush()
        action = "site.move" if "department_id" in changes else "site.update"
        record_audit(actor, action, "site", site.id, {"code": site.code, "changes": changes})
    return site, changes


def archive_department(department: Department, actor) -> None:
    """Archived: kept with its history, offered for nothing new. Refused while it still has sites or
    sub-departments that are not archived (move or archive them first)."""
    if department.archived_at is not None:
        return
    open_sites = [s for s in department.sites if s.archived_at is None and s.deleted_at is None]
    children = db.session.scalars(select(Department).where(
        Department.parent_id == department.id, Department.archived_at.is_(None),
        Department.deleted_at.is_(None))).all()
    if open_sites or children:
        raise OrgError(_("It still has %(sites)s active sites and %(children)s active sub-departments: move or "
                         "archive them first.", sites=len(open_sites), children=len(children)), status=409)
    department.archived_at = utcnow()
    db.session.flush()
    record_audit(actor, "department.archive", "department", department.id, {"code": department.code})


def restore_department(department: Department, actor) -> None:
    """Back in use. Refused under an archived parent: restore the parent first (or move it)."""
    if department.archived_at is None:
        return
    parent = db.session.get(Department, department.parent_id) if department.parent_id else None
    if parent is not None and parent.archived_at is not None:
        raise OrgError(_("Its parent department is archived: restore the parent first, or move this "
                         "department under another one."), status=409)
    department.archived_at = None
    db.session.flush()
    record_audit(actor, "department.restore", "department", department.id, {"code": department.code})


def archive_site(site: Site, actor) -> None:
    """Archived: its visits, findings and reports stay; it is offered for no new plan or visit."""
    if site.archived_at is not None:
        return
    site.archived_at = utcnow()
    db.session.flush()
    record_audit(actor, "site.archive", "site", site.id, {"code": site.code})


def restore_site(site: Site, actor) -> None:
    """Back in use. Refused while its department is archived: restore it or move the site first."""
    if site.archived_at is None:
        return
    dept = db.session.get(Department, site.department_id)
    if dept is not None and dept.archived_at is not None:
        raise OrgError(_("Its department is archived: restore the department first, or move the site to "
                         "another department."), status=409)
    site.archived_at = None
    db.session.flush()
    record_audit(actor, "site.restore", "site", site.id, {"code": site.code})


class Choice(NamedTuple):
    """A department or site as a filter offers it: no ORM object (thousands of sites at chain scale)."""

    id: str
    code: str
    name: str
    name_en: str | None

    def label(self, locale: str) -> str:
        return self.name_en if (locale == "en" and self.name_en) else self.name


# A worker's copy of the live departments and sites: model → (stamp, choices, memo).
_LIVE: dict = {}


def _stamp(model) -> tuple:
    """What moves whenever a row of `model` is added, changed (version and updated_at, kept by the
    store for every change) or removed; the ids tell apart two tables of the same size and times."""
    return tuple(db.session.execute(select(func.count(), func.sum(model.version), func.max(model.updated_at),
                                           func.min(model.id), func.max(model.id))).one())


def live_choices(model) -> tuple[Choice, ...]:
    """The live departments or sites, by code, as plain rows (lists and dashboards build filters with
    them). A chain's 2,000 sites are on every list and dashboard page but seldom change: the rows are
    read again only when the table's stamp (one aggregate, ≈ 0.3 ms) moved, so every request sees the
    table as its own transaction does. Shared between requests: never changed by a caller."""
    stamp = _stamp(model)
    held = _LIVE.get(model)
    if held is not None and held[0] == stamp:
        return held[1]
    choices = tuple(Choice(*row) for row in db.session.execute(
        select(model.id, model.code, model.name, model.name_en).where(model.deleted_at.is_(None))
        .order_by(model.code)))
    _LIVE[model] = (stamp, choices, {})
    return choices


def built_once(choices, key, build):
    """`build()`, kept with a copy that live_choices returned (what is made from it once per language:
    labels, the <option>s) until that copy is replaced; built every time for other choices."""
    for entry in _LIVE.values():
        if entry[1] is choices:
            memo = entry[2]
            if key not in memo:
                memo[key] = build()
            return memo[key]
    return build()


def choice_labels(choices, locale: str) -> dict[str, str]:
    """{id: label in `locale`}, built once per copy of live_choices and language."""
    return built_once(choices, ("labels", locale), lambda: {c.id: c.label(locale) for c in choices})
