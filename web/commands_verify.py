"""CLI commands for proof: chain verification, fixity audits, evidence packages.

``dangan verify`` proves filed items end to end; ``dangan fixity`` re-hashes every copy
and repairs from a verified one; ``dangan evidence`` writes what an inspector takes
away, and ``dangan package verify-evidence`` checks it offline with ``packages/`` only.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from dangan.archive import chain, crosscheck, fixity, replica
from dangan.archive.evidence import CHAIN_STEP_NAMES, build_evidence
from dangan.archive.keys import read_public_key
from dangan.ingest.followup import drain
from dangan.packages import vocabulary as V
from dangan.packages.evidence import (
    UNAUTHENTICATED,
    VERIFIED,
    normalize_fingerprint,
    verify_evidence,
)
from dangan.packages.timestamp import TimestampInvalid, load_roots

from .commands_archive import cli_actor, open_archive
from .commands_ingest import package
from .render import emit_json

MARK = {True: V.RESULTS["pass"], False: V.RESULTS["fail"]}
EVIDENCE_STEPS = V.EVIDENCE_STEPS


def register(main: click.Group) -> None:
    main.add_command(verify)
    main.add_command(fixity_group)
    main.add_command(evidence)
    package.add_command(verify_evidence_cmd)


@click.command()
@click.argument("ref", required=False)
@click.option("--all", "all_items", is_flag=True, help="验证目录中的全部条目")
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="档案馆公钥（PEM，从密钥登记处独立取得）；不给则用本馆目录中的公钥")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify(ctx: click.Context, ref: str | None, all_items: bool, key_path: Path | None,
           as_json: bool) -> None:
    """链条验证：来源签名、过程信息、摘要、AIP 签名、目录、审计日志、副本；全部成立才返回 0。

    REF 为办件编号、AIP 标识或档号。检查员应以 --key 给出独立取得的档案馆公钥：
    否则本馆目录中的公钥若被替换，用替换密钥重签的信息包也会"通过"。"""
    if bool(ref) == all_items:
        raise click.UsageError("请给出一个办件编号、AIP 标识或档号，或者使用 --all")
    archive = open_archive(ctx)
    pem = read_public_key(key_path) if key_path else None
    results = (list(chain.verify_all(archive, pem)) if all_items
               else chain.verify_ref(archive, ref or "", pem))
    problems = crosscheck.check(archive) if all_items else []
    ok = all(r.ok for r in results) and not problems
    if as_json:
        emit_json({"status": "ok" if ok else "failed", "items": [r.to_dict() for r in results],
                   "crosscheck": [p.to_dict() for p in problems]})
    else:
        for r in results:
            click.echo(f"{r.archival_code}（第 {r.version} 版，AIP {r.aip_id}）："
                       f"{'全部验证通过' if r.ok else '验证不通过'}")
            for s in r.steps:
                click.echo(f"  [{MARK[s.ok]}] {CHAIN_STEP_NAMES.get(s.step, s.step)}：{s.message}")
        for p in problems:
            click.echo(f"[日志、目录与存储不符] {p.message}")
        bad = sum(1 for r in results if not r.ok)
        click.echo(f"共 {len(results)} 件，{len(results) - bad} 件通过，{bad} 件不通过"
                   + (f"；日志、目录与存储交叉核对发现 {len(problems)} 个问题" if problems
                      else ("；日志、目录与存储交叉核对一致" if all_items else "")))
    ctx.exit(0 if ok else 3)


@click.group("fixity")
def fixity_group() -> None:
    """固定性检查（长期保存阶段 BC）：重算两个副本的摘要，用校验通过的副本修复。"""


@fixity_group.command("run")
@click.option("--sample", type=click.IntRange(min=0), default=None,
              help="滚动抽样：检查最久未检查的 N 件")
@click.option("--all", "all_items", is_flag=True, help="检查全部条目（不论周期）")
@click.option("--cycle-days", type=click.IntRange(min=0), default=365, show_default=True,
              help="检查周期：超过此天数未检查的条目到期")
@click.option("--no-content", is_flag=True, help="不做内容检测（格式解码、病毒扫描），只做固定性检查")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="并行检查的进程数（默认：256 件以上时每个 CPU 核一个）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def fixity_run(ctx: click.Context, sample: int | None, all_items: bool, cycle_days: int,
               no_content: bool, workers: int | None, as_json: bool) -> None:
    """运行一次固定性检查（逐件列出已修复和有问题的条目，完好的只计数）；全部完好或已修复返回 0，否则返回 3。"""
    if sample is not None and all_items:
        raise click.UsageError("--sample 与 --all 不能同时使用")
    archive = open_archive(ctx)
    drain(archive)  # first finish what dead filing processes left (replicas, index)
    # Items that came out ok are counted, not listed (a full pass may cover millions).
    run = fixity.audit(archive, sample=sample, cycle_days=0 if all_items else cycle_days,
                       content=not no_content, actor=cli_actor(), workers=workers,
                       keep_items=False)
    if as_json:
        emit_json(run.to_dict())
    else:
        for i in run.items:
            click.echo(f"[{fixity.OUTCOME_NAMES.get(i.outcome, i.outcome)}] {i.archival_code}"
                       f"（AIP {i.aip_id}）：{i.message}")
        counts = "，".join(f"{fixity.OUTCOME_NAMES[k]} {v}" for k, v in run.counts().items() if v)
        click.echo(f"第 {run.run_id} 次检查：{run.audited} 件（{counts or '无到期条目'}），"
                   f"重算 {run.bytes_hashed / 1e6:.1f} MB")
    ctx.exit(0 if run.ok else 3)


@fixity_group.command("report")
@click.option("--cycle-days", type=click.IntRange(min=0), default=365, show_default=True)
@click.option("--problems", type=click.IntRange(min=0), default=100, show_default=True,
              help="最多列出多少件未解决的问题（最早的在前）")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def fixity_report(ctx: click.Context, cycle_days: int, problems: int, as_json: bool) -> None:
    """固定性检查概况：各条目最近一次结果、到期未查、未解决的问题。"""
    archive = open_archive(ctx)
    rep = fixity.report(archive, cycle_days=cycle_days, problems=problems)
    if as_json:
        emit_json(rep)
        return
    click.echo(f"条目 {rep['items']} 件：已检查 {rep['audited']}，从未检查 {rep['never_audited']}，"
               f"到期（周期 {cycle_days} 天）{rep['due']}")
    outcomes = "，".join(f"{fixity.OUTCOME_NAMES.get(k, k)} {v}" for k, v in
                         rep["latest_outcomes"].items())
    click.echo(f"最近结果：{outcomes or '无'}")
    if rep["open_problems_total"] > len(rep["open_problems"]):
        click.echo(f"未解决的问题共 {rep['open_problems_total']} 件，以下列出最早的 "
                   f"{len(rep['open_problems'])} 件（--problems N 可列出更多）")
    for p in rep["open_problems"]:
        click.echo(f"  [{fixity.OUTCOME_NAMES.get(p['outcome'], p['outcome'])}] {p['aip_id']}"
                   f"（{p['checked_at']}）：{p['message']}")
    for r in rep["runs"]:
        click.echo(f"  第 {r['run_id']} 次（{r['mode']}，{r['started_at']}）：{r['items']} 件，完好 "
                   f"{r['ok']}，修复 {r['repaired']}，未解决 {r['failed']}")


@fixity_group.command("backfill")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def fixity_backfill(ctx: click.Context, as_json: bool) -> None:
    """为尚无副本的条目写入副本（先校验复制件，再原子发布）。"""
    archive = open_archive(ctx)
    drain(archive)
    written = replica.backfill(archive, actor=cli_actor())
    if as_json:
        emit_json({"written": written})
    else:
        click.echo(f"已写入 {len(written)} 个副本到 {replica.replica_store(archive).root}")


@click.command()
@click.argument("ref")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def evidence(ctx: click.Context, ref: str, dest: Path, as_json: bool) -> None:
    """为一件档案（办件编号、AIP 标识或档号）生成供检查人离线验证的证据包（ZIP）。"""
    archive = open_archive(ctx)
    done = build_evidence(archive, ref, dest, actor=cli_actor())
    if as_json:
        emit_json(done)
        return
    click.echo(f"已生成证据包 {done['path']}：{done['archival_code']}（AIP {done['aip_id']}）")
    if done.get("destroyed"):
        click.echo(f"  本件已依法销毁：证据包含销毁记录、销毁清册（档号 "
                   f"{done['register']['archival_code']}）与各环节的审计日志证明")
    click.echo(f"  签名树头 {done['tree_size']} 条；生成时链条验证"
               f"{'全部通过' if done['chain_ok'] else '有未通过项（见 report.html）'}")
    click.echo(f"  离线验证：dangan package verify-evidence {dest} --key 档案馆公钥.pem")


EVIDENCE_UNAUTHENTICATED = 4  # every step holds, but under the package's own key only


@click.command("verify-evidence")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="检查人从档案馆以外渠道取得的档案馆公钥 PEM")
@click.option("--fingerprint", default=None,
              help="或：独立取得的档案馆公钥指纹（DER 公钥的 SHA-256 或 SM3，十六进制）")
@click.option("--tsa-root", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="时间戳服务的根证书（PEM，可含中间证书）：要求树头带有时间戳并验证其签名与证书链")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def verify_evidence_cmd(ctx: click.Context, path: Path, key_path: Path | None,
                        fingerprint: str | None, tsa_root: Path | None, as_json: bool) -> None:
    """离线验证证据包（只用 dangan.packages）。

    退出码：0 验证通过（以 --key 或 --fingerprint 独立认证档案馆公钥）；4 内部一致，但未经
    独立密钥认证（只用了包内公钥：攻击者用自己的密钥重签全部内容也会如此）；3 验证不通过。"""
    if key_path is not None and fingerprint is not None:
        raise click.UsageError("--key 与 --fingerprint 只需给出其一")
    if fingerprint is not None and not re.fullmatch(r"[0-9a-f]{64}", normalize_fingerprint(fingerprint)):
        raise click.BadParameter("指纹应为 64 位十六进制（SHA-256 或 SM3，可带 SHA256:/SM3: 前缀与冒号）",
                                 param_hint="--fingerprint")
    try:
        roots = load_roots(tsa_root.read_bytes()) if tsa_root else None
    except TimestampInvalid as exc:
        raise click.BadParameter(exc.message, param_hint="--tsa-root") from exc
    report = verify_evidence(path, read_public_key(key_path) if key_path else None, fingerprint,
                             roots)
    if as_json:
        emit_json(report.to_dict())
    else:
        for s in report.steps:
            mark = "未认证" if s.step == "archive_key" and s.ok and not report.authenticated \
                else MARK[s.ok]
            click.echo(f"  [{mark}] {EVIDENCE_STEPS.get(s.step, s.step)}：{s.message}")
        what = report.archival_code or path
        if report.status == VERIFIED:
            click.echo(f"证据包验证通过：{what}")
        elif report.status == UNAUTHENTICATED:
            click.echo(f"证据包内部一致，但未经独立密钥认证：{what}（请用 --key 给出独立取得的档案馆公钥，"
                       f"或用 --fingerprint 核对指纹 {report.key_fingerprint}）")
        else:
            bad = "、".join(EVIDENCE_STEPS.get(s.step, s.step) for s in report.steps if not s.ok)
            click.echo(f"证据包验证不通过：{what}（未通过：{bad}）")
    ctx.exit({VERIFIED: 0, UNAUTHENTICATED: EVIDENCE_UNAUTHENTICATED}.get(report.status, 3))
