"""Transfer (移交), sending side, last step: the receiver's receipt moves custody.

``confirm`` verifies that the receipt is signed by the receiving archive's key (given by
the operator, obtained independently of the receipt) and lists exactly the items sent,
with the same AIP digests, for the same signed manifest. Then, like destruction, it is
crash-safe: the intent is committed first (state ``confirming``, the receipt kept,
``transfer:confirm`` logged); then each item's copies are removed (store, replica, index
entry, extracted text; each removal is a no-op when already done) and its tombstone
(kind ``transferred``, pointing to the receipt), its ``aip:transfer`` entry and the
catalogue deletion are committed together. ``resume`` finishes what a killed run left.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dangan.archive import audit_log, failpoints
from dangan.archive.instance import Archive
from dangan.archive.models import Followup, Item, ItemEvent, ItemFile, Party
from dangan.archive.timeutil import iso, utcnow
from dangan.archive.tombstones import Tombstone
from dangan.packages import signing
from dangan.packages.errors import KeyError_, SignatureError
from dangan.search.feed import service_for

from . import roles
from .errors import ItemHeld
from .holds import held_among
from .removal import remove_copies
from .transfer import TransferView, view_of
from .transfer_errors import ReceiptMismatch, ReceiptSignature, TransferClosed, TransferInputError
from .transfer_models import Transfer, TransferItem
from .transfer_package import check_receipt_signature, sha256_of

CHUNK = 200
SYSTEM_ACTOR = "system:transfer"


def read_receipt(path: Path) -> dict[str, Any]:
    try:
        receipt = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise TransferInputError(f"无法读取接收回执 {path}：{exc}") from exc
    if not isinstance(receipt, dict):
        raise TransferInputError("接收回执应为 JSON 对象")
    return receipt


def _mismatch(t: Transfer, receipt: dict[str, Any]) -> list[dict[str, Any]]:
    sent = {i.aip_id: i.aip_sha256 for i in t.items}
    got = {str(i.get("aip_id")): i.get("aip_sha256") for i in receipt.get("items") or []
           if isinstance(i, dict)}
    out = [{"aip_id": a, "sent": sent.get(a), "receipt": got.get(a)}
           for a in sorted(set(sent) | set(got)) if sent.get(a) != got.get(a)]
    if receipt.get("manifest_sha256") != t.manifest_sha256:
        out.append({"manifest_sha256": t.manifest_sha256,
                    "receipt": receipt.get("manifest_sha256")})
    return out


def confirm(archive: Archive, receipt: dict[str, Any], *, receiver_pem: bytes,
            actor: str) -> TransferView:
    """Check the receipt, commit the intent, then turn every item into a tombstone."""
    try:
        check_receipt_signature(receipt, receiver_pem)
        fingerprint = signing.key_fingerprint(receiver_pem)
    except (SignatureError, KeyError_) as exc:
        raise ReceiptSignature(f"接收回执不是接收单位的密钥所签：{exc.message}，不能据以移交保管权"
                               ) from exc
    digest = sha256_of(receipt)
    with archive.db.filing_session() as s:
        actor = roles.require(s, actor, "retention.propose")
        tid = str(receipt.get("transfer_id"))
        t = s.scalar(select(Transfer).where(Transfer.transfer_id == tid))
        if t is None:
            raise ReceiptMismatch(f"本馆没有移交 {tid}：回执不属于本馆发出的移交包",
                                  [{"transfer_id": tid}])
        if t.state == "cancelled":
            raise TransferClosed(f"移交 {tid} 已撤销：不能凭回执移交保管权；如接收单位确已接收，"
                                 "请与其核对后重新办理移交", [{"transfer_id": tid}])
        if t.state != "sent" and t.receipt_sha256 != digest:
            raise TransferClosed(f"移交 {tid} 已凭另一份回执确认（{t.state}）")
        pk, again = t.id, t.state != "sent"
    if again:  # the same receipt again: complete an interrupted run, or report
        return _run(archive, pk)
    with archive.db.filing_session() as s:
        t = s.get(Transfer, pk)
        assert t is not None
        if t.state != "sent":
            raise TransferClosed(f"移交 {tid} 正由另一进程确认")
        bad = _mismatch(t, receipt)
        if bad:
            raise ReceiptMismatch(f"接收回执列出的档案或摘要与移交 {tid} 发出的不一致（{len(bad)} 处）",
                                  bad)
        held = sorted(held_among(s, [i.aip_id for i in t.items]))
        if held:
            raise ItemHeld(f"移交 {tid} 中有 {len(held)} 件档案已被冻结，不能移交保管权",
                           [{"aip_id": a} for a in held])
        t.state, t.receipt, t.receipt_sha256 = "confirming", receipt, digest
        t.receiver_fingerprint, t.confirmed_by = fingerprint, actor
        audit_log.append(s, actor=actor, action="transfer:confirm",
                         object_id=f"transfer:{tid}", object_digest=digest,
                         details={"transfer_id": tid, "receipt_sha256": digest,
                                  "receiver": receipt.get("receiver"),
                                  "receiver_fingerprint": fingerprint,
                                  "receiver_audit_index": receipt.get("audit_index"),
                                  "items": [{"aip_id": i.aip_id, "aip_sha256": i.aip_sha256}
                                            for i in t.items]})
        pk = t.id
    failpoints.reach("transfer.after_intent")
    return _run(archive, pk)


def _bury(s: Session, t: Transfer, item: Item) -> None:
    """Tombstone + ``aip:transfer`` + catalogue deletion, in the caller's transaction."""
    receipt = t.receipt or {}
    received = next((i for i in receipt.get("items") or [] if i.get("aip_id") == item.aip_id), {})
    facts = {"receiver": receipt.get("receiver"), "receiver_name": t.receiver,
             "receiver_fingerprint": t.receiver_fingerprint, "receipt_sha256": t.receipt_sha256,
             "receipt_audit_index": receipt.get("audit_index"),
             "received_as": received.get("archival_code"),
             "received_audit_index": received.get("audit_index"),
             "manifest_sha256": t.manifest_sha256, "confirmed_by": t.confirmed_by}
    entry = audit_log.append(
        s, actor=t.confirmed_by or SYSTEM_ACTOR, action="aip:transfer", object_id=item.aip_id,
        object_digest=item.aip_sha256,
        details={"aip_id": item.aip_id, "archival_code": item.archival_code,
                 "source_system": item.source_system, "case_id": item.case_id,
                 "aip_sha256": item.aip_sha256, "transfer_id": t.transfer_id, **facts})
    s.add(Tombstone(aip_id=item.aip_id, kind="transferred", archival_code=item.archival_code,
                    version=item.version, source_system=item.source_system,
                    case_id=item.case_id, title=item.title, year=item.year,
                    retention=item.retention, aip_sha256=item.aip_sha256,
                    case_sha256=item.case_sha256, batch_id=t.id,
                    appraisal_id=t.appraisal_id or 0, register_ref=t.transfer_id,
                    method=f"移交至{t.receiver}", facts=facts, removed_at=utcnow(),
                    audit_index=entry.index))
    for table in (Party, ItemFile, ItemEvent, Followup):
        s.execute(delete(table).where(table.aip_id == item.aip_id))
    s.execute(delete(Item).where(Item.aip_id == item.aip_id))


