"""The audit log's entries of one object and action found through one index.

Why: "the filing entry of these AIPs" (``object_id IN (…) AND action = 'aip:file'``),
read for every batch of a fixity audit, was planned by SQLite through the index on
``action`` alone (no statistics: an equality beats an IN list), i.e. every filing entry
of the archive per batch, quadratic in the archive's size. An index on
(object_id, action) answers it from the ids; it also serves every lookup by object_id,
so the single-column index on object_id goes.

Revision ID: 0012_audit_object_action
Revises: 0010_webrest
Create Date: 2026-12-01
"""
from alembic import op

revision = '0012_audit_object_action'
down_revision = '0010_webrest'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_entries_object_action', 'audit_entries', ['object_id', 'action'])
    op.drop_index('ix_audit_entries_object_id', table_name='audit_entries')


def downgrade() -> None:
    op.create_index('ix_audit_entries_object_id', 'audit_entries', ['object_id'])
    op.drop_index('ix_audit_entries_object_action', table_name='audit_entries')
