"""Use cases of the sync store: push, pull, list and resolve conflicts, read a record's history.
They flush and never commit; the request boundary commits once."""

import uuid
from datetime import UTC, date, datetime

from flask_babel import gettext as _
from marshmallow import ValidationError
from sqlalchemy import and_, or_, select

from sync.engine import Mutation, Rejection
from webapp.authz import can, can_see, scope_clause
from webapp.evidence.operations import record_push_evidence
from webapp.extensions import db
from webapp.findings.models import Finding
from webapp.rectification.models import RectificationUpdate
from webapp.sync_store import phone_scope
from webapp.sync_store.entities import ENTITIES
from webapp.sync_store.models import Conflict, Device, Revision
from webapp.sync_store.policy import POLICY, ResolutionError, make_engine, stringify
from webapp.sync_store.schemas import DATA_SCHEMAS, MutationArgs
from webapp.visits.models import Visit


class NotAllowed(Exception):
    """The user may not do this at all (HTTP 403)."""


class DeviceTaken(Exception):
    """The device id is bound to another user (HTTP 409)."""


class AlreadyResolved(Exception):
    """The conflict was settled by someone else meanwhile (HTTP 409)."""


_MUTATION_ARGS: list = []  # one instance: its messages are lazy, so it serves every request and language


_OPS = ("upsert", "delete")
_MAX_VERSION = 2**31 - 1


def _canonical_uuid(value) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _plain_mutation(raw: dict, schema: MutationArgs) -> Mutation | None:
    """The Mutation MutationArgs would load from an envelope already in canonical form (lower-case
    UUIDs, a known entity and op, an int version in range, a dict of data), without a schema load:
    a phone sends a hundred of these a push. None when anything is off: the schema then decides
    (and words the errors)."""
    op = raw.get("op", "upsert")
    entity = raw.get("entity")
    version = raw.get("base_version")
    data = raw.get("data", {})
    client_time = raw.get("client_time")
    if not (op in _OPS and type(version) is int and 0 <= version <= _MAX_VERSION
            and type(entity) is str and entity in DATA_SCHEMAS and type(data) is dict and all(type(k) is str for k in data)
            and _canonical_uuid(raw.get("mutation_id")) and _canonical_uuid(raw.get("id"))):
        return None
    if client_time is not None:
        try:
            client_time = schema.fields["client_time"].deserialize(client_time)
        except ValidationError:
            return None
    return Mutation(mutation_id=raw["mutation_id"], entity=entity, id=raw["id"], op=op,
                    base_version=version, data=dict(data), client_time=client_time)


def parse_mutation(raw):
    """A Mutation, or (mutation_id, id, Rejection) when the envelope itself is not valid."""
    if not isinstance(raw, dict):
        return (None, None, Rejection({"_schema": [_("Each mutation must be a JSON object.")]}))
    if not _MUTATION_ARGS:
        _MUTATION_ARGS.append(MutationArgs())
    plain = _plain_mutation(raw, _MUTATION_ARGS[0])
    if plain is not None:
        return plain
    try:
        m = _MUTATION_ARGS[0].load(raw)
    except ValidationError as e:
        mid = raw.get("mutation_id") if isinstance(raw.get("mutation_id"), str) else None
        rid = raw.get("id") if isinstance(raw.get("id"), str) else None
        return (mid, rid, Rejection(stringify(e.messages)))
    return Mutation(mutation_id=m["mutation_id"], entity=m["entity"], id=m["id"], op=m["op"],
                    base_version=m["base_version"], data=m["data"], client_time=m["client_time"])


def parse_mutations(raw_mutations: list) -> list:
    return [parse_mutation(raw) for raw in raw_mutations]


def bind_device(user, device_id: str) -> None:
    """A device id belongs to the user who first pushed with it: "own edits" are that user's on
    that device, so nobody else may push under it. Raises DeviceTaken."""
    device = db.session.get(Device, device_id)
    if device is None:
        with db.session.begin_nested():
            db.session.add(Device(device_id=device_id, user_id=user.id))
        return
    if device.user_id != user.id:
        raise DeviceTaken()


def push_mutations(user, device_id: str, raw_mutations: list, *, parsed: list | None = None,
                   device_time: datetime | None = None, received: datetime | None = None) -> list[dict]:
    """Apply a device's mutations (`parsed`: already parse_mutations(raw_mutations)), then record the
    trusted time of the records with a capture time it brought (`device_time`: the device's clock
    when it sent the push, `received`: the server's; see webapp/evidence/operations.py)."""
    parsed = parsed if parsed is not None else parse_mutations(raw_mutations)
    engine = make_engine()
    # Before the first statement: on SQLite that one takes the writer lock (BEGIN IMMEDIATE), and
    # validating the data needs nothing stored.
    prevalidated = engine.prevalidate(parsed)
    bind_device(user, device_id)
    results = engine.push(user, device_id, parsed, prevalidated=prevalidated)
    record_push_evidence(user, device_id, parsed, results, device_time, received or datetime.now(UTC))
    return results


