"""The first entries of the audit log recomputed from their content, for ``dangan verify``.

Why: an inclusion proof is served from the stored subtree table, which a deleted or edited
entry does not change, so a proof alone cannot show that the log is still what was signed.
Verifying a case therefore rebuilds the log's prefix up to the signed head that includes
the case's entry (the head in its receipt, signed in the filing transaction): every leaf
is recomputed from its entry's fields, the entries must be numbered without a gap, and the
rebuilt root must equal the signed root. The rebuilt prefix is kept, so verifying many
cases reads each entry once (``verify --all`` costs one pass over the log).
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.packages.merkle import MemoryStore, MerkleLog, leaf_hash
from dangan.packages.tree_head import TreeHead

from .audit_log import canonical_json, entry_body
from .audit_models import AuditEntryRow


class LogPrefix:
    """A Merkle tree rebuilt from the stored entries, grown on demand (about 150 B/entry)."""

    def __init__(self) -> None:
        self.log = MerkleLog(MemoryStore())
        self.gap: int | None = None  # first index found missing
        self.edited: list[int] = []  # entries whose content does not hash to their leaf

    def grow(self, session: Session, size: int) -> None:
        """Recompute entries up to ``size`` (exclusive); stops at the first missing one."""
        if self.log.size >= size or self.gap is not None:
            return
        e = AuditEntryRow
        rows = session.execute(  # plain tuples: no ORM objects for a pass over the log
            select(e.idx, e.time, e.actor, e.action, e.object_id, e.object_digest, e.details,
                   e.leaf_hash)
            .where(e.idx >= self.log.size, e.idx < size)
            .order_by(e.idx).execution_options(yield_per=5000))
        for idx, time, actor, action, object_id, digest, details, stored in rows:
            if idx != self.log.size:
                self.gap = self.log.size
                return
            try:
                body = entry_body(idx, time, actor, action, object_id, digest, json.loads(details))
                leaf = leaf_hash(canonical_json(body))
            except ValueError:
                leaf = leaf_hash(details.encode("utf-8"))
                self.edited.append(idx)
            else:
                if leaf.hex() != stored:
                    self.edited.append(idx)
            self.log.append(leaf)
        if self.log.size < size:
            self.gap = self.log.size

    def problems(self, session: Session, head: TreeHead, label: str) -> list[str]:
        """Why the stored log's first ``head.size`` entries are not what ``head`` signed."""
        size = head.size
        self.grow(session, size)
        if self.gap is not None and self.gap < size:
            return [f"第 {self.gap} 条审计记录缺失：{label}（{size} 条）之前的日志不完整，记录被删除"
                    "（运行 dangan audit verify 查看全部问题）"]
        edited = [i for i in self.edited if i < size]
        if edited:
            more = f" 等 {len(edited)} 条" if len(edited) > 1 else ""
            return [f"第 {edited[0]} 条审计记录{more}的内容与其叶子哈希不符：记录被修改"
                    "（运行 dangan audit verify 查看全部问题）"]
        if self.log.root(size) != head.root:
            return [f"由前 {size} 条审计记录重算的根哈希与{label}的签名根不符：日志被改写"]
        return []
