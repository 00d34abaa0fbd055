"""``dangan stats …``: holdings, intake and retention tables (text, CSV or JSON)."""

from __future__ import annotations

from collections.abc import Callable

import click

from dangan.retention import stats as stats_service

from .render import emit_json
from .retention_cli import as_of_date, as_of_option, open_for_retention


@click.group()
def stats() -> None:
    """统计：馆藏、接收、保管期限与处置（表格或 CSV）。"""


def _table_command(name: str) -> Callable[[Callable[..., None]], click.Command]:
    """A stats subcommand: ``--csv`` and ``--json`` around one table-producing function."""
    def wrap(fn: Callable[..., None]) -> click.Command:
        fn = click.option("--json", "as_json", is_flag=True)(fn)
        fn = click.option("--csv", "as_csv", is_flag=True, help="输出 CSV")(fn)
        return stats.command(name)(fn)
    return wrap


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


@_table_command("holdings")
@click.pass_context
def stats_holdings(ctx: click.Context, as_csv: bool, as_json: bool) -> None:
    """馆藏：按类别、年度、保管期限、状态统计件数、文件数、页数、字节数。"""
    with open_for_retention(ctx).db.session() as s:
        _print_table(stats_service.holdings_stats(s), as_csv, as_json)


@_table_command("intake")
@click.pass_context
def stats_intake(ctx: click.Context, as_csv: bool, as_json: bool) -> None:
    """接收：每月归档件数、文件数、字节数与拒收件数。"""
    with open_for_retention(ctx).db.session() as s:
        _print_table(stats_service.intake_stats(s), as_csv, as_json)


@_table_command("retention")
@as_of_option("按此日期计算到期（默认今天）")
@click.pass_context
def stats_retention(ctx: click.Context, as_of: str | None, as_csv: bool, as_json: bool) -> None:
    """保管期限：在库、到期、冻结、鉴定、销毁、移交件数。"""
    day = as_of_date(as_of)
    with open_for_retention(ctx).db.session() as s:
        _print_table(stats_service.retention_stats(s, day), as_csv, as_json)
