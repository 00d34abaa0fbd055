"""Reading PDF files for the checks and for search, without trusting them.

``inspect_pdf`` answers what the four-nature checks ask of a PDF: does it open, how many
pages, is it encrypted, is it complete (``%%EOF``, a ``startxref`` that points at a
cross-reference), does it carry active content (JavaScript, Launch, embedded files …,
found by ``pdf_objects.Walker``) or its own signatures, and how dense the scanned images
are.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import DictionaryObject

from .pdf_objects import MAX_OBJECTS, Walker, name_of, resolve

_TAIL = 2048
_SIZE_RE = re.compile(rb"/Size\s+(\d{1,12})")
_STARTXREF_RE = re.compile(rb"startxref\s+(\d+)\s*%%EOF", re.DOTALL)
_XREF_AT_RE = re.compile(rb"xref|\d+\s+\d+\s+obj")
_XREF_SLACK = 64

logging.getLogger("pypdf").setLevel(logging.ERROR)


@dataclass(frozen=True)
class PdfLimits:
    """How big a PDF the archive agrees to open (``[limits] pdf_*`` in dangan.toml).

    A 100,000-page PDF once took 40 s and 360 MB to inspect and was archived; past these
    bounds a file is refused with a message instead of being read to the end.
    ``max_depth`` bounds the chain of objects from the catalogue to any object.
    """

    max_pages: int = 5_000
    max_objects: int = 50_000
    max_depth: int = 1_000


@dataclass
class PdfInfo:
    readable: bool
    version: str | None = None
    pages: int = 0
    encrypted: bool = False
    decryptable: bool = True
    encryption_filter: str | None = None  # /Standard = password; anything else = DRM plug-in
    truncated: bool = False
    active_content: dict[str, int] = field(default_factory=dict)  # kind -> count
    signatures: int = 0  # signed /Sig fields
    text_chars: int = 0
    page_image_dpi: list[tuple[float, float] | None] = field(default_factory=list)
    objects_walked: int = 0
    walk_complete: bool = True
    over_limit: str | None = None  # why the file exceeds PdfLimits (then readable is False)
    problems: list[str] = field(default_factory=list)

    @property
    def has_javascript(self) -> bool:
        return "JavaScript" in self.active_content

    @property
    def has_launch(self) -> bool:
        return "Launch" in self.active_content

    @property
    def has_embedded_files(self) -> bool:
        return "EmbeddedFile" in self.active_content

    @property
    def has_signatures(self) -> bool:
        return self.signatures > 0

    @property
    def is_image_only(self) -> bool:
        """Every page carries an image (a scan); text may be an OCR layer."""
        return bool(self.page_image_dpi) and all(d is not None for d in self.page_image_dpi)


def check_tail(path: Path) -> str | None:
    """Why the file looks cut off, or None: ``%%EOF`` near the end, ``startxref`` valid."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - _TAIL))
        tail = f.read()
        if b"%%EOF" not in tail:
            return "文件末尾缺少 %%EOF 结束标记，文件可能被截断"
        matches = list(_STARTXREF_RE.finditer(tail))
        if not matches:
            return "文件末尾缺少 startxref 交叉引用指针，文件可能不完整"
        offset = int(matches[-1].group(1))
        if offset >= size:
            return f"startxref 指向文件之外（偏移 {offset}，文件仅 {size} 字节），文件可能被截断"
        # Sloppy producers miss by a few bytes (line-end conversion); readers cope.
        f.seek(max(0, offset - _XREF_SLACK))
        near = f.read(2 * _XREF_SLACK + 32)
    if not _XREF_AT_RE.search(near):
        return f"startxref 指向的位置（偏移 {offset}）不是交叉引用表，文件可能损坏或被截断"
    return None


