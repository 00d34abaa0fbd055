"""OCR after the fact, in a process of its own, with a progress record the web shows.

Why: ``dangan demo`` (and an archive whose cases were filed without OCR) must be usable
at once; the index built without OCR serves searches while this pass OCRs the scans and
swaps in the complete index at the end. ``ocr-progress.json`` beside the derived texts
records how many items are done, so the home page can say how far it has come.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from dangan.archive.instance import Archive

from .feed import derived_dir, ocr_pending, reindex

PROGRESS_FILE = "ocr-progress.json"


def _path(archive: Archive) -> Path:
    return derived_dir(archive) / PROGRESS_FILE


def write_progress(archive: Archive, state: str, done: int, total: int) -> None:
    path = _path(archive)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"state": state, "done": done, "total": total,
                               "updated": time.time(), "pid": os.getpid()}), "utf-8")
    tmp.replace(path)


def progress(archive: Archive) -> dict[str, Any] | None:
    """The last recorded OCR pass (``state`` running|done|stopped|idle) and ``pending``, the number
    of indexed items whose scans still await OCR; None if no pass ran and none wait."""
    pending = len(ocr_pending(archive))
    try:
        doc = json.loads(_path(archive).read_text("utf-8"))
    except (OSError, ValueError):
        if not pending:
            return None
        doc = {"state": "idle", "done": 0, "total": 0}
    doc["percent"] = round(100.0 * doc["done"] / doc["total"], 1) if doc.get("total") else 100.0
    doc["pending"] = pending
    if doc.get("state") == "running" and not _alive(doc.get("pid")):
        doc["state"] = "stopped"  # killed or crashed: its items still await OCR
    return doc


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return True  # not ours to judge
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def default_workers() -> int:
    """One OCR engine per core: each worker process runs one single-threaded engine."""
    return max(1, os.cpu_count() or 1)


def run(archive: Archive, *, workers: int | None = None) -> int:
    """OCR every item's scans and swap in the complete index; records progress."""
    workers = workers or default_workers()
    write_progress(archive, "running", 0, 0)
    last = [0.0]

    def step(n: int, total: int) -> None:
        if n == total or time.monotonic() - last[0] > 1.0:
            last[0] = time.monotonic()
            write_progress(archive, "running", n, total)

    total = reindex(archive, ocr=True, workers=workers, progress=step)
    write_progress(archive, "done", total, total)
    return total


def main(argv: list[str]) -> int:
    try:
        os.nice(5)  # behind the web and filing, which stay responsive while OCR runs
    except OSError:
        pass
    archive = Archive.open(argv[0], upgrade=False)
    try:
        run(archive, workers=int(argv[1]) if len(argv) > 1 else None)
    finally:
        archive.close()
    return 0


if __name__ == "__main__":  # python -m dangan.search.ocr_background HOME [WORKERS (default: cores)]
    sys.exit(main(sys.argv[1:]))
