"""Export jobs: large exports made by the job queue, with progress and an expiring file
(docs/exports.md).

Revision ID: 0112_export_jobs
Revises: 0111_channels
"""
import sqlalchemy as sa
from alembic import op

import webapp.core.models

revision = '0112_export_jobs'
down_revision = "0111_channels"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('file_key', sa.String(length=200), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('mimetype', sa.String(length=100), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=40), nullable=True),
    sa.Column('created_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_export_jobs_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs'))
    )
    op.create_index('ix_export_jobs_user_created', 'export_jobs', ['user_id', 'created_at'], unique=False)


def downgrade():
    op.drop_index('ix_export_jobs_user_created', table_name='export_jobs')
    op.drop_table('export_jobs')
