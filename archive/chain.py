"""Chain verification (``dangan verify``): prove one filed item end to end from its evidence.

Why: an inspector must be able to establish, for any case, that the sender signed it,
that it went lead → accept → handle → feedback → archive, that the stored bytes are
those filed, that the catalogue says what the package says, that the filing is in the
tamper-evident log under the current signed tree head, and that every copy agrees —
trusting neither the database nor the operators. Each step recomputes from stored
bytes, signatures and the log, and names its evidence; the item holds only if every
step holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dangan.packages.aip import inspect_aip
from dangan.packages.aip.bag import CASE_JSON, CASE_SIG
from dangan.packages.aip.validate import AIPValidation
from dangan.packages.aip.validate_parts import BagView
from dangan.packages.case_schema import STEP_NAMES
from dangan.packages.checks.engine import Result
from dangan.packages.errors import KeyError_, SignatureError
from dangan.packages.evidence import EvidenceStep as Step
from dangan.packages.merkle import verify_inclusion
from dangan.packages.problem import Problem
from dangan.packages.signing import DetachedSignature, verify
from dangan.packages.tree_head import SignedTreeHead, verify_extends, verify_tree_head

from . import audit_log, catalogue, crosscheck, replica, tombstones, transfer_records, tree_heads
from .chain_facts import (
    catalogue_differences,
    dig,
    reference_digest,
    stored_context,
)
from .fixity_measure import MEASURE_BATCH, Measured, measure
from .instance import Archive
from .log_prefix import LogPrefix
from .models import Item, TrustedSystemKey
from .receipts import verify_receipt
from .timeutil import iso

__all__ = ["ItemVerification", "Step", "catalogue_differences", "reference_digest",
           "stored_context", "verify_all", "verify_item", "verify_ref"]

DIGEST_CODES = ("digest.", "file.", "oxum.", "manifest.", "tagmanifest.", "tagfile.", "tagdigest.",
                "layout.", "description.", "bagit.", "baginfo.", "metadata.", "aip.")


@dataclass
class ItemVerification:
    aip_id: str
    archival_code: str
    version: int
    source_system: str
    case_id: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"aip_id": self.aip_id, "archival_code": self.archival_code, "version": self.version,
                "source_system": self.source_system, "case_id": self.case_id, "ok": self.ok,
                "steps": [s.to_dict() for s in self.steps]}


@dataclass
class _Copy:
    path: Path
    validation: AIPValidation
    view: BagView | None


def _head_problems(archive: Archive, session: Session, item: Item, index: int, leaf: bytes,
                   public_pem: bytes, ev: dict[str, Any], prefix: LogPrefix) -> list[str]:
    """Inclusion of the entry in the newest signed head; that head extends the receipt's;
    the log up to the entry, recomputed, is what the receipt's head signed."""
    stored = tree_heads.latest_stored(session)
    if stored is None:
        return ["尚无签名树头，无法证明本件的审计记录已被承诺"]
    sth = stored.sth
    ev["signed_tree_head"] = {"seq": stored.seq, **sth.to_dict()}
    try:
        verify_tree_head(sth, public_pem)
    except SignatureError:
        return [f"最新签名树头 #{stored.seq} 的签名不是档案馆密钥所签：树头伪造"]
    if sth.head.log_id != tree_heads.log_id_for(archive):
        return [f"最新签名树头属于日志 {sth.head.log_id}，不是本档案馆的日志"]
    if index >= sth.head.size:
        return [f"最新签名树头（{sth.head.size} 条）尚未包含第 {index} 条记录"]
    problems = []
    try:
        proof = audit_log.inclusion_proof(session, index, sth.head.size)
    except audit_log.AuditLogError as exc:
        return [f"无法生成包含证明：{exc.message}"]
    ev["inclusion_proof"] = [p.hex() for p in proof]
    if not verify_inclusion(leaf, index, sth.head.size, proof, sth.head.root):
        problems.append(f"第 {index} 条记录不在签名树头（{sth.head.size} 条，根 {sth.head.root_hex[:16]}…）"
                        "之中：包含证明不成立")
    raw = dig(item.receipt, "audit", "signed_tree_head")
    base, base_label = sth, f"最新签名树头 #{stored.seq}"
    if raw is not None:
        try:
            old = SignedTreeHead.from_dict(raw)
            verify_tree_head(old, public_pem)
            if index < old.head.size <= sth.head.size:
                base, base_label = old, "回执中的签名树头"
            cons = (audit_log.consistency_proof(session, old.head.size, sth.head.size)
                    if 0 < old.head.size <= sth.head.size else [])
            extends = verify_extends(old, sth, cons)
        except (SignatureError, audit_log.AuditLogError, ValueError) as exc:
            extends = False
            ev["receipt_head_error"] = str(exc)
        ev["receipt_head_size"] = dig(raw, "tree_head", "size")
        if not extends:
            problems.append("当前签名树头不是回执中树头的追加延续：日志曾被回滚或改写")
    problems += prefix.problems(session, base.head, base_label)
    ev["prefix_verified"] = {"size": base.head.size, "head": base_label}
    return problems


