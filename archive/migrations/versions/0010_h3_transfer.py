"""Transfer (移交): packages sent and their items (retention), packages and items received.

Revision ID: 0010_h3_transfer
Revises: 0007_destruction
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_h3_transfer'
down_revision = '0007_destruction'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('retention_transfers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('transfer_id', sa.String(length=64), nullable=False, unique=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('appraisal_id', sa.Integer(), nullable=True),
    sa.Column('receiver', sa.Text(), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('receipt', sa.JSON(), nullable=True),
    sa.Column('receipt_sha256', sa.String(length=64), nullable=True),
    sa.Column('receiver_fingerprint', sa.String(length=64), nullable=True),
    sa.Column('confirmed_by', sa.String(length=128), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_retention_transfers_state', 'retention_transfers', ['state'])
    op.create_table('retention_transfer_items',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('transfer_pk', sa.Integer(), sa.ForeignKey('retention_transfers.id'),
              nullable=False),
    sa.Column('aip_id', sa.String(length=40), nullable=False, unique=True),
    sa.Column('archival_code', sa.String(length=64), nullable=False),
    sa.Column('aip_sha256', sa.String(length=64), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_retention_transfer_items_transfer_pk', 'retention_transfer_items',
                    ['transfer_pk'])
    op.create_table('retention_transfers_in',
    sa.Column('transfer_id', sa.String(length=64), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('sender', sa.JSON(), nullable=False),
    sa.Column('receipt', sa.JSON(), nullable=False),
    sa.Column('received_by', sa.String(length=128), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('transfer_id')
    )
    op.create_table('transfer_received_items',
    sa.Column('aip_id', sa.String(length=40), nullable=False),
    sa.Column('transfer_id', sa.String(length=64), nullable=False),
    sa.Column('original_archival_code', sa.String(length=64), nullable=False),
    sa.Column('aip_sha256', sa.String(length=64), nullable=False),
    sa.Column('sender', sa.JSON(), nullable=False),
    sa.Column('sender_public_pem', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('audit_index', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('aip_id')
    )
    op.create_index('ix_transfer_received_items_transfer_id', 'transfer_received_items',
                    ['transfer_id'])


def downgrade() -> None:
    op.drop_table('transfer_received_items')
    op.drop_table('retention_transfers_in')
    op.drop_table('retention_transfer_items')
    op.drop_table('retention_transfers')
