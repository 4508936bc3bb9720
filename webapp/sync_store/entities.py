"""The entities of sync protocol v1: wire name ↔ model, wire fields, set fields, scope keys.

Both the change feed (tracking.py) and the sync engine read this table; adding a field to the
wire means adding it here (and never renaming one).
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from sqlalchemy import JSON, Text, inspect, type_coerce

from webapp.checklists.models import ChecklistTemplate
from webapp.evidence.models import VisitCheckin
from webapp.findings.models import Finding
from webapp.org.models import Department, Person, Site
from webapp.rectification.models import RectificationUpdate
from webapp.visits.models import ChecklistAnswer, Interview, Meeting, Metric, Visit


@dataclass(frozen=True)
class EntitySpec:
    name: str
    model: type
    fields: tuple[str, ...]
    set_fields: frozenset = field(default_factory=frozenset)
    pushable: bool = True
    reference: bool = False  # visible to every signed-in user

    def scope_keys(self, obj) -> tuple[str | None, str | None]:
        """(department_id, supervisor_id) used to filter the change feed by role."""
        if self.reference:
            return None, None
        if isinstance(obj, Visit):
            return obj.department_id, obj.supervisor_id
        if isinstance(obj, Finding):
            return obj.department_id, obj.supervisor_id
        if isinstance(obj, RectificationUpdate):
            f = _get(obj, Finding, obj.finding_id)
            return (f.department_id, f.supervisor_id) if f else (None, None)
        visit = _get(obj, Visit, getattr(obj, "visit_id", None))
        return (visit.department_id, visit.supervisor_id) if visit else (None, None)


HELD = "sync_held"  # session.info key: records a push holds by (model, id), pending ones included


def lookup(session, model, pk):
    """`session.get`, but during a push through the records the engine holds (prefetched in
    bulk, or created in this push and maybe not flushed yet)."""
    if pk is None:
        return None
    held = session.info.get(HELD)
    if held is not None:
        key = (model, pk)
        if key not in held:
            held[key] = session.get(model, pk)
        return held[key]
    for pending in session.new:  # a parent added in the same flush is not in the identity map yet
        if type(pending) is model and pending.id == pk:
            return pending
    return session.get(model, pk)


def _get(obj, model, pk):
    """The parent record, through the session `obj` belongs to (the engine may use its own)."""
    session = inspect(obj).session
    if pk is None or session is None:
        return None
    return lookup(session, model, pk)


ENTITIES: dict[str, EntitySpec] = {
    spec.name: spec
    for spec in (
        EntitySpec("department", Department, ("name", "name_en", "code", "kind", "parent_id"),
                   pushable=False, reference=True),
        EntitySpec("site", Site, ("name", "name_en", "code", "department_id", "address", "lat", "lng",
                                  "geofence_radius_m", "site_class", "archived_at", "manager_person_id"),
                   pushable=False, reference=True),
        EntitySpec("person", Person, ("name", "code", "position", "department_id", "user_id"),
                   pushable=False, reference=True),
        EntitySpec("template", ChecklistTemplate, ("name", "name_en", "code", "revision", "is_current", "site_classes",
                                                   "require_all_answered", "items"),
                   pushable=False, reference=True),
        EntitySpec("visit", Visit, ("site_id", "department_id", "template_id", "plan_id", "supervisor_id", "status",
                                    "scheduled_for", "due_by", "started_at", "completed_at",
                                    "preparation_notes", "preparation_done", "summary",
                                    "opening_signature", "closing_signature", "completion_reason"),
                   set_fields=frozenset({"preparation_done"})),
        EntitySpec("meeting", Meeting, ("visit_id", "held_at", "attendees", "notes", "department_report"),
                   set_fields=frozenset({"attendees"})),
        EntitySpec("checklist_answer", ChecklistAnswer, ("visit_id", "item_id", "result", "score", "choice", "value",
                                                         "note", "photos"),
                   set_fields=frozenset({"photos"})),
        EntitySpec("metric", Metric, ("visit_id", "kind", "name", "value", "unit", "note")),
        EntitySpec("interview", Interview, ("visit_id", "interviewee", "position", "notes", "suggestions",
                                            "interviewed_at")),
        EntitySpec("finding", Finding, ("visit_id", "site_id", "supervisor_id", "title", "description", "impact", "area",
                                        "item_id", "severity", "department_id", "responsible_person", "photos",
                                        "markup", "status", "captured_at", "lat", "lng", "has_conflict",
                                        "review_status", "review_reason", "merged_into_id"),
                   set_fields=frozenset({"photos"})),
        EntitySpec("rectification_update", RectificationUpdate, ("finding_id", "note", "progress", "photos",
                                                                 "author_id", "submit"),
                   set_fields=frozenset({"photos"})),
        EntitySpec("visit_checkin", VisitCheckin, ("visit_id", "kind", "lat", "lng", "accuracy_m", "device_time",
                                                   "reason", "distance_m", "in_fence")),
    )
}
BY_MODEL: dict[type, EntitySpec] = {spec.model: spec for spec in ENTITIES.values()}
REFERENCE = frozenset(name for name, spec in ENTITIES.items() if spec.reference)


def to_wire(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _as_set(value):
    return sorted(value or [])


def _as_list(value):
    return list(value or [])


def _as_time(value):
    return value.isoformat() if isinstance(value, datetime | date) else value


def _column_type(model, name):
    column = model.__table__.columns.get(name)
    if column is None:
        return None
    kind = getattr(column.type, "impl", column.type)  # a TypeDecorator: the type it stores as
    try:
        return kind.python_type
    except NotImplementedError:
        return None


@cache
def wire_converters(spec: EntitySpec) -> tuple:
    """One function per wire field putting a stored value on the wire, or None where the value goes
    as it is: the single rule for a record's `data`, used by serialize() (an ORM object) and by
    wire_row() (a row of columns, the pull's fast path). A set is a sorted list, a template's site
    classes a list, a date or time ISO 8601 (chosen by the column's type; a field that is not a
    plain column is checked value by value)."""
    out = []
    for name in spec.fields:
        kind = _column_type(spec.model, name)
        if name in spec.set_fields:
            out.append(_as_set)
        elif name == "site_classes":
            out.append(_as_list)
        elif kind in (datetime, date):
            out.append(_as_time)
        elif kind in (str, int, float, bool):
            out.append(None)
        else:
            out.append(to_wire)
    return tuple(out)


def _is_json(model, name) -> bool:
    column = model.__table__.columns.get(name)
    return column is not None and isinstance(column.type, JSON)


@cache
def wire_columns(spec: EntitySpec) -> tuple:
    """The columns a pull reads for spec.fields, in order, for wire_row(). A JSON column is read as
    its text where the database keeps text (SQLite), and decoded by wire_row — most are an empty
    set, decoded once."""
    return tuple(type_coerce(getattr(spec.model, name), Text) if _is_json(spec.model, name)
                 else getattr(spec.model, name) for name in spec.fields)


def _json_reader(convert):
    def read(value, _seen={}):  # noqa: B006 — a memo of the few small texts that repeat ("[]")
        if isinstance(value, str):  # the text of a JSON column (its values are lists and objects)
            if len(value) <= 8:
                parsed = _seen.get(value)
                if parsed is None:
                    parsed = _seen[value] = json.loads(value)
                value = list(parsed) if isinstance(parsed, list) else json.loads(value)
            else:
                value = json.loads(value)
        return convert(value) if convert is not None else value

    return read


@cache
def wire_row(spec: EntitySpec):
    """A function from a row of wire_columns(spec) to the wire values (a list), by the same
    converters as serialize(). Not for a template's `items` (serialize() builds them)."""
    converted = []
    for i, (name, convert) in enumerate(zip(spec.fields, wire_converters(spec), strict=True)):
        if _is_json(spec.model, name):
            converted.append((i, _json_reader(convert)))
        elif convert is not None:
            converted.append((i, convert))
    converted = tuple(converted)

    def encoder(values):
        out = list(values)
        for i, convert in converted:
            out[i] = convert(out[i])
        return out

    return encoder


def _template_items(obj) -> list[dict]:
    return [
        {"id": i.id, "area": i.area, "code": i.code, "title": i.title, "title_en": i.title_en,
         "weight": i.weight, "scoring": i.scoring, "max_points": i.max_points,
         "photo_required_on_fail": bool(i.photo_required_on_fail), "position": i.position,
         "common_problems": list(i.common_problems or []),
         # Rich checklists (fields added in v1; older phones ignore them):
         "answer_type": i.answer_type or "pass_fail", "criteria": i.criteria, "guidance": i.guidance,
         "scale_min": i.scale_min, "scale_max": i.scale_max, "options": i.options or [],
         "range_min": i.range_min, "range_max": i.range_max, "unit": i.unit, "condition": i.condition,
         "reference_photos": list(i.reference_photos or [])}
        for i in sorted(obj.items, key=lambda i: (i.position, i.code))
    ]


def serialize(spec: EntitySpec, obj) -> dict:
    """The record's wire `data` (fields only; id/version/deleted travel beside it)."""
    out = {}
    for name, convert in zip(spec.fields, wire_converters(spec), strict=True):
        if name == "items" and spec.name == "template":
            out["items"] = _template_items(obj)
        else:
            value = getattr(obj, name)
            out[name] = convert(value) if convert is not None else value
    return out
