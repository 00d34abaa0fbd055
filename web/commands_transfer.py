"""CLI commands of transfer (移交): create a package, receive one, confirm with the receipt.

Thin: each command parses, calls one ``dangan.retention.transfer*`` service, prints.
Refusals by the rules exit 3; bad input exits 2 (via ``DanganGroup``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

import click

from dangan.archive.actor import default_actor
from dangan.archive.keys import read_public_key
from dangan.retention import transfer as transfer_service
from dangan.retention import transfer_cancel, transfer_confirm, transfer_receive

from .render import emit_json
from .retention_cli import open_for_retention, refusable

T = TypeVar("T")


def register(main: click.Group) -> None:
    main.add_command(transfer)


def _print(v: transfer_service.TransferView, as_json: bool) -> None:
    if as_json:
        emit_json(v.to_dict())
        return
    click.echo(f"移交 {v.transfer_id}：{v.state_name}，接收单位 {v.receiver}，{len(v.items)} 件")
    if v.package:
        click.echo(f"  移交包：{v.package}（清单 SHA-256 {v.manifest_sha256}）")
    if v.receipt_sha256:
        click.echo(f"  接收回执 SHA-256 {v.receipt_sha256}，接收方密钥指纹 {v.receiver_fingerprint}")
    for i in v.items:
        click.echo(f"  {i['archival_code']}\t{i['aip_sha256']}\t{i['step']}")


@click.group()
def transfer() -> None:
    """移交：向综合档案馆移交（制作移交包、接收、凭回执确认）。"""


@transfer.command("create")
@click.argument("args", nargs=-1, required=True, metavar="[REF...] OUT.zip")
@click.option("--appraisal", "appraisal_id", type=int, help="已通过的移交鉴定编号")
@click.option("--receiver", required=True, help="接收单位（如某市档案馆）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def transfer_create(ctx: click.Context, args: tuple[str, ...], appraisal_id: int | None,
                    receiver: str, as_json: bool) -> None:
    """YJ 四性检测后制作签名的移交包（按鉴定编号或档号清单）。"""
    *refs, out = args
    archive = open_for_retention(ctx)
    v = refusable(ctx, lambda: transfer_service.create(
        archive, out=Path(out), receiver=receiver, actor=default_actor(),
        appraisal_id=appraisal_id, refs=refs))
    _print(v, as_json)


@transfer.command("receive")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sender-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="移交单位档案馆的公钥 PEM（独立取得）")
@click.option("--sender-fingerprint", help="移交单位公钥指纹（SHA-256，十六进制）")
@click.option("--receipt", "receipt_out", type=click.Path(path_type=Path),
              help="接收回执写到此文件（默认：移交包同名 .receipt.json）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def transfer_receive_cmd(ctx: click.Context, package: Path, sender_key: Path | None,
                         sender_fingerprint: str | None, receipt_out: Path | None,
                         as_json: bool) -> None:
    """验证移交包、复检（YJ）、登记入本馆目录，并出具签名的接收回执。"""
    archive = open_for_retention(ctx)
    pem = read_public_key(sender_key) if sender_key else None
    result = refusable(ctx, lambda: transfer_receive.receive(
        archive, package, actor=default_actor(), sender_key=pem,
        sender_fingerprint=sender_fingerprint))
    target = receipt_out or package.with_name(package.stem + ".receipt.json")
    target.write_text(json.dumps(result.receipt, ensure_ascii=False, indent=2) + "\n", "utf-8")
    if as_json:
        emit_json({**result.to_dict(), "receipt_path": str(target)})
        return
    head = "该移交包此前已接收，未重复登记" if result.already_received else \
        f"已接收 {len(result.filed)} 件（保留原档号）"
    click.echo(f"移交 {result.receipt['transfer_id']}：{head}；接收回执：{target}")


@transfer.command("confirm")
@click.argument("receipt", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--receiver-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="接收单位档案馆的公钥 PEM（独立取得）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def transfer_confirm_cmd(ctx: click.Context, receipt: Path, receiver_key: Path,
                         as_json: bool) -> None:
    """凭接收回执确认移交：核对签名与条目，移除本馆副本，留下移交记录（墓碑）。"""
    archive = open_for_retention(ctx)
    body = transfer_confirm.read_receipt(receipt)
    pem = read_public_key(receiver_key)
    v = refusable(ctx, lambda: transfer_confirm.confirm(archive, body, receiver_pem=pem,
                                                         actor=default_actor()))
    _print(v, as_json)


@transfer.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def transfer_list(ctx: click.Context, as_json: bool) -> None:
    """列出本馆发出的移交。"""
    with open_for_retention(ctx).db.session() as s:
        views = transfer_service.list_transfers(s)
    if as_json:
        emit_json([v.to_dict() for v in views])
        return
    if not views:
        click.echo("没有移交")
    for v in views:
        click.echo(f"{v.transfer_id}\t{v.state_name}\t{v.receiver}\t{len(v.items)} 件")


@transfer.command("show")
@click.argument("transfer_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def transfer_show(ctx: click.Context, transfer_id: str, as_json: bool) -> None:
    """显示一次移交。"""
    with open_for_retention(ctx).db.session() as s:
        v = transfer_service.get(s, transfer_id)
    _print(v, as_json)


@transfer.command("cancel")
@click.argument("transfer_id")
@click.option("--reason", required=True, help="撤销原因（如接收单位退回或已销毁移交包）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def transfer_cancel_cmd(ctx: click.Context, transfer_id: str, reason: str,
                        as_json: bool) -> None:
    """撤销尚未确认的移交：释放其档案，之后的接收回执不再被接受。"""
    archive = open_for_retention(ctx)
    v = refusable(ctx, lambda: transfer_cancel.cancel(
        archive, transfer_id, reason=reason, actor=default_actor()))
    _print(v, as_json)
