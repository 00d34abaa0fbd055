"""Audit log: entries (Merkle leaves), persisted subtree hashes, signed tree heads.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_entries',
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('time', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Text(), nullable=False),
    sa.Column('object_digest', sa.String(length=128), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('leaf_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('idx')
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_object_id'), ['object_id'], unique=False)

    op.create_table('audit_subtrees',
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('idx', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('level', 'idx')
    )
    op.create_table('audit_heads',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('root_hex', sa.String(length=64), nullable=False),
    sa.Column('timestamp', sa.String(length=32), nullable=False),
    sa.Column('signed_json', sa.Text(), nullable=False),
    sa.Column('tsa_url', sa.Text(), nullable=True),
    sa.Column('tsa_token', sa.LargeBinary(), nullable=True),
    sa.Column('tsa_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tsa_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_heads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_heads_size'), ['size'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_heads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_heads_size'))
    op.drop_table('audit_heads')
    op.drop_table('audit_subtrees')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_object_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_action'))
    op.drop_table('audit_entries')
