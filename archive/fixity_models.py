"""Tables of fixity audits (固定性检查, stage BC): one row per run, one row per item audited.

Why a table as well as the audit log: the log proves that an audit happened and what it
found; this table is what schedules the next one (least recently audited first) and
what ``dangan fixity report`` reads without parsing the log; ``fixity_latest`` keeps
each item's latest result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime


class FixityRun(Base):
    """One audit run: which items were chosen and how they came out."""

    __tablename__ = "fixity_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    mode: Mapped[str] = mapped_column(String(16))  # sample | cycle | explicit
    actor: Mapped[str] = mapped_column(String(128))
    items: Mapped[int] = mapped_column(Integer, default=0)
    ok: Mapped[int] = mapped_column(Integer, default=0)
    repaired: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    bytes_hashed: Mapped[int] = mapped_column(BigInteger, default=0)


class FixityResult(Base):
    """The audit of one item in one run: each copy, the catalogue, and what was done."""

    __tablename__ = "fixity_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("fixity_runs.id"), index=True)
    aip_id: Mapped[str] = mapped_column(String(40), index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # ok | repaired | catalogue_mismatch | unrepairable | repair_failed
    outcome: Mapped[str] = mapped_column(String(24))
    primary_status: Mapped[str] = mapped_column(String(16))  # ok | damaged | missing | repaired
    replica_status: Mapped[str] = mapped_column(String(16))
    catalogue_status: Mapped[str] = mapped_column(String(16))  # ok | mismatch
    aip_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bytes_hashed: Mapped[int] = mapped_column(BigInteger, default=0)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    audit_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class FixityLatest(Base):
    """Each item's latest result: what schedules the next audit and what the report counts.

    Why its own table: "the latest result of every item" over ``fixity_results`` is a
    grouping of every row ever written (a million items audited weekly: 52 million rows
    a year), read by every nightly sample and every inspector's dashboard. Written in
    the transaction that writes the result; derived data (the results and the audit
    log remain the record).
    """

    __tablename__ = "fixity_latest"

    aip_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    result_id: Mapped[int] = mapped_column(Integer)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[str] = mapped_column(String(24), index=True)
