"""The full Dangan worker: every background task, and at start whatever died half done.

Run it with ``celery -A dangan.web.worker worker -B`` (``$DANGAN_BROKER_URL`` set). It is
``dangan.ingest.tasks``'s app (archive tasks plus indexing and API filing); what this
module adds is the start-up work that needs both workflows, which only an entry point
above ``ingest`` and ``retention`` may import: a worker starting up first finishes the
follow-ups of dead filing processes, then completes any destruction an interrupted run
left (its tombstones and its register, 销毁清册).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from dangan.archive.instance import Archive
from dangan.ingest import tasks as ingest_tasks

from .lifecycle import complete_interrupted

log = logging.getLogger(__name__)


def finish_interrupted(home: str | None = None) -> int:
    """Filing follow-ups, then destructions: what a worker does before taking tasks."""
    done = ingest_tasks.finish_pending(home)
    archive = Archive.open(home)
    try:
        done += len(complete_interrupted(archive))
    finally:
        archive.close()
    return done


def _on_worker_ready(**_kwargs: object) -> None:
    try:
        finish_interrupted(os.environ.get("DANGAN_HOME"))
    except Exception:  # noqa: BLE001 - a worker must start even when this fails; logged
        log.exception("could not finish interrupted work at worker start")


_app: Celery | None = None


def worker_app() -> Celery:
    """The process's worker app, built on first use (the ``celery -A`` entry point)."""
    global _app
    if _app is None:
        worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid=__name__)
        _app = ingest_tasks.make_worker_app()
        ingest_tasks.use_app(_app)
    return _app


def __getattr__(name: str) -> Any:
    if name == "app":  # ``celery -A dangan.web.worker`` looks up ``app``
        return worker_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
