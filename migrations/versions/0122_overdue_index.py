"""A partial index of the rectifications being rectified, for the findings list's overdue filter
(docs/benchmarks.md, findings list).

Revision ID: 0122_overdue_index
Revises: 0121_review
"""
import sqlalchemy as sa
from alembic import op

revision = "0122_overdue_index"
down_revision = "0121_review"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_rectifications_rectifying", "rectifications", ["finding_id", "deadline"], unique=False,
                    sqlite_where=sa.text("status = 'rectifying'"), postgresql_where=sa.text("status = 'rectifying'"))


def downgrade():
    op.drop_index("ix_rectifications_rectifying", table_name="rectifications",
                  sqlite_where=sa.text("status = 'rectifying'"), postgresql_where=sa.text("status = 'rectifying'"))
