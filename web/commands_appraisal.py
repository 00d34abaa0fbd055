"""``dangan retention appraisal …``: propose, opinions of the group, decision, show, list."""

from __future__ import annotations

import click

from dangan.archive.actor import default_actor
from dangan.retention import appraisal as appraisal_service
from dangan.retention.models import APPRAISAL_ACTIONS, APPRAISAL_STATES

from .render import emit_json, local_time
from .retention_cli import (
    as_of_date,
    as_of_option,
    emit_view,
    json_command,
    open_for_retention,
    refusable,
    retention_name,
)


@click.group("appraisal")
def appraisal() -> None:
    """鉴定：提议（销毁、延长保管期限、移交）、小组意见、决定。"""


def _print(v: appraisal_service.AppraisalView) -> None:
    state = APPRAISAL_STATES.get(v.state, v.state)
    extra = f"，新期限 {retention_name(v.new_retention)}" if v.new_retention else ""
    click.echo(f"鉴定 {v.id}：{v.action_name}{extra}（{state}），提议人 {v.proposed_by}，"
               f"{local_time(v.proposed_at)}")
    click.echo(f"  理由：{v.reason}")
    for i in v.items:
        click.echo(f"  {i['archival_code']}  到期日 {i['due_on'] or '-'}")
    for o in v.opinions:
        click.echo(f"  意见 {o['member']}：{'同意' if o['opinion'] == 'agree' else '不同意'}，"
                   f"{o['comment']}")
    if v.decided_at:
        click.echo(f"  决定 {v.decided_by} {local_time(v.decided_at)}：{v.conclusion}"
                   f"（记录摘要 {v.record_sha256}）")


@appraisal.command("propose")
@click.argument("refs", nargs=-1, required=True)
@click.option("--action", type=click.Choice(list(APPRAISAL_ACTIONS)), required=True,
              help="destroy 销毁 / extend 延长保管期限 / transfer 移交")
@click.option("--new-retention", help="延长后的保管期限代码（Y、D100、D50、D30）")
@click.option("--reason", required=True, help="提议理由")
@as_of_option("按此日期判断是否到期（默认今天）")
@json_command
def appraisal_propose(ctx: click.Context, refs: tuple[str, ...], action: str,
                      new_retention: str | None, reason: str, as_of: str | None,
                      as_json: bool) -> None:
    """对到期档案（档号或 AIP 标识，可多件）提出鉴定提议。"""
    archive = open_for_retention(ctx)
    day = as_of_date(as_of)
    emit_view(refusable(ctx, lambda: appraisal_service.propose(
        archive, action=action, refs=list(refs), reason=reason, actor=default_actor(),
        new_retention=new_retention, as_of=day)), as_json, _print)


@appraisal.command("opinion")
@click.argument("appraisal_id", type=int)
@click.option("--agree/--disagree", required=True, help="同意或不同意")
@click.option("--comment", required=True, help="意见说明")
@json_command
def appraisal_opinion(ctx: click.Context, appraisal_id: int, agree: bool, comment: str,
                      as_json: bool) -> None:
    """鉴定小组成员对鉴定 APPRAISAL_ID 发表意见（提议人不得参与）。"""
    archive = open_for_retention(ctx)
    emit_view(refusable(ctx, lambda: appraisal_service.opinion(
        archive, appraisal_id, member=default_actor(), agree=agree, comment=comment)),
        as_json, _print)


@appraisal.command("decide")
@click.argument("appraisal_id", type=int)
@click.option("--conclusion", required=True, help="鉴定意见")
@as_of_option("按此日期复核是否到期（默认今天）")
@json_command
def appraisal_decide(ctx: click.Context, appraisal_id: int, conclusion: str, as_of: str | None,
                     as_json: bool) -> None:
    """记录鉴定小组的决定与鉴定意见（全体同意方为通过）。"""
    archive = open_for_retention(ctx)
    day = as_of_date(as_of)
    emit_view(refusable(ctx, lambda: appraisal_service.decide(
        archive, appraisal_id, conclusion=conclusion, actor=default_actor(), as_of=day)),
        as_json, _print)


@appraisal.command("show")
@click.argument("appraisal_id", type=int)
@json_command
def appraisal_show(ctx: click.Context, appraisal_id: int, as_json: bool) -> None:
    """显示一项鉴定：提议、意见、决定。"""
    with open_for_retention(ctx).db.session() as s:
        v = appraisal_service.get(s, appraisal_id)
    emit_view(v, as_json, _print)


@appraisal.command("list")
@click.option("--state", type=click.Choice(list(APPRAISAL_STATES)))
@json_command
def appraisal_list(ctx: click.Context, state: str | None, as_json: bool) -> None:
    """列出鉴定。"""
    with open_for_retention(ctx).db.session() as s:
        views = appraisal_service.list_appraisals(s, state=state)
    if as_json:
        emit_json([v.to_dict() for v in views])
        return
    if not views:
        click.echo("没有鉴定")
    for v in views:
        click.echo(f"{v.id}\t{v.action_name}\t{APPRAISAL_STATES.get(v.state, v.state)}\t"
                   f"{len(v.items)} 件\t{v.proposed_by}\t{len(v.opinions)} 条意见")
