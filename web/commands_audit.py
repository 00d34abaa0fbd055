"""CLI commands of the audit log: published heads, signing, verification, proofs.

``dangan audit heads`` is what inspectors keep; ``dangan audit verify --against`` is how
they later prove the log only grew; ``dangan audit proof`` gives an inclusion proof
that ``dangan.packages.merkle.verify_inclusion`` checks offline.
"""

from __future__ import annotations

from pathlib import Path

import click

from dangan.archive import audit_log, keys, tree_heads
from dangan.archive.audit_verify import AuditVerifyReport, load_saved_head, verify_audit_log
from dangan.archive.composition import create_archive
from dangan.archive.instance import Archive
from dangan.archive.timeutil import local
from dangan.ingest.followup import drain

from .render import emit_json


def register(main: click.Group) -> None:
    main.add_command(audit)


def _open(ctx: click.Context) -> Archive:
    return create_archive(ctx.obj["home"])


@click.group()
def audit() -> None:
    """审计日志：签名树头、完整性验证、包含证明。"""


@audit.command("heads")
@click.option("--since", type=int, default=0, show_default=True, help="只列出序号大于 N 的树头")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def heads_cmd(ctx: click.Context, since: int, as_json: bool) -> None:
    """列出已发布的签名树头（供检查人留存，日后用 audit verify --against 核对）。"""
    archive = _open(ctx)
    with archive.db.session() as s:
        rows = tree_heads.heads(s, since)
    if as_json:
        emit_json([h.to_dict() for h in rows])
        return
    if not rows:
        click.echo("尚无签名树头：请运行 dangan audit sign-head")
    for h in rows:
        anchor = f"时间戳 {local(h.tsa_time)}" if h.tsa_time else (
            "时间戳失败（待重试）" if h.tsa_error else "无时间戳")
        click.echo(f"#{h.seq}\t{h.head.size} 条\t{local(h.head.time)}\t{h.head.root_hex}\t{anchor}")


@audit.command("sign-head")
@click.option("--max-age", type=float, default=None,
              help="仅当最新树头早于此秒数时才签署（供定时任务，如 3600）")
@click.option("--no-tsa", is_flag=True, help="不申请 RFC 3161 时间戳")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sign_head_cmd(ctx: click.Context, max_age: float | None, no_tsa: bool, as_json: bool) -> None:
    """签署当前日志的树头（档案馆密钥签名；配置了 DANGAN_TSA_URL 时加盖时间戳）。"""
    archive = _open(ctx)
    drain(archive)  # first finish what dead filing processes left (replicas, index)
    if max_age is not None:
        sth = tree_heads.sign_head_if_stale(archive, max_age=max_age)
    else:
        sth = tree_heads.publish_head(archive, anchor=False if no_tsa else None)
    with archive.db.session() as s:
        stored = tree_heads.latest_stored(s)
    if sth is None or stored is None:
        if as_json:
            emit_json({"status": "fresh", "latest": stored.to_dict() if stored else None})
        else:
            click.echo(f"最新树头仍在有效期内（{max_age:g} 秒），未签署新树头")
        return
    if as_json:
        emit_json({"status": "signed", "head": stored.to_dict()})
        return
    click.echo(f"已签署树头 #{stored.seq}：{sth.head.size} 条记录，根 {sth.head.root_hex}")
    click.echo(f"  时间 {local(sth.head.time)}，密钥 {sth.signature.key_id}")
    if stored.tsa_time:
        click.echo(f"  RFC 3161 时间戳：{local(stored.tsa_time)}（{stored.tsa_url}）")
    elif stored.tsa_error:
        click.echo(f"  未取得时间戳：{stored.tsa_error}", err=True)
    with archive.db.session() as s:
        waiting = len(s.scalars(tree_heads.unstamped_query()).all())
    if waiting:
        click.echo(f"  {waiting} 个树头尚待时间戳（下次 sign-head 时重新申请）", err=True)


def _print_report(report: AuditVerifyReport) -> None:
    for p in report.problems:
        click.echo(f"  [不通过] {p['message']}")
    for w in report.warnings:
        click.echo(f"  [警告] {w['message']}")
    if report.against is not None and report.against.get("extended"):
        a = report.against
        click.echo(f"  当前日志（{a['current_size']} 条）是所给树头（{a['size']} 条）的追加延续")
    if report.unstamped:
        click.echo(f"  {report.unstamped} 个树头尚待时间戳（其中 {report.unstamped_overdue} 个超过宽限期）；"
                   "dangan audit sign-head 会重新申请")
    if report.ok:
        click.echo(f"审计日志完好：{report.entries} 条记录、{report.heads} 个签名树头全部验证通过，"
                   f"根 {report.root_hex}")
    else:
        click.echo(f"审计日志验证不通过：{len(report.problems)} 个问题（{report.entries} 条记录，"
                   f"{report.heads} 个树头）")


@audit.command("verify")
@click.option("--against", "against_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="检查人此前保存的签名树头（JSON）")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="档案馆公钥 PEM（默认取实例 keys/ 下的公钥；检查人宜用自己留存的副本）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify_cmd(ctx: click.Context, against_file: Path | None, public_key: Path | None,
               as_json: bool) -> None:
    """重算全部审计记录、重建 Merkle 树并核对每个签名树头；全部成立才返回 0。"""
    archive = _open(ctx)
    pem = keys.read_public_key(public_key) if public_key else archive.public_pem
    saved = load_saved_head(against_file.read_bytes()) if against_file else None
    with archive.db.session() as s:
        report = verify_audit_log(s, archive, pem, against=saved)
    if as_json:
        emit_json(report.to_dict())
    else:
        _print_report(report)
    ctx.exit(0 if report.ok else 3)


@audit.command("proof")
@click.argument("index", type=int)
@click.option("--size", type=int, default=None, help="树大小（默认：覆盖该记录的最新签名树头）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def proof_cmd(ctx: click.Context, index: int, size: int | None, as_json: bool) -> None:
    """给出第 INDEX 条审计记录的包含证明（可离线用 dangan.packages.merkle 验证）。"""
    archive = _open(ctx)
    with archive.db.session() as s:
        doc = tree_heads.proof_document(s, index, size)
    if as_json:
        emit_json(doc)
        return
    e = doc["entry"]
    click.echo(f"第 {index} 条：{audit_log.ACTIONS.get(e['action'], e['action'])} {e['object_id']}"
               f"（{e['actor']}，{e['time']}）")
    click.echo(f"叶子哈希 {doc['leaf_hash']}")
    head = "已签名树头" if doc["signed_tree_head"] else "未签名（当前树）"
    click.echo(f"树大小 {doc['tree_size']}，根 {doc['root_hex']}（{head}）")
    for i, p in enumerate(doc["inclusion_proof"]):
        click.echo(f"  {i:>2}. {p}")


@audit.command("entries")
@click.option("--start", type=int, default=0, show_default=True)
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def entries_cmd(ctx: click.Context, start: int, limit: int, as_json: bool) -> None:
    """列出审计记录。"""
    archive = _open(ctx)
    with archive.db.session() as s:
        rows = audit_log.entries(s, start, start + limit)
    if as_json:
        emit_json([e.to_dict() for e in rows])
        return
    for e in rows:
        click.echo(f"{e.index}\t{e.time}\t{e.actor}\t{audit_log.ACTIONS.get(e.action, e.action)}"
                   f"\t{e.object_id}")
