"""The audit log in words: a label per action code, the object's name, and the details (old → new)
as readable text. Unknown codes fall back to a readable form of the code; ids are never shown."""

import re

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.routing import BuildError

from webapp.extensions import db
from webapp.i18n import TERMS, current_locale_code, term

ACTIONS = {
    "user.create": _l("Created a user"),
    "user.update": _l("Changed a user"),
    "user.role_change": _l("Changed a user's role"),
    "user.deactivate": _l("Disabled a user"),
    "user.activate": _l("Enabled a user"),
    "user.approve": _l("Approved a user"),
    "user.password_reset": _l("Reset a user's password"),
    "user.password_changed": _l("Changed a password"),
    "user.sessions_ended": _l("Signed a user out everywhere"),
    "user.unlock": _l("Unlocked a user's sign-in"),
    "token.issue": _l("Signed in a device"),
    "token.refresh": _l("Renewed a device's sign-in"),
    "token.revoke": _l("Signed out a device"),
    "department.create": _l("Created a department"),
    "department.update": _l("Changed a department"),
    "department.archive": _l("Archived a department"),
    "site.create": _l("Created a site"),
    "site.update": _l("Changed a site"),
    "site.archive": _l("Archived a site"),
    "template.created": _l("Created a checklist template"),
    "template.edited": _l("Edited a checklist template"),
    "template.revised": _l("Revised a checklist template"),
    "plan.created": _l("Created a plan"),
    "plan.updated": _l("Changed a plan"),
    "plan.submitted": _l("Submitted a plan"),
    "plan.approved": _l("Approved a plan"),
    "plan.returned": _l("Returned a plan"),
    "plan.published": _l("Published a plan"),
    "plan.closed": _l("Closed a plan"),
    "plan.note_added": _l("Commented on a plan"),
    "plan.schedule_added": _l("Scheduled a visit in a plan"),
    "plan.schedule_changed": _l("Changed a plan's schedule"),
    "plan.schedule_removed": _l("Removed a visit from a plan"),
    "visit.reassign": _l("Reassigned a visit"),
    "finding.assign": _l("Assigned a problem"),
    "finding.confirmed": _l("Confirmed a problem in review"),
    "finding.rejected": _l("Rejected a problem in review"),
    "finding.merged": _l("Merged a problem into another"),
    "finding.corrected": _l("Corrected a problem in review"),
    "report.create": _l("Created a report"),
    "report.share": _l("Shared a report"),
    "report.share_revoked": _l("Revoked a report's share link"),
    "report.new_version": _l("Made a new report version"),
    "rectification.plan": _l("Planned a rectification"),
    "rectification.plan_revised": _l("Revised a rectification plan"),
    "rectification.progress": _l("Reported rectification progress"),
    "rectification.coordination": _l("Noted a coordination"),
}

# Kinds of things the page filters by: (entity values, action prefixes).
KINDS = {
    "user": (_l("Users"), ("user",), None),
    "sign_in": (_l("Sign-in and devices"), None, ("token.", "user.sessions_ended", "user.unlock",
                                                  "user.password_")),
    "department": (_l("Departments"), ("department",), None),
    "site": (_l("Sites"), ("site",), None),
    "template": (_l("Checklist templates"), ("template",), None),
    "plan": (_l("Plans"), ("plan",), None),
    "visit": (_l("Visits"), ("visit", "visit_rating"), None),
    "finding": (_l("Problems and rectification"), ("finding", "rectification"), None),
    "report": (_l("Reports"), ("report",), None),
    "results": (_l("Points, warnings and evaluation"), ("point_rule", "point_entry", "point_period", "evaluation",
                                                         "warning", "warning_rule", "policy_suggestion",
                                                         "supervisor_profile", "training_plan"), None),
}

