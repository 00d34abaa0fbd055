"""Statistics (统计): holdings, intake per month, retention and disposal counts.

Every figure is one SQL aggregate (GROUP BY over the catalogue), so the numbers are the
same on SQLite and PostgreSQL and cost the same at a million items as at a hundred; the
web UI draws its charts from the same ``StatsTable`` rows the CLI prints or writes as CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dangan.archive.models import Item, Rejection
from dangan.archive.tombstones import Tombstone
from dangan.packages.archival_code import RETENTION_CODES, RETENTION_NAMES

from .holds import CUSTODY_STATES, held_aip_ids
from .models import Appraisal, AppraisalItem

STATUS_NAMES = {"active": "在库", "superseded": "已被更正版本取代", "destroyed": "已销毁",
                "transferred": "已移交"}


@dataclass
class StatsTable:
    """A titled table: column keys with Chinese headers, rows as dicts (JSON-ready)."""

    name: str
    title: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title,
                "columns": [{"key": k, "title": t} for k, t in self.columns], "rows": self.rows}

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([t for _, t in self.columns])
        for row in self.rows:
            writer.writerow([row[k] for k, _ in self.columns])
        return out.getvalue()


def _month(session: Session, column: Any) -> ColumnElement[str]:
    """``YYYY-MM`` of a UTC time stamp as seen in Asia/Shanghai, in the backend's SQL."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", column, "+8 hours")
    return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")


def holdings_stats(session: Session) -> StatsTable:
    """Items by category, year, retention and status, with files, pages and bytes."""
    keys = (Item.category, Item.year, Item.retention, Item.status)
    rows = session.execute(
        select(*keys, func.count(), func.sum(Item.file_count),
               func.coalesce(func.sum(Item.page_count), 0), func.sum(Item.total_bytes))
        .group_by(*keys).order_by(*keys)
    ).all()
    return StatsTable(
        "holdings", "馆藏（按类别、年度、保管期限、状态）",
        [("category", "类别"), ("year", "年度"), ("retention_name", "保管期限"),
         ("status_name", "状态"), ("items", "件数"), ("files", "文件数"), ("pages", "页数"),
         ("bytes", "字节数")],
        [{"category": c, "year": y, "retention": r, "retention_name": RETENTION_NAMES.get(r, r),
          "status": st, "status_name": STATUS_NAMES.get(st, st), "items": n, "files": int(f or 0),
          "pages": int(p or 0), "bytes": int(b or 0)}
         for c, y, r, st, n, f, p, b in rows],
    )


def intake_stats(session: Session) -> StatsTable:
    """Per month (Asia/Shanghai): cases filed, their files and bytes, submissions refused."""
    month = _month(session, Item.archived_at).label("month")
    filed = {m: (n, f, b) for m, n, f, b in session.execute(
        select(month, func.count(), func.sum(Item.file_count), func.sum(Item.total_bytes))
        .group_by(month))}
    rmonth = _month(session, Rejection.received_at).label("month")
    refused = dict(session.execute(select(rmonth, func.count()).group_by(rmonth)).all())
    rows = []
    for m in sorted(set(filed) | set(refused)):
        n, f, b = filed.get(m, (0, 0, 0))
        rows.append({"month": m, "items": n, "files": int(f or 0), "bytes": int(b or 0),
                     "rejected": refused.get(m, 0)})
    return StatsTable("intake", "接收归档（按月）",
                      [("month", "月份"), ("items", "归档件数"), ("files", "文件数"),
                       ("bytes", "字节数"), ("rejected", "拒收件数")], rows)


def retention_stats(session: Session, as_of: date) -> StatsTable:
    """Per retention period: in custody, due on ``as_of``, held, in appraisal, disposed."""
    custody = Item.status.in_(CUSTODY_STATES)
    by = {r: {"items": 0, "due": 0, "held": 0, "in_appraisal": 0, "appraised": 0,
              "destroyed": 0, "transferred": 0} for r in RETENTION_CODES}

    def add(key: str, q: Any) -> None:
        for r, n in session.execute(q):
            by.setdefault(r, {k: 0 for k in by[RETENTION_CODES[0]]})[key] = n

    add("items", select(Item.retention, func.count()).where(custody).group_by(Item.retention))
    add("due", select(Item.retention, func.count())
        .where(custody, Item.due_on <= as_of).group_by(Item.retention))
    held = held_aip_ids().subquery()
    add("held", select(Item.retention, func.count()).join(held, held.c.aip_id == Item.aip_id)
        .where(custody).group_by(Item.retention))
    for key, states in (("in_appraisal", ("open",)), ("appraised", ("approved", "rejected"))):
        add(key, select(Item.retention, func.count(func.distinct(Item.aip_id)))
            .join(AppraisalItem, AppraisalItem.aip_id == Item.aip_id)
            .join(Appraisal, Appraisal.id == AppraisalItem.appraisal_id)
            .where(Appraisal.state.in_(states)).group_by(Item.retention))
    for kind in ("destroyed", "transferred"):  # the catalogue record is gone: tombstones
        add(kind, select(Tombstone.retention, func.count()).where(Tombstone.kind == kind)
            .group_by(Tombstone.retention))
    cols = [("retention_name", "保管期限"), ("items", "在库件数"), ("due", "已到期"),
            ("held", "冻结"), ("in_appraisal", "鉴定中"), ("appraised", "已鉴定"),
            ("destroyed", "已销毁"), ("transferred", "已移交")]
    rows = [{"retention": r, "retention_name": RETENTION_NAMES.get(r, r), **v}
            for r, v in by.items()]
    return StatsTable("retention", f"保管期限与处置（截至 {as_of.isoformat()}）", cols, rows)
