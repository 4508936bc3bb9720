"""The review of synced findings (review status, reason, merge, the review log) and the frozen
snapshots of approved reports (docs/review.md).

Revision ID: 0121_review
Revises: 0120_warning_groups
"""
import sqlalchemy as sa
from alembic import op

import webapp.core.models

revision = "0121_review"
down_revision = "0120_warning_groups"
branch_labels = None
depends_on = None


def upgrade():
    # Findings recorded before the review step existed were counted as confirmed: they stay so.
    # Plain ADD COLUMN (no batch, no foreign keys): a SQLite table rebuild would drop the full-text
    # triggers of migration 0002.
    op.add_column('findings', sa.Column('review_status', sa.String(length=20), server_default='confirmed',
                                        nullable=False))
    op.add_column('findings', sa.Column('review_reason', sa.Text(), nullable=True))
    op.add_column('findings', sa.Column('merged_into_id', sa.String(length=36), nullable=True))
    op.add_column('findings', sa.Column('reviewed_by', sa.String(length=36), nullable=True))
    op.add_column('findings', sa.Column('reviewed_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_findings_review_status'), 'findings', ['review_status'], unique=False)
    op.create_table('finding_reviews',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('finding_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('other_id', sa.String(length=36), nullable=True),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['finding_id'], ['findings.id'], name=op.f('fk_finding_reviews_finding_id_findings')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_finding_reviews_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_reviews'))
    )
    with op.batch_alter_table('finding_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_reviews_finding_id'), ['finding_id'], unique=False)
    op.create_table('report_snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('report_id', sa.String(length=36), nullable=False),
    sa.Column('version_no', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('approved_by', sa.String(length=36), nullable=False),
    sa.Column('approved_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'], name=op.f('fk_report_snapshots_approved_by_users')),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_report_snapshots_report_id_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_snapshots')),
    sa.UniqueConstraint('report_id', name=op.f('uq_report_snapshots_report_id'))
    )


def downgrade():
    op.drop_table('report_snapshots')
    with op.batch_alter_table('finding_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finding_reviews_finding_id'))
    op.drop_table('finding_reviews')
    op.drop_index(op.f('ix_findings_review_status'), table_name='findings')
    for name in ('reviewed_at', 'reviewed_by', 'merged_into_id', 'review_reason', 'review_status'):
        op.drop_column('findings', name)
