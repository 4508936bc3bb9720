"""Conflicts: record the losing side of a merge, and settle a conflict with a new version."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from sync.protocol import DELETED, Mutation, Rejection, wire
from sync.sql import insert_numbered, insert_rows


class Conflicts:
    """The conflicts half of SyncEngine (a mixin)."""

    def _record_conflicts(self, user, device_id, m: Mutation, spec, obj, conflicts: list) -> None:
        """The losing side as a revision and one open conflict per field; each conflict gets its id."""
        self._write_conflicts([self._conflict_rows(user, device_id, m, spec, obj, conflicts)])

    def _conflict_rows(self, user, device_id, m: Mutation, spec, obj, conflicts: list) -> tuple:
        """(the losing side's revision row, one open conflict row per field, `conflicts`) for
        `_write_conflicts`: the record must be flushed (its version is the one the conflict is on)."""
        dept, sup = self.policy.scope_keys(spec, obj)
        data = self.policy.serialize(spec, obj)
        losing = {c["field"]: c["client"] for c in conflicts}
        now = datetime.now(UTC)
        # The losing side goes into history too: nothing the device sent is lost.
        revision = dict(entity=spec.name, record_id=obj.id, version=obj.version, kind="conflict",
                        data={**data, **losing}, changed=losing, user_id=user.id, device_id=device_id,
                        mutation_id=m.mutation_id, client_time=m.client_time, server_time=now, actor=None)
        rows = [dict(entity=spec.name, record_id=obj.id, field=c["field"], base=c["base"], server=c["server"],
                     client=c["client"], mutation_id=m.mutation_id, user_id=user.id, device_id=device_id,
                     client_time=m.client_time, created_at=now, status="open", department_id=dept,
                     supervisor_id=sup)
                for c in conflicts]
        return revision, rows, conflicts

    def _write_conflicts(self, recorded: list) -> None:
        """Write what `_conflict_rows` made, for one mutation or a whole segment, in two statements
        and outside the unit of work (nothing listens for these rows); each conflict gets its id."""
        insert_rows(self.session, self.store.revision.__table__, [revision for revision, _rows, _c in recorded])
        ids = iter(insert_numbered(self.session, self.store.conflict.__table__,
                                   [row for _revision, rows, _c in recorded for row in rows]))
        for _revision, _rows, conflicts in recorded:
            for c in conflicts:
                c["id"] = next(ids)

    def resolve(self, user, conflict, choice: str, value: Any = None):
        """Settle one open conflict: a new version (kind "resolution") every device pulls.
        Both sides stay in history. Flushes, never commits."""
        spec = self.entities[conflict.entity]
        obj = self._get_for_update(spec.model, conflict.record_id)
        self.policy.set_context(self.session, user_id=user.id, kind="resolution")
        if choice == "server":
            chosen = self._wire_field(spec, obj, conflict.field) if conflict.field != DELETED \
                else obj.deleted_at is not None
        elif choice == "client":
            chosen = conflict.client
        else:
            chosen = value
        if conflict.field == DELETED:
            if not isinstance(chosen, bool):
                raise self.policy.resolution_error({"value": [self.policy.message("boolean")]})
            if chosen and obj.deleted_at is None:
                obj.deleted_at = datetime.now(UTC)
            elif not chosen:
                obj.deleted_at = None
        else:
            try:
                typed = self.policy.validate(spec, {conflict.field: chosen}, creating=False)
            except Rejection as e:
                raise self.policy.resolution_error(
                    {"value": e.errors.get(conflict.field, list(e.errors.values()))}) from None
            setattr(obj, conflict.field, typed[conflict.field])
        conflict.status = "resolved"
        conflict.resolved_by = user.id
        conflict.resolved_at = datetime.now(UTC)
        conflict.resolution = {"choice": choice, "value": wire(chosen)}
        self.session.flush()
        C = self.store.conflict
        still_open = self.session.scalar(
            select(C.id).where(C.entity == conflict.entity, C.record_id == conflict.record_id, C.status == "open")
            .limit(1))
        obj.has_conflict = still_open is not None
        obj.updated_at = datetime.now(UTC)  # a resolution is always a new version, even "keep the server's"
        self.session.flush()
        self.policy.set_context(self.session)
        return obj
