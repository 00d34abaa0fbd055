"""RFC 6962 Merkle tree: published CT test vectors, a naive cross-check, tampering."""

from __future__ import annotations

import hashlib
import random

import pytest

from dangan.packages.merkle import (
    EMPTY_ROOT,
    MemoryStore,
    MerkleLog,
    MerkleStoreError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# --- Test data -------------------------------------------------------------------------
# Copied from github.com/transparency-dev/merkle (Apache-2.0), the vectors that Google's
# certificate-transparency and trillian use: testonly/constants.go (LeafInputs,
# NodeHashes, RootHashes) and proof/verify_test.go at commit d9aea70 (inclusionProofs,
# consistencyProofs; leaf numbers there are 1-based), plus the edge cases of
# testdata/consistency/additional/*.json. "dc1"/"dc2" are the bytes "don't care 1"/"2".
LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
          "606162636465666768696a6b6c6d6e6f"]
NODE_HASHES = [
    ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"],
    ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"],
    ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
ROOTS = [  # index = tree size
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION_PROOFS = [  # (leaf, 1-based; tree size; path)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
CONSISTENCY_PROOFS = [  # (old size, new size, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
E, DC1, DC2 = EMPTY_ROOT.hex(), b"don't care 1".hex(), b"don't care 2".hex()
CONSISTENCY_EDGE_CASES = [  # (size1, size2, root1, root2, proof, valid)
    (0, 1, E, E, [E], False), (0, 0, E, DC2, [], False), (1, 1, E, DC2, [], False),
    (2, 1, DC1, DC2, [], False), (1, 0, DC1, DC2, [], False), (0, 1, DC1, DC2, [], False),
    (0, 1, E, DC2, [], False), (1, 1, E, E, [], True), (1, 1, DC1, DC2, [], False),
    (0, 0, E, E, [], False), (0, 0, DC1, DC2, [], False), (1, 2, DC1, DC2, [], False),
    (1, 1, E, E, [E], False), (0, 0, E, E, [E], False),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

h = bytes.fromhex
LEAF_HASHES = [leaf_hash(h(x)) for x in LEAVES]


def _log(leaves: list[bytes]) -> MerkleLog:
    log = MerkleLog()
    log.extend(leaves)
    return log


# --- Naive reference: RFC 6962 §2.1 written literally, hashing with hashlib directly -----
def _node(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + a + b).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return _node(naive_mth(d[:k]), naive_mth(d[k:]))


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return naive_path(m, d[:k]) + [naive_mth(d[k:])]
    return naive_path(m - k, d[k:]) + [naive_mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [naive_mth(d)]
    k = _k(len(d))
    if m <= k:
        return naive_subproof(m, d[:k], b) + [naive_mth(d[k:])]
    return naive_subproof(m - k, d[k:], False) + [naive_mth(d[:k])]


# --- Published vectors -------------------------------------------------------------------
def test_leaf_node_and_root_hashes_match_published_vectors() -> None:
    assert EMPTY_ROOT.hex() == ROOTS[0]
    assert [x.hex() for x in LEAF_HASHES] == NODE_HASHES[0]
    log = _log(LEAF_HASHES)
    for size in range(9):
        assert root_from_leaf_hashes(LEAF_HASHES[:size]).hex() == ROOTS[size]
        assert log.root(size).hex() == ROOTS[size]
    assert isinstance(log.store, MemoryStore)
    assert [[x.hex() for x in row] for row in log.store.levels] == NODE_HASHES


def _inclusion_corruptions(i: int, n: int, proof: list[bytes], root: bytes, leaf: bytes):
    """Port of corruptInclusionProof (transparency-dev/merkle proof/verify_test.go)."""
    yield from [
        (i - 1, n, root, leaf, proof), (i + 1, n, root, leaf, proof),
        (i ^ 2, n, root, leaf, proof), (i, n * 2, root, leaf, proof),
        (i, n // 2, root, leaf, proof), (i, n, root, b"WrongLeaf", proof),
        (i, n, EMPTY_ROOT, leaf, proof), (i, n, SOME_HASH, leaf, proof),
        (i, n, root, leaf, proof + [b""]), (i, n, root, leaf, proof + [root]),
        (i, n, root, leaf, [b""] + proof), (i, n, root, leaf, [root] + proof),
    ]
    for k in range(len(proof)):
        bad = list(proof)
        bad[k] = bytes([bad[k][0] ^ 8]) + bad[k][1:]
        yield (i, n, root, leaf, bad)
    if proof:
        yield (i, n, root, leaf, proof[:-1])
    if len(proof) > 1:
        yield (i, n, root, leaf, [proof[0], SOME_HASH] + proof[1:])


@pytest.mark.parametrize(("leaf", "size", "path"), INCLUSION_PROOFS)
def test_published_inclusion_proofs(leaf: int, size: int, path: list[str]) -> None:
    proof, root, lh = [h(x) for x in path], h(ROOTS[size]), LEAF_HASHES[leaf - 1]
    assert inclusion_proof(LEAF_HASHES, leaf - 1, size) == proof
    assert _log(LEAF_HASHES).inclusion_proof(leaf - 1, size) == proof
    assert verify_inclusion(lh, leaf - 1, size, proof, root)
    for bad in _inclusion_corruptions(leaf - 1, size, proof, root, lh):
        assert not verify_inclusion(bad[3], bad[0], bad[1], bad[4], bad[2]), bad


def _consistency_corruptions(m: int, n: int, r1: bytes, r2: bytes, proof: list[bytes]):
    """Port of corruptConsistencyProof (transparency-dev/merkle proof/verify_test.go)."""
    yield from [
        (m - 1, n, r1, r2, proof), (m + 1, n, r1, r2, proof), (m ^ 2, n, r1, r2, proof),
        (m, n * 2, r1, r2, proof), (m, n // 2, r1, r2, proof),
        (m, n, b"WrongRoot", r2, proof), (m, n, r1, b"WrongRoot", proof),
        (m, n, r2, r1, proof), (m, n, r1, r2, []),
        (m, n, r1, r2, proof + [b""]), (m, n, r1, r2, proof + [r1]),
        (m, n, r1, r2, proof + [r2]), (m, n, r1, r2, [b""] + proof),
        (m, n, r1, r2, [r1] + proof), (m, n, r1, r2, [r2] + proof),
        (m, n, r1, r2, [proof[0]] + proof), (m, n, r1, r2, proof[:-1]),
    ]
    for k in range(len(proof)):
        bad = list(proof)
        bad[k] = bytes([bad[k][0] ^ 16]) + bad[k][1:]
        yield (m, n, r1, r2, bad)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_PROOFS)
def test_published_consistency_proofs(old: int, new: int, path: list[str]) -> None:
    proof, r1, r2 = [h(x) for x in path], h(ROOTS[old]), h(ROOTS[new])
    assert consistency_proof(LEAF_HASHES, old, new) == proof
    assert _log(LEAF_HASHES).consistency_proof(old, new) == proof
    assert verify_consistency(old, new, r1, r2, proof)
    if proof:
        for bad in _consistency_corruptions(old, new, r1, r2, proof):
            assert not verify_consistency(*bad), bad


@pytest.mark.parametrize(("m", "n", "r1", "r2", "path", "valid"), CONSISTENCY_EDGE_CASES)
def test_consistency_edge_cases(m: int, n: int, r1: str, r2: str, path: list[str], valid: bool) -> None:
    assert verify_consistency(m, n, h(r1), h(r2), [h(x) for x in path]) is valid


def test_single_entry_inclusion() -> None:
    x = leaf_hash(b"data")
    assert verify_inclusion(x, 0, 1, [], x)
    assert not verify_inclusion(b"", 0, 1, [], x)
    assert not verify_inclusion(x, 0, 1, [], b"")
    for index, size in [(0, 0), (1, 0), (2, 1), (1, 1)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)


@pytest.mark.parametrize(
    "args",
    [
        (None, 0, 1, [], SOME_HASH), (SOME_HASH, -1, 1, [], SOME_HASH),
        (SOME_HASH, True, 2, [SOME_HASH], SOME_HASH), (SOME_HASH, "0", 1, [], SOME_HASH),
        (SOME_HASH, 0, 2**70, [SOME_HASH], SOME_HASH), (SOME_HASH, 0, 2, None, SOME_HASH),
        (SOME_HASH, 0, 2, [SOME_HASH.hex()], SOME_HASH), (SOME_HASH, 0, 2, b"x" * 32, SOME_HASH),
        (SOME_HASH, 0, 2, [SOME_HASH], None), (SOME_HASH[:31], 0, 1, [], SOME_HASH[:31]),
    ],
)
def test_malformed_inclusion_input_is_false_not_exception(args: tuple) -> None:
    assert verify_inclusion(*args) is False


@pytest.mark.parametrize(
    "args",
    [
        (-1, 2, SOME_HASH, SOME_HASH, [SOME_HASH]), (1.0, 2, SOME_HASH, SOME_HASH, [SOME_HASH]),
        (1, 2**80, SOME_HASH, SOME_HASH, [SOME_HASH] * 3), (1, 2, None, SOME_HASH, [SOME_HASH]),
        (1, 2, SOME_HASH, SOME_HASH, "abc"), (1, 2, SOME_HASH, SOME_HASH, [1, 2]),
        (3, 2, SOME_HASH, SOME_HASH, [SOME_HASH]), (1, 2, SOME_HASH, SOME_HASH, [SOME_HASH] * 200),
    ],
)
def test_malformed_consistency_input_is_false_not_exception(args: tuple) -> None:
    assert verify_consistency(*args) is False


# --- Cross-checks against the naive reference ---------------------------------------------
def _random_leaves(rng: random.Random, n: int) -> list[bytes]:
    return [hashlib.sha256(b"\x00" + rng.randbytes(rng.randint(0, 40))).digest() for _ in range(n)]


def test_every_proof_of_small_trees_matches_naive_and_verifies() -> None:
    leaves = _random_leaves(random.Random(1), 33)
    log = _log(leaves)
    for n in range(1, 34):
        d, root = leaves[:n], naive_mth(leaves[:n])
        assert log.root(n) == root == root_from_leaf_hashes(d)
        for i in range(n):
            proof = log.inclusion_proof(i, n)
            assert proof == naive_path(i, d) == inclusion_proof(leaves, i, n)
            assert verify_inclusion(leaves[i], i, n, proof, root)
            assert not verify_inclusion(leaves[i], (i + 1) % n, n, proof, root) or n == 1
        for m in range(1, n + 1):
            proof = log.consistency_proof(m, n)
            assert proof == (naive_subproof(m, d, True) if m < n else [])
            assert proof == consistency_proof(leaves, m, n)
            assert verify_consistency(m, n, log.root(m), root, proof)


def _flip(proof: list[bytes], rng: random.Random) -> list[bytes]:
    bad = list(proof)
    k, byte = rng.randrange(len(bad)), rng.randrange(32)
    b = bytearray(bad[k])
    b[byte] ^= 1 << rng.randrange(8)
    bad[k] = bytes(b)
    return bad


def test_random_proofs_in_a_larger_log_match_naive_and_resist_tampering() -> None:
    rng = random.Random(6962)
    leaves = _random_leaves(rng, 1500)
    log = _log(leaves)
    for _ in range(60):
        n = rng.randint(2, len(leaves))
        i, m = rng.randrange(n), rng.randrange(1, n)
        root, d = log.root(n), leaves[:n]
        proof = log.inclusion_proof(i, n)
        assert proof == naive_path(i, d) and root == naive_mth(d)
        assert verify_inclusion(leaves[i], i, n, proof, root)
        assert not verify_inclusion(leaves[i], i, n, _flip(proof, rng), root)
        assert not verify_inclusion(leaves[i], rng.choice([j for j in range(n) if j != i]), n, proof, root)
        other = rng.choice([s for s in range(i + 1, len(leaves) + 1) if s != n])
        assert not verify_inclusion(leaves[i], i, other, proof, log.root(other))
        assert not verify_inclusion(leaves[(i + 1) % n], i, n, proof, root)

        cproof = log.consistency_proof(m, n)
        assert cproof == naive_subproof(m, d, True)
        assert verify_consistency(m, n, log.root(m), root, cproof)
        assert not verify_consistency(m, n, log.root(m), root, _flip(cproof, rng))
        assert not verify_consistency(m, n, log.root(m), root, cproof[:-1])
        assert not verify_consistency(m, n, log.root(m), SOME_HASH, cproof)
        for m2 in (m - 1, m + 1):
            if 0 < m2 < n and log.consistency_proof(m2, n) != cproof:
                assert not verify_consistency(m2, n, log.root(m2), root, cproof)
        n2 = n + 1 if n < len(leaves) else n - 1
        if n2 > m:
            assert not verify_consistency(m, n2, log.root(m), log.root(n2), cproof)


# --- MerkleLog over a store ----------------------------------------------------------------
def test_log_reopens_from_its_store_and_keeps_past_roots() -> None:
    leaves = _random_leaves(random.Random(3), 300)
    log = _log(leaves[:200])
    old_root = log.root()
    reopened = MerkleLog(log.store)  # size found from the stored leaves
    assert reopened.size == 200 and reopened.root() == old_root
    reopened.extend(leaves[200:])
    assert reopened.root(200) == old_root
    assert reopened.root() == naive_mth(leaves)
    assert reopened.leaf_hash(250) == leaves[250]
    assert MerkleLog(reopened.store, size=300).inclusion_proof(7) == naive_path(7, leaves)
    assert MerkleLog(MemoryStore()).root() == EMPTY_ROOT


def test_store_refuses_rewrites_and_missing_hashes_are_reported() -> None:
    log = _log(_random_leaves(random.Random(4), 10))
    with pytest.raises(MerkleStoreError):
        log.store.put(0, 3, SOME_HASH)
    with pytest.raises(MerkleStoreError):
        log.store.put(0, 50, SOME_HASH)
    with pytest.raises(MerkleStoreError, match="缺少子树哈希"):
        MerkleLog(MemoryStore(), size=5)


@pytest.mark.parametrize(
    "call",
    [
        lambda g: g.inclusion_proof(10, 10), lambda g: g.inclusion_proof(0, 11),
        lambda g: g.inclusion_proof(-1, 5), lambda g: g.consistency_proof(0, 5),
        lambda g: g.consistency_proof(6, 5), lambda g: g.consistency_proof(3, 11),
        lambda g: g.root(11), lambda g: g.append(b"short"), lambda g: g.leaf_hash(10),
    ],
)
def test_log_rejects_impossible_requests(call) -> None:
    with pytest.raises(ValueError):
        call(_log(_random_leaves(random.Random(5), 10)))
