"""Two fixity audits of one archive at once: the second is refused at once, naming the
first; an audit killed midway never blocks the next one; no run dies on "database is
locked"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from dangan.archive import fixity, fixity_lock
from dangan.archive.fixity_models import FixityResult, FixityRun
from dangan.archive.instance import Archive
from dangan.archive.tasks import fixity_audit
from tests.archive.test_replica_fixity import file_case

DANGAN = [sys.executable, "-m", "dangan.web.cli"]


def _audit_cmd(archive: Archive) -> list[str]:
    return [*DANGAN, "--home", str(archive.home), "fixity", "run", "--all", "--no-content"]


def _paused_audit(archive: Archive, tmp_path: Path) -> subprocess.Popen[bytes]:
    """A real ``dangan fixity run`` stopped after recording its first results."""
    ready = tmp_path / "ready"
    env = {**os.environ, "DANGAN_FAILPOINT": "fixity_recorded",
           "DANGAN_FAILPOINT_READY": str(ready), "DANGAN_ACTOR": "archivist-wang"}
    proc = subprocess.Popen(_audit_cmd(archive), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not ready.exists():
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode())  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the audit never reached the failpoint"
        time.sleep(0.05)
    return proc


@pytest.fixture
def filed(archive: Archive, make_case: Callable[..., Path]) -> list[str]:
    return [file_case(archive, make_case) for _ in range(3)]


def _runs(archive: Archive) -> list[FixityRun]:
    with archive.db.session() as s:
        return list(s.scalars(select(FixityRun).order_by(FixityRun.id)))


def test_a_second_audit_is_refused_at_once_naming_the_running_one(
        archive: Archive, filed: list[str], tmp_path: Path) -> None:
    first = _paused_audit(archive, tmp_path)
    try:
        [running] = _runs(archive)
        started = time.monotonic()
        second = subprocess.run(_audit_cmd(archive), capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr
        assert "archive.fixity_running" in second.stderr
        assert f"第 {running.id} 次" in second.stderr and "archivist-wang" in second.stderr
        assert f"进程 {first.pid}" in second.stderr
        assert time.monotonic() - started < 60  # refused, not queued behind the first
        with pytest.raises(fixity.AuditRunning):  # in process, and through Celery's task
            fixity.audit(archive, cycle_days=0, content=False)
        skipped = fixity_audit(str(archive.home), cycle_days=0, content=False)
        assert skipped["status"] == "skipped" and skipped["code"] == "archive.fixity_running"
        assert len(_runs(archive)) == 1  # the refused ones left no run behind
    finally:
        first.kill()
        first.wait()


def test_an_audit_killed_midway_does_not_block_the_next_which_audits_everything(
        archive: Archive, filed: list[str], tmp_path: Path) -> None:
    first = _paused_audit(archive, tmp_path)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    [killed] = _runs(archive)
    assert killed.finished_at is None  # the stopped run says so
    again = fixity.audit(archive, cycle_days=0, content=False)
    assert again.ok and again.audited == len(filed)
    assert {i.aip_id for i in again.items} == set(filed)
    with archive.db.session() as s:
        row = s.get(FixityRun, again.run_id)
        assert row is not None and row.finished_at is not None and row.ok == len(filed)
        mine = s.scalars(select(FixityResult.aip_id).where(FixityResult.run_id == again.run_id))
        assert sorted(mine) == sorted(filed)
    # a lock file left behind by the killed process names nobody who holds the lock
    assert (archive.home / fixity_lock.LOCK_NAME).exists()


def test_two_audits_started_together_one_runs_the_other_is_refused_cleanly(
        archive: Archive, filed: list[str]) -> None:
    for _ in range(3):
        procs = [subprocess.Popen(_audit_cmd(archive), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outcomes = [(p.wait(180), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
        for code, err in outcomes:
            assert "database is locked" not in err and "Traceback" not in err, err
            assert code == 0 or (code == 2 and "archive.fixity_running" in err), err
        assert any(code == 0 for code, _ in outcomes)
    runs = _runs(archive)
    assert runs and all(r.finished_at is not None and r.ok == len(filed) for r in runs)


def test_an_audit_records_while_another_process_files(
        archive: Archive, make_case: Callable[..., Path], filed: list[str]) -> None:
    """The run row is written through the filing window: filing in another process at the
    same moment makes the audit wait its turn, never fail with "database is locked"."""
    cases = [make_case() for _ in range(3)]
    filer = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys\nfrom dangan.archive.instance import Archive\n"
            "from dangan.ingest.service import ingest\n"
            "a = Archive.open(sys.argv[1])\n"
            "for c in sys.argv[2:]:\n    ingest(a, c, ocr=False)\n"),
         str(archive.home), *map(str, cases)], stderr=subprocess.PIPE, text=True)
    runs = [fixity.audit(archive, aip_ids=filed, content=False) for _ in range(3)]
    assert filer.wait(300) == 0, filer.stderr.read()  # type: ignore[union-attr]
    assert all(r.ok and r.audited == len(filed) for r in runs)
