"""Catalogue operations (登记编目): register an item, look it up, walk the case link.

The link runs both ways: (source system, case id) → items → archival code and AIP,
and from an AIP id or archival code back to the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dangan.packages.aip.fields import PARTY_KEYS
from dangan.packages.checks.context import CatalogueFacts, PriorRecord

from . import catalogue_fields
from .errors import NotFound
from .models import ArchivalCodeCounter, Item, ItemEvent, ItemFile, Party, Rejection


def _prior(item: Item) -> PriorRecord:
    return PriorRecord(
        aip_id=item.aip_id,
        archival_code=item.archival_code,
        case_sha256=item.case_sha256,
        version=item.version,
        status=item.status,
    )


def items_for_case(session: Session, source_system: str, case_id: str) -> list[Item]:
    return list(
        session.scalars(
            select(Item)
            .where(Item.source_system == source_system, Item.case_id == case_id)
            .order_by(Item.version)
        )
    )


def find_identical(
    session: Session, source_system: str, case_id: str, case_sha256: str
) -> Item | None:
    return session.scalar(
        select(Item).where(
            Item.source_system == source_system,
            Item.case_id == case_id,
            Item.case_sha256 == case_sha256,
        )
    )


def resolve_reference(session: Session, ref: str) -> Item | None:
    """An AIP id, or an archival code (its newest version)."""
    item = session.get(Item, ref)
    if item is not None:
        return item
    return session.scalar(
        select(Item).where(Item.archival_code == ref).order_by(Item.version.desc()).limit(1)
    )


def facts_for(session: Session, case: dict[str, Any] | None) -> CatalogueFacts:
    """What the checks need to know about this case from the catalogue (GD-1-8)."""
    facts = CatalogueFacts()
    if not isinstance(case, dict):
        return facts
    system, case_id = case.get("source_system"), case.get("case_id")
    if isinstance(system, str) and isinstance(case_id, str):
        facts.same_case = [_prior(i) for i in items_for_case(session, system, case_id)]
    ref = case.get("supersedes")
    if isinstance(ref, str) and ref:
        target = resolve_reference(session, ref)
        if target is not None:
            facts.supersedes_target = _prior(target)
    decision_no = (case.get("result") or {}).get("decision_no") if isinstance(
        case.get("result"), dict) else None
    agency = (case.get("agency") or {}).get("code") if isinstance(case.get("agency"), dict) else None
    if isinstance(decision_no, str) and decision_no and isinstance(agency, str):
        holders = session.scalars(
            select(Item.archival_code).where(
                Item.decision_no == decision_no,
                Item.agency_code == agency,
                Item.case_id != (case_id if isinstance(case_id, str) else ""),
            )
        )
        facts.decision_no_holders = sorted(set(holders))
    return facts


def allocate_item_no(session: Session, series: str) -> int:
    """Next 件号 of a series; call only inside the filing window (gap-free)."""
    counter = session.get(ArchivalCodeCounter, series, with_for_update=True)
    if counter is None:
        counter = ArchivalCodeCounter(series=series, last_item_no=0)
        session.add(counter)
    counter.last_item_no += 1
    session.flush()
    return counter.last_item_no


def peek_item_no(session: Session, series: str) -> int:
    """The 件号 the next filing in a series is expected to get (read without the lock)."""
    last = session.scalar(
        select(ArchivalCodeCounter.last_item_no).where(ArchivalCodeCounter.series == series))
    return (last or 0) + 1


def add_item(session: Session, item: Item) -> None:
    session.add(item)
    if item.supersedes_aip_id:
        old = session.get(Item, item.supersedes_aip_id)
        if old is not None:
            old.status = "superseded"
            old.superseded_by_aip_id = item.aip_id
    session.flush()


_WHOLE_ITEM = (selectinload(Item.parties), selectinload(Item.files), selectinload(Item.events))


def get_item(session: Session, aip_id: str) -> Item:
    item = session.scalar(select(Item).where(Item.aip_id == aip_id).options(*_WHOLE_ITEM))
    if item is None:
        raise NotFound(f"目录中没有 AIP {aip_id}")
    return item


@dataclass
class Lookup:
    """What ``dangan show`` resolves a reference to: the item and its version chain."""

    item: Item
    versions: list[Item]
    matched_by: str


def lookup(session: Session, ref: str) -> Lookup:
    """Resolve an AIP id, an archival code, a case id or ``SYSTEM/CASE_ID``."""
    item = session.get(Item, ref)
    matched_by = "aip_id"
    if item is None:
        item = session.scalar(
            select(Item).where(Item.archival_code == ref).order_by(Item.version.desc()).limit(1)
        )
        matched_by = "archival_code"
    if item is None:
        system, _, case_id = ref.rpartition("/")
        query = select(Item).where(Item.case_id == (case_id if system else ref))
        if system:
            query = query.where(Item.source_system == system)
        candidates = list(session.scalars(query.order_by(Item.version.desc())))
        systems = {c.source_system for c in candidates}
        if len(systems) > 1:
            raise NotFound(
                f"办件编号 {ref} 在多个来源系统中存在（{', '.join(sorted(systems))}），"
                "请用 系统/办件编号 指明"
            )
        item = candidates[0] if candidates else None
        matched_by = "case_id"
    if item is None:
        raise NotFound(f"找不到 {ref!r}：既不是 AIP 标识，也不是档号或办件编号")
    # every version with its parties, files and events: four queries however many versions
    versions = list(session.scalars(
        select(Item).where(Item.archival_code == item.archival_code).order_by(Item.version)
        .options(*_WHOLE_ITEM)
    ))
    item = next((v for v in versions if v.aip_id == item.aip_id), None) \
        or get_item(session, item.aip_id)
    return Lookup(item=item, versions=versions, matched_by=matched_by)


def add_rejection(session: Session, rejection: Rejection) -> int:
    session.add(rejection)
    session.flush()
    return rejection.id


def counts(session: Session) -> dict[str, int]:
    return {
        "items": session.scalar(select(func.count()).select_from(Item)) or 0,
        "rejections": session.scalar(select(func.count()).select_from(Rejection)) or 0,
    }


def item_to_dict(item: Item) -> dict[str, Any]:
    """The catalogue record as JSON-able data (for ``dangan show --json`` and the API)."""
    return {
        "aip_id": item.aip_id,
        "version": item.version,
        "status": item.status,
        "case_sha256": item.case_sha256,
        "sha256": item.aip_sha256,
        **catalogue_fields.item_json(item),
        "file_count": item.file_count,
        "total_bytes": item.total_bytes,
        "received_at": item.received_at.isoformat(),
        "archived_at": item.archived_at.isoformat(),
        "supersedes_aip_id": item.supersedes_aip_id,
        "superseded_by_aip_id": item.superseded_by_aip_id,
        "correction_reason": item.correction_reason,
        "parties": [{k: getattr(p, k) for k in PARTY_KEYS} for p in item.parties],
        "files": [catalogue_fields.document_json(f) for f in item.files],
        "events": [
            {"seq": e.seq, "step": e.step, "at": e.at.isoformat(),
             "actor": {"id": e.actor_id, "name": e.actor_name, "role": e.actor_role},
             "action": e.action, "note": e.note, "files": e.file_ids}
            for e in item.events
        ],
        "receipt": item.receipt,
    }



def read_back(session: Session, aip_id: str) -> dict[str, Any] | None:
    """Read the rows of one item back from the database (GD-3-2), bypassing the ORM cache."""
    session.flush()
    row = session.execute(
        select(*catalogue_fields.read_back_columns(), Item.file_count)
        .where(Item.aip_id == aip_id)
    ).one_or_none()
    if row is None:
        return None
    files = session.execute(
        select(*catalogue_fields.document_read_back_columns())
        .where(ItemFile.aip_id == aip_id).order_by(ItemFile.seq)
    ).all()
    events = session.scalar(
        select(func.count()).select_from(ItemEvent).where(ItemEvent.aip_id == aip_id))
    parties = session.scalar(
        select(func.count()).select_from(Party).where(Party.aip_id == aip_id))
    return {
        **row._asdict(),
        "files": [f._asdict() for f in files],
        "events": events,
        "parties": parties,
    }


def read_back_many(session: Session, aip_ids: list[str]) -> dict[str, dict[str, Any] | None]:
    """``read_back`` of many items in four queries (a fixity batch); equal per item."""
    session.flush()
    rows = {r.aip_id: r for r in session.execute(
        select(Item.aip_id, *catalogue_fields.read_back_columns(), Item.file_count)
        .where(Item.aip_id.in_(aip_ids)))}
    files: dict[str, list[dict[str, Any]]] = {}
    for f in session.execute(select(ItemFile.aip_id, *catalogue_fields.document_read_back_columns())
                             .where(ItemFile.aip_id.in_(aip_ids))
                             .order_by(ItemFile.aip_id, ItemFile.seq)):
        d = f._asdict()
        files.setdefault(d.pop("aip_id"), []).append(d)
    counts = {model: dict(session.execute(select(model.aip_id, func.count())
                                          .where(model.aip_id.in_(aip_ids))
                                          .group_by(model.aip_id)).all())
              for model in (ItemEvent, Party)}
    out: dict[str, dict[str, Any] | None] = {}
    for aip_id in aip_ids:
        row = rows.get(aip_id)
        if row is None:
            out[aip_id] = None
            continue
        values = row._asdict()
        values.pop("aip_id")
        out[aip_id] = {**values, "files": files.get(aip_id, []),
                       "events": counts[ItemEvent].get(aip_id, 0),
                       "parties": counts[Party].get(aip_id, 0)}
    return out


def record_of(item: Item) -> dict[str, Any]:
    """What ``read_back`` returns for ``item``, taken from the object not yet written."""
    return {
        **catalogue_fields.record_values(item), "file_count": item.file_count,
        "files": [catalogue_fields.document_record(f)
                  for f in sorted(item.files, key=lambda f: f.seq)],
        "events": len(item.events),
        "parties": len(item.parties),
    }


def rejections(session: Session, ref: str | None = None, *, limit: int = 50) -> list[Rejection]:
    """Rejection records, newest first: all, or those of a record number or case id."""
    query = select(Rejection).order_by(Rejection.id.desc()).limit(limit)
    if ref is None:
        return list(session.scalars(query))
    found = list(session.scalars(query.where(Rejection.case_id == ref)))
    if ref.isdigit() and len(ref) < 10:
        by_id = session.get(Rejection, int(ref))
        if by_id is not None and by_id not in found:
            found.insert(0, by_id)
    return found


def rejection_to_dict(r: Rejection) -> dict[str, Any]:
    return {
        "id": r.id,
        "received_at": r.received_at.isoformat(),
        "source_system": r.source_system,
        "case_id": r.case_id,
        "case_sha256": r.case_sha256,
        "submission": r.submission_name,
        "reason": r.reason,
        "checks": r.checks,
    }
