"""Filing the destruction register (销毁清册) into the archive as a permanent record.

Why through ingest: the register must be proved like any case (人社部/国家档案局令第3号
§22: the 清册 is kept permanently) — its own archival code, AIP, catalogue row and
``aip:file`` entry. The archive itself is the sending system (``dangan-archive``, signing
case.json with the archive key it trusts for that purpose); the service item
``SB-ZH-XH-001`` (其他类, 永久) files it. ``ingest`` and ``retention`` do not import each
other, so the caller passes the filing function (``RegisterFiler``).

Crash safety: the submission is built once into ``registers/<清册编号>/`` (renamed into
place whole), so a rerun files byte-identical content — ingest answers it with the first
receipt — and then the ``destruction:register`` audit entry links 清册编号 → archival code
and AIP. A batch is complete for good only with that entry (``pending`` finds the rest).
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from dangan.archive import audit_log, failpoints, keys
from dangan.archive.instance import Archive
from dangan.archive.timeutil import iso
from dangan.archive.tombstones import REGISTER_ACTION, Tombstone, register_of
from dangan.packages import signing
from dangan.packages.digests import sha256_hex, sm3_hex

from . import register_doc
from .errors import RetentionInputError
from .models import Appraisal, DestructionBatch

SOURCE_SYSTEM = "dangan-archive"
SERVICE_ITEM = "SB-ZH-XH-001"
REGISTER_DIR = "registers"
SYSTEM_ACTOR = "system:destruction"


@dataclass(frozen=True)
class FiledRegister:
    aip_id: str
    archival_code: str
    aip_sha256: str


RegisterFiler = Callable[[Archive, Path], FiledRegister]


def _t(dt: Any) -> str:
    return iso(dt) if dt is not None else ""


def facts_of(archive: Archive, batch_id: int) -> dict[str, Any]:
    """Everything the register states, from the batch, its appraisal and its tombstones."""
    with archive.db.session() as s:
        b = s.get(DestructionBatch, batch_id)
        if b is None or b.state != "complete":
            raise RetentionInputError(f"销毁批次 {batch_id} 尚未销毁完毕，不能编制销毁清册")
        a = s.get(Appraisal, b.appraisal_id)
        assert a is not None
        stones = list(s.scalars(select(Tombstone).where(Tombstone.batch_id == batch_id)
                                .order_by(Tombstone.archival_code, Tombstone.aip_id)))
        first = stones[0].facts if stones else {}
        return {
            "register_ref": b.register_ref, "batch": b.id, "fonds": archive.settings.fonds,
            "organization": archive.settings.organization,
            "agency": first.get("agency") or {},
            "appraisal": {"id": a.id, "reason": a.reason, "proposed_by": a.proposed_by,
                          "members": [o.member for o in a.opinions],
                          "decided_by": a.decided_by, "decided_at": _t(a.decided_at),
                          "conclusion": a.conclusion,
                          "record_sha256": sha256_hex(audit_log.canonical_json(
                              a.decision_record or {}))},
            "approvals": dict(b.approvals or {}), "supervisors": list(b.supervisors or []),
            "method": b.method or "", "executed_by": b.executed_by or "",
            "opened_at": _t(b.opened_at), "started_at": _t(b.started_at),
            "completed_at": _t(b.completed_at),
            "items": [{"seq": n, "aip_id": t.aip_id, "archival_code": t.archival_code,
                       "title": t.title, "source_system": t.source_system,
                       "case_id": t.case_id, "year": t.year, "retention": t.retention,
                       "aip_sha256": t.aip_sha256, "audit_index": t.audit_index}
                      for n, t in enumerate(stones, 1)],
        }


def _archive_key_id(archive: Archive) -> str:
    return "archive-" + signing.key_fingerprint(archive.key.public_pem)[:16]


def ensure_trusted(archive: Archive) -> str:
    """Register the archive's own key as the register's sending system (once, logged)."""
    key_id = _archive_key_id(archive)
    with archive.db.session() as s:
        known = {k.key_id for k in keys.trusted_keys_for(s, SOURCE_SYSTEM)}
    if key_id not in known:
        keys.trust_add(archive.db, SOURCE_SYSTEM, key_id, archive.key.public_pem,
                       actor=SYSTEM_ACTOR)
    return key_id


def _file_entry(fid: str, path: str, title: str, media: str, data: bytes, at: str,
                pages: int | None = None) -> dict[str, Any]:
    out = {"id": fid, "path": path, "title": title, "kind": "other", "origin": "born_digital",
           "media_type": media, "size": len(data), "sha256": sha256_hex(data),
           "sm3": sm3_hex(data), "created_at": at}
    return {**out, "pages": pages} if pages else out


def _events(f: dict[str, Any]) -> list[dict[str, Any]]:
    """The register's trail: opened → approvals and 备案 → executed → register compiled."""
    ap = f["approvals"]
    steps = [("accept", f["opened_at"], ap.get("principal", {}).get("recorded_by") or "archive",
              f"开立销毁批次 {f['batch']}（鉴定 {f['appraisal']['id']}）", [])]
    for kind in sorted(ap, key=lambda k: ap[k]["recorded_at"]):
        steps.append(("handle", ap[kind]["recorded_at"], ap[kind]["recorded_by"],
                      f"记录{ap[kind]['name']}：{ap[kind]['approver']}，文号 "
                      f"{ap[kind]['document_no']}", []))
    steps.append(("handle", f["started_at"], f["executed_by"],
                  f"在监销人 {'、'.join(f['supervisors'])} 监督下销毁（{f['method']}）", []))
    steps.append(("feedback", f["completed_at"], f["executed_by"],
                  f"销毁完毕，编制销毁清册 {f['register_ref']}", ["F01", "F02"]))
    return [{"seq": n, "step": step, "at": at,
             "actor": {"id": who, "name": who, "role": "档案管理人员"},
             "action": action, "files": files}
            for n, (step, at, who, action, files) in enumerate(steps, 1)]