def _run(archive: Archive, pk: int) -> TransferView:
    search = service_for(archive)
    while True:
        with archive.db.session() as s:
            todo = list(s.scalars(select(TransferItem.aip_id).where(
                TransferItem.transfer_pk == pk, TransferItem.step != "transferred")
                .order_by(TransferItem.id).limit(CHUNK)))
        if not todo:
            break
        remove_copies(archive, todo, search, failpoint="transfer")
        with archive.db.filing_session() as s:
            t = s.get(Transfer, pk)
            assert t is not None
            rows = {r.aip_id: r for r in s.scalars(select(TransferItem).where(
                TransferItem.aip_id.in_(todo)))}
            items = {i.aip_id: i for i in s.scalars(select(Item).where(Item.aip_id.in_(todo)))}
            for aip_id in todo:
                if rows[aip_id].step == "transferred":
                    continue
                _bury(s, t, items[aip_id])
                rows[aip_id].step = "transferred"
            failpoints.reach("transfer.before_tombstone_commit")
    with archive.db.filing_session() as s:
        t = s.get(Transfer, pk)
        assert t is not None
        if t.state == "confirming":
            t.state, t.confirmed_at = "confirmed", utcnow()
            record = {"transfer_id": t.transfer_id, "receipt_sha256": t.receipt_sha256,
                      "receiver": t.receiver, "confirmed_at": iso(t.confirmed_at),
                      "items": [i.aip_id for i in t.items]}
            audit_log.append(s, actor=t.confirmed_by or SYSTEM_ACTOR, action="transfer:complete",
                             object_id=f"transfer:{t.transfer_id}",
                             object_digest=sha256_of(record), details=record)
        return view_of(t)


def resume(archive: Archive) -> list[TransferView]:
    """Complete every confirmation an interrupted run left in state ``confirming``."""
    with archive.db.session() as s:
        ids = list(s.scalars(select(Transfer.id).where(Transfer.state == "confirming")))
    return [_run(archive, i) for i in ids]
