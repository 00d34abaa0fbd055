"""Hashing the copies of many AIPs together, ahead of their fixity audits.

Why: an audit must compute SHA-256 and SM3 of every stored byte; SM3 one file at a time
is several times slower than SHA-256, but ``digest_files`` hashes up to sixteen files
per pass (multi-buffer SM3) while SHA-256 runs beside it, one read per file.
"""

from __future__ import annotations

import os

from dangan.packages.digests import Digests
from dangan.packages.sm3_multi import digest_files

from . import replica
from .instance import Archive

Measured = dict[str, dict[str, Digests]]  # copy name → payload path → digests just taken
MEASURE_BATCH = 16  # items whose copies are hashed together


def measure(archive: Archive, aip_ids: list[str]) -> dict[str, Measured]:
    """SHA-256 and SM3 of the payload of every copy of these AIPs, one read per file.

    All files go through ``digest_files`` together, so the multi-buffer SM3 hashes many
    at once. A file that cannot be read leaves the batch unmeasured: each copy is then
    read by its own inspection, which reports what is wrong.
    """
    where: list[tuple[str, str, str]] = []
    paths: list[str] = []
    for aip_id in aip_ids:
        for name, store in replica.stores(archive).items():
            for rel, path in _payload_files(str(store.path(aip_id))):
                where.append((aip_id, name, rel))
                paths.append(path)
    try:
        digests = digest_files(paths)
    except OSError:
        return {}
    out: dict[str, Measured] = {}
    for (aip_id, name, rel), digest in zip(where, digests, strict=True):
        out.setdefault(aip_id, {}).setdefault(name, {})[rel] = digest
    return out


def _payload_files(root: str) -> list[tuple[str, str]]:
    """(path relative to the AIP, full path) of each regular file under ``data/``, sorted;
    symlinks and special files are left to the inspection, which reports them. Strings
    and ``scandir`` entries: a walk with ``Path`` objects and an ``lstat`` per file cost
    more than the hashing of a typical item's small files."""
    data = os.path.join(root, "data")
    if os.path.islink(data) or not os.path.isdir(data):
        return []
    out: list[tuple[str, str]] = []
    _walk(data, "data/", out)
    return sorted(out)


def _walk(directory: str, prefix: str, out: list[tuple[str, str]]) -> None:
    with os.scandir(directory) as entries:
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                _walk(e.path, f"{prefix}{e.name}/", out)
            elif e.is_file(follow_symlinks=False):
                out.append((f"{prefix}{e.name}", e.path))
