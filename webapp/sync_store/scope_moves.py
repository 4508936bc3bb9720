"""Scope follows the owner. When a visit is reassigned to another supervisor or moves to another
department (its site changed), or a finding is given to another responsible department, whoever
could see those records before may not any more, and the new owners have never pulled them.

At flush: a visit whose site changed takes the site's department; its findings take its supervisor
(the supervisor who accepts their rectification). At commit: one ScopeExit row lists the records that moved
(the visit and everything inside it, or the finding and its progress updates) with a change-feed
row keyed by the *old* owner, and every one of those records gets a new place at the end of the
feed. The old owners' next pull turns the exit into deletion markers for the records they can no
longer see (the authorization module decides, at pull time); the new owners' next pull brings the
records themselves.
"""

from sqlalchemy import and_, false, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history

from webapp.authz import can, scope_clause
from webapp.core.models import new_id, utcnow
from webapp.findings.models import Finding
from webapp.org.models import Site
from webapp.rectification.models import RectificationUpdate
from webapp.sync_store.entities import BY_MODEL, ENTITIES
from webapp.sync_store.models import Change, ScopeExit
from webapp.sync_store.phone_scope import entered
from webapp.visits.models import Visit

SCOPE_EXIT = "scope_exit"  # the change feed's entity name for an exit row
ENTER = "enter:"  # a move's kind prefix: records entering the phone scope (no exit)
MOVES = "sync_scope_moves"  # session.info: [(kind, record id, old department, old supervisor)]
VISIT_CHILDREN = tuple(spec for spec in ENTITIES.values() if spec.model is not Visit
                       and hasattr(spec.model, "visit_id"))


def _old(obj, name):
    hist = get_history(obj, name)
    if hist.has_changes() and hist.deleted and hist.deleted[0] is not None:
        return hist.deleted[0]
    return None


def follow_owners(session: Session) -> None:
    """Before the flush: derive owners, and note every owner change for the commit."""
    moves = session.info.setdefault(MOVES, [])
    for obj in list(session.dirty):
        kind = entered(obj) if isinstance(obj, Visit | Finding) else None
        if kind is not None:  # the records inside enter the phone scope too (phone_scope.py)
            moves.append((ENTER + kind, obj.id, None, None))
        if isinstance(obj, Visit):
            if get_history(obj, "site_id").has_changes() and obj.site_id:
                site = session.get(Site, obj.site_id)
                if site is not None:
                    obj.department_id = site.department_id
            old_sup, old_dept = _old(obj, "supervisor_id"), _old(obj, "department_id")
            if old_sup == obj.supervisor_id:
                old_sup = None
            if old_dept == obj.department_id:
                old_dept = None
            if old_sup is None and old_dept is None:
                continue
            if old_sup is not None:
                for finding in session.scalars(select(Finding).where(Finding.visit_id == obj.id)):
                    finding.supervisor_id = obj.supervisor_id
            moves.append(("visit", obj.id, old_dept, old_sup))
        elif isinstance(obj, Finding):
            old_dept = _old(obj, "department_id")
            if old_dept is not None and old_dept != obj.department_id:
                moves.append(("finding", obj.id, old_dept, None))
    if not moves:
        session.info.pop(MOVES, None)


def _records_of(session: Session, kind: str, record_id: str) -> list[tuple[str, str]]:
    if kind == "finding":
        finding_ids = [record_id]
        records = [("finding", record_id)]
    else:
        records = [("visit", record_id)]
        finding_ids = []
        for spec in VISIT_CHILDREN:
            ids = list(session.scalars(select(spec.model.id).where(spec.model.visit_id == record_id)))
            records += [(spec.name, pk) for pk in ids]
            if spec.model is Finding:
                finding_ids = ids
    if finding_ids:
        records += [(BY_MODEL[RectificationUpdate].name, pk) for pk in session.scalars(
            select(RectificationUpdate.id).where(RectificationUpdate.finding_id.in_(finding_ids)))]
    return records


def moved_rows(session: Session) -> list[dict]:
    """At commit, before the feed is written: the exit rows, and the moved records' feed rows
    (existing ones, to be given a new place). Returns change-feed rows as tracking writes them."""
    moves = session.info.pop(MOVES, None)
    if not moves:
        return []
    now = utcnow()
    out = []
    for kind, record_id, old_dept, old_sup in moves:
        if kind.startswith(ENTER):  # nobody lost anything: the records only get a new place
            records = _records_of(session, kind.removeprefix(ENTER), record_id)
            out.extend(_replaced(session, records, now))
            continue
        records = _records_of(session, kind, record_id)
        exit_row = ScopeExit(id=new_id(), records=[list(r) for r in records], created_at=now)
        session.add(exit_row)
        out.append({"entity": SCOPE_EXIT, "record_id": exit_row.id, "version": 1, "deleted": False,
                    "department_id": old_dept, "supervisor_id": old_sup, "changed_at": now, "_new": True})
        out.extend(_replaced(session, records, now))
    session.flush()
    return out


def _replaced(session: Session, records: list[tuple[str, str]], now) -> list[dict]:
    """The feed rows of these records, with their scope keys as they are now, to be given a new place."""
    out = []
    by_entity: dict[str, list[str]] = {}
    for entity, pk in records:
        by_entity.setdefault(entity, []).append(pk)
    for entity, ids in by_entity.items():
        for i in range(0, len(ids), 500):
            for row in session.execute(select(Change).where(Change.entity == entity,
                                                            Change.record_id.in_(ids[i:i + 500]))).scalars():
                spec = ENTITIES[entity]
                obj = session.get(spec.model, row.record_id)
                dept, sup = spec.scope_keys(obj) if obj is not None else (row.department_id, row.supervisor_id)
                out.append({"entity": entity, "record_id": row.record_id, "version": row.version,
                            "deleted": row.deleted, "department_id": dept, "supervisor_id": sup,
                            "changed_at": now})
    return out


def exit_clause(user):
    """The exit rows of `user`'s old scope (management never loses anything)."""
    if can(user, "records.all"):
        return false()
    if user.role == "supervisor":
        return and_(Change.entity == SCOPE_EXIT, Change.supervisor_id == user.id)
    if user.department_id:
        return and_(Change.entity == SCOPE_EXIT, Change.department_id == user.department_id)
    return false()


def exit_markers(session: Session, user, exit_ids: list[str]) -> list[dict]:
    """Deletion markers for the records of these exits that `user` may not see now."""
    if not exit_ids:
        return []
    records: dict[str, set[str]] = {}
    order = []
    for row in session.scalars(select(ScopeExit).where(ScopeExit.id.in_(exit_ids))):
        for entity, pk in row.records:
            if pk not in records.setdefault(entity, set()):
                records[entity].add(pk)
                order.append((entity, pk))
    visible: set[tuple[str, str]] = set()
    for entity, ids in records.items():
        model = ENTITIES[entity].model
        visible.update((entity, pk) for pk in session.scalars(
            select(model.id).where(model.id.in_(sorted(ids)), scope_clause(model, user))))
    return [{"entity": entity, "id": pk, "deleted": True, "reason": "out_of_scope"}
            for entity, pk in order if (entity, pk) not in visible]
