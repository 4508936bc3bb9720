"""Plan and apply an import. One code path for both: every row goes through the same checks and the
same operations (webapp/org, webapp/checklists, save_user_row); the preview runs them and rolls the
whole transaction back, the confirmation runs them again and the view commits once. So the preview
shows exactly what the confirmation does, and nothing is written before it.

A row's status: create (its code is new), change (it exists and differs: old → new per column),
unchanged (same values: its operation is not even called, so nothing is written and nothing
audited) or error (the columns to fix, in the user's language).
"""

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import select

from webapp.audit.operations import record_audit
from webapp.auth.models import User
from webapp.checklists import operations as checklist_ops
from webapp.checklists.models import ChecklistTemplate
from webapp.checklists.schemas import (
    TemplateArgs,
    TemplateItemArgs,
    normalize_item,
    options_text,
    parse_options,
)
from webapp.core.formdata import translate_errors
from webapp.core.text import codepoint, first_forbidden
from webapp.extensions import db
from webapp.i18n import current_locale_code
from webapp.onboarding.accounts import save_user_row
from webapp.onboarding.schemas import UserRowArgs
from webapp.onboarding.workbook import SHEET_BY_KIND, choice_code
from webapp.org.models import Department, Person, Site
from webapp.org.operations import OrgError, save_department, save_site
from webapp.org.schemas import DepartmentArgs, SiteArgs

ORDER = ("departments", "users", "sites", "templates")  # parents before what refers to them


# ---- one row --------------------------------------------------------------------------------------

class Row:
    def __init__(self, raw: dict, present=None):
        self.present = set(present) if present is not None else None  # the sheet's columns
        self.n = raw["n"]
        self.cells = raw["cells"]
        self.errors: list[list[str]] = []  # [column key, message]
        self.changes: list[list] = []  # [column key, old, new]
        self.status = None
        self.key = None
        self.notes: list[str] = []

    def error(self, key: str, message: str) -> None:
        if [key, message] not in self.errors:
            self.errors.append([key, str(message)])

    def raw(self, key):
        value = self.cells.get(key)
        if isinstance(value, dict):  # a formula
            self.error(key, _("Formulas are not accepted: type the value itself."))
            return None
        return value

    def text(self, key: str) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, bool):
            value = "TRUE" if value else "FALSE"
        value = str(value).strip()
        bad = first_forbidden(value)
        if bad is not None:
            self.error(key, _("This cell holds a control character (%(code)s) that cannot be saved; "
                              "retype the value.", code=codepoint(bad)))
            return None
        if len(value) > 5000:
            self.error(key, _("This text is too long."))
            return None
        return value or None

    def number(self, key: str, whole: bool = False):
        value = self.raw(key)
        if value is None or isinstance(value, bool):
            if isinstance(value, bool):
                self.error(key, _("Enter a number."))
            return None
        if isinstance(value, str):
            try:
                value = float(value.strip().replace(",", ""))
            except ValueError:
                self.error(key, _("Enter a whole number.") if whole else _("Enter a number."))
                return None
        if value != value or value in (float("inf"), float("-inf")):
            self.error(key, _("Enter a number."))
            return None
        if whole:
            if float(value) != int(value):
                self.error(key, _("Enter a whole number."))
                return None
            return int(value)
        return float(value)

    def choice(self, key: str, group: str):
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, bool) and group == "yesno":
            return value
        try:
            return choice_code(group, str(value) if not isinstance(value, int) else str(int(value)))
        except KeyError:
            self.error(key, _("Choose one of the offered options."))
            return None

    def schema_errors(self, messages: dict, columns: dict) -> None:
        for field, msgs in translate_errors(messages).items():
            key = columns.get(field, columns.get("_schema"))
            if any(k == key for k, _m in self.errors):
                continue  # a cell already refused (a formula, an unknown option) is not also "required"
            for m in (msgs if isinstance(msgs, list) else [msgs]):
                self.error(key, m if isinstance(m, str) else str(m))

    def keep(self, values: dict, old: dict | None) -> dict:
        """A column the sheet does not have keeps the record's value (a blank cell clears it)."""
        if old is not None and self.present is not None:
            for key in values:
                if key not in self.present and key in old:
                    values[key] = old[key]
        return values

    def compare(self, old: dict | None, new: dict) -> None:
        if old is None:
            self.status = "create"
            return
        self.changes = [[k, old.get(k), v] for k, v in new.items() if old.get(k) != v]
        self.status = "change" if self.changes else "unchanged"

    def result(self) -> dict:
        return {"n": self.n, "key": self.key, "status": "error" if self.errors or not self.status else self.status,
                "changes": self.changes, "errors": self.errors, "notes": self.notes}


