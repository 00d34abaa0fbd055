"""``dangan audit``: an insider who edits the database directly is caught by audit verify."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from dangan.archive import audit_log, tree_heads
from dangan.archive.audit_log import canonical_json, row_body
from dangan.archive.audit_models import AuditEntryRow
from dangan.archive.instance import Archive
from dangan.packages import merkle, signing
from dangan.packages.tree_head import SignedTreeHead, TreeHead, sign_tree_head, verify_tree_head
from dangan.web.cli import main

DIGEST = hashlib.sha256(b"tagmanifest").hexdigest()
K = 1  # a new archive's log opens with its key's creation (entry 0): ``aip-i`` is entry K + i


def run(archive: Archive, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(archive.home), "audit", *args])


def verify(archive: Archive, *args: str) -> tuple[int, dict[str, Any]]:
    result = run(archive, "verify", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def kinds(report: dict[str, Any]) -> set[str]:
    return {p["kind"] for p in report["problems"]}


def messages(report: dict[str, Any]) -> str:
    return "\n".join(p["message"] for p in report["problems"])


def sql(archive: Archive, statement: str, **params: Any) -> None:
    with archive.db.engine.begin() as conn:
        conn.execute(text(statement), params)


def rederive(archive: Archive) -> None:
    """What an insider with database access does to cover tracks: recompute every leaf
    hash column and rebuild the whole subtree table from the (altered) entries."""
    log = merkle.MerkleLog()
    with archive.db.engine.begin() as conn:
        rows = conn.execute(text("SELECT * FROM audit_entries ORDER BY idx")).mappings().all()
        for row in rows:
            body = row_body(AuditEntryRow(**row))
            leaf = merkle.leaf_hash(canonical_json(body))
            conn.execute(text("UPDATE audit_entries SET leaf_hash = :h WHERE idx = :i"),
                         {"h": leaf.hex(), "i": row["idx"]})
            log.append(leaf)
        conn.execute(text("DELETE FROM audit_subtrees"))
        store = log.store
        assert isinstance(store, merkle.MemoryStore)
        for level, hashes in enumerate(store.levels):
            for i, h in enumerate(hashes):
                conn.execute(text("INSERT INTO audit_subtrees (level, idx, hash) VALUES (:l, :i, :h)"),
                             {"l": level, "i": i, "h": h})


@pytest.fixture
def logged(archive: Archive) -> Archive:
    """Ten events, each with its signed head, as the filing path leaves them: head #k
    (seq k) covers the key's creation and aip-0 … aip-(k-1), K + k entries. (Catalogue
    edits, not filings: an ``aip:file`` entry without its catalogue record is itself a
    problem ``audit verify`` reports, see tests/web/test_cli_crosscheck.py.)"""
    with archive.db.session() as s:
        assert [e.action for e in audit_log.entries(s)] == ["key:create"] * K
        assert tree_heads.latest_head(s) is None
    for i in range(10):
        with archive.db.filing_session() as s:
            audit_log.append(s, actor="archivist-01", action="aip:access", object_id=f"aip-{i}",
                             object_digest=DIGEST, details={"archival_code": f"Z109-SB·2024-Y-{i:05d}"})
        tree_heads.publish_head(archive, anchor=False)
    return archive


def test_intact_log_verifies_and_heads_are_listed(logged: Archive) -> None:
    code, report = verify(logged)
    assert code == 0 and report["status"] == "ok"
    assert (report["entries"], report["heads"]) == (K + 10, 10)
    human = run(logged, "verify")
    assert human.exit_code == 0 and f"审计日志完好：{K + 10} 条记录、10 个签名树头" in human.stdout
    heads = json.loads(run(logged, "heads", "--json").stdout)
    assert [h["tree_head"]["size"] for h in heads] == list(range(K + 1, K + 11))
    assert [h["seq"] for h in json.loads(run(logged, "heads", "--since", "8", "--json").stdout)] == [9, 10]
    fresh = run(logged, "sign-head", "--max-age", "3600")
    assert fresh.exit_code == 0 and "未签署新树头" in fresh.stdout


def test_deleted_entry_is_named(logged: Archive) -> None:
    sql(logged, "DELETE FROM audit_entries WHERE idx = :i", i=K + 3)  # aip-3's entry
    code, report = verify(logged)
    assert code == 3 and "entry_missing" in kinds(report)
    assert f"第 {K + 3} 条审计记录缺失" in messages(report)
    assert f"树头 #4（{K + 4} 条）的根哈希与由记录重算的根不符" in messages(report)
    assert not any(p.get("head", 99) < 4 for p in report["problems"])  # heads before it hold
    assert "审计日志验证不通过" in run(logged, "verify").stdout


def test_edited_entry_is_named_even_when_hashes_are_recomputed(logged: Archive) -> None:
    sql(logged, "UPDATE audit_entries SET details = :d WHERE idx = :i",
        d='{"archival_code":"Z109-SB·2024-Y-99999"}', i=K + 2)
    code, report = verify(logged)
    assert code == 3
    assert any(p["kind"] == "entry_edited" and p["index"] == K + 2 for p in report["problems"])
    assert f"第 {K + 2} 条审计记录（aip:access aip-2）的内容与其叶子哈希不符" in messages(report)
    rederive(logged)  # leaf hashes and subtrees now agree with the edit...
    code, report = verify(logged)
    assert code == 3 and kinds(report) == {"head_root"}  # ...but the signed heads do not
    assert {p["head"] for p in report["problems"]} == set(range(3, 11))
    assert f"树头 #3（{K + 3} 条）的根哈希与由记录重算的根不符" in messages(report)


def test_swapped_entries_are_reported_as_reordered(logged: Archive) -> None:
    cols = "time, actor, action, object_id, object_digest, details, leaf_hash"
    a, b = K + 1, K + 4  # aip-1 and aip-4
    sql(logged, f"CREATE TEMP TABLE t AS SELECT idx, {cols} FROM audit_entries WHERE idx IN (:a, :b)",
        a=a, b=b)
    sql(logged, f"UPDATE audit_entries SET ({cols}) = (SELECT {cols} FROM t WHERE t.idx = "
        "CASE audit_entries.idx WHEN :a THEN :b ELSE :a END) WHERE idx IN (:a, :b)", a=a, b=b)
    code, report = verify(logged)
    assert code == 3
    assert f"第 {a} 条审计记录原是第 {b} 条：记录顺序被调换" in messages(report)
    assert f"第 {b} 条审计记录原是第 {a} 条：记录顺序被调换" in messages(report)
    rederive(logged)
    code, report = verify(logged)
    assert code == 3 and kinds(report) == {"head_root"}
    assert min(p["head"] for p in report["problems"]) == 2


def test_forged_heads_fail_their_signature(logged: Archive) -> None:
    sql(logged, "UPDATE audit_entries SET object_id = 'aip-X' WHERE idx = :i", i=K + 5)
    rederive(logged)
    insider = signing.generate_private_key()
    with logged.db.engine.begin() as conn:  # re-sign every head over the rewritten log
        for seq, size in conn.execute(text("SELECT id, size FROM audit_heads")).all():
            with logged.db.session() as s:
                root = audit_log.root(s, size)
            forged = sign_tree_head(TreeHead.create(size, root, tree_heads.log_id_for(logged)),
                                    insider, logged.key.key_id)
            conn.execute(text("UPDATE audit_heads SET signed_json = :j, root_hex = :r, "
                              "timestamp = :t WHERE id = :i"),
                         {"j": json.dumps(forged.to_dict()), "r": forged.head.root_hex,
                          "t": forged.head.timestamp, "i": seq})
    code, report = verify(logged)
    assert code == 3 and kinds(report) == {"head_signature"}
    assert len(report["problems"]) == 10
    assert f"树头 #6（{K + 6} 条" in messages(report) and "树头伪造" in messages(report)


def test_rollback_is_caught_by_heads_and_by_an_inspectors_saved_head(
    logged: Archive, tmp_path: Path
) -> None:
    saved = tmp_path / "inspector-head.json"
    saved.write_text(run(logged, "heads", "--json").stdout, "utf-8")  # the inspector keeps this
    assert verify(logged, "--against", str(saved))[0] == 0

    sql(logged, "DELETE FROM audit_entries WHERE idx >= :i", i=K + 7)  # aip-7 onwards
    rederive(logged)
    code, report = verify(logged)
    assert code == 3 and kinds(report) == {"head_beyond_log"}
    assert (f"树头 #10 承诺了 {K + 10} 条记录，但日志现在只有 {K + 7} 条：日志被回滚或截断"
            in messages(report))

    sql(logged, "DELETE FROM audit_heads WHERE size > :n", n=K + 7)  # the insider removes those heads
    assert verify(logged)[0] == 0  # the database alone now looks consistent...
    code, report = verify(logged, "--against", str(saved))  # ...the inspector's head does not
    assert code == 3 and kinds(report) == {"head_beyond_log"}
    assert f"检查人保存的树头（{K + 10} 条" in messages(report) and "日志被回滚" in messages(report)
    assert report["against"]["extended"] is False

    for i in range(5):  # and a forked log that grew past the saved size again
        audit_log.record(logged.db, actor="insider", action="aip:access", object_id=f"fork-{i}",
                         object_digest=None)
    code, report = verify(logged, "--against", str(saved))
    assert code == 3 and kinds(report) == {"head_root"}
    assert f"检查人保存的树头（{K + 10} 条" in messages(report)


def test_against_a_head_signed_by_another_key_is_refused(logged: Archive, tmp_path: Path) -> None:
    with logged.db.session() as s:
        head = TreeHead.create(audit_log.tree_size(s), audit_log.root(s),
                               tree_heads.log_id_for(logged))
    fake = tmp_path / "fake.json"
    fake.write_bytes(sign_tree_head(head, signing.generate_private_key(), "x").to_json())
    code, report = verify(logged, "--against", str(fake))
    assert code == 3 and kinds(report) == {"against_signature"}


def test_proof_json_checks_offline_with_packages_alone(logged: Archive) -> None:
    result = run(logged, "proof", str(K + 6), "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    sth = SignedTreeHead.from_dict(doc["signed_tree_head"])
    verify_tree_head(sth, (logged.home / "keys" / "archive-key.pub.pem").read_bytes())
    assert sth.head.size == K + 10 and doc["tree_size"] == K + 10
    entry = json.dumps(doc["entry"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    leaf = merkle.leaf_hash(entry.encode())
    proof = [bytes.fromhex(p) for p in doc["inclusion_proof"]]
    assert merkle.verify_inclusion(leaf, K + 6, K + 10, proof, sth.head.root)
    assert not merkle.verify_inclusion(leaf, K + 5, K + 10, proof, sth.head.root)
    assert doc["entry"]["object_id"] == "aip-6"
    older = json.loads(run(logged, "proof", str(K + 2), "--size", str(K + 4), "--json").stdout)
    assert older["signed_tree_head"]["tree_head"]["size"] == K + 4
    assert older["entry"]["object_id"] == "aip-2"
    missing = run(logged, "proof", str(K + 10))
    assert missing.exit_code == 2 and f"第 {K + 10} 条审计记录不在" in missing.stderr
