"""photo_refs: which record refers to which photo (access checks by index, not JSON scans)

Backfilled from the records' `photos` lists (soft-deleted records included: their evidence is
kept) and from image attachments already stored as photos. From here on the flush hook in
webapp/photos/refs.py keeps the table in step with the records.

Revision ID: 0101_photo_refs
Revises: 0100_sessions_and_share_expiry
"""
import sqlalchemy as sa
from alembic import op

revision = "0101_photo_refs"
down_revision = "0100_sessions_and_share_expiry"
branch_labels = None
depends_on = None

REFERRING = {"finding": "findings", "checklist_answer": "checklist_answers",
             "rectification_update": "rectification_updates"}
BATCH = 1000


def upgrade():
    op.create_table(
        "photo_refs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "entity", "record_id", name=op.f("pk_photo_refs")),
    )
    op.create_index("ix_photo_refs_record", "photo_refs", ["entity", "record_id"], unique=False)
    _backfill()


def _backfill():
    conn = op.get_bind()
    refs = sa.table("photo_refs", sa.column("sha256"), sa.column("entity"), sa.column("record_id"))
    rows = []
    for entity, table_name in REFERRING.items():
        t = sa.table(table_name, sa.column("id", sa.String), sa.column("photos", sa.JSON))
        for record_id, photos in conn.execute(sa.select(t.c.id, t.c.photos).where(t.c.photos.is_not(None))):
            shas = {s for s in photos or [] if isinstance(s, str) and len(s) == 64}
            rows.extend({"sha256": s, "entity": entity, "record_id": record_id} for s in sorted(shas))
            if len(rows) >= BATCH:
                conn.execute(refs.insert(), rows)
                rows = []
    att = sa.table("attachments", sa.column("sha256", sa.String), sa.column("note_id", sa.String),
                   sa.column("content_type", sa.String))
    photos = sa.table("photos", sa.column("sha256", sa.String))
    seen = set()
    for sha, note_id in conn.execute(
            sa.select(att.c.sha256, att.c.note_id)
            .where(att.c.note_id.is_not(None), att.c.content_type.like("image/%"),
                   att.c.sha256.in_(sa.select(photos.c.sha256)))):
        if (sha, note_id) not in seen:
            seen.add((sha, note_id))
            rows.append({"sha256": sha, "entity": "plan_note", "record_id": note_id})
    if rows:
        conn.execute(refs.insert(), rows)


def downgrade():
    op.drop_index("ix_photo_refs_record", table_name="photo_refs")
    op.drop_table("photo_refs")
