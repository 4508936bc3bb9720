"""Administration without a terminal: users' sign-in state, sessions that last on a phone, single
sign-on identities, settings kept in the database, and sites and departments that can be archived.

Existing users keep their passwords (nothing to change at the next sign-in); existing sites get the
default geofence radius of 200 m.

Revision ID: 0102_administration
Revises: 0101_photo_refs
"""
import sqlalchemy as sa
from alembic import op

import webapp.core.models

revision = '0102_administration'
down_revision = '0101_photo_refs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('app_settings',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_app_settings'))
    )
    op.create_table('user_identities',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('created_at', webapp.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_identities_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_identities')),
    sa.UniqueConstraint('provider', 'subject', name='uq_user_identities_provider_subject')
    )
    with op.batch_alter_table('user_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_identities_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('geofence_radius_m', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('site_class', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('manager_person_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('archived_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_sites_manager_person_id_people'), 'people',
                                    ['manager_person_id'], ['id'])
    sites = sa.table("sites", sa.column("geofence_radius_m", sa.Integer))
    op.execute(sites.update().values(geofence_radius_m=200))

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_seen_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('user_agent', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('method', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('reauthenticated_at', webapp.core.models.UTCDateTime(timezone=True),
                                      nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mobile', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('pending_approval', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('password_changed_at', webapp.core.models.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('last_sign_in_at', webapp.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_mobile'), ['mobile'], unique=False)



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_mobile'))
        batch_op.drop_column('last_sign_in_at')
        batch_op.drop_column('password_changed_at')
        batch_op.drop_column('pending_approval')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('mobile')

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('reauthenticated_at')
        batch_op.drop_column('method')
        batch_op.drop_column('address')
        batch_op.drop_column('user_agent')
        batch_op.drop_column('last_seen_at')
        batch_op.drop_column('expires_at')

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sites_manager_person_id_people'), type_='foreignkey')
        batch_op.drop_column('archived_at')
        batch_op.drop_column('manager_person_id')
        batch_op.drop_column('site_class')
        batch_op.drop_column('geofence_radius_m')

    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_column('archived_at')

    with op.batch_alter_table('user_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_identities_user_id'))

    op.drop_table('user_identities')
    op.drop_table('app_settings')
