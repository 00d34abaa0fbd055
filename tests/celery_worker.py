"""A real Celery worker against the local Redis, for the tests of background work."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def celery_worker(app_module: str, home: Path, log_dir: Path, db: int = 15) -> Iterator[tuple[str, str]]:
    """Run ``celery -A app_module worker`` on a private queue; yield (broker URL, queue)."""
    url, queue = f"redis://127.0.0.1:6379/{db}", f"dangan-test-{uuid.uuid4().hex}"
    env = {**os.environ, "DANGAN_BROKER_URL": url, "DANGAN_TASK_QUEUE": queue,
           "DANGAN_HOME": str(home)}
    log_path = log_dir / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", app_module, "worker", "--pool=solo",
             "--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield url, queue
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
