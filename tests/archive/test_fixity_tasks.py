"""The fixity audit as a background task: in a Celery prefork worker's daemonic process,
which may not start children, a large audit still examines on every core."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest

from dangan.archive import tasks
from dangan.archive.fixity_child import FixityChildFailed, run_in_child
from dangan.archive.fixity_measure import MEASURE_BATCH
from dangan.archive.instance import Archive
from tests.archive.test_replica_fixity import file_case


def _task_in_daemon(home: str, results: multiprocessing.Queue) -> None:
    try:
        results.put(tasks.fixity_audit(home, cycle_days=0, workers=2))
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        results.put({"error": repr(exc)})


def test_an_audit_task_in_a_daemonic_worker_process_examines_on_two_cores(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    ids = {file_case(archive, make_case) for _ in range(MEASURE_BATCH + 1)}  # two batches
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    worker = ctx.Process(target=_task_in_daemon, args=(str(archive.home), results), daemon=True)
    worker.start()  # as a Celery prefork pool process: daemonic
    summary = results.get(timeout=300)
    worker.join(timeout=60)
    assert "error" not in summary, summary
    assert summary["workers"] == 2 and summary["audited"] == len(ids)
    assert summary["status"] == "ok" and summary["counts"]["ok"] == len(ids)


def test_the_task_in_the_calling_process_reports_one_worker(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    file_case(archive, make_case)
    summary = tasks.fixity_audit(str(archive.home), cycle_days=0)
    assert summary["workers"] == 1 and summary["audited"] == 1 and summary["status"] == "ok"


def test_a_child_audit_that_cannot_run_says_why(tmp_path: Path) -> None:
    with pytest.raises(FixityChildFailed) as err:
        run_in_child({"home": str(tmp_path / "no-such-home"), "cycle_days": 0})
    assert err.value.code == "archive.fixity_child_failed" and "退出码 1" in err.value.message
