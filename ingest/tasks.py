"""The Celery app of a full Dangan worker: archive tasks plus the filing follow-ups.

Run it with ``celery -A dangan.ingest.tasks worker -B`` (``$DANGAN_BROKER_URL`` set).
Filing enqueues ``dangan.search.index`` here when a broker is configured; without one
(the embedded default) the case is indexed synchronously right after it is filed.

Nothing is built at import: the module attribute ``app`` that ``celery -A`` reads is
created on first access by ``worker_app()`` (``__getattr__``), which also connects the
``worker_ready`` hook. Tests point filing at their own broker with ``use_app(app)``.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

from dangan.archive.instance import Archive
from dangan.archive.tasks import BROKER_ENV, make_celery

INDEX_TASK = "dangan.search.index"
SUBMIT_TASK = "dangan.api.file_submission"


def index_case(aip_id: str, home: str | None = None, ocr: bool = True,
               replaces: str | None = None) -> str:
    """Index one filed case (OCR included) on a worker."""
    from dangan.search.feed import index_item  # filing processes never load the search stack

    archive = Archive.open(home, upgrade=False)
    try:
        index_item(archive, aip_id, ocr=ocr, replaces=replaces)
    finally:
        archive.close()
    return aip_id


def file_submission(job_id: str, path: str, actor: str, home: str) -> dict[str, Any]:
    """File a case submitted through the JSON API (``ingest.api_submit``) on a worker."""
    from .api_submit import file_submission_task

    return file_submission_task(job_id, path, actor, home)


def make_worker_app(broker_url: str | None = None, *, queue: str | None = None) -> Celery:
    app = make_celery(broker_url, queue=queue)
    app.task(name=INDEX_TASK, bind=False)(index_case)
    app.task(name=SUBMIT_TASK, bind=False)(file_submission)
    return app


def queued() -> bool:
    """Whether background work goes to workers (a broker is configured)."""
    return bool(os.environ.get(BROKER_ENV))


def finish_pending(home: str | None = None, *, rounds: int = 50) -> int:
    """Finish the follow-ups of filings whose process died (bounded); return how many."""
    from .followup import drain  # followup imports this module

    archive = Archive.open(home, upgrade=False)
    done = 0
    try:
        for _ in range(rounds):
            batch = drain(archive)
            done += sum(1 for d in batch if d.ok)
            if not batch:
                break
    finally:
        archive.close()
    return done


def _on_worker_ready(**_kwargs: object) -> None:
    """A worker starting up first finishes what dead filing processes left pending."""
    try:
        finish_pending(os.environ.get("DANGAN_HOME"))
    except Exception:  # noqa: BLE001 - a worker must start even when this fails; logged
        logging.getLogger(__name__).exception("could not finish pending follow-ups")


_app: Celery | None = None


def worker_app() -> Celery:
    """The process's worker app, built on first use (the ``celery -A`` entry point)."""
    global _app
    if _app is None:
        worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid=__name__)
        _app = make_worker_app()
    return _app


def use_app(app: Celery | None) -> None:
    """Make ``app`` the one filing enqueues on (None: rebuild from the environment)."""
    global _app
    _app = app


def __getattr__(name: str) -> Any:
    if name == "app":  # ``celery -A dangan.ingest.tasks`` looks up ``app``
        return worker_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
