"""Content check items: what each filed file really is, whether it is whole and opens.

Each check looks at the files listed in case.json that are present in the submission
(missing or unlisted files are reported by the linkage checks, not again here). The
format is always taken from the bytes (``formats.identify``), never from the name or
the declared type; parses are memoised in the context so a PDF is decoded once for all
checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..formats import identify as fid
from ..formats.identify import FormatId, identify, media_type_name
from ..formats.image import ARCHIVAL_TIFF_COMPRESSIONS, ImageInfo, inspect_image
from ..formats.ofd import OfdInfo, read_ofd
from ..formats.ofd_container import ContainerInfo, check_container
from ..formats.pdf import PdfInfo, inspect_pdf
from ..formats.xmlsafe import XmlInfo, inspect_xml
from ..problem import Problem, as_dicts
from .context import CheckContext, FileFacts, Staged
from .engine import Nature, Result, Stage, Verdict, check

IMAGE_TYPES = frozenset({fid.JPEG, fid.TIFF, fid.PNG})
ALIASES = {
    "image/jpg": fid.JPEG,
    "image/pjpeg": fid.JPEG,
    "image/tif": fid.TIFF,
    "image/x-tiff": fid.TIFF,
    "text/xml": fid.XML,
    "application/x-pdf": fid.PDF,
    "application/vnd.ofd": fid.OFD,
    "application/x-ofd": fid.OFD,
}


# --- memoised per-file facts (shared with items_security) ---------------------------

def fmt_of(ctx: CheckContext, ff: Staged) -> FormatId:
    return ctx.memoized(f"format:{ff.rel_path}", lambda: identify(ff.abs_path))


def pdf_of(ctx: CheckContext, ff: Staged) -> PdfInfo:
    return ctx.memoized(f"pdf:{ff.rel_path}", lambda: inspect_pdf(ff.abs_path, with_text=False,
                                                                 limits=ctx.pdf_limits))


def ofd_of(ctx: CheckContext, ff: Staged) -> OfdInfo:
    return ctx.memoized(f"ofd:{ff.rel_path}", lambda: read_ofd(ff.abs_path))


def ofd_zip_of(ctx: CheckContext, ff: Staged) -> ContainerInfo:
    return ctx.memoized(f"ofdzip:{ff.rel_path}", lambda: check_container(ff.abs_path))


def image_of(ctx: CheckContext, ff: Staged) -> ImageInfo:
    return ctx.memoized(f"image:{ff.rel_path}", lambda: inspect_image(ff.abs_path))


def xml_of(ctx: CheckContext, ff: Staged) -> XmlInfo:
    return ctx.memoized(f"xml:{ff.rel_path}", lambda: inspect_xml(ff.abs_path))


def normalise_media_type(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    base = value.split(";", 1)[0].strip().lower()
    return ALIASES.get(base, base)


def listed_files(ctx: CheckContext) -> Iterator[tuple[dict[str, Any], FileFacts]]:
    """(case.json entry, file facts) for every listed file that is present."""
    seen: set[str] = set()
    for entry in ctx.file_entries():
        rel = ctx.listed_path(entry)
        if rel is None or rel in seen or rel not in ctx.files:
            continue
        seen.add(rel)
        yield entry, ctx.files[rel]


def evidence(code: str, ff: FileFacts, note: str, field: str | None = None,
             expected: Any = None, found: Any = None, **extra: Any) -> Problem:
    """A problem of one content file: its path leads the note, so a person sees which."""
    return Problem(code, ff.rel_path, field=field, expected=expected, found=found,
                   note=f"{ff.rel_path}：{note}", extra=extra)


def per_file(
    ctx: CheckContext,
    inspect: Callable[[dict[str, Any], FileFacts], list[Problem]],
    ok_message: str,
    fail_message: str,
) -> Verdict:
    """Run ``inspect`` on each listed, present file; fail listing every problem found.

    When case.json is unusable nothing can be connected to a file, so the check says it
    could not assess instead of passing.
    """
    if not isinstance(ctx.case, dict):
        return Verdict.warn("case.json 不可用，无法确定需检测的文件，本项未能检测")
    pairs = list(listed_files(ctx))
    if not pairs:
        if ctx.file_entries():
            return Verdict.warn("列出的文件均不在提交内容中（由关联性检测报告），本项未能检测")
        return Verdict.ok("案件未列出电子文件，无需检测")
    problems: list[Problem] = []
    for entry, ff in pairs:
        problems.extend(inspect(entry, ff))
    return Verdict.from_problems(problems, f"{ok_message}（共 {len(pairs)} 个文件）", fail_message)


def _pages(ctx: CheckContext, ff: FileFacts, media_type: str) -> int | None:
    if media_type == fid.PDF:
        info = pdf_of(ctx, ff)
        return info.pages if info.readable else None
    if media_type == fid.OFD:
        info = ofd_of(ctx, ff)
        return info.pages if info.readable else None
    if media_type in IMAGE_TYPES:
        img = image_of(ctx, ff)
        return img.frames if img.fully_decoded else None
    return None


# --- GD-1-9 ---------------------------------------------------------------------------

@check("GD-1-9", Nature.AUTHENTICITY, "内容数据格式与页数和元数据相符",
       stages=(Stage.GD, Stage.YJ))
def declared_matches_content(ctx: CheckContext) -> Verdict:
    def inspect(entry: dict[str, Any], ff: FileFacts) -> list[Problem]:
        found = fmt_of(ctx, ff)
        out = []
        declared = normalise_media_type(entry.get("media_type"))
        if declared is not None and declared != found.media_type:
            out.append(evidence("content.media_type_mismatch",
                ff, f"声明为{media_type_name(declared)}（{declared}），实际内容是{found.label}",
                field="media_type", expected=declared, found=found.media_type))
        pages = entry.get("pages")
        if isinstance(pages, int) and not isinstance(pages, bool):
            actual = _pages(ctx, ff, found.media_type)
            if actual is not None and actual != pages:
                out.append(evidence("content.pages_mismatch", ff, f"声明 {pages} 页，实际 {actual} 页",
                                    field="pages", expected=pages, found=actual))
        return out

    return per_file(ctx, inspect, "文件的实际格式和页数与元数据一致",
                    "文件的实际格式或页数与元数据不符")


# --- GD-2-7 ---------------------------------------------------------------------------

@check("GD-2-7", Nature.INTEGRITY, "内容数据完整性（文件未截断、未损坏）",
       stages=(Stage.GD, Stage.YJ, Stage.BC))
def content_complete(ctx: CheckContext) -> Verdict:
    def inspect(entry: dict[str, Any], ff: FileFacts) -> list[Problem]:
        if ff.size == 0:
            return [evidence("content.empty", ff, "文件为空（0 字节）", found=0)]
        mt = fmt_of(ctx, ff).media_type
        notes: list[str] = []
        if mt == fid.PDF:
            info = pdf_of(ctx, ff)
            if info.truncated:
                notes += [p for p in info.problems if "截断" in p or "startxref" in p]
        elif mt in IMAGE_TYPES:
            img = image_of(ctx, ff)
            if img.truncated:
                notes += img.problems
        elif mt == fid.OFD:
            box = ofd_zip_of(ctx, ff)
            if not box.readable or box.corrupt_entries:
                notes += box.problems or ["ZIP 中央目录无法读取"]
            notes += [p for p in ofd_of(ctx, ff).problems if "不存在" in p]
        elif mt == fid.XML:
            notes += [p for p in xml_of(ctx, ff).problems if "Premature end" in p]
        elif mt == fid.ZIP and fmt_of(ctx, ff).version == "损坏":
            notes.append("ZIP 结构损坏（中央目录无法读取）")
        return [evidence("content.damaged", ff, n, found=mt) for n in notes]

    return per_file(ctx, inspect, "文件内容完整，无截断或损坏", "文件内容不完整")


# --- GD-3-3 ---------------------------------------------------------------------------

@check("GD-3-3", Nature.USABILITY, "文件格式符合归档要求",
       stages=(Stage.GD, Stage.YJ, Stage.BC))
def format_allowed(ctx: CheckContext) -> Verdict:
    allowed = ctx.allowed_media_types

    def inspect(entry: dict[str, Any], ff: FileFacts) -> list[Problem]:
        found = fmt_of(ctx, ff)
        if found.media_type in allowed:
            return []
        return [evidence("content.format_not_allowed", ff, f"实际格式为{found.label}，不在允许的归档格式之内",
                         expected=sorted(allowed), found=found.media_type)]

    names = "、".join(media_type_name(m) for m in sorted(allowed))
    return per_file(ctx, inspect, f"文件格式均为允许的归档格式（{names}）",
                    "存在不允许的归档格式")


# --- GD-3-4 ---------------------------------------------------------------------------

def _usability_notes(ctx: CheckContext, ff: FileFacts, mt: str) -> list[str]:
    if mt == fid.PDF:
        info = pdf_of(ctx, ff)
        if not info.readable:
            return info.problems
        notes = [p for p in info.problems if "无法解码" in p or "没有页面" in p]
        return notes
    if mt in IMAGE_TYPES:
        img = image_of(ctx, ff)
        return [] if img.fully_decoded else img.problems or ["图像无法完整解码"]
    if mt == fid.XML:
        x = xml_of(ctx, ff)
        return [] if x.well_formed else x.problems
    if mt == fid.OFD:
        info = ofd_of(ctx, ff)
        notes = [p for p in info.problems if "不存在" not in p]  # missing parts: GD-2-7
        if not info.readable and not notes:
            notes = ["OFD 文档无法打开"]
        return notes
    return []


@check("GD-3-4", Nature.USABILITY, "内容数据可读性（能正常打开和解码）",
       stages=(Stage.GD, Stage.YJ, Stage.BC))
def content_readable(ctx: CheckContext) -> Verdict:
    def inspect(entry: dict[str, Any], ff: FileFacts) -> list[Problem]:
        found = fmt_of(ctx, ff)
        if found.media_type not in ctx.allowed_media_types:
            return []  # reported by GD-3-3; no decoder is expected for it here
        return [evidence("content.unusable", ff, n, found=found.media_type)
                for n in _usability_notes(ctx, ff, found.media_type)]

    return per_file(ctx, inspect, "文件均能正常打开和完整解码", "文件无法正常打开或解码")


# --- GD-3-8 ---------------------------------------------------------------------------

@check("GD-3-8", Nature.USABILITY, "无加密、无技术保护措施、无嵌套压缩",
       stages=(Stage.GD, Stage.YJ, Stage.BC))
def no_protection(ctx: CheckContext) -> Verdict:
    def inspect(entry: dict[str, Any], ff: FileFacts) -> list[Problem]:
        found = fmt_of(ctx, ff)
        mt = found.media_type
        out: list[Problem] = []
        if mt == fid.PDF:
            info = pdf_of(ctx, ff)
            if info.encrypted:
                flt = info.encryption_filter
                kind = "口令加密" if flt in (None, "Standard") else f"数字版权保护（{flt}）"
                out.append(evidence("content.pdf_protected", ff, f"PDF 采用{kind}", found=flt or "Standard"))
        elif mt == fid.OFD:
            box = ofd_zip_of(ctx, ff)
            for name in box.encrypted_entries:
                out.append(evidence("content.ofd_encrypted", ff, f"OFD 包内条目“{name}”已加密", member=name))
            for desc in box.nonpublic_compression:
                out.append(evidence("content.ofd_compression", ff, f"OFD 包内条目使用非公开压缩方法：{desc}", member=desc))
            for name in box.nested_archives:
                out.append(evidence("content.nested_archive", ff, f"OFD 包内嵌套压缩文件“{name}”", member=name))
        elif mt == fid.TIFF:
            img = image_of(ctx, ff)
            if img.compression and img.compression not in ARCHIVAL_TIFF_COMPRESSIONS:
                out.append(evidence("content.tiff_compression", ff, f"TIFF 使用非通用压缩方案“{img.compression}”",
                                    found=img.compression))
        elif mt in (fid.ZIP, "application/vnd.rar", "application/x-7z-compressed",
                    "application/gzip"):
            out.append(evidence("content.nested_archive", ff, f"文件本身是压缩包（{found.name}），不得嵌套压缩", found=mt))
        return out

    return per_file(ctx, inspect, "文件未加密，无技术保护措施，无嵌套压缩",
                    "文件存在加密、技术保护措施或嵌套压缩")


# --- DG-3-1 ---------------------------------------------------------------------------

def _scan_dpi(ctx: CheckContext, ff: FileFacts, mt: str) -> tuple[list, str | None]:
    """Per-page (x, y) DPI of a scan, or why the file is not a scan image."""
    if mt in IMAGE_TYPES:
        img = image_of(ctx, ff)
        return [img.dpi], None
    if mt == fid.PDF:
        info = pdf_of(ctx, ff)
        if not info.readable:
            return [], "PDF 无法读取，未能判断扫描分辨率"
        if not info.is_image_only:
            return [], "不是扫描图像 PDF（有页面不含图像）"
        return info.page_image_dpi, None
    if mt == fid.OFD:
        info = ofd_of(ctx, ff)
        if not info.page_image_dpi or any(d is None for d in info.page_image_dpi):
            return [], "不是扫描图像 OFD（有页面不含图像）"
        return info.page_image_dpi, None
    return [], f"数字化副本应为图像或图像版式文件，实际为{media_type_name(mt)}"


@check("DG-3-1", Nature.USABILITY, "纸质材料数字化副本的图像格式与分辨率",
       stages=(Stage.GD, Stage.YJ))
def scan_resolution(ctx: CheckContext) -> Verdict:
    minimum = ctx.min_scan_dpi
    unknown: list[Problem] = []
    scans = 0

    def inspect(entry: dict[str, Any], ff: FileFacts) -> list[Problem]:
        nonlocal scans
        if entry.get("origin") != "digitized":
            return []
        scans += 1
        mt = fmt_of(ctx, ff).media_type
        dpis, why = _scan_dpi(ctx, ff, mt)
        if why:
            return [evidence("content.scan_unassessable", ff, why, found=mt)]
        out = []
        for page, dpi in enumerate(dpis, start=1):
            where = f"第 {page} 页" if len(dpis) > 1 else "图像"
            if dpi is None:
                unknown.append(evidence("content.dpi_unknown", ff, f"{where}未记录扫描分辨率", expected=minimum))
            elif min(dpi) < minimum - 0.5:
                out.append(evidence("content.dpi_low", ff, f"{where}分辨率 {dpi[0]:g}×{dpi[1]:g} dpi，低于 {minimum} dpi",
                                    expected=minimum, found=[dpi[0], dpi[1]]))
        return out

    verdict = per_file(ctx, inspect, f"数字化副本均为图像且分辨率不低于 {minimum} dpi",
                       f"数字化副本不符合要求（最低 {minimum} dpi）")
    if unknown and verdict.result is Result.PASS:
        return Verdict.from_problems(unknown, "", "部分数字化副本未记录分辨率，无法判定",
                                     result_on_problems=Result.WARN)
    if unknown:
        verdict.evidence.extend(as_dicts(unknown))
    if verdict.result is Result.PASS and scans == 0:
        return Verdict.ok("案件没有纸质材料数字化副本，无需检测")
    return verdict


# --- GD-1-1-3 -------------------------------------------------------------------------

@check("GD-1-1-3", Nature.AUTHENTICITY, "文件内嵌电子签名、电子印章",
       stages=(Stage.GD, Stage.YJ), blocking=False)
def embedded_seals(ctx: CheckContext) -> Verdict:
    found: list[Problem] = []

    def inspect(entry: dict[str, Any], ff: FileFacts) -> list[Problem]:
        mt = fmt_of(ctx, ff).media_type
        if mt == fid.PDF:
            info = pdf_of(ctx, ff)
            if not info.readable:
                return [evidence("content.signature_unassessable", ff, "PDF 无法读取，未能判断是否含电子签名")]
            if info.has_signatures:
                found.append(evidence("content.pdf_signature", ff, f"含 {info.signatures} 个 PDF 电子签名，系统未验证",
                                      found=info.signatures))
        elif mt == fid.OFD:
            info = ofd_of(ctx, ff)
            if not info.readable:
                return [evidence("content.signature_unassessable", ff, "OFD 无法读取，未能判断是否含电子印章")]
            if info.has_signatures:
                found.append(evidence("content.ofd_signature", ff, f"含 {info.signatures} 个 OFD 电子签章，系统未验证",
                                      found=info.signatures))
        return []

    verdict = per_file(ctx, inspect, "文件未内嵌电子签名或电子印章",
                       "部分文件无法判断是否含电子签章")
    if verdict.result is Result.FAIL:
        verdict.result = Result.WARN
    if found:
        notes = "；".join(e.note for e in found[:10])
        return Verdict.warn(f"含电子签章，系统未验证（GM/T 0031 印章需专用验证服务）：{notes}",
                            found + verdict.evidence)
    return verdict
