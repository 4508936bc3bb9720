"""Findings keep the deadline of their rectification while it is being rectified
(`rectification_deadline`, kept by webapp/rectification/deadlines.py), with an index of the findings
being rectified, newest first, that holds it: the findings list's overdue filter skips in the index
those not yet due instead of probing a rectification for each (docs/benchmarks.md, "Findings list").

Revision ID: 0125_findings_rect_deadline
Revises: 0124_findings_fewer_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "0125_findings_rect_deadline"
down_revision = "0124_findings_fewer_indexes"
branch_labels = None
depends_on = None

WHERE = "rectification_deadline IS NOT NULL AND deleted_at IS NULL"


def upgrade():
    op.add_column("findings", sa.Column("rectification_deadline", sa.Date(), nullable=True))
    op.execute("UPDATE findings SET rectification_deadline = (SELECT r.deadline FROM rectifications r "
               "WHERE r.finding_id = findings.id AND r.status = 'rectifying') "
               "WHERE id IN (SELECT finding_id FROM rectifications WHERE status = 'rectifying')")
    op.create_index("ix_findings_rectifying_deadline", "findings",
                    ["captured_at", "id", "rectification_deadline", "status"], unique=False,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade():
    op.drop_index("ix_findings_rectifying_deadline", table_name="findings",
                  sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
    op.drop_column("findings", "rectification_deadline")  # no batch: SQLite would rebuild the table and lose 0002's triggers
