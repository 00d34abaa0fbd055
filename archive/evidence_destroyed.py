"""The evidence package of a lawfully destroyed case (``dangan evidence REF`` after 销毁).

Why: the AIP is gone, but an inspector must still be able to prove — offline, trusting
only the archive's public key — that the case had been filed, then was destroyed
lawfully: the tombstone, the register (销毁清册) as the permanent AIP it was filed as,
and the audit-log entries of each step (filing, appraisal decision, principal's approval,
备案, destruction, the register's filing and its link), each with its inclusion proof
under one signed tree head. ``dangan.packages.evidence_destroyed`` checks it.
"""

from __future__ import annotations

import hashlib
import html
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from dangan.packages import evidence as ev
from dangan.packages import evidence_destroyed as evd
from dangan.packages.aip import export_aip_zip

from . import audit_log, tree_heads
from .errors import ArchiveError, ConflictError, StoreError
from .evidence_zip import publish, sign_manifest, write_member
from .instance import Archive
from .timeutil import iso, utcnow
from .tombstones import Tombstone, register_of


def _one(entries: list[audit_log.AuditEntry], what: str) -> int:
    if not entries:
        raise ArchiveError(f"审计日志中没有{what}，无法出具销毁证据包")
    return entries[0].index


def _indexes(session: Any, stone: Tombstone, register: dict[str, Any]) -> dict[str, int]:
    """The audit entry of each role (``evidence_destroyed.ROLES``)."""
    ap = stone.facts.get("approvals") or {}
    find = audit_log.find_entries
    return {
        "filed": _one(find(session, object_id=stone.aip_id, action="aip:file"), "本件的归档记录"),
        "decided": _one(find(session, object_id=f"appraisal:{stone.appraisal_id}",
                             action="appraisal:decide"), "鉴定决定记录"),
        "principal": int(ap["principal"]["audit_index"]),
        "filing": int(ap["filing"]["audit_index"]),
        "destroyed": stone.audit_index,
        "register_filed": _one(find(session, object_id=register["aip_id"], action="aip:file"),
                               "销毁清册的归档记录"),
        "register_linked": int(register["audit_index"]),
    }


def _filing_consistency(session: Any, filed: int, sth: Any) -> dict[str, Any]:
    """The first head signed over the case's filing (what its receipt carried), the filing
    entry's proof under it, and the proof that the package's head extends it."""
    first = next(h for h in tree_heads.heads(session) if h.head.size > filed)
    doc = tree_heads.receipt_evidence(session, filed, first.sth)
    proof = audit_log.consistency_proof(session, first.head.size, sth.head.size)
    return {"signed_tree_head": first.sth.to_dict(), "index": filed,
            "inclusion_proof": doc["inclusion_proof"],
            "consistency_proof": [p.hex() for p in proof]}


def tombstone_doc(stone: Tombstone) -> dict[str, Any]:
    return {"type": "dangan-tombstone/v1", "aip_id": stone.aip_id, "kind": stone.kind,
            "archival_code": stone.archival_code, "version": stone.version,
            "source_system": stone.source_system, "case_id": stone.case_id,
            "title": stone.title, "year": stone.year, "retention": stone.retention,
            "aip_sha256": stone.aip_sha256, "case_sha256": stone.case_sha256,
            "batch_id": stone.batch_id, "appraisal_id": stone.appraisal_id,
            "register_ref": stone.register_ref, "method": stone.method, "facts": stone.facts,
            "removed_at": iso(stone.removed_at), "audit_index": stone.audit_index}


