"""``dangan audit verify``: recompute the whole audit log and check every signed head.

Why: nothing stored is trusted. Every leaf is recomputed from its entry's fields, the
tree is rebuilt from those leaves (in memory, about 150 bytes per entry), and each
signed head must (a) carry a valid signature by the archive key, (b) match the rebuilt
tree at its size, (c) extend the head before it (consistency proof, RFC 9162) and (d)
when time-stamped, carry an RFC 3161 token over its bytes. A head an inspector saved
earlier (``--against``) must be extended by the current log: a rolled-back or forked
log fails. The stored Merkle subtree table (which serves proofs) is compared node by
node with the rebuilt tree.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.packages.errors import FormatError, SignatureError
from dangan.packages.merkle import EMPTY_ROOT, MemoryStore, MerkleLog, leaf_hash
from dangan.packages.tree_head import SignedTreeHead, TreeHead, verify_extends, verify_tree_head

from . import crosscheck
from .audit_log import ACTIONS, canonical_json, row_body
from .audit_models import AuditEntryRow, AuditHeadRow, AuditSubtree
from .timestamping import TimestampError, tsa_config, verify_timestamp
from .timeutil import utcnow
from .tree_heads import log_id_for

if TYPE_CHECKING:
    from .instance import Archive

MAX_LISTED = 50  # problems of one kind listed individually before summarising
TSA_GRACE_ENV = "DANGAN_TSA_GRACE"  # seconds an unstamped head may wait before it is overdue
TSA_GRACE_DEFAULT = 3600.0


@dataclass
class AuditVerifyReport:
    entries: int = 0
    heads: int = 0
    root_hex: str = EMPTY_ROOT.hex()
    problems: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    against: dict[str, Any] | None = None
    unstamped: int = 0  # heads whose time stamp failed and is still missing
    unstamped_overdue: int = 0  # of those, older than the grace period

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, kind: str, message: str, **where: Any) -> None:
        self.problems.append({"kind": kind, "message": message, **where})

    def warn(self, kind: str, message: str, **where: Any) -> None:
        self.warnings.append({"kind": kind, "message": message, **where})

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "failed",
            "entries": self.entries,
            "heads": self.heads,
            "root_hex": self.root_hex,
            "against": self.against,
            "awaiting_timestamp": self.unstamped,
            "awaiting_timestamp_overdue": self.unstamped_overdue,
            "problems": self.problems,
            "warnings": self.warnings,
        }


def _rebuild(session: Session, report: AuditVerifyReport) -> MerkleLog:
    """Recompute every leaf from its entry and rebuild the tree; report gaps and edits."""
    log = MerkleLog(MemoryStore())
    mismatched: list[tuple[AuditEntryRow, dict[str, Any]]] = []
    expected = 0
    last_time = ""
    rows = session.execute(
        select(AuditEntryRow).order_by(AuditEntryRow.idx).execution_options(yield_per=5000)
    ).scalars()
    for row in rows:
        if row.idx != expected:
            span = f"{expected}" if row.idx == expected + 1 else f"{expected}–{row.idx - 1}"
            report.fail("entry_missing", f"第 {span} 条审计记录缺失（序号不连续：第 {expected - 1} "
                        f"条之后是第 {row.idx} 条）：记录被删除", index=expected)
        expected = row.idx + 1
        try:
            body = row_body(row)
            leaf = leaf_hash(canonical_json(body))
        except ValueError as exc:
            report.fail("entry_unreadable", f"第 {row.idx} 条审计记录无法解析（{exc}）：记录被改动",
                        index=row.idx)
            leaf = leaf_hash(row.details.encode("utf-8"))
            body = {}
        if body and leaf.hex() != row.leaf_hash:
            mismatched.append((row, body))
        if body and body["action"] not in ACTIONS:
            report.warn("entry_action", f"第 {row.idx} 条审计记录的动作 {body['action']} 不在登记的动作表中",
                        index=row.idx)
        if row.time < last_time:
            report.warn("entry_time", f"第 {row.idx} 条审计记录的时间 {row.time} 早于前一条 {last_time}",
                        index=row.idx)
        last_time = max(last_time, row.time)
        log.append(leaf)
    report.entries = log.size
    _explain_mismatches(mismatched, report)
    return log


def _explain_mismatches(
    mismatched: list[tuple[AuditEntryRow, dict[str, Any]]], report: AuditVerifyReport
) -> None:
    """An entry whose content hashes to another position's leaf was moved, else edited."""
    positions = [row.idx for row, _ in mismatched][:1000]
    for n, (row, body) in enumerate(mismatched):
        if n >= MAX_LISTED:
            report.fail("entry_edited", f"另有 {len(mismatched) - n} 条审计记录与其叶子哈希不符")
            break
        moved_from = next(
            (k for k in positions
             if k != row.idx and leaf_hash(canonical_json({**body, "index": k})).hex() == row.leaf_hash),
            None,
        )
        if moved_from is not None:
            report.fail("entry_reordered", f"第 {row.idx} 条审计记录原是第 {moved_from} 条："
                        "记录顺序被调换", index=row.idx, original_index=moved_from)
        else:
            report.fail("entry_edited", f"第 {row.idx} 条审计记录（{row.action} {row.object_id}）"
                        "的内容与其叶子哈希不符：记录被修改", index=row.idx)


