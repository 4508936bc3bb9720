"""Findings: the review queue's index — the findings not confirmed (awaiting review, rejected,
merged), not deleted, by review status and capture time, with the scope's and the queue's filter
columns — instead of the one-column index of every finding's review status. Counting a backlog of
50,000 findings awaiting review among 1M read each of them from the table (≈ 120 ms on PostgreSQL);
the index alone answers it, and writes of confirmed findings (nearly all) no longer touch it
(docs/benchmarks.md, "Review queue").

Revision ID: 0126_findings_review_queue
Revises: 0125_findings_rect_deadline
"""
import sqlalchemy as sa
from alembic import op

revision = "0126_findings_review_queue"
down_revision = "0125_findings_rect_deadline"
branch_labels = None
depends_on = None

WHERE = "review_status <> 'confirmed' AND deleted_at IS NULL"
COLUMNS = ["review_status", "captured_at", "id", "department_id", "site_id", "supervisor_id"]


def upgrade():
    op.create_index("ix_findings_review_queue", "findings", COLUMNS, unique=False,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
    op.drop_index("ix_findings_review_status", table_name="findings")


def downgrade():
    op.create_index("ix_findings_review_status", "findings", ["review_status"], unique=False)
    op.drop_index("ix_findings_review_queue", table_name="findings",
                  sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
