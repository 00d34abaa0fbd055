"""Evidence packages for inspectors (``dangan evidence CASE_ID DEST.zip``).

Why: an inspector takes the proof of one filed case away and checks it offline with
``dangan package verify-evidence`` (``dangan.packages.evidence``), trusting only the
archive's public key they obtained independently. The zip holds the AIP as exported,
the newest signed tree head, the inclusion proof of the case's ``aip:file`` log entry,
the receipt with a consistency proof from its tree head to the newest, the archive's
and the source system's public keys (the latter vouched for by a trust-store snapshot
signed by the archive key), and a report in Chinese (self-contained HTML).
A manifest of every file's SHA-256, signed with the archive key, binds them together.
Handing out the package is logged (``aip:export``).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dangan.packages import evidence as ev
from dangan.packages import signing
from dangan.packages import vocabulary as V
from dangan.packages.aip import export_aip_zip
from dangan.packages.archival_code import RETENTION_NAMES
from dangan.packages.case_schema import STEP_NAMES

from . import audit_log, catalogue, chain, tombstones, transfer_records, tree_heads
from .errors import ArchiveError, ConflictError, CustodyTransferred, StoreError
from .evidence_destroyed import build_destroyed_evidence
from .evidence_zip import publish, sign_manifest, write_member
from .instance import Archive
from .models import Item, TrustedSystemKey
from .timeutil import iso, iso_precise, local, utcnow

CHAIN_STEP_NAMES = V.CHAIN_STEPS
_CSS = ("body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}"
        "td,th{border:1px solid #bbb;padding:.3em .5em;text-align:left;vertical-align:top}"
        "th{background:#f0f0f0}.ok{color:#060}.bad{color:#b00;font-weight:bold}"
        "code{font-size:.85em;word-break:break-all}")


def _key_file(key_id: str) -> str:
    return "keys/source/" + re.sub(r"[^A-Za-z0-9._-]", "_", key_id) + ".pem"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _rows(header: tuple[str, ...], rows: list[tuple[Any, ...]], raw: int | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c if i == raw else _e(c)}</td>" for i, c in enumerate(r))
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_report(item: Item, verification: chain.ItemVerification, facts: dict[str, Any]) -> str:
    """The human-readable report: what the case is and what the archive proved about it."""
    mark = ('<span class="ok">通过</span>', '<span class="bad">不通过</span>')
    verdict = "全部验证通过" if verification.ok else "存在未通过的验证项"
    head = facts["head"]["tree_head"]
    entry = facts["inclusion"]
    parts = [
        f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>电子档案证据包 "
        f"{_e(item.archival_code)}</title><style>{_CSS}</style></head><body>",
        f"<h1>电子档案证据包</h1><p>档号 <b>{_e(item.archival_code)}</b>（第 {item.version} 版）"
        f"— 生成于 {_e(local(facts['created_at']))}（北京时间），生成时验证结论：<b>{verdict}</b></p>",
        "<h2>一、档案概要</h2>",
        _rows(("项目", "内容"), [
            ("题名", item.title), ("档号", item.archival_code), ("AIP 标识", item.aip_id),
            ("AIP 清单集摘要（SHA-256）", item.aip_sha256),
            ("来源系统 / 办件编号", f"{item.source_system} / {item.case_id}"),
            ("服务事项", f"{item.service_item_name}（{item.service_item_code}）"),
            ("经办机构", f"{item.agency_name}（{item.agency_code}）"),
            ("受理 / 办结", f"{local(item.accepted_at)} / {local(item.completed_at)}"),
            ("接收 / 归档", f"{local(item.received_at)} / {local(item.archived_at)}"),
            ("保管期限", RETENTION_NAMES.get(item.retention, item.retention))]),
        "<h2>二、生成时的链条验证</h2>",
        _rows(("验证项", "结果", "说明"), [
            (CHAIN_STEP_NAMES.get(s.step, s.step), mark[0] if s.ok else mark[1], s.message)
            for s in verification.steps], raw=1),
        "<h2>三、办理过程</h2>",
        _rows(("序号", "环节", "时间", "行为人", "行为"), [
            (e.seq, STEP_NAMES.get(e.step, e.step), local(e.at), f"{e.actor_name}（{e.actor_role}）",
             e.action) for e in item.events]),
        "<h2>四、电子文件</h2>",
        _rows(("序号", "题名", "文件", "字节", "SHA-256", "SM3"), [
            (f.seq, f.title, f.path, f.size, f.sha256, f.sm3) for f in item.files]),
        "<h2>五、审计日志证明</h2>",
        _rows(("项目", "内容"), [
            ("审计记录序号", entry["index"]), ("叶子哈希", entry["leaf_hash"]),
            ("签名树头", f"{head['size']} 条记录，根 {head['root_hex']}，时间 {head['timestamp']}"),
            ("日志标识", head["log_id"]),
            ("RFC 3161 时间戳", "有（audit/tree-head.tsr，时间戳服务对该树头的签名）" if facts.get("tsa_token")
             else "无（该树头未加盖时间戳）"),
            ("包含证明（自叶向根）", " ".join(entry["inclusion_proof"]) or "（空：树中仅此一条）")]),
        "<h2>六、公钥</h2>",
        _rows(("用途", "标识", "指纹（DER 公钥的 SHA-256）", "登记 / 吊销"), [
            ("档案馆签名密钥", facts["archive_key_id"], facts["archive_fingerprint"], ""),
            *([(f"移交方档案馆 {facts['sender'].get('organization')}（AIP 封装密钥）",
                facts["sender"].get("key_id"), facts["sender"].get("fingerprint"),
                f"移交 {facts['sender_transfer']} 接收")] if facts.get("sender") else []),
            *[(f"来源系统 {t['system']}", t["key_id"], t["fingerprint"],
               f"{t['added_at']} / {t['revoked_at'] or '未吊销'}") for t in facts["trust"]]]),
        "<h2>七、如何离线验证</h2><ol>"
        "<li>从档案馆以外的渠道取得档案馆公钥，核对其指纹与上表一致。</li>"
        "<li>运行 <code>dangan package verify-evidence 本证据包.zip --key 档案馆公钥.pem</code>"
        "（或 <code>--fingerprint 指纹</code>；只用 dangan.packages，无需档案实例、无需联网）。"
        "两者都不给时，结论至多是“内部一致，但未经独立密钥认证”（退出码 4）：用攻击者自己的密钥"
        "重签全部内容的证据包同样内部一致。</li>"
        "<li>该命令核对：清单签名与每个文件的 SHA-256；AIP 的结构、SHA-256 与 SM3 摘要和档案馆签名；"
        "签名树头；由审计记录规范 JSON 重算叶子哈希并验证包含证明（RFC 6962）；用来源系统公钥验证 "
        "case.json 的签名（该公钥须列于档案馆签署的登记快照中，且接收时有效）；回执签名及其树头被当前树头延续（一致性证明）。</li>"
        "<li>如需证明日志此后只增不改，保存 audit/tree-head.json，日后用 "
        "<code>dangan audit verify --against</code> 核对。</li></ol></body></html>",
    ]
    return "".join(parts)


def _trust(session: Any, system: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(TrustedSystemKey).where(TrustedSystemKey.system == system)
                           .order_by(TrustedSystemKey.key_id))
    return [{"system": r.system, "key_id": r.key_id, "algorithm": r.algorithm,
             "fingerprint": r.fingerprint, "added_at": iso_precise(r.added_at),
             "revoked_at": iso_precise(r.revoked_at) if r.revoked_at else None,
             "revoked_reason": r.revoked_reason, "file": _key_file(r.key_id),
             "pem": r.public_key_pem} for r in rows]


def _audit_facts(archive: Archive, item: Item) -> dict[str, Any]:
    """The aip:file entry, a signed head covering it, its proof, and the receipt's link.

    The head is the newest time-stamped one covering the entry if there is one (its
    RFC 3161 token goes into the package), else the newest head."""
    with archive.db.session() as session:
        _, entry = chain.reference_digest(session, item)
        if entry is None:
            raise ArchiveError(f"审计日志中没有 AIP {item.aip_id} 的归档入库记录（aip:file），无法出具证据包")
        stored = tree_heads.latest_stored(session)
    if stored is None or stored.head.size <= entry.index:
        tree_heads.publish_head(archive)
    with archive.db.session() as session:
        stored = tree_heads.latest_stored(session)
        anchored = tree_heads.latest_stored(session, anchored=True)
        if anchored is not None and anchored.head.size > entry.index:
            stored = anchored  # a head the TSA vouches for, with its token
        assert stored is not None
        size = stored.head.size
        doc = tree_heads.receipt_evidence(session, entry.index, stored.sth)
        old = ((item.receipt or {}).get("audit") or {}).get("signed_tree_head") or {}
        old_size = (old.get("tree_head") or {}).get("size") or 0
        cons = audit_log.consistency_proof(session, old_size, size) if 0 < old_size <= size else []
        trust = _trust(session, item.source_system)
    return {"inclusion": {k: doc[k] for k in ("index", "entry", "leaf_hash", "tree_size",
                                              "inclusion_proof")},
            "head": stored.sth.to_dict(), "trust": trust, "tsa_token": stored.tsa_token,
            "consistency": {"old_size": old_size, "new_size": size,
                            "consistency_proof": [p.hex() for p in cons]}}


def trust_snapshot(item: Item, facts: dict[str, Any], archive_key_id: str) -> bytes:
    """The source system's keys as the archive vouches for them (canonical JSON, to sign).

    Why: a source key shipped in the package proves nothing by itself — whoever forged
    case.json would ship their own. Signed by the archive key, the snapshot says which
    keys the archive's trust store held for the system, when each was added and revoked;
    the offline verifier accepts the source signature only under a key it lists that was
    valid when the case was received.
    """
    return ev.canonical_json({
        "type": ev.TRUST_TYPE, "aip_id": item.aip_id, "archival_code": item.archival_code,
        "case_id": item.case_id, "source_system": item.source_system,
        "received_at": iso(item.received_at), "created_at": iso(facts["created_at"]),
        "archive_key_id": archive_key_id,
        "keys": [{k: v for k, v in t.items() if k != "pem"} for t in facts["trust"]],
    })


def build_evidence(archive: Archive, ref: str, dest: Path, *, actor: str = "system:evidence") -> dict[str, Any]:
    """Write the evidence package of the item named by ``ref`` (newest version) to ``dest``;
    for a lawfully destroyed case, the destroyed case's package (``evidence_destroyed``)."""
    dest = Path(dest)
    if dest.exists():
        raise ConflictError(f"目标文件 {dest} 已存在：不覆盖，请换一个文件名")
    with archive.db.session() as session:
        try:
            item = catalogue.lookup(session, ref).item
        except catalogue.NotFound:
            found = tombstones.find(session, ref)
            stones = [t for t in found if t.kind == "destroyed"]
            if not stones and found:
                moved = found[-1]
                raise CustodyTransferred(
                    f"{moved.archival_code} 已于 {moved.removed_at:%Y-%m-%d} 移交（{moved.register_ref}"
                    f"{tombstones.removal_note(moved)}）：保管权已转移，证据包请在接收方档案馆出具；"
                    "本馆的移交记录可用 dangan verify 核验") from None
            if not stones:
                raise
            stone = stones[-1]
            session.expunge(stone)
            return build_destroyed_evidence(archive, stone, dest, actor=actor)
        verification = chain.verify_item(archive, session, item, archive.public_pem)
        received = session.get(transfer_records.ReceivedItem, item.aip_id)
        sender_pem = received.sender_public_pem.encode("ascii") if received is not None else None
        origin = (dict(received.sender or {}), received.transfer_id) if received else (None, None)
    path = archive.store.path(item.aip_id)
    if not path.is_dir():
        raise StoreError(f"目录中登记的 AIP {item.aip_id} 在存储中不存在：请运行 dangan fixity run")
    facts = _audit_facts(archive, item)
    key = archive.key
    facts.update(sender=origin[0], sender_transfer=origin[1])
    facts.update(created_at=utcnow(), archive_key_id=key.key_id,
                 archive_fingerprint=signing.key_fingerprint(key.public_pem))
    hashes: dict[str, dict[str, Any]] = {}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    with tempfile.TemporaryDirectory(prefix="dangan-evidence-") as work:
        aip_zip = Path(work) / f"{item.aip_id}.zip"
        export_aip_zip(path, aip_zip)
        with zipfile.ZipFile(tmp, "w") as zf:
            name = f"{ev.AIP_PREFIX}{item.aip_id}.zip"
            zf.write(aip_zip, name, compress_type=zipfile.ZIP_STORED)
            with open(aip_zip, "rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
            hashes[name] = {"sha256": digest, "size": aip_zip.stat().st_size}
            pretty = {"ensure_ascii": False, "indent": 2, "sort_keys": True}
            snapshot = trust_snapshot(item, facts, key.key_id)
            for fname, data in (
                (ev.ARCHIVE_KEY, key.public_pem),
                (ev.SOURCE_TRUST, snapshot),
                (ev.SOURCE_TRUST_SIG, signing.sign(key.private_key, key.key_id, snapshot).to_json()),
                *((t["file"], t["pem"].encode("ascii")) for t in facts["trust"]),
                *([(ev.SENDER_KEY, sender_pem)] if sender_pem else []),
                (ev.TREE_HEAD, json.dumps(facts["head"], **pretty).encode()),
                (ev.INCLUSION, json.dumps(facts["inclusion"], **pretty).encode()),
                (ev.CONSISTENCY, json.dumps(facts["consistency"], **pretty).encode()),
                (ev.RECEIPT, json.dumps(item.receipt, **pretty).encode()),
                (ev.REPORT, render_report(item, verification, facts).encode()),
                *([(ev.TIMESTAMP, facts["tsa_token"])] if facts["tsa_token"] else []),
            ):
                write_member(zf, fname, data, hashes)
            manifest = {"type": ev.EVIDENCE_TYPE, "aip_id": item.aip_id,
                        "archival_code": item.archival_code, "case_id": item.case_id,
                        "source_system": item.source_system, "created_at": iso(facts["created_at"]),
                        "archive_key_id": key.key_id, "files": hashes}
            raw = sign_manifest(zf, manifest, key)
    publish(tmp, dest)
    audit_log.record(archive.db, actor=actor, action="aip:export", object_id=item.aip_id,
                     object_digest=hashlib.sha256(raw).hexdigest(),
                     details={"kind": "evidence", "archival_code": item.archival_code,
                              "tree_size": facts["head"]["tree_head"]["size"],
                              "chain_ok": verification.ok})
    return {"aip_id": item.aip_id, "archival_code": item.archival_code, "path": str(dest),
            "chain_ok": verification.ok, "files": sorted(hashes) + [ev.MANIFEST, ev.MANIFEST_SIG],
            "tree_size": facts["head"]["tree_head"]["size"]}
