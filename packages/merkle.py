"""Merkle tree of RFC 6962 / RFC 9162 (Certificate Transparency), SHA-256.

Why: the audit log must let an inspector prove, offline and with ``packages/`` alone, that
an entry is in the log (inclusion proof) and that a later log only appended to an earlier
one (consistency proof). Hashing is exactly RFC 6962 §2.1::

    leaf hash   H(0x00 || entry)
    node hash   H(0x01 || left || right)
    empty tree  H()                       (MTH of 0 leaves)
    MTH(D[n])   H(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k = largest power of two < n

Proof generation follows RFC 6962 §2.1.1 (PATH) and §2.1.2 (PROOF/SUBPROOF); the hash order
is the RFC's (leaf side first). Verification is the bit-shifting algorithm of RFC 9162
§2.1.3.2 and §2.1.4.2; it returns False for any malformed input and never raises.

``MerkleLog`` is the incremental form for large logs: it stores each complete subtree
(2^k leaves aligned at a multiple of 2^k) once, in a ``SubtreeStore`` (in memory here,
SQL in the archive layer), so a root or proof for any past size costs O(log n) lookups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from .errors import PackageError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256
RangeHash = Callable[[int, int], bytes]


class MerkleStoreError(PackageError):
    """A subtree store that lacks a hash the log needs (lost or truncated storage)."""

    code = "package.merkle_store"


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash ``H(0x00 || entry)``."""
    return _sha256(b"\x00" + bytes(entry)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash ``H(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly less than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _peaks(size: int) -> list[tuple[int, int]]:
    """Perfect subtrees ``(level, start)`` making up a tree of ``size`` leaves, left to right."""
    out: list[tuple[int, int]] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, start))
            start += 1 << level
    return out


