"""Replicas and fixity audits: an insider damages copies; the audit finds it and repairs
from a copy that verifies — never from one that does not."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from dangan.archive import audit_log, fixity, replica
from dangan.archive.errors import NotFound
from dangan.archive.fixity_models import FixityResult, FixityRun
from dangan.archive.instance import Archive
from dangan.archive.store import remove_tree
from dangan.archive.tasks import make_celery
from dangan.ingest.service import ingest
from dangan.packages import signing
from dangan.packages.aip import parse_description, render_description, validate_aip
from dangan.packages.aip.bag import BAG_INFO, DESCRIPTION, parse_bag_info, write_tag_files
from dangan.packages.digests import digest_file
from tests.celery_worker import celery_worker, redis_up


def file_case(archive: Archive, make_case: Callable[..., Path]) -> str:
    """File one case and write its replica (idempotent if filing already wrote it)."""
    outcome = ingest(archive, make_case(), ocr=False)
    assert outcome.status == "archived", outcome.reason
    replica.write_replica(archive, outcome.aip_id)
    return outcome.aip_id


def content_file(root: Path) -> Path:
    return sorted(p for p in (root / "data/submission/files").rglob("*.pdf") if p.is_file())[0]


def writable(path: Path) -> None:
    """What an insider does first: undo the store's read-only modes up to the AIP root."""
    for p in [path, *path.parents]:
        if p.name == "aips":
            break
        if p.exists():
            os.chmod(p, stat.S_IRWXU if p.is_dir() else 0o644)