def _duplicates(rows: list[Row], column: str) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if row.key is None:
            continue
        if row.key in seen:
            row.error(column, _("This is already given in row %(n)s.", n=seen[row.key]))
        else:
            seen[row.key] = row.n


def _refused(row: Row, error, columns: dict) -> None:
    fields = getattr(error, "fields", None) or {}
    if not fields:
        row.error(columns.get("_schema", "code"), error.message)
    for field, msgs in fields.items():
        for m in msgs:
            row.error(columns.get(field, columns.get("_schema", "code")), m)


def _department(code: str | None) -> Department | None:
    if not code:
        return None
    return db.session.scalar(select(Department).where(Department.code == code, Department.deleted_at.is_(None)))


# ---- exported values (also what a row is compared with) -----------------------------------------

def _person_label(person: Person | None) -> str | None:
    return None if person is None else (person.code or person.name)


def department_values(d: Department, codes: dict) -> dict:
    return {"code": d.code, "name": d.name, "name_en": d.name_en, "kind": d.kind,
            "parent_code": codes.get(d.parent_id)}


def site_values(s: Site, codes: dict) -> dict:
    return {"code": s.code, "name": s.name, "name_en": s.name_en, "department_code": codes.get(s.department_id),
            "address": s.address, "lat": s.lat, "lng": s.lng, "geofence_radius_m": s.geofence_radius_m,
            "site_class": s.site_class, "manager": _person_label(s.manager)}


def user_values(u: User, codes: dict) -> dict:
    return {"username": u.username, "display_name": u.display_name, "role": u.role,
            "department_code": codes.get(u.department_id), "email": u.email, "mobile": u.mobile,
            "locale": u.locale}


def item_values(t: ChecklistTemplate, i) -> dict:
    return {"template_code": t.code, "template_name": t.name, "template_name_en": t.name_en, "item_code": i.code,
            "area": i.area, "title": i.title, "title_en": i.title_en, "guidance": i.guidance, "weight": i.weight,
            "scoring": i.scoring, "max_points": i.max_points, "photo_required_on_fail": i.photo_required_on_fail,
            "answer_type": i.answer_type, "criteria": i.criteria, "scale_min": i.scale_min, "scale_max": i.scale_max,
            "options": options_text(i.options) or None, "range_min": i.range_min, "range_max": i.range_max,
            "unit": i.unit}


def _dept_codes() -> dict:
    return dict(db.session.execute(select(Department.id, Department.code)).all())


def export_rows() -> dict[str, list[dict]]:
    """The current data, one dict per row of each sheet (archived records included: they are data)."""
    codes = _dept_codes()
    depts = db.session.scalars(select(Department).where(Department.deleted_at.is_(None))
                               .order_by(Department.code)).all()
    by_id = {d.id: d for d in depts}

    def depth(d):
        n, seen = 0, set()
        while d.parent_id and d.parent_id in by_id and d.id not in seen:
            seen.add(d.id)
            d, n = by_id[d.parent_id], n + 1
        return n

    sites = db.session.scalars(select(Site).where(Site.deleted_at.is_(None)).order_by(Site.code)).all()
    users = db.session.scalars(select(User).order_by(User.username)).all()
    templates = db.session.scalars(select(ChecklistTemplate).where(
        ChecklistTemplate.is_current.is_(True), ChecklistTemplate.deleted_at.is_(None))
        .order_by(ChecklistTemplate.code)).all()
    return {
        "departments": [department_values(d, codes) for d in sorted(depts, key=lambda d: (depth(d), d.code))],
        "sites": [site_values(s, codes) for s in sites],
        "users": [user_values(u, codes) for u in users],
        "templates": [item_values(t, i) for t in templates for i in t.items],
    }