def _report(doc: dict[str, Any], register: dict[str, Any], proofs: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(f"<tr><td>{e(role)}</td><td>{p['index']}</td><td>{e(p['entry']['action'])}</td>"
                   f"<td>{e(p['entry']['time'])}</td></tr>" for role, p in proofs.items())
    f = doc["facts"]
    return (f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>销毁证据包 "
            f"{e(doc['archival_code'])}</title></head><body><h1>已依法销毁档案的证据包</h1>"
            f"<p>档号 <b>{e(doc['archival_code'])}</b>（AIP {e(doc['aip_id'])}，摘要 "
            f"{e(doc['aip_sha256'])}），{e(doc['title'])}</p>"
            f"<p>销毁清册 {e(doc['register_ref'])}，已归档为永久档案，档号 "
            f"{e(register['archival_code'])}；销毁方式：{e(doc['method'])}；监销人："
            f"{e('、'.join(f.get('supervisors') or []))}</p>"
            f"<table border=1><tr><th>环节</th><th>审计记录</th><th>动作</th><th>时间</th></tr>"
            f"{rows}</table><p>离线验证：<code>dangan package verify-evidence 本证据包.zip --key "
            f"档案馆公钥.pem</code></p></body></html>")


def build_destroyed_evidence(archive: Archive, stone: Tombstone, dest: Path, *,
                             actor: str) -> dict[str, Any]:
    """Write the evidence package of the destroyed case ``stone`` to ``dest``."""
    dest = Path(dest)
    if dest.exists():
        raise ConflictError(f"目标文件 {dest} 已存在：不覆盖，请换一个文件名")
    with archive.db.session() as s:
        register = register_of(s, stone.register_ref)
        if register is None:
            raise ArchiveError(f"销毁清册 {stone.register_ref} 尚未归档：运行 dangan retention "
                               "destruction execute --resume 补归档后再出具证据包")
        idx = _indexes(s, stone, register)
        stored = tree_heads.latest_stored(s)
    if stored is None or stored.head.size <= max(idx.values()):
        tree_heads.publish_head(archive)
    with archive.db.session() as s:
        stored = tree_heads.latest_stored(s)
        anchored = tree_heads.latest_stored(s, anchored=True)
        if anchored is not None and anchored.head.size > max(idx.values()):
            stored = anchored
        assert stored is not None
        proofs = {role: {k: v for k, v in tree_heads.receipt_evidence(s, i, stored.sth).items()
                         if k in ("index", "entry", "leaf_hash", "inclusion_proof")}
                  for role, i in idx.items()}
        consistency = _filing_consistency(s, idx["filed"], stored.sth)
    reg_path = archive.store.path(register["aip_id"])
    if not reg_path.is_dir():
        raise StoreError(f"销毁清册的信息包 {register['aip_id']} 在存储中不存在：请运行 dangan fixity run")
    doc, key, hashes = tombstone_doc(stone), archive.key, {}
    pretty = {"ensure_ascii": False, "indent": 2, "sort_keys": True}
    tmp = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dangan-evidence-") as work:
        reg_zip = Path(work) / "register.zip"
        export_aip_zip(reg_path, reg_zip)
        with zipfile.ZipFile(tmp, "w") as zf:
            name = f"{evd.REGISTER_PREFIX}{register['aip_id']}.zip"
            zf.write(reg_zip, name, compress_type=zipfile.ZIP_STORED)
            with open(reg_zip, "rb") as f:
                hashes[name] = {"sha256": hashlib.file_digest(f, "sha256").hexdigest(),
                                "size": reg_zip.stat().st_size}
            for fname, data in (
                (ev.ARCHIVE_KEY, key.public_pem),
                (evd.TOMBSTONE, json.dumps(doc, **pretty).encode()),
                (ev.TREE_HEAD, json.dumps(stored.sth.to_dict(), **pretty).encode()),
                (evd.PROOFS, json.dumps(proofs, **pretty).encode()),
                (evd.CONSISTENCY, json.dumps(consistency, **pretty).encode()),
                (ev.REPORT, _report(doc, register, proofs).encode()),
                *([(ev.TIMESTAMP, stored.tsa_token)] if stored.tsa_token else []),
            ):
                write_member(zf, fname, data, hashes)
            manifest = {"type": evd.DESTROYED_TYPE, "aip_id": stone.aip_id,
                        "archival_code": stone.archival_code, "register_ref": stone.register_ref,
                        "created_at": iso(utcnow()), "archive_key_id": key.key_id,
                        "files": hashes}
            raw = sign_manifest(zf, manifest, key)
    publish(tmp, dest)
    audit_log.record(archive.db, actor=actor, action="aip:export", object_id=stone.aip_id,
                     object_digest=hashlib.sha256(raw).hexdigest(),
                     details={"kind": "evidence_destroyed", "archival_code": stone.archival_code,
                              "register_ref": stone.register_ref,
                              "tree_size": stored.head.size})
    return {"aip_id": stone.aip_id, "archival_code": stone.archival_code, "path": str(dest),
            "chain_ok": True, "destroyed": True, "register": register,
            "files": sorted(hashes) + [ev.MANIFEST, ev.MANIFEST_SIG], "tree_size": stored.head.size}
