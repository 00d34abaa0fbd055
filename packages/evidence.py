"""Offline verification of an evidence package (证据包) with ``dangan.packages`` alone.

Why: an inspector must be able to check, on their own machine and without trusting the
archive, that a filed case is what the source system signed, that the archive sealed
it, that its filing is in the archive's tamper-evident log under a signed tree head,
and that the receipt the source system holds says the same. Every part of the package
is covered: by the manifest (SHA-256 of each file, signed by the archive key), by its
own signature (AIP, tree head, receipt, case.json) or by a proof (inclusion,
consistency), so a change to any part fails verification.

Layout of the zip (flat): ``manifest.json`` + ``manifest.sig.json``, ``aip/<id>.zip``
(the AIP as exported), ``audit/tree-head.json`` (signed head), ``audit/inclusion-proof
.json`` (the ``aip:file`` entry and its proof), ``audit/receipt-consistency.json``,
``keys/archive-public-key.pem``, ``keys/source/trust.json`` (a trust-store snapshot
signed by the archive key: ``keys/source/trust.sig.json``) + ``keys/source/*.pem``,
``receipt.json`` and ``report.html``.

A package is *verified* only when the archive key is authenticated from outside the
package — the key itself (``--key``) or its fingerprint (``--fingerprint``). Without
either, every check can hold on a package an attacker re-signed throughout with their own
key: the answer is then "consistent, not authenticated" (``status`` ``unauthenticated``),
never "verified". Source-system keys count only as vouched for by the archive key's
signed snapshot, valid (added, not yet revoked) when the case was received.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from cryptography import x509

from .aip import read_aip, validate_aip
from .aip.bag import CASE_SIG
from .canonical import canonical_json
from .errors import PackageError, SignatureError, UnsafeContainer
from .evidence_common import (
    AIP_PREFIX,
    ARCHIVE_KEY,
    CONSISTENCY,
    EVIDENCE_TYPE,
    FAILED,
    INCLUSION,
    MANIFEST,
    MANIFEST_SIG,
    RECEIPT,
    RECEIPT_TYPE,
    REPORT,
    SENDER_KEY,
    TIMESTAMP,
    TREE_HEAD,
    UNAUTHENTICATED,
    VERIFIED,
    EvidenceReport,
    EvidenceStep,
    EvidenceZip,
    Facts,
    head_step,
    key_step,
    manifest_step,
    read_json,
    timestamp_step,
)
from .evidence_destroyed import DESTROYED_TYPE, verify_destroyed
from .evidence_trust import (
    SOURCE_TRUST,
    SOURCE_TRUST_SIG,
    TRUST_TYPE,
    fingerprints,
    normalize_fingerprint,
    vouched_source_key,
)
from .merkle import leaf_hash, verify_inclusion
from .safezip import open_zip
from .signing import DetachedSignature, key_fingerprint, verify
from .tree_head import SignedTreeHead, verify_extends, verify_tree_head

__all__ = ["AIP_PREFIX", "ARCHIVE_KEY", "CONSISTENCY", "EVIDENCE_TYPE", "FAILED", "INCLUSION",
           "MANIFEST", "MANIFEST_SIG", "RECEIPT", "REPORT", "SOURCE_TRUST", "SOURCE_TRUST_SIG",
           "TIMESTAMP", "TREE_HEAD", "TRUST_TYPE", "UNAUTHENTICATED", "VERIFIED",
           "EvidenceReport", "EvidenceStep", "canonical_json", "fingerprints",
           "normalize_fingerprint", "verify_evidence"]


def _sealing_key(z: EvidenceZip, f: Facts) -> bytes | None:
    """The key the AIP is checked under: the archive's own, or for a case received by
    transfer (移交) the sender archive's key shipped in the package.

    Why sound: the sender key counts only if its fingerprint is the one named in the
    receiving archive's ``aip:file`` entry (details.transfer.sender); ``_inclusion_step``
    then proves that entry is in the log under the receiver's signed tree head. A swapped
    "sender" key (with the AIP re-sealed under it) fails there or here.
    """
    if SENDER_KEY not in z.members:
        return f.key
    pem = z.read(SENDER_KEY)
    f.sealer_fingerprint = key_fingerprint(pem)
    return pem


def _transfer_sender(entry: dict[str, Any]) -> dict[str, Any] | None:
    details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
    t = details.get("transfer")
    return t if isinstance(t, dict) and isinstance(t.get("sender"), dict) else None


def _aip_step(z: EvidenceZip, r: EvidenceReport, f: Facts) -> None:
    names = [n for n in z.members if n.startswith(AIP_PREFIX) and n.endswith(".zip")]
    sealer = _sealing_key(z, f) if f.key is not None else None
    if len(names) != 1 or f.key is None or sealer is None:
        r.add("aip", False, "证据包中应恰有一个 aip/*.zip，且需有档案馆公钥", {"found": names})
        return
    with tempfile.TemporaryDirectory(prefix="dangan-evidence-") as tmp:
        target = Path(tmp) / "aip.zip"
        with open(target, "wb") as out:
            z.sha256(names[0], out)
        v = validate_aip(target, sealer)
        if v.valid or v.description is not None:
            try:
                with read_aip(target) as reader:
                    f.case_bytes = reader.case_bytes
                    f.case_sig = reader.read_bytes(CASE_SIG) if CASE_SIG in reader.files else None
            except PackageError:
                pass
    d = ((v.description or {}).get("signed_object") or {}).get("content", {}).get("record", {})
    f.aip_id, f.archival_code, f.aip_digest = v.aip_id, v.archival_code, v.aip_digest
    f.case_id = (d.get("description") or {}).get("case_id")
    f.source_system = (d.get("description") or {}).get("source_system")
    f.received_at = (d.get("submission") or {}).get("received_at")
    r.aip_id, r.archival_code = v.aip_id, v.archival_code
    ev = {"path": names[0], "aip_id": v.aip_id, "archival_code": v.archival_code,
          "aip_digest": v.aip_digest, "key_source": v.key_source, "problems": v.problems}
    if not v.valid or v.key_source != "given":
        r.add("aip", False, "AIP 校验不通过：" + "；".join(p["note"] for p in v.problems[:10]), ev)
    elif f.sealer_fingerprint is not None:
        r.add("aip", True, f"AIP {v.archival_code} 结构、SHA-256 与 SM3 摘要、描述文件均有效，且由证据包所附的移交方"
              f"档案馆密钥（指纹 {f.sealer_fingerprint[:16]}…）签名有效；该密钥须为本馆接收记录所载（见审计日志证明）",
              {**ev, "sealer_fingerprint": f.sealer_fingerprint})
    else:
        r.add("aip", True, f"AIP {v.archival_code} 结构、SHA-256 与 SM3 摘要、描述文件与档案馆签名均有效", ev)


def _inclusion_step(z: EvidenceZip, r: EvidenceReport, f: Facts) -> None:
    try:
        doc = read_json(z.read(INCLUSION), "包含证明")
        entry, index = doc["entry"], doc["index"]
        f.leaf = leaf_hash(canonical_json(entry))
        proof = [bytes.fromhex(p) for p in doc["inclusion_proof"]]
    except (PackageError, KeyError, TypeError, ValueError) as exc:
        r.add("inclusion", False, f"包含证明无法读取：{getattr(exc, 'message', exc)}", None)
        return
    problems = []
    if f.head is None:
        problems.append("没有有效的签名树头")
    elif not verify_inclusion(f.leaf, index, f.head.head.size, proof, f.head.head.root):
        problems.append(f"由审计记录重算的叶子不在签名树头（{f.head.head.size} 条）之中：包含证明不成立")
    details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
    for what, found, want in (("动作", entry.get("action"), "aip:file"),
                              ("序号", entry.get("index"), index),
                              ("对象（AIP 标识）", entry.get("object_id"), f.aip_id),
                              ("对象摘要（AIP 清单集摘要）", entry.get("object_digest"), f.aip_digest),
                              ("档号", details.get("archival_code"), f.archival_code),
                              ("办件编号", details.get("case_id"), f.case_id),
                              ("来源系统", details.get("source_system"), f.source_system)):
        if found != want:
            problems.append(f"审计记录的{what}为 {found!r}，应为 {want!r}")
    ev = {"index": index, "leaf_hash": f.leaf.hex(), "entry": entry,
          "tree_size": f.head.head.size if f.head else None}
    transfer = _transfer_sender(entry)
    named = (transfer or {}).get("sender", {}).get("fingerprint")
    if f.sealer_fingerprint is not None and named != f.sealer_fingerprint:
        problems.append(f"证据包所附移交方密钥的指纹 {f.sealer_fingerprint} 不是本馆接收时登记的 {named!r}："
                        "移交方密钥被替换")
    elif f.sealer_fingerprint is None and transfer is not None:
        problems.append("审计记录表明本件经移交接收，但证据包未附移交方档案馆公钥")
    if problems:
        r.add("inclusion", False, "审计日志证据不成立：" + "；".join(problems), ev)
    elif transfer is not None:
        # the source key must have been trusted HERE when this archive filed the case
        f.filed_at = entry.get("time") if isinstance(entry.get("time"), str) else ""
        sender = transfer["sender"]
        r.add("inclusion", True, f"审计日志第 {index} 条（归档入库）包含在签名树头之中，AIP 摘要一致；"
              f"AIP 由移交方档案馆 {sender.get('organization')}（指纹 {named}）封装，"
              f"于 {str(entry.get('time') or '')[:10]} 经移交 {transfer.get('transfer_id')} 接收",
              {**ev, "transfer": transfer})
    else:
        r.add("inclusion", True, f"审计日志第 {index} 条（归档入库）包含在签名树头之中，且记录的 AIP 摘要与证据包中的"
              "AIP 一致", ev)


def _source_step(z: EvidenceZip, r: EvidenceReport, f: Facts) -> None:
    try:
        sig = DetachedSignature.from_json(f.case_sig or b"")
        if f.case_bytes is None:
            raise SignatureError("信息包中缺少 case.json")
        t, pem, snapshot = vouched_source_key(z.read, f.key, f.aip_id, f.source_system,
                                              sig.key_id, f.received_at, f.filed_at)
        verify(pem, sig, f.case_bytes)
    except PackageError as exc:
        r.add("source_signature", False, f"case.json 的来源签名无法验证：{exc.message}", None)
        return
    late = f"；该密钥已于 {t['revoked_at']} 吊销（{t.get('revoked_reason')}），晚于本件接收时间" \
        if t.get("revoked_at") else ""
    r.add("source_signature", True, f"case.json 由来源系统 {f.source_system} 的密钥 {sig.key_id}（指纹 "
          f"{key_fingerprint(pem)[:16]}…，登记于 {t.get('added_at')}，经档案馆签署的登记快照担保）签名，"
          f"接收时有效{late}", {**t, "received_at": f.received_at,
                           "snapshot_created_at": snapshot.get("created_at")})


def _receipt_step(z: EvidenceZip, r: EvidenceReport, f: Facts) -> None:
    try:
        receipt = read_json(z.read(RECEIPT), "回执")
        body = {k: v for k, v in receipt.items() if k != "signature"}
        sig = DetachedSignature.from_json(json.dumps(receipt.get("signature", {})).encode())
        if f.key is None:
            raise SignatureError("没有可用的档案馆公钥")
        verify(f.key, sig, canonical_json(body))
    except (PackageError, AttributeError) as exc:
        r.add("receipt", False, f"回执签名无效：{getattr(exc, 'message', exc)}", None)
        return
    problems = [f"回执中的 {k} 为 {receipt.get(k)!r}，应为 {want!r}"
                for k, want in (("type", RECEIPT_TYPE), ("aip_id", f.aip_id),
                                ("archival_code", f.archival_code), ("sha256", f.aip_digest),
                                ("case_id", f.case_id), ("source_system", f.source_system))
                if receipt.get(k) != want]
    problems += _receipt_audit_problems(z, receipt.get("audit"), f)
    if problems:
        r.add("receipt", False, "回执与证据包不一致：" + "；".join(problems), {"receipt": body})
    else:
        r.add("receipt", True, "回执由档案馆密钥签名有效，所述 AIP、档号、摘要一致；回执中的树头为当前树头所延续",
              {"archived_at": receipt.get("archived_at")})


def _receipt_audit_problems(z: EvidenceZip, audit: Any, f: Facts) -> list[str]:
    """The receipt's own proof holds, and the package head extends the receipt's head."""
    if not isinstance(audit, dict):
        return ["回执中没有审计日志证据"]
    try:
        old = SignedTreeHead.from_dict(audit["signed_tree_head"])
        verify_tree_head(old, f.key or b"")
        leaf = leaf_hash(canonical_json(audit["entry"]))
        proof = [bytes.fromhex(p) for p in audit["inclusion_proof"]]
        cons_doc = read_json(z.read(CONSISTENCY), "回执树头的一致性证明")
        cons = [bytes.fromhex(p) for p in cons_doc["consistency_proof"]]
    except (PackageError, KeyError, TypeError, ValueError) as exc:
        return [f"回执中的审计证据无法读取：{getattr(exc, 'message', exc)}"]
    out = []
    if leaf != f.leaf:
        out.append("回执记载的审计记录与证据包中的不是同一条")
    if not verify_inclusion(leaf, audit["index"], old.head.size, proof, old.head.root):
        out.append("回执中的包含证明不成立")
    if f.head is None or not verify_extends(old, f.head, cons):
        out.append("证据包中的签名树头不是回执中树头的追加延续：日志被改写")
    return out


def _manifest_type(z: EvidenceZip) -> Any:
    """Which kind of package this claims to be (checked, signed, by ``manifest_step``)."""
    try:
        doc = read_json(z.read(MANIFEST), "清单 manifest.json")
    except PackageError:
        return None
    return doc.get("type") if isinstance(doc, dict) else None


def verify_evidence(path: Path, archive_public_key_pem: bytes | None = None,
                    fingerprint: str | None = None,
                    tsa_roots: list[x509.Certificate] | None = None) -> EvidenceReport:
    """Check every part of the evidence package at ``path``; report each step. A destroyed
    case's package (manifest type ``dangan-evidence-destroyed/v1``) is checked by
    ``evidence_destroyed`` after the same key, manifest and tree-head steps.

    ``archive_public_key_pem``: the inspector's own copy of the archive key; or
    ``fingerprint``: its SHA-256 or SM3 fingerprint (hex), matched against the included
    key. With neither, the included key is used and the report is at best
    ``unauthenticated`` (``report.ok`` is False): consistent, not verified.
    ``tsa_roots``: the TSA's root (and intermediate) certificates; the head's time stamp
    is then required and its signature and chain verified.
    """
    report = EvidenceReport(path=str(path))
    try:
        zf = open_zip(path)
    except UnsafeContainer as exc:
        report.add("container", False, f"证据包无法打开：{exc.message}")
        return report
    with zf:
        try:
            z = EvidenceZip(zf)
        except UnsafeContainer as exc:
            report.add("container", False, f"证据包不安全，拒绝读取：{exc.message}")
            return report
        facts = Facts()
        key_step(z, archive_public_key_pem, fingerprint, report, facts)
        destroyed = _manifest_type(z) == DESTROYED_TYPE
        steps = (manifest_step, head_step) if destroyed else (
            manifest_step, _aip_step, head_step, _inclusion_step, _source_step, _receipt_step)
        for step in steps:
            try:
                if step is manifest_step:
                    manifest_step(z, report, facts, (DESTROYED_TYPE,) if destroyed
                                  else (EVIDENCE_TYPE,))
                else:
                    step(z, report, facts)
                if step is head_step:
                    timestamp_step(z, report, facts, tsa_roots)
            except (PackageError, zipfile.BadZipFile, OSError, EOFError) as exc:
                report.add(step.__name__.strip("_").removesuffix("_step"), False,
                           f"无法完成本项验证：{getattr(exc, 'message', exc)}")
        if destroyed:
            verify_destroyed(z, report, facts)
    return report