# ---- the sheets ------------------------------------------------------------------------------------

DEPT_COLUMNS = {"code": "code", "name": "name", "name_en": "name_en", "kind": "kind", "parent_id": "parent_code",
                "_schema": "code"}


def _departments(rows: list[Row], actor) -> None:
    values = {}
    for row in rows:
        v = {"code": row.text("code"), "name": row.text("name"), "name_en": row.text("name_en"),
             "kind": row.choice("kind", "kind") or "department", "parent_code": row.text("parent_code")}
        existing = _department(v["code"])
        row.keep(v, department_values(existing, _dept_codes()) if existing else None)
        row.key = v["code"]
        try:
            DepartmentArgs().load({k: v[k] for k in ("code", "name", "name_en", "kind") if v[k] is not None})
        except ValidationError as e:
            row.schema_errors(e.messages, DEPT_COLUMNS)
        values[row.n] = v
    _duplicates(rows, "code")
    # The tree once the file is applied: the database's, with the file's parents over it.
    codes = _dept_codes()
    parent_of = {d.code: codes.get(d.parent_id) for d in db.session.scalars(
        select(Department).where(Department.deleted_at.is_(None)))}
    in_file = {values[r.n]["code"]: r for r in rows if values[r.n]["code"]}
    for row in rows:
        if values[row.n]["code"] and not any(k == "code" for k, _m in row.errors):
            parent_of[values[row.n]["code"]] = values[row.n]["parent_code"]
    for row in rows:
        v = values[row.n]
        parent = v["parent_code"]
        if not parent or row.errors:
            continue
        if parent not in parent_of:
            row.error("parent_code", _("No department has this code (check the Departments sheet)."))
        elif parent in in_file and in_file[parent].errors:
            row.error("parent_code", _("Fix row %(n)s (this parent) first.", n=in_file[parent].n))
        else:
            node, seen = parent, {v["code"]}
            while node:
                if node in seen:
                    row.error("parent_code", _("A department cannot be placed under itself or its own "
                                               "sub-departments."))
                    break
                seen.add(node)
                node = parent_of.get(node)

    def depth(code):
        n, seen = 0, set()
        while parent_of.get(code) and code not in seen:
            seen.add(code)
            code, n = parent_of[code], n + 1
        return n

    for row in sorted(rows, key=lambda r: depth(values[r.n]["code"] or "")):
        if row.errors:
            continue
        v = values[row.n]
        existing = _department(v["code"])
        row.compare(department_values(existing, _dept_codes()) if existing else None, v)
        if row.status == "unchanged":
            continue
        parent = _department(v["parent_code"])
        data = {"code": v["code"], "name": v["name"], "name_en": v["name_en"], "kind": v["kind"],
                "parent_id": parent.id if parent else None}
        try:
            with db.session.begin_nested():
                save_department(data, actor, existing)
        except OrgError as e:
            _refused(row, e, DEPT_COLUMNS)


USER_COLUMNS = {"username": "username", "display_name": "display_name", "role": "role",
                "department_id": "department_code", "email": "email", "mobile": "mobile", "locale": "locale",
                "_schema": "username"}


def _users(rows: list[Row], actor, passwords: list, dry_run: bool) -> None:
    for row in rows:
        username = row.text("username")
        row.key = username.lower() if username else None
    _duplicates(rows, "username")
    codes = _dept_codes()
    for row in rows:
        v = {"username": row.key, "display_name": row.text("display_name"), "role": row.choice("role", "role"),
             "department_code": row.text("department_code"), "email": row.text("email"),
             "mobile": row.text("mobile"), "locale": row.choice("locale", "locale")}
        existing = db.session.scalar(select(User).where(User.username == v["username"])) if v["username"] else None
        row.keep(v, user_values(existing, codes) if existing else None)
        dept = _department(v["department_code"])
        if v["department_code"] and dept is None:
            row.error("department_code", _("No department has this code (check the Departments sheet)."))
        data = {k: v[k] for k in ("username", "display_name", "role", "email", "mobile", "locale")}
        data["department_id"] = dept.id if dept else None
        try:
            data = UserRowArgs().load({k: x for k, x in data.items() if x is not None})
        except ValidationError as e:
            row.schema_errors(e.messages, USER_COLUMNS)
        if v["role"] in ("dept_head", "staff") and not v["department_code"]:
            row.error("department_code", _("Department heads and staff need a department."))
        if row.errors:
            continue
        row.compare(user_values(existing, codes) if existing else None, v)
        if existing is not None and existing.id == getattr(actor, "id", None) and existing.role != v["role"]:
            row.error("role", _("You cannot change your own role in an import."))
            continue
        if row.status == "unchanged":
            continue
        with db.session.begin_nested():
            user, _changes, password = save_user_row(data, actor, existing, dry_run=dry_run)
        if password:
            passwords.append({"username": user.username, "display_name": user.display_name, "password": password})


