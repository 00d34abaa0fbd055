"""Fixity audits in batches and worker processes still find every kind of damage, and
every item's result stays its own provable log entry."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from sqlalchemy import select

from dangan.archive import audit_log, catalogue, fixity, replica
from dangan.archive.fixity_models import FixityResult, FixityRun
from dangan.archive.instance import Archive
from dangan.archive.store import remove_tree
from dangan.packages.merkle import verify_inclusion
from tests.archive.test_replica_fixity import content_file, file_case, flip_byte, writable


def swap_in(archive: Archive, victim: str, other: str) -> None:
    """Put another item's valid, signed AIP where the victim's primary copy was."""
    target = archive.store.path(victim)
    writable(target / "bagit.txt")
    remove_tree(target)
    shutil.copytree(archive.store.path(other), target)


@pytest.mark.parametrize("workers", [1, 2])
def test_batched_audit_finds_flipped_byte_deleted_replica_and_swapped_aip(
        archive: Archive, make_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
        workers: int) -> None:
    flipped, deleted, swapped, intact = (file_case(archive, make_case) for _ in range(4))
    flip_byte(content_file(archive.store.path(flipped)))
    remove_tree(replica.replica_store(archive).path(deleted))
    swap_in(archive, swapped, intact)
    monkeypatch.setattr(fixity, "MEASURE_BATCH", 1)  # four batches: the pool is used
    run = fixity.audit(archive, cycle_days=0, workers=workers)
    by_id = {i.aip_id: i for i in run.items}
    assert run.audited == 4 and run.ok
    assert (by_id[flipped].outcome, by_id[flipped].copies["primary"].status) == ("repaired", "damaged")
    assert (by_id[deleted].outcome, by_id[deleted].copies["replica"].status) == ("repaired", "missing")
    assert by_id[swapped].outcome == "repaired"
    assert "reference.digest_mismatch" in {p["code"] for p in by_id[swapped].copies["primary"].problems}
    assert by_id[intact].outcome == "ok"
    again = fixity.audit(archive, cycle_days=0, workers=workers)
    assert {i.outcome for i in again.items} == {"ok"} and again.audited == 4
    with archive.db.session() as s:
        logged = {e.index: e for e in audit_log.find_entries(s, action="fixity:audit")}
        rows = list(s.scalars(select(FixityResult).where(FixityResult.run_id == run.run_id)))
        size = audit_log.tree_size(s)
        root = audit_log.root(s, size)
        assert {r.aip_id for r in rows} == {flipped, deleted, swapped, intact}
        for row in rows:  # each result: its own entry, provably in the log
            entry = logged[row.audit_index]
            assert (entry.object_id, entry.details["outcome"]) == (row.aip_id, row.outcome)
            proof = audit_log.inclusion_proof(s, entry.index, size)
            assert verify_inclusion(audit_log.entry_leaf_hash(entry.body()), entry.index, size,
                                    proof, root)


def test_read_back_of_a_batch_equals_read_back_of_each(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    ids = [file_case(archive, make_case) for _ in range(3)]
    with archive.db.session() as s:
        many = catalogue.read_back_many(s, [*ids, "no-such-aip"])
        assert many == {**{a: catalogue.read_back(s, a) for a in ids}, "no-such-aip": None}


def test_a_large_audit_uses_one_worker_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    from dangan.archive import fixity_pool

    assert fixity_pool.default_workers(fixity_pool.WORKERS_FROM - 1) == 1
    assert fixity_pool.default_workers(fixity_pool.WORKERS_FROM) == len(os.sched_getaffinity(0))


def test_a_killed_worker_stops_the_audit_and_the_next_one_audits_everything(
        archive: Archive, make_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    ids = [file_case(archive, make_case) for _ in range(3)]
    ready = tmp_path / "ready"
    monkeypatch.setenv("DANGAN_FAILPOINT", "fixity_examined")  # inherited by the workers
    monkeypatch.setenv("DANGAN_FAILPOINT_READY", str(ready))
    monkeypatch.setattr(fixity, "MEASURE_BATCH", 1)
    failed: list[BaseException] = []

    def run() -> None:
        try:
            fixity.audit(archive, cycle_days=0, workers=2)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 120
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "no worker reached the failpoint"
    workers = multiprocessing.active_children()
    assert workers
    os.kill(workers[0].pid or 0, signal.SIGKILL)
    thread.join(120)
    assert not thread.is_alive() and failed and isinstance(failed[0], BrokenProcessPool)
    with archive.db.session() as s:
        run_row = s.scalars(select(FixityRun)).one()
        assert run_row.finished_at is None  # the stopped run says so
        assert s.scalars(select(FixityResult)).all() == []  # nothing half-recorded
    monkeypatch.delenv("DANGAN_FAILPOINT")
    again = fixity.audit(archive, cycle_days=0, workers=2)
    assert again.ok and {i.aip_id for i in again.items} == set(ids)


def test_a_result_row_keeps_every_verdict_and_the_evidence_of_what_failed(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    """An ok item's row names every check that passed, by code, in a fraction of the
    space; a damaged copy's row keeps its problems and every check that did not pass in
    full."""
    intact, flipped = file_case(archive, make_case), file_case(archive, make_case)
    flip_byte(content_file(archive.store.path(flipped)))
    run = fixity.audit(archive, aip_ids=[intact, flipped])
    by_id = {i.aip_id: i for i in run.items}
    with archive.db.session() as s:
        rows = {r.aip_id: r for r in s.scalars(
            select(FixityResult).where(FixityResult.run_id == run.run_id))}
    ok_row, ok_audit = rows[intact].details, by_id[intact]
    for name, copy in ok_audit.copies.items():
        stored = ok_row["copies"][name]["checks"]
        assert stored["passed"] == [c["code"] for c in copy.checks] and stored["other"] == []
        assert len(stored["passed"]) >= 5
    content = ok_row["content_checks"]  # the virus scan may be "not run" here: kept in full
    assert content["passed"] == [c["code"] for c in ok_audit.content_checks
                                 if c["result"] == "pass"]
    assert content["other"] == [c for c in ok_audit.content_checks if c["result"] != "pass"]
    assert len(json.dumps(ok_row, ensure_ascii=False)) < len(
        json.dumps(ok_audit.to_dict(), ensure_ascii=False)) / 2
    damaged = rows[flipped].details["copies"]["primary"]
    assert damaged["status"] == "damaged"
    assert {p["code"] for p in damaged["problems"]} == {
        p["code"] for p in by_id[flipped].copies["primary"].problems}
    assert "digest.mismatch" in {p["code"] for p in damaged["problems"]}
    kept = damaged["checks"]["other"]
    assert kept == [c for c in by_id[flipped].copies["primary"].checks if c["result"] != "pass"]
    assert all({"name", "message"} <= set(c) for c in kept)
