"""A minimal reader of OFD (GB/T 33190) documents: structure, text, seals, attachments.

Enough to check that an OFD opens and is complete (GD-2-7, GD-3-4), to find the seals
and attachments it carries (GD-1-1-3, GD-4-2-2) and to extract its text for search. The
container is opened with ``safezip`` limits; every XML part goes through the hardened
parser of ``xmlsafe``. Real producers bend the standard, so the reader matches element
*local* names (some write the namespace as ``http://www.ofdspec.org``), tolerates a
leading ``/`` on paths and resolves paths case-insensitively (``DOC_0`` vs ``Doc_0``).
"""

from __future__ import annotations

import io
import posixpath
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import FormatError, PackageError, UnsafeContainer
from ..safezip import ZipLimits, inspect_zip, open_zip, read_member
from .xmlsafe import local_name, parse_xml_bytes

OFD_LIMITS = ZipLimits(max_entries=20_000, max_total_bytes=1 << 30, max_entry_bytes=512 << 20)


@dataclass
class OfdInfo:
    readable: bool
    version: str | None = None
    pages: int = 0
    texts: list[str] = field(default_factory=list)  # one per page, in page order
    signatures: int = 0
    signature_paths: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)  # member paths (or names)
    page_image_dpi: list[tuple[float, float] | None] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    doctype_parts: list[str] = field(default_factory=list)  # XML parts declaring a DTD
    problems: list[str] = field(default_factory=list)

    @property
    def text_chars(self) -> int:
        return sum(1 for t in self.texts for c in t if not c.isspace())

    @property
    def has_signatures(self) -> bool:
        return self.signatures > 0


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and local_name(c) == name]


def _child(el: etree._Element, name: str) -> etree._Element | None:
    found = _children(el, name)
    return found[0] if found else None


def _descendants(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el.iter() if isinstance(c.tag, str) and local_name(c) == name]


def _key(path: str) -> str:
    return unicodedata.normalize("NFC", path).casefold()


class _Package:
    """The ZIP members of one OFD, looked up the tolerant way."""

    def __init__(self, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo],
                 doctype_parts: list[str]) -> None:
        self.zf = zf
        self.doctype_parts = doctype_parts
        self.by_name = {i.filename: i for i in infos}
        self.by_key = {_key(i.filename): i for i in infos}
        self._cache: dict[str, etree._Element] = {}

    def resolve(self, ref: str | None, *bases: str) -> str | None:
        """The member a reference points at, trying each base folder then the root."""
        if not ref or not ref.strip():
            return None
        ref = ref.strip().replace("\\", "/")
        candidates = [ref.lstrip("/")] if ref.startswith("/") else []
        candidates += [posixpath.join(b, ref) for b in bases if b] + [ref.lstrip("/")]
        for cand in candidates:
            norm = posixpath.normpath(cand)
            if norm.startswith("..") or norm.startswith("/"):
                continue
            if norm in self.by_name:
                return norm
            info = self.by_key.get(_key(norm))
            if info is not None:
                return info.filename
        return None

    def read(self, member: str) -> bytes:
        return read_member(self.zf, self.by_name[member], OFD_LIMITS)

    def xml(self, member: str) -> etree._Element:
        if member not in self._cache:
            root = parse_xml_bytes(self.read(member))
            docinfo = root.getroottree().docinfo
            if docinfo.doctype or docinfo.internalDTD is not None:
                self.doctype_parts.append(member)
            self._cache[member] = root
        return self._cache[member]


def _text_of(el: etree._Element) -> str:
    return (el.text or "").strip()


def _page_text(page_root: etree._Element) -> str:
    """TextCode text, one line per baseline (characters placed one by one stay words)."""
    lines: list[str] = []
    last_y: float | None = None
    for obj in _descendants(page_root, "TextObject"):
        try:
            top = float((obj.get("Boundary") or "0 0").split()[1])
            size = float(obj.get("Size") or 3)
        except (ValueError, IndexError):
            top, size = 0.0, 3.0
        for code in _children(obj, "TextCode"):
            text = "".join(code.itertext())
            if not text:
                continue
            try:
                y = top + float(code.get("Y") or 0)
            except ValueError:
                y = top
            if lines and last_y is not None and abs(y - last_y) < size * 0.5:
                lines[-1] += text
            else:
                lines.append(text)
            last_y = y
    return "\n".join(lines)


