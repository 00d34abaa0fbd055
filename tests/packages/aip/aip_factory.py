"""A small real submission (PDF, PNG, XML) and the AIPInput the ingest layer would hand over."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from dangan.packages import signing
from dangan.packages.aip import AIPInput, BuiltAIP, build_aip
from dangan.packages.archival_code import ArchivalCodeRule
from dangan.packages.digests import digest_file

RULE = ArchivalCodeRule(fonds="Z109", doc_class="SB", item_width=5)
ARCHIVAL_CODE = RULE.format(2024, "D100", "GL", 7)
AIP_ID = "aip-2024-000007"
ORG = "测试市社会保险事业管理中心"
RECEIVED = datetime(2024, 3, 10, 8, 0, tzinfo=UTC)
ARCHIVED = RECEIVED + timedelta(minutes=5)


def pdf_bytes(pages: int = 2) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for n in range(pages):
        c.drawString(72, 720, f"Application form page {n + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, format="PNG", dpi=(300, 300))
    return buf.getvalue()


XML_BYTES = "<?xml version='1.0' encoding='UTF-8'?><参保信息><姓名>张三</姓名></参保信息>".encode()


@dataclass
class Keys:
    source: signing.PrivateKey
    archive: signing.PrivateKey
    other: signing.PrivateKey

    @property
    def archive_pem(self) -> bytes:
        return signing.public_key_pem(self.archive)


def make_keys() -> Keys:
    return Keys(*(signing.generate_private_key(signing.ED25519) for _ in range(3)))


def write_submission(root: Path, source_key: signing.PrivateKey,
                     edit: Callable[[dict[str, Any]], None] | None = None) -> AIPInput:
    """Write case.json (changed by ``edit``), case.json.sig and files/…; return the AIPInput."""
    files = {
        "申请表.pdf": pdf_bytes(2),
        "scan/身份证.png": png_bytes(),
        "info.xml": XML_BYTES,
    }
    kinds = {"申请表.pdf": ("application_form", "born_digital", "application/pdf", "参保登记表"),
             "scan/身份证.png": ("id_document", "digitized", "image/png", "居民身份证复印件"),
             "info.xml": ("evidence", "born_digital", "application/xml", "参保信息")}
    entries = []
    digests = {}
    for n, (rel, data) in enumerate(files.items(), 1):
        p = root / "files" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        d = digest_file(p)
        digests[f"files/{rel}"] = d
        kind, origin, mt, title = kinds[rel]
        entries.append({"id": f"f{n}", "path": rel, "title": title, "kind": kind, "origin": origin,
                        "media_type": mt, "size": d.size, "sha256": d.sha256, "sm3": d.sm3,
                        "created_at": "2024-03-01T09:00:00+08:00"})
    person = {"kind": "person", "name": "张三", "id_type": "resident_id", "id_number": "11010519491231002X"}
    case: dict[str, Any] = {
        "schema": "dangan/case-submission/1",
        "case_id": "BJ-2024-0001",
        "source_system": "sbjb-hx",
        "agency": {"code": "110105", "name": "朝阳区社会保险事业管理中心"},
        "service_item": {"code": "SI-YL-0101", "name": "企业职工基本养老保险参保登记"},
        "insurance": ["pension"],
        "channel": "window",
        "applicant": person,
        "subjects": [person],
        "title": "张三企业职工基本养老保险参保登记",
        "result": {"outcome": "approved", "decision_no": "朝社保〔2024〕7号", "summary": "准予登记"},
        "accepted_at": "2024-03-01T09:00:00+08:00",
        "completed_at": "2024-03-05T16:00:00+08:00",
        "events": [
            {"seq": 1, "step": "accept", "at": "2024-03-01T09:00:00+08:00",
             "actor": {"id": "u01", "name": "李四", "role": "受理员"}, "action": "受理", "files": ["f1", "f2"]},
            {"seq": 2, "step": "handle", "at": "2024-03-04T10:00:00+08:00",
             "actor": {"id": "u02", "name": "王五", "role": "审核员"}, "action": "审核通过", "files": ["f3"],
             "note": "材料齐全"},
            {"seq": 3, "step": "feedback", "at": "2024-03-05T16:00:00+08:00",
             "actor": {"id": "system", "name": "系统", "role": "system"}, "action": "短信告知", "files": []},
        ],
        "files": entries,
        "security": {"classification": "internal", "personal_info": True},
    }
    if edit is not None:
        edit(case)
    case_bytes = json.dumps(case, ensure_ascii=False, indent=2).encode("utf-8")
    (root / "case.json").write_bytes(case_bytes)
    (root / "case.json.sig").write_bytes(signing.sign(source_key, "sbjb-2024-01", case_bytes).to_json())
    return AIPInput(
        aip_id=AIP_ID,
        archival_code=ARCHIVAL_CODE,
        version=1,
        submission_root=root,
        case=case,
        case_bytes=case_bytes,
        file_digests=digests,
        identified={
            "files/申请表.pdf": {"media_type": "application/pdf", "format_name": "PDF 文档", "pages": 2},
            "files/scan/身份证.png": {"media_type": "image/png", "format_name": "PNG 图像", "pages": 1,
                                    "dpi": 300},
        },
        filing={"fonds": "Z109", "organization": ORG, "category": "管理类", "category_code": "GL",
                "retention": "D100", "classification_code": "GL-01",
                "service_item_name": "企业职工基本养老保险参保登记",
                "legal_basis": "《社会保险业务档案管理规定（试行）》附件：参保人员登记材料 100年"},
        archive_event={"seq": 4, "step": "archive", "at": ARCHIVED.isoformat(),
                       "actor": {"id": "dangan", "name": "Dangan", "role": "system"}, "action": "存档"},
        check_results=[{"code": "GD-1-1", "nature": "authenticity", "name": "固化信息有效性", "stage": "GD",
                        "result": "pass", "blocking": True, "message": "签名有效",
                        "evidence": [{"path": "case.json.sig", "note": "密钥 sbjb-2024-01"}]}],
        received_at=RECEIVED,
        archived_at=ARCHIVED,
        supersedes=None,
    )


def build(tmp: Path, keys: Keys, *, move: bool = True,
          edit: Callable[[dict[str, Any]], None] | None = None,
          **changes: Any) -> tuple[BuiltAIP, AIPInput]:
    """Write a submission (case.json changed by ``edit``), apply ``changes`` to the AIPInput, build."""
    sub = tmp / "submission"
    sub.mkdir(parents=True)
    inp = write_submission(sub, keys.source, edit)
    for k, v in changes.items():
        setattr(inp, k, v)
    built = build_aip(inp, tmp / "aips" / inp.aip_id, keys.archive, "archive-2024", move_payload=move)
    return built, inp
