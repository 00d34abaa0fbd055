"""The package description (data/description.xml): one spec drives writing and reading.

The element tree is declared once (``SPEC``) as a tree of fields; ``render_description``
walks it to write XML and ``parse_description`` walks it to read XML back, so what is
written always round-trips to the same dict. Element names follow DA/T 48-2009 (EEP)
and DA/T 46-2009 where they have one. The XSD (aip-description.xsd) checks the result.

Free text that XML 1.0 cannot carry (control characters, lone surrogates, CR) is written
as a JSON string literal with ``转义="json"``, so even a malformed submission round-trips.
Coded values keep the code in ``代码`` and show the Chinese label as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from lxml import etree

from ..errors import AIPInvalid
from . import labels as L
from .fields import FIELDS, GROUP_ELEMENTS, Field

NS = "urn:dangan:aip:1"
ROOT_TAG = "电子文件封装包"
ESCAPE_ATTR = "转义"
CODE_ATTR = "代码"
MAX_DESCRIPTION_BYTES = 64 << 20


@dataclass(frozen=True)
class F:
    """One element: ``key`` in the dict, ``tag`` in the XML, how its value is written."""

    key: str
    tag: str
    kind: str = "text"  # text | int | bool | code | json | group | list
    children: tuple[F, ...] = ()
    item: F | None = None  # for kind == "list": the repeated element
    labels: dict[str, str] | None = None  # for kind == "code"


def G(key: str, tag: str, *children: F) -> F:
    return F(key, tag, "group", tuple(children))


def LST(key: str, tag: str, item: F) -> F:
    return F(key, tag, "list", item=item)


def C(key: str, tag: str, labels: dict[str, str]) -> F:
    return F(key, tag, "code", labels=labels)


DIGESTS = G("digests", "数字摘要", F("sha256", "SHA256"), F("sm3", "SM3"))

DOCUMENT = G(
    "", "文档",
    F("id", "文档标识符"),
    F("seq", "文档序号", "int"),
    F("title", "题名"),
    C("kind", "文件类型", L.KINDS),
    C("origin", "来源方式", L.ORIGINS),
    F("path", "计算机文件名"),
    F("size", "计算机文件大小", "int"),
    G("format", "格式信息", F("name", "格式名称"), F("media_type", "MIME媒体类型"),
      F("declared_media_type", "声明媒体类型")),
    DIGESTS,
    F("created_at", "创建时间"),
    F("pages", "页数", "int"),
    G("digitization", "数字化属性", F("dpi", "扫描分辨率", "int")),
)

PARTY = G(
    "", "当事人",
    C("role", "角色", L.PARTY_ROLES),
    C("kind", "类型", L.PARTY_KINDS),
    F("name", "名称"),
    C("id_type", "证件类型", L.ID_TYPES),
    F("id_number", "证件号码"),
)

def _element(f: Field, key: str) -> F:
    """The XML element of one table field (kinds as in ``fields.Field``)."""
    if f.kind == "code":
        return C(key, f.element, dict(f.codes or {}))
    if f.kind == "codes":
        return LST(key, f.element, C("", f.item_element or f.element, dict(f.codes or {})))
    return F(key, f.element, {"int": "int", "year": "int", "bool": "bool"}.get(f.kind, "text"))


def _content_description() -> F:
    """内容描述, in table order; dotted names become the nested groups (经办机构)."""
    children: list[F | str] = []
    groups: dict[str, list[F]] = {}
    for f in FIELDS:
        head, _, tail = f.name.partition(".")
        if not tail:
            children.append(_element(f, head))
            continue
        if head not in groups:
            groups[head] = []
            children.append(head)
        groups[head].append(_element(f, tail))
    return G("description", "内容描述", *(
        G(c, GROUP_ELEMENTS[c], *groups[c]) if isinstance(c, str) else c for c in children))


CONTENT_DESCRIPTION = _content_description()

SUBMISSION = G(
    "submission", "原始提交",
    F("path", "计算机文件名"),
    F("size", "计算机文件大小", "int"),
    DIGESTS,
    F("signature_path", "签名文件名"),
    F("signature_alg", "签名算法"),
    F("signature_key_id", "签名密钥标识"),
    F("received_at", "接收时间"),
)

RECORD = G(
    "record", "文件实体块",
    F("aggregation", "聚合层次"),
    G("source", "来源", F("fonds", "全宗号"), F("organization", "立档单位名称")),
    F("record_id", "电子文件号"),
    CONTENT_DESCRIPTION,
    G("form", "形式特征", F("items", "件数", "int"), F("files", "文件数", "int"),
      F("pages", "页数", "int")),
    LST("parties", "当事人信息", PARTY),
    SUBMISSION,
    LST("documents", "文件数据", DOCUMENT),
)

EVENT = G(
    "", "业务实体",
    F("seq", "顺序号", "int"),
    C("step", "业务状态", L.STEPS),
    F("action", "业务行为"),
    F("at", "行为时间"),
    G("actor", "机构人员", F("id", "标识"), F("name", "名称"), F("role", "角色")),
    LST("files", "相关文件", F("", "文档标识符")),
    F("note", "行为描述"),
)

AGENT = G(
    "", "机构人员",
    C("type", "机构人员类型", L.AGENT_TYPES),
    F("id", "机构人员代码"),
    F("name", "机构人员名称"),
    F("role", "个人职位"),
)

CHECK_ITEM = G(
    "", "检测项",
    F("code", "检测编码"),
    C("nature", "检测性质", L.NATURES),
    F("name", "检测项目"),
    C("stage", "检测环节", L.STAGES),
    C("result", "检测结果", L.RESULTS),
    F("blocking", "阻断归档", "bool"),
    F("message", "结果说明"),
    F("evidence", "证据", "json"),
)

CATALOGUE_ENTRY = G(
    "", "条目",
    F("seq", "顺序号", "int"),
    F("archival_code", "档号"),
    F("responsible", "责任者"),
    F("title", "题名"),
    F("date", "日期"),
    C("classification", "密级", L.CLASSIFICATIONS),
    F("file_name", "电子档案名称"),
    F("note", "备注"),
)

EXPLANATION = G(
    "explanation", "说明",
    F("carrier_type", "载体类型"),
    F("carrier_maker", "载体制作单位"),
    F("carrier_keeper", "载体保管单位"),
    F("hardware", "硬件环境"),
    F("software", "软件环境"),
    F("package_format", "封装格式"),
    G("summary", "摘要信息", F("archival_code", "档号"), F("items", "件数", "int"),
      F("files", "文件数", "int"), F("bytes", "总字节数", "int"), F("pages", "总页数", "int")),
)

SPEC = G(
    "", ROOT_TAG,
    F("format_description", "封装包格式描述"),
    F("version", "版本"),
    G(
        "signed_object", "被签名对象",
        C("package_type", "封装包类型", L.PACKAGE_TYPES),
        F("package_type_description", "封装包类型描述"),
        F("aip_id", "封装包标识符"),
        F("aip_version", "封装包版本", "int"),
        F("created_at", "封装包创建时间"),
        F("created_by", "封装包创建单位"),
        G("supersedes", "被修改封装包", F("aip_id", "封装包标识符"), F("archival_code", "档号"),
          F("version", "封装包版本", "int"), F("reason", "修改原因")),
        G(
            "content", "封装内容",
            RECORD,
            LST("events", "业务实体块", EVENT),
            LST("agents", "机构人员实体块", AGENT),
            LST("check_report", "检测报告", CHECK_ITEM),
        ),
        EXPLANATION,
        LST("catalogue", "目录", CATALOGUE_ENTRY),
    ),
)

# XML 1.0 Char production minus CR (which parsers turn into LF).
_XML_UNSAFE = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _set_text(el: etree._Element, text: str, attr: str | None = None) -> None:
    """Write text (and optionally the code attribute), escaping what XML cannot hold."""
    values = [text] + ([attr] if attr is not None else [])
    if any(_XML_UNSAFE.search(v) for v in values):
        el.set(ESCAPE_ATTR, "json")
        text = json.dumps(text, ensure_ascii=True)
        attr = json.dumps(attr, ensure_ascii=True) if attr is not None else None
    if attr is not None:
        el.set(CODE_ATTR, attr)
    el.text = text


def _render(spec: F, value: Any, parent: etree._Element | None) -> etree._Element:
    if parent is None:
        el = etree.Element(_q(spec.tag), nsmap={None: NS})
    else:
        el = etree.SubElement(parent, _q(spec.tag))
    if spec.kind == "group":
        for child in spec.children:
            v = value.get(child.key) if isinstance(value, dict) else None
            if v is not None:
                _render(child, v, el)
    elif spec.kind == "list":
        assert spec.item is not None
        for v in value:
            _render(spec.item, v, el)
    elif spec.kind == "int":
        el.text = str(int(value))
    elif spec.kind == "bool":
        el.text = "true" if value else "false"
    elif spec.kind == "json":
        # default=str: evidence may carry paths or datetimes; they are kept as text
        text = json.dumps(value, ensure_ascii=False, default=str)
        if _XML_UNSAFE.search(text):
            text = json.dumps(value, ensure_ascii=True, default=str)
        el.text = text
    elif spec.kind == "code":
        code = str(value)
        _set_text(el, (spec.labels or {}).get(code, code), code)
    else:
        _set_text(el, str(value))
    return el


def render_description(model: dict[str, Any]) -> bytes:
    """The description dict as UTF-8 XML bytes (deterministic, indented)."""
    root = _render(SPEC, model, None)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _text(el: etree._Element) -> str:
    text = el.text or ""
    if el.get(ESCAPE_ATTR) == "json":
        text = json.loads(text)
    return text


Reader = Callable[[etree._Element], Any]


def _reader(spec: F) -> Reader:
    """A function that reads ``spec``'s element, its qualified tags and children's readers
    worked out once: an audit reads a description of ~600 elements per item, and a
    walk that looked at ``spec`` for every element cost as much as the XML parse."""
    kind = spec.kind
    if kind == "group":
        parts = [(child.key, _q(child.tag), _reader(child)) for child in spec.children]

        def group(el: etree._Element) -> dict[str, Any]:
            first: dict[Any, etree._Element] = {}
            for c in el:  # one pass over the children, not one search per field
                if c.tag not in first:
                    first[c.tag] = c
            return {key: None if (found := first.get(tag)) is None else read(found)
                    for key, tag, read in parts}
        return group
    if kind == "list":
        assert spec.item is not None
        tag, read_item = _q(spec.item.tag), _reader(spec.item)
        return lambda el: [read_item(c) for c in el if c.tag == tag]
    if kind == "int":
        return lambda el: int((el.text or "").strip())
    if kind == "bool":
        return lambda el: (el.text or "").strip() in ("true", "1")
    if kind == "json":
        return lambda el: json.loads((el.text or "").strip())
    if kind == "code":
        def code(el: etree._Element) -> str:
            value = el.get(CODE_ATTR, "")
            return json.loads(value) if el.get(ESCAPE_ATTR) == "json" else value
        return code
    return _text


@lru_cache(maxsize=1)
def _model_reader() -> Reader:
    return _reader(SPEC)


def hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=False)


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML: no DTD, no entities, no network; ``AIPInvalid`` if not acceptable."""
    if len(data) > MAX_DESCRIPTION_BYTES:
        raise AIPInvalid(f"封装包描述文件过大（{len(data)} 字节）")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise AIPInvalid("封装包描述文件含 DOCTYPE/ENTITY 声明，不予解析（防止实体注入）")
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise AIPInvalid(f"封装包描述文件不是格式良好的 XML：{exc}") from exc
    if root is None:
        raise AIPInvalid("封装包描述文件没有根元素")
    return root


def parse_description(data: bytes) -> dict[str, Any]:
    """Read data/description.xml back into the dict it was written from."""
    return model_of(parse_xml(data))


def model_of(root: etree._Element) -> dict[str, Any]:
    if root.tag != _q(ROOT_TAG):
        raise AIPInvalid(f"封装包描述根元素应为 {{{NS}}}{ROOT_TAG}，实为 {root.tag}")
    try:
        return _model_reader()(root)
    except (ValueError, TypeError) as exc:
        raise AIPInvalid(f"封装包描述中的值无法读取：{exc}") from exc


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    xsd = resources.files(__package__).joinpath("aip-description.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(xsd, hardened_parser()))


def xsd_errors(data: bytes) -> list[dict[str, Any]]:
    """Every XSD violation of the description as {line, element, message}; [] if valid."""
    return xsd_errors_of(parse_xml(data))


def xsd_errors_of(root: etree._Element) -> list[dict[str, Any]]:
    sch = schema()
    if sch.validate(root.getroottree()):
        return []
    return [
        {"line": e.line, "element": e.path, "message": e.message}
        for e in sch.error_log  # type: ignore[attr-defined]
    ]