def _page_image_dpi(page: Any) -> tuple[float, float] | None:
    """DPI of the largest image drawn on the page, taking it as filling the page.

    Scanners write one full-page image per page; its pixel size over the page size in
    inches is the scan resolution. Images are measured from their dictionaries, never
    decoded.
    """
    try:
        box = page.mediabox
        width_in = float(box.width) / 72.0
        height_in = float(box.height) / 72.0
        resources = resolve(page.get("/Resources"))
        xobjects = resolve(resources.get("/XObject")) if resources else None
    except Exception:  # noqa: BLE001
        return None
    if not xobjects or width_in <= 0 or height_in <= 0:
        return None
    best: tuple[int, int] | None = None
    for ref in xobjects.values():
        x = resolve(ref)
        if not isinstance(x, DictionaryObject) or name_of(x.get("/Subtype")) != "Image":
            continue
        try:
            w, h = int(resolve(x.get("/Width"))), int(resolve(x.get("/Height")))
        except (TypeError, ValueError):
            continue
        if best is None or w * h > best[0] * best[1]:
            best = (w, h)
    if best is None:
        return None
    rotated = int(page.get("/Rotate", 0) or 0) % 180 == 90
    if rotated:
        width_in, height_in = height_in, width_in
    # The image may be drawn rotated relative to the page: match orientation.
    if (best[0] > best[1]) != (width_in > height_in):
        width_in, height_in = height_in, width_in
    return (round(best[0] / width_in, 1), round(best[1] / height_in, 1))


def _open(path: Path, info: PdfInfo, stream: BinaryIO | None = None) -> PdfReader | None:
    try:
        reader = PdfReader(stream if stream is not None else str(path), strict=False)
    except (PdfReadError, ValueError, OSError, KeyError, TypeError) as exc:
        info.readable = False
        info.problems.append(f"无法解析 PDF 结构：{exc}")
        return None
    info.version = reader.pdf_header[5:] if reader.pdf_header.startswith("%PDF-") else None
    if reader.is_encrypted:
        info.encrypted = True
        try:
            encrypt = resolve(reader.trailer.get("/Encrypt"))
            info.encryption_filter = name_of(encrypt.get("/Filter")) if encrypt else None
        except Exception:  # noqa: BLE001
            info.encryption_filter = None
        info.problems.append("PDF 已加密")
        try:
            ok = reader.decrypt("")
        except Exception:  # noqa: BLE001 - unsupported cipher etc.
            ok = 0
        if not ok:
            info.decryptable = False
            info.readable = False
            info.problems.append("PDF 设有打开密码，无法读取内容")
            return None
    return reader


