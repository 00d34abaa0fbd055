"""Reading the audit log page by page, newest first (the security auditor's view).

Why a service: the web page must hold no SQL, and reading is bounded (one page of
entries, by index range) whatever the size of the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import audit_log
from .db import Database


@dataclass(frozen=True)
class AuditPage:
    entries: list[audit_log.AuditEntry]  # newest first
    size: int  # entries in the log
    page: int
    pages: int


def audit_page(db: Database, *, page: int = 1, page_size: int = 50) -> AuditPage:
    with db.session() as s:
        size = audit_log.tree_size(s)
        pages = max(1, -(-size // page_size))
        page = min(max(1, page), pages)
        stop = size - (page - 1) * page_size
        start = max(0, stop - page_size)
        entries = list(reversed(audit_log.entries(s, start, stop)))
    return AuditPage(entries, size, page, pages)
