"""Destruction (销毁): approved, unheld, due items, after approval and 备案, with supervisors.

Rules (人社部/国家档案局令第3号 §§20–22; GB/T 31599 7.6; standards.md §7): only the
items of an approved *destroy* appraisal; the agency principal's approval and the filing
(备案) with the HRSS department are recorded first (who, when, document number); at least
two supervisors (监销人) — users, distinct, none of whom proposed, judged or approved —
are named when it is executed. Every copy goes (primary store, replica, index entry,
extracted/OCR text, outbox rows, the catalogue record with its parties) and a tombstone
remains, vouched for by its ``aip:destroy`` audit entry.

Crash safety: ``execute`` first commits the intent (batch state ``executing``, each item
``planned``); then each item's copies are removed (idempotent: an absent tree or index
entry is no work) and the tombstone, the audit entry, the catalogue deletion and the item
state ``destroyed`` are committed together. ``resume`` redoes what an interrupted run
left; it runs before every retention command that writes (and ``--resume``), when
``dangan serve`` and a worker start. A completed batch then has its register (销毁清册)
filed into the archive (``register.complete``); the filing function comes from the caller
because ``retention`` does not import ``ingest``.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from dangan.archive import audit_log, failpoints, tombstones
from dangan.archive.instance import Archive
from dangan.archive.models import Followup, Item, ItemEvent, ItemFile, Party
from dangan.archive.timeutil import iso, utcnow
from dangan.archive.tombstones import Tombstone
from dangan.search.feed import service_for

from . import register, roles
from .appraisal import _problems, _refuse, today
from .errors import (
    AlreadyInBatch,
    AppraisalClosed,
    ApprovalsMissing,
    NotApprovedForDestruction,
    NotFound,
    RetentionInputError,
    SelfApproval,
    SupervisorsRefused,
)
from .models import APPROVAL_KINDS, Appraisal, DestructionBatch, DestructionItem
from .removal import remove_copies

MIN_SUPERVISORS = 2
CHUNK = 500  # items per tombstone transaction and per index commit
APPROVAL_TAGS = {"principal": "destruction:approve", "filing": "destruction:file"}
SYSTEM_ACTOR = "system:destruction"


@dataclass
class DestructionView:
    id: int
    appraisal_id: int
    state: str
    register_ref: str
    approvals: dict[str, Any]
    supervisors: list[str] | None
    method: str | None
    items: list[dict[str, Any]]
    opened_at: str
    completed_at: str | None
    register: dict[str, Any] | None = None  # the filed 销毁清册: archival code, AIP


    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _view(b: DestructionBatch, session: Session | None = None) -> DestructionView:
    filed = tombstones.register_of(session, b.register_ref) if session is not None else None
    return DestructionView(register=filed,
        id=b.id, appraisal_id=b.appraisal_id, state=b.state, register_ref=b.register_ref,
        approvals=dict(b.approvals or {}), supervisors=b.supervisors, method=b.method,
        items=[{"aip_id": i.aip_id, "step": i.step} for i in b.items],
        opened_at=iso(b.opened_at), completed_at=iso(b.completed_at) if b.completed_at else None)


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(audit_log.canonical_json(record)).hexdigest()


def _appraisal(session: Session, appraisal_id: int) -> Appraisal:
    a = session.get(Appraisal, appraisal_id)
    if a is None:
        raise NotFound(f"没有编号为 {appraisal_id} 的鉴定", [{"appraisal": appraisal_id}])
    if a.action != "destroy" or a.state != "approved":
        raise NotApprovedForDestruction(
            f"鉴定 {appraisal_id} 不是已通过的销毁鉴定（{a.action}，{a.state}），不能据以销毁",
            [{"appraisal": appraisal_id, "action": a.action, "state": a.state}])
    return a


def _batch_of(session: Session, appraisal_id: int) -> DestructionBatch | None:
    return session.scalar(select(DestructionBatch)
                          .where(DestructionBatch.appraisal_id == appraisal_id))


def _participants(a: Appraisal) -> dict[str, str]:
    """Login → the role it already holds in this decision."""
    out = {a.proposed_by: "提议人"}
    for o in a.opinions:
        out.setdefault(o.member, "鉴定小组成员")
    return out


def record_approval(archive: Archive, appraisal_id: int, *, kind: str, approver: str,
                    document_no: str, approved_on: date, actor: str) -> DestructionView:
    """Record the principal's approval or the 备案 with the HRSS department.

    The first one opens the destruction batch and claims its items, so an item already
    claimed by another batch is refused here, before anything is recorded.
    """
    if kind not in APPROVAL_KINDS:
        raise RetentionInputError(f"审批类别应为 {'/'.join(APPROVAL_KINDS)} 之一")
    approver, document_no = (approver or "").strip(), (document_no or "").strip()
    if not approver or not document_no:
        raise RetentionInputError("须写明批准人（或备案机关）和文号（--by、--document-no）")
    with archive.db.filing_session() as s:
        actor = roles.require(s, actor, "retention.propose")
        a = _appraisal(s, appraisal_id)
        taken = _participants(a)
        if kind == "principal" and roles.login_of(approver) in taken:
            raise SelfApproval(f"{approver} 已是鉴定 {a.id} 的{taken[roles.login_of(approver)]}，"
                               "不能再批准同一销毁", [{"approver": approver}])
        batch = _batch_of(s, a.id)
        if batch is None:
            ids = [i.aip_id for i in a.items]
            claimed = dict(s.execute(select(DestructionItem.aip_id, DestructionItem.batch_id)
                                     .where(DestructionItem.aip_id.in_(ids))).all())
            if claimed:
                raise AlreadyInBatch(
                    f"{len(claimed)} 件档案已列入其他销毁批次（"
                    + "、".join(f"{k}→第 {v} 批" for k, v in sorted(claimed.items())) + "）",
                    [{"aip_id": k, "batch": v} for k, v in sorted(claimed.items())])
            now = utcnow()
            batch = DestructionBatch(appraisal_id=a.id, state="approving", register_ref="",
                                     approvals={}, opened_by=actor, opened_at=now)
            batch.items = [DestructionItem(aip_id=i, step="planned") for i in ids]
            s.add(batch)
            s.flush()
            batch.register_ref = f"XHQC-{now.year}-{batch.id:04d}"  # 销毁清册编号
        if batch.state != "approving":
            raise AppraisalClosed(f"销毁批次 {batch.id} 已开始执行，不能再记录审批")
        if kind in (batch.approvals or {}):
            raise RetentionInputError(f"销毁批次 {batch.id} 已记录{APPROVAL_KINDS[kind]}")
        facts = {"kind": kind, "name": APPROVAL_KINDS[kind], "approver": approver,
                 "document_no": document_no, "approved_on": approved_on.isoformat(),
                 "recorded_by": actor, "recorded_at": iso(utcnow())}
        entry = audit_log.append(
            s, actor=actor, action=APPROVAL_TAGS[kind], object_id=f"destruction:{batch.id}",
            object_digest=_digest(facts),
            details={**facts, "batch": batch.id, "appraisal_id": a.id,
                     "register_ref": batch.register_ref,
                     "items": [i.aip_id for i in batch.items]})
        batch.approvals = {**(batch.approvals or {}), kind: {**facts,
                                                             "audit_index": entry.index}}
        return _view(batch)


def execute(archive: Archive, batch_id: int, *, supervisors: list[str], method: str,
            actor: str, file_register: register.RegisterFiler,
            as_of: date | None = None) -> DestructionView:
    """Check everything, commit the intent, destroy every copy of every item, then file
    the register."""
    method = (method or "").strip()
    if not method:
        raise RetentionInputError("须写明销毁方式（--method）")
    day = as_of or today()
    with archive.db.filing_session() as s:
        actor = roles.require(s, actor, "retention.propose")
        batch = s.get(DestructionBatch, batch_id)
        if batch is None:
            raise NotFound(f"没有编号为 {batch_id} 的销毁批次", [{"batch": batch_id}])
        if batch.state != "approving":
            done = "执行完毕" if batch.state == "complete" else "开始执行（用 --resume 完成）"
            raise AppraisalClosed(f"销毁批次 {batch.id} 已{done}")
        missing = [APPROVAL_KINDS[k] for k in APPROVAL_KINDS if k not in (batch.approvals or {})]
        if missing:
            raise ApprovalsMissing(f"销毁批次 {batch.id} 尚缺{'、'.join(missing)}，不能销毁",
                                   [{"missing": k} for k in APPROVAL_KINDS
                                    if k not in (batch.approvals or {})])
        a = _appraisal(s, batch.appraisal_id)
        names = [roles.login_of(x.strip()) for x in supervisors if x.strip()]
        taken = _participants(a) | {roles.login_of(batch.approvals["principal"]["approver"]):
                                    "批准人"}
        if len(set(names)) < MIN_SUPERVISORS or len(set(names)) != len(names):
            raise SupervisorsRefused(f"须指定至少 {MIN_SUPERVISORS} 名不同的监销人（--supervisor）")
        for n in names:
            if n in taken:
                raise SupervisorsRefused(f"{n} 已是鉴定 {a.id} 的{taken[n]}，不能再担任监销人",
                                         [{"supervisor": n}])
            roles.require_user(s, n)
        items = list(s.scalars(select(Item).where(
            Item.aip_id.in_([i.aip_id for i in batch.items])).order_by(Item.aip_id)))
        if len(items) != len(batch.items):
            raise NotApprovedForDestruction(f"销毁批次 {batch.id} 中有档案已不在目录中")
        _refuse(_problems(s, items, "destroy", day, appraisal_id=a.id))
        batch.state, batch.supervisors, batch.method = "executing", names, method
        batch.executed_by, batch.started_at = actor, utcnow()
    failpoints.reach("destroy.after_intent")
    _run(archive, batch_id)
    register.complete(archive, file_register)
    with archive.db.session() as s:
        return get(s, batch_id)


def _shared_facts(batch: DestructionBatch, a: Appraisal) -> dict[str, Any]:
    """The facts every tombstone of the batch carries (computed once per chunk)."""
    return {
        "appraisal": {"id": a.id, "record_sha256": _digest(a.decision_record or {}),
                      "conclusion": a.conclusion, "proposed_by": a.proposed_by,
                      "members": [o.member for o in a.opinions], "decided_by": a.decided_by,
                      "decided_at": iso(a.decided_at) if a.decided_at else None},
        "approvals": batch.approvals, "supervisors": batch.supervisors,
        "executed_by": batch.executed_by,
    }


def _bury(s: Session, batch: DestructionBatch, a: Appraisal, aip_ids: list[str]) -> None:
    """Tombstones + one ``aip:destroy`` each + catalogue deletion, in the caller's
    transaction; rows are written and deleted in bulk for the whole chunk."""
    shared, now, stones = _shared_facts(batch, a), utcnow(), []
    cols = (Item.aip_id, Item.archival_code, Item.version, Item.source_system, Item.case_id,
            Item.title, Item.year, Item.retention, Item.aip_sha256, Item.case_sha256,
            Item.agency_code, Item.agency_name)
    rows = {r.aip_id: r for r in s.execute(select(*cols).where(Item.aip_id.in_(aip_ids)))}
    for aip_id in aip_ids:
        item = rows[aip_id]
        facts = {**shared, "agency": {"code": item.agency_code, "name": item.agency_name}}
        entry = audit_log.append(
            s, actor=batch.executed_by or SYSTEM_ACTOR, action="aip:destroy",
            object_id=item.aip_id, object_digest=item.aip_sha256,
            details={"aip_id": item.aip_id, "archival_code": item.archival_code,
                     "source_system": item.source_system, "case_id": item.case_id,
                     "aip_sha256": item.aip_sha256, "batch": batch.id,
                     "register_ref": batch.register_ref, "method": batch.method, **facts})
        stones.append({
            "aip_id": item.aip_id, "kind": "destroyed", "archival_code": item.archival_code,
            "version": item.version, "source_system": item.source_system,
            "case_id": item.case_id, "title": item.title, "year": item.year,
            "retention": item.retention, "aip_sha256": item.aip_sha256,
            "case_sha256": item.case_sha256, "batch_id": batch.id, "appraisal_id": a.id,
            "register_ref": batch.register_ref, "method": batch.method or "", "facts": facts,
            "removed_at": now, "audit_index": entry.index})
    s.execute(insert(Tombstone), stones)
    for table in (Party, ItemFile, ItemEvent, Followup, Item):
        s.execute(delete(table).where(table.aip_id.in_(aip_ids)))
    s.execute(update(DestructionItem).where(DestructionItem.aip_id.in_(aip_ids))
              .values(step="destroyed"))


def _run(archive: Archive, batch_id: int) -> DestructionView:
    search = service_for(archive)
    while True:
        with archive.db.session() as s:
            todo = list(s.scalars(select(DestructionItem.aip_id).where(
                DestructionItem.batch_id == batch_id, DestructionItem.step != "destroyed")
                .order_by(DestructionItem.id).limit(CHUNK)))
        if not todo:
            break
        remove_copies(archive, todo, search, failpoint="destroy")
        with archive.db.filing_session() as s:
            batch = s.get(DestructionBatch, batch_id)
            assert batch is not None
            a = s.get(Appraisal, batch.appraisal_id)
            assert a is not None
            left = list(s.scalars(select(DestructionItem.aip_id).where(
                DestructionItem.aip_id.in_(todo), DestructionItem.step != "destroyed")
                .order_by(DestructionItem.id)))  # a concurrent resumer may have done some
            if left:
                _bury(s, batch, a, left)
            failpoints.reach("destroy.before_tombstone_commit")
    with archive.db.filing_session() as s:
        batch = s.get(DestructionBatch, batch_id)
        assert batch is not None
        if batch.state == "executing":
            batch.state, batch.completed_at = "complete", utcnow()
            record = {"batch": batch.id, "appraisal_id": batch.appraisal_id,
                      "register_ref": batch.register_ref, "approvals": batch.approvals,
                      "supervisors": batch.supervisors, "method": batch.method,
                      "executed_by": batch.executed_by, "completed_at": iso(batch.completed_at),
                      "items": [i.aip_id for i in batch.items]}
            audit_log.append(s, actor=batch.executed_by or SYSTEM_ACTOR,
                             action="destruction:complete", object_id=f"destruction:{batch.id}",
                             object_digest=_digest(record), details=record)
        return _view(batch)


def resume(archive: Archive, file_register: register.RegisterFiler) -> list[DestructionView]:
    """Complete every destruction an interrupted run left in state ``executing``, then
    file every register still missing (an interruption after the last tombstone)."""
    with archive.db.session() as s:
        ids = list(s.scalars(select(DestructionBatch.id)
                             .where(DestructionBatch.state == "executing")))
    for i in ids:
        _run(archive, i)
    filed = register.complete(archive, file_register)
    with archive.db.session() as s:
        done = set(ids) | {f["batch"] for f in filed}
        return [get(s, i) for i in sorted(done)]


def get(session: Session, batch_id: int) -> DestructionView:
    batch = session.get(DestructionBatch, batch_id)
    if batch is None:
        raise NotFound(f"没有编号为 {batch_id} 的销毁批次", [{"batch": batch_id}])
    return _view(batch, session)


__all__ = ["DestructionView", "execute", "get", "record_approval", "resume"]
