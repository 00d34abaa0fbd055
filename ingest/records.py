"""Turning a checked case into catalogue rows and the appended archive step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dangan.archive import catalogue_fields
from dangan.archive.config import Settings
from dangan.archive.filing_config import ServiceItem
from dangan.archive.models import Item, ItemEvent, ItemFile, Party
from dangan.archive.schedule import due_on
from dangan.archive.timeutil import iso, parse_iso
from dangan.packages.aip import AIPInput
from dangan.packages.aip.fields import PARTY_KEYS
from dangan.packages.aip.model import payload_path
from dangan.packages.case_schema import submission_path

from .intake import ReceivedSubmission

__all__ = ["Item", "archive_event", "build_item", "filing_dict"]

ARCHIVE_ACTOR_ID = "dangan"


def archive_event(case: dict[str, Any], organization: str, at: datetime) -> dict[str, Any]:
    """The last step of the trail, 存档, appended by the archive itself."""
    last_seq = max((e.get("seq", 0) for e in case.get("events", []) if isinstance(e, dict)),
                   default=0)
    return {
        "seq": last_seq + 1,
        "step": "archive",
        "at": iso(at),
        "actor": {"id": ARCHIVE_ACTOR_ID, "name": f"{organization}电子档案系统", "role": "档案管理"},
        "action": "存档：四性检测通过，形成归档信息包并登记编目",
        "files": [],
    }


def filing_dict(item: ServiceItem, settings: Settings) -> dict[str, Any]:
    return {
        "fonds": settings.fonds,
        "organization": settings.organization,
        "category": item.category,
        "category_code": item.category_code,
        "retention": item.retention,
        "classification_code": item.classification_code,
        "service_item_name": item.name,
        "legal_basis": item.legal_basis,
    }


def build_item(
    sub: ReceivedSubmission,
    inp: AIPInput,
    identified: dict[str, dict[str, Any]],
    aip_sha256: str,
    store_key: str,
    receipt: dict[str, Any],
    filing: ServiceItem,
    archive_step: dict[str, Any],
) -> Item:
    case = sub.case
    files = case["files"]
    item = Item(
        aip_id=inp.aip_id,
        version=inp.version,
        status="active",
        case_sha256=sub.case_sha256,
        aip_sha256=aip_sha256,
        **catalogue_fields.columns_of_case(case, inp.filing, inp.archival_code),
        due_on=due_on(datetime.fromisoformat(case["completed_at"]).year, filing.retention),
        file_count=len(files),
        total_bytes=sub.total_bytes,
        page_count=sum(int(f.get("pages") or 0) for f in files) or None,
        received_at=inp.received_at,
        archived_at=inp.archived_at,
        supersedes_aip_id=inp.supersedes["aip_id"] if inp.supersedes else None,
        correction_reason=case.get("correction_reason") if inp.supersedes else None,
        store_key=store_key,
        receipt=receipt,
    )
    parties = [("applicant", case["applicant"])] + [("subject", p) for p in case["subjects"]]
    item.parties = [
        Party(role=role, seq=i, **{k: p[k] for k in PARTY_KEYS if k != "role"})
        for i, (role, p) in enumerate(parties, start=1)
    ]
    item.files = []
    for seq, f in enumerate(files, start=1):
        rel = submission_path(f["path"])
        facts = sub.files[rel]
        tech = identified.get(rel, {})
        item.files.append(
            ItemFile(
                seq=seq,
                file_id=f["id"],
                path=payload_path(rel),
                title=f["title"],
                kind=f["kind"],
                origin=f["origin"],
                declared_media_type=f["media_type"],
                media_type=tech.get("media_type"),
                size=facts.size,
                sha256=facts.sha256,
                sm3=facts.sm3,
                pages=tech.get("pages") or f.get("pages"),
                dpi=tech.get("dpi"),
                created_at=parse_iso(f["created_at"]) if f.get("created_at") else None,
            )
        )
    events = list(case["events"]) + [archive_step]
    item.events = [
        ItemEvent(
            seq=e["seq"],
            step=e["step"],
            at=parse_iso(e["at"]),
            actor_id=e["actor"]["id"],
            actor_name=e["actor"]["name"],
            actor_role=e["actor"]["role"],
            action=e["action"],
            note=e.get("note"),
            file_ids=list(e.get("files", [])),
        )
        for e in events
    ]
    return item
