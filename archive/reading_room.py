"""What a reader is shown of one catalogued case: the record, its versions, its trail.

Why a service: the web case page and the API must apply the same visibility rule (an item
of a classification the reader may not see is reported as not found, so its existence is
not revealed) and must not hold SQL themselves.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from . import catalogue
from .db import Database
from .errors import NotFound
from .models import Item


def case_record(db: Database, ref: str, *, classifications: Collection[str]) -> dict[str, Any]:
    """The record of ``ref`` (AIP id, archival code or case id) with its version chain."""
    with db.session() as s:
        found = catalogue.lookup(s, ref)
        if found.item.security_classification not in classifications:
            raise NotFound(f"找不到 {ref!r}：既不是 AIP 标识，也不是档号或办件编号")
        data = catalogue.item_to_dict(found.item)
        data["matched_by"] = found.matched_by
        data["versions"] = [version_entry(v) for v in found.versions
                            if v.security_classification in classifications]
    return data


def version_entry(v: Item, request: int | None = None) -> dict[str, Any]:
    """One version in a case's version list; ``request``: the approved request it is
    listed under (a version the reader's classifications hide)."""
    entry = {"version": v.version, "aip_id": v.aip_id, "status": v.status,
             "archived_at": v.archived_at.isoformat(), "correction_reason": v.correction_reason}
    return entry if request is None else {**entry, "request": request}
