"""CLI commands for filing: ingest, export, offline package validation, demo."""

from __future__ import annotations

from pathlib import Path

import click

from dangan.archive.export import export_aip
from dangan.packages import vocabulary as V
from dangan.packages.aip import validate_aip

from .commands_archive import open_archive
from .render import emit_json, print_checks

STATUS_TEXT = V.INGEST_STATUSES


def register(main: click.Group) -> None:
    main.add_command(ingest)
    main.add_command(export)
    main.add_command(package)
    main.add_command(demo)


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象")
@click.pass_context
def ingest(ctx: click.Context, path: Path, as_json: bool) -> None:
    """接收一个办件提交包（目录或 .zip）：检测、封装、登记，返回回执或检测报告。"""
    from dangan.ingest.service import ingest as ingest_case  # heavy: load when used

    archive = open_archive(ctx)
    outcome = ingest_case(archive, path)
    if as_json:
        emit_json(outcome.to_dict())
    else:
        click.echo(f"{STATUS_TEXT[outcome.status]}：{outcome.source_system} / {outcome.case_id}")
        if outcome.status == "rejected":
            click.echo(f"原因：{outcome.reason}（拒收记录 #{outcome.rejection_id}）")
            print_checks(outcome.checks, only_problems=True)
        else:
            click.echo(f"  档号 {outcome.archival_code}（第 {outcome.version} 版）")
            click.echo(f"  AIP  {outcome.aip_id}")
            click.echo(f"  SHA-256（tagmanifest-sha256.txt）{outcome.sha256}")
            warns = [c for c in outcome.checks if c["result"] != "pass"]
            if warns:
                click.echo("  提示：")
                print_checks(warns)
    ctx.exit(outcome.exit_code)


@click.command()
@click.argument("ref")
@click.argument("dest", type=click.Path(path_type=Path))
@click.pass_context
def export(ctx: click.Context, ref: str, dest: Path) -> None:
    """把 AIP 按存储原样导出为 ZIP（BagIt 包）。"""
    archive = open_archive(ctx)
    done = export_aip(archive, ref, dest)
    click.echo(f"已导出 {done['archival_code']}（AIP {done['aip_id']}）到 {done['path']}")


@click.group()
def package() -> None:
    """离线处理归档信息包（只用 packages/，不需要档案实例）。"""


@package.command("validate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="档案馆公钥 PEM（不给则用包内公钥，仅能证明包未被改动）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def validate(ctx: click.Context, path: Path, key_path: Path | None, as_json: bool) -> None:
    """校验 AIP（目录或 ZIP）：结构、清单摘要（SHA-256 与 SM3）、描述文件、签名。"""
    result = validate_aip(path, key_path.read_bytes() if key_path else None)
    if as_json:
        emit_json(result.to_dict())
    else:
        if result.valid:
            click.echo(f"有效：{path}")
        else:
            click.echo(f"无效：{path}，共 {len(result.problems)} 处问题")
            for p in result.problems:
                click.echo(f"  - [{p.get('code')}] {p.get('path') or ''} {p.get('note')}")
    ctx.exit(0 if result.valid else 3)


@click.command()
@click.option("--cases", default=300, show_default=True, help="生成并归档的办件数")
@click.option("--seed", default=20261123, show_default=True)
@click.pass_context
def demo(ctx: click.Context, cases: int, seed: int) -> None:
    """建一个演示档案：生成逼真的办件，签名、提交、归档，并混入几件应被拒收的。"""
    from dangan.ingest.demo_archive import build_demo

    build_demo(ctx.obj["home"], cases=cases, seed=seed, echo=click.echo)
