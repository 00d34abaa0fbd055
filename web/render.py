"""Printing results for people (Chinese) and machines (JSON)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

from dangan.archive.timeutil import local
from dangan.packages import vocabulary as V
from dangan.packages.vocabulary import label


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def local_time(text: str) -> str:
    """An ISO time stamp shown in Asia/Shanghai."""
    return local(datetime.fromisoformat(text))


def print_checks(checks: list[dict[str, Any]], *, only_problems: bool = False) -> None:
    for c in checks:
        if only_problems and c["result"] == "pass":
            continue
        nature = label(V.NATURES, c["nature"])
        click.echo(f"  [{label(V.RESULTS, c['result'])}] {c['code']} {nature} "
                   f"{c.get('name', '')}：{c['message']}")


def print_item(d: dict[str, Any]) -> None:
    click.echo(f"档号      {d['archival_code']}（第 {d['version']} 版，"
               f"{label(V.RECORD_STATUSES, d['status'])}）")
    click.echo(f"题名      {d['title']}")
    click.echo(f"AIP       {d['aip_id']}  摘要 SHA-256 {d['sha256']}")
    click.echo(f"办件      {d['source_system']} / {d['case_id']}")
    click.echo(f"服务事项  {d['service_item']['name']}（{d['service_item']['code']}）")
    click.echo(f"类别      {d['category']}  保管期限 "
               f"{label(V.RETENTIONS, d['retention'])}  分类号 "
               f"{d['classification_code']}")
    click.echo(f"经办机构  {d['agency']['name']}（{d['agency']['code']}）  "
               f"{V.FIELDS['channel']} {label(V.CHANNELS, d['channel'])}  "
               f"{V.FIELDS['outcome']} {label(V.OUTCOMES, d['outcome'])}"
               + (f"  文号 {d['decision_no']}" if d["decision_no"] else ""))
    click.echo(f"受理/办结 {local_time(d['accepted_at'])} / {local_time(d['completed_at'])}")
    click.echo(f"归档时间  {local_time(d['archived_at'])}")
    for p in d["parties"]:
        role = label(V.PARTY_ROLES, p["role"])
        click.echo(f"{role:<8}{p['name']}（{label(V.ID_TYPES, p['id_type'])} {p['id_number']}）")
    click.echo(f"文件      {d['file_count']} 件，{d['total_bytes']} 字节")
    for f in d["files"]:
        click.echo(f"  {f['seq']:>2}. {f['title']}  {f['media_type'] or f['declared_media_type']}"
                   f"  {f['size']} 字节" + (f"  {f['dpi']} dpi" if f["dpi"] else ""))
    click.echo("办理过程")
    for e in d["events"]:
        click.echo(f"  {e['seq']:>2}. {label(V.STEPS, e['step'])}  {local_time(e['at'])}  "
                   f"{e['actor']['name']}（{e['actor']['role']}）  {e['action']}")
    if len(d.get("versions", [])) > 1:
        click.echo("版本")
        for v in d["versions"]:
            click.echo(f"  第 {v['version']} 版  {v['aip_id']}  {label(V.RECORD_STATUSES, v['status'])}"
                       + (f"  更正原因：{v['correction_reason']}" if v["correction_reason"] else ""))
    click.echo(f"存储位置  {d.get('store_path', '')}")
