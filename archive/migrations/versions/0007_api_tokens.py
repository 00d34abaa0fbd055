"""JSON API: access tokens (hashed) and submission jobs.

Revision ID: 0005_h_web2b
Revises: 0004_h_web
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = '0005_h_web2b'
down_revision = '0004_h_crosscheck'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('system', sa.String(length=64), nullable=True),
    sa.Column('login', sa.String(length=64), nullable=True),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_sha256'),
    )
    op.create_table('api_jobs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('submitted_by', sa.String(length=128), nullable=False),
    sa.Column('upload_path', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('api_jobs')
    op.drop_table('api_tokens')
