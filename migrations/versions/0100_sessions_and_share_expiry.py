"""Sessions that end: a server-side record per browser sign-in, bearer tokens and share links that expire.

Tokens and share links made before this migration get their lifetime from the time of the upgrade
(the defaults: 14 days for a token, 30 days for a share link), so nothing in use stops at once.

Revision ID: 0100_sessions_and_share_expiry
Revises: 0003
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import webapp.core.models

revision = "0100_sessions_and_share_expiry"
down_revision = "0003"
branch_labels = None
depends_on = None


def _add_expiry(table: str, lifetime: timedelta) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", webapp.core.models.UTCDateTime(timezone=True), nullable=True))
    rows = sa.table(table, sa.column("expires_at", webapp.core.models.UTCDateTime(timezone=True)))
    op.execute(rows.update().values(expires_at=datetime.now(UTC) + lifetime))
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=webapp.core.models.UTCDateTime(timezone=True),
                              nullable=False)


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", webapp.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", webapp.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_sessions_ended_at"), ["ended_at"], unique=False)
    _add_expiry("api_tokens", timedelta(days=14))
    _add_expiry("share_links", timedelta(days=30))


def downgrade():
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_ended_at"))
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
