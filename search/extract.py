"""Text extraction from the files of a case, and the derived-text file that keeps it.

The format is identified by content (not by the declared media type). PDF and OFD text
comes from the readers in ``dangan.packages.formats``; PDF pages without a text layer and
image files are read by OCR (RapidOCR, or Tesseract; see ``ocr``). Extracted text is derived data:
it is written next to the archive (never inside the AIP) with the SHA-256 of each text,
so a reindex can reuse it and detect a tampered or damaged copy.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dangan.packages.digests import sha256_hex
from dangan.packages.errors import PackageError
from dangan.packages.formats import ofd as ofd_format
from dangan.packages.formats import pdf as pdf_format
from dangan.packages.formats.identify import identify
from dangan.packages.formats.xmlsafe import parse_xml_bytes

from .analysis import tidy
from .document import ExtractedText
from .errors import DerivedTextCorrupt
from .ocr import OcrError, ocr_image, ocr_ofd_images, ocr_pdf_page_images, ocr_status

IMAGE_TYPES = ("image/jpeg", "image/png", "image/tiff")
DERIVED_SCHEMA = "dangan/derived-text/1"
MAX_XML_BYTES = 64 << 20
_SAFE_NAME_RE = re.compile(r"[^A-Za-z0-9._-]")


def _xml_text(path: Path) -> str:
    """All text nodes and attribute values of an XML form (hardened parser, no entities)."""
    if path.stat().st_size > MAX_XML_BYTES:
        raise PackageError("XML 文件过大，未提取文本")
    root = parse_xml_bytes(path.read_bytes())
    parts: list[str] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue  # comments, processing instructions
        parts.extend(v.strip() for v in el.attrib.values() if v.strip())
        if el.text and el.text.strip():
            parts.append(el.text.strip())
        if el.tail and el.tail.strip():
            parts.append(el.tail.strip())
    return "\n".join(parts)


def _pdf(path: Path, meta: dict[str, str], ocr: bool) -> ExtractedText:
    pages = pdf_format.extract_text(path)
    empty = [i for i, t in enumerate(pages) if not t.strip()]
    if not empty:
        return ExtractedText(**meta, text=tidy("\n".join(pages)), method="pdf")
    note = f"{len(empty)}/{len(pages)} 页无文字层（扫描图像）"
    method = "pdf" if len(empty) < len(pages) else "none"
    status = ocr_status()
    if not ocr:
        note += "，未做 OCR"
    elif not status.available:
        note += f"；OCR 不可用：{status.reason}"
    else:
        try:
            for n, text in ocr_pdf_page_images(path, empty).items():
                pages[n] = text
            note += "，已 OCR 识别"
            method = "ocr" if len(empty) == len(pages) else "pdf"
        except (OcrError, OSError, ValueError) as exc:
            note += f"；OCR 失败：{exc}"
    return ExtractedText(**meta, text=tidy("\n".join(pages)).strip(), method=method,
                         note=note)


def _image(path: Path, meta: dict[str, str], ocr: bool) -> ExtractedText:
    status = ocr_status()
    if not ocr:
        return ExtractedText(**meta, text="", method="none", note="扫描图像，未做 OCR，仅按元数据索引")
    if not status.available:
        return ExtractedText(**meta, text="", method="none",
                             note=f"OCR 不可用：{status.reason}")
    try:
        return ExtractedText(**meta, text=ocr_image(path), method="ocr", note=status.note)
    except OcrError as exc:
        return ExtractedText(**meta, text="", method="none", note=f"OCR 失败：{exc}")


def _ofd_scan(path: Path, meta: dict[str, str], ocr: bool) -> ExtractedText:
    """An OFD without a text layer: its page images are scans."""
    note = "OFD 无文字层（扫描图像）"
    status = ocr_status()
    if not ocr:
        return ExtractedText(**meta, text="", method="none", note=note + "，未做 OCR")
    if not status.available:
        return ExtractedText(**meta, text="", method="none", note=f"{note}；OCR 不可用：{status.reason}")
    try:
        text = ocr_ofd_images(path)
    except (OcrError, PackageError) as exc:
        msg = exc.message if isinstance(exc, PackageError) else str(exc)
        return ExtractedText(**meta, text="", method="none", note=f"{note}；OCR 失败：{msg}")
    return ExtractedText(**meta, text=text, method="ocr" if text else "none",
                         note=note + ("，已 OCR 识别" if text else "，OCR 未识别出文字"))


def extract_file(path: Path | str, *, file_id: str, title: str = "", kind: str = "",
                 ocr: bool = True) -> ExtractedText:
    """The text of one stored file; never raises for a bad file (method "none" + note)."""
    p = Path(path)
    meta = {"file_id": file_id, "title": title, "kind": kind}
    try:
        media_type = identify(p).media_type
    except OSError as exc:
        return ExtractedText(**meta, text="", method="none", note=f"文件无法读取：{exc}")
    try:
        if media_type == "application/pdf":
            return _pdf(p, meta, ocr)
        if media_type == "application/ofd":
            text = tidy("\n".join(ofd_format.extract_text(p))).strip()
            return ExtractedText(**meta, text=text, method="ofd") if text else _ofd_scan(p, meta, ocr)
        if media_type in ("application/xml", "text/xml"):
            return ExtractedText(**meta, text=tidy(_xml_text(p)), method="xml")
        if media_type in IMAGE_TYPES:
            return _image(p, meta, ocr)
    except (PackageError, OSError, ValueError) as exc:
        msg = exc.message if isinstance(exc, PackageError) else str(exc)
        return ExtractedText(**meta, text="", method="none", note=f"文本提取失败：{msg}")
    return ExtractedText(**meta, text="", method="none",
                         note=f"格式 {media_type} 不提取文本，仅按元数据索引")


def extract_case_files(case: dict[str, Any], files: dict[str, Path], *,
                       ocr: bool = True) -> list[ExtractedText]:
    """One ``ExtractedText`` per file listed in case.json, in its order."""
    out: list[ExtractedText] = []
    for f in case.get("files") or []:
        fid = str(f.get("id", ""))
        title, kind = str(f.get("title", "")), str(f.get("kind", ""))
        path = files.get(fid)
        if path is None or not Path(path).is_file():
            out.append(ExtractedText(fid, title, kind, "", "none", "文件内容不可用，仅按元数据索引"))
            continue
        out.append(extract_file(path, file_id=fid, title=title, kind=kind, ocr=ocr))
    return out


def derived_text_path(dest_dir: Path | str, aip_id: str) -> Path:
    return Path(dest_dir) / f"{_SAFE_NAME_RE.sub('_', aip_id)}.text.json"


def store_derived_text(dest_dir: Path | str, aip_id: str, texts: list[ExtractedText]) -> Path:
    """Write the texts of one AIP as JSON with each text's SHA-256; atomic replace."""
    target = derived_text_path(dest_dir, aip_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    entries = []
    for t in texts:
        d = t.to_dict()
        d["sha256"] = sha256_hex(t.text.encode("utf-8"))
        entries.append(d)
    body = {"schema": DERIVED_SCHEMA, "aip_id": aip_id,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "ocr": ocr_status().langs or None, "texts": entries}
    data = json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".text-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_derived_text(path: Path | str) -> tuple[str, list[ExtractedText]]:
    """(aip_id, texts) of a derived-text file; ``DerivedTextCorrupt`` listing every bad text."""
    p = Path(path)
    try:
        body = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DerivedTextCorrupt(f"派生文本文件无法读取：{p.name}（{exc}）",
                                 [{"path": str(p), "note": str(exc)}]) from exc
    if body.get("schema") != DERIVED_SCHEMA:
        raise DerivedTextCorrupt(f"派生文本文件格式不符：{p.name}",
                                 [{"path": str(p), "field": "schema", "expected": DERIVED_SCHEMA,
                                   "found": body.get("schema")}])
    texts: list[ExtractedText] = []
    problems: list[dict[str, Any]] = []
    for e in body.get("texts") or []:
        text = str(e.get("text", ""))
        found = sha256_hex(text.encode("utf-8"))
        if found != e.get("sha256"):
            problems.append({"path": str(p), "field": f"texts[{e.get('file_id')}].sha256",
                             "expected": e.get("sha256"), "found": found,
                             "note": "文本与记录的摘要不一致"})
        texts.append(ExtractedText(str(e.get("file_id", "")), str(e.get("title", "")),
                                   str(e.get("kind", "")), text, str(e.get("method", "none")),
                                   str(e.get("note", ""))))
    if problems:
        raise DerivedTextCorrupt(f"派生文本文件 {p.name} 有 {len(problems)} 处摘要不符", problems)
    return str(body.get("aip_id", "")), texts
