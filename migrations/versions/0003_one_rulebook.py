"""One rulebook: devices bound to their user, scope exits in the change feed, who wrote a revision.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import webapp.core.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sync_devices",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("first_seen_at", webapp.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_sync_devices")),
    )
    op.create_index(op.f("ix_sync_devices_user_id"), "sync_devices", ["user_id"], unique=False)
    op.create_table(
        "sync_scope_exits",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("records", sa.JSON(), nullable=False),
        sa.Column("created_at", webapp.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_scope_exits")),
    )
    with op.batch_alter_table("revisions") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=80), nullable=True))
    # Devices that already pushed belong to the user who pushed first.
    op.execute("INSERT INTO sync_devices (device_id, user_id, first_seen_at) "
               "SELECT device_id, MIN(user_id), MIN(applied_at) FROM sync_mutations "
               "WHERE device_id IS NOT NULL AND user_id IS NOT NULL GROUP BY device_id")


def downgrade():
    with op.batch_alter_table("revisions") as batch:
        batch.drop_column("actor")
    op.drop_table("sync_scope_exits")
    op.drop_index(op.f("ix_sync_devices_user_id"), table_name="sync_devices")
    op.drop_table("sync_devices")
