"""Keys in an evidence package: the archive key's fingerprints, source keys it vouches for.

Why: a source-system key shipped inside the package proves nothing on its own — whoever
forged ``case.json`` would ship their own key. The archive signs a snapshot of its trust
store (``keys/source/trust.json``, signature ``keys/source/trust.sig.json``): which keys
it held for the system, their fingerprints, when each was added and revoked. A source
signature counts only under a key listed there, with that fingerprint, added before and
not revoked before the case was received — and only as far as the archive key that
signed the snapshot is itself authenticated.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization

from .digests import sm3_hex
from .errors import FormatError, SignatureError
from .signing import DetachedSignature, key_fingerprint, load_public_key, verify

SOURCE_TRUST = "keys/source/trust.json"
SOURCE_TRUST_SIG = "keys/source/trust.sig.json"
TRUST_TYPE = "dangan-trust-snapshot/v1"


def fingerprints(pem: bytes) -> dict[str, str]:
    """SHA-256 and SM3 of the DER public key, hex: what an inspector may compare."""
    der = load_public_key(pem).public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"sha256": hashlib.sha256(der).hexdigest(), "sm3": sm3_hex(der)}


def normalize_fingerprint(value: str) -> str:
    """``SHA256:AB:CD…``, ``sm3 abcd…`` → bare lower-case hex (algorithm prefix dropped)."""
    v = value.strip().lower()
    v = re.sub(r"^(sha-?256|sm3)\s*[:=]?\s*", "", v)
    return re.sub(r"[\s:]", "", v)


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _trust_snapshot(read: Callable[[str], bytes | None], archive_key: bytes | None,
                    aip_id: str | None) -> dict[str, Any]:
    """The source keys as the archive vouches for them: the snapshot signed by the archive key."""
    raw = read(SOURCE_TRUST)
    if raw is None:
        raise SignatureError("证据包中缺少来源系统公钥登记快照 trust.json")
    try:
        snapshot = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"来源系统公钥登记快照不是 UTF-8 JSON：{exc}") from exc
    if archive_key is None:
        raise SignatureError("没有可用的档案馆公钥，无法核对来源系统公钥登记快照")
    sig_raw = read(SOURCE_TRUST_SIG)
    if sig_raw is None:
        raise SignatureError("来源系统公钥登记快照没有档案馆签名（trust.sig.json）：包内来源公钥无人担保")
    try:
        verify(archive_key, DetachedSignature.from_json(sig_raw), raw or b"")
    except SignatureError as exc:
        raise SignatureError(f"来源系统公钥登记快照的签名不是档案馆密钥所签（{exc.message}）："
                             "包内来源公钥无人担保") from exc
    if not isinstance(snapshot, dict) or snapshot.get("type") != TRUST_TYPE:
        raise FormatError(f"来源系统公钥登记快照的类型应为 {TRUST_TYPE}")
    if snapshot.get("aip_id") != aip_id:
        raise SignatureError(f"来源系统公钥登记快照是为 AIP {snapshot.get('aip_id')!r} 出具的，不是本件")
    return snapshot


def vouched_source_key(read: Callable[[str], bytes | None], archive_key: bytes | None,
                       aip_id: str | None, system: str | None, key_id: str,
                       received_at: str | None, registered_by: str | None = None,
                       ) -> tuple[dict[str, Any], bytes, dict[str, Any]]:
    """The source key ``(system, key_id)`` as the archive's signed snapshot lists it, valid
    at ``received_at``: (its snapshot entry, its PEM, the snapshot). Raises
    ``SignatureError`` naming why the key is not vouched for.

    ``registered_by``: for a case received by transfer (移交), when this archive filed it
    (its logged ``aip:file`` time). The key then had to be in this archive's trust store
    by that time (imported from the sender), and not revoked before ``received_at`` (when
    the sender received the case); a transfer-time revocation is allowed."""
    snapshot = _trust_snapshot(read, archive_key, aip_id)
    keys = snapshot.get("keys") if isinstance(snapshot.get("keys"), list) else []
    match = [t for t in keys if isinstance(t, dict) and t.get("key_id") == key_id
             and t.get("system") == system]
    if not match:
        raise SignatureError(f"档案馆签署的登记快照中没有来源系统 {system} 的密钥 {key_id}")
    t = match[0]
    pem = read(str(t.get("file", "")))
    if pem is None:
        raise SignatureError(f"证据包中缺少公钥文件 {t.get('file')}")
    if key_fingerprint(pem) != t.get("fingerprint"):
        raise SignatureError(f"包内来源系统公钥 {t.get('file')}（指纹 {key_fingerprint(pem)[:16]}…）不是档案馆"
                             f"登记快照中的公钥（{str(t.get('fingerprint'))[:16]}…）：公钥被替换")
    received, added, revoked = _when(received_at), _when(t.get("added_at")), _when(t.get("revoked_at"))
    if received is None or added is None:
        raise SignatureError("无法确定接收时间或密钥登记时间，无法判断签名时密钥是否有效")
    by, by_text = (_when(registered_by), registered_by) if registered_by else (received, received_at)
    if by is None or added > by:
        raise SignatureError(f"密钥 {key_id} 登记于 {t.get('added_at')}，晚于本件接收时间 "
                             f"{by_text}：接收时不在信任库中")
    if revoked is not None and revoked <= received:
        raise SignatureError(f"密钥 {key_id} 已于 {t.get('revoked_at')} 吊销（{t.get('revoked_reason')}），"
                             f"早于本件接收时间 {received_at}")
    return t, pem, snapshot
