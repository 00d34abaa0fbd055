"""One table of the case fields that the description, the catalogue and the item JSON carry.

Each ``Field`` says once where a value comes from (case.json, the filing rule, or the
archive), which element of the description's 内容描述 holds it, which catalogue column and
which item-JSON key it becomes, and its Chinese label. The description writer
(``model.describe`` and ``description.SPEC``), the catalogue rows (``ingest/records``),
the catalogue/AIP comparison (``archive/chain_facts``), the item JSON and the read-back
after staging (``archive/catalogue``, GD-3-2) are all derived from ``FIELDS``, so a new
field is added here (plus its column and the XSD element) and nowhere else.

The table is in ``packages/`` because the AIP needs it without the archive; the
catalogue-side adapters (ORM columns, datetimes) live in ``archive/catalogue_fields``.

Labels: taken from the element names and ``labels`` for now; when
``packages/vocabulary.py`` lands, ``Field.label`` and ``Field.codes`` read from it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import labels as L

__all__ = ["DOCUMENT_FIELDS", "FIELDS", "GROUP_ELEMENTS", "PARTY_KEYS", "DocumentField", "Field",
           "described", "field", "raw_value"]


@dataclass(frozen=True)
class Field:
    """One case field: its source, description element, catalogue column, JSON key, label.

    ``name`` is the key in the description's ``description`` dict (``agency.code`` is
    nested). ``source`` is a path into ``{"case": …, "filing": …, "aip": …}``;
    ``fallback`` is read when the source is empty. ``kind`` says how the value is
    coerced: text (required, "" when missing), opt (optional text), time (ISO text; a
    datetime in the catalogue), int, year, bool, code (one coded value) or codes (a list).
    """

    name: str
    label: str
    element: str
    source: tuple[str, ...]
    kind: str = "text"
    codes: Mapping[str, str] | None = None
    column: str | None = None  # catalogue column of ``Item``; None: the AIP only
    json: str | None = None  # dotted key in the item JSON; None: the column name
    fallback: tuple[str, ...] | None = None
    item_element: str | None = None  # kind == "codes": the repeated element
    blank_is_none: bool = False  # the catalogue stores "" as NULL
    read_back: bool = False  # read back from the database after staging (GD-3-2)

    @property
    def json_key(self) -> str | None:
        return self.json or self.column


#: Element names of the nested groups of 内容描述 (the first part of a dotted name).
GROUP_ELEMENTS = {"agency": "经办机构"}

# In the order of the description's 内容描述 (the XSD fixes that order).
FIELDS: tuple[Field, ...] = (
    Field("title", "题名", "题名", ("case", "title"), column="title", read_back=True),
    Field("archival_code", "档号", "档号", ("aip", "archival_code"), column="archival_code",
          read_back=True),
    Field("year", "年度", "年度", ("filing", "year"), "year", column="year",
          fallback=("case", "completed_at")),
    Field("retention", "保管期限", "保管期限", ("filing", "retention"), "code", L.RETENTIONS,
          column="retention"),
    Field("category", "类别", "类别", ("filing", "category"), column="category"),
    Field("category_code", "类别代码", "类别代码", ("filing", "category_code"),
          column="category_code"),
    Field("classification_code", "分类号", "分类号", ("filing", "classification_code"),
          column="classification_code"),
    Field("service_item_code", "服务事项编码", "服务事项编码", ("case", "service_item", "code"),
          column="service_item_code", json="service_item.code"),
    Field("service_item_name", "服务事项名称", "服务事项名称", ("filing", "service_item_name"),
          column="service_item_name", json="service_item.name",
          fallback=("case", "service_item", "name")),
    Field("case_id", "办件编号", "办件编号", ("case", "case_id"), column="case_id", read_back=True),
    Field("source_system", "来源系统", "来源系统", ("case", "source_system"),
          column="source_system", read_back=True),
    Field("agency.code", "经办机构代码", "机构代码", ("case", "agency", "code"),
          column="agency_code", json="agency.code"),
    Field("agency.name", "经办机构名称", "机构名称", ("case", "agency", "name"),
          column="agency_name", json="agency.name"),
    Field("channel", "办理渠道", "办理渠道", ("case", "channel"), "code", L.CHANNELS,
          column="channel"),
    Field("insurance", "险种", "险种", ("case", "insurance"), "codes", L.INSURANCE,
          column="insurance", item_element="险种类型"),
    Field("outcome", "办理结果", "办理结果", ("case", "result", "outcome"), "code", L.OUTCOMES,
          column="outcome"),
    Field("result_summary", "结果摘要", "结果摘要", ("case", "result", "summary"), "opt",
          column="summary"),
    Field("decision_no", "文号", "文号", ("case", "result", "decision_no"), "opt",
          column="decision_no", blank_is_none=True),
    Field("accepted_at", "受理时间", "受理时间", ("case", "accepted_at"), "time",
          column="accepted_at"),
    Field("completed_at", "办结时间", "办结时间", ("case", "completed_at"), "time",
          column="completed_at"),
    Field("classification", "密级", "密级", ("case", "security", "classification"), "code",
          L.CLASSIFICATIONS, column="security_classification"),
    Field("personal_info", "个人信息", "个人信息", ("case", "security", "personal_info"), "bool",
          column="personal_info"),
    Field("legal_basis", "归档依据", "归档依据", ("filing", "legal_basis"), "opt"),
)

_BY_NAME = {f.name: f for f in FIELDS}


@dataclass(frozen=True)
class DocumentField:
    """One field of a filed document: its key in the description's 文档 (dots nest),
    its catalogue column (``ItemFile``), item-JSON key and label; ``compared``: held to
    the AIP by the catalogue audit; ``read_back``: read back after staging (GD-3-2)."""

    name: str
    label: str
    column: str
    json: str | None = None  # None: the column name
    kind: str = "text"  # text | int | time
    compared: bool = False
    read_back: bool = False

    @property
    def json_key(self) -> str:
        return self.json or self.column


#: The fields of a party (当事人): the same key in the description, column and JSON.
PARTY_KEYS = ("role", "kind", "name", "id_type", "id_number")

# In the order of the item JSON's ``files`` entries.
DOCUMENT_FIELDS: tuple[DocumentField, ...] = (
    DocumentField("seq", "序号", "seq", kind="int", compared=True),
    DocumentField("id", "文件标识", "file_id", json="id", compared=True),
    DocumentField("path", "计算机文件名", "path", read_back=True),
    DocumentField("title", "题名", "title", compared=True),
    DocumentField("kind", "文件类型", "kind"),
    DocumentField("origin", "来源方式", "origin"),
    DocumentField("format.media_type", "MIME媒体类型", "media_type"),
    DocumentField("format.declared_media_type", "声明媒体类型", "declared_media_type"),
    DocumentField("size", "大小", "size", kind="int", compared=True, read_back=True),
    DocumentField("digests.sha256", "SHA-256", "sha256", compared=True, read_back=True),
    DocumentField("digests.sm3", "SM3", "sm3", compared=True, read_back=True),
    DocumentField("pages", "页数", "pages", kind="int"),
    DocumentField("digitization.dpi", "扫描分辨率", "dpi", kind="int"),
)


def field(name: str) -> Field:
    """The field called ``name`` (``KeyError`` if the table has none)."""
    return _BY_NAME[name]


# Defensive coercions: the submission may be malformed, nothing here raises.
def _s(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool | int | float):
        return json.dumps(v)
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def _req(v: Any) -> str:
    return _s(v) or ""


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v.strip())
    return None


def _d(v: Any) -> dict:
    return v if isinstance(v, dict) else {}


def _lst(v: Any) -> list:
    return v if isinstance(v, list) else []


def raw_value(path: tuple[str, ...] | None, sources: Mapping[str, Any]) -> Any:
    """The value at ``path`` in ``sources``, or None where a level is missing."""
    value: Any = sources
    for key in path or ():
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _coerce(f: Field, sources: Mapping[str, Any]) -> Any:
    v = raw_value(f.source, sources)
    if f.kind == "year":  # the filing rule's year, else the year the case was completed
        year = _int(v)
        text = _s(raw_value(f.fallback, sources)) or ""
        return year if year is not None or not text[:4].isdigit() else int(text[:4])
    if f.fallback is not None and not v:
        v = raw_value(f.fallback, sources)
    if f.kind == "int":
        return _int(v)
    if f.kind == "bool":
        return bool(v)
    if f.kind == "opt":
        return _s(v)
    if f.kind == "codes":
        return [_req(i) for i in _lst(v)]
    return _req(v)


def described(case: Any, filing: Any, archival_code: str) -> dict[str, Any]:
    """The description's ``description`` dict (内容描述) of one case, from ``FIELDS``."""
    sources = {"case": _d(case), "filing": _d(filing), "aip": {"archival_code": archival_code}}
    out: dict[str, Any] = {}
    for f in FIELDS:
        head, _, tail = f.name.partition(".")
        value = _coerce(f, sources)
        if tail:
            out.setdefault(head, {})[tail] = value
        else:
            out[head] = value
    return out
