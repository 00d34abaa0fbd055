"""Metadata ↔ content linkage and totals: GD-1-10, GD-1-11, GD-2-1, GD-2-2, GD-4-3.

case.json is the list of record of the submission: every listed file must be present at
a safe path with the listed size, and nothing may be present that it does not list.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import PurePosixPath
from typing import Any

from ..case_schema import name_key
from ..problem import Problem
from .context import CASE_JSON, CASE_SIG, CheckContext
from .engine import Nature, Result, Verdict, check
from .items_metadata import listed_files, unreadable

# Extensions a declared media type may carry; others fall back to ``mimetypes``.
MEDIA_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "application/ofd": (".ofd",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/tiff": (".tif", ".tiff"),
    "image/png": (".png",),
    "application/xml": (".xml",),
    "text/xml": (".xml",),
}

_DRIVE = re.compile(r"^[A-Za-z]:")


def path_problem(path: str) -> str | None:
    """Why a listed file path is unsafe (could escape ``files/`` or be ambiguous), or None."""
    if not path:
        return "路径为空"
    if path.startswith("/") or _DRIVE.match(path):
        return "不得使用绝对路径"
    if "\\" in path:
        return "不得含反斜杠（路径分隔符只能用 /）"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return "路径含控制字符"
    parts = path.split("/")
    if ".." in parts:
        return "不得含 ..（上级目录）"
    if "" in parts or "." in parts:
        return "路径含空段或 .（当前目录）"
    return None


def _extensions(media_type: str) -> tuple[str, ...]:
    known = MEDIA_EXTENSIONS.get(media_type.lower())
    return known if known is not None else tuple(mimetypes.guess_all_extensions(media_type))


@check("GD-1-10", Nature.AUTHENTICITY, "内容数据的电子属性一致性检测")
def electronic_properties(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    entries = listed_files(ctx)
    if not entries:
        return Verdict.fail("case.json 未列出任何文件，无法核对电子属性",
                            [Problem("linkage.no_files", "$.files", note="文件清单为空或缺失")])
    failures, warnings = [], []
    for jp, entry in entries:
        rel, fid = ctx.listed_path(entry), entry.get("id", jp)
        facts = ctx.files.get(rel) if rel else None
        if facts is None:
            failures.append(Problem("linkage.file_missing", jp, field="文件", expected="文件存在",
                                    found=rel or "无路径", note=f"文件 {fid}（{rel}）不存在，无法核对电子属性"))
            continue
        size = entry.get("size")
        if size != facts.size or isinstance(size, bool):
            failures.append(Problem("linkage.size_mismatch", f"{jp}.size", field="计算机文件大小",
                                    expected=size, found=facts.size,
                                    note=f"文件 {fid} 登记大小 {size} 字节，实际 {facts.size} 字节"))
        media_type = entry.get("media_type")
        if isinstance(media_type, str) and media_type:
            allowed = _extensions(media_type)
            suffix = PurePosixPath(rel).suffix.lower()
            if not allowed:
                warnings.append(Problem("linkage.media_type_unknown", f"{jp}.media_type",
                                        field="MIME 媒体类型", expected="已知媒体类型", found=media_type,
                                        note=f"文件 {fid} 的媒体类型 {media_type} 未知，无法核对扩展名"))
            elif suffix not in allowed:
                warnings.append(Problem("linkage.extension_mismatch", f"{jp}.path",
                                        field="计算机文件名", expected=" / ".join(allowed),
                                        found=suffix or "无扩展名",
                                        note=f"文件 {fid} 的扩展名 {suffix or '（无）'} 与声明的 {media_type} 不符"))
    if failures:
        return Verdict.from_problems(failures + warnings, "", "电子属性与登记不一致")
    return Verdict.from_problems(warnings, f"{len(entries)} 个文件的大小与扩展名均与登记一致",
                                 "文件扩展名与声明格式不一致", result_on_problems=Result.WARN)


@check("GD-1-11", Nature.AUTHENTICITY, "元数据是否关联内容数据检测")
def metadata_links_content(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    entries = listed_files(ctx)
    if not entries:
        return Verdict.fail("case.json 未列出任何文件，元数据没有关联的内容数据",
                            [Problem("linkage.no_files", "$.files", note="文件清单为空或缺失")])
    problems = []
    for jp, entry in entries:
        path, fid = entry.get("path"), entry.get("id", jp)
        if not isinstance(path, str):
            problems.append(Problem("linkage.path_missing", f"{jp}.path", field="计算机文件名",
                                    expected="相对路径", found=path, note=f"文件 {fid} 没有可用的路径"))
            continue
        why = path_problem(path)
        if why:
            problems.append(Problem("linkage.path_unsafe", f"{jp}.path", field="计算机文件名",
                                    expected="files/ 下的相对路径", found=path,
                                    note=f"文件 {fid} 的路径 {path!r} 不安全：{why}"))
            continue
        rel = ctx.listed_path(entry)
        if rel not in ctx.files:
            problems.append(Problem("linkage.file_absent", f"{jp}.path", field="计算机文件名",
                                    expected="文件存在", found=rel,
                                    note=f"文件 {fid} 登记的 {rel} 不在提交中"))
    problems.extend(_same_file_twice(ctx, entries))
    return Verdict.from_problems(problems, f"{len(entries)} 条文件元数据均关联到实际存在的文件",
                                 "元数据未关联到内容数据")


def _same_file_twice(ctx: CheckContext, entries: list[tuple[str, Any]]) -> list[Problem]:
    """Entries that name one file twice, or two names one file system takes for one file
    (equal after Unicode NFC normalisation or case folding: ``café`` composed/decomposed)."""
    out = []
    first: dict[str, tuple[str, str]] = {}
    for jp, entry in entries:
        rel = ctx.listed_path(entry)
        if rel is None or path_problem(entry["path"]):
            continue
        key = name_key(rel)
        if key not in first:
            first[key] = (jp, rel)
            continue
        other_jp, other = first[key]
        why = "登记的是同一文件" if other == rel else "在 Unicode 规范化（NFC）或忽略大小写后相同，会互相覆盖"
        out.append(Problem("linkage.name_collision", f"{jp}.path", field="计算机文件名",
                           expected="互不相同的文件名", found=rel,
                           note=f"{jp} 的 {rel!r} 与 {other_jp} 的 {other!r} {why}"))
    return out


@check("GD-4-3", Nature.SECURITY, "载体中多余文件检测")
def no_extra_files(ctx: CheckContext) -> Verdict:
    problems = [Problem("linkage.extra_entry", e, field="提交内容",
                        expected=f"仅 {CASE_JSON}、{CASE_SIG} 与 files/", found=e,
                        note=f"{e} 不属于办件提交的组成部分") for e in sorted(ctx.extra_entries)]
    if unreadable(ctx) is not None:
        problems.append(Problem("linkage.case_unreadable", CASE_JSON,
                                note="case.json 无法读取，无法判断 files/ 下哪些文件未登记"))
        return Verdict.from_problems(problems, "", "无法完成多余文件检测")
    listed = {ctx.listed_path(e) for _, e in listed_files(ctx)}
    for rel in sorted(ctx.files):
        if rel not in listed:
            problems.append(Problem("linkage.file_unlisted", rel, field="文件",
                                    expected="在 case.json 中登记", found="未登记",
                                    note=f"{rel} 未在 case.json 中登记"))
    return Verdict.from_problems(problems, "提交中没有多余文件", "提交中有多余文件")


def _listed_array(ctx: CheckContext) -> list[Any] | None:
    files = ctx.case.get("files")
    return files if isinstance(files, list) else None


@check("GD-2-1", Nature.INTEGRITY, "总件数相符性检测")
def file_count(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    listed = _listed_array(ctx)
    if listed is None:
        return Verdict.fail("case.json 的 files 缺失或不是数组，无法核对文件数",
                            [Problem("linkage.no_files", "$.files", note="文件清单缺失")])
    ev = {"path": "$.files", "field": "文件数", "expected": len(listed), "found": len(ctx.files)}
    count = Problem("linkage.count_mismatch", note="文件数不符", **ev)
    if len(listed) != len(ctx.files):
        return Verdict.fail(f"登记文件 {len(listed)} 个，实际收到 {len(ctx.files)} 个",
                            [count])
    return Verdict.ok(f"登记与实际文件数均为 {len(listed)} 个", [ev])


@check("GD-2-2", Nature.INTEGRITY, "总字节数相符性检测")
def total_bytes(ctx: CheckContext) -> Verdict:
    if (v := unreadable(ctx)) is not None:
        return v
    listed = _listed_array(ctx)
    if listed is None:
        return Verdict.fail("case.json 的 files 缺失或不是数组，无法核对总字节数",
                            [Problem("linkage.no_files", "$.files", note="文件清单缺失")])
    unusable = [Problem("linkage.size_unusable", f"$.files[{n}].size", field="计算机文件大小",
                        expected="整数", found=e.get("size") if isinstance(e, dict) else e,
                        note=f"$.files[{n}] 没有可用的文件大小，无法统计总字节数")
                for n, e in enumerate(listed)
                if not isinstance(e, dict) or not isinstance(e.get("size"), int) or isinstance(e.get("size"), bool)]
    if unusable:
        return Verdict.from_problems(unusable, "", "无法统计登记的总字节数")
    declared = sum(e["size"] for e in listed)
    actual = sum(f.size for f in ctx.files.values())
    ev = {"path": "$.files", "field": "总字节数", "expected": declared, "found": actual}
    total = Problem("linkage.bytes_mismatch", note="总字节数不符", **ev)
    if declared != actual:
        return Verdict.fail(f"登记总字节数 {declared}，实际收到 {actual}", [total])
    return Verdict.ok(f"登记与实际总字节数均为 {declared}", [ev])
