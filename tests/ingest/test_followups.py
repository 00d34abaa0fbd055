"""Post-commit work survives a kill: the outbox written with the catalogue rows is finished
by the next ingest, a duplicate re-send, a writing command or a worker start (issue 9, item 8)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import update

from dangan.archive import replica
from dangan.archive.instance import Archive
from dangan.archive.models import Followup
from dangan.archive.store import remove_tree
from dangan.ingest import followup, tasks
from dangan.ingest.service import ingest
from dangan.web.cli import main
from tests.ingest.test_concurrency_and_crash import _start_ingest, _wait_for


def cli(archive: Archive, *args: str):
    return CliRunner().invoke(main, ["--home", str(archive.home), *args])


def killed_after_commit(archive: Archive, path: Path, tmp_path: Path) -> int:
    """File ``path`` in a real process and SIGKILL it right after the catalogue commit."""
    ready = tmp_path / "ready-committed"
    proc = _start_ingest(archive.home, path,
                         {"DANGAN_FAILPOINT": "committed", "DANGAN_FAILPOINT_READY": str(ready)})
    _wait_for(ready, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return proc.pid


def test_a_kill_before_the_replica_is_repaired_by_the_duplicate_resend(archive, make_case,
                                                                      tmp_path):
    path = make_case()
    pid = killed_after_commit(archive, path, tmp_path)
    pending = followup.pending(archive)
    assert {p["kind"] for p in pending} == {"replica", "index"}
    assert all(p["owner"].endswith(f":{pid}") for p in pending)
    aip_id = pending[0]["aip_id"]
    assert not replica.replica_store(archive).exists(aip_id)

    result = cli(archive, "ingest", str(path), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["aip_id"]) == ("duplicate", aip_id)
    assert replica.replica_store(archive).exists(aip_id)
    assert followup.pending(archive) == []

    verified = cli(archive, "verify", aip_id, "--json")
    assert verified.exit_code == 0, verified.output
    steps = {s["step"]: s["ok"] for s in json.loads(verified.stdout)["items"][0]["steps"]}
    assert steps["replicas"] is True


def test_a_writing_command_finishes_what_a_killed_ingest_left(archive, make_case, tmp_path):
    killed_after_commit(archive, make_case(), tmp_path)
    [aip_id] = {p["aip_id"] for p in followup.pending(archive)}
    result = cli(archive, "audit", "sign-head", "--no-tsa")
    assert result.exit_code == 0, result.output
    assert replica.replica_store(archive).exists(aip_id)
    assert followup.pending(archive) == []
    assert cli(archive, "verify", "--all").exit_code == 0


def test_a_worker_start_finishes_pending_work_but_not_work_in_progress(archive, make_case):
    outcome = ingest(archive, make_case(), index=False)
    aip_id = outcome.aip_id or ""
    remove_tree(replica.replica_store(archive).path(aip_id))  # as if the copy never happened
    with archive.db.session() as s:
        followup.plan(s, aip_id, actor="archivist-01", index_ocr=None, replaces=None)
    # Owned by this live process with a fresh lease: another drain must leave it alone.
    assert tasks.finish_pending(str(archive.home)) == 0
    assert not replica.replica_store(archive).exists(aip_id)
    with archive.db.session() as s:  # the lease runs out (the owner hung)
        s.execute(update(Followup).values(lease_until=Followup.created_at))
    assert tasks.finish_pending(str(archive.home)) == 1
    assert replica.replica_store(archive).exists(aip_id)
    assert followup.pending(archive) == []


def test_a_failed_followup_is_kept_and_retried_boundedly(archive, make_case):
    outcome = ingest(archive, make_case(), index=False)
    aip_id = outcome.aip_id or ""
    remove_tree(replica.replica_store(archive).path(aip_id))
    with archive.db.session() as s:
        followup.plan(s, aip_id, actor="archivist-01", index_ocr=None, replaces=None)
        s.execute(update(Followup).values(owner=None, lease_until=None))
    primary = archive.store.path(aip_id)
    hidden = primary.with_name(aip_id + ".away")
    os.rename(primary, hidden)  # the primary copy is unreadable for a while
    for attempt in range(1, followup.MAX_ATTEMPTS + 1):
        [done] = followup.drain(archive)
        assert not done.ok and "StoreError" in (done.error or "")
        assert followup.pending(archive)[0]["attempts"] == attempt
    assert followup.drain(archive) == []  # bounded: left for an operator
    os.rename(hidden, primary)
    with archive.db.session() as s:
        s.execute(update(Followup).values(attempts=0))
    [done] = followup.drain(archive)
    assert done.ok and replica.replica_store(archive).exists(aip_id)
