"""Visits: two indexes of the live visits of a plan. By supervisor with the columns progress reads,
so a plan's progress — counted by plan and supervisor on the plans list and a plan's page — is read
from the index alone: at 1M findings the seeded chain's plan has 71,429 visits, which SQLite read
from the table in 87 ms and now in 15. By day and id, so its page of visits (50 at a time) walks the
plan's part in order rather than sorting all of them — which SQLite would do once the first index
offered it the plan's visits (docs/benchmarks.md, "Plans list and a plan's page").

Revision ID: 0129_visits_plan_progress
Revises: 0128_rect_open_deadline
"""
import sqlalchemy as sa
from alembic import op

revision = "0129_visits_plan_progress"
down_revision = "0128_rect_open_deadline"
branch_labels = None
depends_on = None

WHERE = "deleted_at IS NULL"
COLUMNS = ["plan_id", "supervisor_id", "status", "due_by", "scheduled_for", "deleted_at"]


INDEXES = {"ix_visits_plan_progress": COLUMNS, "ix_visits_plan_day": ["plan_id", "scheduled_for", "id"]}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "visits", columns, unique=False, sqlite_where=sa.text(WHERE),
                        postgresql_where=sa.text(WHERE))


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="visits", sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))