def _image_size(data: bytes) -> tuple[int, int] | None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:  # noqa: BLE001 - reported by the image checks, not here
        return None


class _Reader:
    def __init__(self, pkg: _Package, info: OfdInfo) -> None:
        self.pkg = pkg
        self.info = info
        self.media: dict[str, str] = {}  # resource ID -> member path
        self.templates: dict[str, str] = {}  # template ID -> member path
        self.sizes: dict[str, tuple[int, int] | None] = {}  # image member -> pixel size

    def problem(self, text: str) -> None:
        self.info.problems.append(text)

    def part(self, ref: str | None, what: str, *bases: str) -> tuple[str, etree._Element] | None:
        member = self.pkg.resolve(ref, *bases)
        if member is None:
            self.problem(f"{what}“{ref}”在 OFD 包中不存在")
            return None
        try:
            return member, self.pkg.xml(member)
        except (FormatError, UnsafeContainer) as exc:
            self.problem(f"{what}“{member}”无法解析：{exc.message}")
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            self.problem(f"{what}“{member}”无法读取：{exc}")
        return None

    def read_resources(self, res_ref: str | None, doc_dir: str) -> None:
        got = self.part(res_ref, "资源文件", doc_dir)
        if got is None:
            return
        member, root = got
        res_dir = posixpath.dirname(member)
        base = posixpath.join(res_dir, root.get("BaseLoc") or "")
        for mm in _descendants(root, "MultiMedia"):
            ref = _text_of(_child(mm, "MediaFile")) if _child(mm, "MediaFile") is not None else ""
            target = self.pkg.resolve(ref, base, res_dir, doc_dir)
            if target is None:
                self.problem(f"多媒体资源“{ref}”（ID {mm.get('ID')}）在 OFD 包中不存在")
            else:
                self.media[mm.get("ID") or ""] = target
        for font in _descendants(root, "FontFile"):
            ref = _text_of(font)
            if self.pkg.resolve(ref, base, res_dir, doc_dir) is None:
                self.problem(f"字体文件“{ref}”在 OFD 包中不存在")

    def page_dpi(self, page_root: etree._Element) -> tuple[float, float] | None:
        best: tuple[float, float, float] | None = None
        for img in _descendants(page_root, "ImageObject"):
            member = self.media.get(img.get("ResourceID") or "")
            try:
                _, _, w_mm, h_mm = (float(v) for v in (img.get("Boundary") or "").split())
            except ValueError:
                continue
            if member is None or w_mm <= 0 or h_mm <= 0:
                continue
            if member not in self.sizes:
                self.sizes[member] = _image_size(self.pkg.read(member))
            size = self.sizes[member]
            if size is None:
                continue
            area = w_mm * h_mm
            if best is None or area > best[2]:
                best = (size[0] / (w_mm / 25.4), size[1] / (h_mm / 25.4), area)
        return (round(best[0], 1), round(best[1], 1)) if best else None

    def read_document(self, doc_ref: str) -> None:
        got = self.part(doc_ref, "文档根节点 DocRoot")
        if got is None:
            return
        doc_member, doc = got
        if local_name(doc) != "Document":
            self.problem(f"“{doc_member}”的根元素是 {local_name(doc)}，应为 Document")
            return
        doc_dir = posixpath.dirname(doc_member)
        common = _child(doc, "CommonData")
        if common is not None:
            for name in ("PublicRes", "DocumentRes"):
                for res in _children(common, name):
                    self.read_resources(_text_of(res), doc_dir)
            for tpl in _children(common, "TemplatePage"):
                target = self.pkg.resolve(tpl.get("BaseLoc"), doc_dir)
                if target is None:
                    self.problem(f"模板页“{tpl.get('BaseLoc')}”在 OFD 包中不存在")
                else:
                    self.templates[tpl.get("ID") or ""] = target
        pages_el = _child(doc, "Pages")
        pages = _descendants(pages_el, "Page") if pages_el is not None else []
        if not pages:
            self.problem(f"文档“{doc_member}”没有任何页面")
        for number, page in enumerate(pages, start=1):
            self.info.pages += 1
            got = self.part(page.get("BaseLoc"), f"第 {number} 页", doc_dir)
            if got is None:
                self.info.texts.append("")
                self.info.page_image_dpi.append(None)
                continue
            _, page_root = got
            parts = []
            for tpl in _children(page_root, "Template"):
                tpl_member = self.templates.get(tpl.get("TemplateID") or "")
                if tpl_member:
                    tpl_got = self.part(tpl_member, "模板页")
                    if tpl_got is not None:
                        parts.append(_page_text(tpl_got[1]))
            parts.append(_page_text(page_root))
            self.info.texts.append("\n".join(p for p in parts if p))
            self.info.page_image_dpi.append(self.page_dpi(page_root))
        self.read_attachments(doc, doc_dir)

    def read_attachments(self, doc: etree._Element, doc_dir: str) -> None:
        for ref_el in _children(doc, "Attachments"):
            got = self.part(_text_of(ref_el), "附件列表", doc_dir)
            if got is None:
                continue
            member, root = got
            for att in _descendants(root, "Attachment"):
                loc = _child(att, "FileLoc")
                ref = _text_of(loc) if loc is not None else ""
                target = self.pkg.resolve(ref, posixpath.dirname(member), doc_dir)
                self.info.attachments.append(target or att.get("Name") or ref)
                if target is None:
                    self.problem(f"附件“{att.get('Name') or ref}”的文件“{ref}”在 OFD 包中不存在")

    def read_signatures(self, ref: str, doc_dirs: list[str]) -> None:
        got = self.part(ref, "签名列表 Signatures", *doc_dirs)
        if got is None:
            return
        member, root = got
        sig_dir = posixpath.dirname(member)
        for sig in _descendants(root, "Signature"):
            self.info.signatures += 1
            target = self.pkg.resolve(sig.get("BaseLoc"), sig_dir, *doc_dirs)
            if target is None:
                self.problem(f"签名“{sig.get('BaseLoc')}”在 OFD 包中不存在")
            else:
                self.info.signature_paths.append(target)


