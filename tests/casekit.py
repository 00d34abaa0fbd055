"""Helpers that act as the sending case-handling system: sign, edit and re-list a case."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dangan.packages import signing
from dangan.packages.digests import digest_file

SYSTEM = "jbxt-test"
KEY_ID = "k-2026"


def sign_case(root: Path, key: signing.PrivateKey, key_id: str = KEY_ID) -> None:
    """(Re)sign case.json as the sending system would."""
    data = (root / "case.json").read_bytes()
    (root / "case.json.sig").write_bytes(signing.sign(key, key_id, data).to_json())


def edit_case(root: Path, key: signing.PrivateKey, change: Callable[[dict[str, Any]], None]) -> None:
    """Change case.json and sign it again: a well-formed but different submission."""
    case = json.loads((root / "case.json").read_text("utf-8"))
    change(case)
    (root / "case.json").write_text(json.dumps(case, ensure_ascii=False, indent=2), "utf-8")
    sign_case(root, key)


def relist_file(root: Path, rel: str, key: signing.PrivateKey) -> None:
    """After replacing a content file, update its size and digests in case.json and re-sign."""
    d = digest_file(root / "files" / rel)

    def change(case: dict[str, Any]) -> None:
        for f in case["files"]:
            if f["path"] == rel:
                f.update(size=d.size, sha256=d.sha256)
                if "sm3" in f:
                    f["sm3"] = d.sm3

    edit_case(root, key, change)
