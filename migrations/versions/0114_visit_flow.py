"""A faster visit (docs/phone.md): a template's rule for completing with unanswered items, each
checklist item's common problems, and the reason a visit was completed with items unanswered.

Revision ID: 0114_visit_flow
Revises: 0111_channels
"""
import sqlalchemy as sa
from alembic import op

revision = '0114_visit_flow'
down_revision = '0113_markup_signatures'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checklist_templates') as batch:
        batch.add_column(sa.Column('require_all_answered', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    with op.batch_alter_table('template_items') as batch:
        batch.add_column(sa.Column('common_problems', sa.JSON(), nullable=True))
    with op.batch_alter_table('visits') as batch:
        batch.add_column(sa.Column('completion_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('visits') as batch:
        batch.drop_column('completion_reason')
    with op.batch_alter_table('template_items') as batch:
        batch.drop_column('common_problems')
    with op.batch_alter_table('checklist_templates') as batch:
        batch.drop_column('require_all_answered')
