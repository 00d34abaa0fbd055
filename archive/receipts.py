"""Receipts (归档回执): the archive's signed statement of what it filed and when.

The signature covers the canonical JSON of the receipt body (sorted keys, no spaces,
UTF-8), so the source system can keep the receipt as proof and verify it with the
archive's public key alone.
"""

from __future__ import annotations

import json
from typing import Any

from dangan.packages import signing
from dangan.packages.canonical import canonical_json

from .keys import ArchiveKey

RECEIPT_TYPE = "dangan/receipt/1"


def make_receipt(body: dict[str, Any], key: ArchiveKey) -> dict[str, Any]:
    body = {"type": RECEIPT_TYPE, **body}
    sig = signing.sign(key.private_key, key.key_id, canonical_json(body))
    return {**body, "signature": sig.to_dict()}


def verify_receipt(receipt: dict[str, Any], public_pem: bytes) -> None:
    """Raise ``SignatureError`` unless the receipt was signed by that archive key."""
    body = {k: v for k, v in receipt.items() if k != "signature"}
    sig = signing.DetachedSignature.from_json(json.dumps(receipt.get("signature", {})).encode())
    signing.verify(public_pem, sig, canonical_json(body))
