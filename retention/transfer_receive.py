"""Transfer (移交), receiving side: verify, re-check (YJ), file, and answer with a receipt.

The receiving archive is another Dangan instance. It trusts a package only if its
manifest is signed by the sending archive it was told to expect (``--sender-key`` or
``--sender-fingerprint``), every file matches the manifest's SHA-256 and SM3, and each
AIP validates under the sender's key and passes the stage-YJ checks again here. Then each
AIP is filed byte for byte as received, under its **original archival code**: the 档号
begins with the creating agency's 全宗号, which the comprehensive archive keeps for that
fonds, so the code stays unique here and every citation of it elsewhere (certified
copies, decisions, correspondence) still resolves; it is also inside the sealed AIP,
which re-coding would break. A code or AIP id this catalogue already holds for other
bytes is refused. The original code and the sender stay on the record
(``archive.transfer_records.ReceivedItem``) and in each item's ``aip:file`` entry.

Idempotent: the package's transfer id is remembered with the receipt; the same package
again returns that receipt and files nothing; the same id with other contents is refused.
An interrupted receive is completed by running it again (items already filed with the
same digest are skipped).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dangan.archive import audit_log, crosscheck, failpoints, keys, replica, tree_heads
from dangan.archive.catalogue_fields import columns_of_description, document_columns
from dangan.archive.chain_facts import dig, stored_context
from dangan.archive.instance import Archive
from dangan.archive.models import Item, ItemEvent, ItemFile, Party, TrustedSystemKey
from dangan.archive.receipts import make_receipt
from dangan.archive.schedule import due_on
from dangan.archive.store import remove_tree
from dangan.archive.timeutil import iso, parse_iso, utcnow
from dangan.archive.transfer_records import ReceivedItem
from dangan.packages import signing
from dangan.packages.aip import inspect_aip
from dangan.packages.aip.bag import CASE_JSON, CASE_SIG
from dangan.packages.aip.fields import PARTY_KEYS
from dangan.packages.archival_code import ArchivalCodeError, ArchivalCodeRule
from dangan.packages.checks import Stage, run_checks
from dangan.packages.errors import KeyError_, SignatureError, UnsafeContainer
from dangan.packages.safezip import extract_zip
from dangan.packages.signing import DetachedSignature
from dangan.search.feed import index_item

from . import roles
from .transfer_errors import (
    ChecksFailed,
    CodeClash,
    PackageTampered,
    ResentAltered,
    TrustConflict,
)
from .transfer_models import TransferIn
from .transfer_package import OpenedPackage, make_transfer_receipt, open_package, sha256_of

log = logging.getLogger(__name__)
REVOKE_REASON = "经移交接收登记，仅用于验证移交档案的来源签名；本馆不接受该系统以此密钥直接报送"


@dataclass
class ReceiveResult:
    receipt: dict[str, Any]
    filed: list[str] = field(default_factory=list)
    already_received: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"transfer_id": self.receipt["transfer_id"], "filed": self.filed,
                "already_received": self.already_received, "receipt": self.receipt}


@dataclass
class _Checked:
    row: dict[str, Any]
    path: Path
    description: dict[str, Any]
    case_sha256: str
    skip: bool = False  # filed by an interrupted earlier run


def _check_aip(archive: Archive, pkg: OpenedPackage, row: dict[str, Any], work: Path) -> _Checked:
    """Unzip one AIP, validate it under the sender's key, compare with the manifest, YJ."""
    dest = work / "aips" / row["aip_id"]
    dest.mkdir(parents=True)
    try:
        names = extract_zip(pkg.aip_zip(row["aip_id"]), dest)
    except UnsafeContainer as exc:
        raise PackageTampered(f"{row['archival_code']} 的信息包无法安全打开：{exc.message}") from exc
    tops = {n.split("/", 1)[0] for n in names}
    if tops != {row["aip_id"]}:
        raise PackageTampered(f"{row['archival_code']} 的信息包结构不对（顶层目录 {sorted(tops)}）")
    path = dest / row["aip_id"]
    validation, view = inspect_aip(path, pkg.sender_pem)
    problems = list(validation.problems)
    for what, want, found in (("AIP 标识", row["aip_id"], validation.aip_id),
                              ("档号", row["archival_code"], validation.archival_code),
                              ("AIP 摘要", row["aip_sha256"], validation.aip_digest)):
        if want != found:
            problems.append({"code": "transfer.manifest_mismatch",
                             "note": f"清单中的{what}为 {want}，信息包中为 {found}"})
    with archive.db.session() as s:
        probe = Item(source_system=row["source_system"], archival_code=row["archival_code"])
        ctx = replace(stored_context(archive, s, probe, path, validation, view, pkg.sender_pem,
                                     stage=Stage.YJ), archival_code_rule=_code_rule(pkg))
        report = run_checks(ctx, Stage.YJ, registry=archive.checks)
    if problems or not report.accepted or view is None or validation.description is None:
        notes = [str(p.get("note") or p.get("code")) for p in problems[:3]] + [
            f"{r.code} {r.name}：{r.message}" for r in report.blocking_failures[:3]]
        raise ChecksFailed(f"{row['archival_code']} 未通过接收环节（YJ）检测：" + "；".join(notes),
                           [{"aip_id": row["aip_id"], "problems": problems[:10],
                             "failed": [r.to_dict() for r in report.blocking_failures]}])
    case_bytes = view.read(CASE_JSON)
    _check_source_signature(pkg, row, case_bytes, view.read(CASE_SIG) if CASE_SIG in view.files
                            else None)
    return _Checked(row, path, validation.description, hashlib.sha256(case_bytes).hexdigest())


