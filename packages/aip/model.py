"""What goes into the package description: the dict built from one filed case.

The submission may be malformed (the checks run on the built AIP and may reject it), so
every value from case.json is coerced defensively: nothing here raises on odd input.
Elements DA/T 46 marks mandatory are always present (empty when the case lacks them),
so the XSD and GD-2-10 can say what is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..case_schema import submission_path
from ..digests import Digests
from . import labels as L
from .bag import CASE_JSON, CASE_SIG, FILES_PREFIX, SUBMISSION_PREFIX, software_agent
from .fields import PARTY_KEYS, _d, _int, _lst, _req, _s, described

FORMAT_DESCRIPTION = (
    "本封装包参照中华人民共和国档案行业标准 DA/T 48-2009《基于XML的电子文件封装规范》的结构，"
    "以 BagIt 1.0（RFC 8493）承载，由 Dangan 生成"
)
DESCRIPTION_VERSION = "1"


@dataclass
class AIPInput:
    aip_id: str
    archival_code: str
    version: int
    submission_root: Path
    case: dict
    case_bytes: bytes
    file_digests: dict[str, Digests]
    identified: dict[str, dict]
    filing: dict
    archive_event: dict
    check_results: list[dict]
    received_at: datetime
    archived_at: datetime
    supersedes: dict | None = None


def payload_path(submission_rel: str) -> str:
    """``files/a.pdf`` → ``data/submission/files/a.pdf``."""
    return SUBMISSION_PREFIX + submission_rel


def submission_rel(entry_path: Any) -> str | None:
    """Where a ``files[].path`` points in the submission (the one rule, in case_schema)."""
    return submission_path(entry_path)


def check_item(r: dict) -> dict:
    """A CheckResult dict reduced to the fields the report keeps."""
    return {
        "code": _req(r.get("code")),
        "nature": _req(r.get("nature")),
        "name": _req(r.get("name")),
        "stage": _req(r.get("stage")),
        "result": _req(r.get("result")),
        "blocking": bool(r.get("blocking", True)),
        "message": _req(r.get("message")),
        "evidence": r.get("evidence") if r.get("evidence") is not None else [],
    }


def _documents(inp: AIPInput) -> list[dict]:
    entries: dict[str, dict] = {}
    for e in _lst(_d(inp.case).get("files")):
        rel = submission_rel(_d(e).get("path"))
        if rel and rel in inp.file_digests and rel not in entries:
            entries[rel] = _d(e)
    order = list(entries) + sorted(set(inp.file_digests) - set(entries))
    docs = []
    for seq, rel in enumerate(order, 1):
        e, dg, ident = entries.get(rel, {}), inp.file_digests[rel], _d(inp.identified.get(rel))
        pages = _int(ident.get("pages"))
        pages = pages if pages is not None else _int(e.get("pages"))
        dpi = _int(ident.get("dpi"))
        docs.append({
            "id": _req(e.get("id")),
            "seq": seq,
            "title": _req(e.get("title")),
            "kind": _req(e.get("kind")),
            "origin": _req(e.get("origin")),
            "path": payload_path(rel),
            "size": dg.size,
            "format": {"name": _s(ident.get("format_name")), "media_type": _s(ident.get("media_type")),
                       "declared_media_type": _s(e.get("media_type"))},
            "digests": {"sha256": dg.sha256, "sm3": dg.sm3},
            "created_at": _s(e.get("created_at")),
            "pages": pages,
            "digitization": {"dpi": dpi} if dpi is not None else None,
        })
    return docs


def _party(p: Any, role: str) -> dict:
    p = _d(p)
    return {"role": role, **{k: _req(p.get(k)) for k in PARTY_KEYS if k != "role"}}


def _event(ev: Any) -> dict:
    ev, actor = _d(ev), _d(_d(ev).get("actor"))
    return {
        "seq": _int(ev.get("seq")),
        "step": _req(ev.get("step")),
        "action": _req(ev.get("action")),
        "at": _req(ev.get("at")),
        "actor": {"id": _req(actor.get("id")), "name": _req(actor.get("name")),
                  "role": _req(actor.get("role"))},
        "files": [_req(f) for f in _lst(ev.get("files"))],
        "note": _s(ev.get("note")),
    }


def _agents(case: dict, filing: dict, events: list[dict]) -> list[dict]:
    agency = _d(case.get("agency"))
    agents = [
        {"type": "agency", "id": _req(agency.get("code")), "name": _req(agency.get("name")),
         "role": None},
        {"type": "archive", "id": _req(filing.get("fonds")),
         "name": _req(filing.get("organization")), "role": None},
    ]
    seen = set()
    for ev in events:
        a = ev["actor"]
        key = (a["id"], a["name"], a["role"])
        if key in seen:
            continue
        seen.add(key)
        kind = "system" if "system" in (a["id"], a["role"]) else "person"
        agents.append({"type": kind, "id": a["id"], "name": a["name"], "role": a["role"]})
    return agents


def _signature_info(sig_bytes: bytes | None) -> tuple[str | None, str | None]:
    if sig_bytes is None:
        return None, None
    try:
        obj = json.loads(sig_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, None
    obj = _d(obj)
    return _s(obj.get("alg")), _s(obj.get("key_id"))


def describe(inp: AIPInput, payload: dict[str, Digests], sig_bytes: bytes | None) -> dict:
    """The whole description dict (see description.SPEC for the XML it becomes)."""
    case, filing = _d(inp.case), _d(inp.filing)
    docs = _documents(inp)
    pages = [d["pages"] for d in docs if d["pages"] is not None]
    total_pages = sum(pages) if pages else None
    desc = described(case, filing, inp.archival_code)
    completed, classification = desc["completed_at"], desc["classification"]
    events = [_event(e) for e in _lst(case.get("events"))] + [_event(inp.archive_event)]
    sup = inp.supersedes
    sig_alg, sig_key = _signature_info(sig_bytes)
    case_dg = payload[CASE_JSON]
    return {
        "format_description": FORMAT_DESCRIPTION,
        "version": DESCRIPTION_VERSION,
        "signed_object": {
            "package_type": "modified" if sup else "original",
            "package_type_description": (
                f"修改型：更正档号 {_req(sup.get('archival_code'))} 的第 {_req(sup.get('version'))} 版"
                f"（封装包 {_req(sup.get('aip_id'))}），原因：{_req(sup.get('reason'))}"
                if sup else "原始型：原始封装，未经修改"
            ),
            "aip_id": inp.aip_id,
            "aip_version": int(inp.version),
            "created_at": inp.archived_at.isoformat(),
            "created_by": _req(filing.get("organization")),
            "supersedes": {
                "aip_id": _req(sup.get("aip_id")), "archival_code": _req(sup.get("archival_code")),
                "version": _int(sup.get("version")), "reason": _req(sup.get("reason")),
            } if sup else None,
            "content": {
                "record": {
                    "aggregation": "件",
                    "source": {"fonds": _req(filing.get("fonds")),
                               "organization": _req(filing.get("organization"))},
                    "record_id": inp.aip_id,
                    "description": desc,
                    "form": {"items": 1, "files": len(docs), "pages": total_pages},
                    "parties": [_party(case.get("applicant"), "applicant")]
                    + [_party(p, "subject") for p in _lst(case.get("subjects"))],
                    "submission": {
                        "path": CASE_JSON,
                        "size": case_dg.size,
                        "digests": {"sha256": case_dg.sha256, "sm3": case_dg.sm3},
                        "signature_path": CASE_SIG if CASE_SIG in payload else None,
                        "signature_alg": sig_alg,
                        "signature_key_id": sig_key,
                        "received_at": inp.received_at.isoformat(),
                    },
                    "documents": docs,
                },
                "events": events,
                "agents": _agents(case, filing, events),
                "check_report": [check_item(_d(r)) for r in inp.check_results],
            },
            "explanation": {
                "carrier_type": "在线存储（BagIt 归档信息包）",
                "carrier_maker": _req(filing.get("organization")),
                "carrier_keeper": _req(filing.get("organization")),
                "hardware": "通用计算机，与特定硬件无关",
                "software": f"{software_agent()}；BagIt 1.0（RFC 8493）；摘要算法 SHA-256、SM3",
                "package_format": "BagIt 1.0（RFC 8493）+ 封装包描述 urn:dangan:aip:1（参照 DA/T 48-2009）",
                "summary": {"archival_code": inp.archival_code, "items": 1, "files": len(docs),
                            "bytes": sum(d["size"] for d in docs), "pages": total_pages},
            },
            "catalogue": [
                {
                    "seq": d["seq"],
                    "archival_code": inp.archival_code,
                    "responsible": desc["agency"]["name"],
                    "title": d["title"],
                    "date": (d["created_at"] or completed)[:10],
                    "classification": classification,
                    "file_name": d["path"],
                    "note": "；".join(x for x in (L.KINDS.get(d["kind"], d["kind"]),
                                                  L.ORIGINS.get(d["origin"], d["origin"])) if x),
                }
                for d in docs
            ],
        },
    }


__all__ = ["AIPInput", "FILES_PREFIX", "check_item", "describe", "payload_path", "submission_rel"]