def _read(pkg: _Package, info: OfdInfo) -> None:
    reader = _Reader(pkg, info)
    if "OFD.xml" not in pkg.by_name:
        info.readable = False
        info.problems.append("OFD 包根目录缺少 OFD.xml 入口文件")
        return
    got = reader.part("OFD.xml", "入口文件")
    if got is None:
        info.readable = False
        return
    _, root = got
    if local_name(root) != "OFD":
        info.readable = False
        info.problems.append(f"OFD.xml 的根元素是 {local_name(root)}，应为 OFD")
        return
    info.version = root.get("Version")
    bodies = _children(root, "DocBody")
    if not bodies:
        info.readable = False
        info.problems.append("OFD.xml 缺少 DocBody")
        return
    doc_dirs: list[str] = []
    for body in bodies:
        doc_root = _child(body, "DocRoot")
        if doc_root is None or not _text_of(doc_root):
            info.problems.append("DocBody 缺少 DocRoot")
            continue
        resolved = pkg.resolve(_text_of(doc_root))
        doc_dirs.append(posixpath.dirname(resolved) if resolved else "")
        reader.read_document(_text_of(doc_root))
        for sigs in _children(body, "Signatures"):
            reader.read_signatures(_text_of(sigs), doc_dirs)
    # Some producers write Signs/Signatures.xml without declaring it in OFD.xml.
    if info.signatures == 0:
        for d in doc_dirs:
            member = pkg.resolve("Signs/Signatures.xml", d)
            if member:
                reader.read_signatures(member, doc_dirs)
    if info.pages == 0:
        info.readable = False


def read_ofd(path: Path | str) -> OfdInfo:
    """Read an OFD file; problems are listed in ``OfdInfo.problems`` (never raises on bad input)."""
    info = OfdInfo(readable=True)
    try:
        with open_zip(path) as zf:
            infos = inspect_zip(zf, OFD_LIMITS)
            info.members = [i.filename for i in infos]
            _read(_Package(zf, infos, info.doctype_parts), info)
    except PackageError as exc:
        info.readable = False
        info.problems.append(exc.message)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, KeyError) as exc:
        info.readable = False
        info.problems.append(f"OFD 包无法读取：{exc}")
    return info


def extract_text(path: Path | str) -> list[str]:
    """The text of each page in page order; ``FormatError`` if the file is not a readable OFD."""
    info = read_ofd(path)
    if not info.readable and not info.texts:
        raise FormatError("；".join(info.problems) or "无法读取 OFD 文件")
    return info.texts
