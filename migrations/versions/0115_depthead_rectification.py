"""A department head's progress report may carry the request for acceptance (`submit`): the phone
sends "progress + submit for acceptance" as one offline record (docs/sync-protocol.md).

Revision ID: 0115_depthead_rectification
Revises: 0111_channels
"""
import sqlalchemy as sa
from alembic import op

revision = '0115_depthead_rectification'
down_revision = '0114_visit_flow'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rectification_updates') as batch_op:
        batch_op.add_column(sa.Column('submit', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('rectification_updates') as batch_op:
        batch_op.drop_column('submit')
