"""Conflicts: record the losing side of a merge, and settle a conflict with a new version."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from sync.protocol import DELETED, Mutation, Rejection, wire


class Conflicts:
    """The conflicts half of SyncEngine (a mixin)."""

    def _record_conflicts(self, user, device_id, m: Mutation, spec, obj, conflicts: list, flush=True) -> None:
        """The losing side as a revision and one open conflict per field. Without `flush`, each
        conflict keeps its row under "row" until the caller has flushed (then it gets its id)."""
        dept, sup = self.policy.scope_keys(spec, obj)
        data = self.policy.serialize(spec, obj)
        losing = {c["field"]: c["client"] for c in conflicts}
        now = datetime.now(UTC)
        # The losing side goes into history too: nothing the device sent is lost.
        self.session.add(self.store.revision(
            entity=spec.name, record_id=obj.id, version=obj.version, kind="conflict", data={**data, **losing},
            changed=losing, user_id=user.id, device_id=device_id, mutation_id=m.mutation_id,
            client_time=m.client_time, server_time=now))
        for c in conflicts:
            row = self.store.conflict(
                entity=spec.name, record_id=obj.id, field=c["field"], base=c["base"], server=c["server"],
                client=c["client"], mutation_id=m.mutation_id, user_id=user.id, device_id=device_id,
                client_time=m.client_time, created_at=now, status="open", department_id=dept, supervisor_id=sup)
            self.session.add(row)
            if flush:
                self.session.flush()
                c["id"] = row.id
            else:
                c["row"] = row
        if flush:
            self.session.flush()

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
