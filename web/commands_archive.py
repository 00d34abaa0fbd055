"""CLI commands for the instance, the trust store, the filing configuration and lookups."""

from __future__ import annotations

from pathlib import Path

import click

from dangan.archive import catalogue, keys, transfer_records
from dangan.archive.actor import default_actor
from dangan.archive.composition import create_archive
from dangan.archive.errors import NotFound
from dangan.archive.filing_config import load_filing_config
from dangan.archive.instance import Archive
from dangan.archive.timeutil import local
from dangan.packages import vocabulary as V
from dangan.packages.checks import default_registry
from dangan.packages.vocabulary import label

from .render import emit_json, local_time, print_checks, print_item


def cli_actor() -> str:
    return default_actor()


def open_archive(ctx: click.Context) -> Archive:
    """The instance named by ``--home``/``$DANGAN_HOME``, built by the composition root."""
    return create_archive(ctx.obj["home"])


def register(main: click.Group) -> None:
    main.add_command(rejections)
    main.add_command(init)
    main.add_command(trust)
    main.add_command(config)
    main.add_command(show)


@click.command()
@click.option("--fonds", help="全宗号，如 Z001")
@click.option("--organization", help="立档单位名称")
@click.option("--passphrase-file", type=click.Path(dir_okay=False, path_type=Path),
              help="私钥口令文件（实例目录之外、权限 0600；不存在则生成），记入 dangan.toml")
@click.option("--demo-passphrase", is_flag=True,
              help="仅供演示：没有其他口令来源时，把随机口令以明文存在私钥旁边")
@click.pass_context
def init(ctx: click.Context, fonds: str | None, organization: str | None,
         passphrase_file: Path | None, demo_passphrase: bool) -> None:
    """创建档案实例：目录、配置、档案馆签名密钥、目录数据库。

    私钥口令来自实例目录之外：环境变量 DANGAN_KEY_PASSPHRASE、--passphrase-file，
    或 systemd 凭据 dangan-key-passphrase（见 docs/key-custody.md）。
    """
    archive = Archive.init(ctx.obj["home"], fonds=fonds, organization=organization,
                           passphrase_file=passphrase_file.absolute() if passphrase_file else None,
                           demo_passphrase=demo_passphrase)
    source = keys.passphrase_sources(archive.home, archive.settings.key_passphrase_file or None)[0]
    click.echo(f"已创建档案实例：{archive.home}（仅服务账户可访问）")
    click.echo(f"  全宗号 {archive.settings.fonds}，立档单位 {archive.settings.organization}")
    click.echo(f"  档案馆签名密钥 {archive.settings.archive_key_id}（私钥已加密保存）")
    click.echo(f"  私钥口令来自：{source.label}")
    click.echo(f"  公钥：{archive.home / keys.KEY_DIR / keys.PUBLIC_KEY}")
    if (warning := archive.key_custody_warning) is not None:
        click.echo(warning, err=True)


@click.group()
def trust() -> None:
    """经办系统公钥信任库（登记、列出、吊销）。"""