ENTITY_NAMES = {
    "user": _l("User"), "department": _l("Department"), "site": _l("Site"), "template": _l("Checklist template"),
    "plan": _l("Plan"), "visit": _l("Visit"), "finding": _l("Problem"), "report": _l("Report"),
    "rectification": _l("Rectification"), "point_rule": _l("Points rule"), "point_entry": _l("Points entry"),
    "point_period": _l("Points period"), "evaluation": _l("Evaluation"), "policy_suggestion": _l("Policy suggestion"),
    "supervisor_profile": _l("Supervisor profile"), "warning": _l("Early warning"), "warning_rule": _l("Warning rule"),
}

FIELDS = {
    "display_name": _l("Display name"), "role": _l("Role"), "department": _l("Department"), "email": _l("Email"),
    "mobile": _l("Mobile"), "locale": _l("Language"), "username": _l("Username"), "active": _l("Active"),
    "sessions": _l("Sign-ins ended"), "tokens": _l("Devices signed out"), "temporary": _l("Temporary password"),
    "failed_sign_ins": _l("Failed sign-ins forgotten"), "addresses": _l("Addresses"),
    "device_name": _l("Device"), "from": _l("From"), "to": _l("To"), "comment": _l("Comment"),
    "note": _l("Note"), "name": _l("Name"), "code": _l("Code"), "title": _l("Title"), "revision": _l("Revision"),
    "status": _l("Status"), "reason": _l("Reason"), "site": _l("Site"), "supervisor": _l("Supervisor"),
}

STATUS_GROUPS = {"plan": "plan_status", "report": "report_status", "finding": "finding_status",
                 "rectification": "rectification_status", "visit": "visit_status", "policy_suggestion": "policy_status"}

# (endpoint, argument) of the page that shows an object, where one exists.
LINKS = {
    "user": ("users.edit", "user_id"), "template": ("checklists.detail", "template_id"),
    "plan": ("plans.detail", "plan_id"), "visit": ("visits.detail", "visit_id"),
    "finding": ("findings.detail", "finding_id"), "rectification": ("rectification.detail", "finding_id"),
    "report": ("reports.detail", "report_id"), "department": ("org.department", "department_id"),
    "site": ("org.site", "site_id"), "policy_suggestion": ("policy.detail", "suggestion_id"),
}


def humanize(code: str) -> str:
    return code.replace("_", " ").replace(".", " · ").strip().capitalize()


def action_label(action: str) -> str:
    if action in ACTIONS:
        return str(ACTIONS[action])
    entity, _sep, verb = action.partition(".")
    thing = ENTITY_NAMES.get(entity)
    return f"{thing}: {humanize(verb)}" if thing and verb else humanize(action)


def entity_label(entity: str) -> str:
    return str(ENTITY_NAMES.get(entity, humanize(entity)))


def field_label(key: str) -> str:
    if key in FIELDS:
        return str(FIELDS[key])
    if key in TERMS["field"]:
        return term("field", key)
    return humanize(key)


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _ids_in(value, into: set) -> None:
    if isinstance(value, str) and UUID.match(value):
        into.add(value)
    elif isinstance(value, list):
        for v in value:
            _ids_in(v, into)
    elif isinstance(value, dict):
        for v in value.values():
            _ids_in(v, into)


