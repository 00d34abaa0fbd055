"""An archive instance: settings, catalogue database, AIP store and keys in one home."""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dangan.packages import signing
from dangan.packages.archival_code import ArchivalCodeRule

from . import audit_log
from .config import Settings, load_settings, resolve_home
from .db import Database, migrate
from .errors import AlreadyInitialised, NotInitialised
from .filing_config import FilingConfig, load_filing_config
from .keys import ArchiveKey, create_archive_key, load_archive_key
from .store import AIPStore
from .timeutil import utcnow


@dataclass
class Archive:
    settings: Settings
    db: Database = field(init=False)
    store: AIPStore = field(init=False)

    def __post_init__(self) -> None:
        self.db = Database(self.settings.db_url)
        self.store = AIPStore(self.settings.path(self.settings.store_path))

    @property
    def home(self) -> Path:
        return self.settings.home

    @cached_property
    def code_rule(self) -> ArchivalCodeRule:
        s = self.settings
        return ArchivalCodeRule(fonds=s.fonds, doc_class=s.doc_class, item_width=s.item_width)

    @cached_property
    def key(self) -> ArchiveKey:
        return load_archive_key(self.home, self.settings.archive_key_id)

    @cached_property
    def filing_config(self) -> FilingConfig:
        return load_filing_config()

    @classmethod
    def init(
        cls,
        home: str | Path | None = None,
        *,
        fonds: str | None = None,
        organization: str | None = None,
    ) -> Archive:
        """Create a new instance: folders, configuration, archive key, catalogue schema."""
        root = resolve_home(home)
        settings = load_settings(root)
        if settings.config_file.exists():
            raise AlreadyInitialised(f"{root} 已是一个档案实例（存在 {settings.config_file.name}）")
        if fonds:
            settings.fonds = fonds
        if organization:
            settings.organization = organization
        ArchivalCodeRule(settings.fonds, settings.doc_class, settings.item_width)
        root.mkdir(parents=True, exist_ok=True)
        settings.archive_key_id = f"{re.sub(r'[^A-Za-z0-9]', '', settings.fonds)}-archive-" + (
            utcnow().strftime("%Y%m%d%H%M%S")
        )
        public_pem = create_archive_key(root, settings.archive_key_id)
        archive = cls(settings)
        archive.store.ensure()
        migrate(archive.db.engine)
        audit_log.record(
            archive.db, actor=f"os:{getpass.getuser()}", action="key:create",
            object_id=settings.archive_key_id, object_digest=signing.key_fingerprint(public_pem),
            details={"purpose": "档案馆签名密钥（AIP、回执、树头）", "algorithm": signing.ED25519},
        )
        tmp = settings.config_file.with_suffix(".tmp")
        tmp.write_text(settings.to_toml(), "utf-8")
        tmp.rename(settings.config_file)
        return archive

    @classmethod
    def open(cls, home: str | Path | None = None, *, upgrade: bool = True) -> Archive:
        root = resolve_home(home)
        settings = load_settings(root)
        if not settings.config_file.exists():
            raise NotInitialised(f"{root} 不是档案实例：请先运行 dangan init（或设置 DANGAN_HOME）")
        archive = cls(settings)
        if upgrade:
            migrate(archive.db.engine)
        return archive

    def close(self) -> None:
        self.db.dispose()
