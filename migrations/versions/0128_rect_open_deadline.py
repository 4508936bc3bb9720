"""Rectifications: an index of the deadlines of those not accepted (partial), so the rectification
list's default view — the open work by deadline — walks it in order and stops at its 300 rows,
instead of joining every unclosed finding to its rectification and sorting them all (≈ 200,000 at
1M findings: 1.5–2 s on PostgreSQL; docs/benchmarks.md, "Supervisors' ranking").

Revision ID: 0128_rect_open_deadline
Revises: 0127_rectifications_accepted
"""
import sqlalchemy as sa
from alembic import op

revision = "0128_rect_open_deadline"
down_revision = "0127_rectifications_accepted"
branch_labels = None
depends_on = None

WHERE = "status <> 'accepted'"


def upgrade():
    op.create_index("ix_rectifications_open_deadline", "rectifications", ["deadline"], unique=False,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade():
    op.drop_index("ix_rectifications_open_deadline", table_name="rectifications",
                  sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