def flip_byte(path: Path, offset: int = 200) -> None:
    writable(path)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def replace_same_size(path: Path) -> None:
    writable(path)
    size = path.stat().st_size
    path.write_bytes((b"%PDF-1.7\n% forged\n" * (size // 18 + 1))[:size])


def entries(archive: Archive, action: str) -> list[audit_log.AuditEntry]:
    with archive.db.session() as s:
        return audit_log.find_entries(s, action=action)


def modes(root: Path) -> set[tuple[str, int]]:
    return {("d" if p.is_dir() else "f", stat.S_IMODE(p.stat().st_mode))
            for p in [root, *root.rglob("*")]}


def test_replica_is_verified_read_only_identical_and_logged(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    aip_id = file_case(archive, make_case)
    primary, copy = archive.store.path(aip_id), replica.replica_store(archive).path(aip_id)
    assert copy.is_dir() and copy.is_relative_to(archive.home / "replica")
    files = sorted(p.relative_to(primary) for p in primary.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(copy) for p in copy.rglob("*") if p.is_file())
    assert all((primary / f).read_bytes() == (copy / f).read_bytes() for f in files)
    assert modes(copy) == {("d", 0o500), ("f", 0o400)}
    with archive.db.session() as s:
        digest = s.execute(text("SELECT aip_sha256 FROM items")).scalar_one()
    [written] = entries(archive, "replica:write")
    assert (written.object_id, written.object_digest) == (aip_id, digest)
    assert written.details["files"] == len(files)
    replica.write_replica(archive, aip_id)  # idempotent: nothing rewritten, nothing logged
    assert len(entries(archive, "replica:write")) == 1
    assert not any(replica.replica_store(archive).staging_root.iterdir())


def test_replica_of_a_damaged_primary_is_refused(archive: Archive,
                                                make_case: Callable[..., Path]) -> None:
    outcome = ingest(archive, make_case(), ocr=False)
    target = replica.replica_store(archive)
    if target.exists(outcome.aip_id):  # filing already wrote it: start from no replica
        remove_tree(target.path(outcome.aip_id))
    flip_byte(content_file(archive.store.path(outcome.aip_id)))
    with pytest.raises(replica.ReplicaError) as err:
        replica.write_replica(archive, outcome.aip_id)
    assert "未发布" in err.value.message
    assert any(d["code"] == "digest.mismatch" for d in err.value.details)
    assert not target.exists(outcome.aip_id)
    assert not any(target.staging_root.iterdir())


def test_backfill_writes_only_missing_replicas(archive: Archive,
                                               make_case: Callable[..., Path]) -> None:
    ids = [file_case(archive, make_case) for _ in range(2)]
    target = replica.replica_store(archive)
    remove_tree(target.path(ids[1]))
    assert replica.backfill(archive) == [ids[1]]
    assert target.exists(ids[1]) and replica.backfill(archive) == []


def test_flipped_byte_in_primary_is_repaired_from_replica_and_logged(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    aip_id = file_case(archive, make_case)
    victim = content_file(archive.store.path(aip_id))
    good = replica.replica_store(archive).path(aip_id) / victim.relative_to(
        archive.store.path(aip_id))
    flip_byte(victim)
    bad_sha = digest_file(victim).sha256
    run = fixity.audit(archive, cycle_days=0)
    [item] = run.items
    assert (item.outcome, item.copies["primary"].status, item.copies["replica"].status) == (
        "repaired", "damaged", "ok")
    assert "已用校验通过的副本修复" in item.message and run.ok
    assert victim.read_bytes() == good.read_bytes() and stat.S_IMODE(victim.stat().st_mode) == 0o400
    quarantined = list((archive.store.root / replica.QUARANTINE).iterdir())
    assert len(quarantined) == 1 and quarantined[0].name.startswith(aip_id)
    [rep] = entries(archive, "replica:repair")
    rel = str(victim.relative_to(archive.store.path(aip_id)))
    assert rep.object_id == aip_id and rep.details["damaged_copy"] == "primary"
    assert rep.details["source_copy"] == "replica" and rep.details["restored_digest"]
    mismatch = [p for p in rep.details["problems"] if p["path"] == rel and p["code"] == "digest.mismatch"]
    assert {(p["expected"], p["found"]) for p in mismatch} >= {(digest_file(good).sha256, bad_sha)}
    [audited] = entries(archive, "fixity:audit")
    assert audited.details["outcome"] == "repaired" and audited.details["repairs"] == [rep.index]
    with archive.db.session() as s:
        row = s.scalars(select(FixityResult)).one()
        assert (row.outcome, row.primary_status, row.audit_index) == ("repaired", "damaged",
                                                                      audited.index)
    again = fixity.audit(archive, cycle_days=0)
    assert [i.outcome for i in again.items] == ["ok"]


def test_replaced_file_with_same_size_in_replica_is_repaired_from_primary(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    aip_id = file_case(archive, make_case)
    victim = content_file(replica.replica_store(archive).path(aip_id))
    size = victim.stat().st_size
    replace_same_size(victim)
    assert victim.stat().st_size == size
    [item] = fixity.audit(archive, aip_ids=[aip_id]).items
    assert (item.outcome, item.copies["replica"].status) == ("repaired", "damaged")
    assert any(p["code"] == "digest.mismatch" for p in item.copies["replica"].problems)
    assert victim.read_bytes() == content_file(archive.store.path(aip_id)).read_bytes()
    assert entries(archive, "replica:repair")[0].details["damaged_copy"] == "replica"


def test_deleted_aip_is_detected_and_restored(archive: Archive,
                                              make_case: Callable[..., Path]) -> None:
    aip_id = file_case(archive, make_case)
    remove_tree(archive.store.path(aip_id))
    [item] = fixity.audit(archive, cycle_days=0).items
    assert (item.outcome, item.copies["primary"].status) == ("repaired", "missing")
    assert "主存储缺失" in item.message and archive.store.exists(aip_id)
    assert entries(archive, "replica:repair")[0].details["damaged_digest"] is None


def test_both_copies_damaged_are_reported_not_repaired(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    aip_id = file_case(archive, make_case)
    victims = [content_file(s.path(aip_id)) for s in replica.stores(archive).values()]
    flip_byte(victims[0], 150)
    replace_same_size(victims[1])
    before = [v.read_bytes() for v in victims]
    run = fixity.audit(archive, cycle_days=0)
    [item] = run.items
    assert item.outcome == "unrepairable" and not run.ok
    assert item.message.startswith("两个副本均损坏，无法自动修复")
    assert [v.read_bytes() for v in victims] == before  # nothing "repaired"
    assert entries(archive, "replica:repair") == []
    assert not (archive.store.root / replica.QUARANTINE).exists()
    assert entries(archive, "fixity:audit")[0].details["outcome"] == "unrepairable"
    report = fixity.report(archive)
    assert [p["outcome"] for p in report["open_problems"]] == ["unrepairable"]
    assert report["open_problems_total"] == 1 and report["latest_outcomes"] == {"unrepairable": 1}
    assert fixity.report(archive, problems=0)["open_problems"] == []  # counted, not listed


def reseal(root: Path, key: signing.PrivateKey, key_id: str) -> None:
    """An insider holding the archive key rewrites the description, the manifests and the
    signature after an edit, so that the copy validates on its own."""
    desc_path = root / DESCRIPTION
    model = parse_description(desc_path.read_bytes())
    for doc in model["signed_object"]["content"]["record"]["documents"]:
        d = digest_file(root / doc["path"])
        doc["digests"] = {"sha256": d.sha256, "sm3": d.sm3}
    writable(desc_path)
    desc_path.write_bytes(render_description(model))
    payload = {p.relative_to(root).as_posix(): digest_file(p)
               for p in (root / "data").rglob("*") if p.is_file()}
    for p in root.iterdir():
        if p.is_file():
            writable(p)
    info, _ = parse_bag_info((root / BAG_INFO).read_bytes())
    write_tag_files(root, info, payload, key, key_id, "2030-01-01T00:00:00Z")


def test_resealed_replica_with_valid_signature_is_not_trusted(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    aip_id = file_case(archive, make_case)
    root = replica.replica_store(archive).path(aip_id)
    replace_same_size(content_file(root))
    reseal(root, archive.key.private_key, archive.key.key_id)
    alone = validate_aip(root, archive.key.public_pem)
    assert alone.valid, alone.problems  # on its own the forged copy looks perfect
    [item] = fixity.audit(archive, cycle_days=0).items
    assert item.copies["replica"].status == "damaged" and item.outcome == "repaired"
    assert [p["code"] for p in item.copies["replica"].problems] == ["reference.digest_mismatch"]


def test_edited_catalogue_row_is_reported_not_repaired(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    aip_id = file_case(archive, make_case)
    with archive.db.engine.begin() as conn:
        conn.execute(text("UPDATE items SET title = '篡改后的题名' WHERE aip_id = :a"), {"a": aip_id})
    [item] = fixity.audit(archive, cycle_days=0).items
    assert item.outcome == "catalogue_mismatch" and item.catalogue_status == "mismatch"
    assert {c.status for c in item.copies.values()} == {"ok"}
    assert any(p["field"] == "title" and p["code"] == "catalogue.mismatch"
               for p in item.catalogue_problems)
    assert entries(archive, "replica:repair") == []


def test_rolling_sample_takes_least_recently_audited_first(
        archive: Archive, make_case: Callable[..., Path]) -> None:
    ids = [file_case(archive, make_case) for _ in range(3)]
    seen = [fixity.audit(archive, sample=1).items[0].aip_id for _ in range(4)]
    assert seen == [*ids, ids[0]]
    assert fixity.audit(archive).items == []  # cycle of 365 days: nothing due
    assert {i.aip_id for i in fixity.audit(archive, cycle_days=0).items} == set(ids)
    with archive.db.session() as s:
        modes_ = [r.mode for r in s.scalars(select(FixityRun).order_by(FixityRun.id))]
    assert modes_ == ["sample"] * 4 + ["cycle", "cycle"]
    report = fixity.report(archive)
    assert (report["items"], report["audited"], report["due"]) == (3, 3, 0)
    with pytest.raises(NotFound):
        fixity.audit(archive, aip_ids=[ids[0], "no-such-aip"])
    assert len(fixity.report(archive)["runs"]) == 6  # nothing started for an unknown id


def test_fixity_task_runs_eagerly_without_a_broker(
        archive: Archive, make_case: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DANGAN_BROKER_URL", raising=False)
    file_case(archive, make_case)
    app = make_celery()
    assert app.conf.task_always_eager
    result = app.tasks["dangan.fixity.audit"].delay(home=str(archive.home), cycle_days=0)
    assert result.get()["counts"]["ok"] == 1
    head = app.tasks["dangan.audit.sign_head"].delay(home=str(archive.home), max_age=0).get()
    with archive.db.session() as s:
        assert head["tree_head"]["size"] == audit_log.tree_size(s)


@pytest.mark.skipif(not redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_fixity_task_on_a_real_worker(archive: Archive, make_case: Callable[..., Path],
                                      tmp_path: Path) -> None:
    aip_id = file_case(archive, make_case)
    flip_byte(content_file(archive.store.path(aip_id)))
    with celery_worker("dangan.archive.tasks", archive.home, tmp_path) as (url, queue):
        app = make_celery(url, queue=queue)
        result: Any = app.tasks["dangan.fixity.audit"].delay(cycle_days=0)
        summary = result.get(timeout=60)
        assert summary["counts"]["repaired"] == 1 and summary["status"] == "ok"
        assert summary["items"][0]["aip_id"] == aip_id
    assert entries(archive, "replica:repair")[0].actor == "system:celery"
