"""``dangan retention due|schedule`` and the registration of the retention-area commands
(appraisal, destruction, holds, statistics), each in its own module.

Thin: each command parses, calls one ``dangan.retention`` service, prints. Refusals by the
rules (``RetentionRefused``) exit 3; bad input exits 2 (via ``DanganGroup``).
"""

from __future__ import annotations

import click

from dangan.retention import schedule as schedule_service

from .commands_appraisal import appraisal
from .commands_destruction import destruction
from .commands_hold import hold
from .commands_stats import stats
from .render import emit_json
from .retention_cli import (
    as_of_date,
    as_of_option,
    emit_view,
    json_command,
    open_for_retention,
    retention_name,
)


def register(main: click.Group) -> None:
    main.add_command(retention)
    main.add_command(hold)
    main.add_command(stats)


@click.group()
def retention() -> None:
    """保管期限：到期清单、期限与依据、鉴定。"""


retention.add_command(appraisal)
retention.add_command(destruction)


@retention.command("due")
@as_of_option()
@click.option("--limit", default=200, show_default=True, help="最多列出的条目数（0 只列分组）")
@json_command
def retention_due(ctx: click.Context, as_of: str | None, limit: int, as_json: bool) -> None:
    """列出保管期限已满、应当鉴定的档案，按服务事项、类别、年度分组。"""
    archive = open_for_retention(ctx)
    day = as_of_date(as_of)
    with archive.db.session() as s:
        result = schedule_service.due_list(s, archive.filing_config, day, limit=limit)
    if as_json:
        emit_json(result.to_dict())
        return
    click.echo(f"截至 {result.as_of}：到期 {result.total} 件，其中冻结 {result.held} 件")
    if not result.groups:
        return
    click.echo("类别\t服务事项\t年度\t保管期限\t件数\t冻结")
    for g in result.groups:
        click.echo(f"{g.category}\t{g.service_item_name}（{g.service_item_code}）\t{g.year}\t"
                   f"{retention_name(g.retention)}\t{g.items}\t{g.held}")
    if result.items:
        click.echo("")
        click.echo("档号\t到期日\t题名\t状态")
        for i in result.items:
            click.echo(f"{i.archival_code}\t{i.due_on}\t{i.title}\t"
                       + ("冻结" if i.held else ("已更正" if i.status == "superseded" else "")))
    if result.items_truncated:
        click.echo(f"……仅列出前 {len(result.items)} 件（--limit 调整，--json 取全部分组）")


def _print_schedule(sch: schedule_service.Schedule) -> None:
    click.echo(f"档号      {sch.archival_code}（{sch.aip_id}）")
    click.echo(f"服务事项  {sch.service_item_name}（{sch.service_item_code}），{sch.category}")
    click.echo(f"保管期限  {sch.retention_name}，办结年度 {sch.completed_year}，"
               f"自 {sch.starts_on} 起算")
    if sch.extended_by_appraisal:
        click.echo(f"延长      经鉴定 {sch.extended_by_appraisal} 延长为"
                   f"{retention_name(sch.effective_retention)}")
    click.echo(f"到期日    {sch.due_on or '永久保管，不到期'}")
    click.echo(f"依据      {sch.legal_basis}")
    if sch.holds:
        click.echo(f"冻结      {', '.join(str(h) for h in sch.holds)}（冻结期间不得销毁或移交）")


@retention.command("schedule")
@click.argument("ref")
@json_command
def retention_schedule(ctx: click.Context, ref: str, as_json: bool) -> None:
    """一件档案的保管期限、起算日、到期日与依据。"""
    archive = open_for_retention(ctx)
    with archive.db.session() as s:
        sch = schedule_service.schedule_of(s, archive.filing_config, ref)
    emit_view(sch, as_json, _print_schedule)