def _audit_step(archive: Archive, session: Session, item: Item, aip_digest: str | None,
                public_pem: bytes, prefix: LogPrefix) -> Step:
    _, entry = reference_digest(session, item)
    if entry is None:
        return Step("audit_log", False, "审计日志中没有本件的归档入库记录（aip:file）", None)
    leaf = audit_log.entry_leaf_hash(entry.body())
    ev: dict[str, Any] = {"index": entry.index, "entry": entry.body(), "leaf_hash": leaf.hex(),
                          "stored_leaf_hash": entry.leaf_hash.hex()}
    problems = []
    if leaf != entry.leaf_hash:
        problems.append(f"第 {entry.index} 条审计记录的内容与其叶子哈希不符：记录被改动")
    if entry.object_digest != aip_digest:
        problems.append(f"审计记录中的 AIP 摘要 {entry.object_digest} 与存储的 AIP 摘要 {aip_digest} 不符")
    for key, want in (("archival_code", item.archival_code), ("case_id", item.case_id),
                      ("source_system", item.source_system)):
        if entry.details.get(key) != want:
            problems.append(f"审计记录中的 {key} 为 {entry.details.get(key)!r}，目录中为 {want!r}")
    problems += _head_problems(archive, session, item, entry.index, leaf, public_pem, ev, prefix)
    if problems:
        return Step("audit_log", False, "审计日志证据不成立：" + "；".join(problems), ev)
    head = ev["signed_tree_head"]["tree_head"]
    return Step("audit_log", True, f"审计日志第 {entry.index} 条记录了本件归档，包含在最新签名树头"
                f"（{head['size']} 条，{head['timestamp']}）之中，包含证明成立；前 "
                f"{ev['prefix_verified']['size']} 条记录逐条重算，与{ev['prefix_verified']['head']}一致",
                ev)


