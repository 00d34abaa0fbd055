"""The composition root: the one place an archive instance is assembled from its settings.

Everything an instance needs is built here, explicitly, and nothing at import time: the
catalogue database with this instance's session events (audit log cache, tree-head export)
attached to its own session factories, the AIP store, and the schema check. The CLI, the
web application factory (``create_app``) and the workers all call ``create_archive``;
``Archive.open(home)`` is a thin wrapper around it.

Opening never migrates: a catalogue whose schema is behind this software is refused with
``archive.schema_behind`` and upgraded only by the explicit, logged ``dangan db upgrade``
(after a backup). ``dangan init`` and ``dangan demo`` create the newest schema directly.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dangan.packages.checks import default_registry

from . import audit_log, tree_heads
from .config import Settings, load_settings, resolve_home
from .db import Database, known_revisions, migrate, schema_status
from .errors import NotInitialised, SchemaBehind, SchemaUnknown
from .instance import Archive, make_private
from .secret_box import SecretBox, derive_key
from .store import AIPStore

log = logging.getLogger(__name__)


def make_database(url: str) -> Database:
    """The catalogue database with this instance's session events attached."""
    db = Database(url)
    for identifier, fn in (*audit_log.SESSION_EVENTS, *tree_heads.SESSION_EVENTS):
        db.listen(identifier, fn)
    return db


def assemble(settings: Settings) -> Archive:
    """An instance over ``settings`` (no check, no migration: ``init`` and ``create_archive``)."""
    archive = Archive(settings=settings, db=make_database(settings.db_url),
                      store=AIPStore(settings.path(settings.store_path)),
                      checks=default_registry())
    archive.db.secrets = SecretBox(lambda: derive_key(archive.key.private_key))
    return archive


def require_current_schema(archive: Archive) -> None:
    """Refuse an instance whose catalogue schema differs from the one this software ships."""
    status = schema_status(archive.db.engine)
    if status.up_to_date:
        return
    if status.current is not None and status.current not in known_revisions():
        raise SchemaUnknown(
            f"目录数据库的结构版本 {status.current} 比本程序（{status.head}）新：请使用新版本的 dangan")
    raise SchemaBehind(
        f"目录数据库的结构版本 {status.current or '（空）'} 落后于本程序的 {status.head}："
        "请先备份实例目录（或数据库），再运行 dangan db upgrade")


def create_archive(config: Settings | str | Path | None = None, *,
                   check_schema: bool = True) -> Archive:
    """Open an existing instance: settings, database, store, key custody warning, schema check.

    ``config`` is the instance's ``Settings`` or its home (default ``$DANGAN_HOME``).
    ``check_schema=False`` is for ``dangan db status/upgrade`` alone.
    """
    settings = config if isinstance(config, Settings) else load_settings(resolve_home(config))
    if not settings.config_file.exists():
        raise NotInitialised(
            f"{settings.home} 不是档案实例：请先运行 dangan init（或设置 DANGAN_HOME）")
    make_private(settings.home)
    archive = assemble(settings)
    if (warning := archive.key_custody_warning) is not None:
        log.warning(warning)
    if check_schema:
        try:
            require_current_schema(archive)
        except Exception:
            archive.close()
            raise
    return archive


def upgrade_schema(archive: Archive) -> tuple[str | None, str]:
    """Bring the catalogue schema to the newest revision; returns (before, after). Logged."""
    before = schema_status(archive.db.engine).current
    log.info("upgrading catalogue schema of %s from %s", archive.home, before or "(empty)")
    migrate(archive.db.engine, secrets=archive.db.secrets)
    after = schema_status(archive.db.engine).current
    assert after is not None
    return before, after
