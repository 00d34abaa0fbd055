"""The one canonical JSON byte form that Dangan signs and hashes.

Receipts, audit-log leaves and evidence manifests are all signed or hashed over these
bytes, so they must be produced by one function: sorted keys, no spaces, UTF-8 without
escaping, and no NaN/Infinity (which are not JSON and would not verify elsewhere).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical_json"]


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8, no NaN: the byte form signed and hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")
