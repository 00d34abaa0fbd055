"""Retention tables: holds (冻结) and appraisals (鉴定) with their items and opinions.

They share the catalogue's metadata (``archive.models.Base``) so one Alembic history
covers every table. Nothing here copies a flag onto items: whether an item is held is
computed at query time from the active holds and the catalogue's parties, so an item
filed after a person or unit hold is held from its first moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dangan.archive.models import Base, UTCDateTime

HOLD_KINDS = {"legal": "法律冻结", "audit": "稽核冻结", "dispute": "争议冻结"}
HOLD_SCOPES = {"item": "件", "case": "办件（全部版本）", "person": "个人（身份证号）",
               "unit": "单位（统一社会信用代码）"}
APPRAISAL_ACTIONS = {"destroy": "销毁", "extend": "延长保管期限", "transfer": "移交"}
APPRAISAL_STATES = {"open": "鉴定中", "approved": "鉴定通过", "rejected": "鉴定未通过"}
OPINIONS = {"agree": "同意", "disagree": "不同意"}


class Hold(Base):
    """One hold on an item, a case, a person or a unit; active while ``lifted_at`` is NULL."""

    __tablename__ = "retention_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(128))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place_audit_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    lifted_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lift_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    lift_audit_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Appraisal(Base):
    """A proposal (destroy / keep longer / transfer) and, once decided, its 鉴定意见."""

    __tablename__ = "retention_appraisals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(16))
    new_retention: Mapped[str | None] = mapped_column(String(8), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True, default="open")
    proposed_by: Mapped[str] = mapped_column(String(128))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    conclusion: Mapped[str | None] = mapped_column(Text, nullable=True)  # 鉴定意见
    decision_record: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    items: Mapped[list[AppraisalItem]] = relationship(
        back_populates="appraisal", order_by="AppraisalItem.id", cascade="all, delete-orphan"
    )
    opinions: Mapped[list[AppraisalOpinion]] = relationship(
        back_populates="appraisal", order_by="AppraisalOpinion.id", cascade="all, delete-orphan"
    )


class AppraisalItem(Base):
    __tablename__ = "retention_appraisal_items"
    __table_args__ = (UniqueConstraint("appraisal_id", "aip_id", name="uq_appraisal_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("retention_appraisals.id"), index=True)
    aip_id: Mapped[str] = mapped_column(String(40), index=True)
    due_on_before: Mapped[str | None] = mapped_column(String(10), nullable=True)

    appraisal: Mapped[Appraisal] = relationship(back_populates="items")


class AppraisalOpinion(Base):
    __tablename__ = "retention_appraisal_opinions"
    __table_args__ = (UniqueConstraint("appraisal_id", "member", name="uq_appraisal_member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("retention_appraisals.id"), index=True)
    member: Mapped[str] = mapped_column(String(128))
    opinion: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    appraisal: Mapped[Appraisal] = relationship(back_populates="opinions")


DESTRUCTION_STATES = {"approving": "待审批备案", "executing": "销毁中", "complete": "已销毁"}
DESTRUCTION_STEPS = ("planned", "store_removed", "replica_removed", "index_removed", "destroyed")
APPROVAL_KINDS = {"principal": "单位负责人批准", "filing": "报人社部门备案"}


class DestructionBatch(Base):
    """One destruction (销毁) of the items of one approved destroy appraisal.

    Its items are claimed when the batch is opened (``aip_id`` unique across batches), so
    an item can never be in two destructions; ``state`` = executing is the intent that a
    resumed run completes.
    """

    __tablename__ = "retention_destructions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    appraisal_id: Mapped[int] = mapped_column(ForeignKey("retention_appraisals.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True, default="approving")
    register_ref: Mapped[str] = mapped_column(String(64))
    approvals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # kind → facts
    supervisors: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    method: Mapped[str | None] = mapped_column(Text, nullable=True)
    executed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    opened_by: Mapped[str] = mapped_column(String(128))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    items: Mapped[list[DestructionItem]] = relationship(
        back_populates="batch", order_by="DestructionItem.id", cascade="all, delete-orphan")


class DestructionItem(Base):
    __tablename__ = "retention_destruction_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("retention_destructions.id"), index=True)
    aip_id: Mapped[str] = mapped_column(String(40), unique=True)
    step: Mapped[str] = mapped_column(String(16), default="planned")

    batch: Mapped[DestructionBatch] = relationship(back_populates="items")
