"""Destruction batches and their items (retention) and tombstones (archive).

Revision ID: 0007_destruction
Revises: 0004_h_crosscheck
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_destruction'
down_revision = '0005_access'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('retention_destructions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('appraisal_id', sa.Integer(), sa.ForeignKey('retention_appraisals.id'),
              nullable=False, unique=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('register_ref', sa.String(length=64), nullable=False),
    sa.Column('approvals', sa.JSON(), nullable=False),
    sa.Column('supervisors', sa.JSON(), nullable=True),
    sa.Column('method', sa.Text(), nullable=True),
    sa.Column('executed_by', sa.String(length=128), nullable=True),
    sa.Column('opened_by', sa.String(length=128), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_retention_destructions_state', 'retention_destructions', ['state'])
    op.create_table('retention_destruction_items',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.Integer(), sa.ForeignKey('retention_destructions.id'),
              nullable=False),
    sa.Column('aip_id', sa.String(length=40), nullable=False, unique=True),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_retention_destruction_items_batch_id', 'retention_destruction_items',
                    ['batch_id'])
    op.create_table('tombstones',
    sa.Column('aip_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('archival_code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('retention', sa.String(length=8), nullable=False),
    sa.Column('aip_sha256', sa.String(length=64), nullable=False),
    sa.Column('case_sha256', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=False),
    sa.Column('register_ref', sa.String(length=64), nullable=False),
    sa.Column('method', sa.Text(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('aip_id')
    )
    op.create_index('ix_tombstones_archival_code', 'tombstones', ['archival_code'])
    op.create_index('ix_tombstones_case_id', 'tombstones', ['case_id'])
    op.create_index('ix_tombstones_batch_id', 'tombstones', ['batch_id'])


def downgrade() -> None:
    op.drop_table('tombstones')
    op.drop_table('retention_destruction_items')
    op.drop_table('retention_destructions')
