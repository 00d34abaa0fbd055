"""Examining the batches of a fixity audit in worker processes, one per core.

Why: per item, an audit is mostly Python (descriptions, signatures, checks, queries)
and holds the GIL, so threads cannot use a second core; processes can. Each worker
opens the archive from its home and only reads (``fixity_item.examine_batch``); the
calling process repairs, writes the result rows and the audit entries, in the order
the batches were chosen. Workers are started with ``spawn`` (no copy of the caller's
open database connections or threads); a script that audits must therefore guard its
entry point with ``if __name__ == "__main__":``, as every multiprocessing program.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from . import failpoints
from .fixity_item import ItemAudit, examine_batch
from .instance import Archive

WORKERS_FROM = 256  # fewer items than this are examined in the calling process
_worker_archive: Archive | None = None


def default_workers(items: int) -> int:
    """One worker per usable core for a large audit; none (in process) for a small one,
    or inside a daemonic process (a Celery prefork worker may not start children)."""
    if items < WORKERS_FROM or multiprocessing.current_process().daemon:
        return 1
    return len(os.sched_getaffinity(0))


def _start(home: str) -> None:
    global _worker_archive
    _worker_archive = Archive.open(home)


def _examine(aip_ids: list[str], content: bool) -> list[ItemAudit]:
    assert _worker_archive is not None, "worker not started"
    audits = examine_batch(_worker_archive, aip_ids, content=content)
    failpoints.reach("fixity_examined")
    return audits


def examined(archive: Archive, batches: list[list[str]], *, content: bool,
             workers: int) -> Iterator[list[ItemAudit]]:
    """The audits of each batch, in order; at most three batches per worker in flight."""
    if workers <= 1 or len(batches) < 2:
        for batch in batches:
            yield examine_batch(archive, batch, content=content)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start, initargs=(str(archive.home),)) as pool:
        todo = iter(batches)
        pending: deque[Future[list[ItemAudit]]] = deque(
            pool.submit(_examine, b, content) for b in islice(todo, 3 * workers))
        while pending:
            done = pending.popleft().result()
            following = next(todo, None)
            if following is not None:
                pending.append(pool.submit(_examine, following, content))
            yield done
