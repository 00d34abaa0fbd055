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
@click.option("--no-serve", is_flag=True, help="建好演示档案和演示账户后退出，不启动 Web 界面（供脚本和测试）")
@click.option("--host", default="127.0.0.1", show_default=True, help="Web 界面监听地址")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def demo(ctx: click.Context, cases: int, seed: int, no_serve: bool, host: str, port: int) -> None:
    """建一个演示档案（逼真的办件，签名、提交、归档，混入几件应被拒收的），创建各角色的演示
    账户，然后以 gunicorn 提供 Web 界面；扫描件 OCR 在后台进行，首页显示进度。"""
    import subprocess
    import sys

    from dangan.ingest.demo_archive import build_demo, create_demo_accounts

    build_demo(ctx.obj["home"], cases=cases, seed=seed, echo=click.echo, ocr=no_serve)
    accounts = create_demo_accounts(ctx.obj["home"])
    click.echo("演示账户（仅供演示；口令和动态口令密钥已公开，切勿用于生产）：")
    for a in accounts:
        click.echo(f"  {a['login']:<16} 角色 {a['role']:<10} 口令 {a['password']}")
    click.echo("动态口令（TOTP）：用手机验证器扫描或导入下列 otpauth 地址（也可用 "
               "python -c \"import pyotp;print(pyotp.parse_uri('地址').now())\" 计算当前口令）：")
    for a in accounts:
        click.echo(f"  {a['login']}: {a['otpauth']}")
    if no_serve:
        return
    archive = open_archive(ctx)
    home = str(archive.home)
    archive.close()
    ocr = subprocess.Popen([sys.executable, "-m", "dangan.search.ocr_background", home],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    click.echo(f"扫描件 OCR 在后台进行（进程 {ocr.pid}），完成前按元数据和文本检索；进度见首页。")
    click.echo("试一试：查阅员 demo-clerk 检索并打开办件；档案管理员 demo-archivist 查看拒收记录；"
               "检查员 demo-inspector 打开“检查”看板和“链条验证”。")
    from .commands_serve import serve

    try:
        ctx.invoke(serve, host=host, port=port, workers=2, threads=4, insecure_cookies=False)
    finally:
        if ocr.poll() is None:
            ocr.terminate()
