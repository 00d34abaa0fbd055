"""``dangan retention destruction …``: approvals and 备案, execution, resume, show."""

from __future__ import annotations

import click

from dangan.archive.actor import default_actor
from dangan.retention import destruction as destruction_service
from dangan.retention.models import APPROVAL_KINDS, DESTRUCTION_STATES

from .lifecycle import file_register
from .render import emit_json
from .retention_cli import (
    as_of_date,
    as_of_option,
    emit_view,
    json_command,
    open_for_retention,
    refusable,
)


@click.group("destruction")
def destruction() -> None:
    """销毁：记录单位负责人批准和人社部门备案，在监销人监督下销毁，留下销毁记录。"""


def _print(v: destruction_service.DestructionView) -> None:
    click.echo(f"销毁批次 {v.id}（鉴定 {v.appraisal_id}，销毁清册 {v.register_ref}）："
               f"{DESTRUCTION_STATES.get(v.state, v.state)}，{len(v.items)} 件")
    for kind, a in v.approvals.items():
        click.echo(f"  {APPROVAL_KINDS.get(kind, kind)}：{a['approver']}，{a['approved_on']}，"
                   f"文号 {a['document_no']}")
    if v.supervisors:
        click.echo(f"  监销人：{'、'.join(v.supervisors)}；销毁方式：{v.method}")
    if v.register:
        click.echo(f"  销毁清册已归档：档号 {v.register['archival_code']}（AIP {v.register['aip_id']}，"
                   f"审计日志第 {v.register['audit_index']} 条）")
    elif v.state == "complete":
        click.echo("  销毁清册尚未归档（下次运行时补归档）")


@destruction.command("approve")
@click.argument("appraisal_id", type=int)
@click.option("--kind", type=click.Choice(list(APPROVAL_KINDS)), required=True,
              help="principal 单位负责人批准；filing 报人社部门备案")
@click.option("--by", "approver", required=True, help="批准人（或备案机关）")
@click.option("--document-no", required=True, help="批准或备案文号")
@click.option("--date", "on", metavar="YYYY-MM-DD", help="批准或备案日期（默认今天）")
@json_command
def destruction_approve(ctx: click.Context, appraisal_id: int, kind: str, approver: str,
                        document_no: str, on: str | None, as_json: bool) -> None:
    """记录销毁的批准或备案（第一次记录时开立销毁批次）。"""
    archive = open_for_retention(ctx)
    day = as_of_date(on)
    emit_view(refusable(ctx, lambda: destruction_service.record_approval(
        archive, appraisal_id, kind=kind, approver=approver, document_no=document_no,
        approved_on=day, actor=default_actor())), as_json, _print)


@destruction.command("execute")
@click.argument("batch_id", type=int, required=False)
@click.option("--supervisor", "supervisors", multiple=True, help="监销人登录名（至少两名）")
@click.option("--method", default="", help="销毁方式")
@as_of_option("按此日期复核是否到期（默认今天）")
@click.option("--resume", is_flag=True, help="只完成被中断的销毁")
@json_command
def destruction_execute(ctx: click.Context, batch_id: int | None, supervisors: tuple[str, ...],
                        method: str, as_of: str | None, resume: bool, as_json: bool) -> None:
    """执行销毁：删除存储、副本、索引和提取文本，留下销毁记录（墓碑）。"""
    archive = open_for_retention(ctx)  # completes interrupted destructions first
    if resume:
        if as_json:
            emit_json({"status": "ok"})
        else:
            click.echo("被中断的销毁均已完成")
        return
    if batch_id is None:
        raise click.UsageError("请给出销毁批次编号，或使用 --resume")
    day = as_of_date(as_of)
    emit_view(refusable(ctx, lambda: destruction_service.execute(
        archive, batch_id, supervisors=list(supervisors), method=method,
        actor=default_actor(), file_register=file_register, as_of=day)), as_json, _print)


@destruction.command("show")
@click.argument("batch_id", type=int)
@json_command
def destruction_show(ctx: click.Context, batch_id: int, as_json: bool) -> None:
    """显示销毁批次。"""
    archive = open_for_retention(ctx)
    with archive.db.session() as s:
        v = destruction_service.get(s, batch_id)
    emit_view(v, as_json, _print)