def _check_subtrees(session: Session, log: MerkleLog, report: AuditVerifyReport) -> None:
    """Every stored subtree hash must equal the rebuilt one (they serve the proofs)."""
    store = log.store
    assert isinstance(store, MemoryStore)
    expected = {(lv, i) for lv, row in enumerate(store.levels) for i in range(len(row))}
    bad: list[str] = []
    rows = session.execute(
        select(AuditSubtree.level, AuditSubtree.idx, AuditSubtree.hash).execution_options(
            yield_per=10000)
    )
    for level, idx, value in rows:
        want = store.get(level, idx)
        expected.discard((level, idx))
        if want is None:
            bad.append(f"多余节点（层 {level} 序号 {idx}）")
        elif bytes(value) != want:
            bad.append(f"节点不符（层 {level} 序号 {idx}）")
    bad += [f"缺少节点（层 {lv} 序号 {i}）" for lv, i in sorted(expected)]
    if bad:
        shown = "；".join(bad[:10]) + (f" 等 {len(bad)} 处" if len(bad) > 10 else "")
        report.fail("subtrees", f"Merkle 子树表与由记录重算的树不符：{shown}（据此给出的证明不可信）")


def _current_head(log: MerkleLog, log_id: str) -> TreeHead:
    return TreeHead.create(log.size, log.root(), log_id)


def _check_head_against_log(th: TreeHead, log: MerkleLog, label: str,
                            report: AuditVerifyReport, **where: Any) -> bool:
    if th.size > log.size:
        sep = " " if label[-1].isdigit() else ""
        report.fail("head_beyond_log", f"{label}{sep}承诺了 {th.size} 条记录，但日志现在只有 {log.size} "
                    "条：日志被回滚或截断", **where)
        return False
    if th.root != log.root(th.size):
        report.fail("head_root", f"{label}（{th.size} 条）的根哈希与由记录重算的根不符：前 "
                    f"{th.size} 条记录中有被删除、修改或调换的", **where)
        return False
    return True


def _check_heads(session: Session, archive: Archive, log: MerkleLog, public_pem: bytes,
                 report: AuditVerifyReport) -> None:
    config = tsa_config()
    roots = config.roots() if config is not None else []
    unverified_tokens = 0
    prev: tuple[int, TreeHead] | None = None
    expected_id = log_id_for(archive)
    for row in session.scalars(select(AuditHeadRow).order_by(AuditHeadRow.id)):
        report.heads += 1
        label = f"树头 #{row.id}"
        try:
            sth = SignedTreeHead.from_json(row.signed_json.encode("utf-8"))
        except (FormatError, SignatureError) as exc:
            report.fail("head_unreadable", f"{label} 无法解析：{exc}", head=row.id)
            continue
        head = sth.head
        try:
            verify_tree_head(sth, public_pem)
        except SignatureError:
            report.fail("head_signature", f"{label}（{head.size} 条，{head.timestamp}）的签名不是档案馆"
                        f"密钥所签或内容被改动（签名声称密钥 {sth.signature.key_id}）：树头伪造",
                        head=row.id)
            continue
        if (row.size, row.root_hex, row.timestamp) != (head.size, head.root_hex, head.timestamp):
            report.fail("head_columns", f"{label} 的登记字段（大小、根、时间）与其签名内容不符",
                        head=row.id)
        if head.log_id != expected_id:
            report.fail("head_log_id", f"{label} 属于日志 {head.log_id}，不是本日志 {expected_id}",
                        head=row.id)
            continue
        if not _check_head_against_log(head, log, label, report, head=row.id):
            prev = None
            continue
        if prev is not None:
            p_seq, p_head = prev
            proof = log.consistency_proof(p_head.size, head.size) if p_head.size else []
            if head.size < p_head.size:
                report.fail("head_order", f"{label}（{head.size} 条）小于之前的树头 #{p_seq}"
                            f"（{p_head.size} 条）：日志曾被回滚", head=row.id)
            elif not verify_extends(p_head, head, proof):
                report.fail("head_consistency", f"{label} 不是树头 #{p_seq} 的追加延续（时间倒退或"
                            "一致性证明不成立）", head=row.id)
        prev = (row.id, head)
        if row.tsa_token is not None:
            try:
                verify_timestamp(row.tsa_token, head.canonical_bytes(), roots)
                if not roots:
                    unverified_tokens += 1
            except TimestampError as exc:
                report.fail("head_timestamp", f"{label} 的 RFC 3161 时间戳无效：{exc.message}",
                            head=row.id)
        elif row.tsa_error:
            _count_unstamped(report, label, head, row.id, row.tsa_error)
    if unverified_tokens:
        report.warn("tsa_roots", f"未配置 DANGAN_TSA_CERT：{unverified_tokens} 个时间戳只核对了摘要，"
                    "未验证 TSA 签名与证书链")


