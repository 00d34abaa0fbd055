"""Hashing the copies of many AIPs together, ahead of their fixity audits.

Why: an audit must compute SHA-256 and SM3 of every stored byte; SM3 one file at a time
is several times slower than SHA-256, but ``digest_files`` hashes up to sixteen files
per pass (multi-buffer SM3) while SHA-256 runs beside it, one read per file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

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
    paths: list[Path] = []
    for aip_id in aip_ids:
        for name, store in replica.stores(archive).items():
            root = store.path(aip_id)
            for path in _payload_files(root):
                where.append((aip_id, name, path.relative_to(root).as_posix()))
                paths.append(path)
    try:
        digests = digest_files(paths)
    except OSError:
        return {}
    out: dict[str, Measured] = {}
    for (aip_id, name, rel), digest in zip(where, digests, strict=True):
        out.setdefault(aip_id, {}).setdefault(name, {})[rel] = digest
    return out


def _payload_files(root: Path) -> list[Path]:
    data = root / "data"
    if data.is_symlink() or not data.is_dir():
        return []
    return sorted(Path(d) / n for d, _dirs, names in os.walk(data) for n in names
                  if stat.S_ISREG((Path(d) / n).lstat().st_mode))
