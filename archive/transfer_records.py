"""Items this archive received by transfer (移交接收), and whose key sealed their AIPs.

Why in archive/: a received AIP is kept byte for byte as the sending archive sealed it,
so its signature is the sender's, not ours. Verification, fixity audits and the replica
(this layer) must check such an AIP against the sender's key recorded when the transfer
package was verified, and everything else (receipts, tree heads) against our own. The
retention domain above writes the rows; ``signer_pem`` is what the layer reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dangan.packages.archival_code import ArchivalCodeRule

from .models import Base, UTCDateTime

if TYPE_CHECKING:
    from .instance import Archive


class ReceivedItem(Base):
    """One AIP filed here from a transfer package; the original code and sender stay here."""

    __tablename__ = "transfer_received_items"

    aip_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    transfer_id: Mapped[str] = mapped_column(String(64), index=True)
    original_archival_code: Mapped[str] = mapped_column(String(64))
    aip_sha256: Mapped[str] = mapped_column(String(64))
    sender: Mapped[dict[str, Any]] = mapped_column(JSON)  # organization, fonds, key_id, fingerprint
    sender_public_pem: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    audit_index: Mapped[int] = mapped_column(BigInteger)


def signer_pem(session: Session, aip_id: str, own_pem: bytes) -> bytes:
    """The key that sealed ``aip_id``: the sender's for a received AIP, else ``own_pem``."""
    return signer_pem_of(session.get(ReceivedItem, aip_id), own_pem)


def signer_pem_of(row: ReceivedItem | None, own_pem: bytes) -> bytes:
    """``signer_pem`` from the AIP's receipt row, read already (None: filed here)."""
    return row.sender_public_pem.encode("ascii") if row is not None else own_pem


def received_rows(session: Session, aip_ids: list[str]) -> dict[str, ReceivedItem]:
    """The receipt rows of those of ``aip_ids`` that were received, in one query."""
    return {r.aip_id: r for r in session.scalars(
        select(ReceivedItem).where(ReceivedItem.aip_id.in_(aip_ids)))}


def received_origin(session: Session, aip_id: str) -> dict[str, Any] | None:
    """Where a received AIP came from (sender, transfer, original code), or None."""
    row = session.get(ReceivedItem, aip_id)
    if row is None:
        return None
    sender = row.sender or {}
    return {"transfer_id": row.transfer_id, "original_archival_code": row.original_archival_code,
            "sender_organization": sender.get("organization"),
            "sender_fingerprint": sender.get("fingerprint"),
            "received_at": row.received_at.isoformat(), "audit_index": row.audit_index}


def code_rule(session: Session, aip_id: str, own: ArchivalCodeRule) -> ArchivalCodeRule:
    """The archival-code rule an AIP was coded under: the sender's for a received AIP
    (its 全宗号 and numbering), else ``own``."""
    return code_rule_of(session.get(ReceivedItem, aip_id) if aip_id else None, own)


def code_rule_of(row: ReceivedItem | None, own: ArchivalCodeRule) -> ArchivalCodeRule:
    """``code_rule`` from the AIP's receipt row, read already (None: filed here)."""
    rule = (row.sender or {}).get("code_rule") if row is not None else None
    return ArchivalCodeRule(**rule) if isinstance(rule, dict) else own


def sealing_key(archive: Archive, aip_id: str) -> bytes:
    """``signer_pem`` in a session of its own, with this archive's key as the default."""
    with archive.db.session() as session:
        return signer_pem(session, aip_id, archive.key.public_pem)
