"""Signed tree heads (STH) of the Merkle audit log.

Why: a tree head is the log's commitment "the first ``size`` entries hash to ``root``";
signed, it lets an inspector holding only the public key check inclusion and
consistency proofs offline (``dangan.packages.merkle``).

Canonical bytes (what is signed), exactly::

    UTF-8 of the JSON object
    {"log_id": <str>, "root_hex": <64 lowercase hex>, "size": <int>,
     "timestamp": <UTC ISO 8601 ending in "Z">, "type": "dangan-tree-head/v1"}
    with keys sorted, separators "," and ":" (no spaces), non-ASCII kept as UTF-8.

The ``type`` member separates these signatures from any other signature made with the
same key (e.g. over a case.json). ``to_dict`` returns that same object; the signed form
is ``{"tree_head": {...}, "signature": {"alg", "key_id", "signature"}}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .errors import FormatError, KeyError_, SignatureError
from .merkle import EMPTY_ROOT, verify_consistency
from .signing import DetachedSignature, PrivateKey, sign, verify

TREE_HEAD_TYPE = "dangan-tree-head/v1"
_FIELDS = ("log_id", "root_hex", "size", "timestamp", "type")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_UTC_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


def utc_timestamp(when: datetime | None = None) -> str:
    """``when`` (default: now) as UTC ISO 8601 with microseconds and a ``Z`` suffix."""
    when = datetime.now(UTC) if when is None else when
    if when.tzinfo is None:
        raise ValueError("时间须带时区（timezone-aware datetime）")
    return when.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> datetime:
    """Parse a tree-head timestamp; raise ``FormatError`` unless it is UTC ISO 8601 with Z."""
    if not isinstance(value, str) or not _UTC_ISO.fullmatch(value):
        raise FormatError(
            "树头时间须为 UTC ISO 8601 格式并以 Z 结尾，如 2024-05-01T08:00:00Z",
            [{"field": "timestamp", "expected": "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", "found": repr(value)}],
        )
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError as exc:
        raise FormatError(
            f"树头时间不是有效日期：{value}",
            [{"field": "timestamp", "expected": "有效的日期时间", "found": value}],
        ) from exc


@dataclass(frozen=True)
class TreeHead:
    """The log ``log_id`` had ``size`` entries with Merkle root ``root_hex`` at ``timestamp``."""

    size: int
    root_hex: str
    timestamp: str
    log_id: str

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 0:
            problems.append({"field": "size", "expected": "非负整数", "found": repr(self.size)})
        if not isinstance(self.root_hex, str) or not _HEX64.fullmatch(self.root_hex):
            problems.append(
                {"field": "root_hex", "expected": "64 位小写十六进制", "found": repr(self.root_hex)}
            )
        elif self.size == 0 and self.root_hex != EMPTY_ROOT.hex():
            problems.append({"field": "root_hex", "expected": EMPTY_ROOT.hex(), "found": self.root_hex})
        if not isinstance(self.log_id, str) or not self.log_id.strip():
            problems.append({"field": "log_id", "expected": "非空字符串", "found": repr(self.log_id)})
        try:
            parse_timestamp(self.timestamp)
        except FormatError as exc:
            problems.extend(exc.details)
        if problems:
            names = "、".join(p["field"] for p in problems)
            raise FormatError(f"树头字段无效：{names}", problems)

    @classmethod
    def create(
        cls, size: int, root: bytes, log_id: str, when: datetime | None = None
    ) -> TreeHead:
        """Tree head for ``size`` entries with raw ``root`` bytes, stamped ``when`` (now)."""
        return cls(size=size, root_hex=bytes(root).hex(), timestamp=utc_timestamp(when), log_id=log_id)

    @property
    def root(self) -> bytes:
        return bytes.fromhex(self.root_hex)

    @property
    def time(self) -> datetime:
        return parse_timestamp(self.timestamp)

    def to_dict(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "root_hex": self.root_hex,
            "size": self.size,
            "timestamp": self.timestamp,
            "type": TREE_HEAD_TYPE,
        }

    def canonical_bytes(self) -> bytes:
        """The exact bytes that are signed (see the module docstring)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")

    @classmethod
    def from_dict(cls, data: Any) -> TreeHead:
        """Parse the ``to_dict`` form; raise ``FormatError`` listing every wrong field."""
        if not isinstance(data, dict):
            raise FormatError("树头应为 JSON 对象", [{"field": "tree_head", "expected": "对象", "found": type(data).__name__}])
        problems = [
            {"field": k, "expected": "应有此字段", "found": "缺失"} for k in _FIELDS if k not in data
        ] + [{"field": k, "expected": "无此字段", "found": "多余"} for k in data if k not in _FIELDS]
        if "type" in data and data["type"] != TREE_HEAD_TYPE:
            problems.append({"field": "type", "expected": TREE_HEAD_TYPE, "found": repr(data["type"])})
        if problems:
            raise FormatError("树头结构不符合 " + TREE_HEAD_TYPE, problems)
        return cls(
            size=data["size"], root_hex=data["root_hex"], timestamp=data["timestamp"], log_id=data["log_id"]
        )


