"""Parsing XML from untrusted sources without XXE, entity expansion or network access.

Every XML file Dangan reads (submitted XML documents, OFD parts) goes through
``parse_xml_bytes``: the parser never resolves entities, never loads a DTD and never
touches the network. A DOCTYPE or ENTITY declaration is not an error for the parser,
but ``inspect_xml`` reports it, because in an archival file it has no legitimate use and
is the carrier of XXE and "billion laughs" attacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..errors import FormatError

# Enough to see a DOCTYPE (which must precede the root element) in any real file.
_PROLOG_SCAN = 64 * 1024
_DOCTYPE_RE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_RE = re.compile(rb"<!ENTITY", re.IGNORECASE)
MAX_XML_BYTES = 256 << 20


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml_bytes(data: bytes) -> etree._Element:
    """Parse ``data`` safely and return the root element; ``FormatError`` if malformed."""
    if len(data) > MAX_XML_BYTES:
        raise FormatError(f"XML 文件过大（{len(data)} 字节），超过上限 {MAX_XML_BYTES}")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise FormatError(f"XML 格式不正确：{exc}") from exc
    if root is None:
        raise FormatError("XML 文件为空，没有根元素")
    return root


def local_name(element: etree._Element) -> str:
    """Tag without namespace (OFD producers disagree on the namespace URI)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


@dataclass
class XmlInfo:
    well_formed: bool
    has_doctype: bool
    has_entities: bool
    root_tag: str | None
    problems: list[str] = field(default_factory=list)


def inspect_bytes(data: bytes) -> XmlInfo:
    """Well-formedness and dangerous declarations of an XML document held in memory."""
    head = data[:_PROLOG_SCAN]
    has_doctype = bool(_DOCTYPE_RE.search(head))
    has_entities = bool(_ENTITY_RE.search(data if len(data) <= _PROLOG_SCAN else head))
    problems: list[str] = []
    root_tag: str | None = None
    well_formed = False
    try:
        root = parse_xml_bytes(data)
        well_formed = True
        root_tag = root.tag if isinstance(root.tag, str) else None
        docinfo = root.getroottree().docinfo
        if docinfo.doctype:
            has_doctype = True
        dtd = docinfo.internalDTD
        if dtd is not None and list(dtd.iterentities()):
            has_entities = True
    except FormatError as exc:
        problems.append(exc.message)
    if has_entities:
        problems.append("XML 含实体声明（<!ENTITY>），可能用于外部实体注入（XXE）或实体膨胀攻击")
    elif has_doctype:
        problems.append("XML 含文档类型声明（<!DOCTYPE>），归档文件不应引用 DTD")
    return XmlInfo(well_formed, has_doctype, has_entities, root_tag, problems)


def inspect_xml(path: Path | str) -> XmlInfo:
    """``inspect_bytes`` of a file on disk."""
    p = Path(path)
    size = p.stat().st_size
    if size > MAX_XML_BYTES:
        return XmlInfo(False, False, False, None, [f"XML 文件过大（{size} 字节）"])
    return inspect_bytes(p.read_bytes())
