"""Photo markup (a finding's vector overlay per photo) and finger signatures (the opening and the
closing meeting of a visit, an acceptance round) — docs/photo-evidence.md#markup-and-signatures.

Revision ID: 0113_markup_signatures
Revises: 0111_channels
"""
import sqlalchemy as sa
from alembic import op

revision = '0113_markup_signatures'
down_revision = '0112_export_jobs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('findings') as batch_op:
        batch_op.add_column(sa.Column('markup', sa.JSON(), nullable=True))
    with op.batch_alter_table('visits') as batch_op:
        batch_op.add_column(sa.Column('opening_signature', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('closing_signature', sa.JSON(), nullable=True))
    with op.batch_alter_table('acceptance_rounds') as batch_op:
        batch_op.add_column(sa.Column('signature', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('acceptance_rounds') as batch_op:
        batch_op.drop_column('signature')
    with op.batch_alter_table('visits') as batch_op:
        batch_op.drop_column('closing_signature')
        batch_op.drop_column('opening_signature')
    op.drop_column('findings', 'markup')  # no batch: SQLite would rebuild the table and lose 0002's triggers
