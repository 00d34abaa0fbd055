"""The archive's own signing key and the trust store of case-handling systems.

The archive key is created by ``dangan init`` and kept in the home as PKCS#8 PEM
encrypted with a passphrase that lives *outside* the home (docs/key-custody.md), taken
from, in this order:

1. ``$DANGAN_KEY_PASSPHRASE``;
2. a systemd credential, ``$CREDENTIALS_DIRECTORY/dangan-key-passphrase``;
3. the file named by ``[keys] key_passphrase_file`` in dangan.toml, refused when its
   group or other users have any access to it;
4. demo only (``dangan init --demo-passphrase``, ``dangan demo``): a random passphrase
   written beside the key, ``keys/passphrase``; a warning is logged at every open.

Whoever can read the home then cannot unlock the key: a copy of the home (a backup, a
stolen disk) holds the key but not its passphrase.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
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
from .errors import ConfigError, PassphraseError, PublicKeyError, TrustStoreError
from .models import TrustedSystemKey
from .timeutil import utcnow

KEY_DIR = "keys"
PRIVATE_KEY = "archive-key.pem"
PUBLIC_KEY = "archive-key.pub.pem"
PASSPHRASE_FILE = "passphrase"  # the demo's passphrase beside the key
PASSPHRASE_ENV = "DANGAN_KEY_PASSPHRASE"
CREDENTIAL_NAME = "dangan-key-passphrase"  # systemd LoadCredential=/SetCredential= name
HOW_TO_PROVIDE = (
    "请任选一种方式提供档案馆私钥口令（均在实例目录之外）：设置环境变量 DANGAN_KEY_PASSPHRASE；"
    "或 dangan init --passphrase-file /etc/dangan/passphrase（权限 0600，仅服务账户可读，"
    "写入 dangan.toml 的 keys.key_passphrase_file）；或以 systemd 凭据 dangan-key-passphrase 提供"
    "（LoadCredential=）。仅作演示时可用 dangan init --demo-passphrase。详见 docs/key-custody.md"
)
SYSTEM_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


@dataclass(frozen=True)
class PassphraseSource:
    """Where the archive key's passphrase comes from."""

    kind: str  # "env", "credential", "file" or "demo"
    path: Path | None = None

    @property
    def label(self) -> str:
        return {"env": f"环境变量 {PASSPHRASE_ENV}",
                "credential": f"systemd 凭据 {self.path}",
                "file": f"口令文件 {self.path}",
                "demo": f"演示口令文件 {self.path}（明文，仅供演示）"}[self.kind]


def _inside(path: Path, home: Path) -> bool:
    return path.resolve().is_relative_to(home.resolve())


def check_passphrase_file(path: Path, home: Path) -> Path:
    """A configured passphrase file must be outside the home and private to its owner."""
    path = Path(path).expanduser()
    if not path.is_absolute():
        raise PassphraseError(f"口令文件应写绝对路径：{path}", [{"path": str(path)}])
    if _inside(path, home):
        raise PassphraseError(
            f"口令文件 {path} 位于实例目录 {home} 之内：能读取实例（或其备份）的人就能解开私钥；"
            "请放在实例目录之外，例如 /etc/dangan/passphrase",
            [{"path": str(path), "home": str(home)}])
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise PassphraseError(f"找不到口令文件 {path}；{HOW_TO_PROVIDE}",
                              [{"path": str(path)}]) from exc
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise PassphraseError(
            f"口令文件 {path} 的权限为 {mode:04o}，同组或其他用户可以访问；"
            f"请执行 chmod 600 {path}（仅服务账户可读）后重试",
            [{"path": str(path), "found": f"{mode:04o}", "expected": "0600 或 0400"}])
    return path


def _read_secret(path: Path) -> str:
    try:
        value = path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PassphraseError(f"口令文件 {path} 无法读取：{exc}", [{"path": str(path)}]) from exc
    if not value:
        raise PassphraseError(f"口令文件 {path} 为空", [{"path": str(path)}])
    return value


def passphrase_sources(home: Path, passphrase_file: str | Path | None) -> list[PassphraseSource]:
    """Every source present, in the order they are used (docstring of this module)."""
    found: list[PassphraseSource] = []
    if os.environ.get(PASSPHRASE_ENV):
        found.append(PassphraseSource("env"))
    cred_dir = os.environ.get("CREDENTIALS_DIRECTORY")
    if cred_dir and (Path(cred_dir) / CREDENTIAL_NAME).is_file():
        found.append(PassphraseSource("credential", Path(cred_dir) / CREDENTIAL_NAME))
    if passphrase_file:
        found.append(PassphraseSource("file", Path(passphrase_file)))
    demo = home / KEY_DIR / PASSPHRASE_FILE
    if demo.exists():
        found.append(PassphraseSource("demo", demo))
    return found


