"""Catalogue tables (登记编目): items, their case link, parties, files, events.

Rows are never updated in place for content: a correction is a new item version; the
only mutable columns are the status and superseded-by links of the catalogue.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store timezone-aware values only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class TrustedSystemKey(Base):
    __tablename__ = "trusted_keys"
    __table_args__ = (UniqueConstraint("system", "key_id", name="uq_trusted_keys_system_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(128))
    algorithm: Mapped[str] = mapped_column(String(32))
    public_key_pem: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ArchivalCodeCounter(Base):
    """Last 件号 used per numbering series; advanced only in the filing transaction."""

    __tablename__ = "archival_code_counters"

    series: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_item_no: Mapped[int] = mapped_column(Integer)


class Item(Base):
    """One archived case version (件) and its AIP."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("archival_code", "version", name="uq_items_code_version"),
        UniqueConstraint("source_system", "case_id", "case_sha256", name="uq_items_case_bytes"),
    )

    aip_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    archival_code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | superseded
    source_system: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    case_sha256: Mapped[str] = mapped_column(String(64))
    aip_sha256: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    service_item_code: Mapped[str] = mapped_column(String(64), index=True)
    service_item_name: Mapped[str] = mapped_column(Text)
    insurance: Mapped[list[str]] = mapped_column(JSON)
    category: Mapped[str] = mapped_column(String(16))
    category_code: Mapped[str] = mapped_column(String(4))
    retention: Mapped[str] = mapped_column(String(8))
    classification_code: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str] = mapped_column(String(32))
    agency_name: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    decision_no: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    year: Mapped[int] = mapped_column(Integer)
    # 1 Jan of year+1+N (archive.schedule); NULL = 永久. Mutable like status: an approved
    # keep-longer appraisal moves it. Indexed (ix_items_due) so the due list is one query.
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    security_classification: Mapped[str] = mapped_column(String(16))
    personal_info: Mapped[bool] = mapped_column(Boolean)
    file_count: Mapped[int] = mapped_column(Integer)
    total_bytes: Mapped[int] = mapped_column(BigInteger)
    page_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    supersedes_aip_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    superseded_by_aip_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    correction_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    store_key: Mapped[str] = mapped_column(Text)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON)

    parties: Mapped[list[Party]] = relationship(
        back_populates="item", order_by="Party.seq", cascade="all, delete-orphan"
    )
    files: Mapped[list[ItemFile]] = relationship(
        back_populates="item", order_by="ItemFile.seq", cascade="all, delete-orphan"
    )
    events: Mapped[list[ItemEvent]] = relationship(
        back_populates="item", order_by="ItemEvent.seq", cascade="all, delete-orphan"
    )


# The due list: a range on due_on, grouped for appraisal, answered from the index alone.
Index("ix_items_due", Item.due_on, Item.service_item_code, Item.category, Item.year, Item.status)


class Party(Base):
    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aip_id: Mapped[str] = mapped_column(ForeignKey("items.aip_id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # applicant | subject
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(Text, index=True)
    id_type: Mapped[str] = mapped_column(String(32))
    id_number: Mapped[str] = mapped_column(String(64), index=True)

    item: Mapped[Item] = relationship(back_populates="parties")


class ItemFile(Base):
    __tablename__ = "item_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aip_id: Mapped[str] = mapped_column(ForeignKey("items.aip_id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    file_id: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)  # payload path inside the AIP
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(16))
    declared_media_type: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    sm3: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dpi: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    item: Mapped[Item] = relationship(back_populates="files")


class ItemEvent(Base):
    __tablename__ = "item_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    aip_id: Mapped[str] = mapped_column(ForeignKey("items.aip_id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    file_ids: Mapped[list[str]] = mapped_column(JSON)

    item: Mapped[Item] = relationship(back_populates="events")


class Rejection(Base):
    """A refused submission: the only trace a rejected case leaves."""

    __tablename__ = "rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_system: Mapped[str | None] = mapped_column(String(64), nullable=True)
    case_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    case_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submission_name: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class FiledCase(Base):
    """The audit log's ``aip:file`` entries indexed by case, written in the filing transaction.

    Why: idempotency and the "same case id" rule must not trust the catalogue alone (an
    insider can delete an item's rows). This table lets the filing window find, in one
    indexed read, every AIP the log says was filed for a case; each row is checked
    against its audit entry before it is believed, and ``crosscheck`` reports rows and
    entries that do not match each other.
    """

    __tablename__ = "filed_cases"
    __table_args__ = (Index("ix_filed_cases_case", "source_system", "case_id"),)

    audit_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    aip_id: Mapped[str] = mapped_column(String(40), index=True)
    source_system: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(String(64))
    case_sha256: Mapped[str] = mapped_column(String(64))


class Followup(Base):
    """Post-commit work of a filing (outbox): written in the filing transaction, deleted when done.

    ``kind``: ``replica`` (write the second copy) or ``index`` (search index entry).
    ``owner`` (``host:pid``) and ``lease_until`` say who is doing it; a row whose owner
    died or whose lease ran out is finished by the next ingest, worker start or writing
    command.
    """

    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    aip_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
