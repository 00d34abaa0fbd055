"""Rendering a planned case: real file bytes and the case.json that describes them.

Each planned file becomes a real document in a realistic format — born-digital PDF or
OFD for what the agency issues, XML for information sheets, and for paper the applicant
brought in a scan (JPEG, TIFF or image-only PDF) at 200–300 dpi. case.json follows
shared/spec/case-submission.md field by field, with sizes, SHA-256 and SM3 taken from
the bytes actually written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dangan.packages.digests import sha256_hex, sm3_hex

from . import documents as D
from . import evidence as E
from .facts import Facts
from .layout import Doc, render_pdf
from .ofd import render_ofd
from .plan import CasePlan, PlannedFile
from .profiles import Material
from .scans import image_pdf, render_scans, to_jpeg, to_tiff

SCHEMA = "dangan/case-submission/1"
MEDIA = {"pdf": "application/pdf", "scan_pdf": "application/pdf", "ofd": "application/ofd",
         "jpeg": "image/jpeg", "tiff": "image/tiff", "tiff_g4": "image/tiff",
         "xml": "application/xml", "png": "image/png"}
EXT = {"pdf": "pdf", "scan_pdf": "pdf", "ofd": "ofd", "jpeg": "jpg", "tiff": "tif",
       "tiff_g4": "tif", "xml": "xml", "png": "png"}


@dataclass
class BuiltFile:
    entry: dict[str, Any]  # the case.json file entry
    data: bytes


@dataclass
class BuiltCase:
    case: dict[str, Any]
    files: list[BuiltFile] = field(default_factory=list)
    plan: CasePlan | None = None


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def _is_xml(m: Material) -> bool:
    return m.kind == "transfer_form" or "信息表" in m.title


def choose_format(m: Material, rng: random.Random) -> str:
    if _is_xml(m):
        return "xml"
    if m.origin == "digitized":
        if m.kind == "id_document":
            return rng.choices(("jpeg", "scan_pdf"), (65, 35))[0]
        return rng.choices(("jpeg", "tiff", "tiff_g4", "scan_pdf"), (45, 12, 10, 33))[0]
    ofd_share = {"decision": 40, "refusal_notice": 30, "acceptance_notice": 15}.get(m.kind, 5)
    return rng.choices(("ofd", "pdf"), (ofd_share, 100 - ofd_share))[0]


def _id_holder(f: Facts, m: Material):
    if f.person is not None and not any(w in m.title for w in ("法定代表人", "经办人", "项目负责人")):
        return f.person
    unit = f.unit or f.subject
    return unit.legal_rep if ("法定代表人" in m.title or "负责人" in m.title) else unit.contact


def layout_for(plan: CasePlan, pf: PlannedFile) -> Doc | bytes:
    """The laid-out document (or the XML bytes) for one planned file."""
    f, m, at = plan.facts, pf.material, pf.at
    if _is_xml(m):
        return E.info_sheet_xml(f, m, at)
    kind = m.kind
    if kind == "application_form":
        return D.application_form(f, m, at)
    if kind == "acceptance_notice":
        received = [p.material for p in plan.files if p.role == "received"]
        return D.acceptance_notice(f, m, at, received)
    if kind == "guidance_notice":
        missing = [x for x in f.item.materials if x.origin == "digitized" and x.kind != "other"][:2]
        return D.guidance_notice(f, m, at, missing)
    if kind == "refusal_notice":
        return D.refusal_notice(f, m, at)
    if kind == "decision":
        return D.decision(f, m, at)
    if kind == "transfer_letter":
        return D.transfer_letter(f, m, at)
    if kind == "id_document":
        return E.id_card_copy(_id_holder(f, m), at, m.title)
    if kind == "other" and "撤回" in m.title:
        return D.withdrawal(f, m, at)
    if kind == "other" and m.title in ("授权委托书", "送达回证"):
        return D.proxy(f, m, at) if m.title == "授权委托书" else D.receipt(f, m, at)
    if kind == "other" and "协议" in m.title:
        return E.agreement(f, m, at)
    if m.origin == "digitized":
        if "认证" in m.title:
            return E.certification_record(f, m, at)
        return E.certificate(f, m, at)
    return E.contribution_record(f, m, at)


def encode(doc: Doc | bytes, fmt: str, rng: random.Random,
           colour: bool = False) -> tuple[bytes, int | None]:
    """File bytes in format ``fmt`` and the page count (None for XML)."""
    if isinstance(doc, bytes):
        return doc, None
    pages = len(doc.pages)
    if fmt == "pdf":
        return render_pdf(doc), pages
    if fmt == "ofd":
        return render_ofd(doc, f"{rng.getrandbits(128):032x}"), pages
    dpi = rng.choice((200, 200, 300)) if fmt in ("tiff_g4",) else 200
    images = render_scans(doc, rng, dpi=dpi, mode="RGB" if colour else "L")
    if fmt == "jpeg":
        return to_jpeg(images[0], dpi), 1
    if fmt in ("tiff", "tiff_g4"):
        return to_tiff(images, dpi, bilevel=fmt == "tiff_g4"), pages
    return image_pdf([to_jpeg(im, dpi) for im in images], dpi, doc), pages


def render_case(plan: CasePlan, rng: random.Random, source_system: str) -> BuiltCase:
    built = BuiltCase(case={}, plan=plan)
    for pf in plan.files:
        m = pf.material
        pf.fmt = pf.fmt or choose_format(m, rng)
        doc = layout_for(plan, pf)
        if pf.fmt == "jpeg" and isinstance(doc, Doc) and len(doc.pages) > 1:
            pf.fmt = "scan_pdf"  # a JPEG holds one page; a multi-page paper goes to PDF
        colour = m.kind == "id_document" or (pf.fmt != "tiff_g4" and rng.random() < 0.3)
        data, pages = encode(doc, pf.fmt, rng, colour)
        folder = "scans/" if m.origin == "digitized" else ""
        entry: dict[str, Any] = {
            "id": pf.id,
            "path": f"{folder}{pf.id}-{m.kind}.{EXT[pf.fmt]}",
            "title": m.title,
            "kind": m.kind,
            "origin": m.origin,
            "media_type": MEDIA[pf.fmt],
            "size": len(data),
            "sha256": sha256_hex(data),
            "sm3": sm3_hex(data),
            "created_at": iso(pf.at),
        }
        if pages is not None:
            entry["pages"] = pages
        built.files.append(BuiltFile(entry, data))
    built.case = case_json(plan, source_system, [b.entry for b in built.files])
    return built


_HEADLINE = ("月基本养老金", "合计", "一次性支付金额", "一次性伤残补助金", "丧葬补助金", "核定金额")


def _summary(f: Facts) -> str:
    if f.outcome == "approved":
        key = next((k for k in _HEADLINE if k in f.amounts), None)
        extra = f"；{key} {f.amounts[key]} 元" if key else ""
        return f"准予办理“{f.item.name}”{extra}"
    if f.outcome == "rejected":
        return f"不予办理：{f.reason}"
    if f.outcome == "not_accepted":
        return f"不予受理：{f.reason}"
    return f"申请人撤回申请，办件终止：{f.reason}"


def case_json(plan: CasePlan, source_system: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    f = plan.facts
    result: dict[str, Any] = {"outcome": f.outcome}
    if f.decision_no:
        result["decision_no"] = f.decision_no
    result["summary"] = _summary(f)
    sensitive = f.item.classification_code.startswith("GS-ZF") or "病残" in f.item.name
    events = [{**ev, "at": iso(ev["at"])} for ev in plan.events]
    return {
        "schema": SCHEMA,
        "case_id": f.case_id,
        "source_system": source_system,
        "agency": {"code": f.agency.code, "name": f.agency.name},
        "service_item": {"code": f.item.code, "name": f.item.name},
        "insurance": list(f.item.insurance),
        "channel": f.channel,
        "applicant": f.applicant.party(),
        "subjects": [f.subject.party()],
        "title": f"{f.subject.name}{f.item.name}",
        "result": result,
        "accepted_at": iso(f.accepted_at),
        "completed_at": iso(f.completed_at),
        "events": events,
        "files": files,
        "security": {
            "classification": "restricted" if sensitive else "internal",
            "personal_info": f.person is not None or any(
                fl["kind"] == "id_document" for fl in files),
        },
    }
