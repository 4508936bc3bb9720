"""Rich checklists: item criteria, answer types (scale, choice, number), conditions, reference
photos; a template's site classes (the template library); typed answer values (docs/checklists.md).

Revision ID: 0118_rich_checklists
Revises: 0111_channels
"""
import sqlalchemy as sa
from alembic import op

revision = '0118_rich_checklists'
down_revision = '0117_recurrence_calibration'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checklist_templates') as batch:
        batch.add_column(sa.Column('site_classes', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('template_items') as batch:
        batch.add_column(sa.Column('answer_type', sa.String(length=20), nullable=False, server_default='pass_fail'))
        batch.add_column(sa.Column('criteria', sa.Text(), nullable=True))
        batch.add_column(sa.Column('scale_min', sa.Double(), nullable=True))
        batch.add_column(sa.Column('scale_max', sa.Double(), nullable=True))
        batch.add_column(sa.Column('options', sa.JSON(), nullable=False, server_default='[]'))
        batch.add_column(sa.Column('range_min', sa.Double(), nullable=True))
        batch.add_column(sa.Column('range_max', sa.Double(), nullable=True))
        batch.add_column(sa.Column('unit', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('condition', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('reference_photos', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('checklist_answers') as batch:
        batch.add_column(sa.Column('choice', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('value', sa.Double(), nullable=True))
    # A points item is a scale from 0 to its maximum.
    op.execute("UPDATE template_items SET answer_type = 'scale', scale_min = 0, scale_max = max_points "
               "WHERE scoring = 'points'")


def downgrade():
    with op.batch_alter_table('checklist_answers') as batch:
        batch.drop_column('value')
        batch.drop_column('choice')
    with op.batch_alter_table('template_items') as batch:
        for name in ('reference_photos', 'condition', 'unit', 'range_max', 'range_min', 'options', 'scale_max',
                     'scale_min', 'criteria', 'answer_type'):
            batch.drop_column(name)
    with op.batch_alter_table('checklist_templates') as batch:
        batch.drop_column('site_classes')
