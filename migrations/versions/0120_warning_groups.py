"""Early warnings grouped per site × problem, with an occurrence count, last seen and snooze (docs/results.md).

Existing rows are brought to the new shape:
- a high-severity warning was one per finding: it now names the finding's site and problem (checklist
  item, else its area); several live ones of one site × problem fold into the oldest (the most advanced:
  acknowledged before open), which counts them; the others are closed with `merged_into` set (kept,
  not deleted: policy suggestions and sent messages refer to them);
- a repeat-problem warning named a site and a list of items: it becomes one warning per item (the row
  keeps the first, new rows the others, with the same state);
- every row counts one occurrence, last seen the day it was raised.

Revision ID: 0120_warning_groups
Revises: 0119_aggregates
"""
import json
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from webapp.core.models import UTCDateTime

revision = '0120_warning_groups'
down_revision = '0119_aggregates'
branch_labels = None
depends_on = None

LIVE = "status IN ('open', 'acknowledged')"


def _json(value):
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else value


def upgrade():
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('problem_key', sa.String(length=60), server_default='', nullable=False))
        batch_op.add_column(sa.Column('occurrences', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('occurrence_ids', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('last_seen_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('snoozed_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('snoozed_by', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('snoozed_at', UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('snooze_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('merged_into', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_warnings_snoozed_by_users'), 'users', ['snoozed_by'], ['id'])
        batch_op.drop_index('uq_warnings_live_subject', sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    _regroup()
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.alter_column('occurrence_ids', existing_type=sa.JSON(), nullable=False)
        batch_op.create_index('uq_warnings_live_subject', ['kind', 'subject_type', 'subject_id', 'problem_key'],
                              unique=True, sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def _regroup():
    conn = op.get_bind()
    now = datetime.now(UTC)
    warnings = sa.table('warnings', sa.column('id', sa.String), sa.column('kind', sa.String),
                        sa.column('subject_type', sa.String), sa.column('subject_id', sa.String),
                        sa.column('problem_key', sa.String), sa.column('params', sa.JSON),
                        sa.column('status', sa.String), sa.column('occurrences', sa.Integer),
                        sa.column('occurrence_ids', sa.JSON), sa.column('last_seen_on', sa.Date),
                        sa.column('closed_at', UTCDateTime(timezone=True)), sa.column('merged_into', sa.String),
                        sa.column('created_at', UTCDateTime(timezone=True)),
                        sa.column('updated_at', UTCDateTime(timezone=True)),
                        sa.column('rule_id', sa.String), sa.column('message', sa.Text),
                        sa.column('acknowledged_by', sa.String),
                        sa.column('acknowledged_at', UTCDateTime(timezone=True)),
                        sa.column('closed_by', sa.String))
    rows = conn.execute(sa.select(warnings).order_by(warnings.c.created_at, warnings.c.id)).mappings().all()
    findings = {}
    finding_ids = [r['subject_id'] for r in rows if r['kind'] == 'high_severity_open' and r['subject_type'] == 'finding']
    for chunk in (finding_ids[i:i + 500] for i in range(0, len(finding_ids), 500)):
        for f in conn.execute(sa.text("SELECT id, site_id, item_id, area FROM findings WHERE id IN :ids")
                              .bindparams(sa.bindparam('ids', expanding=True)), {'ids': chunk}).mappings():
            findings[f['id']] = f
    groups = {}
    for r in rows:
        created = r['created_at']
        seen = created.date() if created is not None else None
        values = {'occurrences': 1, 'occurrence_ids': [r['subject_id']], 'last_seen_on': seen}
        params = _json(r['params'])
        if r['kind'] == 'high_severity_open' and r['subject_type'] == 'finding' and r['subject_id'] in findings:
            f = findings[r['subject_id']]
            if f['site_id']:
                problem = f['item_id'] or (f"area:{f['area']}" if f['area'] else f"finding:{f['id']}")
                values.update(subject_type='site', subject_id=f['site_id'], problem_key=problem)
        elif r['kind'] == 'repeat_problem' and params.get('items'):
            items = params['items']
            values.update(problem_key=items[0].get('id') or '', params=_split(params, items[0]),
                          occurrences=int(items[0].get('count') or 1), occurrence_ids=[])
            for extra in items[1:]:
                conn.execute(warnings.insert().values(
                    id=str(uuid.uuid4()), kind=r['kind'], subject_type=r['subject_type'], subject_id=r['subject_id'],
                    problem_key=extra.get('id') or '', params=_split(params, extra), status=r['status'],
                    occurrences=int(extra.get('count') or 1), occurrence_ids=[], last_seen_on=seen,
                    rule_id=r['rule_id'], message=r['message'], acknowledged_by=r['acknowledged_by'],
                    acknowledged_at=r['acknowledged_at'], closed_at=r['closed_at'], closed_by=r['closed_by'],
                    created_at=r['created_at'], updated_at=now))
        conn.execute(warnings.update().where(warnings.c.id == r['id']).values(**values))
        if r['status'] in ('open', 'acknowledged'):
            key = (r['kind'], values.get('subject_type', r['subject_type']), values.get('subject_id', r['subject_id']),
                   values.get('problem_key', ''))
            groups.setdefault(key, []).append((r, values))
    for members in groups.values():
        if len(members) < 2:
            continue
        # Keep the most advanced (acknowledged), then the oldest; it counts the others.
        members.sort(key=lambda m: (m[0]['status'] != 'acknowledged', m[0]['created_at'] or now, m[0]['id']))
        keep, keep_values = members[0]
        ids = [i for _r, v in members for i in v['occurrence_ids']]
        last = max((v['last_seen_on'] for _r, v in members if v['last_seen_on']), default=None)
        conn.execute(warnings.update().where(warnings.c.id == keep['id']).values(
            occurrences=sum(v['occurrences'] for _r, v in members), occurrence_ids=ids, last_seen_on=last))
        for r, _v in members[1:]:
            conn.execute(warnings.update().where(warnings.c.id == r['id']).values(
                status='closed', closed_at=now, closed_by=None, merged_into=keep['id']))


def _split(params, item):
    out = {k: v for k, v in params.items() if k != 'items'}
    out.update(problem={'item_id': item.get('id'), 'code': item.get('code'), 'title': item.get('title'),
                        'title_en': item.get('title_en')}, count=item.get('count'), window=365)
    return out


def downgrade():
    # Back to one live warning per kind and subject: the grouped ones that would collide are closed.
    conn = op.get_bind()
    rows = conn.execute(sa.text(f"SELECT id, kind, subject_type, subject_id FROM warnings WHERE {LIVE} "
                                "ORDER BY created_at, id")).all()
    seen = set()
    for wid, kind, subject_type, subject_id in rows:
        if (kind, subject_type, subject_id) in seen:
            conn.execute(sa.text("UPDATE warnings SET status = 'closed' WHERE id = :id"), {'id': wid})
        seen.add((kind, subject_type, subject_id))
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.drop_index('uq_warnings_live_subject', sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
        batch_op.drop_constraint(batch_op.f('fk_warnings_snoozed_by_users'), type_='foreignkey')
        batch_op.drop_column('merged_into')
        batch_op.drop_column('snooze_reason')
        batch_op.drop_column('snoozed_at')
        batch_op.drop_column('snoozed_by')
        batch_op.drop_column('snoozed_until')
        batch_op.drop_column('last_seen_on')
        batch_op.drop_column('occurrence_ids')
        batch_op.drop_column('occurrences')
        batch_op.drop_column('problem_key')
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.create_index('uq_warnings_live_subject', ['kind', 'subject_type', 'subject_id'], unique=True,
                              sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