@dataclass(frozen=True)
class SignedTreeHead:
    head: TreeHead
    signature: DetachedSignature

    def to_dict(self) -> dict[str, Any]:
        return {"tree_head": self.head.to_dict(), "signature": self.signature.to_dict()}

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"

    @classmethod
    def from_dict(cls, data: Any) -> SignedTreeHead:
        """Parse; a bad head raises ``FormatError``, a bad signature object ``SignatureError``."""
        if not isinstance(data, dict) or set(data) != {"tree_head", "signature"}:
            raise FormatError(
                "签名树头应为 JSON 对象 {tree_head, signature}",
                [{"field": "signed_tree_head", "expected": "tree_head, signature", "found": repr(data)[:200]}],
            )
        head = TreeHead.from_dict(data["tree_head"])
        sig = DetachedSignature.from_json(json.dumps(data["signature"]).encode("utf-8"))
        return cls(head=head, signature=sig)

    @classmethod
    def from_json(cls, raw: bytes) -> SignedTreeHead:
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FormatError(f"签名树头不是 UTF-8 JSON：{exc}") from exc
        return cls.from_dict(data)


def sign_tree_head(head: TreeHead, private_key: PrivateKey, key_id: str) -> SignedTreeHead:
    """Sign ``head.canonical_bytes()`` with the log's key."""
    return SignedTreeHead(head=head, signature=sign(private_key, key_id, head.canonical_bytes()))


def verify_tree_head(sth: SignedTreeHead, public_key_pem: bytes) -> None:
    """Check the signature over the head's canonical bytes; raise ``SignatureError`` if not."""
    try:
        verify(public_key_pem, sth.signature, sth.head.canonical_bytes())
    except KeyError_ as exc:
        raise SignatureError(f"无法用所给公钥验证树头签名：{exc.message}") from exc


def verify_extends(
    old: TreeHead | SignedTreeHead, new: TreeHead | SignedTreeHead, proof: list[bytes]
) -> bool:
    """Is ``new`` an append-only extension of ``old`` (same log, later, consistent roots)?

    Signatures are not checked here: call ``verify_tree_head`` on both first. An empty
    old tree is extended by any head, given its root is ``H()`` and the proof is empty.
    A newer head stamped before the old one is refused. Never raises.
    """
    a = old.head if isinstance(old, SignedTreeHead) else old
    b = new.head if isinstance(new, SignedTreeHead) else new
    if not isinstance(a, TreeHead) or not isinstance(b, TreeHead):
        return False
    if a.log_id != b.log_id or a.size > b.size or b.time < a.time:
        return False
    if a.size == 0:
        return a.root == EMPTY_ROOT and isinstance(proof, list | tuple) and len(proof) == 0
    return verify_consistency(a.size, b.size, a.root, b.root, proof)
