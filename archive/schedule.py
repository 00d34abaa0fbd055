"""Retention schedule arithmetic (保管期限到期日), shared by filing and retention.

Why here: filing (``ingest``) stores each item's due date in the catalogue so the due
list is one indexed query, and ``retention`` re-derives it for checks and appraisals;
both may import ``archive`` but not each other. Rule (人社部/国家档案局令第3号, GB/T
31599): a 定期 period is a minimum counted from 1 January of the year after the record
was formed, so an item completed in year Y with N years is due on 1 January Y+1+N;
永久 items are never due. A period that cannot be computed raises, never guesses.
"""

from __future__ import annotations

from datetime import date

from dangan.packages.archival_code import RETENTION_NAMES, RETENTION_YEARS

from .errors import ArchiveError

PERMANENT = "Y"


class ScheduleError(ArchiveError):
    """The due date of an item cannot be computed (unknown period, missing year)."""

    code = "archive.schedule"


def due_on(year: int | None, retention: str | None) -> date | None:
    """1 January of ``year + 1 + N`` for a 定期 period of N years; ``None`` for 永久."""
    if retention not in RETENTION_YEARS:
        raise ScheduleError(
            f"保管期限 {retention!r} 不是 {'/'.join(RETENTION_NAMES.values())} 之一，无法计算到期日",
            [{"field": "retention", "found": retention}],
        )
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 9000:
        raise ScheduleError(
            f"办结年度 {year!r} 缺失或不合理，无法计算到期日",
            [{"field": "year", "found": year}],
        )
    years = RETENTION_YEARS[retention]
    if years is None:
        return None
    return date(year + 1 + years, 1, 1)


def period_starts(year: int) -> date:
    """The day the period starts counting: 1 January of the year after completion."""
    return date(year + 1, 1, 1)
