"""``dangan hold …``: place, lift and list holds (冻结)."""

from __future__ import annotations

import click

from dangan.archive.actor import default_actor
from dangan.retention import holds as hold_service
from dangan.retention.models import HOLD_KINDS, HOLD_SCOPES

from .render import emit_json, local_time
from .retention_cli import emit_view, json_command, open_for_retention, refusable


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
@json_command
def hold_place(ctx: click.Context, item: str | None, case: str | None, person: str | None,
               unit: str | None, kind: str, reason: str, authority: str, as_json: bool) -> None:
    """对一件档案、一个办件、一个人或一个单位实施冻结。"""
    given = {k: v for k, v in (("item", item), ("case", case), ("person", person),
                                ("unit", unit)) if v}
    if len(given) != 1:
        raise click.UsageError("--item、--case、--person、--unit 须且只能给出一个")
    [(scope, target)] = given.items()
    archive = open_for_retention(ctx)
    emit_view(refusable(ctx, lambda: hold_service.place(
        archive, scope=scope, target=target, kind=kind, reason=reason, authority=authority,
        actor=default_actor())), as_json, lambda v: click.echo(
        f"已冻结 {v.id}：{HOLD_KINDS[v.kind]}，{HOLD_SCOPES[v.scope]} "
        f"{v.target}，现涉及 {v.items} 件（审计记录第 {v.audit_index} 条）"))


@hold.command("lift")
@click.argument("hold_id", type=int)
@click.option("--reason", required=True, help="解除理由")
@json_command
def hold_lift(ctx: click.Context, hold_id: int, reason: str, as_json: bool) -> None:
    """解除冻结 HOLD_ID。"""
    archive = open_for_retention(ctx)
    emit_view(refusable(ctx, lambda: hold_service.lift(
        archive, hold_id, reason=reason, actor=default_actor())), as_json,
        lambda v: click.echo(f"已解除冻结 {v.id}（审计记录第 {v.audit_index} 条）"))


@hold.command("list")
@click.option("--all", "include_lifted", is_flag=True, help="包括已解除的冻结")
@json_command
def hold_list(ctx: click.Context, include_lifted: bool, as_json: bool) -> None:
    """列出冻结。"""
    archive = open_for_retention(ctx)
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
