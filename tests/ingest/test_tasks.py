"""At scale, indexing after filing runs on a real Celery worker fed by Redis."""

from __future__ import annotations

import time

import pytest

from dangan.ingest.service import ingest
from dangan.search.feed import service_for
from dangan.search.interface import Access
from tests.celery_worker import celery_worker, redis_up


@pytest.mark.skipif(not redis_up(), reason="Redis is not running on 127.0.0.1:6379")
def test_filing_with_a_broker_indexes_on_a_worker(archive, make_case, tmp_path, monkeypatch,
                                                  request):
    with celery_worker("dangan.ingest.tasks", archive.home, tmp_path, db=14) as (url, queue):
        monkeypatch.setenv("DANGAN_BROKER_URL", url)
        from dangan.ingest import tasks

        tasks.use_app(tasks.make_worker_app(url, queue=queue))
        request.addfinalizer(lambda: tasks.use_app(None))
        outcome = ingest(archive, make_case(), ocr=False)
        assert outcome.status == "archived" and outcome.extra["index"] == "queued"
        everyone = Access(classifications=frozenset({"public", "internal", "restricted"}))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            hits = service_for(archive).search(outcome.case_id, access=everyone).hits
            if [h.aip_id for h in hits] == [outcome.aip_id]:
                break
            time.sleep(0.5)
        else:
            raise AssertionError((tmp_path / "worker.log").read_text())
