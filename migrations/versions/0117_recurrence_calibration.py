"""Recurring visits by site class (recurrence rules, generated visits) and calibration pairs
(blind double inspections) — docs/plans.md, docs/results.md.

Revision ID: 0117_recurrence_calibration
Revises: 0111_channels
"""
import sqlalchemy as sa
from alembic import op

import webapp.core.models

revision = '0117_recurrence_calibration'
down_revision = '0115_depthead_rectification'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('recurrence_rules',
    sa.Column('scope_key', sa.String(length=40), nullable=False),
    sa.Column('department_id', sa.String(length=36), nullable=True),
    sa.Column('site_class', sa.String(length=20), nullable=False),
    sa.Column('interval_months', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.String(length=36), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                            name=op.f('fk_recurrence_rules_department_id_departments')),
    sa.ForeignKeyConstraint(['template_id'], ['checklist_templates.id'],
                            name=op.f('fk_recurrence_rules_template_id_checklist_templates')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_recurrence_rules_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recurrence_rules')),
    sa.UniqueConstraint('scope_key', 'site_class', name='uq_recurrence_rules_scope_class')
    )
    op.create_table('recurring_visits',
    sa.Column('visit_id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('cycle_start', sa.Date(), nullable=False),
    sa.Column('interval_months', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_recurring_visits_site_id_sites')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_recurring_visits_visit_id_visits')),
    sa.PrimaryKeyConstraint('visit_id', name=op.f('pk_recurring_visits')),
    sa.UniqueConstraint('site_id', 'cycle_start', name='uq_recurring_visits_site_cycle')
    )
    with op.batch_alter_table('recurring_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recurring_visits_site_id'), ['site_id'], unique=False)
    op.create_table('calibration_pairs',
    sa.Column('first_visit_id', sa.String(length=36), nullable=False),
    sa.Column('second_visit_id', sa.String(length=36), nullable=False),
    sa.Column('item_ids', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('created_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_calibration_pairs_created_by_users')),
    sa.ForeignKeyConstraint(['first_visit_id'], ['visits.id'],
                            name=op.f('fk_calibration_pairs_first_visit_id_visits')),
    sa.ForeignKeyConstraint(['second_visit_id'], ['visits.id'],
                            name=op.f('fk_calibration_pairs_second_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_pairs')),
    sa.UniqueConstraint('second_visit_id', name=op.f('uq_calibration_pairs_second_visit_id'))
    )
    with op.batch_alter_table('calibration_pairs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_pairs_first_visit_id'), ['first_visit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('calibration_pairs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_pairs_first_visit_id'))
    op.drop_table('calibration_pairs')
    with op.batch_alter_table('recurring_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recurring_visits_site_id'))
    op.drop_table('recurring_visits')
    op.drop_table('recurrence_rules')
