"""Builds real case submissions for check tests: files on disk, case.json, a real signature.

``make_case()`` returns a minimal valid case dict whose ``files`` match ``payloads()``;
``build(tmp_path, case, payloads)`` writes the submission and returns a ``CheckContext``
as the ingest layer would (bytes measured from disk, signature from a real key).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image
from pypdf import PdfWriter

from dangan.packages import signing
from dangan.packages.checks import CheckContext, FileFacts, FilingRule, Stage, TrustedKey
from dangan.packages.checks.context import CatalogueFacts
from dangan.packages.digests import sm3_hex

SYSTEM = "sbjb-hx"
KEY_ID = "sbjb-2024-01"
ITEM_CODE = "SI-YL-0101"
ITEM_NAME = "企业职工基本养老保险参保登记"
NOW = datetime(2024, 3, 10, 8, 0, tzinfo=UTC)

RULE = FilingRule(
    code=ITEM_CODE,
    name=ITEM_NAME,
    category="管理类",
    category_code="GL",
    retention="D100",
    classification_code="GL-01",
    required_documents={
        "approved": ("application_form", "id_document", "acceptance_notice", "decision"),
        "rejected": ("application_form", "acceptance_notice", "decision"),
        "not_accepted": ("application_form", "refusal_notice"),
        "withdrawn": ("application_form",),
    },
    legal_basis="社会保险业务档案管理规定（试行）附件：参保人员登记材料 100 年",
)


def pdf_bytes(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@lru_cache(maxsize=1)
def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 40), (200, 180, 160)).save(buf, "JPEG", dpi=(300, 300))
    return buf.getvalue()


def payloads() -> dict[str, bytes]:
    """File bytes by path relative to files/."""
    return {
        "01-application.pdf": pdf_bytes(2),
        "02-id-card.jpg": jpeg_bytes(),
        "03-acceptance.pdf": pdf_bytes(1),
        "04-decision.pdf": pdf_bytes(1),
    }


_FILES = [
    ("f1", "01-application.pdf", "参保登记表", "application_form", "born_digital", "application/pdf", 2),
    ("f2", "02-id-card.jpg", "居民身份证", "id_document", "digitized", "image/jpeg", None),
    ("f3", "03-acceptance.pdf", "受理告知书", "acceptance_notice", "born_digital", "application/pdf", 1),
    ("f4", "04-decision.pdf", "参保登记核准通知", "decision", "born_digital", "application/pdf", 1),
]


def file_entry(fid: str, path: str, data: bytes, *, title: str = "材料", kind: str = "evidence",
               origin: str = "born_digital", media_type: str = "application/pdf",
               pages: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": fid, "path": path, "title": title, "kind": kind, "origin": origin,
        "media_type": media_type, "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "sm3": sm3_hex(data),
        "created_at": "2024-03-01T09:05:00+08:00",
    }
    if pages is not None:
        entry["pages"] = pages
    return entry


def person(name: str = "张三", id_number: str = "11010519491231002X") -> dict[str, Any]:
    return {"kind": "person", "name": name, "id_type": "resident_id", "id_number": id_number}


def make_case(files: dict[str, bytes] | None = None) -> dict[str, Any]:
    data = payloads() if files is None else files
    entries = [
        file_entry(fid, path, data[path], title=title, kind=kind, origin=origin,
                   media_type=mt, pages=pages)
        for fid, path, title, kind, origin, mt, pages in _FILES if path in data
    ]
    return {
        "schema": "dangan/case-submission/1",
        "case_id": "BJ-2024-000123",
        "source_system": SYSTEM,
        "agency": {"code": "110105", "name": "北京市朝阳区社会保险事业管理中心"},
        "service_item": {"code": ITEM_CODE, "name": ITEM_NAME},
        "insurance": ["pension"],
        "channel": "window",
        "applicant": person(),
        "subjects": [person()],
        "title": "张三企业职工基本养老保险参保登记",
        "result": {"outcome": "approved", "decision_no": "朝社保登〔2024〕123号",
                   "summary": "准予参保登记"},
        "accepted_at": "2024-03-01T09:10:00+08:00",
        "completed_at": "2024-03-05T16:00:00+08:00",
        "events": [
            _event(1, "lead", "2024-03-01T09:00:00+08:00", "一次性告知所需材料", []),
            _event(2, "accept", "2024-03-01T09:10:00+08:00", "受理", ["f1", "f2", "f3"]),
            _event(3, "handle", "2024-03-04T10:00:00+08:00", "审核通过", []),
            _event(4, "handle", "2024-03-05T15:00:00+08:00", "核准", ["f4"]),
            _event(5, "feedback", "2024-03-05T16:00:00+08:00", "告知办理结果", []),
        ],
        "files": entries,
        "security": {"classification": "internal", "personal_info": True},
    }


def _event(seq: int, step: str, at: str, action: str, files: list[str]) -> dict[str, Any]:
    return {"seq": seq, "step": step, "at": at,
            "actor": {"id": "u0042", "name": "李四", "role": "窗口经办"},
            "action": action, "files": files}


@lru_cache(maxsize=2)
def keypair(alg: str = signing.ED25519) -> tuple[Any, bytes]:
    key = signing.generate_private_key(alg)
    return key, signing.public_key_pem(key)


def trusted(alg: str = signing.ED25519, *, revoked: bool = False, key_id: str = KEY_ID,
            system: str = SYSTEM) -> TrustedKey:
    return TrustedKey(system=system, key_id=key_id, algorithm=alg,
                      public_key_pem=keypair(alg)[1], revoked=revoked)


@dataclass
class Options:
    """How to build one submission; tests change what they exercise."""

    alg: str = signing.ED25519
    sign: bool = True
    signature_bytes: bytes | None = None  # overrides the real signature
    trusted_keys: list[TrustedKey] | None = None
    filing_rules: dict[str, FilingRule] = field(default_factory=lambda: {ITEM_CODE: RULE})
    catalogue: CatalogueFacts = field(default_factory=CatalogueFacts)
    extra_entries: list[str] = field(default_factory=list)
    extra_files: dict[str, bytes] = field(default_factory=dict)  # written but not listed
    case_bytes: bytes | None = None  # overrides json.dumps(case)
    now: datetime = NOW


def build(tmp_path: Path, case: dict[str, Any] | None = None,
          files: dict[str, bytes] | None = None, opts: Options | None = None) -> CheckContext:
    opts = opts or Options()
    data = payloads() if files is None else files
    case = copy.deepcopy(make_case(data) if case is None else case)
    case_bytes = opts.case_bytes or json.dumps(case, ensure_ascii=False, indent=2).encode("utf-8")
    root = tmp_path / "submission"
    (root / "files").mkdir(parents=True, exist_ok=True)
    (root / "case.json").write_bytes(case_bytes)
    facts: dict[str, FileFacts] = {}
    for rel, content in {**data, **opts.extra_files}.items():
        target = root / "files" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        facts[f"files/{rel}"] = FileFacts(
            rel_path=f"files/{rel}", abs_path=target, size=len(content),
            sha256=hashlib.sha256(content).hexdigest(), sm3=sm3_hex(content))
    sig = opts.signature_bytes
    if sig is None and opts.sign:
        sig = signing.sign(keypair(opts.alg)[0], KEY_ID, case_bytes).to_json()
    if sig is not None:
        (root / "case.json.sig").write_bytes(sig)
    try:
        parsed, error = json.loads(case_bytes), None
    except ValueError as exc:
        parsed, error = None, str(exc)
    return CheckContext(
        stage=Stage.GD, root=root, case_bytes=case_bytes, case=parsed, case_error=error,
        signature_bytes=sig, files=facts, extra_entries=list(opts.extra_entries),
        trusted_keys=opts.trusted_keys if opts.trusted_keys is not None else [trusted(opts.alg)],
        filing_rules=opts.filing_rules, catalogue=opts.catalogue, now=opts.now,
    )


def run(code: str, ctx: CheckContext):
    """Run one registered check and return its Verdict."""
    from dangan.packages.checks import default_registry

    return default_registry().get(code).func(ctx)