def _check_source_signature(pkg: OpenedPackage, row: dict[str, Any], case_bytes: bytes,
                            sig_bytes: bytes | None) -> None:
    """case.json is signed by its case-handling system's key as the sender's trust store
    lists it (carried in the signed manifest)."""
    try:
        sig = DetachedSignature.from_json(sig_bytes or b"")
        entry = next(k for k in pkg.manifest.get("source_keys") or []
                     if (k.get("system"), k.get("key_id")) == (row["source_system"], sig.key_id))
        signing.verify(str(entry["public_key_pem"]).encode("ascii"), sig, case_bytes)
    except (StopIteration, SignatureError, KeyError_) as exc:
        raise ChecksFailed(f"{row['archival_code']} 的来源签名无法用移交单位登记的经办系统密钥验证"
                           f"（{getattr(exc, 'message', '移交包中没有该密钥')}）",
                           [{"aip_id": row["aip_id"]}]) from exc


def _trust_conflicts(archive: Archive, pkg: OpenedPackage) -> None:
    with archive.db.session() as s:
        for k in pkg.manifest.get("source_keys") or []:
            row = s.scalar(select(TrustedSystemKey).where(
                TrustedSystemKey.system == k["system"], TrustedSystemKey.key_id == k["key_id"]))
            if row is not None and row.fingerprint != k["fingerprint"]:
                raise TrustConflict(
                    f"本馆信任库中经办系统 {k['system']} 的密钥 {k['key_id']} 与移交单位登记的不是同一把"
                    "（指纹不同），不能接收", [{"system": k["system"], "key_id": k["key_id"]}])


