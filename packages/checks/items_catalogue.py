"""Checks on the catalogue rows written in staging (DA/T 70 runs metadata items twice:
on the package and on the target database).

The caller writes the catalogue rows inside the filing transaction, reads them back from
the database and hands them over as ``ctx.catalogue_record``: a dict with the columns
of the ``read_back`` fields of ``aip/fields.FIELDS`` (taken from case.json or the
archival code), ``file_count`` and ``files`` (list of ``{path, size, sha256, sm3}``), ``events`` and ``parties`` counts.
"""

from __future__ import annotations

from typing import Any

from ..aip.fields import FIELDS, raw_value
from ..aip.model import payload_path
from ..problem import Problem
from .context import CheckContext
from .engine import Nature, Stage, Verdict, check


def _expected(ctx: CheckContext) -> dict[str, Any]:
    sources = {"case": ctx.case or {}, "aip": {"archival_code": ctx.archival_code}}
    expected = {f.column: raw_value(f.source, sources) for f in FIELDS if f.read_back}
    return {**expected, "file_count": len(ctx.file_entries())}


@check("GD-3-2", Nature.USABILITY, "目标数据库中的元数据可访问性检测",
       stages=(Stage.GD, Stage.BC), group="catalogue")
def catalogue_readable(ctx: CheckContext) -> Verdict:
    record = ctx.catalogue_record
    if record is None:
        return Verdict.fail("目录数据库中读不到本件刚写入的条目，不能确认元数据可访问")
    problems: list[Problem] = []
    for field, expected in _expected(ctx).items():
        found = record.get(field)
        if found != expected:
            problems.append(Problem("catalogue.value_mismatch", None, field=field, expected=expected,
                                    found=found, note=f"目录中 {field} 为 {found!r}，应为 {expected!r}"))
    stored = {f["path"]: f for f in record.get("files", [])}
    for entry in ctx.file_entries():
        rel = ctx.listed_path(entry)
        facts = ctx.files.get(rel or "")
        row = stored.get(payload_path(rel)) if rel else None
        if facts is None:
            continue
        if row is None:
            problems.append(Problem("catalogue.file_missing", rel, note=f"目录中缺少文件 {rel} 的条目"))
            continue
        for attr in ("size", "sha256", "sm3"):
            if row.get(attr) != getattr(facts, attr):
                problems.append(Problem("catalogue.file_mismatch", rel, field=attr,
                                        expected=getattr(facts, attr), found=row.get(attr),
                                        note=f"目录中 {rel} 的 {attr} 与接收到的文件不符"))
    events = len((ctx.case or {}).get("events", [])) + 1
    if record.get("events") != events:
        problems.append(Problem("catalogue.events_mismatch", None, field="events", expected=events,
                                found=record.get("events"),
                                note=f"目录中办理过程为 {record.get('events')} 步，应为 {events} 步（含存档）"))
    return Verdict.from_problems(
        problems,
        f"目录条目可读，与提交内容一致（{len(stored)} 个文件、{events} 个办理步骤）",
        "目录条目与提交内容不一致",
    )


