"""Catalogue schema: trust store, archival code counters, items, parties, files, events, rejections.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('archival_code_counters',
    sa.Column('series', sa.String(length=128), nullable=False),
    sa.Column('last_item_no', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('series')
    )
    op.create_table('items',
    sa.Column('aip_id', sa.String(length=40), nullable=False),
    sa.Column('archival_code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source_system', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('case_sha256', sa.String(length=64), nullable=False),
    sa.Column('aip_sha256', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('service_item_code', sa.String(length=64), nullable=False),
    sa.Column('service_item_name', sa.Text(), nullable=False),
    sa.Column('insurance', sa.JSON(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('category_code', sa.String(length=4), nullable=False),
    sa.Column('retention', sa.String(length=8), nullable=False),
    sa.Column('classification_code', sa.String(length=64), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('agency_name', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('decision_no', sa.String(length=128), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('security_classification', sa.String(length=16), nullable=False),
    sa.Column('personal_info', sa.Boolean(), nullable=False),
    sa.Column('file_count', sa.Integer(), nullable=False),
    sa.Column('total_bytes', sa.BigInteger(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('supersedes_aip_id', sa.String(length=40), nullable=True),
    sa.Column('superseded_by_aip_id', sa.String(length=40), nullable=True),
    sa.Column('correction_reason', sa.Text(), nullable=True),
    sa.Column('store_key', sa.Text(), nullable=False),
    sa.Column('receipt', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('aip_id'),
    sa.UniqueConstraint('archival_code', 'version', name='uq_items_code_version'),
    sa.UniqueConstraint('source_system', 'case_id', 'case_sha256', name='uq_items_case_bytes')
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_archival_code'), ['archival_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_decision_no'), ['decision_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_service_item_code'), ['service_item_code'], unique=False)

    op.create_table('rejections',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_system', sa.String(length=64), nullable=True),
    sa.Column('case_id', sa.String(length=128), nullable=True),
    sa.Column('case_sha256', sa.String(length=64), nullable=True),
    sa.Column('submission_name', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rejections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rejections_case_id'), ['case_id'], unique=False)

    op.create_table('trusted_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('system', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=128), nullable=False),
    sa.Column('algorithm', sa.String(length=32), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('system', 'key_id', name='uq_trusted_keys_system_key')
    )
    op.create_table('item_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('actor_name', sa.Text(), nullable=False),
    sa.Column('actor_role', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('file_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['aip_id'], ['items.aip_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('item_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_events_aip_id'), ['aip_id'], unique=False)

    op.create_table('item_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.String(length=64), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('declared_media_type', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('sm3', sa.String(length=64), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('dpi', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['aip_id'], ['items.aip_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('item_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_files_aip_id'), ['aip_id'], unique=False)

    op.create_table('parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('aip_id', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('id_type', sa.String(length=32), nullable=False),
    sa.Column('id_number', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['aip_id'], ['items.aip_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parties_aip_id'), ['aip_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_parties_id_number'), ['id_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_parties_name'), ['name'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parties_name'))
        batch_op.drop_index(batch_op.f('ix_parties_id_number'))
        batch_op.drop_index(batch_op.f('ix_parties_aip_id'))

    op.drop_table('parties')
    with op.batch_alter_table('item_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_files_aip_id'))

    op.drop_table('item_files')
    with op.batch_alter_table('item_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_events_aip_id'))

    op.drop_table('item_events')
    op.drop_table('trusted_keys')
    with op.batch_alter_table('rejections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rejections_case_id'))

    op.drop_table('rejections')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_service_item_code'))
        batch_op.drop_index(batch_op.f('ix_items_decision_no'))
        batch_op.drop_index(batch_op.f('ix_items_case_id'))
        batch_op.drop_index(batch_op.f('ix_items_archival_code'))

    op.drop_table('items')
    op.drop_table('archival_code_counters')
