"""The audit log (审计日志): one append-only, Merkle-hashed record of every state change.

Why: inspectors must be able to prove that nothing was silently removed or rewritten
without trusting the database. Each entry is a leaf of an RFC 6962 Merkle tree
(``dangan.packages.merkle``); signed tree heads (``tree_heads``) commit to the whole
log, and ``dangan audit verify`` recomputes everything from the entries.

Leaf bytes (what is hashed as ``H(0x00 || leaf)``), exactly: the UTF-8 of the JSON object

    {"action": <tag>, "actor": <str>, "details": <object>, "index": <int>,
     "object_digest": <lowercase hex or null>, "object_id": <str>,
     "time": <UTC ISO 8601, microseconds, "Z">, "type": "dangan-audit-entry/v1"}

with keys sorted at every level, separators "," and ":" (no spaces), non-ASCII kept as
UTF-8 (not \\u-escaped), NaN/Infinity refused. ``index`` binds each entry to its place,
so a swapped or renumbered entry no longer matches its leaf.

Appends run inside the caller's transaction (the catalogue rows of an ingest and its
log entry commit together or not at all) and only inside the serialised filing window
(``Database.filing_session()``), which keeps the index gap-free across processes. For a
standalone event use ``record(db, ...)``, which opens that window itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dangan.packages.canonical import canonical_json
from dangan.packages.merkle import MerkleLog, MerkleStoreError, leaf_hash
from dangan.packages.tree_head import utc_timestamp

from .audit_models import AuditEntryRow, AuditSubtree
from .db import Database
from .errors import ArchiveError

ENTRY_TYPE = "dangan-audit-entry/v1"

# Append refuses any other tag, so this lists what the archive writes (or an area of it
# being built, e.g. holds, appraisal, destruction) and a new kind of event adds its tag
# here. A tag is never renamed: logged entries keep it forever.
ACTIONS: dict[str, str] = {
    "aip:file": "归档入库",
    "aip:reject": "拒收",
    "aip:access": "利用（访问内容）",
    "aip:export": "导出",
    "hold:place": "冻结（保全）",
    "hold:lift": "解除冻结",
    "appraisal:propose": "鉴定提议",
    "appraisal:opinion": "鉴定小组意见",
    "appraisal:decide": "鉴定决定",
    "destruction:approve": "销毁：单位负责人批准",
    "destruction:file": "销毁：报人社部门备案",
    "aip:destroy": "销毁",
    "destruction:complete": "销毁完成",
    "destruction:register": "销毁清册归档",
    "aip:transfer": "移交（保管权转移）",
    "transfer:create": "移交：制作移交包",
    "transfer:receive": "移交：接收",
    "transfer:confirm": "移交：凭接收回执确认",
    "transfer:complete": "移交完成",
    "transfer:cancel": "移交撤销（未接收的移交包）",
    "key:create": "创建密钥",
    "trust:add": "登记信任密钥",
    "trust:revoke": "吊销信任密钥",
    "user:create": "创建用户",
    "user:disable": "停用用户",
    "user:enable": "启用用户",
    "user:lock": "锁定用户",
    "user:unlock": "解锁用户",
    "user:password": "重置口令",
    "user:totp": "动态口令登记或重置",
    "user:signin": "登录",
    "user:signin-fail": "登录失败",
    "role:grant": "授予角色",
    "role:revoke": "撤销角色",
    "fixity:audit": "固定性检查",
    "replica:repair": "副本修复",
    "replica:write": "写入副本",
    "api:token": "API 令牌签发与撤销",
    "access:request": "查阅申请",
    "access:approve": "批准查阅申请",
    "access:refuse": "拒绝查阅申请",
}

_HEX_DIGEST = re.compile(r"[0-9a-f]{32,128}")
_STATE_KEY = "dangan.audit_log.state"


class AuditLogError(ArchiveError):
    code = "archive.audit"


@dataclass(frozen=True)
class AuditEntry:
    index: int
    time: str
    actor: str
    action: str
    object_id: str
    object_digest: str | None
    details: dict[str, Any]
    leaf_hash: bytes

    def body(self) -> dict[str, Any]:
        """The hashed object (see the module docstring)."""
        return entry_body(self.index, self.time, self.actor, self.action, self.object_id,
                          self.object_digest, self.details)

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.body())

    def to_dict(self) -> dict[str, Any]:
        return {**self.body(), "leaf_hash": self.leaf_hash.hex()}


def entry_body(
    index: int, time: str, actor: str, action: str, object_id: str,
    object_digest: str | None, details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "action": action,
        "actor": actor,
        "details": details,
        "index": index,
        "object_digest": object_digest,
        "object_id": object_id,
        "time": time,
        "type": ENTRY_TYPE,
    }


def entry_leaf_hash(body: dict[str, Any]) -> bytes:
    """Leaf hash of an entry given as its JSON object (as ``AuditEntry.body()``)."""
    return leaf_hash(canonical_json({k: v for k, v in body.items() if k != "leaf_hash"}))


def row_body(row: AuditEntryRow) -> dict[str, Any]:
    """The hashed object of a stored row; raises ``ValueError`` if its details are not JSON."""
    details = json.loads(row.details)
    return entry_body(row.idx, row.time, row.actor, row.action, row.object_id,
                      row.object_digest, details)


def _to_entry(row: AuditEntryRow) -> AuditEntry:
    try:
        details = json.loads(row.details)
    except ValueError as exc:
        raise AuditLogError(f"第 {row.idx} 条审计记录的 details 不是 JSON：{exc}") from exc
    return AuditEntry(row.idx, row.time, row.actor, row.action, row.object_id,
                      row.object_digest, details, bytes.fromhex(row.leaf_hash))


class SqlSubtreeStore:
    """``SubtreeStore`` over ``audit_subtrees``; puts are buffered and written in one batch.

    ``MerkleLog.append`` puts the leaf and each subtree it completes; ``flush`` writes
    them with one multi-row INSERT in the caller's transaction. A stored hash is never
    rewritten: the primary key refuses a second row for the same node.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.pending: dict[tuple[int, int], bytes] = {}

    def get(self, level: int, index: int) -> bytes | None:
        value = self.pending.get((level, index))
        if value is not None:
            return value
        t = AuditSubtree.__table__
        return self.session.connection().execute(
            select(t.c.hash).where(t.c.level == level, t.c.idx == index)
        ).scalar_one_or_none()

    def put(self, level: int, index: int, value: bytes) -> None:
        self.pending[(level, index)] = bytes(value)

    def flush(self) -> None:
        if self.pending:
            rows = [{"level": lv, "idx": i, "hash": h} for (lv, i), h in self.pending.items()]
            self.session.connection().execute(insert(AuditSubtree.__table__), rows)
            self.pending.clear()