def _source_step(session: Session, item: Item, copy: _Copy) -> Step:
    view = copy.view
    if view is None or CASE_JSON not in view.files or CASE_SIG not in view.files:
        return Step("source_signature", False, "信息包中缺少 case.json 或 case.json.sig，无法验证来源签名",
                    {"path": str(copy.path)})
    case_bytes = view.read(CASE_JSON)
    try:
        sig = DetachedSignature.from_json(view.read(CASE_SIG))
    except SignatureError as exc:
        return Step("source_signature", False, f"来源签名文件无法读取：{exc.message}", {"path": CASE_SIG})
    row = session.scalar(select(TrustedSystemKey).where(
        TrustedSystemKey.system == item.source_system, TrustedSystemKey.key_id == sig.key_id))
    ev: dict[str, Any] = {"system": item.source_system, "key_id": sig.key_id, "alg": sig.alg,
                          "case_sha256": hashlib.sha256(case_bytes).hexdigest(),
                          "received_at": iso(item.received_at)}
    if row is None:
        return Step("source_signature", False,
                    f"信任库中没有系统 {item.source_system} 的密钥 {sig.key_id}：无法确认来源", ev)
    ev.update(fingerprint=row.fingerprint, added_at=iso(row.added_at),
              revoked_at=iso(row.revoked_at) if row.revoked_at else None,
              revoked_reason=row.revoked_reason)
    try:
        verify(row.public_key_pem.encode("ascii"), sig, case_bytes)
    except (SignatureError, KeyError_) as exc:
        return Step("source_signature", False, f"case.json 与来源签名不符：{exc.message}", ev)
    registered = [e for e in audit_log.find_entries(session, object_id=f"{row.system}/{row.key_id}",
                                                   action="trust:add")
                  if e.object_digest == row.fingerprint]
    ev["trust_add_entry"] = registered[0].index if registered else None
    if not registered:
        return Step("source_signature", False, "信任库中该密钥的指纹与审计日志中的登记记录（trust:add）不符："
                    "信任库可能被改动", ev)
    if row.revoked_at is not None and row.revoked_at <= item.received_at:
        return Step("source_signature", False, f"签名密钥 {sig.key_id} 在接收本件之前（{iso(row.revoked_at)}）"
                    "已被吊销", ev)
    note = (f"；该密钥已于 {iso(row.revoked_at)} 吊销（{row.revoked_reason}），晚于本件接收时间，归档时有效"
            if row.revoked_at else "")
    return Step("source_signature", True, f"case.json 的来源签名有效（{item.source_system} 密钥 {sig.key_id}，"
                f"指纹 {row.fingerprint[:16]}…）{note}", ev)


def _trail_step(archive: Archive, session: Session, item: Item, copy: _Copy,
                public_pem: bytes) -> Step:
    desc = copy.validation.description
    events = ((desc or {}).get("signed_object") or {}).get("content", {}).get("events") or []
    trail = [{"seq": e.get("seq"), "step": e.get("step"), "at": e.get("at")} for e in events]
    if copy.view is None or desc is None:
        return Step("process_trail", False, "无法读取信息包描述，过程信息无法验证", trail)
    ctx = stored_context(archive, session, item, copy.path, copy.validation, copy.view, public_pem)
    if ctx.case is None:
        return Step("process_trail", False, "信息包中的 case.json 不可读，过程信息无法验证", trail)
    problems: list[str] = []
    for code in ("GD-2-5", "GD-2-6"):
        verdict = archive.checks.get(code).func(ctx)
        if verdict.result is Result.FAIL:
            problems.append(f"{code} {verdict.message}")
    submitted = ctx.case.get("events") if isinstance(ctx.case.get("events"), list) else []
    if not events or events[-1].get("step") != "archive":
        problems.append("描述文件的业务过程没有以“存档”结束")
    elif [e.get("seq") for e in events] != list(range(1, len(events) + 1)):
        problems.append("描述文件中的业务行为序号不连续")
    strip = [{k: e.get(k) for k in ("seq", "step", "at")} for e in submitted if isinstance(e, dict)]
    if strip != trail[:-1]:
        problems.append("描述文件中的过程信息与来源签名的 case.json 不一致")
    if problems:
        return Step("process_trail", False, "过程信息不完整或顺序错误：" + "；".join(problems), trail)
    names = "→".join(STEP_NAMES.get(x, x) for x in dict.fromkeys(e["step"] for e in trail))
    return Step("process_trail", True, f"过程信息完整有序（{len(trail)} 个业务行为：{names}），以存档结束", trail)


def _digest_step(copy: _Copy) -> Step:
    problems = [p for p in copy.validation.problems if p["code"].startswith(DIGEST_CODES)]
    payload = {p: s for p, s in copy.validation.files.items() if p.startswith("data/")}
    ev = {"path": str(copy.path), "files": len(payload), "bytes": sum(payload.values()),
          "algorithms": ["sha256", "sm3"], "aip_digest": copy.validation.aip_digest,
          "problems": problems}
    if problems:
        notes = "；".join(p["note"] for p in problems[:10])
        return Step("manifest_digests", False, f"存储的字节与清单不符（{len(problems)} 处）：{notes}", ev)
    return Step("manifest_digests", True, f"{len(payload)} 个载荷文件（{ev['bytes']} 字节）的 SHA-256 与 SM3 "
                "摘要与清单逐一相符，标签清单一致", ev)