def _register_source_keys(archive: Archive, pkg: OpenedPackage, actor: str) -> None:
    """Keys new here are registered and at once revoked: they prove the received cases'
    signatures (signed before the revocation) but admit no new submission."""
    tid = pkg.manifest["transfer_id"]
    with archive.db.filing_session() as s:
        for k in pkg.manifest.get("source_keys") or []:
            if s.scalar(select(TrustedSystemKey.id).where(
                    TrustedSystemKey.system == k["system"], TrustedSystemKey.key_id == k["key_id"])):
                continue
            oid = f"{k['system']}/{k['key_id']}"
            added = keys._trust_add(s, k["system"], k["key_id"],
                                    str(k["public_key_pem"]).encode("ascii"))
            audit_log.append(s, actor=actor, action="trust:add", object_id=oid,
                             object_digest=added.fingerprint,
                             details={"algorithm": added.algorithm, "via_transfer": tid})
            gone = keys._trust_revoke(s, k["system"], k["key_id"], REVOKE_REASON)
            audit_log.append(s, actor=actor, action="trust:revoke", object_id=oid,
                             object_digest=gone.fingerprint,
                             details={"reason": REVOKE_REASON, "via_transfer": tid})


def _refuse_clashes(archive: Archive, checked: list[_Checked], tid: str) -> None:
    """An AIP id, archival code or case version already here for other bytes: refuse."""
    with archive.db.session() as s:
        for c in checked:
            c.skip = _already_filed(s, c, tid)


def _already_filed(s: Session, c: _Checked, tid: str) -> bool:
    """True when an interrupted run of this same transfer filed this AIP; a clash (other
    bytes, or the same AIP received under another transfer) is refused."""
    r = c.row
    rows = list(s.scalars(select(Item).where(or_(
        Item.aip_id == r["aip_id"],
        (Item.archival_code == r["archival_code"]) & (Item.version == r["version"]),
        (Item.source_system == r["source_system"]) & (Item.case_id == r["case_id"])
        & (Item.case_sha256 == c.case_sha256)))))
    if not rows:
        return False
    got = s.get(ReceivedItem, r["aip_id"])
    if (len(rows) == 1 and rows[0].aip_id == r["aip_id"]
            and rows[0].aip_sha256 == r["aip_sha256"] and got is not None):
        if got.transfer_id == tid:
            return True
        raise CodeClash(f"{r['archival_code']}（AIP {r['aip_id']}）已于 {iso(got.received_at)} "
                        f"随移交 {got.transfer_id} 接收入库，不能在移交 {tid} 中再次接收",
                        [{"aip_id": r["aip_id"], "archival_code": r["archival_code"],
                          "received_in": got.transfer_id}])
    raise CodeClash(f"本馆目录中已有档号 {rows[0].archival_code}（AIP {rows[0].aip_id}），"
                    f"与移交的 {r['archival_code']} 冲突，不能接收",
                    [{"aip_id": i.aip_id, "archival_code": i.archival_code} for i in rows])


def _item(archive: Archive, c: _Checked, receipt: dict[str, Any]) -> Item:
    so = c.description.get("signed_object") or {}
    record = dig(so, "content", "record") or {}
    d = record.get("description") or {}
    docs = record.get("documents") or []
    cols = columns_of_description(d)
    item = Item(aip_id=c.row["aip_id"], version=so.get("aip_version"), status="active",
                case_sha256=c.case_sha256, aip_sha256=c.row["aip_sha256"], **cols,
                due_on=due_on(cols["year"], cols["retention"]), file_count=len(docs),
                total_bytes=sum(int(x.get("size") or 0) for x in docs),
                page_count=sum(int(x.get("pages") or 0) for x in docs) or None,
                received_at=parse_iso(dig(record, "submission", "received_at")),
                archived_at=parse_iso(so.get("created_at")),
                supersedes_aip_id=dig(so, "supersedes", "aip_id"),
                store_key=archive.store.key_for(c.row["aip_id"]), receipt=receipt)
    item.files = [ItemFile(**document_columns(x), created_at=parse_iso(x["created_at"])
                           if x.get("created_at") else None) for x in docs]
    item.parties = [Party(seq=n, **{k: p.get(k) for k in PARTY_KEYS})
                    for n, p in enumerate(record.get("parties") or [], start=1)]
    item.events = [ItemEvent(seq=e.get("seq"), step=e.get("step"), at=parse_iso(e.get("at")),
                             actor_id=dig(e, "actor", "id"), actor_name=dig(e, "actor", "name"),
                             actor_role=dig(e, "actor", "role"), action=e.get("action"),
                             note=e.get("note"), file_ids=list(e.get("files") or []))
                   for e in dig(so, "content", "events") or []]
    return item


