"""Transfer (移交), sending side: select items, stage-YJ checks, the signed package.

Rules (GB/T 31599 6.9/7.9; GB/T 18894-2016 ch. 10; standards.md §3, §7): items go to the
comprehensive archive with the four-nature checks of the transfer stage (YJ) passed and a
移交与接收登记表. Items come from an approved *transfer* appraisal or an explicit list
(permanent records are transferred without ever falling due). A held item is never
transferred; an item already in another transfer or destruction batch is refused. The
package holds the AIPs exactly as stored, so the receiver proves them with our key.

Custody moves only on ``transfer_confirm.confirm`` with the receiver's signed receipt:
until then the items stay here, unchanged.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.archive import audit_log
from dangan.archive.chain_facts import stored_context
from dangan.archive.instance import Archive
from dangan.archive.models import Item, TrustedSystemKey
from dangan.archive.store import remove_tree
from dangan.archive.timeutil import iso, utcnow
from dangan.packages.aip import inspect_aip
from dangan.packages.aip.build import export_aip_zip
from dangan.packages.checks import CheckReport, Stage, run_checks

from . import roles
from .appraisal import _items
from .errors import ItemHeld, NotFound
from .holds import CUSTODY_STATES, held_among
from .models import Appraisal, DestructionItem
from .transfer_errors import AlreadyInTransfer, ChecksFailed, NotTransferable, TransferInputError
from .transfer_models import TRANSFER_STATES, Transfer, TransferItem
from .transfer_package import (
    LIST_XML,
    REGISTER_PDF,
    REGISTER_XML,
    aip_member,
    register_pdf,
    register_xml,
    transfer_list_xml,
    write_package,
)


@dataclass
class TransferView:
    id: int
    transfer_id: str
    state: str
    state_name: str
    receiver: str
    appraisal_id: int | None
    manifest_sha256: str
    items: list[dict[str, Any]]
    created_at: str
    receiver_fingerprint: str | None = None
    receipt_sha256: str | None = None
    confirmed_at: str | None = None
    package: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def view_of(t: Transfer, package: Path | None = None) -> TransferView:
    return TransferView(
        id=t.id, transfer_id=t.transfer_id, state=t.state, state_name=TRANSFER_STATES[t.state],
        receiver=t.receiver, appraisal_id=t.appraisal_id, manifest_sha256=t.manifest_sha256,
        items=[{"aip_id": i.aip_id, "archival_code": i.archival_code,
                "aip_sha256": i.aip_sha256, "step": i.step} for i in t.items],
        created_at=iso(t.created_at), receiver_fingerprint=t.receiver_fingerprint,
        receipt_sha256=t.receipt_sha256,
        confirmed_at=iso(t.confirmed_at) if t.confirmed_at else None,
        package=str(package) if package else None)


def _selected(s: Session, appraisal_id: int | None, refs: list[str]) -> list[Item]:
    if (appraisal_id is None) == (not refs):
        raise TransferInputError("请给出一个移交鉴定编号（--appraisal），或档号清单，二者只能选一")
    if appraisal_id is None:
        return _items(s, refs)
    a = s.get(Appraisal, appraisal_id)
    if a is None:
        raise NotFound(f"没有编号为 {appraisal_id} 的鉴定", [{"appraisal": appraisal_id}])
    if a.action != "transfer" or a.state != "approved":
        raise NotTransferable(f"鉴定 {appraisal_id} 不是已通过的移交鉴定（{a.action}，{a.state}）",
                              [{"appraisal": appraisal_id, "action": a.action, "state": a.state}])
    items = list(s.scalars(select(Item).where(Item.aip_id.in_([i.aip_id for i in a.items]))
                           .order_by(Item.archival_code, Item.version)))
    if len(items) != len(a.items):
        raise NotTransferable(f"鉴定 {appraisal_id} 中有档案已不在本馆目录中")
    return items


def refuse_untransferable(s: Session, items: list[Item], *, own: int | None = None) -> None:
    """Held, out of custody, or claimed by another transfer or a destruction: refuse."""
    ids = [i.aip_id for i in items]
    codes = {i.aip_id: i.archival_code for i in items}
    held = sorted(held_among(s, ids))
    if held:
        raise ItemHeld(f"{codes[held[0]]} 已被冻结，不得移交" +
                       (f"（共 {len(held)} 件被冻结）" if len(held) > 1 else ""),
                       [{"aip_id": a, "archival_code": codes[a]} for a in held])
    gone = [i for i in items if i.status not in CUSTODY_STATES]
    if gone:
        raise NotTransferable(f"{gone[0].archival_code} 的状态为 {gone[0].status}，已不在本馆保管")
    q = (select(TransferItem.aip_id, Transfer.transfer_id).join(Transfer)
         .where(TransferItem.aip_id.in_(ids)))
    if own is not None:
        q = q.where(Transfer.id != own)
    claimed = dict(s.execute(q).all())
    claimed |= {a: f"销毁批次 {b}" for a, b in s.execute(
        select(DestructionItem.aip_id, DestructionItem.batch_id)
        .where(DestructionItem.aip_id.in_(ids))).all()}
    if claimed:
        raise AlreadyInTransfer(
            "、".join(f"{codes[a]} 已列入 {t}" for a, t in sorted(claimed.items())),
            [{"aip_id": a, "in": t} for a, t in sorted(claimed.items())])


def yj_check(archive: Archive, s: Session, item: Item) -> CheckReport:
    """Stage-YJ four-nature checks on the stored AIP; the AIP itself must validate too."""
    path = archive.store.path(item.aip_id)
    validation, view = inspect_aip(path, archive.public_pem)
    ctx = stored_context(archive, s, item, path, validation, view, archive.public_pem,
                         stage=Stage.YJ)
    report = run_checks(ctx, Stage.YJ, registry=archive.checks)
    problems = list(validation.problems)
    if validation.aip_digest != item.aip_sha256:
        problems.append({"code": "aip.digest", "note": "AIP 摘要与目录记录不符"})
    if problems or not report.accepted:
        notes = [p.get("note", p.get("code")) for p in problems[:3]] + [
            f"{r.code} {r.name}：{r.message}" for r in report.blocking_failures[:3]]
        raise ChecksFailed(f"{item.archival_code} 未通过移交环节（YJ）四性检测：" + "；".join(notes),
                           [{"aip_id": item.aip_id, "archival_code": item.archival_code,
                             "problems": problems[:10],
                             "failed": [r.to_dict() for r in report.blocking_failures]}])
    return report


def _tally(reports: list[CheckReport]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for rep in reports:
        for r in rep.results:
            n = out.setdefault(str(r.nature), {"pass": 0, "warn": 0, "fail": 0})
            n[str(r.result)] += 1
    return out


def _source_keys(s: Session, systems: set[str]) -> list[dict[str, Any]]:
    """The trust-store entries of the case-handling systems whose cases are sent, so the
    receiver can still prove each case.json's source signature."""
    rows = s.scalars(select(TrustedSystemKey).where(TrustedSystemKey.system.in_(systems))
                     .order_by(TrustedSystemKey.system, TrustedSystemKey.key_id))
    return [{"system": r.system, "key_id": r.key_id, "algorithm": r.algorithm,
             "public_key_pem": r.public_key_pem, "fingerprint": r.fingerprint,
             "added_at": iso(r.added_at),
             "revoked_at": iso(r.revoked_at) if r.revoked_at else None} for r in rows]


