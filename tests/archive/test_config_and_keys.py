"""Instance configuration, the archive key, and the trust store of case-handling systems."""

from __future__ import annotations

from pathlib import Path

import pytest

from dangan.archive import audit_log, keys
from dangan.archive.config import load_settings
from dangan.archive.errors import (
    AlreadyInitialised,
    ConfigError,
    NotInitialised,
    TrustStoreError,
)
from dangan.archive.instance import Archive
from dangan.packages import signing


def test_init_creates_an_instance_with_an_encrypted_archive_key(tmp_path: Path) -> None:
    archive = Archive.init(tmp_path / "home", fonds="Z109", organization="测试社保中心")
    pem = (archive.home / "keys" / keys.PRIVATE_KEY).read_bytes()
    assert b"ENCRYPTED" in pem
    with pytest.raises(Exception):  # noqa: B017 - any failure: a wrong passphrase must not open it
        signing.load_private_key(pem, b"wrong")
    assert archive.key.public_pem == (archive.home / "keys" / keys.PUBLIC_KEY).read_bytes()
    reopened = Archive.open(tmp_path / "home")
    assert reopened.settings.fonds == "Z109"
    assert reopened.settings.organization == "测试社保中心"
    with pytest.raises(AlreadyInitialised):
        Archive.init(tmp_path / "home")


def test_open_without_init_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(NotInitialised, match="dangan init"):
        Archive.open(tmp_path / "nothing")


def test_bad_configuration_value_is_named(tmp_path: Path) -> None:
    home = tmp_path / "h"
    Archive.init(home)
    cfg = home / "dangan.toml"
    cfg.write_text(cfg.read_text("utf-8").replace("min_scan_dpi = 200", 'min_scan_dpi = "high"'),
                   "utf-8")
    with pytest.raises(ConfigError, match="checks.min_scan_dpi"):
        load_settings(home)


def test_environment_overrides_database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DANGAN_DATABASE_URL", "sqlite:////elsewhere.db")
    assert load_settings(tmp_path).db_url == "sqlite:////elsewhere.db"


def test_trust_store_add_list_revoke(tmp_path: Path) -> None:
    archive = Archive.init(tmp_path / "home")
    key = signing.generate_private_key(signing.ECDSA_P256)
    pem = signing.public_key_pem(key)
    entry = keys.trust_add(archive.db, "jbxt-sz", "k2026", pem, actor="admin")
    assert entry.algorithm == signing.ECDSA_P256
    with pytest.raises(TrustStoreError, match="不可复用"):
        keys.trust_add(archive.db, "jbxt-sz", "k2026", pem, actor="admin")
    with pytest.raises(TrustStoreError, match="公钥"):
        keys.trust_add(archive.db, "jbxt-sz", "bad", b"not a key", actor="admin")
    keys.trust_revoke(archive.db, "jbxt-sz", "k2026", "私钥泄露", actor="admin")
    with archive.db.session() as s:
        [listed] = keys.trust_list(s)
        assert listed.revoked_reason == "私钥泄露"
        [trusted] = keys.trusted_keys_for(s, "jbxt-sz")
        assert trusted.revoked
        actions = [e.action for e in audit_log.entries(s)]
    assert actions[-2:] == ["trust:add", "trust:revoke"]