SITE_COLUMNS = {"code": "code", "name": "name", "name_en": "name_en", "department_id": "department_code",
                "address": "address", "lat": "lat", "lng": "lng", "geofence_radius_m": "geofence_radius_m",
                "site_class": "site_class", "manager_person_id": "manager", "_schema": "code"}


def _manager(row: Row, dept: Department | None, label: str | None) -> Person | None:
    if not label or dept is None:
        return None
    people = db.session.scalars(select(Person).outerjoin(User, User.id == Person.user_id).where(
        Person.department_id == dept.id, Person.deleted_at.is_(None),
        (Person.code == label) | (Person.name == label) | (User.username == label.lower()))).all()
    by_code = [p for p in people if p.code == label or (p.user_id and p.name != label)]
    if len(by_code) == 1:
        return by_code[0]
    if len(people) == 1:
        return people[0]
    if not people:
        row.error("manager", _("No one in this department has this code, name or username."))
    else:
        row.error("manager", _("Several people in this department have this name; give the person's code."))
    return None


def _sites(rows: list[Row], actor) -> None:
    for row in rows:
        row.key = row.text("code")
    _duplicates(rows, "code")
    codes = _dept_codes()
    for row in rows:
        v = {"code": row.key, "name": row.text("name"), "name_en": row.text("name_en"),
             "department_code": row.text("department_code"), "address": row.text("address"),
             "lat": row.number("lat"), "lng": row.number("lng"),
             "geofence_radius_m": row.number("geofence_radius_m", whole=True), "site_class": row.text("site_class"),
             "manager": row.text("manager")}
        existing = db.session.scalar(select(Site).where(Site.code == v["code"], Site.deleted_at.is_(None))) \
            if v["code"] else None
        row.keep(v, site_values(existing, codes) if existing else None)
        dept = _department(v["department_code"])
        if v["department_code"] and dept is None:
            row.error("department_code", _("No department has this code (check the Departments sheet)."))
        manager = _manager(row, dept, v["manager"])
        data = {"code": v["code"], "name": v["name"], "name_en": v["name_en"],
                "department_id": dept.id if dept else (v["department_code"] and "?"), "address": v["address"],
                "lat": v["lat"], "lng": v["lng"], "geofence_radius_m": v["geofence_radius_m"],
                "site_class": v["site_class"], "manager_person_id": manager.id if manager else None}
        try:
            data = SiteArgs().load({k: x for k, x in data.items() if x is not None})
        except ValidationError as e:
            row.schema_errors(e.messages, SITE_COLUMNS)
        if row.errors:
            continue
        v["geofence_radius_m"] = data["geofence_radius_m"]
        v["manager"] = _person_label(manager)
        row.compare(site_values(existing, codes) if existing else None, v)
        if row.status == "unchanged":
            continue
        try:
            with db.session.begin_nested():
                save_site(data, actor, existing)
        except OrgError as e:
            _refused(row, e, SITE_COLUMNS)


ITEM_COLUMNS = {"code": "item_code", "area": "area", "title": "title", "title_en": "title_en",
                "guidance": "guidance", "weight": "weight", "scoring": "scoring", "max_points": "max_points",
                "photo_required_on_fail": "photo_required_on_fail", "_schema": "item_code",
                "answer_type": "answer_type", "criteria": "criteria", "scale_min": "scale_min",
                "scale_max": "scale_max", "options": "options", "range_min": "range_min", "range_max": "range_max",
                "unit": "unit"}
