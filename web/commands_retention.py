"""CLI commands of the retention domain: due list, schedules, holds, statistics, appraisal,
destruction.

Thin: each command parses, calls one ``dangan.retention`` service, prints. Refusals by the
rules (``RetentionRefused``) exit 3; bad input exits 2 (via ``DanganGroup``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import click

from dangan.archive.actor import default_actor
from dangan.archive.composition import create_archive
from dangan.archive.instance import Archive
from dangan.archive.timeutil import SHANGHAI, utcnow
from dangan.packages.archival_code import RETENTION_NAMES
from dangan.retention import appraisal as appraisal_service
from dangan.retention import destruction as destruction_service
from dangan.retention import holds as hold_service
from dangan.retention import schedule as schedule_service
from dangan.retention import stats as stats_service
from dangan.retention.errors import RetentionInputError, RetentionRefused
from dangan.retention.models import (
    APPRAISAL_ACTIONS,
    APPRAISAL_STATES,
    APPROVAL_KINDS,
    DESTRUCTION_STATES,
    HOLD_KINDS,
    HOLD_SCOPES,
)

from .render import emit_json, local_time

T = TypeVar("T")


def register(main: click.Group) -> None:
    main.add_command(retention)
    main.add_command(hold)
    main.add_command(stats)


def _open(ctx: click.Context) -> Archive:
    """Open the archive and first complete any destruction an interrupted run left."""
    archive = create_archive(ctx.obj["home"])
    destruction_service.resume(archive)
    return archive


def _refusable(ctx: click.Context, fn: Callable[[], T]) -> T:
    """Run a service call; a refusal by the rules prints its code and exits 3."""
    try:
        return fn()
    except RetentionRefused as exc:
        if ctx.params.get("as_json"):
            emit_json({"status": "refused", "error": exc.to_dict()})
        else:
            click.echo(f"拒绝 [{exc.code}]：{exc.message}", err=True)
        ctx.exit(3)
        raise  # unreachable: ctx.exit raises


def _as_of(text: str | None) -> date:
    if not text:
        return utcnow().astimezone(SHANGHAI).date()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise RetentionInputError(f"日期 {text!r} 应为 YYYY-MM-DD") from exc


def _ret(code: str | None) -> str:
    return RETENTION_NAMES.get(code or "", code or "-")


@click.group()
def retention() -> None:
    """保管期限：到期清单、期限与依据、鉴定。"""


@retention.command("due")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="按此日期计算（默认今天）")
@click.option("--limit", default=200, show_default=True, help="最多列出的条目数（0 只列分组）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention_due(ctx: click.Context, as_of: str | None, limit: int, as_json: bool) -> None:
    """列出保管期限已满、应当鉴定的档案，按服务事项、类别、年度分组。"""
    archive = _open(ctx)
    day = _as_of(as_of)
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
                   f"{_ret(g.retention)}\t{g.items}\t{g.held}")
    if result.items:
        click.echo("")
        click.echo("档号\t到期日\t题名\t状态")
        for i in result.items:
            click.echo(f"{i.archival_code}\t{i.due_on}\t{i.title}\t"
                       + ("冻结" if i.held else ("已更正" if i.status == "superseded" else "")))
    if result.items_truncated:
        click.echo(f"……仅列出前 {len(result.items)} 件（--limit 调整，--json 取全部分组）")


@retention.command("schedule")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def retention_schedule(ctx: click.Context, ref: str, as_json: bool) -> None:
    """一件档案的保管期限、起算日、到期日与依据。"""
    archive = _open(ctx)
    with archive.db.session() as s:
        sch = schedule_service.schedule_of(s, archive.filing_config, ref)
    if as_json:
        emit_json(sch.to_dict())
        return
    click.echo(f"档号      {sch.archival_code}（{sch.aip_id}）")
    click.echo(f"服务事项  {sch.service_item_name}（{sch.service_item_code}），{sch.category}")
    click.echo(f"保管期限  {sch.retention_name}，办结年度 {sch.completed_year}，"
               f"自 {sch.starts_on} 起算")
    if sch.extended_by_appraisal:
        click.echo(f"延长      经鉴定 {sch.extended_by_appraisal} 延长为"
                   f"{_ret(sch.effective_retention)}")
    click.echo(f"到期日    {sch.due_on or '永久保管，不到期'}")
    click.echo(f"依据      {sch.legal_basis}")
    if sch.holds:
        click.echo(f"冻结      {', '.join(str(h) for h in sch.holds)}（冻结期间不得销毁或移交）")


@retention.group("appraisal")
def appraisal() -> None:
    """鉴定：提议（销毁、延长保管期限、移交）、小组意见、决定。"""


def _print_appraisal(v: appraisal_service.AppraisalView, as_json: bool) -> None:
    if as_json:
        emit_json(v.to_dict())
        return
    state = APPRAISAL_STATES.get(v.state, v.state)
    extra = f"，新期限 {_ret(v.new_retention)}" if v.new_retention else ""
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
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="按此日期判断是否到期（默认今天）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def appraisal_propose(ctx: click.Context, refs: tuple[str, ...], action: str,
                      new_retention: str | None, reason: str, as_of: str | None,
                      as_json: bool) -> None:
    """对到期档案（档号或 AIP 标识，可多件）提出鉴定提议。"""
    archive = _open(ctx)
    day = _as_of(as_of)
    v = _refusable(ctx, lambda: appraisal_service.propose(
        archive, action=action, refs=list(refs), reason=reason, actor=default_actor(),
        new_retention=new_retention, as_of=day))
    _print_appraisal(v, as_json)


@appraisal.command("opinion")
@click.argument("appraisal_id", type=int)
@click.option("--agree/--disagree", required=True, help="同意或不同意")
@click.option("--comment", required=True, help="意见说明")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def appraisal_opinion(ctx: click.Context, appraisal_id: int, agree: bool, comment: str,
                      as_json: bool) -> None:
    """鉴定小组成员对鉴定 APPRAISAL_ID 发表意见（提议人不得参与）。"""
    archive = _open(ctx)
    v = _refusable(ctx, lambda: appraisal_service.opinion(
        archive, appraisal_id, member=default_actor(), agree=agree, comment=comment))
    _print_appraisal(v, as_json)


@appraisal.command("decide")
@click.argument("appraisal_id", type=int)
@click.option("--conclusion", required=True, help="鉴定意见")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="按此日期复核是否到期（默认今天）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def appraisal_decide(ctx: click.Context, appraisal_id: int, conclusion: str, as_of: str | None,
                     as_json: bool) -> None:
    """记录鉴定小组的决定与鉴定意见（全体同意方为通过）。"""
    archive = _open(ctx)
    day = _as_of(as_of)
    v = _refusable(ctx, lambda: appraisal_service.decide(
        archive, appraisal_id, conclusion=conclusion, actor=default_actor(), as_of=day))
    _print_appraisal(v, as_json)


@appraisal.command("show")
@click.argument("appraisal_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def appraisal_show(ctx: click.Context, appraisal_id: int, as_json: bool) -> None:
    """显示一项鉴定：提议、意见、决定。"""
    with _open(ctx).db.session() as s:
        v = appraisal_service.get(s, appraisal_id)
    _print_appraisal(v, as_json)


@appraisal.command("list")
@click.option("--state", type=click.Choice(list(APPRAISAL_STATES)))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def appraisal_list(ctx: click.Context, state: str | None, as_json: bool) -> None:
    """列出鉴定。"""
    with _open(ctx).db.session() as s:
        views = appraisal_service.list_appraisals(s, state=state)
    if as_json:
        emit_json([v.to_dict() for v in views])
        return
    if not views:
        click.echo("没有鉴定")
    for v in views:
        click.echo(f"{v.id}\t{v.action_name}\t{APPRAISAL_STATES.get(v.state, v.state)}\t"
                   f"{len(v.items)} 件\t{v.proposed_by}\t{len(v.opinions)} 条意见")


@click.group()
def hold() -> None:
    """冻结（法律、稽核、争议）：冻结期间不得销毁或移交。"""


@hold.command("place")
@click.option("--item", "item", help="档号或 AIP 标识")
@click.option("--case", "case", help="办件编号（冻结其全部版本）")
@click.option("--person", "person", help="居民身份证号码（凡载有此人的档案，含今后归档的）")
@click.option("--unit", "unit", help="统一社会信用代码（凡载有此单位的档案，含今后归档的）")
@click.option("--kind", type=click.Choice(list(HOLD_KINDS)), required=True)
@click.option("--reason", required=True, help="冻结理由")
@click.option("--authority", required=True, help="依据或决定机关（如法院文书号、稽核通知）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def hold_place(ctx: click.Context, item: str | None, case: str | None, person: str | None,
               unit: str | None, kind: str, reason: str, authority: str, as_json: bool) -> None:
    """对一件档案、一个办件、一个人或一个单位实施冻结。"""
    given = {k: v for k, v in (("item", item), ("case", case), ("person", person),
                                ("unit", unit)) if v}
    if len(given) != 1:
        raise click.UsageError("--item、--case、--person、--unit 须且只能给出一个")
    [(scope, target)] = given.items()
    archive = _open(ctx)
    view = _refusable(ctx, lambda: hold_service.place(
        archive, scope=scope, target=target, kind=kind, reason=reason, authority=authority,
        actor=default_actor()))
    if as_json:
        emit_json(view.to_dict())
        return
    click.echo(f"已冻结 {view.id}：{HOLD_KINDS[view.kind]}，{HOLD_SCOPES[view.scope]} "
               f"{view.target}，现涉及 {view.items} 件（审计记录第 {view.audit_index} 条）")


@hold.command("lift")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True, help="解除理由")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def hold_lift(ctx: click.Context, hold_id: int, reason: str, as_json: bool) -> None:
    """解除冻结 HOLD_ID。"""
    archive = _open(ctx)
    view = _refusable(ctx, lambda: hold_service.lift(archive, hold_id, reason=reason,
                                                     actor=default_actor()))
    if as_json:
        emit_json(view.to_dict())
        return
    click.echo(f"已解除冻结 {view.id}（审计记录第 {view.audit_index} 条）")


@hold.command("list")
@click.option("--all", "include_lifted", is_flag=True, help="包括已解除的冻结")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def hold_list(ctx: click.Context, include_lifted: bool, as_json: bool) -> None:
    """列出冻结。"""
    archive = _open(ctx)
    with archive.db.session() as s:
        views = hold_service.list_holds(s, include_lifted=include_lifted)
    if as_json:
        emit_json([v.to_dict() for v in views])
        return
    if not views:
        click.echo("没有生效的冻结")
    for v in views:
        state = "生效" if v.active else f"已解除（{local_time(v.lifted_at or '')}）"
        click.echo(f"{v.id}\t{HOLD_KINDS[v.kind]}\t{HOLD_SCOPES[v.scope]} {v.target}\t{v.items} 件\t"
                   f"{state}\t{v.authority}\t{v.reason}")




@click.group()
def stats() -> None:
    """统计：馆藏、接收、保管期限与处置（表格或 CSV）。"""


def _print_table(table: stats_service.StatsTable, as_csv: bool, as_json: bool) -> None:
    if as_json:
        emit_json(table.to_dict())
    elif as_csv:
        click.echo(table.to_csv(), nl=False)
    else:
        click.echo(table.title)
        click.echo("\t".join(t for _, t in table.columns))
        for row in table.rows:
            click.echo("\t".join(str(row[k]) for k, _ in table.columns))
        if not table.rows:
            click.echo("（无数据）")


@stats.command("holdings")
@click.option("--csv", "as_csv", is_flag=True, help="输出 CSV")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats_holdings(ctx: click.Context, as_csv: bool, as_json: bool) -> None:
    """馆藏：按类别、年度、保管期限、状态统计件数、文件数、页数、字节数。"""
    with _open(ctx).db.session() as s:
        _print_table(stats_service.holdings_stats(s), as_csv, as_json)


@stats.command("intake")
@click.option("--csv", "as_csv", is_flag=True, help="输出 CSV")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats_intake(ctx: click.Context, as_csv: bool, as_json: bool) -> None:
    """接收：每月归档件数、文件数、字节数与拒收件数。"""
    with _open(ctx).db.session() as s:
        _print_table(stats_service.intake_stats(s), as_csv, as_json)


@stats.command("retention")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="按此日期计算到期（默认今天）")
@click.option("--csv", "as_csv", is_flag=True, help="输出 CSV")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats_retention(ctx: click.Context, as_of: str | None, as_csv: bool, as_json: bool) -> None:
    """保管期限：在库、到期、冻结、鉴定、销毁、移交件数。"""
    day = _as_of(as_of)
    with _open(ctx).db.session() as s:
        _print_table(stats_service.retention_stats(s, day), as_csv, as_json)


@retention.group("destruction")
def destruction() -> None:
    """销毁：记录单位负责人批准和人社部门备案，在监销人监督下销毁，留下销毁记录。"""


def _print_destruction(v: destruction_service.DestructionView, as_json: bool) -> None:
    if as_json:
        emit_json(v.to_dict())
        return
    click.echo(f"销毁批次 {v.id}（鉴定 {v.appraisal_id}，销毁清册 {v.register_ref}）："
               f"{DESTRUCTION_STATES.get(v.state, v.state)}，{len(v.items)} 件")
    for kind, a in v.approvals.items():
        click.echo(f"  {APPROVAL_KINDS.get(kind, kind)}：{a['approver']}，{a['approved_on']}，"
                   f"文号 {a['document_no']}")
    if v.supervisors:
        click.echo(f"  监销人：{'、'.join(v.supervisors)}；销毁方式：{v.method}")


@destruction.command("approve")
@click.argument("appraisal_id", type=int)
@click.option("--kind", type=click.Choice(list(APPROVAL_KINDS)), required=True,
              help="principal 单位负责人批准；filing 报人社部门备案")
@click.option("--by", "approver", required=True, help="批准人（或备案机关）")
@click.option("--document-no", required=True, help="批准或备案文号")
@click.option("--date", "on", metavar="YYYY-MM-DD", help="批准或备案日期（默认今天）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def destruction_approve(ctx: click.Context, appraisal_id: int, kind: str, approver: str,
                        document_no: str, on: str | None, as_json: bool) -> None:
    """记录销毁的批准或备案（第一次记录时开立销毁批次）。"""
    archive = _open(ctx)
    day = _as_of(on)
    v = _refusable(ctx, lambda: destruction_service.record_approval(
        archive, appraisal_id, kind=kind, approver=approver, document_no=document_no,
        approved_on=day, actor=default_actor()))
    _print_destruction(v, as_json)


@destruction.command("execute")
@click.argument("batch_id", type=int, required=False)
@click.option("--supervisor", "supervisors", multiple=True, help="监销人登录名（至少两名）")
@click.option("--method", default="", help="销毁方式")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="按此日期复核是否到期（默认今天）")
@click.option("--resume", is_flag=True, help="只完成被中断的销毁")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def destruction_execute(ctx: click.Context, batch_id: int | None, supervisors: tuple[str, ...],
                        method: str, as_of: str | None, resume: bool, as_json: bool) -> None:
    """执行销毁：删除存储、副本、索引和提取文本，留下销毁记录（墓碑）。"""
    archive = _open(ctx)  # completes interrupted destructions first
    if resume:
        if as_json:
            emit_json({"status": "ok"})
        else:
            click.echo("被中断的销毁均已完成")
        return
    if batch_id is None:
        raise click.UsageError("请给出销毁批次编号，或使用 --resume")
    day = _as_of(as_of)
    v = _refusable(ctx, lambda: destruction_service.execute(
        archive, batch_id, supervisors=list(supervisors), method=method,
        actor=default_actor(), as_of=day))
    _print_destruction(v, as_json)


@destruction.command("show")
@click.argument("batch_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def destruction_show(ctx: click.Context, batch_id: int, as_json: bool) -> None:
    """显示销毁批次。"""
    archive = _open(ctx)
    with archive.db.session() as s:
        v = destruction_service.get(s, batch_id)
    _print_destruction(v, as_json)
