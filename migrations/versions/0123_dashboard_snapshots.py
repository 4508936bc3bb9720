"""The dashboard counted ahead: its snapshots, and the tally epochs that tell when one is behind the
data (docs/results.md, "Counted ahead").

Revision ID: 0123_dashboard_snapshots
Revises: 0122_open_work_indexes
"""
import sqlalchemy as sa
from alembic import op

import webapp.core.models

revision = "0123_dashboard_snapshots"
down_revision = "0122_open_work_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tally_epochs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", webapp.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tally_epochs")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "dashboard_snapshots",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("today", sa.Date(), nullable=False),
        sa.Column("mark", sa.String(length=60), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("computed_at", webapp.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.Column("read_at", webapp.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_at", webapp.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_dashboard_snapshots")),
    )
    op.create_index(op.f("ix_dashboard_snapshots_today"), "dashboard_snapshots", ["today"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_dashboard_snapshots_today"), table_name="dashboard_snapshots")
    op.drop_table("dashboard_snapshots")
    op.drop_table("tally_epochs")
