"""Fixity audits: runs and per-item results.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fixity_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Integer(), nullable=False),
    sa.Column('repaired', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('bytes_hashed', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('fixity_results',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=40), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=24), nullable=False),
    sa.Column('primary_status', sa.String(length=16), nullable=False),
    sa.Column('replica_status', sa.String(length=16), nullable=False),
    sa.Column('catalogue_status', sa.String(length=16), nullable=False),
    sa.Column('aip_digest', sa.String(length=64), nullable=True),
    sa.Column('bytes_hashed', sa.BigInteger(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['fixity_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fixity_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fixity_results_aip_id'), ['aip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fixity_results_checked_at'), ['checked_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_fixity_results_run_id'), ['run_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fixity_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fixity_results_run_id'))
        batch_op.drop_index(batch_op.f('ix_fixity_results_checked_at'))
        batch_op.drop_index(batch_op.f('ix_fixity_results_aip_id'))
    op.drop_table('fixity_results')
    op.drop_table('fixity_runs')
