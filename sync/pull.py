"""Pull: the change feed in the user's scope after a cursor, oldest first, with the deletion
markers of records that left it."""

from collections import defaultdict

from sqlalchemy import select


class Pull:
    """The pull half of SyncEngine (a mixin)."""

    def pull(self, user, cursor: int | None, limit: int) -> dict:
        Change = self.store.change
        q = select(Change).where(self.policy.change_scope(user)).order_by(Change.seq).limit(limit + 1)
        if cursor:
            q = q.where(Change.seq > cursor)
        else:
            q = q.where(Change.deleted.is_(False))  # a fresh device needs no tombstones
        rows = self.session.scalars(q).all()
        more = len(rows) > limit
        rows = rows[:limit]
        by_entity = defaultdict(list)
        for row in rows:
            by_entity[row.entity].append(row.record_id)
        exits = by_entity.pop(self.policy.exit_entity, None)
        markers = {}
        if exits:
            # Records that left this user's scope: deletion markers, where the exit sits in the feed.
            exit_rows = [row for row in rows if row.entity == self.policy.exit_entity]
            for row in exit_rows:
                markers[row.seq] = self.policy.exits(user, [row])
        records = {}
        for entity, ids in by_entity.items():
            spec = self.entities[entity]
            stmt = select(spec.model).where(spec.model.id.in_(ids)).options(*self.policy.load_options(spec))
            for obj in self.session.scalars(stmt):
                records[(entity, obj.id)] = obj
        extras = {}
        for entity in by_entity:
            spec = self.entities[entity]
            extras.update(self.policy.pull_extras(spec, [o for (e, _i), o in records.items() if e == entity]))
        changes = []
        for row in rows:
            if row.seq in markers:
                changes.extend(markers[row.seq])
                continue
            obj = records.get((row.entity, row.record_id))
            if obj is None:
                continue
            spec = self.entities[row.entity]
            data = self.policy.serialize(spec, obj)
            if not spec.reference:
                data["has_conflict"] = bool(obj.has_conflict)
            data.update(extras.get(obj.id, {}))
            changes.append({"entity": row.entity, "id": obj.id, "version": obj.version,
                            "deleted": obj.deleted_at is not None, "has_conflict": bool(obj.has_conflict),
                            "data": data})
        next_cursor = rows[-1].seq if rows else (cursor or 0)
        return {"changes": changes, "cursor": next_cursor, "more": more}
