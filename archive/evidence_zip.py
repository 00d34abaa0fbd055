"""Writing an evidence package: members with fixed times and recorded digests, the signed
manifest, and the rename into place. Shared by the filed-case and destroyed-case packages,
so both are byte-reproducible the same way and the verifier reads them alike."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any

from dangan.packages import evidence as ev
from dangan.packages import signing


def write_member(zf: zipfile.ZipFile, name: str, data: bytes,
                 hashes: dict[str, dict[str, Any]]) -> None:
    info = zipfile.ZipInfo(name, (2000, 1, 1, 0, 0, 0))
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)
    hashes[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def sign_manifest(zf: zipfile.ZipFile, manifest: dict[str, Any], key: Any) -> bytes:
    """Write the canonical manifest and its signature by the archive key; returns the
    manifest bytes (their SHA-256 is the export's logged digest)."""
    raw = ev.canonical_json(manifest)
    write_member(zf, ev.MANIFEST, raw, {})
    write_member(zf, ev.MANIFEST_SIG,
                 signing.sign(key.private_key, key.key_id, raw).to_json(), {})
    return raw


def publish(tmp: Path, dest: Path) -> None:
    """Make the finished package durable, then give it its name in one step."""
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dest)
