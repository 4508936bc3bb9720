"""Synced values as a person reads them: a severity as 严重/High, a department by its name, a
deletion as yes/no — never the wire code. Used by the conflicts desk and the revision histories."""

from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _

from webapp.extensions import db
from webapp.i18n import TERMS, current_locale_code, term

# Fields whose values are codes of one of the TERMS groups, per entity ("*": any entity).
ENUM_FIELDS = {
    ("*", "severity"): "severity",
    ("*", "area"): "area",
    ("*", "result"): "result",
    ("finding", "status"): "finding_status",
    ("visit", "status"): "visit_status",
    ("metric", "kind"): "metric_kind",
}
# Fields holding the id of another record: shown by that record's name, never edited by hand.
REFERENCE_FIELDS = {"site_id", "department_id", "item_id", "visit_id", "supervisor_id", "template_id",
                    "plan_id", "finding_id", "author_id", "user_id"}
TIME_FIELDS = {"captured_at", "held_at", "interviewed_at", "started_at", "completed_at"}


def enum_group(entity: str, field: str) -> str | None:
    return ENUM_FIELDS.get((entity, field)) or ENUM_FIELDS.get(("*", field))


def choices(entity: str, field: str) -> list[tuple[str, str]] | None:
    """The labelled values a person may choose for an enumerated field, or None."""
    group = enum_group(entity, field)
    if group is None:
        return None
    return [(code, str(label)) for code, label in TERMS[group].items()]


def _reference_name(field: str, value) -> str:
    from webapp.auth.models import User
    from webapp.checklists.models import TemplateItem
    from webapp.org.models import Department, Site

    loc = current_locale_code()
    model = {"site_id": Site, "department_id": Department, "item_id": TemplateItem,
             "supervisor_id": User, "author_id": User, "user_id": User}.get(field)
    obj = db.session.get(model, value) if model is not None else None
    if obj is None:
        return _("(another record)")
    if isinstance(obj, User):
        return obj.display_name
    if isinstance(obj, TemplateItem):
        return obj.title_en if loc == "en" and obj.title_en else obj.title
    if hasattr(obj, "label"):
        return obj.label(loc)
    return getattr(obj, "name", "") or _("(another record)")


def display(entity: str, field: str, value) -> str:
    """One synced value in the reader's language."""
    if value is None or value == "" or value == []:
        return "—"
    if field in ("deleted", "has_conflict", "preparation_done") and isinstance(value, bool):
        return _("Yes") if value else _("No")
    group = enum_group(entity, field)
    if group is not None:
        return term(group, str(value))
    if field in REFERENCE_FIELDS:
        return _reference_name(field, value)
    if field == "photos" and isinstance(value, list):
        return _("%(n)d photo(s)", n=len(value))
    if field in TIME_FIELDS and isinstance(value, str):
        try:
            return format_datetime(datetime.fromisoformat(value), "short")
        except ValueError:
            return value
    if field == "progress":
        return f"{value}%"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) if current_locale_code() != "en" else ", ".join(map(str, value))
    return str(value)


def input_kind(entity: str, field: str) -> str:
    """How the desk lets a person enter another value: choose, a yes/no, a number, text — or only
    the two sides (a reference or a set of photos is not typed by hand)."""
    if field == "deleted":
        return "boolean"
    if enum_group(entity, field):
        return "choice"
    if field in REFERENCE_FIELDS or field in TIME_FIELDS or field in ("photos", "attendees", "preparation_done",
                                                                      "lat", "lng", "has_conflict"):
        return "none"
    if field in ("progress", "score", "value"):
        return "number"
    if field in ("description", "impact", "notes", "note", "summary", "suggestions", "department_report",
                 "preparation_notes"):
        return "textarea"
    return "text"
