"""Filed-case index of the audit log and the filing follow-up outbox.

Revision ID: 0004_h_crosscheck
Revises: 0003
Create Date: 2026-11-30
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0004_h_crosscheck'
down_revision = '0004_h_retention'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('filed_cases',
    sa.Column('audit_index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('aip_id', sa.String(length=40), nullable=False),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('case_sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('audit_index')
    )
    op.create_index('ix_filed_cases_case', 'filed_cases', ['source_system', 'case_id'])
    op.create_index('ix_filed_cases_aip_id', 'filed_cases', ['aip_id'])
    op.create_table('followups',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('aip_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('owner', sa.String(length=128), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_followups_aip_id', 'followups', ['aip_id'])
    # Index the aip:file entries already in the log.
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT idx, object_id, details FROM audit_entries WHERE action = 'aip:file'"))
    filed = []
    for idx, aip_id, details in rows:
        try:
            d = json.loads(details)
        except ValueError:
            continue  # an unreadable entry: ``audit verify`` reports it
        if isinstance(d, dict):
            filed.append({"audit_index": idx, "aip_id": aip_id,
                          "source_system": str(d.get("source_system") or ""),
                          "case_id": str(d.get("case_id") or ""),
                          "case_sha256": str(d.get("case_sha256") or "")})
    if filed:
        table = sa.table('filed_cases', sa.column('audit_index', sa.BigInteger()),
                         sa.column('aip_id', sa.String()), sa.column('source_system', sa.String()),
                         sa.column('case_id', sa.String()), sa.column('case_sha256', sa.String()))
        op.bulk_insert(table, filed)


def downgrade() -> None:
    op.drop_index('ix_followups_aip_id', table_name='followups')
    op.drop_table('followups')
    op.drop_index('ix_filed_cases_aip_id', table_name='filed_cases')
    op.drop_index('ix_filed_cases_case', table_name='filed_cases')
    op.drop_table('filed_cases')
