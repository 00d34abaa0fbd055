"""Retention: items.due_on (indexed due list), holds, appraisals with items and opinions.

Revision ID: 0004_h_retention
Revises: 0003
Create Date: 2026-11-30

Existing items get their due date from (year, retention) by the same rule filing uses
(1 January of year + 1 + N; NULL for 永久), one UPDATE per distinct pair.
"""
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = '0004_h_retention'
down_revision = '0004_h_web'
branch_labels = None
depends_on = None

_YEARS = {"D100": 100, "D50": 50, "D30": 30, "D10": 10}


def upgrade() -> None:
    op.add_column('items', sa.Column('due_on', sa.Date(), nullable=True))
    conn = op.get_bind()
    pairs = conn.execute(sa.text("SELECT DISTINCT year, retention FROM items")).all()
    for year, retention in pairs:
        if retention in _YEARS:
            conn.execute(sa.text("UPDATE items SET due_on = :d WHERE year = :y AND retention = :r"),
                         {"d": date(year + 1 + _YEARS[retention], 1, 1), "y": year, "r": retention})
    op.create_index('ix_items_due', 'items', ['due_on', 'service_item_code', 'category', 'year',
                                           'status'])

    op.create_table('retention_holds',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('authority', sa.Text(), nullable=False),
    sa.Column('placed_by', sa.String(length=128), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place_audit_index', sa.BigInteger(), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by', sa.String(length=128), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=True),
    sa.Column('lift_audit_index', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_retention_holds_target', 'retention_holds', ['target'])
    op.create_index('ix_retention_holds_lifted_at', 'retention_holds', ['lifted_at'])

    op.create_table('retention_appraisals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('new_retention', sa.String(length=8), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('proposed_by', sa.String(length=128), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=128), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('conclusion', sa.Text(), nullable=True),
    sa.Column('decision_record', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_retention_appraisals_state', 'retention_appraisals', ['state'])

    op.create_table('retention_appraisal_items',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=40), nullable=False),
    sa.Column('due_on_before', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['appraisal_id'], ['retention_appraisals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appraisal_id', 'aip_id', name='uq_appraisal_item')
    )
    op.create_index('ix_retention_appraisal_items_appraisal_id', 'retention_appraisal_items',
                    ['appraisal_id'])
    op.create_index('ix_retention_appraisal_items_aip_id', 'retention_appraisal_items', ['aip_id'])

    op.create_table('retention_appraisal_opinions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('member', sa.String(length=128), nullable=False),
    sa.Column('opinion', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['appraisal_id'], ['retention_appraisals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appraisal_id', 'member', name='uq_appraisal_member')
    )
    op.create_index('ix_retention_appraisal_opinions_appraisal_id',
                    'retention_appraisal_opinions', ['appraisal_id'])


def downgrade() -> None:
    op.drop_table('retention_appraisal_opinions')
    op.drop_table('retention_appraisal_items')
    op.drop_table('retention_appraisals')
    op.drop_table('retention_holds')
    op.drop_index('ix_items_due', table_name='items')
    # Plain ALTER (SQLite >= 3.35, PostgreSQL): a batch copy of ``items`` would trip the
    # foreign keys of parties, files and events.
    op.execute(sa.text("ALTER TABLE items DROP COLUMN due_on"))
