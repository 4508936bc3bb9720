"""Work-app channels: group robots (WeCom, DingTalk, Feishu) registered by administrators, and each
person's notification preferences (docs/messages.md).

Revision ID: 0111_channels
Revises: 0110_outbox
"""
import sqlalchemy as sa
from alembic import op

import webapp.core.models

revision = '0111_channels'
down_revision = "0110_outbox"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workapp_robots',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('secret_encrypted', sa.String(length=400), nullable=True),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_workapp_robots_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workapp_robots'))
    )
    op.create_table('user_notification_preferences',
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('off', sa.JSON(), nullable=False),
    sa.Column('quiet_start', sa.String(length=5), nullable=True),
    sa.Column('quiet_end', sa.String(length=5), nullable=True),
    sa.Column('email_digest', sa.Boolean(), nullable=False),
    sa.Column('updated_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_user_notification_preferences_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_notification_preferences'))
    )


def downgrade():
    op.drop_table('user_notification_preferences')
    op.drop_table('workapp_robots')
