"""Background work as Celery tasks: fixity audits, hourly signed tree heads, replicas.

Why Celery: at scale these run on workers fed by a broker (Redis or RabbitMQ) and a beat
scheduler; the embedded default needs no server at all. ``make_celery()`` reads
``$DANGAN_BROKER_URL`` (e.g. ``redis://127.0.0.1:6379/0``); without it the app runs
every task in the calling process (``task_always_eager``, in-memory broker), so the
same code paths serve a single-machine install and a cluster. Workers find the
instance through ``$DANGAN_HOME`` or the ``home`` argument of each task.

Run a worker and the scheduler::

    DANGAN_BROKER_URL=redis://127.0.0.1:6379/0 celery -A dangan.archive.tasks worker -B

Nothing is built at import: ``celery -A dangan.archive.tasks`` reads the module attribute
``app``, which ``__getattr__`` creates on first access through ``celery_app()`` (once per
process, from the environment at that moment). Code that enqueues or tests that need a
particular broker call ``make_celery(url)`` themselves.

Schedule (``beat_schedule``): a signed tree head at least hourly (``sign_head_if_stale``,
time-stamped when a TSA is configured); a rolling fixity sample every night; the whole
cycle (everything not audited within ``cycle_days``) every Sunday.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from celery.schedules import crontab

from . import fixity, fixity_child, replica, tree_heads
from .instance import Archive

BROKER_ENV = "DANGAN_BROKER_URL"
RESULT_ENV = "DANGAN_RESULT_BACKEND"
QUEUE_ENV = "DANGAN_TASK_QUEUE"
DEFAULT_QUEUE = "dangan"
NIGHTLY_SAMPLE = 200


@contextmanager
def _archive(home: str | None) -> Iterator[Archive]:
    archive = Archive.open(home)
    try:
        yield archive
    finally:
        archive.close()


def fixity_audit(home: str | None = None, sample: int | None = None, cycle_days: int = 365,
                 content: bool = True, workers: int | None = None) -> dict[str, Any]:
    """One fixity audit run; returns its summary (the details are in the database and log).

    In a daemonic process (a Celery prefork worker's task), which may not start the
    audit's worker processes, the run happens in a subprocess of its own
    (``fixity_child``), so that a large audit still examines on every core.
    """
    if workers != 1 and multiprocessing.current_process().daemon:
        return fixity_child.run_in_child(dict(home=home, sample=sample, cycle_days=cycle_days,
                                              content=content, workers=workers))
    with _archive(home) as archive:
        try:
            run = fixity.audit(archive, sample=sample, cycle_days=cycle_days, content=content,
                               actor="system:celery", keep_items=False, workers=workers)
        except fixity.AuditRunning as exc:  # e.g. the nightly sample during the weekly cycle
            return {"status": "skipped", "code": exc.code, "message": exc.message,
                    "running": exc.details}
    summary = run.to_dict()
    summary["items"] = [{"aip_id": i.aip_id, "outcome": i.outcome, "message": i.message}
                        for i in run.items if i.outcome != "ok"]
    return summary


def sign_head(home: str | None = None, max_age: float = 3600) -> dict[str, Any] | None:
    """Sign (and time-stamp, if configured) a tree head unless a fresh one exists."""
    with _archive(home) as archive:
        sth = tree_heads.sign_head_if_stale(archive, max_age=max_age)
    return sth.to_dict() if sth is not None else None


def backfill_replicas(home: str | None = None) -> list[str]:
    """Write the replica of every AIP that has none yet."""
    with _archive(home) as archive:
        return replica.backfill(archive, actor="system:celery")


def write_replica(aip_id: str, home: str | None = None) -> str:
    """Write one AIP's replica (for filing paths that defer it to a worker)."""
    with _archive(home) as archive:
        return str(replica.write_replica(archive, aip_id, actor="system:celery"))


TASKS: dict[str, Callable[..., Any]] = {
    "dangan.fixity.audit": fixity_audit,
    "dangan.audit.sign_head": sign_head,
    "dangan.replica.backfill": backfill_replicas,
    "dangan.replica.write": write_replica,
}


def make_celery(broker_url: str | None = None, *, queue: str | None = None) -> Celery:
    """The Celery app: eager and serverless unless a broker URL is given or configured."""
    url = broker_url if broker_url is not None else os.environ.get(BROKER_ENV) or None
    app = Celery("dangan", set_as_current=False)
    app.conf.update(
        task_serializer="json", accept_content=["json"], result_serializer="json",
        enable_utc=True, timezone="Asia/Shanghai", task_acks_late=True,
        worker_prefetch_multiplier=1, broker_connection_retry_on_startup=True,
        task_default_queue=queue or os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE,
    )
    if url:
        app.conf.update(broker_url=url, result_backend=os.environ.get(RESULT_ENV) or url,
                        task_always_eager=False)
    else:
        app.conf.update(broker_url="memory://", result_backend="cache+memory://",
                        task_always_eager=True, task_eager_propagates=True)
    app.conf.beat_schedule = {
        "audit-head-hourly": {"task": "dangan.audit.sign_head", "schedule": 900.0,
                              "kwargs": {"max_age": 3600}},
        "fixity-nightly-sample": {"task": "dangan.fixity.audit",
                                  "schedule": crontab(hour=2, minute=30),
                                  "kwargs": {"sample": NIGHTLY_SAMPLE}},
        "fixity-weekly-cycle": {"task": "dangan.fixity.audit",
                                "schedule": crontab(hour=3, minute=0, day_of_week="sun"),
                                "kwargs": {"cycle_days": 365}},
        "replica-backfill-daily": {"task": "dangan.replica.backfill",
                                   "schedule": crontab(hour=1, minute=15)},
    }
    for name, fn in TASKS.items():
        app.task(name=name, bind=False)(fn)
    return app


_app: Celery | None = None


def celery_app() -> Celery:
    """The process's archive Celery app, built on first use (the worker entry point)."""
    global _app
    if _app is None:
        _app = make_celery()
    return _app


def __getattr__(name: str) -> Any:
    if name == "app":  # ``celery -A dangan.archive.tasks`` looks up ``app``
        return celery_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
