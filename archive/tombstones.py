"""Tombstones: what remains of an AIP the archive lawfully gave up (destroyed or transferred).

Why in archive/: the cross-check and ``dangan verify`` (this layer) must tell a lawful
removal from a vanished copy, while the retention domain above writes the rows. A
tombstone keeps the facts an inspector needs — archival code, case link, the AIP digest,
the appraisal and approvals, time, method, supervisors — and the index of its
``aip:destroy`` entry in the audit log, which vouches for it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .audit_models import AuditEntryRow
from .models import Base, UTCDateTime

REMOVAL_KINDS = {"destroyed": "已依法销毁", "transferred": "已移交"}


class Tombstone(Base):
    __tablename__ = "tombstones"

    aip_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # destroyed | transferred
    archival_code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source_system: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text)
    year: Mapped[int] = mapped_column(Integer)
    retention: Mapped[str] = mapped_column(String(8))
    aip_sha256: Mapped[str] = mapped_column(String(64))
    case_sha256: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int] = mapped_column(Integer, index=True)
    appraisal_id: Mapped[int] = mapped_column(Integer)
    register_ref: Mapped[str] = mapped_column(String(64))  # 销毁清册编号
    method: Mapped[str] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)  # appraisal, approvals, supervisors
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    audit_index: Mapped[int] = mapped_column(BigInteger)


def get(session: Session, aip_id: str) -> Tombstone | None:
    return session.get(Tombstone, aip_id)


def find(session: Session, ref: str) -> list[Tombstone]:
    """Tombstones named by an AIP id, an archival code, a case id or ``SYSTEM/CASE_ID``."""
    system, _, case_id = ref.rpartition("/")
    cond = or_(Tombstone.aip_id == ref, Tombstone.archival_code == ref,
               Tombstone.case_id == (case_id if system else ref))
    rows = list(session.scalars(select(Tombstone).where(cond).order_by(Tombstone.version)))
    return [t for t in rows if not system or t.source_system == system or t.aip_id == ref
            or t.archival_code == ref]


REGISTER_ACTION = "destruction:register"


def register_of(session: Session, register_ref: str) -> dict[str, Any] | None:
    """The filed register (销毁清册) named by ``register_ref``: its archival code, AIP and the
    index of the ``destruction:register`` audit entry that links them, or None while the
    register is not filed yet. The link lives in the audit log, not in a table, so it is as
    tamper-evident as the destruction itself."""
    row = session.scalar(select(AuditEntryRow).where(
        AuditEntryRow.action == REGISTER_ACTION, AuditEntryRow.object_id == register_ref)
        .order_by(AuditEntryRow.idx).limit(1))
    if row is None:
        return None
    details = json.loads(row.details)
    return {**details, "audit_index": row.idx, "aip_sha256": row.object_digest}


def removal_note(stone: Tombstone) -> str:
    """What a transfer tombstone adds to "已移交": the receiver and its signed receipt."""
    if stone.kind != "transferred":
        return ""
    f = stone.facts or {}
    who = (f.get("receiver") or {}).get("organization") or f.get("receiver_name")
    return (f"，接收单位 {who}（密钥指纹 {str(f.get('receiver_fingerprint'))[:16]}…），接收回执 "
            f"SHA-256 {f.get('receipt_sha256')}，接收方审计日志第 {f.get('receipt_audit_index')} 条")
