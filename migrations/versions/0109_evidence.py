"""Evidence anyone can check: visit check-in/out with the server's distance to the site, and the
trusted time of every record with a capture time (device clock, server receive time, offset).

Revision ID: 0109_evidence
Revises: 0102_administration
"""
import sqlalchemy as sa
from alembic import op

import webapp.core.models

revision = '0109_evidence'
down_revision = '0102_administration'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visit_checkins',
    sa.Column('visit_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=3), nullable=False),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lng', sa.Double(), nullable=True),
    sa.Column('accuracy_m', sa.Double(), nullable=True),
    sa.Column('device_time', webapp.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('distance_m', sa.Double(), nullable=True),
    sa.Column('in_fence', sa.Boolean(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('deleted_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('has_conflict', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_checkins_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_checkins'))
    )
    with op.batch_alter_table('visit_checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_checkins_visit_id'), ['visit_id'], unique=False)

    op.create_table('record_evidence',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('device_id', sa.String(length=36), nullable=True),
    sa.Column('captured_device', webapp.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('device_time', webapp.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('offset_seconds', sa.Double(), nullable=True),
    sa.Column('estimated_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_evidence')),
    sa.UniqueConstraint('entity', 'record_id', name='uq_record_evidence_entity_record')
    )


def downgrade():
    op.drop_table('record_evidence')
    with op.batch_alter_table('visit_checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_checkins_visit_id'))
    op.drop_table('visit_checkins')