def _case(f: dict[str, Any], pdf: bytes, xml: bytes, pages: int) -> dict[str, Any]:
    agency = f["agency"]
    if not agency.get("code"):
        raise RetentionInputError(f"销毁批次 {f['batch']} 的销毁记录中没有经办机构，无法编制销毁清册")
    org = {"kind": "unit", "name": f["organization"], "id_type": "other", "id_number": f["fonds"]}
    principal = f["approvals"]["principal"]
    return {
        "schema": "dangan/case-submission/1", "case_id": f["register_ref"],
        "source_system": SOURCE_SYSTEM, "agency": {"code": agency["code"], "name": agency["name"]},
        "service_item": {"code": SERVICE_ITEM, "name": "社会保险业务档案销毁清册"},
        "insurance": ["pension", "injury", "unemployment"], "channel": "window",
        "applicant": org, "subjects": [org],
        "title": f"社会保险业务档案销毁清册 {f['register_ref']}（{len(f['items'])} 件）",
        "result": {"outcome": "approved", "decision_no": principal["document_no"],
                   "summary": f"经鉴定（第 {f['appraisal']['id']} 号）、批准并备案，"
                              f"销毁 {len(f['items'])} 件"},
        "accepted_at": f["opened_at"], "completed_at": f["completed_at"],
        "events": _events(f),
        "files": [_file_entry("F01", "F01-销毁清册.pdf", "销毁清册", "application/pdf", pdf,
                              f["completed_at"], pages),
                  _file_entry("F02", "F02-销毁清册.xml", "销毁清册（XML）", "application/xml",
                              xml, f["completed_at"])],
        "security": {"classification": "internal", "personal_info": True},
    }


def stage(archive: Archive, batch_id: int) -> Path:
    """The register's submission directory, built once (reused byte for byte on a rerun)."""
    facts = facts_of(archive, batch_id)
    root = archive.home / REGISTER_DIR
    final = root / facts["register_ref"]
    if (final / "case.json.sig").exists():
        return final
    key_id = ensure_trusted(archive)
    pdf = register_doc.sign_pdf(archive, register_doc.render_pdf(facts), facts["register_ref"])
    xml = register_doc.render_xml(facts)
    case = _case(facts, pdf, xml, len(PdfReader(io.BytesIO(pdf)).pages))
    tmp = root / f".tmp-{facts['register_ref']}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "files").mkdir(parents=True)
    (tmp / "files" / "F01-销毁清册.pdf").write_bytes(pdf)
    (tmp / "files" / "F02-销毁清册.xml").write_bytes(xml)
    data = (json.dumps(case, ensure_ascii=False, indent=2) + "\n").encode()
    (tmp / "case.json").write_bytes(data)
    (tmp / "case.json.sig").write_bytes(signing.sign(archive.key.private_key, key_id,
                                                     data).to_json())
    try:
        tmp.rename(final)  # whole or not at all
    except OSError:  # another process staged it first: file those bytes, not ours
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def link(archive: Archive, batch_id: int, filed: FiledRegister) -> dict[str, Any]:
    """The ``destruction:register`` entry: 清册编号 → the filed register (once)."""
    with archive.db.filing_session() as s:
        b = s.get(DestructionBatch, batch_id)
        assert b is not None
        if (done := register_of(s, b.register_ref)) is not None:
            return done
        details = {"batch": b.id, "register_ref": b.register_ref, "aip_id": filed.aip_id,
                   "archival_code": filed.archival_code, "items": len(b.items)}
        audit_log.append(s, actor=b.executed_by or SYSTEM_ACTOR, action=REGISTER_ACTION,
                         object_id=b.register_ref, object_digest=filed.aip_sha256,
                         details=details)
    with archive.db.session() as s:
        out = register_of(s, details["register_ref"])
    assert out is not None
    return out


def pending(archive: Archive) -> list[int]:
    """Completed destructions whose register is not filed and linked yet."""
    with archive.db.session() as s:
        rows = s.execute(select(DestructionBatch.id, DestructionBatch.register_ref)
                         .where(DestructionBatch.state == "complete")
                         .order_by(DestructionBatch.id)).all()
        return [bid for bid, ref in rows if register_of(s, ref) is None]


def complete(archive: Archive, filer: RegisterFiler) -> list[dict[str, Any]]:
    """Stage, file and link the register of every completed destruction still lacking one."""
    out = []
    for batch_id in pending(archive):
        path = stage(archive, batch_id)
        failpoints.reach("register.after_stage")
        filed = filer(archive, path)
        failpoints.reach("register.after_file")
        out.append(link(archive, batch_id, filed))
        shutil.rmtree(path, ignore_errors=True)
    return out


__all__ = ["FiledRegister", "RegisterFiler", "complete", "facts_of", "link", "pending", "stage"]
