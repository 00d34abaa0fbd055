"""Removing every copy of AIPs that leave the archive (destruction or transfer): the store
copy, the replica, the derived and OCR text, the awaiting-OCR marker and the index entry.

Per chunk and per kind of copy (store, then replica, then derived text and the index), so
a run killed in between leaves whole kinds done or not, and each removal is a no-op when
already done; the tree removals run on a few threads (they wait on the file system, not
the CPU) and the index entries go in one commit (``remove_many``).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dangan.archive import failpoints
from dangan.archive.instance import Archive
from dangan.archive.replica import replica_store
from dangan.archive.store import remove_tree
from dangan.search.extract import derived_text_path
from dangan.search.feed import derived_dir, mark_ocr_pending

REMOVERS = 8  # threads removing AIP trees (file-system bound)


def remove_copies(archive: Archive, aip_ids: list[str], search: Any, *, failpoint: str) -> None:
    """Every copy outside the catalogue; ``failpoint`` names the crash-test points
    (``<failpoint>.after_store``, ``<failpoint>.after_replica``)."""
    replicas, derived = replica_store(archive), derived_dir(archive)
    with ThreadPoolExecutor(max_workers=REMOVERS) as pool:
        list(pool.map(remove_tree, [archive.store.path(i) for i in aip_ids]))
        failpoints.reach(f"{failpoint}.after_store")
        list(pool.map(remove_tree, [replicas.path(i) for i in aip_ids]))
        failpoints.reach(f"{failpoint}.after_replica")
        list(pool.map(lambda i: derived_text_path(derived, i).unlink(missing_ok=True), aip_ids))
        list(pool.map(lambda i: mark_ocr_pending(archive, i, False), aip_ids))
    search.remove_many(aip_ids)