def _fold(peak_hashes: Sequence[bytes]) -> bytes:
    """MTH from the peak hashes: the right-hand peaks nest deepest (RFC 6962 split rule)."""
    if not peak_hashes:
        return EMPTY_ROOT
    acc = peak_hashes[-1]
    for h in reversed(peak_hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes (``EMPTY_ROOT`` for none), in one pass with a stack."""
    stack: list[bytes] = []
    for i, h in enumerate(hashes):
        stack.append(h)
        n = i + 1
        while not n & 1:  # each trailing zero of the new size closes one perfect subtree
            right = stack.pop()
            stack.append(node_hash(stack.pop(), right))
            n >>= 1
    return _fold(stack)


def _path(index: int, lo: int, hi: int, rh: RangeHash) -> list[bytes]:
    """RFC 6962 PATH(index, D[lo:hi]) with subtree hashes from ``rh``, leaf side first."""
    out: list[bytes] = []
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append(rh(lo + k, hi))
            hi = lo + k
        else:
            out.append(rh(lo, lo + k))
            lo += k
    out.reverse()
    return out


def _subproof(m: int, lo: int, hi: int, rh: RangeHash) -> list[bytes]:
    """RFC 6962 SUBPROOF(m, D[lo:hi], true), iteratively, leaf side first."""
    out: list[bytes] = []
    complete = True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                out.append(rh(lo, hi))
            break
        k = _split(n)
        if m <= k:
            out.append(rh(lo + k, hi))
            hi = lo + k
        else:
            out.append(rh(lo, lo + k))
            lo += k
            m -= k
            complete = False
    out.reverse()
    return out


def _check_sizes(index_or_old: int, size: int, available: int, *, inclusive: bool) -> None:
    bad = index_or_old < 0 or size > available or (
        index_or_old > size if inclusive else index_or_old >= size
    )
    if bad:
        raise ValueError(f"证明参数越界：{index_or_old} / 树大小 {size} / 已有 {available} 个叶子")


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """Audit path of leaf ``index`` in the tree of the first ``tree_size`` leaves (O(n))."""
    _check_sizes(index, tree_size, len(leaf_hashes), inclusive=False)
    return _path(index, 0, tree_size, lambda a, b: root_from_leaf_hashes(leaf_hashes[a:b]))


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """Consistency proof between the first ``old_size`` and ``new_size`` leaves (O(n)).

    Defined for 0 < old_size <= new_size; equal sizes give the empty proof.
    """
    _check_sizes(old_size, new_size, len(leaf_hashes), inclusive=True)
    if old_size == 0:
        raise ValueError("空树没有一致性证明（旧树大小须大于 0）")
    if old_size == new_size:
        return []
    return _subproof(old_size, 0, new_size, lambda a, b: root_from_leaf_hashes(leaf_hashes[a:b]))


def _is_size(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= 0


def _is_hash(x: object) -> bool:
    return isinstance(x, bytes | bytearray) and len(x) == HASH_SIZE


def _is_path(proof: object) -> bool:
    return isinstance(proof, list | tuple) and all(_is_hash(p) for p in proof)


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` place ``leaf_hash`` at ``index`` under ``root``?"""
    if not (_is_size(index) and _is_size(tree_size) and _is_hash(leaf_hash) and _is_hash(root)):
        return False
    if not _is_path(proof) or index >= tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(bytes(p), r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, bytes(p))
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == bytes(root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``proof`` show the old tree is a prefix of the new one?

    Equal sizes need an empty proof and equal roots. A proof from the empty tree proves
    nothing and is refused (as transparency-dev/merkle does); a caller that wants "size 0
    extends anything" checks ``old_root == EMPTY_ROOT`` itself.
    """
    if not (_is_size(old_size) and _is_size(new_size) and _is_hash(old_root)):
        return False
    if not (_is_hash(new_root) and _is_path(proof)):
        return False
    if old_size == 0 or old_size > new_size:
        return False
    if old_size == new_size:
        return len(proof) == 0 and bytes(old_root) == bytes(new_root)
    if not proof:
        return False
    path = [bytes(p) for p in proof]
    if old_size & (old_size - 1) == 0:  # exact power of two: old root is a node of the path
        path.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == bytes(old_root) and sr == bytes(new_root)


class SubtreeStore(Protocol):
    """Where ``MerkleLog`` keeps complete-subtree hashes.

    ``(level, index)`` names the perfect subtree of 2^level leaves starting at leaf
    ``index * 2^level``; level 0 holds the leaf hashes. A stored hash never changes.
    """

    def get(self, level: int, index: int) -> bytes | None: ...

    def put(self, level: int, index: int, value: bytes) -> None: ...


class MemoryStore:
    """In-memory ``SubtreeStore``: one list per level (about 2n hashes for n leaves)."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = []

    def get(self, level: int, index: int) -> bytes | None:
        if level < len(self.levels) and 0 <= index < len(self.levels[level]):
            return self.levels[level][index]
        return None

    def put(self, level: int, index: int, value: bytes) -> None:
        while len(self.levels) <= level:
            self.levels.append([])
        row = self.levels[level]
        if index == len(row):
            row.append(value)
        elif index < len(row):
            if row[index] != value:
                raise MerkleStoreError(f"子树哈希不可改写：层 {level} 序号 {index}")
        else:
            raise MerkleStoreError(f"子树哈希须按顺序写入：层 {level} 序号 {index}")


class MerkleLog:
    """Append-only Merkle log over a ``SubtreeStore``: roots and proofs for any past size.

    Appending stores the leaf hash and every subtree it completes (amortised two writes);
    ``root``, ``inclusion_proof`` and ``consistency_proof`` read O(log n) stored hashes.
    ``size`` may be given by the caller (e.g. from its catalogue); if omitted it is found
    by binary search over the stored leaves.
    """

    def __init__(self, store: SubtreeStore | None = None, size: int | None = None) -> None:
        self.store: SubtreeStore = store if store is not None else MemoryStore()
        self._size = self._find_size() if size is None else size
        # Hashes of the perfect subtrees covering [0, size), left to right (the frontier).
        self._frontier = [self._get(level, start >> level) for level, start in _peaks(self._size)]

    def _get(self, level: int, index: int) -> bytes:
        value = self.store.get(level, index)
        if value is None:
            raise MerkleStoreError(f"Merkle 存储缺少子树哈希：层 {level} 序号 {index}")
        return value

    def _find_size(self) -> int:
        if self.store.get(0, 0) is None:
            return 0
        hi = 1
        while self.store.get(0, hi) is not None:
            hi <<= 1
        lo = hi >> 1  # leaf lo exists, leaf hi does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.store.get(0, mid) is not None:
                lo = mid
            else:
                hi = mid
        return hi

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> int:
        """Append one leaf hash (see ``leaf_hash``); return its index."""
        if not _is_hash(leaf):
            raise ValueError(f"叶子哈希须为 {HASH_SIZE} 字节")
        index = self._size
        h = bytes(leaf)
        self.store.put(0, index, h)
        level, i = 0, index
        while i & 1:  # the new leaf completes one subtree per trailing one bit
            h = node_hash(self._frontier.pop(), h)
            level += 1
            i >>= 1
            self.store.put(level, i, h)
        self._frontier.append(h)
        self._size = index + 1
        return index

    def extend(self, leaves: Iterable[bytes]) -> int:
        """Append many leaf hashes; return the new size."""
        for leaf in leaves:
            self.append(leaf)
        return self._size

    def leaf_hash(self, index: int) -> bytes:
        _check_sizes(index, self._size, self._size, inclusive=False)
        return self._get(0, index)

    def _edges(self, size: int) -> dict[int, bytes]:
        """Hash of every right-edge range ``[start, size)``, keyed by ``start``."""
        peaks = _peaks(size)
        hashes = (
            self._frontier
            if size == self._size
            else [self._get(level, start >> level) for level, start in peaks]
        )
        edges: dict[int, bytes] = {}
        acc = b""
        for (_, start), h in zip(reversed(peaks), reversed(hashes), strict=True):
            acc = node_hash(h, acc) if acc else h
            edges[start] = acc
        return edges

    def _range_hash(self, size: int) -> RangeHash:
        edges = self._edges(size)

        def rh(lo: int, hi: int) -> bytes:
            if hi == size and lo in edges:
                return edges[lo]
            n = hi - lo
            level = n.bit_length() - 1
            if n == 1 << level and lo % n == 0:
                return self._get(level, lo >> level)
            k = _split(n)  # not reached by PATH/SUBPROOF; kept correct for any range
            return node_hash(rh(lo, lo + k), rh(lo + k, hi))

        return rh

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all)."""
        size = self._size if size is None else size
        _check_sizes(size, self._size, self._size, inclusive=True)
        if size == 0:
            return EMPTY_ROOT
        return self._edges(size)[0]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self._size if size is None else size
        _check_sizes(index, size, self._size, inclusive=False)
        return _path(index, 0, size, self._range_hash(size))

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        new_size = self._size if new_size is None else new_size
        _check_sizes(old_size, new_size, self._size, inclusive=True)
        if old_size == 0:
            raise ValueError("空树没有一致性证明（旧树大小须大于 0）")
        if old_size == new_size:
            return []
        return _subproof(old_size, 0, new_size, self._range_hash(new_size))