def pull_changes(user, cursor: int | None, limit: int, *, encoding: str = "json", phone: bool = False,
                 horizon: int | None = None) -> dict:
    page = make_engine().pull(user, cursor, limit, encoding=encoding, phone=phone, horizon=horizon)
    if "horizon" in page:  # the phone's window applied: where its recent period begins (for "load older")
        page["since"] = phone_scope.cutoff().date().isoformat()
    return page


def fetch_record(user, entity: str, record_id: str) -> dict | None:
    """One record the user may see, as a pulled change; None when it is missing or out of scope
    (the caller answers both alike, 404)."""
    spec = ENTITIES[entity]
    if spec.reference or not can_see(spec.model, record_id, user):
        return None
    changes = make_engine().fetch([(entity, record_id)])
    return changes[0] if changes else None


def older_visits(user, *, site_id: str | None = None, before: date | None = None, before_id: str | None = None,
                 limit: int = 20) -> dict:
    """A page of the visits the user may see, newest first, before (`before`, `before_id`) — with
    everything recorded in them that the user may see — for a phone whose first pull left them out
    (webapp/sync_store/phone_scope.py). Every record is asked of the authorization module."""
    q = select(Visit.id, Visit.scheduled_for).where(scope_clause(Visit, user), Visit.deleted_at.is_(None),
                                                    Visit.scheduled_for.is_not(None))
    if site_id:
        q = q.where(Visit.site_id == site_id)
    if before is not None:
        q = q.where(or_(Visit.scheduled_for < before, and_(Visit.scheduled_for == before, Visit.id < before_id))
                    if before_id else Visit.scheduled_for < before)
    rows = db.session.execute(q.order_by(Visit.scheduled_for.desc(), Visit.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    visit_ids = [row.id for row in rows]
    refs = [("visit", pk) for pk in visit_ids]
    finding_ids = []
    if visit_ids:
        for name, spec in ENTITIES.items():
            if spec.reference or not hasattr(spec.model, "visit_id"):
                continue
            model = spec.model
            ids = list(db.session.scalars(select(model.id).where(
                model.visit_id.in_(visit_ids), model.deleted_at.is_(None), scope_clause(model, user))
                .order_by(model.id)))
            refs += [(name, pk) for pk in ids]
            if model is Finding:
                finding_ids = ids
    if finding_ids:
        refs += [("rectification_update", pk) for pk in db.session.scalars(select(RectificationUpdate.id).where(
            RectificationUpdate.finding_id.in_(finding_ids), RectificationUpdate.deleted_at.is_(None),
            scope_clause(RectificationUpdate, user)).order_by(RectificationUpdate.id))]
    last = rows[-1] if rows else None
    return {"changes": make_engine().fetch(refs) if refs else [], "more": more,
            "next": {"before": last.scheduled_for.isoformat(), "before_id": last.id} if more else None}


def conflicts_query(user, *, status="open", entity=None, record_id=None):
    q = select(Conflict).where(POLICY.conflict_scope(user))
    if status != "all":
        q = q.where(Conflict.status == status)
    if entity:
        q = q.where(Conflict.entity == entity)
    if record_id:
        q = q.where(Conflict.record_id == record_id)
    return q


def list_conflicts(user, *, status="open", entity=None, record_id=None, limit=100) -> list[Conflict]:
    q = conflicts_query(user, status=status, entity=entity, record_id=record_id)
    return db.session.scalars(q.order_by(Conflict.created_at.desc(), Conflict.id.desc()).limit(limit)).all()


def get_conflict(user, conflict_id: int) -> Conflict | None:
    return db.session.scalar(select(Conflict).where(Conflict.id == conflict_id, POLICY.conflict_scope(user)))


def resolve_conflict(user, conflict: Conflict, choice: str, value=None):
    """Managers settle a conflict; the result is a new version of the record (kind "resolution")."""
    if not can(user, "conflict.resolve", conflict):
        raise NotAllowed()
    engine = make_engine()
    engine.lock_record(conflict.entity, conflict.record_id)  # the record first, as a push does
    db.session.refresh(conflict, with_for_update=db.engine.dialect.name == "postgresql" or None)
    if conflict.status != "open":
        raise AlreadyResolved()
    if choice == "value" and value is None and conflict.field == "deleted":
        raise ResolutionError({"value": [_("Choose true or false.")]})
    return engine.resolve(user, conflict, choice, value)


def record_history(entity: str, record_id: str) -> list[Revision]:
    return db.session.scalars(
        select(Revision).where(Revision.entity == entity, Revision.record_id == record_id)
        .order_by(Revision.version, Revision.id)
    ).all()


def get_record(entity: str, record_id: str):
    spec = ENTITIES.get(entity)
    return db.session.get(spec.model, record_id) if spec else None


def wire_record(entity: str, obj) -> dict:
    spec = ENTITIES[entity]
    data = POLICY.serialize(spec, obj)
    if not spec.reference:
        data["has_conflict"] = bool(obj.has_conflict)
    return {"entity": entity, "id": obj.id, "version": obj.version, "deleted": obj.deleted_at is not None,
            "has_conflict": bool(obj.has_conflict), "data": data}


def as_time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
