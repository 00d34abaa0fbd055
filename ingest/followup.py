"""What follows a committed filing: the search index entry and the second copy.

Neither may undo the filing. A failure is recorded on the outcome and logged; ``dangan
search reindex`` and ``dangan fixity backfill`` complete the work later.
"""

from __future__ import annotations

import logging

from dangan.archive.instance import Archive
from dangan.archive.replica import write_replica

from . import tasks
from .outcome import IngestOutcome

log = logging.getLogger(__name__)


def index_filed(archive: Archive, outcome: IngestOutcome, ocr: bool) -> None:
    """Index a just-filed case — on a worker when a broker is configured, else here.

    A failure leaves the case archived (the index is derived data).
    """
    replaces = outcome.extra.get("supersedes_aip_id")
    try:
        if tasks.queued():
            tasks.app.send_task(tasks.INDEX_TASK, kwargs={
                "aip_id": outcome.aip_id, "home": str(archive.home), "ocr": ocr,
                "replaces": replaces})
            outcome.extra["index"] = "queued"
            return
        from dangan.search.feed import index_item  # the search stack loads only to index

        index_item(archive, outcome.aip_id or "", ocr=ocr, replaces=replaces)
        outcome.extra["index"] = "done"
    except Exception as exc:  # noqa: BLE001 - reported; the filing itself stands
        outcome.extra["index_error"] = f"{type(exc).__name__}: {exc}"
        log.warning("archived %s but could not index it (run dangan search reindex): %s",
                    outcome.aip_id, exc)


def replicate_filed(archive: Archive, outcome: IngestOutcome, actor: str) -> None:
    """Write the second copy; a failure leaves the case archived and is repaired later."""
    try:
        write_replica(archive, outcome.aip_id or "", actor=actor)
    except Exception as exc:  # noqa: BLE001 - reported; ``dangan fixity backfill`` completes it
        outcome.extra["replica_error"] = f"{type(exc).__name__}: {exc}"
        log.warning("archived %s but its replica failed (run dangan fixity backfill): %s",
                    outcome.aip_id, exc)