def _file(archive: Archive, pkg: OpenedPackage, c: _Checked, actor: str) -> int | None:
    """Store the AIP as received and catalogue it in one filing window; the log index,
    or None when another run of this transfer has filed it meanwhile."""
    r, sender = c.row, _sender(pkg)
    stored = False
    try:
        with archive.db.filing_session() as s:
            # checked again inside the window: another process may be receiving it too
            if _already_filed(s, c, pkg.manifest["transfer_id"]):
                return None
            archive.store.commit(c.path, r["aip_id"])
            stored = True
            now = utcnow()
            entry = audit_log.append(
                s, actor=actor, action="aip:file", object_id=r["aip_id"],
                object_digest=r["aip_sha256"],
                details={"archival_code": r["archival_code"], "version": r["version"],
                         "case_id": r["case_id"], "source_system": r["source_system"],
                         "case_sha256": c.case_sha256, "supersedes": None,
                         "transfer": {"transfer_id": pkg.manifest["transfer_id"],
                                      "original_archival_code": r["archival_code"],
                                      "sender": sender}})
            crosscheck.index_filed(s, entry.index, r["aip_id"], r["source_system"],
                                   r["case_id"], c.case_sha256)
            receipt = make_receipt({
                "aip_id": r["aip_id"], "archival_code": r["archival_code"],
                "version": r["version"], "source_system": r["source_system"],
                "case_id": r["case_id"], "case_sha256": c.case_sha256, "sha256": r["aip_sha256"],
                "received_at": iso(now), "archive": {"fonds": archive.settings.fonds,
                                                     "organization": archive.settings.organization},
                "transfer": {"transfer_id": pkg.manifest["transfer_id"], "sender": sender},
                # as ingest does: the receipt carries its own proof, so evidence checks it
                "audit": tree_heads.receipt_evidence(
                    s, entry.index, tree_heads.sign_head(s, archive, anchor=False))},
                archive.key)
            s.add(_item(archive, c, receipt))
            s.add(ReceivedItem(aip_id=r["aip_id"], transfer_id=pkg.manifest["transfer_id"],
                               original_archival_code=r["archival_code"],
                               aip_sha256=r["aip_sha256"], sender=sender,
                               sender_public_pem=pkg.sender_pem.decode("ascii"),
                               received_at=now, audit_index=entry.index))
    except BaseException:
        if stored:
            archive.store.abandon(r["aip_id"])
        raise
    archive.store.acknowledge(r["aip_id"])
    failpoints.reach("transfer.receive.after_item")
    return entry.index


def _sender(pkg: OpenedPackage) -> dict[str, Any]:
    s = pkg.manifest.get("sender") or {}
    return {k: s.get(k) for k in ("organization", "fonds", "key_id", "fingerprint", "code_rule")}


def _code_rule(pkg: OpenedPackage) -> ArchivalCodeRule:
    """The sender's numbering rule (its 全宗号), which the kept codes follow."""
    rule = (pkg.manifest.get("sender") or {}).get("code_rule")
    try:
        return ArchivalCodeRule(**rule)
    except (TypeError, ArchivalCodeError) as exc:
        raise PackageTampered(f"移交包中移交单位的档号规则不可用：{exc}") from exc


def _follow_up(archive: Archive, aip_ids: list[str]) -> None:
    """Replica and search index after the commit; a failure is repaired later
    (``dangan fixity backfill``, ``dangan index rebuild``), never undoes the filing."""
    for aip_id in aip_ids:
        for what, fn in (("replica", lambda a=aip_id: replica.write_replica(archive, a)),
                         ("index", lambda a=aip_id: index_item(archive, a))):
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - logged; the filing stands
                log.warning("transfer follow-up %s of %s failed: %s", what, aip_id, exc)


