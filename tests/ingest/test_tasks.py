"""At scale, indexing after filing runs on a real Celery worker fed by Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

from dangan.ingest.service import ingest
from dangan.search.feed import service_for
from dangan.search.interface import Access


def _redis_up() -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379")
def test_filing_with_a_broker_indexes_on_a_worker(archive, make_case, tmp_path, monkeypatch):
    url, queue = "redis://127.0.0.1:6379/14", f"dangan-test-{uuid.uuid4().hex}"
    env = {**os.environ, "DANGAN_BROKER_URL": url, "DANGAN_TASK_QUEUE": queue,
           "DANGAN_HOME": str(archive.home)}
    log = open(tmp_path / "worker.log", "w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dangan.ingest.tasks", "worker", "--pool=solo",
         "--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        monkeypatch.setenv("DANGAN_BROKER_URL", url)
        from dangan.ingest import tasks

        monkeypatch.setattr(tasks, "app", tasks.make_worker_app(url, queue=queue))
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
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
