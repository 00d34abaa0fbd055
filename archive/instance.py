"""An archive instance: settings, catalogue database, AIP store and keys in one home.

The home holds every insured person's personal data: whatever Dangan creates under it
(catalogue and its WAL/SHM files, store, replica, index, keys, exports by default) is
private to the service account. Opening or creating an instance sets the process umask to
077 and closes a home that others can enter; the store makes AIPs read-only (0400/0500).
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import stat
from contextlib import suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from dangan.packages import signing
from dangan.packages.archival_code import ArchivalCodeRule
from dangan.packages.checks import CheckRegistry

from . import audit_log
from .config import Settings, load_settings, resolve_home
from .db import Database, migrate
from .errors import AlreadyInitialised, PassphraseError
from .filing_config import FilingConfig, load_filing_config
from .keys import (
    ArchiveKey,
    archive_public_key,
    create_archive_key,
    demo_warning,
    load_archive_key,
)
from .store import AIPStore
from .timeutil import utcnow

log = logging.getLogger(__name__)
PRIVATE_UMASK = 0o077


def make_private(home: Path) -> None:
    """Files this process creates from now on are the service account's alone, and so is
    the home (an existing 0755 home is closed: it exposed the catalogue to every account)."""
    os.umask(PRIVATE_UMASK)
    try:
        st = os.stat(home)
    except FileNotFoundError:
        return
    if stat.S_IMODE(st.st_mode) & 0o077 and st.st_uid == os.geteuid():
        os.chmod(home, 0o700)


@dataclass
class Archive:
    """One instance; assembled by ``composition.create_archive`` (or ``init``), not by hand."""

    settings: Settings
    db: Database
    store: AIPStore
    checks: CheckRegistry

    @property
    def home(self) -> Path:
        return self.settings.home

    @cached_property
    def code_rule(self) -> ArchivalCodeRule:
        s = self.settings
        return ArchivalCodeRule(fonds=s.fonds, doc_class=s.doc_class, item_width=s.item_width)

    @cached_property
    def key(self) -> ArchiveKey:
        return load_archive_key(self.home, self.settings.archive_key_id,
                                self.settings.key_passphrase_file or None)

    @property
    def public_pem(self) -> bytes:
        """The archive's public key as kept in the home (``keys.archive_public_key``)."""
        return archive_public_key(self.home)

    @property
    def key_custody_warning(self) -> str | None:
        """Set while the key's passphrase lies in plain text beside it (demo mode)."""
        return demo_warning(self.home)

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
        passphrase_file: str | Path | None = None,
        demo_passphrase: bool = False,
    ) -> Archive:
        """Create a new instance: folders, configuration, archive key, catalogue schema.

        The key's passphrase comes from outside the home (``keys`` module docstring):
        ``passphrase_file`` is recorded in dangan.toml (created 0600 if missing). With no
        source, ``demo_passphrase`` keeps a random one beside the key; otherwise this
        refuses before anything is created.
        """
        root = resolve_home(home)
        settings = load_settings(root)
        if settings.config_file.exists():
            raise AlreadyInitialised(f"{root} 已是一个档案实例（存在 {settings.config_file.name}）")
        if fonds:
            settings.fonds = fonds
        if organization:
            settings.organization = organization
        ArchivalCodeRule(settings.fonds, settings.doc_class, settings.item_width)
        if passphrase_file:
            settings.key_passphrase_file = str(Path(passphrase_file).expanduser())
        make_private(root)
        existed = root.exists()
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        settings.archive_key_id = f"{re.sub(r'[^A-Za-z0-9]', '', settings.fonds)}-archive-" + (
            utcnow().strftime("%Y%m%d%H%M%S")
        )
        try:
            public_pem = create_archive_key(root, settings.archive_key_id,
                                            passphrase_file=settings.key_passphrase_file or None,
                                            demo=demo_passphrase)
        except PassphraseError:
            if not existed:
                with suppress(OSError):
                    root.rmdir()  # refused before anything was written: leave no empty home
            raise
        os.chmod(root, 0o700)
        from .composition import assemble  # the composition root builds on this module

        archive = assemble(settings)
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
    def open(cls, home: str | Path | None = None, *, upgrade: bool = False) -> Archive:
        """Open an existing instance (``composition.create_archive``); never migrates.

        A schema behind this software raises ``SchemaBehind`` (``dangan db upgrade``).
        ``upgrade=True`` upgrades first, explicitly and logged (maintenance scripts only).
        """
        from .composition import create_archive, upgrade_schema

        if not upgrade:
            return create_archive(home)
        archive = create_archive(home, check_schema=False)
        upgrade_schema(archive)
        return archive

    def close(self) -> None:
        self.db.dispose()
