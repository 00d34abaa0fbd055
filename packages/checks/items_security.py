"""Security check items: the virus scanner, the scan itself, and active content.

A scan never passes by default: when no real antivirus engine is installed GD-4-1 says
so (warn), and a file the scanner could not read is reported as not assessed.
"""

from __future__ import annotations

from typing import Any

from ..formats import identify as fid
from ..formats.pdf_objects import ACTIVE_NAMES, EXTERNAL, HIGH_RISK
from ..formats.virus import ScanResult, VirusScanner, default_scanner
from ..problem import Problem, as_dicts
from .context import CheckContext, FileFacts, Staged
from .engine import Nature, Result, Stage, Verdict, check
from .items_content import evidence, fmt_of, ofd_of, pdf_of, per_file, xml_of


def scanner_of(ctx: CheckContext) -> VirusScanner:
    return ctx.virus_scanner or ctx.memoized("virus:scanner", default_scanner)


def _scan(ctx: CheckContext, scanner: VirusScanner, ff: Staged) -> ScanResult:
    return ctx.memoized(f"scan:{ff.rel_path}", lambda: scanner.scan(ff.abs_path))


# --- GD-4-1 ---------------------------------------------------------------------------

@check("GD-4-1", Nature.SECURITY, "病毒防护软件安装与可用",
       stages=(Stage.GD, Stage.YJ, Stage.BC), blocking=False)
def scanner_installed(ctx: CheckContext) -> Verdict:
    try:
        scanner = scanner_of(ctx)
    except (OSError, FileNotFoundError) as exc:
        return Verdict.warn(f"病毒扫描程序不可用：{exc}，无法进行病毒检测")
    name = getattr(scanner, "name", type(scanner).__name__)
    if getattr(scanner, "full_coverage", False):
        return Verdict.ok(f"已配置病毒扫描引擎：{name}", [{"engine": name, "note": name}])
    return Verdict.warn(
        f"未安装完整的病毒扫描引擎，当前只有{name}，不能代替杀毒软件；建议安装 ClamAV",
        [Problem("security.scanner_limited", None, expected="ClamAV", found=name,
                 note="仅内置特征检测，覆盖范围有限", extra={"engine": name})],
    )


# --- GD-4-2 ---------------------------------------------------------------------------

@check("GD-4-2", Nature.SECURITY, "病毒检测",
       stages=(Stage.GD, Stage.YJ, Stage.BC))
def virus_scan(ctx: CheckContext) -> Verdict:
    """Every file of the submission, listed or not (an unlisted file is still stored nowhere,
    but it was received and must not carry a virus into the staging area unnoticed)."""
    if not ctx.files:
        return Verdict.ok("提交内容中没有电子文件，无需病毒检测")
    scanner = scanner_of(ctx)
    engine = getattr(scanner, "name", type(scanner).__name__)
    infected: list[Problem] = []
    unassessed: list[Problem] = []
    for rel in sorted(ctx.files):
        ff = ctx.files[rel]
        result = _scan(ctx, scanner, ff)
        if result.clean is False:
            infected.append(evidence(
                "security.virus", ff, f"发现病毒“{result.signature_name or '未知'}”（{result.message}）",
                engine=result.engine, found=result.signature_name))
        elif result.clean is None:
            unassessed.append(evidence("security.scan_failed", ff, f"未能完成病毒扫描：{result.message}",
                                       engine=result.engine))
    if infected:
        return Verdict.fail(
            f"发现病毒（扫描引擎：{engine}）：" + "；".join(e.note for e in infected[:10]),
            infected + unassessed)
    if unassessed:
        return Verdict.from_problems(unassessed, "", f"部分文件未能完成病毒扫描（{engine}）",
                                     result_on_problems=Result.WARN)
    limited = "" if getattr(scanner, "full_coverage", False) else "；注意：仅内置特征检测"
    return Verdict.ok(f"{len(ctx.files)} 个文件均未发现病毒（扫描引擎：{engine}{limited}）")


# --- GD-4-2-2 -------------------------------------------------------------------------

@check("GD-4-2-2", Nature.SECURITY, "文件不含可执行的活动内容",
       stages=(Stage.GD, Stage.YJ, Stage.BC))
def active_content(ctx: CheckContext) -> Verdict:
    warnings: list[Problem] = []

    def inspect(entry: dict[str, Any], ff: FileFacts) -> list[Problem]:
        mt = fmt_of(ctx, ff).media_type
        out: list[Problem] = []
        if mt == fid.PDF:
            info = pdf_of(ctx, ff)
            if not info.readable:
                warnings.append(evidence("security.unassessable", ff, "PDF 无法读取，未能检查活动内容"))
                return out
            for kind, count in sorted(info.active_content.items()):
                label = ACTIVE_NAMES.get(kind, kind)
                if kind in HIGH_RISK:
                    out.append(evidence("security.active_content", ff, f"含{label}（{count} 处）",
                                        found=kind, count=count))
                elif kind in EXTERNAL:
                    warnings.append(evidence("security.external_action", ff, f"含{label}（{count} 处）", found=kind,
                                             count=count))
            if not info.walk_complete:
                warnings.append(evidence("security.unassessable", ff, "PDF 对象过多，活动内容未能全部检查"))
        elif mt == fid.XML:
            info = xml_of(ctx, ff)
            if info.has_entities or info.has_doctype:
                kind = "实体声明（ENTITY）" if info.has_entities else "文档类型声明（DOCTYPE）"
                out.append(evidence("security.xml_entities", ff, f"XML 含{kind}，存在外部实体注入（XXE）或实体膨胀风险",
                                    found="ENTITY" if info.has_entities else "DOCTYPE"))
        elif mt == fid.OFD:
            info = ofd_of(ctx, ff)
            for part in info.doctype_parts:
                out.append(evidence("security.ofd_dtd", ff, f"OFD 部件“{part}”含 DTD 声明（XXE 风险）",
                                    member=part, found="DOCTYPE"))
            if info.attachments:
                warnings.append(evidence(
                    "security.attachments", ff, f"OFD 含 {len(info.attachments)} 个附件：" + "、".join(info.attachments[:5]),
                    found=info.attachments))
        return out

    verdict = per_file(ctx, inspect, "文件不含脚本、启动程序、嵌入文件等活动内容",
                       "文件含可执行的活动内容")
    if verdict.result is Result.FAIL:
        verdict.evidence.extend(as_dicts(warnings))
        return verdict
    if warnings and verdict.result is Result.PASS:
        return Verdict.from_problems(warnings, "", "文件含需人工关注的内容（附件或外部动作）",
                                     result_on_problems=Result.WARN)
    return verdict