def receive(archive: Archive, package: Path, *, actor: str, sender_key: bytes | None = None,
            sender_fingerprint: str | None = None) -> ReceiveResult:
    """Verify the package, re-check each AIP, file them, return the signed receipt."""
    with archive.db.session() as s:
        actor = roles.require(s, actor, "retention.propose")
    work = archive.store.new_staging()
    try:
        pkg = open_package(Path(package), work / "pkg", sender_key=sender_key,
                           fingerprint=sender_fingerprint)
        tid = pkg.manifest["transfer_id"]
        with archive.db.session() as s:
            prior = s.get(TransferIn, tid)
            if prior is not None:
                if prior.manifest_sha256 != pkg.manifest_sha256:
                    raise ResentAltered(f"移交包 {tid} 已于 {iso(prior.received_at)} 接收，"
                                        "再次发来的内容不同：拒绝", [{"transfer_id": tid}])
                return ReceiveResult(prior.receipt, [], True)
        checked = [_check_aip(archive, pkg, row, work) for row in pkg.manifest["items"]]
        _refuse_clashes(archive, checked, tid)
        _trust_conflicts(archive, pkg)
        _register_source_keys(archive, pkg, actor)
        indexes = {c.row["aip_id"]: (None if c.skip else _file(archive, pkg, c, actor))
                   for c in checked}
        filed = [a for a, i in indexes.items() if i is not None]
        _follow_up(archive, filed)
        receipt, first = _conclude(archive, pkg, actor)
        return ReceiveResult(receipt, filed, already_received=not first)
    finally:
        remove_tree(work)


def _conclude(archive: Archive, pkg: OpenedPackage, actor: str) -> tuple[dict[str, Any], bool]:
    """The ``transfer:receive`` entry, a signed tree head, the receipt, in one window;
    False with the first receipt when a concurrent run of this package concluded first."""
    tid = pkg.manifest["transfer_id"]
    with archive.db.filing_session() as s:
        prior = s.get(TransferIn, tid)
        if prior is not None and prior.manifest_sha256 == pkg.manifest_sha256:
            return prior.receipt, False
        rows = {r.aip_id: r for r in s.scalars(select(ReceivedItem)
                                               .where(ReceivedItem.transfer_id == tid))}
        items = [{"aip_id": i["aip_id"], "archival_code": i["archival_code"],
                  "original_archival_code": i["archival_code"], "aip_sha256": i["aip_sha256"],
                  "audit_index": rows[i["aip_id"]].audit_index} for i in pkg.manifest["items"]]
        now = utcnow()
        facts = {"transfer_id": tid, "manifest_sha256": pkg.manifest_sha256,
                 "sender": _sender(pkg), "items": items, "received_by": actor,
                 "received_at": iso(now)}
        entry = audit_log.append(s, actor=actor, action="transfer:receive",
                                 object_id=f"transfer:{tid}", object_digest=sha256_of(facts),
                                 details=facts)
        tree_heads.sign_head(s, archive, anchor=False)
        receipt = make_transfer_receipt({
            **facts, "receiver": {"organization": archive.settings.organization,
                                  "fonds": archive.settings.fonds},
            "archival_codes": "kept", "audit_index": entry.index,
            "register": {"接收单位": archive.settings.organization, "接收人": actor,
                         "接收日期": iso(now)[:10],
                         "检验结果": "真实性、完整性、可用性、安全性（YJ）检测通过"}}, archive.key)
        s.add(TransferIn(transfer_id=tid, manifest_sha256=pkg.manifest_sha256,
                         sender=_sender(pkg), receipt=receipt, received_by=actor,
                         received_at=now, audit_index=entry.index))
        return receipt, True