RICH = ("answer_type", "criteria", "scale_min", "scale_max", "options", "range_min", "range_max", "unit")
TEMPLATE_COLUMNS = {"code": "template_code", "name": "template_name", "name_en": "template_name_en",
                    "items": "item_code", "_schema": "template_code"}


def _templates(rows: list[Row], actor) -> None:
    groups: dict[str, list[tuple[Row, dict]]] = {}
    for row in rows:
        code = row.text("template_code")
        v = {"template_code": code.upper() if code else None, "template_name": row.text("template_name"),
             "template_name_en": row.text("template_name_en"), "item_code": row.text("item_code"),
             "area": row.choice("area", "area"), "title": row.text("title"), "title_en": row.text("title_en"),
             "guidance": row.text("guidance"), "weight": row.number("weight"),
             "scoring": row.choice("scoring", "scoring"), "max_points": row.number("max_points"),
             "photo_required_on_fail": row.choice("photo_required_on_fail", "yesno"),
             "answer_type": row.choice("answer_type", "answer_type"), "criteria": row.text("criteria"),
             "scale_min": row.number("scale_min"), "scale_max": row.number("scale_max"), "options": row.text("options"),
             "range_min": row.number("range_min"), "range_max": row.number("range_max"), "unit": row.text("unit")}
        row.key = f"{v['template_code'] or ''} · {v['item_code'] or ''}"
        current = _current_template(v["template_code"]) if v["template_code"] else None
        if current is not None:
            old = next((item_values(current, i) for i in current.items if i.code == v["item_code"]), None)
            row.keep(v, old or {"template_name": current.name, "template_name_en": current.name_en})
        item = {"area": v["area"], "code": v["item_code"], "title": v["title"], "title_en": v["title_en"],
                "guidance": v["guidance"], "weight": v["weight"], "scoring": v["scoring"],
                "max_points": v["max_points"], "photo_required_on_fail": v["photo_required_on_fail"],
                **{k: v[k] for k in RICH if k != "options"}}
        if v["options"]:
            parsed = parse_options(v["options"])
            if isinstance(parsed, str):
                row.error("options", parsed)
            else:
                item["options"] = parsed
        # What the sheet has no column for (conditions, reference photos) stays as the item has it.
        kept = next((i for i in current.items if i.code == v["item_code"]), None) if current is not None else None
        if kept is not None:
            item.update(condition=kept.condition, reference_photos=list(kept.reference_photos or []))
        try:
            item = TemplateItemArgs().load({k: x for k, x in item.items() if x is not None})
        except ValidationError as e:
            row.schema_errors(e.messages, ITEM_COLUMNS)
        if not v["template_code"]:
            row.error("template_code", _("This field is required."))
            continue
        v.update(weight=item.get("weight"), scoring=item.get("scoring"), max_points=item.get("max_points"),
                 photo_required_on_fail=item.get("photo_required_on_fail"))
        if not row.errors:  # compared as stored: a points item is a 0–max scale, unused settings dropped
            shown = normalize_item({**item, "options": list(item.get("options") or [])})
            v.update({k: shown.get(k) for k in RICH if k != "options"}, scoring=shown["scoring"],
                     max_points=shown["max_points"], options=options_text(shown["options"]) or None)
        groups.setdefault(v["template_code"], []).append((row, v, item))
    for code, members in groups.items():
        _template(code, members, actor)


def _current_template(code: str) -> ChecklistTemplate | None:
    return db.session.scalar(select(ChecklistTemplate).where(
        ChecklistTemplate.code == code, ChecklistTemplate.is_current.is_(True),
        ChecklistTemplate.deleted_at.is_(None)))


