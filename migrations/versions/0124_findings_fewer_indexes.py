"""Findings: drop the six one-column indexes that a (column, captured_at, id) index already leads
with (site, supervisor, area, severity, status, department). Every finding a phone creates or edits
updated each of them; the lists, the dashboard and foreign-key checks use the wider ones
(docs/benchmarks.md, "Sync push").

Revision ID: 0124_findings_fewer_indexes
Revises: 0123_dashboard_snapshots
"""
from alembic import op

revision = "0124_findings_fewer_indexes"
down_revision = "0123_dashboard_snapshots"
branch_labels = None
depends_on = None

# index → its column; each is the first column of a wider index of migrations 0001 and 0122
COVERED = {"ix_findings_site_id": "site_id", "ix_findings_supervisor_id": "supervisor_id", "ix_findings_area": "area",
           "ix_findings_severity": "severity", "ix_findings_status": "status",
           "ix_findings_department_id": "department_id"}


def upgrade():
    for name in COVERED:
        op.drop_index(name, table_name="findings")


def downgrade():
    for name, column in COVERED.items():
        op.create_index(name, "findings", [column], unique=False)
