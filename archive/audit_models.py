"""Tables of the tamper-evident audit log: entries, Merkle subtrees, signed tree heads.

Why separate tables: entries hold what happened (the leaf data), ``audit_subtrees``
holds every complete Merkle subtree hash so roots and proofs for any size cost O(log n)
reads, and ``audit_heads`` keeps each signed tree head exactly as it was signed.
Nothing here is ever updated or deleted by the application; ``dangan audit verify``
recomputes everything from the entries and the signatures, so a row edited behind the
application's back is detected rather than trusted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime


class AuditEntryRow(Base):
    """One log entry; ``idx`` is its 0-based Merkle leaf index (gap-free)."""

    __tablename__ = "audit_entries"
    # (object_id, action): "the filing entry of these AIPs" must not be planned through
    # the index on action alone (every filing entry of the archive, per batch).
    __table_args__ = (Index("ix_audit_entries_object_action", "object_id", "action"),)

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(32))  # UTC ISO 8601 with microseconds and Z
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32), index=True)
    object_id: Mapped[str] = mapped_column(Text)
    object_digest: Mapped[str | None] = mapped_column(String(128), nullable=True)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON text, exactly as hashed
    leaf_hash: Mapped[str] = mapped_column(String(64))  # hex of H(0x00 || leaf bytes)


class AuditSubtree(Base):
    """Hash of the perfect subtree of 2^level leaves starting at leaf ``idx * 2^level``."""

    __tablename__ = "audit_subtrees"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHeadRow(Base):
    """A signed tree head as signed (``signed_json``), with its RFC 3161 token if any."""

    __tablename__ = "audit_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hex: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(32))
    signed_json: Mapped[str] = mapped_column(Text)
    tsa_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    tsa_token: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    tsa_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    tsa_error: Mapped[str | None] = mapped_column(Text, nullable=True)
