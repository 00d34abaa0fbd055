"""Detached signatures: Ed25519 and ECDSA P-256 (SHA-256), keys as PEM.

A signature travels as a small JSON object ``{"alg", "key_id", "signature"}`` (the
form of ``case.json.sig`` in the case-submission contract) over the exact bytes signed.
Private keys on disk are PEM encrypted with a passphrase (PKCS#8, best available
encryption).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from .errors import KeyError_, SignatureError

ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-p256-sha256"
ALGORITHMS = (ED25519, ECDSA_P256)

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class DetachedSignature:
    alg: str
    key_id: str
    signature: bytes

    def to_dict(self) -> dict[str, str]:
        return {
            "alg": self.alg,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> DetachedSignature:
        """Parse a signature file; raise ``SignatureError`` naming what is wrong."""
        try:
            obj: Any = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SignatureError(f"签名文件不是 UTF-8 JSON：{exc}") from exc
        if not isinstance(obj, dict):
            raise SignatureError("签名文件应为 JSON 对象 {alg, key_id, signature}")
        missing = [k for k in ("alg", "key_id", "signature") if not isinstance(obj.get(k), str)]
        if missing:
            raise SignatureError(f"签名文件缺少字段或类型不对：{', '.join(missing)}")
        try:
            raw = base64.b64decode(obj["signature"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("签名值不是合法的 base64") from exc
        return cls(alg=obj["alg"], key_id=obj["key_id"], signature=raw)


def algorithm_of(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return ED25519
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return ECDSA_P256
    raise KeyError_(f"不支持的密钥类型 {type(key).__name__}（支持 Ed25519 与 ECDSA P-256）")


def generate_private_key(alg: str = ED25519) -> PrivateKey:
    if alg == ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    if alg == ECDSA_P256:
        return ec.generate_private_key(ec.SECP256R1())
    raise KeyError_(f"不支持的签名算法 {alg!r}（支持 {', '.join(ALGORITHMS)}）")


def private_key_to_pem(key: PrivateKey, passphrase: bytes | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def load_private_key(pem: bytes, passphrase: bytes | None) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError) as exc:
        raise KeyError_(f"无法读取私钥（口令错误或文件损坏）：{exc}") from exc
    algorithm_of(key)  # type: ignore[arg-type]
    return key  # type: ignore[return-value]


def public_key_pem(key: PrivateKey | PublicKey) -> bytes:
    public = key.public_key() if hasattr(key, "private_bytes") else key
    return public.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(pem: bytes) -> PublicKey:
    """The key of a PEM; remembered (keys are immutable, and an audit verifies thousands
    of signatures with the same few keys)."""
    return _public_key(bytes(pem))


@lru_cache(maxsize=64)
def _public_key(pem: bytes) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise KeyError_(f"无法读取公钥 PEM：{exc}") from exc
    algorithm_of(key)  # type: ignore[arg-type]
    return key  # type: ignore[return-value]


def sign(key: PrivateKey, key_id: str, data: bytes) -> DetachedSignature:
    alg = algorithm_of(key)
    if alg == ED25519:
        raw = key.sign(data)  # type: ignore[call-arg]
    else:
        raw = key.sign(data, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
    return DetachedSignature(alg=alg, key_id=key_id, signature=raw)


def verify(public_pem: bytes, sig: DetachedSignature, data: bytes) -> None:
    """Verify ``sig`` over ``data``; raise ``SignatureError`` saying why it fails."""
    key = load_public_key(public_pem)
    key_alg = algorithm_of(key)
    if sig.alg != key_alg:
        raise SignatureError(f"签名算法 {sig.alg!r} 与登记的密钥算法 {key_alg!r} 不一致")
    try:
        if key_alg == ED25519:
            key.verify(sig.signature, data)  # type: ignore[call-arg]
        else:
            key.verify(sig.signature, data, ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
    except InvalidSignature as exc:
        raise SignatureError(f"签名验证失败：数据与密钥 {sig.key_id} 的签名不符") from exc


def key_fingerprint(public_pem: bytes) -> str:
    """SHA-256 of the DER public key, hex: a stable, printable key identity."""
    import hashlib

    der = load_public_key(public_pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()