def object_names(entries) -> dict:
    """{(entity, id): name} for every object the entries name, a query per kind, plus
    {("_value", id): name} for the users and departments named inside their details (an old and a
    new department, the supervisor a visit went to) and {("_link", entity, id): id} where an
    object's page is its parent's (a rectification's is its finding's)."""
    from webapp.auth.models import User
    from webapp.checklists.models import ChecklistTemplate
    from webapp.findings.models import Finding
    from webapp.org.models import Department, Site
    from webapp.plans.models import Plan
    from webapp.rectification.models import Rectification
    from webapp.reports.models import Report
    from webapp.visits.models import Visit

    loc = current_locale_code()
    wanted: dict[str, set] = {}
    inside: set = set()
    for e in entries:
        wanted.setdefault(e.entity, set()).add(e.entity_id)
        _ids_in(e.data or {}, inside)
    how = {
        "user": (User, lambda u: u.display_name),
        "department": (Department, lambda d: d.label(loc)),
        "site": (Site, lambda s: s.label(loc)),
        "template": (ChecklistTemplate, lambda t: f"{t.name} (r{t.revision})"),
        "plan": (Plan, lambda p: p.title),
        "visit": (Visit, lambda v: " · ".join(x for x in (v.site.label(loc) if v.site else "",
                                                           str(v.scheduled_for or "")) if x)),
        "finding": (Finding, lambda f: f.title),
        "rectification": (Rectification, lambda r: r.finding.title if r.finding else ""),
        "report": (Report, lambda r: r.title),
    }
    names = {}
    for entity, ids in wanted.items():
        if entity not in how:
            continue
        model, name = how[entity]
        ids = [i for i in ids if i and len(i) <= 36]
        for row in db.session.scalars(select(model).where(model.id.in_(ids))) if ids else ():
            names[(entity, str(row.id))] = name(row) or None
            if entity == "rectification":
                names[("_link", entity, str(row.id))] = row.finding_id
    if inside:
        for model in (User, Department):
            for row in db.session.scalars(select(model).where(model.id.in_(list(inside)))):
                names[("_value", row.id)] = row.display_name if model is User else row.label(loc)
    return names


def object_link(entity: str, entity_id: str, names: dict | None = None) -> str | None:
    entity_id = (names or {}).get(("_link", entity, entity_id), entity_id)
    link = LINKS.get(entity)
    if link is None or link[0] not in current_app.view_functions:
        return None
    try:
        return url_for(link[0], **{link[1]: entity_id})
    except BuildError:
        return None


def _value(key: str, value, entity: str, names: dict) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if key == "role":
        return term("role", value)
    if isinstance(value, str) and UUID.match(value):  # a user or a department, by name; never the id
        return names.get(("_value", value), str(_l("(removed)")))
    if key == "locale":
        return current_app.config["LANGUAGES"].get(value, value)
    if key in ("from", "to", "status") and entity in STATUS_GROUPS and value in TERMS[STATUS_GROUPS[entity]]:
        return term(STATUS_GROUPS[entity], value)
    if isinstance(value, list):
        return ", ".join(_value(key, v, entity, names) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{field_label(k)}: {_value(k, v, entity, names)}" for k, v in value.items()
                         if not _hidden(k))
    text = str(value)
    return text if len(text) <= 300 else text[:300] + "…"


def _hidden(key: str) -> bool:
    """Keys that hold ids only: nothing a reader could use."""
    return key == "id" or key.endswith("_id") or key.endswith("_ids")


def details(entry, names: dict) -> list[dict]:
    """The entry's data as rows {label, old, new} (a change) or {label, value}."""
    data = entry.data if isinstance(entry.data, dict) else {}
    rows = []
    for key, change in (data.get("changes") or {}).items():
        if isinstance(change, list) and len(change) == 2:
            rows.append({"label": field_label(key), "old": _value(key, change[0], entry.entity, names),
                         "new": _value(key, change[1], entry.entity, names)})
    if "from" in data and "to" in data:
        moved = any(isinstance(v, str) and UUID.match(v) for v in (data["from"], data["to"]))
        rows.append({"label": field_label("supervisor" if entry.action == "visit.reassign" else
                                          "status" if not moved else "to"), "old": _value("from", data["from"], entry.entity, names),
                     "new": _value("to", data["to"], entry.entity, names)})
    for key, value in data.items():
        if key in ("changes", "from", "to") or _hidden(key):
            continue
        if key == "temporary" and value:
            rows.append({"label": field_label(key), "value": str(_l("Yes"))})
            continue
        rows.append({"label": field_label(key), "value": _value(key, value, entry.entity, names)})
    return rows
