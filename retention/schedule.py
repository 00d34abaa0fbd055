"""Retention schedules and the due list (到期鉴定清单).

An item's period comes from its service item in the filing configuration (with the rule
row it rests on), fixed at filing; its due date is stored in ``items.due_on`` by the
same rule (``archive.schedule``). The due list is one query over the ``ix_items_due``
index, grouped by service item, category and year as an appraisal group works through
them; held items are counted and marked, never left out silently.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dangan.archive import catalogue
from dangan.archive.filing_config import FilingConfig
from dangan.archive.models import Item
from dangan.archive.schedule import ScheduleError, due_on, period_starts
from dangan.packages.archival_code import RETENTION_NAMES, RETENTION_YEARS

from .errors import NotFound, PeriodUnknown
from .holds import CUSTODY_STATES, held_aip_ids, holds_on
from .models import Appraisal, AppraisalItem


@dataclass(frozen=True)
class Schedule:
    """One item's retention: period, legal basis, start, due date, holds."""

    aip_id: str
    archival_code: str
    service_item_code: str
    service_item_name: str
    category: str
    retention: str
    retention_name: str
    years: int | None
    completed_year: int
    starts_on: str
    due_on: str | None
    legal_basis: str
    configured_retention: str | None
    extended_by_appraisal: int | None = None
    effective_retention: str | None = None
    holds: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_due(year: int | None, retention: str | None) -> date | None:
    """The due date by the rule, or ``PeriodUnknown`` with the reason (never a guess)."""
    try:
        return due_on(year, retention)
    except ScheduleError as exc:
        raise PeriodUnknown(exc.message, exc.details) from exc


def schedule_of(session: Session, config: FilingConfig, ref: str) -> Schedule:
    """The schedule of an item (AIP id or archival code)."""
    item = catalogue.resolve_reference(session, ref)
    if item is None:
        raise NotFound(f"未找到档案 {ref}", [{"field": "ref", "found": ref}])
    extension = session.execute(
        select(Appraisal.id, Appraisal.new_retention).join(AppraisalItem)
        .where(AppraisalItem.aip_id == item.aip_id, Appraisal.action == "extend",
               Appraisal.state == "approved")
        .order_by(Appraisal.id.desc()).limit(1)).first()
    effective = extension.new_retention if extension else item.retention
    due = compute_due(item.year, effective)
    stored = item.due_on
    if stored != due:
        raise PeriodUnknown(
            f"{item.archival_code} 目录中的到期日 {stored} 与按{RETENTION_NAMES[effective]}"
            f"计算的 {due} 不符：请核查目录（不会按任何一方猜测到期日）",
            [{"field": "due_on", "expected": str(due), "found": str(stored)}])
    service = config.get(item.service_item_code)
    basis = service.legal_basis if service else (
        f"现行归档配置中没有服务事项 {item.service_item_code}：按归档时确定的期限保管")
    return Schedule(
        aip_id=item.aip_id, archival_code=item.archival_code,
        service_item_code=item.service_item_code, service_item_name=item.service_item_name,
        category=item.category, retention=item.retention,
        retention_name=RETENTION_NAMES[item.retention], years=RETENTION_YEARS[item.retention],
        completed_year=item.year, starts_on=period_starts(item.year).isoformat(),
        due_on=stored.isoformat() if stored else None, legal_basis=basis,
        configured_retention=service.retention if service else None,
        extended_by_appraisal=extension.id if extension else None,
        effective_retention=effective,
        holds=[h.id for h in holds_on(session, item.aip_id)],
    )


@dataclass
class DueGroup:
    service_item_code: str
    service_item_name: str
    category: str
    year: int
    retention: str | None
    items: int
    held: int


@dataclass
class DueItem:
    aip_id: str
    archival_code: str
    title: str
    service_item_code: str
    year: int
    retention: str
    due_on: str
    status: str
    held: bool


@dataclass
class DueList:
    as_of: str
    total: int
    held: int
    groups: list[DueGroup]
    items: list[DueItem]
    items_truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def due_list(session: Session, config: FilingConfig, as_of: date, *,
             limit: int | None = 1000) -> DueList:
    """Everything due on ``as_of`` (due date on or before it) still in custody.

    Three queries, none proportional to the catalogue: the groups, read from the
    ``ix_items_due`` index alone; the held due items, driven from the (few) active holds;
    the first ``limit`` items in index order (``None``: all of them).
    """
    due = (Item.due_on <= as_of, Item.status.in_(CUSTODY_STATES))
    keys = (Item.service_item_code, Item.category, Item.year)
    # Grouped by the index's own leading columns (due date first), so the index alone
    # answers it in order, whatever the planner's statistics say; the due dates are then
    # summed away here (a few rows per group).
    per_day = session.execute(select(*keys, func.count()).where(*due)
                              .group_by(Item.due_on, *keys)).all()
    summed: dict[tuple[str, str, int], int] = {}
    for code, category, year, n in per_day:
        summed[(code, category, year)] = summed.get((code, category, year), 0) + n
    counts = [(*k, n) for k, n in summed.items()]
    held = held_aip_ids().subquery()
    held_rows = session.execute(
        select(Item.aip_id, *keys).join(held, held.c.aip_id == Item.aip_id).where(*due)).all()
    held_ids = {r[0] for r in held_rows}
    held_per_group: dict[tuple[str, str, int], int] = {}
    for _, *key in held_rows:
        held_per_group[tuple(key)] = held_per_group.get(tuple(key), 0) + 1  # type: ignore
    groups = []
    for code, category, year, n in sorted(counts, key=lambda r: (r[1], r[0], r[2])):
        service = config.get(code)
        groups.append(DueGroup(code, service.name if service else code, category, year,
                               service.retention if service else None, n,
                               held_per_group.get((code, category, year), 0)))
    items: list[DueItem] = []
    total = sum(g.items for g in groups)
    if limit is None or limit > 0:
        q = (select(Item.aip_id, Item.archival_code, Item.title, Item.service_item_code,
                    Item.year, Item.retention, Item.due_on, Item.status)
             .where(*due)
             .order_by(Item.due_on, Item.service_item_code, Item.category, Item.year,
                       Item.archival_code, Item.version))
        if limit is not None:
            q = q.limit(limit)
        items = [DueItem(a, c, t, s, y, r, d.isoformat(), st, a in held_ids)
                 for a, c, t, s, y, r, d, st in session.execute(q)]
    return DueList(as_of=as_of.isoformat(), total=total, held=len(held_ids),
                   groups=groups, items=items,
                   items_truncated=limit is not None and total > len(items))


def is_due(item: Item, as_of: date) -> bool:
    return item.due_on is not None and item.due_on <= as_of
