"""Cancelling a transfer package that was sent but never received (移交撤销).

Why: creating a package claims its items, so a package lost in the post or refused by
the receiver would keep them out of every later transfer or destruction. An archivist
who states why (for example that the receiver returned or destroyed the package) cancels
it: the claim is released, the state becomes ``cancelled``, and a ``transfer:cancel``
entry keeps the items and the manifest digest. A receipt that arrives afterwards is
refused, so custody can never move on a cancelled package.
"""

from __future__ import annotations

from sqlalchemy import select

from dangan.archive import audit_log
from dangan.archive.instance import Archive

from . import roles
from .errors import NotFound
from .transfer import TransferView, view_of
from .transfer_errors import TransferClosed, TransferInputError
from .transfer_models import Transfer


def cancel(archive: Archive, transfer_id: str, *, reason: str, actor: str) -> TransferView:
    """Release the items of a package not yet confirmed; logged with the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise TransferInputError("撤销移交须写明原因（--reason，如接收单位退回或已销毁移交包）")
    with archive.db.filing_session() as s:
        actor = roles.require(s, actor, "retention.propose")
        t = s.scalar(select(Transfer).where(Transfer.transfer_id == transfer_id))
        if t is None:
            raise NotFound(f"没有移交 {transfer_id}", [{"transfer": transfer_id}])
        if t.state != "sent":
            raise TransferClosed(f"移交 {transfer_id} 的状态为 {t.state}：只能撤销尚未确认的移交",
                                 [{"transfer": transfer_id, "state": t.state}])
        released = [{"aip_id": i.aip_id, "archival_code": i.archival_code,
                     "aip_sha256": i.aip_sha256} for i in t.items]
        t.items.clear()
        t.state = "cancelled"
        s.flush()
        audit_log.append(s, actor=actor, action="transfer:cancel",
                         object_id=f"transfer:{t.transfer_id}", object_digest=t.manifest_sha256,
                         details={"transfer_id": t.transfer_id, "receiver": t.receiver,
                                  "reason": reason, "manifest_sha256": t.manifest_sha256,
                                  "released": released})
        return view_of(t)