def _template(code: str, members: list, actor) -> None:
    first, fv, _item = members[0]
    seen: dict[str, int] = {}
    for row, v, _i in members:
        if v["template_name"] and fv["template_name"] and v["template_name"] != fv["template_name"]:
            row.error("template_name", _("Differs from row %(n)s of the same template.", n=first.n))
        if v["item_code"] in seen:
            row.error("item_code", _("This is already given in row %(n)s.", n=seen[v["item_code"]]))
        elif v["item_code"]:
            seen[v["item_code"]] = row.n
    data = {"code": code, "name": fv["template_name"], "name_en": fv["template_name_en"],
            "items": [i for _r, _v, i in members]}
    try:
        TemplateArgs().load({k: x for k, x in data.items() if x is not None and k != "items"} | {"items": []},
                            partial=("items",))
    except ValidationError as e:
        messages = {k: m for k, m in e.messages.items() if k != "items"}
        first.schema_errors(messages, TEMPLATE_COLUMNS)
    if any(r.errors for r, _v, _i in members):
        return
    current = _current_template(code)
    old_items = {i.code: item_values(current, i) for i in current.items} if current else {}
    for row, v, _i in members:
        if current is None:
            row.status = "create"
        else:
            row.compare(old_items.get(v["item_code"]), v)
    if current is None:
        with db.session.begin_nested():
            checklist_ops.create_template(actor, data)
        return
    removed = [c for c in old_items if c not in seen]
    same_order = [i.code for i in current.items if i.code in seen] == [v["item_code"] for _r, v, _i in members
                                                                      if v["item_code"] in old_items]
    if removed:
        first.notes.append(_("Items not in the file will be removed from the template: %(codes)s",
                             codes=", ".join(removed)))
    if not same_order:
        first.notes.append(_("The order of the items changes."))
        if first.status == "unchanged":
            first.status = "change"
    if removed and first.status == "unchanged":
        first.status = "change"
    if all(r.status == "unchanged" for r, _v, _i in members):
        return
    if checklist_ops.is_used(current):
        first.notes.append(_("Visits already use this template: the changes become revision %(n)s, and past "
                             "visits keep theirs.", n=max(t.revision for t in checklist_ops.revisions(code)) + 1))
    data["description"] = current.description
    with db.session.begin_nested():
        checklist_ops.edit_template(actor, current, data)


# ---- the whole file --------------------------------------------------------------------------------

def run_import(parsed: dict, actor, apply: bool) -> dict:
    """Check and run every row of `parsed` (webapp/onboarding/workbook.read_workbook). Flushes, never
    commits. Not `apply` (the preview): everything is rolled back before returning. `apply`: the
    caller commits when the result has no error (and must roll back otherwise)."""
    passwords: list[dict] = []
    out = {"sheets": {}, "ignored": parsed.get("ignored", []), "passwords": passwords}
    try:
        for kind in ORDER:
            sheet = parsed["sheets"].get(kind)
            if sheet is None:
                continue
            rows = [Row(r, sheet.get("columns")) for r in sheet["rows"]]
            missing = [SHEET_BY_KIND[kind].column(k) for k in sheet.get("missing", [])]
            for row in rows if missing else ():
                for col in missing:
                    row.error(col.key, _("This sheet lacks required columns: %(cols)s", cols=col.header(
                        "en" if current_locale_code() == "en" else "zh")))
            if not missing:
                if kind == "departments":
                    _departments(rows, actor)
                elif kind == "users":
                    _users(rows, actor, passwords, dry_run=not apply)
                elif kind == "sites":
                    _sites(rows, actor)
                else:
                    _templates(rows, actor)
            out["sheets"][kind] = {"title": sheet["title"], "missing": [c.key for c in missing],
                                   "rows": [r.result() for r in sorted(rows, key=lambda r: r.n)]}
        counts = {"create": 0, "change": 0, "unchanged": 0, "error": 0}
        for sheet in out["sheets"].values():
            for r in sheet["rows"]:
                counts[r["status"]] += 1
        out["counts"] = counts
        out["blocked"] = bool(counts["error"] or any(s["missing"] for s in out["sheets"].values()))
        if apply and not out["blocked"] and (counts["create"] or counts["change"]):
            sha = parsed.get("sha256", "")
            record_audit(actor, "import.applied", "import", sha[:16],
                         {"counts": counts, "filename": parsed.get("filename"), "sha256": sha})
            db.session.flush()
    finally:
        if not apply:
            db.session.rollback()
    return out


def comparable(result: dict) -> dict:
    """What a preview promised (for the check that nothing moved between preview and confirmation)."""
    return {k: [[r["n"], r["status"], r["changes"]] for r in s["rows"]] for k, s in result["sheets"].items()}