def _new_passphrase_file(path: Path, home: Path) -> None:
    """At init, a named passphrase file that does not exist yet is created (0600, random)."""
    path = Path(path).expanduser()
    if path.is_absolute() and not _inside(path, home) and not path.exists():
        if not path.parent.is_dir():
            raise PassphraseError(f"口令文件所在目录 {path.parent} 不存在；请先创建（仅服务账户可访问）",
                                  [{"path": str(path)}])
        _write_private(path, (secrets.token_urlsafe(32) + "\n").encode())


def read_passphrase(home: Path, source: PassphraseSource) -> str:
    if source.kind == "env":
        return os.environ[PASSPHRASE_ENV]
    assert source.path is not None
    if source.kind == "file":
        return _read_secret(check_passphrase_file(source.path, home))
    return _read_secret(source.path)


def demo_warning(home: Path) -> str | None:
    """The warning for a home that keeps its passphrase in plain text beside the key."""
    demo = home / KEY_DIR / PASSPHRASE_FILE
    if not demo.exists():
        return None
    return (f"警告：档案馆私钥的口令以明文保存在 {demo}（演示模式），能读取实例目录或其备份的人"
            "都能解开私钥、伪造签名；仅供演示。正式实例的口令须在实例目录之外"
            "（DANGAN_KEY_PASSPHRASE、keys.key_passphrase_file 或 systemd 凭据），见 docs/key-custody.md")


def create_archive_key(home: Path, key_id: str, *, passphrase_file: str | Path | None = None,
                       demo: bool = False) -> bytes:
    """Create the archive key pair under ``home/keys``; return the public key PEM.

    Exactly one passphrase source must be present (an ambiguous set could encrypt the key
    with a passphrase the next open does not use); with none, ``demo`` writes a random one
    beside the key, otherwise this refuses and says how to provide one.
    """
    sources = [s for s in passphrase_sources(home, passphrase_file) if s.kind != "demo"]
    if len(sources) > 1:
        raise PassphraseError(
            "找到多个口令来源：" + "、".join(s.label for s in sources) + "；初始化时请只保留一个",
            [{"source": s.kind} for s in sources])
    key_dir = home / KEY_DIR
    if sources and sources[0].kind == "file" and sources[0].path is not None:
        _new_passphrase_file(sources[0].path, home)
    if sources:
        passphrase = read_passphrase(home, sources[0])
        key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    elif demo:
        passphrase = secrets.token_urlsafe(32)
        key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(key_dir / PASSPHRASE_FILE, passphrase.encode())
    else:
        raise PassphraseError("未提供档案馆私钥口令，未创建实例。" + HOW_TO_PROVIDE)
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


def read_public_key(path: Path) -> bytes:
    """The PEM bytes of a public key file, checked to be one (the only way keys are read).

    Inspectors pass their own copy (``--key``, ``--public-key``); ``archive_public_key``
    reads the instance's. Refused with ``archive.public_key`` (exit 2) if unusable.
    """
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise PublicKeyError(f"无法读取公钥文件 {path}：{exc.strerror}") from exc
    try:
        signing.load_public_key(pem)
    except PackageError as exc:
        raise PublicKeyError(f"{path} 不是可用的公钥：{exc.message}") from exc
    return pem


def archive_public_key(home: Path) -> bytes:
    """The archive's own public key (no passphrase needed: verification never unlocks)."""
    return read_public_key(home / KEY_DIR / PUBLIC_KEY)


def load_archive_key(home: Path, key_id: str,
                     passphrase_file: str | Path | None = None) -> ArchiveKey:
    key_dir = home / KEY_DIR
    sources = passphrase_sources(home, passphrase_file)
    if not sources:
        raise PassphraseError("无法解开档案馆签名私钥：没有口令。" + HOW_TO_PROVIDE)
    passphrase = read_passphrase(home, sources[0])
    try:
        pem = (key_dir / PRIVATE_KEY).read_bytes()
        private = signing.load_private_key(pem, passphrase.encode())
    except FileNotFoundError as exc:
        raise ConfigError(f"找不到档案馆签名私钥 {key_dir / PRIVATE_KEY}") from exc
    except PackageError as exc:
        raise ConfigError(
            f"档案馆签名私钥无法读取（口令来自{sources[0].label}）：{exc.message}") from exc
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
