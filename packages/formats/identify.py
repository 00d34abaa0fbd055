"""What a file really is, from its bytes — never from its name.

A file named ``.pdf`` that is a PNG, or an "OFD" that is a Word document, must be
reported as what it is, so the checks (GD-1-9, GD-3-3) can say so in plain words.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import UnsafeContainer
from ..safezip import inspect_zip, open_zip

_HEAD = 8192


@dataclass(frozen=True)
class FormatId:
    media_type: str
    name: str  # Chinese name shown to people
    version: str | None = None

    @property
    def label(self) -> str:
        v = f" {self.version}" if self.version else ""
        return f"{self.name}{v}（{self.media_type}）"


PDF = "application/pdf"
OFD = "application/ofd"
JPEG = "image/jpeg"
TIFF = "image/tiff"
PNG = "image/png"
XML = "application/xml"
ZIP = "application/zip"

_NAMES = {
    PDF: "PDF 文档",
    OFD: "OFD 版式文档",
    JPEG: "JPEG 图像",
    TIFF: "TIFF 图像",
    PNG: "PNG 图像",
    XML: "XML 文档",
    ZIP: "ZIP 压缩包",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word 文档（DOCX）",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel 工作簿（XLSX）",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint 演示文稿（PPTX）",
    "application/vnd.openxmlformats-package": "Office Open XML 文档",
    "application/vnd.oasis.opendocument": "ODF 文档",
    "image/gif": "GIF 图像",
    "image/bmp": "BMP 图像",
    "image/webp": "WebP 图像",
    "application/x-msdownload": "Windows 可执行程序",
    "application/x-executable": "ELF 可执行程序",
    "text/html": "HTML 网页",
    "application/vnd.rar": "RAR 压缩包",
    "application/x-7z-compressed": "7z 压缩包",
    "application/gzip": "gzip 压缩文件",
    "application/x-ole-storage": "OLE 复合文档（旧版 Office DOC/XLS 等）",
    "text/plain": "纯文本",
    "application/x-empty": "空文件",
    "application/octet-stream": "无法识别的格式",
}

_MAGIC: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"MZ", "application/x-msdownload"),
    (b"\x7fELF", "application/x-executable"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
]

_PDF_RE = re.compile(rb"%PDF-(\d\.\d)")
_ROOT_RE = re.compile(rb"^<([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)[\s/>]")


def fmt(media_type: str, version: str | None = None) -> FormatId:
    return FormatId(media_type, _NAMES.get(media_type, media_type), version)


def media_type_name(media_type: str) -> str:
    """Chinese name of a media type (for messages about declared types)."""
    return _NAMES.get(media_type, media_type)


def _identify_zip(path: Path) -> FormatId:
    try:
        with open_zip(path) as zf:
            names = {i.filename for i in zf.infolist()}
            try:
                inspect_zip(zf)
            except UnsafeContainer:
                pass  # still say what it is; safety is reported by the checks
            if "OFD.xml" in names:
                version = None
                try:
                    head = zf.read("OFD.xml")[:2048] if zf.getinfo("OFD.xml").file_size < 1 << 20 else b""
                    m = re.search(rb'Version="([^"]{1,16})"', head)
                    version = m.group(1).decode("ascii", "replace") if m else None
                except (zipfile.BadZipFile, KeyError, OSError, RuntimeError):
                    pass
                return fmt(OFD, version)
            if "[Content_Types].xml" in names:
                if any(n.startswith("word/") for n in names):
                    return fmt("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
                if any(n.startswith("xl/") for n in names):
                    return fmt("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                if any(n.startswith("ppt/") for n in names):
                    return fmt("application/vnd.openxmlformats-officedocument.presentationml.presentation")
                return fmt("application/vnd.openxmlformats-package")
            if "mimetype" in names:
                return fmt("application/vnd.oasis.opendocument")
    except UnsafeContainer:
        return fmt(ZIP, "损坏")
    return fmt(ZIP)


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start >= len(head) - 3:
            return True
    try:
        head.decode("gb18030")
        return True
    except UnicodeDecodeError:
        return False


def _decode_prefix(head: bytes) -> bytes:
    """The sample as UTF-8-ish bytes without BOM (UTF-16 files are re-encoded)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        codec = "utf-16-le" if head[:2] == b"\xff\xfe" else "utf-16-be"
        return head[2:].decode(codec, "ignore").encode("utf-8")
    return head


def identify_bytes(head: bytes, path: Path | None = None) -> FormatId:
    """Identify from the first bytes (``path`` lets ZIP-based formats be looked into)."""
    if not head:
        return fmt("application/x-empty")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _identify_zip(path) if path is not None else fmt(ZIP)
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return fmt("image/webp")
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            if media_type == "image/bmp" and len(head) >= 14 and not _plausible_bmp(head):
                continue
            return fmt(media_type)
    # Readers accept junk before the header, so look in the first KiB (after the
    # fixed-offset magics: a ZIP or JPEG that merely contains a PDF is not a PDF).
    m = _PDF_RE.search(head[:1024])
    if m:
        return fmt(PDF, m.group(1).decode("ascii"))
    text = _decode_prefix(head)
    kind = _markup_kind(text.lstrip())
    if kind == "html":
        return fmt("text/html")
    if kind == "xml":
        m = re.match(rb'\s*<\?xml[^>]*version\s*=\s*["\']([\d.]+)', text)
        return fmt(XML, m.group(1).decode("ascii") if m else None)
    if _looks_like_text(head):
        return fmt("text/plain")
    return fmt("application/octet-stream")


def _plausible_bmp(head: bytes) -> bool:
    # BITMAPFILEHEADER: reserved fields zero, pixel offset small.
    return head[6:10] == b"\x00\x00\x00\x00" and int.from_bytes(head[10:14], "little") < 1 << 20


def _markup_kind(s: bytes) -> str | None:
    """"xml", "html" or None for text starting (after whitespace) with markup."""
    while s.startswith((b"<!--", b"<?")):
        if s.startswith(b"<?xml") and (len(s) < 6 or s[5:6] in b" \t\r\n?"):
            rest = s[s.find(b"?>") + 2:].lstrip() if b"?>" in s else b""
            return "html" if _markup_kind(rest) == "html" else "xml"
        end = s.find(b"-->" if s.startswith(b"<!--") else b"?>")
        if end < 0:
            return None
        s = s[end + (3 if s.startswith(b"<!--") else 2):].lstrip()
    if s[:9].upper() == b"<!DOCTYPE":
        return "html" if s[9:].lstrip()[:4].lower() == b"html" else "xml"
    m = _ROOT_RE.match(s)
    if not m:
        return None
    return "html" if m.group(1).lower() in (b"html", b"head", b"body") else "xml"


def identify(path: Path | str) -> FormatId:
    """Identify a file on disk by its content."""
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(_HEAD)
    return identify_bytes(head, p)
