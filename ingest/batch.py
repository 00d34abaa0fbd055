"""Filing many submissions with several worker processes.

Checks and packaging run in parallel; only the short filing window (archival code,
store commit, catalogue) is serialised by the database, so codes stay gap-free.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dangan.archive.instance import Archive

from .errors import IngestError
from .service import IngestOutcome, ingest

_archive: Archive | None = None


def _init(home: str) -> None:
    global _archive
    _archive = Archive.open(home, upgrade=False)


@dataclass
class BatchResult:
    path: Path
    outcome: IngestOutcome | None
    error: dict | None  # an IngestError as data (unusable submission)


def _one(args: tuple[str, str | None, bool]) -> BatchResult:
    path, actor, index = args
    assert _archive is not None
    try:
        outcome = ingest(_archive, Path(path), actor=actor, index=index, ocr=False)
        return BatchResult(Path(path), outcome, None)
    except IngestError as exc:
        return BatchResult(Path(path), None, exc.to_dict())


def ingest_many(
    home: Path,
    paths: Iterable[Path],
    *,
    workers: int = 2,
    actor: str | None = None,
    index: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[BatchResult]:
    """File every path; results keep the input order.

    Indexing is left to one pass afterwards (``dangan.search.feed.reindex``) unless
    ``index`` asks for it per case (without OCR).
    """
    todo = [(str(p), actor, index) for p in paths]
    if workers <= 1:
        _init(str(home))
        return [_report(i, _one(t), progress) for i, t in enumerate(todo, 1)]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init,
                             initargs=(str(home),)) as pool:
        return [_report(i, r, progress)
                for i, r in enumerate(pool.map(_one, todo, chunksize=4), 1)]


def _report(i: int, result: BatchResult, progress: Callable[[int], None] | None) -> BatchResult:
    if progress is not None:
        progress(i)
    return result
