"""The photo_refs table follows the records that refer to photos: a flush hook rewrites a record's
rows whenever its `photos` list is written, in the same transaction, whoever writes it (a desk
form, the sync push, the phone-export import, the demo seed). Soft-deleted records keep their rows:
their evidence is kept, and whoever sees the record still sees its photos."""

from sqlalchemy import delete, event
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import get_history

from sync.sql import among, insert_rows
from webapp.checklists.models import TemplateItem
from webapp.core.models import new_id
from webapp.findings.models import Finding
from webapp.photos import ingest
from webapp.photos.models import PhotoRef
from webapp.plans.models import Attachment
from webapp.rectification.models import RectificationUpdate
from webapp.visits.models import ChecklistAnswer

# Records with a JSON list `photos` of sha256 hashes, by the entity name stored in photo_refs.
REFERRING = {"finding": Finding, "checklist_answer": ChecklistAnswer, "rectification_update": RectificationUpdate,
             "template_item": TemplateItem}
ENTITY = {model: name for name, model in REFERRING.items()}
# The list's attribute where it is not `photos`: a template item's reference photos (what "good"
# looks like), which every signed-in user sees as they see the template.
ATTRIBUTE = {TemplateItem: "reference_photos"}
# An image attached to a plan note was ingested as a photo; the note is what refers to it.
PLAN_NOTE = "plan_note"
IMAGE_TYPES = frozenset(ingest.FORMATS.values())


def photo_hashes(value) -> set[str]:
    return {s for s in value or [] if isinstance(s, str) and len(s) == 64}


def _before_flush(session: Session, _ctx, _instances) -> None:
    rewrite: dict[str, set[str]] = {}  # entity → ids whose rows are replaced
    rows = []
    # Each of session.new, .dirty and .deleted is computed anew when asked: asked once here.
    new, dirty, deleted = session.new, session.dirty, session.deleted
    for obj in list(new) + list(dirty) + list(deleted):
        if isinstance(obj, Attachment):
            if obj in new and obj.note_id and obj.content_type in IMAGE_TYPES:
                rows.append({"sha256": obj.sha256, "entity": PLAN_NOTE, "record_id": obj.note_id})
            continue
        entity = ENTITY.get(type(obj))
        if entity is None:
            continue
        attr = ATTRIBUTE.get(type(obj), "photos")
        if obj in dirty and not get_history(obj, attr).has_changes():
            continue
        if obj.id is None:
            obj.id = new_id()
        if obj not in new:  # a record being created has no rows yet: nothing to replace
            rewrite.setdefault(entity, set()).add(obj.id)
        if obj not in deleted:
            rows.extend({"sha256": sha, "entity": entity, "record_id": obj.id} for sha in sorted(photo_hashes(getattr(obj, attr))))
    table = PhotoRef.__table__
    for entity, ids in rewrite.items():
        ids = sorted(ids)
        for i in range(0, len(ids), 500):
            session.execute(delete(table).where(table.c.entity == entity, among(table.c.record_id, ids[i:i + 500])))
    if rows:
        unique = {(r["sha256"], r["entity"], r["record_id"]): r for r in rows}
        if PLAN_NOTE in {r["entity"] for r in rows}:
            _skip_existing_note_refs(session, unique)
        if unique:
            insert_rows(session, table, list(unique.values()))


def _skip_existing_note_refs(session: Session, rows: dict) -> None:
    """A plan note's refs are only added (attachments are not edited): skip any already stored."""
    from sqlalchemy import select, tuple_

    keys = [k for k in rows if k[1] == PLAN_NOTE]
    table = PhotoRef.__table__
    stored = set(session.execute(select(table.c.sha256, table.c.entity, table.c.record_id)
                                 .where(tuple_(table.c.sha256, table.c.entity, table.c.record_id).in_(keys))).all())
    for key in stored:
        rows.pop(tuple(key), None)


def install_photo_refs() -> None:
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
