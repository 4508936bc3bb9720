"""Indexes for open work at chain scale: the rectifications being rectified (the findings list's
overdue filter) and findings by department and status (the dashboard's open rectifications of the
departments that got worse) — docs/benchmarks.md.

Revision ID: 0122_open_work_indexes
Revises: 0121_review
"""
import sqlalchemy as sa
from alembic import op

revision = "0122_open_work_indexes"
down_revision = "0121_review"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_rectifications_rectifying", "rectifications", ["finding_id", "deadline"], unique=False,
                    sqlite_where=sa.text("status = 'rectifying'"), postgresql_where=sa.text("status = 'rectifying'"))
    op.create_index("ix_findings_department_status_captured", "findings", ["department_id", "status", "captured_at"],
                    unique=False)


def downgrade():
    op.drop_index("ix_findings_department_status_captured", table_name="findings")
    op.drop_index("ix_rectifications_rectifying", table_name="rectifications",
                  sqlite_where=sa.text("status = 'rectifying'"), postgresql_where=sa.text("status = 'rectifying'"))