def _row(i: Item) -> dict[str, Any]:
    return {"aip_id": i.aip_id, "archival_code": i.archival_code, "version": i.version,
            "source_system": i.source_system, "case_id": i.case_id, "title": i.title,
            "year": i.year, "retention": i.retention, "file_count": i.file_count,
            "page_count": i.page_count, "total_bytes": i.total_bytes,
            "aip_sha256": i.aip_sha256, "case_sha256": i.case_sha256,
            "path": aip_member(i.aip_id)}


def create(archive: Archive, *, out: Path, receiver: str, actor: str,
           appraisal_id: int | None = None, refs: list[str] | None = None) -> TransferView:
    """Check, package and record a transfer; nothing changes if any item is refused."""
    receiver = (receiver or "").strip()
    if not receiver:
        raise TransferInputError("须写明接收单位（--receiver，如某市档案馆）")
    out = Path(out)
    if out.exists():
        raise TransferInputError(f"{out} 已存在，不覆盖")
    if not out.parent.is_dir():
        raise TransferInputError(f"目录 {out.parent} 不存在")
    with archive.db.session() as s:
        actor = roles.require(s, actor, "retention.propose")
        items = _selected(s, appraisal_id, list(refs or []))
        refuse_untransferable(s, items)
        reports = [yj_check(archive, s, i) for i in items]
        rows = [_row(i) for i in items]
        source_keys = _source_keys(s, {i.source_system for i in items})
    now = utcnow()
    st = archive.settings
    manifest = {"transfer_id": f"YJ-{st.fonds}-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}",
                "created_at": iso(now), "created_by": actor,
                "sender": {"organization": st.organization, "fonds": st.fonds,
                           "code_rule": {"fonds": archive.code_rule.fonds,
                                         "doc_class": archive.code_rule.doc_class,
                                         "item_width": archive.code_rule.item_width}},
                "receiver": {"name": receiver}, "appraisal_id": appraisal_id,
                "items": rows, "checks": _tally(reports), "source_keys": source_keys,
                "archival_codes": "kept: the receiver files each item under its original code"}
    tmp = archive.store.new_staging()
    try:
        files: dict[str, Path | bytes] = {}
        for r in rows:
            z = tmp / f"{r['aip_id']}.zip"
            export_aip_zip(archive.store.path(r["aip_id"]), z)
            files[r["path"]] = z
        files[LIST_XML] = transfer_list_xml(manifest)
        files[REGISTER_XML] = register_xml(manifest)
        pdf = register_pdf(manifest)
        if pdf is not None:
            files[REGISTER_PDF] = pdf
        digest = write_package(out, manifest, files, archive.key)
    finally:
        remove_tree(tmp)
    try:
        with archive.db.filing_session() as s:
            items = list(s.scalars(select(Item).where(Item.aip_id.in_([r["aip_id"] for r in rows]))))
            if len(items) != len(rows) or any(
                    i.aip_sha256 != r["aip_sha256"] for i, r in zip(
                        sorted(items, key=lambda i: i.aip_id),
                        sorted(rows, key=lambda r: r["aip_id"]), strict=True)):
                raise NotTransferable("制作移交包期间目录发生变化，请重新制作")
            refuse_untransferable(s, items)
            t = Transfer(transfer_id=manifest["transfer_id"], state="sent",
                         appraisal_id=appraisal_id, receiver=receiver, manifest_sha256=digest,
                         created_by=actor, created_at=now)
            t.items = [TransferItem(aip_id=r["aip_id"], archival_code=r["archival_code"],
                                    aip_sha256=r["aip_sha256"], step="sent") for r in rows]
            s.add(t)
            s.flush()
            audit_log.append(s, actor=actor, action="transfer:create",
                             object_id=f"transfer:{t.transfer_id}", object_digest=digest,
                             details={"transfer_id": t.transfer_id, "receiver": receiver,
                                      "appraisal_id": appraisal_id, "manifest_sha256": digest,
                                      "checks": manifest["checks"],
                                      "items": [{k: r[k] for k in ("aip_id", "archival_code",
                                                                    "aip_sha256")} for r in rows]})
            return view_of(t, out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def get(session: Session, transfer_id: str) -> TransferView:
    t = session.scalar(select(Transfer).where(Transfer.transfer_id == transfer_id))
    if t is None and transfer_id.isdigit():
        t = session.get(Transfer, int(transfer_id))
    if t is None:
        raise NotFound(f"没有移交 {transfer_id}", [{"transfer": transfer_id}])
    return view_of(t)


def list_transfers(session: Session) -> list[TransferView]:
    return [view_of(t) for t in session.scalars(select(Transfer).order_by(Transfer.id))]

