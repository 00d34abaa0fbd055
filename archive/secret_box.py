"""Secrets the catalogue must keep but never hold in the clear (TOTP seeds), sealed with
AES-256-GCM under a key derived from the archive key.

Why the archive key: it already has a custody (a passphrase outside the home, see
docs/key-custody.md), so a copy of the database or of a backup alone — without the
passphrase — yields no second factor. The box key is HKDF-SHA256 of the private key, so
rotating the passphrase changes nothing here. Each value is bound to its row (the
associated data names the column and the login): a sealed seed copied onto another
account does not open.

Stored form: ``v1:`` + base64url(12-byte nonce ‖ ciphertext ‖ tag).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import ArchiveError

PREFIX = "v1:"
_INFO = b"dangan/secret-box/v1"


class SecretBoxError(ArchiveError):
    code = "archive.secret_box"


def derive_key(private_key: object) -> bytes:
    """The box key of an archive private key (any type ``cryptography`` serialises)."""
    raw = private_key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(raw)


def is_sealed(value: str | None) -> bool:
    return value is not None and value.startswith(PREFIX)


class SecretBox:
    """Seals and opens short secrets; the key is derived on first use (unlocking the key)."""

    def __init__(self, key_source: Callable[[], bytes]) -> None:
        self._key_source = key_source

    @cached_property
    def _aead(self) -> AESGCM:
        try:
            return AESGCM(self._key_source())
        except ArchiveError as exc:
            raise SecretBoxError("无法解锁档案馆密钥，动态口令无法校验：" + exc.message,
                                 exc.details) from exc

    def seal(self, secret: str, context: str) -> str:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, secret.encode(), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + ct).decode("ascii")

    def open(self, sealed: str, context: str) -> str:
        if not is_sealed(sealed):
            raise SecretBoxError("数据库中的动态口令密钥未加密：请运行 dangan db upgrade 迁移")
        try:
            blob = base64.urlsafe_b64decode(sealed[len(PREFIX):])
            return self._aead.decrypt(blob[:12], blob[12:], context.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise SecretBoxError("动态口令密钥无法解密（被篡改或不属于此账户）：请由系统管理员重新登记",
                                 [{"context": context}]) from exc


def totp_context(login: str) -> str:
    return f"users.totp_secret:{login}"
