"""Signed tree heads: canonical bytes, signing, JSON round trip, append-only checks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dangan.packages.errors import FormatError, SignatureError
from dangan.packages.merkle import EMPTY_ROOT, MerkleLog, leaf_hash
from dangan.packages.signing import ECDSA_P256, ED25519, generate_private_key, public_key_pem
from dangan.packages.tree_head import (
    SignedTreeHead,
    TreeHead,
    sign_tree_head,
    utc_timestamp,
    verify_extends,
    verify_tree_head,
)

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
LOG_ID = "dangan-audit/社保局"


@pytest.fixture(scope="module")
def log() -> MerkleLog:
    log = MerkleLog()
    log.extend(leaf_hash(f"aip:file case-{i}".encode()) for i in range(40))
    return log


def head(log: MerkleLog, size: int, minutes: int = 0) -> TreeHead:
    return TreeHead.create(size, log.root(size), LOG_ID, T0 + timedelta(minutes=minutes))


def test_canonical_bytes_are_sorted_compact_utf8_json() -> None:
    h = TreeHead(size=3, root_hex="ab" * 32, timestamp="2024-05-01T08:00:00Z", log_id="日志")
    assert h.canonical_bytes() == (
        '{"log_id":"日志","root_hex":"' + "ab" * 32 + '","size":3,'
        '"timestamp":"2024-05-01T08:00:00Z","type":"dangan-tree-head/v1"}'
    ).encode("utf-8")


def test_timestamps_are_utc_with_z() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert utc_timestamp(datetime(2024, 5, 1, 16, 0, tzinfo=shanghai)) == "2024-05-01T08:00:00.000000Z"
    with pytest.raises(ValueError):
        utc_timestamp(datetime(2024, 5, 1))


@pytest.mark.parametrize("alg", [ED25519, ECDSA_P256])
def test_signed_head_verifies_and_survives_json_round_trip(log: MerkleLog, alg: str) -> None:
    key = generate_private_key(alg)
    sth = sign_tree_head(head(log, 40), key, "log-key-1")
    verify_tree_head(sth, public_key_pem(key))
    again = SignedTreeHead.from_json(sth.to_json())
    assert again == sth
    verify_tree_head(again, public_key_pem(key))


def test_any_change_to_a_signed_head_breaks_the_signature(log: MerkleLog) -> None:
    key = generate_private_key()
    sth = sign_tree_head(head(log, 40), key, "k1")
    for changed in [
        replace(sth.head, size=39),
        replace(sth.head, root_hex=log.root(39).hex()),
        replace(sth.head, timestamp="2024-05-01T08:00:01Z"),
        replace(sth.head, log_id="another-log"),
    ]:
        with pytest.raises(SignatureError):
            verify_tree_head(SignedTreeHead(changed, sth.signature), public_key_pem(key))
    with pytest.raises(SignatureError):
        verify_tree_head(sth, public_key_pem(generate_private_key()))
    with pytest.raises(SignatureError):
        verify_tree_head(sth, b"-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")


def test_malformed_heads_name_every_bad_field() -> None:
    with pytest.raises(FormatError) as err:
        TreeHead(size=-1, root_hex="XYZ", timestamp="2024-05-01 08:00:00+08:00", log_id="")
    assert {d["field"] for d in err.value.details} == {"size", "root_hex", "timestamp", "log_id"}
    with pytest.raises(FormatError, match="root_hex"):
        TreeHead(size=0, root_hex="00" * 32, timestamp="2024-05-01T08:00:00Z", log_id="x")
    with pytest.raises(FormatError, match="timestamp"):
        TreeHead(size=1, root_hex="00" * 32, timestamp="2024-02-30T08:00:00Z", log_id="x")
    good = TreeHead(size=1, root_hex="00" * 32, timestamp="2024-05-01T08:00:00Z", log_id="x")
    data = good.to_dict() | {"extra": 1}
    del data["size"]
    with pytest.raises(FormatError) as err:
        TreeHead.from_dict(data)
    assert {d["field"] for d in err.value.details} == {"size", "extra"}
    with pytest.raises(FormatError) as err:
        TreeHead.from_dict(good.to_dict() | {"type": "other/v1"})
    assert [d["field"] for d in err.value.details] == ["type"]
    with pytest.raises(FormatError):
        SignedTreeHead.from_json(b"\xff")
    with pytest.raises(SignatureError):
        SignedTreeHead.from_dict({"tree_head": good.to_dict(), "signature": {"alg": "ed25519"}})


def test_verify_extends_accepts_real_growth_only(log: MerkleLog) -> None:
    old, new = head(log, 17, 0), head(log, 40, 5)
    proof = log.consistency_proof(17, 40)
    key = generate_private_key()
    assert verify_extends(sign_tree_head(old, key, "k"), sign_tree_head(new, key, "k"), proof)
    assert verify_extends(old, new, proof)
    assert verify_extends(new, new, [])
    assert not verify_extends(new, old, proof)  # shrinking
    assert not verify_extends(old, replace(new, log_id="other"), proof)
    assert not verify_extends(old, head(log, 40, -1), proof)  # time went backwards
    assert not verify_extends(old, new, proof[:-1])
    assert not verify_extends(old, new, [bytes(32)] + proof[1:])
    assert not verify_extends(old, new, "not a proof")  # type: ignore[arg-type]
    # A rewritten history: same size 40, different entry 3, does not extend the old head.
    forged = MerkleLog()
    forged.extend(log.leaf_hash(i) if i != 3 else leaf_hash(b"forged") for i in range(40))
    forged_head = TreeHead.create(40, forged.root(), LOG_ID, T0 + timedelta(minutes=5))
    assert not verify_extends(old, forged_head, forged.consistency_proof(17, 40))
    assert not verify_extends(old, forged_head, proof)


def test_empty_head_is_extended_by_any_head(log: MerkleLog) -> None:
    empty = TreeHead.create(0, EMPTY_ROOT, LOG_ID, T0)
    assert verify_extends(empty, head(log, 40, 1), [])
    assert not verify_extends(empty, head(log, 40, 1), [log.root(1)])


def test_signed_head_json_is_readable(log: MerkleLog) -> None:
    sth = sign_tree_head(head(log, 2), generate_private_key(), "k1")
    obj = json.loads(sth.to_json())
    assert obj["tree_head"]["size"] == 2 and obj["signature"]["key_id"] == "k1"
    assert obj["tree_head"]["root_hex"] == log.root(2).hex()
