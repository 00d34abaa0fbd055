"""Transfer (移交) tables: what this archive sent, and the packages it received.

Sending: a ``Transfer`` row per package, its items claimed (``aip_id`` unique) so an
item is never in two packages at once; ``state`` = confirming is the intent a resumed
confirmation completes. Receiving: a ``TransferIn`` row per package, keyed by the
sender's transfer id, holding the signed receipt, so a package received twice is
answered with its first receipt and files nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dangan.archive.models import Base, UTCDateTime

TRANSFER_STATES = {"sent": "已制作移交包，待接收回执", "confirming": "移交确认中",
                   "confirmed": "已移交（保管权已转移）", "cancelled": "已撤销（未移交）"}


class Transfer(Base):
    __tablename__ = "retention_transfers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(String(64), unique=True)  # YJ-<fonds>-<year>-<n>
    state: Mapped[str] = mapped_column(String(16), index=True, default="sent")
    appraisal_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    receiver: Mapped[str] = mapped_column(Text)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    receipt_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    receiver_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confirmed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    items: Mapped[list[TransferItem]] = relationship(
        back_populates="transfer", order_by="TransferItem.id", cascade="all, delete-orphan")


class TransferItem(Base):
    __tablename__ = "retention_transfer_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_pk: Mapped[int] = mapped_column(ForeignKey("retention_transfers.id"), index=True)
    aip_id: Mapped[str] = mapped_column(String(40), unique=True)
    archival_code: Mapped[str] = mapped_column(String(64))
    aip_sha256: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(16), default="sent")  # sent | transferred

    transfer: Mapped[Transfer] = relationship(back_populates="items")


class TransferIn(Base):
    __tablename__ = "retention_transfers_in"

    transfer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    sender: Mapped[dict[str, Any]] = mapped_column(JSON)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_by: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    audit_index: Mapped[int] = mapped_column(BigInteger)
