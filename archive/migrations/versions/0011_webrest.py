"""TOTP seeds sealed at rest (AES-GCM, ``archive/secret_box.py``) and the forced password
change after an administrator's reset.

Existing plaintext seeds are sealed here, with the instance's secret box handed over by
``dangan db upgrade`` (``db.migrate(..., secrets=...)``): the migration refuses, changing
nothing, when seeds are present and no box is (the archive key must be unlockable).

Revision ID: 0010_webrest
Revises: 0007_destruction
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import context, op

from dangan.archive.secret_box import is_sealed, totp_context

revision = '0010_webrest'
down_revision = '0010_h3_transfer'
branch_labels = None
depends_on = None

_users = sa.table('users', sa.column('id', sa.Integer), sa.column('login', sa.String),
                  sa.column('totp_secret', sa.Text))


def _rewrite(transform) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_users.c.id, _users.c.login, _users.c.totp_secret)
                        .where(_users.c.totp_secret.is_not(None))).all()
    todo = [(i, login, secret) for i, login, secret in rows if transform(login, secret)
            is not None]
    if not todo:
        return
    box = context.config.attributes.get("secrets")
    if box is None:
        raise RuntimeError("迁移动态口令密钥需要解锁档案馆密钥：请用 dangan db upgrade 升级"
                           "（并提供密钥口令，见 docs/key-custody.md）")
    for i, login, secret in todo:
        conn.execute(_users.update().where(_users.c.id == i)
                     .values(totp_secret=transform(login, secret)(box)))


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    # In place, never a batch copy: on SQLite a copy drops ``users``, which the rows of
    # role_grants, api_tokens and access_requests refer to (foreign keys are on), and
    # SQLite does not enforce VARCHAR lengths, so only PostgreSQL needs the wider type.
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    if not _sqlite():
        op.alter_column('users', 'totp_secret', type_=sa.Text(), existing_type=sa.String(64),
                        existing_nullable=True)
    _rewrite(lambda login, secret: None if is_sealed(secret) else
             (lambda box: box.seal(secret, totp_context(login))))


def downgrade() -> None:
    _rewrite(lambda login, secret: None if not is_sealed(secret) else
             (lambda box: box.open(secret, totp_context(login))))
    op.drop_column('users', 'must_change_password')  # SQLite >= 3.35 drops in place
    if not _sqlite():
        op.alter_column('users', 'totp_secret', type_=sa.String(64), existing_type=sa.Text(),
                        existing_nullable=True)
