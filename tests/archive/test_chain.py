"""Chain verification: every way an insider could alter a filed case fails a named step."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from dangan.archive import chain, keys, replica, tree_heads
from dangan.archive.instance import Archive
from dangan.archive.store import remove_tree
from dangan.ingest.service import ingest
from dangan.packages import merkle, signing
from dangan.packages.tree_head import TreeHead, sign_tree_head
from tests.casekit import KEY_ID, SYSTEM, edit_case

STEPS = ["source_signature", "process_trail", "manifest_digests", "aip_signature", "catalogue",
         "audit_log", "replicas"]


@pytest.fixture
def filed(archive: Archive, make_case: Callable[..., Path]) -> str:
    outcome = ingest(archive, make_case(), ocr=False)
    assert outcome.status == "archived", outcome.reason
    replica.write_replica(archive, outcome.aip_id)
    return outcome.aip_id


def steps(archive: Archive, ref: str) -> dict[str, chain.Step]:
    [result] = chain.verify_ref(archive, ref)
    return {s.step: s for s in result.steps}


def failed(archive: Archive, ref: str) -> set[str]:
    return {name for name, s in steps(archive, ref).items() if not s.ok}


def content_file(root: Path) -> Path:
    return sorted(p for p in (root / "data/submission/files").rglob("*.pdf") if p.is_file())[0]


def writable(path: Path) -> None:
    for p in [path, *path.parents]:
        if p.name == "aips":
            break
        os.chmod(p, stat.S_IRWXU if p.is_dir() else 0o644)


def sql(archive: Archive, statement: str, **params: object) -> None:
    with archive.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_intact_item_holds_at_every_step_with_evidence(archive: Archive, filed: str) -> None:
    with archive.db.session() as s:
        code, case_id = s.execute(text("SELECT archival_code, case_id FROM items")).one()
    for ref in (filed, code, case_id):
        [result] = chain.verify_ref(archive, ref)
        assert result.ok and [s.step for s in result.steps] == STEPS
    found = steps(archive, filed)
    assert [e["step"] for e in found["process_trail"].evidence][-1] == "archive"
    assert found["manifest_digests"].evidence["algorithms"] == ["sha256", "sm3"]
    ev = found["audit_log"].evidence  # the inclusion proof checks out with packages/ alone
    head = ev["signed_tree_head"]["tree_head"]
    assert merkle.verify_inclusion(bytes.fromhex(ev["leaf_hash"]), ev["index"], head["size"],
                                   [bytes.fromhex(p) for p in ev["inclusion_proof"]],
                                   bytes.fromhex(head["root_hex"]))
    assert ev["entry"]["action"] == "aip:file" and ev["entry"]["object_id"] == filed


def test_flipped_byte_in_stored_file_fails_the_digest_step(archive: Archive, filed: str) -> None:
    victim = content_file(archive.store.path(filed))
    writable(victim)
    data = bytearray(victim.read_bytes())
    data[300] ^= 0x80
    victim.write_bytes(bytes(data))
    found = steps(archive, filed)
    assert not found["manifest_digests"].ok and found["aip_signature"].ok
    rel = victim.relative_to(archive.store.path(filed)).as_posix()
    bad = {(p["path"], p["algorithm"]) for p in found["manifest_digests"].evidence["problems"]}
    assert bad == {(rel, "sha256"), (rel, "sm3")}


def test_replaced_file_with_matching_size_fails(archive: Archive, filed: str) -> None:
    victim = content_file(archive.store.path(filed))
    size = victim.stat().st_size
    writable(victim)
    victim.write_bytes(b"\0" * size)
    assert "manifest_digests" in failed(archive, filed)


def test_deleted_aip_fails_and_says_so(archive: Archive, filed: str) -> None:
    remove_tree(archive.store.path(filed))
    found = steps(archive, filed)
    assert {n for n, s in found.items() if not s.ok} >= set(STEPS) - {"replicas"}
    assert "信息包被删除或移走" in found["manifest_digests"].message


def test_edited_catalogue_rows_are_named(archive: Archive, filed: str) -> None:
    sql(archive, "UPDATE items SET title = '伪造题名' WHERE aip_id = :a", a=filed)
    sql(archive, "UPDATE item_files SET sha256 = :h WHERE aip_id = :a AND seq = 1", h="0" * 64,
        a=filed)
    sql(archive, "UPDATE parties SET name = '张冒名' WHERE aip_id = :a AND seq = 1", a=filed)
    sql(archive, "DELETE FROM item_events WHERE aip_id = :a AND step = 'handle'", a=filed)
    found = steps(archive, filed)
    assert failed(archive, filed) == {"catalogue"}
    fields = {p["field"] for p in found["catalogue"].evidence}
    assert {"title", "parties", "events"} <= fields
    assert any(f.startswith("files[") and f.endswith(".sha256") for f in fields)
    assert {p["code"] for p in found["catalogue"].evidence} == {"catalogue.mismatch"}
    assert "伪造题名" in found["catalogue"].message


def test_edited_receipt_in_catalogue_fails(archive: Archive, filed: str) -> None:
    with archive.db.session() as s:
        receipt = s.execute(text("SELECT receipt FROM items")).scalar_one()
    doc = json.loads(receipt)
    doc["archived_at"] = "2020-01-01T00:00:00Z"  # back-dated
    sql(archive, "UPDATE items SET receipt = :r", r=json.dumps(doc, ensure_ascii=False))
    assert failed(archive, filed) == {"catalogue"}
    evidence = steps(archive, filed)["catalogue"].evidence
    assert [p["code"] for p in evidence] == ["receipt.signature"]


def test_edited_audit_entry_fails_the_log_step(archive: Archive, filed: str) -> None:
    sql(archive, "UPDATE audit_entries SET object_digest = :d WHERE object_id = :a AND "
        "action = 'aip:file'", d="f" * 64, a=filed)
    found = steps(archive, filed)
    assert failed(archive, filed) == {"audit_log"}
    assert "叶子哈希不符" in found["audit_log"].message


def test_forged_tree_head_fails_the_log_step(archive: Archive, filed: str) -> None:
    with archive.db.session() as s:
        latest = tree_heads.latest_stored(s)
    assert latest is not None
    forger = signing.generate_private_key()
    head = TreeHead.create(latest.head.size, latest.head.root, latest.head.log_id)
    sth = sign_tree_head(head, forger, archive.settings.archive_key_id)
    sql(archive, "INSERT INTO audit_heads (size, root_hex, timestamp, signed_json) VALUES "
        "(:s, :r, :t, :j)", s=head.size, r=head.root_hex, t=head.timestamp,
        j=json.dumps(sth.to_dict()))
    found = steps(archive, filed)
    assert not found["audit_log"].ok and "树头伪造" in found["audit_log"].message


def test_revoked_key_still_verifies_and_says_when(archive: Archive, filed: str) -> None:
    keys.trust_revoke(archive.db, SYSTEM, KEY_ID, "密钥轮换", actor="test")
    found = steps(archive, filed)
    assert found["source_signature"].ok
    assert "已于" in found["source_signature"].message and "吊销" in found["source_signature"].message
    assert found["source_signature"].evidence["revoked_reason"] == "密钥轮换"


def test_swapped_trusted_key_fails_the_source_step(archive: Archive, filed: str) -> None:
    other = signing.public_key_pem(signing.generate_private_key()).decode()
    sql(archive, "UPDATE trusted_keys SET public_key_pem = :p", p=other)
    assert failed(archive, filed) == {"source_signature"}


def test_damaged_replica_fails_the_replica_step(archive: Archive, filed: str) -> None:
    victim = content_file(replica.replica_store(archive).path(filed))
    writable(victim)
    victim.write_bytes(victim.read_bytes()[:-1] + b"X")
    assert failed(archive, filed) == {"replicas"}
    remove_tree(replica.replica_store(archive).path(filed))
    assert "副本不存在" in steps(archive, filed)["replicas"].message


def test_verify_all_reports_each_item(archive: Archive, filed: str,
                                      make_case: Callable[..., Path]) -> None:
    second = ingest(archive, make_case(), ocr=False).aip_id
    replica.write_replica(archive, second)
    sql(archive, "UPDATE items SET title = 'x' WHERE aip_id = :a", a=second)
    results = {r.aip_id: r.ok for r in chain.verify_all(archive)}
    assert results == {filed: True, second: False}


def test_case_id_verifies_every_version_of_a_corrected_case(
        archive: Archive, make_case: Callable[..., Path], sender_key: signing.PrivateKey) -> None:
    path = make_case()
    first = ingest(archive, path, ocr=False)
    changed = path.parent / "corrected"
    shutil.copytree(path, changed)

    def correction(c: dict) -> None:
        c.update(title=c["title"] + "（补正）", supersedes=first.archival_code,
                 correction_reason="题名错字更正")

    edit_case(changed, sender_key, correction)
    second = ingest(archive, changed, ocr=False)
    assert second.status == "archived", second.reason
    results = chain.verify_ref(archive, first.case_id or "")
    assert [(r.aip_id, r.version, r.ok) for r in results] == [
        (first.aip_id, 1, True), (second.aip_id, 2, True)]
    [only] = chain.verify_ref(archive, second.aip_id or "")
    assert only.version == 2