def _forget_on_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_STATE_KEY, None)


# Attached to each archive's own session factories by the composition root.
SESSION_EVENTS: tuple[tuple[str, Any], ...] = (("after_soft_rollback", _forget_on_rollback),)


def _stored_size(session: Session) -> int:
    last = session.execute(select(func.max(AuditEntryRow.idx))).scalar_one_or_none()
    return 0 if last is None else int(last) + 1


def _log(session: Session) -> MerkleLog:
    """The Merkle log as seen by this transaction (cached for the transaction)."""
    tx = session.get_transaction()
    cached = session.info.get(_STATE_KEY)
    if cached is not None and tx is not None and cached[0] is tx:
        return cached[1]
    size = _stored_size(session)
    try:
        log = MerkleLog(SqlSubtreeStore(session), size=size)
    except MerkleStoreError as exc:
        raise AuditLogError(
            f"审计日志的 Merkle 子树表与记录表不一致（{exc}）：请运行 dangan audit verify 查明"
        ) from exc
    if tx is not None:
        session.info[_STATE_KEY] = (tx, log)
    return log


def require_filing_window(session: Session, what: str = "追加审计记录") -> None:
    """Refuse unless ``session`` holds the filing lock (keeps indexes gap-free, heads ordered)."""
    if not session.connection().get_execution_options().get("filing_lock", False):
        raise AuditLogError(
            f"{what}须在归档窗口内进行（Database.filing_session()），否则并发写入会冲突；"
            "单独的事件请用 audit_log.record(db, ...)"
        )