def _grace() -> float:
    try:
        return float(os.environ.get(TSA_GRACE_ENV, TSA_GRACE_DEFAULT))
    except ValueError:
        return TSA_GRACE_DEFAULT


def _count_unstamped(report: AuditVerifyReport, label: str, head: TreeHead, seq: int,
                     error: str) -> None:
    """A head whose stamp failed awaits one (retried by sign-head): counted, warned, never
    failed — its signature and consistency are proven all the same; only the external
    anchor is missing. Past the grace period it is overdue: the TSA has been failing."""
    report.unstamped += 1
    age = (utcnow() - head.time).total_seconds()
    overdue = age > _grace()
    report.unstamped_overdue += overdue
    when = f"已等待 {age / 3600:.1f} 小时，超过宽限期" if overdue else "等待重试"
    report.warn("head_unanchored", f"{label} 尚未取得时间戳（{when}）：{error}", head=seq,
                overdue=overdue)


def _check_against(saved: SignedTreeHead, archive: Archive, log: MerkleLog, public_pem: bytes,
                   report: AuditVerifyReport) -> None:
    head = saved.head
    label = f"检查人保存的树头（{head.size} 条，{head.timestamp}）"
    report.against = {"size": head.size, "root_hex": head.root_hex, "timestamp": head.timestamp,
                      "extended": False}
    try:
        verify_tree_head(saved, public_pem)
    except SignatureError:
        report.fail("against_signature", f"{label}的签名不是档案馆密钥所签：无法以它为准")
        return
    if head.log_id != log_id_for(archive):
        report.fail("against_log_id", f"{label}属于日志 {head.log_id}，不是本日志")
        return
    if not _check_head_against_log(head, log, label, report):
        return
    current = _current_head(log, head.log_id)
    proof = log.consistency_proof(head.size, log.size) if head.size else []
    if not verify_extends(head, current, proof):
        report.fail("against_consistency", f"当前日志不是{label}的追加延续")
        return
    report.against.update(extended=True, current_size=log.size,
                          consistency_proof=[p.hex() for p in proof])


def verify_audit_log(
    session: Session,
    archive: Archive,
    public_pem: bytes,
    against: SignedTreeHead | None = None,
) -> AuditVerifyReport:
    """Recompute the log, check the subtree table, every stored head and ``against``."""
    report = AuditVerifyReport()
    log = _rebuild(session, report)
    report.root_hex = log.root().hex()
    _check_subtrees(session, log, report)
    _check_heads(session, archive, log, public_pem, report)
    for p in crosscheck.check_log(session):  # each aip:file entry has its record, and back
        report.fail(p.kind, p.message, index=p.audit_index, aip_id=p.aip_id,
                    archival_code=p.archival_code)
    if report.heads == 0 and log.size:
        report.warn("no_heads", "日志尚无签名树头：请运行 dangan audit sign-head")
    if against is not None:
        _check_against(against, archive, log, public_pem, report)
    return report


def load_saved_head(raw: bytes) -> SignedTreeHead:
    """A head as an inspector saved it: signed form, a ``heads.jsonl`` line or a heads list."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"树头文件不是 UTF-8 JSON：{exc}") from exc
    if isinstance(data, list) and data:
        data = data[-1]  # a saved ``audit heads --json`` list: its newest head
    if isinstance(data, dict):
        data = {k: data[k] for k in ("tree_head", "signature") if k in data}
    return SignedTreeHead.from_dict(data)