def _signature_step(copy: _Copy) -> Step:
    v = copy.validation
    problems = [p for p in v.problems if p["code"].startswith("signature.")]
    ev = {"key_id": v.signer_key_id, "fingerprint": v.signer_fingerprint, "key_source": v.key_source,
          "problems": problems}
    if problems or v.key_source != "given":
        notes = "；".join(p["note"] for p in problems[:5]) or "未用档案馆公钥验证"
        return Step("aip_signature", False, f"AIP 签名无效：{notes}", ev)
    return Step("aip_signature", True, f"AIP 签名由档案馆密钥 {v.signer_key_id}（指纹 "
                f"{(v.signer_fingerprint or '')[:16]}…）签署，有效", ev)


def _receipt_problems(item: Item, aip_digest: str | None, public_pem: bytes) -> list[dict[str, Any]]:
    """The receipt kept in the catalogue is the archive's signed statement about this AIP."""
    receipt = item.receipt or {}
    try:
        verify_receipt(receipt, public_pem)
    except (SignatureError, KeyError_) as exc:
        return [Problem("receipt.signature", None, field="receipt",
                        note=f"目录中的回执签名无效：{exc.message}").to_dict()]
    return [Problem("receipt.mismatch", None, field=f"receipt.{k}", expected=want,
                    found=receipt.get(k),
                    note=f"回执中的 {k} 为 {receipt.get(k)!r}，应为 {want!r}").to_dict()
            for k, want in (("aip_id", item.aip_id), ("archival_code", item.archival_code),
                            ("sha256", aip_digest), ("case_sha256", item.case_sha256))
            if receipt.get(k) != want]


def _catalogue_step(session: Session, item: Item, copy: _Copy, public_pem: bytes) -> Step:
    if copy.validation.description is None or copy.view is None:
        return Step("catalogue", False, "信息包描述不可读，无法比对目录", None)
    case_sha = (hashlib.sha256(copy.view.read(CASE_JSON)).hexdigest()
                if CASE_JSON in copy.view.files else None)
    full = catalogue.get_item(session, item.aip_id)
    problems = catalogue_differences(full, copy.validation.description,
                                     copy.validation.aip_digest, case_sha)
    problems += _receipt_problems(full, copy.validation.aip_digest, public_pem)
    if problems:
        notes = "；".join(p["note"] for p in problems[:10])
        return Step("catalogue", False, f"目录记录与 AIP 描述不符（{len(problems)} 处）：{notes}", problems)
    return Step("catalogue", True, f"目录记录（题名、档号、{len(full.files)} 个文件及摘要、{len(full.parties)} 个"
                f"当事人、{len(full.events)} 个业务行为）与 AIP 描述一致", {"fields_compared": "all"})


def _replica_step(archive: Archive, item: Item, primary_digest: str | None,
                  public_pem: bytes, measured: Measured | None = None) -> Step:
    evidence = []
    ok = True
    for name, store in replica.stores(archive).items():
        if name == replica.PRIMARY:
            continue
        path = store.path(item.aip_id)
        if not path.is_dir():
            ok = False
            evidence.append({"copy": name, "path": str(path), "ok": False, "note": "副本不存在"})
            continue
        v, _ = inspect_aip(path, public_pem, (measured or {}).get(name))
        agrees = v.valid and v.aip_digest == primary_digest
        ok = ok and agrees
        evidence.append({"copy": name, "path": str(path), "ok": agrees, "aip_digest": v.aip_digest,
                         "problems": v.problems[:20]})
    if ok:
        return Step("replicas", True, f"{len(evidence)} 个副本完整有效，与主存储的清单集摘要一致", evidence)
    notes = "；".join(f"{e['copy']}：{e.get('note') or '与主存储不一致或已损坏'}" for e in evidence if not e["ok"])
    return Step("replicas", False, f"副本不一致：{notes}（运行 dangan fixity run 检查并修复）", evidence)


