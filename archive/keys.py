"""The archive's own signing key and the trust store of case-handling systems.

The archive key is created by ``dangan init`` and kept as PKCS#8 PEM encrypted with a
passphrase: ``$DANGAN_KEY_PASSPHRASE`` when set, else a random one generated at init
and written beside it with mode 0600 (a production install sets the variable and
removes that file).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.packages import signing
from dangan.packages.checks import TrustedKey
from dangan.packages.errors import PackageError

from . import audit_log
from .db import Database
from .errors import ConfigError, TrustStoreError
from .models import TrustedSystemKey
from .timeutil import utcnow

KEY_DIR = "keys"
PRIVATE_KEY = "archive-key.pem"
PUBLIC_KEY = "archive-key.pub.pem"
PASSPHRASE_FILE = "passphrase"
SYSTEM_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def create_archive_key(home: Path, key_id: str) -> bytes:
    """Create the archive key pair under ``home/keys``; return the public key PEM."""
    key_dir = home / KEY_DIR
    key_dir.mkdir(parents=True, exist_ok=True)
    passphrase = os.environ.get("DANGAN_KEY_PASSPHRASE")
    if not passphrase:
        passphrase = secrets.token_urlsafe(32)
        _write_private(key_dir / PASSPHRASE_FILE, passphrase.encode())
    key = signing.generate_private_key(signing.ED25519)
    _write_private(key_dir / PRIVATE_KEY, signing.private_key_to_pem(key, passphrase.encode()))
    public = signing.public_key_pem(key)
    (key_dir / PUBLIC_KEY).write_bytes(public)
    return public


@dataclass
class ArchiveKey:
    key_id: str
    private_key: signing.PrivateKey
    public_pem: bytes


def load_archive_key(home: Path, key_id: str) -> ArchiveKey:
    key_dir = home / KEY_DIR
    passphrase = os.environ.get("DANGAN_KEY_PASSPHRASE")
    if not passphrase:
        try:
            passphrase = (key_dir / PASSPHRASE_FILE).read_text().strip()
        except FileNotFoundError as exc:
            raise ConfigError(
                "未设置 DANGAN_KEY_PASSPHRASE，且实例中没有口令文件：无法解开档案馆签名私钥"
            ) from exc
    try:
        pem = (key_dir / PRIVATE_KEY).read_bytes()
        private = signing.load_private_key(pem, passphrase.encode())
    except FileNotFoundError as exc:
        raise ConfigError(f"找不到档案馆签名私钥 {key_dir / PRIVATE_KEY}") from exc
    except PackageError as exc:
        raise ConfigError(f"档案馆签名私钥无法读取：{exc.message}") from exc
    return ArchiveKey(key_id=key_id, private_key=private, public_pem=signing.public_key_pem(private))


@dataclass(frozen=True)
class TrustEntry:
    system: str
    key_id: str
    algorithm: str
    fingerprint: str
    added_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "system": self.system,
            "key_id": self.key_id,
            "algorithm": self.algorithm,
            "fingerprint": self.fingerprint,
            "added_at": self.added_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked_reason": self.revoked_reason,
        }


def _entry(row: TrustedSystemKey) -> TrustEntry:
    return TrustEntry(row.system, row.key_id, row.algorithm, row.fingerprint, row.added_at,
                      row.revoked_at, row.revoked_reason)


def trust_add(db: Database, system: str, key_id: str, public_pem: bytes, *,
              actor: str) -> TrustEntry:
    """Register a sending system's key; the change is an audit-log entry (``trust:add``)."""
    with db.filing_session() as session:
        entry = _trust_add(session, system, key_id, public_pem)
        audit_log.append(session, actor=actor, action="trust:add",
                         object_id=f"{system}/{key_id}", object_digest=entry.fingerprint,
                         details={"algorithm": entry.algorithm})
    return entry


def trust_revoke(db: Database, system: str, key_id: str, reason: str, *,
                 actor: str) -> TrustEntry:
    """Revoke a key: submissions signed with it are refused from now on (``trust:revoke``)."""
    with db.filing_session() as session:
        entry = _trust_revoke(session, system, key_id, reason)
        audit_log.append(session, actor=actor, action="trust:revoke",
                         object_id=f"{system}/{key_id}", object_digest=entry.fingerprint,
                         details={"reason": entry.revoked_reason})
    return entry


def _trust_add(session: Session, system: str, key_id: str, public_pem: bytes) -> TrustEntry:
    if not SYSTEM_RE.fullmatch(system):
        raise TrustStoreError(f"系统标识 {system!r} 应为 1-64 位字母、数字或 . _ -")
    if not key_id or len(key_id) > 128:
        raise TrustStoreError("密钥标识应为 1-128 个字符")
    try:
        key = signing.load_public_key(public_pem)
    except PackageError as exc:
        raise TrustStoreError(f"公钥文件无法读取：{exc.message}") from exc
    existing = session.scalar(
        select(TrustedSystemKey).where(
            TrustedSystemKey.system == system, TrustedSystemKey.key_id == key_id
        )
    )
    if existing is not None:
        raise TrustStoreError(
            f"系统 {system} 的密钥 {key_id} 已登记（指纹 {existing.fingerprint[:16]}…）；"
            "密钥标识不可复用，请使用新的标识"
        )
    row = TrustedSystemKey(
        system=system,
        key_id=key_id,
        algorithm=signing.algorithm_of(key),
        public_key_pem=public_pem.decode("ascii"),
        fingerprint=signing.key_fingerprint(public_pem),
        added_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _entry(row)


def _trust_revoke(session: Session, system: str, key_id: str, reason: str) -> TrustEntry:
    row = session.scalar(
        select(TrustedSystemKey).where(
            TrustedSystemKey.system == system, TrustedSystemKey.key_id == key_id
        )
    )
    if row is None:
        raise TrustStoreError(f"信任库中没有系统 {system} 的密钥 {key_id}")
    if row.revoked_at is not None:
        raise TrustStoreError(f"系统 {system} 的密钥 {key_id} 已于 {row.revoked_at} 吊销")
    row.revoked_at = utcnow()
    row.revoked_reason = reason or "未说明"
    session.flush()
    return _entry(row)


def trust_list(session: Session) -> list[TrustEntry]:
    rows = session.scalars(
        select(TrustedSystemKey).order_by(TrustedSystemKey.system, TrustedSystemKey.key_id)
    )
    return [_entry(r) for r in rows]


def trusted_keys_for(session: Session, system: str) -> list[TrustedKey]:
    rows = session.scalars(select(TrustedSystemKey).where(TrustedSystemKey.system == system))
    return [
        TrustedKey(
            system=r.system,
            key_id=r.key_id,
            algorithm=r.algorithm,
            public_key_pem=r.public_key_pem.encode("ascii"),
            revoked=r.revoked_at is not None,
        )
        for r in rows
    ]
