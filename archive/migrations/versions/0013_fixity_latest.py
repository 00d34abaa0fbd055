"""Each item's latest fixity result in a table of its own, filled from the results.

Why: choosing the next items to audit and the fixity report grouped every row of
``fixity_results`` by item (all passes ever made) on every call.

Revision ID: 0013_fixity_latest
Revises: 0012_audit_object_action
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_fixity_latest'
down_revision = '0012_audit_object_action'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fixity_latest',
        sa.Column('aip_id', sa.String(length=40), nullable=False),
        sa.Column('result_id', sa.Integer(), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint('aip_id'),
    )
    op.create_index('ix_fixity_latest_checked_at', 'fixity_latest', ['checked_at'])
    op.create_index('ix_fixity_latest_outcome', 'fixity_latest', ['outcome'])
    op.execute(
        "INSERT INTO fixity_latest (aip_id, result_id, checked_at, outcome) "
        "SELECT r.aip_id, r.id, r.checked_at, r.outcome FROM fixity_results r "
        "WHERE r.id IN (SELECT max(id) FROM fixity_results GROUP BY aip_id)")


def downgrade() -> None:
    op.drop_index('ix_fixity_latest_outcome', table_name='fixity_latest')
    op.drop_index('ix_fixity_latest_checked_at', table_name='fixity_latest')
    op.drop_table('fixity_latest')
