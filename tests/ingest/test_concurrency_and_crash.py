"""Several processes filing at once, and a process killed in the middle of filing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dangan.archive.models import Item
from dangan.ingest.service import ingest

DANGAN = [sys.executable, "-m", "dangan.web.cli"]


def _start_ingest(home: Path, path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [*DANGAN, "--home", str(home), "ingest", str(path), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


def _finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode in (0, 3), err.decode()
    return json.loads(out)


def test_two_processes_filing_different_cases_get_consecutive_codes(archive, make_case):
    paths = [make_case(year=2025) for _ in range(4)]  # one numbering series
    procs = [_start_ingest(archive.home, p) for p in paths]
    results = [_finish(p) for p in procs]
    assert [r["status"] for r in results] == ["archived"] * 4
    numbers = sorted(int(r["archival_code"].rsplit("-", 1)[1]) for r in results)
    assert numbers == [1, 2, 3, 4]
    assert len({r["aip_id"] for r in results}) == 4


def test_two_processes_filing_the_same_case_make_one_aip(archive, make_case):
    path = make_case()
    procs = [_start_ingest(archive.home, path) for _ in range(3)]
    results = [_finish(p) for p in procs]
    assert sorted(r["status"] for r in results) == ["archived", "duplicate", "duplicate"]
    assert len({r["aip_id"] for r in results}) == 1
    assert len(list(archive.store.iter_aip_ids())) == 1


def _wait_for(ready: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())
        assert time.monotonic() < deadline, "ingest never reached the failpoint"
        time.sleep(0.05)


@pytest.mark.parametrize("point", ["sealed", "stored", "catalogued"])
def test_a_killed_ingest_leaves_nothing_and_the_case_can_be_filed_again(
    archive, make_case, tmp_path, point
):
    path = make_case()
    ready = tmp_path / f"ready-{point}"
    proc = _start_ingest(
        archive.home, path,
        {"DANGAN_FAILPOINT": point, "DANGAN_FAILPOINT_READY": str(ready)},
    )
    _wait_for(ready, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with archive.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 0
    again = ingest(archive, path)  # recovery runs first, inside the filing window
    assert again.status == "archived", again.reason
    assert again.archival_code.endswith("-00001")
    assert list(archive.store.iter_aip_ids()) == [again.aip_id]
    assert not any(archive.store.pending.iterdir())
    assert [p.name for p in archive.store.staging_root.iterdir()] == []


def test_kill_after_commit_keeps_the_archived_case(archive, make_case, tmp_path):
    path = make_case()
    ready = tmp_path / "ready"
    proc = _start_ingest(archive.home, path,
                         {"DANGAN_FAILPOINT": "committed", "DANGAN_FAILPOINT_READY": str(ready)})
    _wait_for(ready, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    again = ingest(archive, path)
    assert again.status == "duplicate"
    assert list(archive.store.iter_aip_ids()) == [again.aip_id]
    shutil.rmtree(tmp_path / "ready", ignore_errors=True)