def verify_item(archive: Archive, session: Session, item: Item, public_pem: bytes,
                measured: Measured | None = None, prefix: LogPrefix | None = None
                ) -> ItemVerification:
    """Every step for one catalogued item; never stops at the first failure.

    ``measured``: digests of the copies' payload just taken by ``fixity_measure.measure``
    (several items hashed together); files not in it are read and hashed here.
    ``prefix``: the audit log rebuilt so far, shared by the items of one run.
    """
    prefix = prefix if prefix is not None else LogPrefix()
    aip_pem = transfer_records.signer_pem(session, item.aip_id, public_pem)  # received: sender's
    out = ItemVerification(item.aip_id, item.archival_code, item.version, item.source_system,
                           item.case_id)
    path = archive.store.path(item.aip_id)
    if not path.is_dir():
        gone = f"存储中没有 AIP {item.aip_id}（{path}）：信息包被删除或移走"
        out.steps += [Step(s, False, gone, {"path": str(path)}) for s in
                      ("source_signature", "process_trail", "manifest_digests", "aip_signature",
                       "catalogue")]
        out.steps.append(_audit_step(archive, session, item, None, public_pem, prefix))
        out.steps.append(_replica_step(archive, item, None, aip_pem, measured))
        return out
    validation, view = inspect_aip(path, aip_pem, (measured or {}).get(replica.PRIMARY))
    copy = _Copy(path, validation, view)
    out.steps.append(_source_step(session, item, copy))
    out.steps.append(_trail_step(archive, session, item, copy, aip_pem))
    out.steps.append(_digest_step(copy))
    out.steps.append(_signature_step(copy))
    out.steps.append(_catalogue_step(session, item, copy, public_pem))
    out.steps.append(_audit_step(archive, session, item, validation.aip_digest, public_pem,
                                 prefix))
    out.steps.append(_replica_step(archive, item, validation.aip_digest, aip_pem, measured))
    return out


def verify_ref(archive: Archive, ref: str, public_pem: bytes | None = None
               ) -> list[ItemVerification]:
    """Verify every version named by a case id, AIP id or archival code.

    ``public_pem``: the archive key as the inspector obtained it (key registry), so a key
    replaced in the archive's home by whoever re-signed its packages is not trusted.
    """
    pem = public_pem or archive.public_pem
    with archive.db.session() as session:
        try:
            found = catalogue.lookup(session, ref)
        except catalogue.NotFound:
            from .chain_removal import removal_verification  # it builds on verify_item

            removed = [removal_verification(archive, session, t, pem)
                       for t in tombstones.find(session, ref)]
            if not removed:
                crosscheck.refuse_lost_record(session, ref)
                raise
            return removed
        items = found.versions if found.matched_by != "aip_id" else [found.item]
        measured = measure(archive, [i.aip_id for i in items])
        prefix = LogPrefix()
        return [verify_item(archive, session, i, pem, measured.get(i.aip_id), prefix)
                for i in items]


def verify_all(archive: Archive, public_pem: bytes | None = None
               ) -> Iterator[ItemVerification]:
    """Verify every catalogued item, oldest first (``public_pem`` as in ``verify_ref``)."""
    pem = public_pem or archive.public_pem
    with archive.db.session() as session:
        ids = list(session.scalars(select(Item.aip_id).order_by(Item.archived_at, Item.aip_id)))
    prefix = LogPrefix()
    for start in range(0, len(ids), MEASURE_BATCH):
        batch = ids[start:start + MEASURE_BATCH]
        measured = measure(archive, batch)
        for aip_id in batch:
            with archive.db.session() as session:
                yield verify_item(archive, session, catalogue.get_item(session, aip_id), pem,
                                  measured.get(aip_id), prefix)
