"""The decision dashboard's tallies (finding_tallies, site_day_tallies, rectification_tallies), kept with the writes;
filled from the existing rows here (docs/results.md).

Revision ID: 0119_aggregates
Revises: 0111_channels
"""
import sqlalchemy as sa
from alembic import op

revision = '0119_aggregates'
down_revision = '0118_rich_checklists'
branch_labels = None
depends_on = None


def _big_pk():
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table('finding_tallies',
    sa.Column('id', _big_pk(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('department_id', sa.String(length=36), nullable=True),
    sa.Column('site_id', sa.String(length=36), nullable=True),
    sa.Column('item_id', sa.String(length=36), nullable=True),
    sa.Column('area', sa.String(length=20), nullable=True),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('findings', sa.Integer(), nullable=False),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_tallies'))
    )
    op.create_index('ix_finding_tallies_day', 'finding_tallies',
                    ['day', 'department_id', 'site_id', 'area', 'item_id', 'severity', 'findings', 'repeats'])
    op.create_index('ix_finding_tallies_site_day', 'finding_tallies', ['site_id', 'day'])
    op.create_table('site_day_tallies',
    sa.Column('id', _big_pk(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('department_id', sa.String(length=36), nullable=True),
    sa.Column('site_id', sa.String(length=36), nullable=True),
    sa.Column('findings', sa.Integer(), nullable=False),
    sa.Column('severe', sa.Integer(), nullable=False),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_day_tallies'))
    )
    op.create_index('ix_site_day_tallies_day', 'site_day_tallies',
                    ['day', 'department_id', 'site_id', 'findings', 'severe', 'repeats'])
    op.create_index('ix_site_day_tallies_site_day', 'site_day_tallies', ['site_id', 'day'])
    op.create_table('rectification_tallies',
    sa.Column('id', _big_pk(), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('department_id', sa.String(length=36), nullable=True),
    sa.Column('site_id', sa.String(length=36), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('rectifications', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('first_round', sa.Integer(), nullable=False),
    sa.Column('decided', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_tallies'))
    )
    op.create_index('ix_rectification_tallies_day', 'rectification_tallies',
                    ['day', 'department_id', 'site_id', 'state', 'deadline', 'rectifications', 'on_time',
                     'first_round', 'decided'])
    op.create_index('ix_rectification_tallies_state', 'rectification_tallies',
                    ['state', 'deadline', 'department_id', 'site_id', 'rectifications'])
    op.create_index('ix_rectification_tallies_site_day', 'rectification_tallies', ['site_id', 'day'])
    _fill()


def _fill():
    """Count the existing rows (the same statements as `flask aggregates rebuild`)."""
    from webapp.results.dashboard import tallies

    bind = op.get_bind()
    tz = "Asia/Shanghai"
    try:
        from flask import current_app

        tz = current_app.config.get("BABEL_DEFAULT_TIMEZONE", tz)
    except RuntimeError:
        pass
    for stmt in tallies.rebuild_statements(tz, reviewed=False):  # no review status before 0121_review
        bind.execute(stmt)


def downgrade():
    op.drop_index('ix_rectification_tallies_site_day', table_name='rectification_tallies')
    op.drop_index('ix_rectification_tallies_state', table_name='rectification_tallies')
    op.drop_index('ix_rectification_tallies_day', table_name='rectification_tallies')
    op.drop_table('rectification_tallies')
    op.drop_index('ix_site_day_tallies_site_day', table_name='site_day_tallies')
    op.drop_index('ix_site_day_tallies_day', table_name='site_day_tallies')
    op.drop_table('site_day_tallies')
    op.drop_index('ix_finding_tallies_site_day', table_name='finding_tallies')
    op.drop_index('ix_finding_tallies_day', table_name='finding_tallies')
    op.drop_table('finding_tallies')