def _normalise(actor: str, action: str, object_id: str, object_digest: str | None,
               details: dict[str, Any] | None) -> dict[str, Any]:
    problems = []
    if action not in ACTIONS:
        problems.append({"field": "action", "expected": "、".join(ACTIONS), "found": action})
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 128:
        problems.append({"field": "actor", "expected": "1-128 个字符", "found": repr(actor)})
    if not isinstance(object_id, str) or not object_id:
        problems.append({"field": "object_id", "expected": "非空字符串", "found": repr(object_id)})
    if object_digest is not None and not (
        isinstance(object_digest, str) and _HEX_DIGEST.fullmatch(object_digest)
    ):
        problems.append({"field": "object_digest", "expected": "小写十六进制摘要或 null",
                         "found": repr(object_digest)})
    try:
        text = canonical_json({} if details is None else details).decode("utf-8")
        normal = json.loads(text)
    except (TypeError, ValueError) as exc:
        problems.append({"field": "details", "expected": "可 JSON 序列化的对象", "found": str(exc)})
        normal = None
    if normal is not None and not isinstance(normal, dict):
        problems.append({"field": "details", "expected": "JSON 对象", "found": type(normal).__name__})
    if problems:
        raise AuditLogError("审计记录字段无效：" + "、".join(p["field"] for p in problems), problems)
    return normal  # type: ignore[return-value]


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    object_id: str,
    object_digest: str | None,
    details: dict[str, Any] | None = None,
    when: datetime | None = None,
) -> AuditEntry:
    """Append one entry in the caller's filing-window transaction; return it with its index.

    Nothing is committed here: the entry commits or rolls back with the caller's rows.
    """
    require_filing_window(session)
    normal = _normalise(actor, action, object_id, object_digest, details)
    log = _log(session)
    index = log.size
    time = utc_timestamp(when)
    body = entry_body(index, time, actor, action, object_id, object_digest, normal)
    leaf = leaf_hash(canonical_json(body))
    session.connection().execute(
        insert(AuditEntryRow.__table__),
        [{"idx": index, "time": time, "actor": actor, "action": action, "object_id": object_id,
          "object_digest": object_digest, "details": canonical_json(normal).decode("utf-8"),
          "leaf_hash": leaf.hex()}],
    )
    store = log.store
    try:
        log.append(leaf)
    finally:
        assert isinstance(store, SqlSubtreeStore)
        store.flush()
    return AuditEntry(index, time, actor, action, object_id, object_digest, normal, leaf)


def record(
    db: Database,
    *,
    actor: str,
    action: str,
    object_id: str,
    object_digest: str | None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append a standalone event in its own filing-window transaction, committed on return."""
    with db.filing_session() as session:
        return append(session, actor=actor, action=action, object_id=object_id,
                      object_digest=object_digest, details=details)


def tree_size(session: Session) -> int:
    return _log(session).size


def _guard(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ValueError as exc:
        raise AuditLogError(str(exc)) from exc
    except MerkleStoreError as exc:
        raise AuditLogError(
            f"审计日志的 Merkle 子树表缺少数据（{exc}）：请运行 dangan audit verify 查明"
        ) from exc


def root(session: Session, size: int | None = None) -> bytes:
    """Merkle root of the first ``size`` entries (default all); O(log n) reads."""
    return _guard(_log(session).root, size)


def inclusion_proof(session: Session, index: int, size: int | None = None) -> list[bytes]:
    """Audit path of entry ``index`` in the tree of ``size`` entries (default all)."""
    return _guard(_log(session).inclusion_proof, index, size)


def consistency_proof(session: Session, old: int, new: int | None = None) -> list[bytes]:
    """Proof that the tree of ``old`` entries is a prefix of the tree of ``new`` entries."""
    return _guard(_log(session).consistency_proof, old, new)


def entries(session: Session, start: int = 0, stop: int | None = None) -> list[AuditEntry]:
    """Entries with ``start <= index < stop`` in index order."""
    q = select(AuditEntryRow).where(AuditEntryRow.idx >= start).order_by(AuditEntryRow.idx)
    if stop is not None:
        q = q.where(AuditEntryRow.idx < stop)
    return [_to_entry(r) for r in session.scalars(q)]


def find_entries(
    session: Session, *, object_id: str | None = None, action: str | None = None
) -> list[AuditEntry]:
    """Entries about ``object_id`` and/or with ``action``, in index order."""
    q = select(AuditEntryRow).order_by(AuditEntryRow.idx)
    if object_id is not None:
        q = q.where(AuditEntryRow.object_id == object_id)
    if action is not None:
        q = q.where(AuditEntryRow.action == action)
    return [_to_entry(r) for r in session.scalars(q)]
