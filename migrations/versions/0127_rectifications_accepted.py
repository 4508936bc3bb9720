"""Rectifications: an index of status and acceptance time, so the rectifications accepted in a
period (the supervisors' ranking counts them by supervisor) are a range of it rather than a read of
every rectification (≈ 100–230 ms at 900k on PostgreSQL, once per supervisor and period before); the
one-column status index goes, as the (status, deadline) and (status, accepted_at) ones lead with it
(docs/benchmarks.md, "Supervisors' ranking").

Revision ID: 0127_rectifications_accepted
Revises: 0126_findings_review_queue
"""
from alembic import op

revision = "0127_rectifications_accepted"
down_revision = "0126_findings_review_queue"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_rectifications_status_accepted", "rectifications", ["status", "accepted_at"], unique=False)
    op.drop_index("ix_rectifications_status", table_name="rectifications")


def downgrade():
    op.create_index("ix_rectifications_status", "rectifications", ["status"], unique=False)
    op.drop_index("ix_rectifications_status_accepted", table_name="rectifications")