def _declared_size(path: Path) -> int | None:
    """The object count the trailer (or xref stream) near the end declares, unparsed."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - _TAIL))
        found = _SIZE_RE.findall(f.read())
    return max(int(n) for n in found) if found else None


def _refuse(info: PdfInfo, why: str) -> PdfInfo:
    info.readable, info.over_limit = False, why
    info.problems.append(why)
    return info


def _declared_pages(reader: PdfReader) -> int | None:
    try:
        pages = resolve(resolve(reader.trailer["/Root"]).get("/Pages"))
        count = resolve(pages.get("/Count"))
        return int(count)
    except Exception:  # noqa: BLE001 - a broken page tree is reported when it is read
        return None


def _over_limits(p: Path, reader: PdfReader | None, limits: PdfLimits) -> str | None:
    """Why the PDF is too big to inspect, checked cheapest first, before the page tree."""
    if reader is None:
        declared = _declared_size(p)
        if declared is not None and declared > limits.max_objects:
            return f"PDF 声明含 {declared} 个对象，超过上限 {limits.max_objects}，未予解析"
        return None
    objects = sum(len(v) for v in reader.xref.values()) + len(reader.xref_objStm)
    if objects > limits.max_objects:
        return f"PDF 含 {objects} 个对象，超过上限 {limits.max_objects}，未予解析"
    pages = _declared_pages(reader)
    if pages is not None and pages > limits.max_pages:
        return f"PDF 页数 {pages}，超过上限 {limits.max_pages} 页"
    return None


def inspect_pdf(
    path: Path | str, *, with_text: bool = True, limits: PdfLimits | None = None
) -> PdfInfo:
    """Everything the checks need to know about one PDF (never raises on bad input).

    A PDF beyond ``limits`` comes back unreadable with ``over_limit`` saying why, after
    reading only its tail, cross-reference and page-tree root.
    """
    limits = limits or PdfLimits()
    p = Path(path)
    info = PdfInfo(readable=True)
    try:
        tail_problem = check_tail(p)
        too_big = _over_limits(p, None, limits)
    except OSError as exc:
        return PdfInfo(readable=False, problems=[f"无法读取文件：{exc}"])
    if too_big:
        return _refuse(info, too_big)
    if tail_problem:
        info.truncated = True
        info.problems.append(tail_problem)
    try:
        stream = open(p, "rb")  # noqa: SIM115 - closed once the last page is read
    except OSError as exc:
        return PdfInfo(readable=False, problems=[f"无法读取文件：{exc}"])
    with stream:
        return _inspect_open(p, stream, info, limits, with_text)


def _inspect_open(p: Path, stream: BinaryIO, info: PdfInfo, limits: PdfLimits,
                  with_text: bool) -> PdfInfo:
    """``inspect_pdf`` on the open file: pypdf reads from it as it goes, instead of first
    copying the whole file into memory (half the CPU of decoding a 340 MB scan)."""
    reader = _open(p, info, stream)
    if reader is None:
        return info
    if too_big := _over_limits(p, reader, limits):
        return _refuse(info, too_big)
    try:
        info.pages = len(reader.pages)
    except Exception as exc:  # noqa: BLE001
        info.readable = False
        info.problems.append(f"无法读取页面树：{exc}")
        return info
    if info.pages > limits.max_pages:
        return _refuse(info, f"PDF 页数 {info.pages}，超过上限 {limits.max_pages} 页")
    if info.pages == 0:
        info.problems.append("PDF 没有页面")
    walker = Walker(min(MAX_OBJECTS, limits.max_objects), limits.max_depth)
    try:
        walker.walk(reader.trailer.raw_get("/Root"))
    except Exception as exc:  # noqa: BLE001
        walker.complete = False
        info.problems.append(f"遍历 PDF 对象时出错：{exc}")
    if walker.too_deep:
        return _refuse(info, f"PDF 对象嵌套超过 {limits.max_depth} 层，超过上限，未予解析")
    info.active_content = walker.found
    info.signatures = walker.signatures
    info.objects_walked = walker.visited
    info.walk_complete = walker.complete
    if not walker.complete:
        info.problems.append(f"PDF 对象过多（超过 {walker.limit} 个），未能全部检查")
    bad_pages: list[int] = []
    for number, page in enumerate(reader.pages, start=1):
        info.page_image_dpi.append(_page_image_dpi(page))
        try:
            if with_text:
                text = page.extract_text() or ""
                info.text_chars += sum(1 for c in text if not c.isspace())
            else:
                contents = page.get_contents()  # inflates every content stream of the page
                if contents is not None:
                    contents.get_data()
        except Exception:  # noqa: BLE001
            bad_pages.append(number)
    if bad_pages:
        info.problems.append(f"第 {', '.join(map(str, bad_pages))} 页内容无法解码")
    return info


def extract_text(path: Path | str) -> list[str]:
    """The text of each page, in page order ('' for a page without text).

    Raises ``FormatError`` when the file cannot be opened as a PDF at all.
    """
    from ..errors import FormatError

    p = Path(path)
    info = PdfInfo(readable=True)
    reader = _open(p, info)
    if reader is None:
        raise FormatError("；".join(info.problems) or "无法读取 PDF")
    texts: list[str] = []
    try:
        pages = list(reader.pages)
    except Exception as exc:  # noqa: BLE001
        raise FormatError(f"无法读取 PDF 页面树：{exc}") from exc
    for page in pages:
        try:
            texts.append(page.extract_text() or "")
        except Exception:  # noqa: BLE001 - one bad page must not hide the others
            texts.append("")
    return texts
