"""A destruction killed midway is completed when a worker or ``dangan serve`` starts."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from dangan.retention.models import DestructionBatch
from tests.celery_worker import celery_worker, redis_up
from tests.killing import kill_at_failpoint
from tests.retention.test_destruction import (
    DANGAN,
    SUPERVISORS,
    _assert_gone_and_lawful,
    _ready,
)


def _kill_during_destruction(archive, batch: str, tmp_path, point: str) -> None:
    ready = tmp_path / "ready"
    kill_at_failpoint(
        [*DANGAN, "--home", str(archive.home), "retention", "destruction", "execute", batch,
         *SUPERVISORS, "--method", "彻底删除", "--as-of", "2026-06-01"],
        point, ready, actor="archivist-wang", timeout=120)
    assert _state(archive, batch) == "executing"


def _state(archive, batch: str) -> str:
    with archive.db.session() as s:
        return s.get(DestructionBatch, int(batch)).state


def _wait_complete(archive, batch: str, log) -> None:
    from dangan.archive.tombstones import register_of

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with archive.db.session() as s:
            b = s.get(DestructionBatch, int(batch))
            if b.state == "complete" and register_of(s, b.register_ref) is not None:
                return
        time.sleep(0.5)
    raise AssertionError(log())


@pytest.mark.skipif(not redis_up(), reason="Redis is not running on 127.0.0.1:6379")
def test_a_worker_starting_completes_a_killed_destruction(archive, file_case, cli, tmp_path):
    a, b = file_case("D10", 2015), file_case("D10", 2015)
    batch = _ready(cli, a.aip_id, b.aip_id)
    _kill_during_destruction(archive, batch, tmp_path, "destroy.after_store")
    with celery_worker("dangan.web.worker", archive.home, tmp_path, db=13):
        _wait_complete(archive, batch, lambda: (tmp_path / "worker.log").read_text())
    _assert_gone_and_lawful(archive, cli, [a.aip_id, b.aip_id], batch)


def test_dangan_serve_starting_completes_a_killed_destruction(archive, file_case, cli,
                                                               tmp_path):
    a = file_case("D10", 2015)
    batch = _ready(cli, a.aip_id)
    _kill_during_destruction(archive, batch, tmp_path, "destroy.before_tombstone_commit")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen(
            [*DANGAN, "--home", str(archive.home), "serve", "--port", str(port),
             "--workers", "1", "--threads", "1"], stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_complete(archive, batch, log.read_text)
        finally:
            server.terminate()
            server.wait(timeout=20)
    _assert_gone_and_lawful(archive, cli, [a.aip_id], batch)
