"""Audit log: gap-free appends in the filing window, proofs, signed and anchored heads."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from dangan.archive import audit_log, tree_heads
from dangan.archive.audit_models import AuditEntryRow, AuditHeadRow, AuditSubtree
from dangan.archive.audit_verify import verify_audit_log
from dangan.archive.instance import Archive
from dangan.archive.timestamping import TimestampError, verify_timestamp
from dangan.archive.timeutil import utcnow
from dangan.packages import merkle, signing
from dangan.packages.errors import SignatureError
from dangan.packages.tree_head import verify_extends, verify_tree_head
from tests.archive.local_tsa import LocalTSA

DIGEST = hashlib.sha256(b"tagmanifest").hexdigest()


def add(archive: Archive, n: int, *, action: str = "aip:access", per_tx: int = 1) -> None:
    # Not "aip:file": a filing entry without its catalogue record fails ``audit verify``.
    for start in range(0, n, per_tx):
        with archive.db.filing_session() as s:
            for i in range(start, min(n, start + per_tx)):
                audit_log.append(s, actor="archivist-01", action=action, object_id=f"aip-{i}",
                                 object_digest=DIGEST, details={"case_id": f"C{i}", "档号": "Z109"})


def pem(archive: Archive) -> bytes:
    return archive.key.public_pem


def start(archive: Archive) -> int:
    """Entries a fresh archive already holds (its key's creation): later indexes follow them."""
    with archive.db.session() as s:
        return audit_log.tree_size(s)


def test_new_archive_log_starts_with_the_creation_of_its_key(archive: Archive) -> None:
    with archive.db.session() as s:
        [entry] = audit_log.entries(s)
        assert tree_heads.latest_head(s) is None
        report = verify_audit_log(s, archive, pem(archive))
    assert (entry.index, entry.action, entry.object_id) == (0, "key:create", archive.key.key_id)
    assert entry.object_digest == signing.key_fingerprint(pem(archive))
    assert entry.actor.startswith("os:") and entry.details["algorithm"] == signing.ED25519
    assert report.ok and [w["kind"] for w in report.warnings] == ["no_heads"]


def test_leaf_bytes_are_the_documented_canonical_json(archive: Archive) -> None:
    b = start(archive)
    with archive.db.filing_session() as s:
        e = audit_log.append(s, actor="张三", action="aip:access", object_id="Z109-SB·2024-Y-0001",
                             object_digest=None, details={"b": [1, 2.5], "a": {"题名": "更正"}})
    expected = (
        '{"action":"aip:access","actor":"张三","details":{"a":{"题名":"更正"},"b":[1,2.5]},'
        f'"index":{b},"object_digest":null,"object_id":"Z109-SB·2024-Y-0001",'
        f'"time":"{e.time}","type":"dangan-audit-entry/v1"}}'
    ).encode()
    assert e.canonical_bytes() == expected
    assert e.leaf_hash == hashlib.sha256(b"\x00" + expected).digest()
    assert e.time.endswith("Z") and len(e.time) == 27
    with archive.db.session() as s:
        [stored] = audit_log.entries(s, b)
        assert audit_log.tree_size(s) == b + 1
    assert stored == e


def test_appends_are_gap_free_and_proofs_verify_with_packages(archive: Archive) -> None:
    b = start(archive)
    add(archive, 5)
    add(archive, 8, per_tx=4)  # several entries in one transaction
    n = b + 13
    with archive.db.session() as s:
        entries = audit_log.entries(s)
        assert [e.index for e in entries] == list(range(n))
        assert audit_log.tree_size(s) == n
        leaves = [merkle.leaf_hash(e.canonical_bytes()) for e in entries]
        assert leaves == [e.leaf_hash for e in entries]
        for size in range(1, n + 1):
            root = audit_log.root(s, size)
            assert root == merkle.root_from_leaf_hashes(leaves[:size])
            for i in range(size):
                proof = audit_log.inclusion_proof(s, i, size)
                assert proof == merkle.inclusion_proof(leaves, i, size)
                assert merkle.verify_inclusion(leaves[i], i, size, proof, root)
                assert not merkle.verify_inclusion(leaves[(i + 1) % n], i, size, proof, root)
            for old in range(1, size + 1):
                proof = audit_log.consistency_proof(s, old, size)
                assert merkle.verify_consistency(old, size, audit_log.root(s, old), root, proof)
        # n leaves store n + n//2 + n//4 + ... complete subtrees (13 leaves: 13+6+3+1), no more
        complete = sum(n >> level for level in range(n.bit_length()))
        assert s.scalar(select(func.count()).select_from(AuditSubtree)) == complete
        assert [e.index for e in audit_log.find_entries(s, object_id="aip-3")] == [b + 3, b + 8]


def test_append_refused_outside_filing_window_and_bad_fields_listed(archive: Archive) -> None:
    b = start(archive)
    with pytest.raises(audit_log.AuditLogError, match="归档窗口"):
        with archive.db.session() as s:
            audit_log.append(s, actor="a", action="aip:file", object_id="x", object_digest=None)
    with pytest.raises(audit_log.AuditLogError) as exc:
        with archive.db.filing_session() as s:
            audit_log.append(s, actor="", action="aip:delete", object_id="x",
                             object_digest="XYZ", details={"t": float("nan")})
    assert {d["field"] for d in exc.value.details} == {"actor", "action", "object_digest",
                                                       "details"}
    with archive.db.session() as s:
        assert audit_log.tree_size(s) == b


def test_rolled_back_transaction_leaves_no_entry_and_no_gap(archive: Archive) -> None:
    b = start(archive)
    add(archive, 3)
    with pytest.raises(RuntimeError):
        with archive.db.filing_session() as s:
            audit_log.append(s, actor="a", action="aip:file", object_id="lost", object_digest=None)
            raise RuntimeError("ingest failed after the log entry")
    e = audit_log.record(archive.db, actor="a", action="aip:access", object_id="aip-1",
                         object_digest=DIGEST)
    assert e.index == b + 3
    with archive.db.session() as s:
        assert [x.index for x in audit_log.entries(s)] == list(range(b + 4))
        assert [x.object_id for x in audit_log.entries(s, b)] == ["aip-0", "aip-1", "aip-2", "aip-1"]
        report = verify_audit_log(s, archive, pem(archive))
    assert report.ok, report.problems


def test_signed_heads_verify_extend_and_are_exported(archive: Archive) -> None:
    b = start(archive)
    add(archive, 6)
    first = tree_heads.publish_head(archive)
    add(archive, 5)
    second = tree_heads.publish_head(archive)
    verify_tree_head(first, pem(archive))
    verify_tree_head(second, pem(archive))
    with pytest.raises(SignatureError):
        verify_tree_head(first, signing.public_key_pem(signing.generate_private_key()))
    assert (first.head.size, second.head.size) == (b + 6, b + 11)
    with archive.db.session() as s:
        proof = audit_log.consistency_proof(s, b + 6, b + 11)
        assert tree_heads.latest_head(s) == second
        assert [h.sth for h in tree_heads.heads(s)] == [first, second]
        assert [h.sth for h in tree_heads.heads(s, since=1)] == [second]
    assert verify_extends(first, second, proof)
    assert not verify_extends(second, first, proof)
    lines = tree_heads.export_path(archive).read_text("utf-8").splitlines()
    assert [json.loads(line)["tree_head"] for line in lines] == [
        first.head.to_dict(), second.head.to_dict()]


def test_head_of_a_rolled_back_transaction_is_not_exported(archive: Archive) -> None:
    add(archive, 2)
    with pytest.raises(RuntimeError):
        with archive.db.filing_session() as s:
            tree_heads.sign_head(s, archive)
            raise RuntimeError("boom")
    assert not tree_heads.export_path(archive).exists()
    with archive.db.session() as s:
        assert tree_heads.latest_head(s) is None
    with pytest.raises(audit_log.AuditLogError, match="归档窗口"):
        with archive.db.session() as s:
            tree_heads.sign_head(s, archive)


def test_sign_head_if_stale_signs_at_most_once_per_period(archive: Archive) -> None:
    add(archive, 1)
    assert tree_heads.sign_head_if_stale(archive, max_age=3600) is not None
    assert tree_heads.sign_head_if_stale(archive, max_age=3600) is None
    with archive.db.engine.begin() as conn:  # pretend the head is two hours old
        old = (utcnow() - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
        conn.execute(text("UPDATE audit_heads SET signed_json = replace(signed_json, timestamp, :t),"
                          " timestamp = :t"), {"t": old})
    assert tree_heads.sign_head_if_stale(archive, max_age=3600) is not None


def test_receipt_evidence_checks_offline(archive: Archive) -> None:
    b = start(archive)
    add(archive, 9)
    sth = tree_heads.publish_head(archive)
    with archive.db.session() as s:
        ev = tree_heads.receipt_evidence(s, b + 4, sth)
    data = json.loads(json.dumps(ev))  # what a receipt carries, as JSON
    leaf = merkle.leaf_hash(json.dumps(data["entry"], sort_keys=True, separators=(",", ":"),
                                       ensure_ascii=False).encode("utf-8"))
    assert leaf.hex() == data["leaf_hash"] and data["entry"]["object_id"] == "aip-4"
    root = bytes.fromhex(data["signed_tree_head"]["tree_head"]["root_hex"])
    proof = [bytes.fromhex(p) for p in data["inclusion_proof"]]
    assert data["tree_size"] == b + 9
    assert merkle.verify_inclusion(leaf, b + 4, data["tree_size"], proof, root)
    assert not merkle.verify_inclusion(leaf, b + 5, data["tree_size"], proof, root)


def test_heads_anchored_by_a_local_rfc3161_tsa(
    archive: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(archive, 4)
    with LocalTSA(tmp_path) as tsa:
        monkeypatch.setenv("DANGAN_TSA_URL", tsa.url)
        monkeypatch.setenv("DANGAN_TSA_CERT", str(tsa.root_pem_path))
        ingest_head = tree_heads.publish_head(archive, anchor=False)  # the fast ingest path
        assert tsa.requests == 0
        anchored = tree_heads.sign_head_if_stale(archive)  # no anchored head yet: signs one
        assert anchored is not None and tsa.requests == 1
        assert tree_heads.sign_head_if_stale(archive) is None
        tsa.refuse = True
        tree_heads.publish_head(archive)
    with archive.db.session() as s:
        stored = tree_heads.heads(s)
        assert [h.sth for h in stored[:2]] == [ingest_head, anchored]
        token = stored[1].tsa_token
        assert token is not None and stored[1].tsa_time is not None
        assert "拒绝" in (stored[2].tsa_error or "")
        when = verify_timestamp(token, anchored.head.canonical_bytes(), [tsa.root])
        assert abs(when - anchored.head.time) < timedelta(minutes=1)
        with pytest.raises(TimestampError, match="摘要"):
            verify_timestamp(token, ingest_head.head.canonical_bytes(), [tsa.root])
        report = verify_audit_log(s, archive, pem(archive))
    assert report.ok, report.problems
    assert [w["kind"] for w in report.warnings] == ["head_unanchored"]
    # a token whose signature bytes are altered is refused by audit verify
    bad = bytearray(token)
    bad[-5] ^= 0x01
    with archive.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_heads SET tsa_token = :t WHERE id = 2"), {"t": bytes(bad)})
    with archive.db.session() as s:
        report = verify_audit_log(s, archive, pem(archive))
    assert [(p["kind"], p["head"]) for p in report.problems] == [("head_timestamp", 2)]


CHILD = """
import sys
from dangan.archive import audit_log
from dangan.archive.instance import Archive
a = Archive.open(sys.argv[1], upgrade=False)
for i in range(int(sys.argv[3])):
    with a.db.filing_session() as s:
        audit_log.append(s, actor=sys.argv[2], action="aip:access", object_id=f"{sys.argv[2]}-{i}",
                         object_digest=None)
        if i % 3 == 0:  # a second entry in the same transaction
            audit_log.append(s, actor=sys.argv[2], action="aip:export",
                             object_id=f"{sys.argv[2]}-{i}", object_digest=None)
a.close()
"""


def test_two_processes_appending_at_once_stay_gap_free(archive: Archive) -> None:
    b = start(archive)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(archive.home), who, "40"], env=env)
             for who in ("p1", "p2")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with archive.db.session() as s:
        idx = list(s.scalars(select(AuditEntryRow.idx).order_by(AuditEntryRow.idx)))
        actors = {e.actor for e in audit_log.entries(s, b)}
    assert idx == list(range(b + 2 * (40 + 14))) and actors == {"p1", "p2"}
    tree_heads.publish_head(archive)
    with archive.db.session() as s:
        report = verify_audit_log(s, archive, pem(archive))
        assert s.scalar(select(func.count()).select_from(AuditHeadRow)) == 1
    assert report.ok, report.problems


@pytest.mark.postgres
def test_two_processes_stay_gap_free_on_postgresql(pg_archive: Archive) -> None:
    archive = pg_archive
    b = start(archive)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(archive.home), who, "25"],
                              env=env) for who in ("p1", "p2")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    tree_heads.publish_head(archive)
    with archive.db.session() as s:
        idx = list(s.scalars(select(AuditEntryRow.idx).order_by(AuditEntryRow.idx)))
        report = verify_audit_log(s, archive, pem(archive))
    assert idx == list(range(b + 2 * (25 + 9))) and report.ok, report.problems
