"""CLI commands for the catalogue schema: ``dangan db status`` and ``dangan db upgrade``.

Opening an instance never migrates its catalogue; a schema behind this software is
refused (``archive.schema_behind``, exit 2) until an operator upgrades it here, after a
backup, as an explicit and logged step.
"""

from __future__ import annotations

import logging

import click

from dangan.archive.composition import create_archive, upgrade_schema
from dangan.archive.db import schema_status

from .render import emit_json


def register(main: click.Group) -> None:
    main.add_command(db)


@click.group()
def db() -> None:
    """目录数据库结构：查看版本、升级。"""


@db.command("status")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status_cmd(ctx: click.Context, as_json: bool) -> None:
    """显示目录数据库的结构版本与本程序所需版本；落后时退出码为 2。"""
    archive = create_archive(ctx.obj["home"], check_schema=False)
    try:
        st = schema_status(archive.db.engine)
    finally:
        archive.close()
    if as_json:
        emit_json({"current": st.current, "head": st.head, "up_to_date": st.up_to_date})
    elif st.up_to_date:
        click.echo(f"目录数据库结构为最新版本 {st.head}")
    else:
        click.echo(f"目录数据库结构版本 {st.current or '（空）'}，本程序需要 {st.head}："
                   "请先备份，再运行 dangan db upgrade")
    ctx.exit(0 if st.up_to_date else 2)


@db.command("upgrade")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def upgrade_cmd(ctx: click.Context, as_json: bool) -> None:
    """把目录数据库结构升级到本程序的版本（先备份！升级前会提示备份方法）。"""
    archive = create_archive(ctx.obj["home"], check_schema=False)
    try:
        st = schema_status(archive.db.engine)
        if st.up_to_date:
            if as_json:
                emit_json({"status": "up_to_date", "before": st.current, "after": st.head})
            else:
                click.echo(f"目录数据库结构已是最新版本 {st.head}，无需升级")
            return
        if archive.db.is_sqlite:
            hint = (f"升级前请先备份：sqlite3 {archive.db.engine.url.database} "
                    "\".backup 备份文件路径\"（并保留实例目录的副本）")
        else:
            hint = "升级前请先备份：用 pg_dump 导出目录数据库（并保留实例目录的副本）"
        click.echo(hint, err=True)
        logging.getLogger(__name__).info("dangan db upgrade on %s", archive.home)
        before, after = upgrade_schema(archive)
    finally:
        archive.close()
    if as_json:
        emit_json({"status": "upgraded", "before": before, "after": after})
    else:
        click.echo(f"目录数据库结构已从 {before or '（空）'} 升级到 {after}")