@trust.command("add")
@click.argument("system")
@click.argument("key_id")
@click.argument("pubkey", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def trust_add(ctx: click.Context, system: str, key_id: str, pubkey: Path) -> None:
    """登记经办系统 SYSTEM 的公钥 KEY_ID（PEM 文件）。"""
    archive = open_archive(ctx)
    entry = keys.trust_add(archive.db, system, key_id, pubkey.read_bytes(), actor=cli_actor())
    click.echo(f"已登记：{entry.system} / {entry.key_id}（{entry.algorithm}，指纹 {entry.fingerprint}）")


@trust.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def trust_list(ctx: click.Context, as_json: bool) -> None:
    """列出信任库中的密钥。"""
    archive = open_archive(ctx)
    with archive.db.session() as s:
        entries = keys.trust_list(s)
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    if not entries:
        click.echo("信任库为空：用 dangan trust add 登记经办系统公钥")
    for e in entries:
        state = f"已吊销（{local(e.revoked_at)}：{e.revoked_reason}）" if e.revoked_at else "有效"
        click.echo(f"{e.system}\t{e.key_id}\t{e.algorithm}\t{e.fingerprint[:16]}…\t{state}")


@trust.command("revoke")
@click.argument("system")
@click.argument("key_id")
@click.option("--reason", default="", help="吊销原因")
@click.pass_context
def trust_revoke(ctx: click.Context, system: str, key_id: str, reason: str) -> None:
    """吊销经办系统 SYSTEM 的密钥 KEY_ID：此后用它签名的提交包一律拒收。"""
    archive = open_archive(ctx)
    entry = keys.trust_revoke(archive.db, system, key_id, reason, actor=cli_actor())
    click.echo(f"已吊销：{entry.system} / {entry.key_id}")


@click.group()
def config() -> None:
    """查看归档配置。"""


@config.command("service-items")
@click.option("--json", "as_json", is_flag=True)
def service_items(as_json: bool) -> None:
    """服务事项归档配置：类别、保管期限、分类号、各办理结果所需材料。"""
    cfg = load_filing_config()
    if as_json:
        emit_json(cfg.to_dict())
        return
    for item in cfg.items:
        click.echo(
            f"{item.code}\t{item.name}\t{item.category}\t"
            f"{label(V.RETENTIONS, item.retention)}\t{item.classification_code}"
        )
        for outcome, kinds in item.required_documents.items():
            names = "、".join(label(V.DOCUMENT_KINDS, k) for k in kinds) or "—"
            click.echo(f"\t  {label(V.OUTCOMES, outcome)}：{names}")


@config.command("checks")
@click.option("--json", "as_json", is_flag=True)
def checks(as_json: bool) -> None:
    """四性检测项目：代码、性质、名称、适用环节（GD 归档 / YJ 移交 / BC 长期保存）、是否阻断。"""
    specs = [
        {"code": c.code, "nature": str(c.nature), "name": c.name,
         "stages": [st for st in ("GD", "YJ", "BC") if st in c.stages], "blocking": c.blocking}
        for c in default_registry().all()
    ]
    if as_json:
        emit_json(specs)
        return
    for c in specs:
        click.echo(f"{c['code']:<10}{label(V.NATURES, c['nature'])}  {c['name']}  "
                   f"[{'/'.join(c['stages'])}]" + ("" if c["blocking"] else "  （不阻断）"))


@click.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """按 AIP 标识、档号或办件编号（可写 系统/办件编号）查看档案。"""
    archive = open_archive(ctx)
    with archive.db.session() as s:
        found = catalogue.lookup(s, ref)
        data = catalogue.item_to_dict(found.item)
        data["matched_by"] = found.matched_by
        data["received_by_transfer"] = transfer_records.received_origin(s, found.item.aip_id)
        data["versions"] = [
            {"version": v.version, "aip_id": v.aip_id, "status": v.status,
             "archived_at": v.archived_at.isoformat(), "correction_reason": v.correction_reason}
            for v in found.versions
        ]
    data["store_path"] = str(archive.store.path(data["aip_id"]))
    if as_json:
        emit_json(data)
        return
    print_item(data)
    if origin := data["received_by_transfer"]:
        click.echo(f"移交接收：来自 {origin['sender_organization']}（密钥指纹 "
                   f"{str(origin['sender_fingerprint'])[:16]}…），移交 {origin['transfer_id']}，"
                   f"接收于 {local_time(origin['received_at'])}，原档号 "
                   f"{origin['original_archival_code']}，本馆审计日志第 {origin['audit_index']} 条")


@click.command()
@click.argument("ref", required=False)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def rejections(ctx: click.Context, ref: str | None, limit: int, as_json: bool) -> None:
    """拒收记录：不带参数列出最近的拒收；给出记录号或办件编号则显示完整检测报告。"""
    archive = open_archive(ctx)
    with archive.db.session() as s:
        records = [catalogue.rejection_to_dict(r) for r in catalogue.rejections(s, ref, limit=limit)]
    if ref is not None and not records:
        raise NotFound(f"没有记录号或办件编号为 {ref} 的拒收记录")
    if as_json:
        emit_json(records)
        return
    for r in records:
        click.echo(f"#{r['id']}  {local_time(r['received_at'])}  {r['source_system']} / "
                   f"{r['case_id']}  {r['reason']}")
        if ref is not None:
            print_checks(r["checks"], only_problems=True)
    if not records:
        click.echo("没有拒收记录")
