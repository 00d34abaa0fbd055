"""The case.json contract: its JSON Schema, its metadata scheme, and Chinese value names.

Two views of one contract. ``case-submission.schema.json`` is what a sending system
validates against; ``METADATA`` is the DA/T 46-style scheme (one row per element: name,
constraint 必选/条件选/可选, type, max length, value range) that the four-nature checks
read, so GD-1-2…1-6 and GD-2-3/2-4 are driven by data, not by code per field. A test
keeps the two in agreement.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from . import vocabulary as V
from .identity import ID_TYPE_NAMES
from .problem import Problem

SCHEMA_ID = "dangan/case-submission/1"
SCHEMA_FILE = "case-submission.schema.json"

# The labels live in ``vocabulary``; these names are what the scheme's users import.
INSURANCE_NAMES = V.INSURANCES
CHANNEL_NAMES = V.CHANNELS
OUTCOME_NAMES = V.OUTCOMES
STEP_NAMES = V.STEPS
SUBMISSION_STEPS = ("lead", "accept", "handle", "feedback")
PARTY_KIND_NAMES = V.PARTY_KINDS
DOCUMENT_KIND_NAMES = V.DOCUMENT_KINDS
ORIGIN_NAMES = V.ORIGINS
CLASSIFICATION_NAMES = V.CLASSIFICATIONS

IDENTIFIER_RE = r"^[A-Za-z0-9._-]{1,64}$"
DATETIME_RE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
AGENCY_CODE_RE = r"^[1-9][0-9]{5}[A-Za-z0-9-]{0,14}$"
SHA256_RE = r"^[0-9a-f]{64}$"
SM3_RE = r"^[0-9a-fA-F]{64}$"
MEDIA_TYPE_RE = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$"


@dataclass(frozen=True)
class Element:
    """One element of the case metadata scheme (DA/T 46 style)."""

    path: str  # e.g. "files[].sha256"; "[]" marks every item of an array
    name: str  # Chinese name (元数据项名称)
    constraint: str  # "M" 必选, "C" 条件选, "O" 可选
    type: str  # "string" | "integer" | "boolean" | "object" | "array" | "date-time"
    max_length: int | None = None  # characters for strings, items for arrays
    values: tuple[str, ...] | None = None  # value range (值域) of enumerated elements
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    condition: str = ""  # when a conditional element is required (Chinese)
    may_be_empty: bool = False  # a present mandatory value may be "" / []


def _party(prefix: str, who: str) -> list[Element]:
    return [
        Element(f"{prefix}.kind", f"{who}类别", "M", "string", values=tuple(PARTY_KIND_NAMES)),
        Element(f"{prefix}.name", f"{who}名称", "M", "string", 100),
        Element(f"{prefix}.id_type", f"{who}证件类型", "C", "string", values=tuple(ID_TYPE_NAMES),
                condition="填写证件号码时必填"),
        Element(f"{prefix}.id_number", f"{who}证件号码", "C", "string", 64,
                condition="填写证件类型时必填"),
    ]


def _dt(path: str, name: str, constraint: str = "M") -> Element:
    return Element(path, name, constraint, "date-time", 35, pattern=DATETIME_RE)


METADATA: tuple[Element, ...] = (
    Element("schema", "模式标识", "M", "string", 64, values=(SCHEMA_ID,)),
    Element("case_id", "办件编号", "M", "string", 64, pattern=IDENTIFIER_RE),
    Element("source_system", "来源系统标识", "M", "string", 64, pattern=IDENTIFIER_RE),
    Element("agency", "经办机构", "M", "object"),
    Element("agency.code", "经办机构代码", "M", "string", 20, pattern=AGENCY_CODE_RE),
    Element("agency.name", "经办机构名称", "M", "string", 100),
    Element("service_item", "服务事项", "M", "object"),
    Element("service_item.code", "事项编码", "M", "string", 64, pattern=IDENTIFIER_RE),
    Element("service_item.name", "事项名称", "M", "string", 200),
    Element("insurance", "险种", "M", "array", 3),
    Element("insurance[]", "险种", "M", "string", values=tuple(INSURANCE_NAMES)),
    Element("channel", "办理渠道", "M", "string", values=tuple(CHANNEL_NAMES)),
    Element("applicant", "申请人", "M", "object"),
    *_party("applicant", "申请人"),
    Element("subjects", "业务对象", "M", "array", 1000),
    Element("subjects[]", "业务对象", "M", "object"),
    *_party("subjects[]", "业务对象"),
    Element("title", "题名", "M", "string", 200),
    Element("result", "办理结果", "M", "object"),
    Element("result.outcome", "办理结果", "M", "string", values=tuple(OUTCOME_NAMES)),
    Element("result.decision_no", "文号", "O", "string", 64),
    Element("result.summary", "结果摘要", "M", "string", 2000),
    _dt("accepted_at", "受理时间"),
    _dt("completed_at", "办结时间"),
    Element("events", "过程信息", "M", "array", 1000),
    Element("events[]", "业务行为", "M", "object"),
    Element("events[].seq", "行为序号", "M", "integer", minimum=1, maximum=1000),
    Element("events[].step", "业务环节", "M", "string", values=SUBMISSION_STEPS),
    _dt("events[].at", "行为时间"),
    Element("events[].actor", "行为人", "M", "object"),
    Element("events[].actor.id", "行为人标识", "M", "string", 64),
    Element("events[].actor.name", "行为人姓名", "M", "string", 100),
    Element("events[].actor.role", "行为人角色", "M", "string", 64),
    Element("events[].action", "行为描述", "M", "string", 200),
    Element("events[].files", "相关文件", "M", "array", 10000, may_be_empty=True),
    Element("events[].files[]", "相关文件标识", "M", "string", 64, pattern=IDENTIFIER_RE),
    Element("events[].note", "备注", "O", "string", 1000, may_be_empty=True),
    Element("files", "电子文件", "M", "array", 10000),
    Element("files[]", "电子文件", "M", "object"),
    Element("files[].id", "文件标识", "M", "string", 64, pattern=IDENTIFIER_RE),
    Element("files[].path", "计算机文件名", "M", "string", 255),
    Element("files[].title", "文件题名", "M", "string", 200),
    Element("files[].kind", "文件类别", "M", "string", values=tuple(DOCUMENT_KIND_NAMES)),
    Element("files[].origin", "来源方式", "M", "string", values=tuple(ORIGIN_NAMES)),
    Element("files[].media_type", "MIME 媒体类型", "M", "string", 100, pattern=MEDIA_TYPE_RE),
    Element("files[].size", "计算机文件大小", "M", "integer", minimum=0, maximum=1 << 40),
    Element("files[].sha256", "SHA-256 摘要", "M", "string", 64, pattern=SHA256_RE),
    Element("files[].sm3", "SM3 摘要", "O", "string", 64, pattern=SM3_RE),
    _dt("files[].created_at", "形成时间"),
    Element("files[].pages", "页数", "O", "integer", minimum=0, maximum=100000),
    Element("security", "安全信息", "M", "object"),
    Element("security.classification", "开放/密级", "M", "string", values=tuple(CLASSIFICATION_NAMES)),
    Element("security.personal_info", "含个人信息", "M", "boolean"),
    Element("supersedes", "被更正版本", "O", "string", 100),
    Element("correction_reason", "更正原因", "C", "string", 500, condition="填写被更正版本时必填"),
)

METADATA_BY_PATH: dict[str, Element] = {e.path: e for e in METADATA}

# Conditional elements: (element path, triggering sibling) — both live in the same object.
CONDITIONS: tuple[tuple[str, str], ...] = (
    ("correction_reason", "supersedes"),
    ("applicant.id_number", "applicant.id_type"),
    ("applicant.id_type", "applicant.id_number"),
    ("subjects[].id_number", "subjects[].id_type"),
    ("subjects[].id_type", "subjects[].id_number"),
)

MISSING = object()  # marks an element whose key is absent from its (present) parent


def parse_datetime(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string WITH offset; None if not one."""
    if not isinstance(value, str) or not re.match(DATETIME_RE, value):
        return None
    text = value.replace("Z", "+00:00")
    text = re.sub(r"\.(\d{6})\d+", r".\1", text)  # Python keeps microseconds only
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def instances(case: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every occurrence of element ``path`` in ``case`` as (JSON path, value or MISSING).

    Occurrences under a parent that is absent or of the wrong type are skipped: the
    parent itself is reported by the check that looks at it.
    """
    if not isinstance(case, dict):
        return
    nodes: list[tuple[str, Any]] = [("$", case)]
    parts = path.split(".")
    for i, part in enumerate(parts):
        is_last = i == len(parts) - 1
        key, each = (part[:-2], True) if part.endswith("[]") else (part, False)
        next_nodes: list[tuple[str, Any]] = []
        for jp, node in nodes:
            if not isinstance(node, dict):
                continue
            child_path = f"{jp}.{key}"
            if key not in node:
                if is_last and not each:
                    next_nodes.append((child_path, MISSING))
                continue
            child = node[key]
            if each:
                if isinstance(child, list):
                    next_nodes.extend((f"{child_path}[{n}]", item) for n, item in enumerate(child))
            else:
                next_nodes.append((child_path, child))
        nodes = next_nodes
    yield from nodes


def type_matches(element: Element, value: Any) -> bool:
    """Whether ``value`` has the JSON type the scheme gives ``element`` (bool is no integer)."""
    kind = element.type
    if kind in ("string", "date-time"):
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    raise ValueError(f"unknown element type {kind!r}")


TYPE_NAMES = {
    "string": "字符串",
    "integer": "整数",
    "boolean": "布尔值",
    "object": "对象",
    "array": "数组",
    "date-time": "带时区的 ISO 8601 日期时间",
    "null": "null",
    "number": "数值",
}


def json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def shown(value: Any, limit: int = 60) -> str:
    """A short printable form of a found value for evidence."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + f"…（共 {len(text)} 字符）"


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of case.json, shipped inside this package."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


_FORMATS = FormatChecker(formats=())
# A value off the pattern is reported by ``pattern``; ``format`` adds only impossible dates.
_FORMATS.checks("date-time")(
    lambda v: not isinstance(v, str) or not re.match(DATETIME_RE, v) or parse_datetime(v) is not None
)


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_schema(), format_checker=_FORMATS)


def element_path(json_path: str) -> str:
    """``$.files[3].sha256`` → ``files[].sha256`` (the METADATA row's path)."""
    return re.sub(r"\[\d+\]", "[]", json_path.removeprefix("$").removeprefix("."))


def element_name(json_path: str) -> str:
    row = METADATA_BY_PATH.get(element_path(json_path))
    return row.name if row else json_path


def schema_errors(case: object) -> list[dict[str, Any]]:
    """Every violation of the JSON Schema by ``case``, each as evidence data.

    Each dict (a ``Problem``'s JSON form): ``code`` (``schema.<keyword>``), ``path`` (JSON path of the offending value), ``element`` (Chinese name),
    ``keyword`` (the JSON Schema keyword), ``expected``, ``found``, ``note`` (Chinese).
    """
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for err in _validator().iter_errors(case):
        for item in _describe(err):
            key = (item["path"], item["keyword"])
            if key not in seen:
                seen.add(key)
                out.append(item)
    return sorted(out, key=lambda d: d["path"])


def _describe(err: Any) -> list[dict[str, Any]]:
    kw, inst, val, jp = err.validator, err.instance, err.validator_value, err.json_path
    if kw in ("required", "dependentRequired"):
        names = val if kw == "required" else [n for v in val.values() for n in v]
        missing = [n for n in names if isinstance(inst, dict) and n not in inst
                   and (kw == "required" or any(t in inst for t, deps in val.items() if n in deps))]
        rows = []
        for name in missing:
            path = f"{jp}.{name}"
            why = "必选项缺失" if kw == "required" else "条件必选项缺失"
            rows.append(_row(path, kw, "存在", "缺失", f"{element_name(path)}（{path}）{why}"))
        return rows
    name = element_name(jp)
    if kw == "type":
        expected, note = TYPE_NAMES.get(val, val), f"应为{TYPE_NAMES.get(val, val)}"
        found = TYPE_NAMES.get(json_type_name(inst), json_type_name(inst))
    elif kw == "maxLength":
        expected, found, note = f"≤ {val} 字符", f"{len(inst)} 字符", f"超过最大长度 {val} 字符"
    elif kw == "minLength":
        expected, found, note = "非空", "空字符串", "不得为空"
    elif kw == "maxItems":
        expected, found, note = f"≤ {val} 项", f"{len(inst)} 项", f"超过最多 {val} 项"
    elif kw == "minItems":
        expected, found, note = f"≥ {val} 项", f"{len(inst)} 项", f"至少应有 {val} 项"
    elif kw in ("enum", "const"):
        allowed = val if kw == "enum" else [val]
        expected, found = " / ".join(map(str, allowed)), shown(inst)
        note = f"取值 {shown(inst)!r} 不在值域内"
    elif kw == "pattern":
        expected, found, note = val, shown(inst), f"格式不符：{shown(inst)!r}"
    elif kw == "format":
        expected, found, note = TYPE_NAMES.get(val, val), shown(inst), f"不是有效的{TYPE_NAMES.get(val, val)}"
    elif kw in ("minimum", "maximum"):
        sign = "≥" if kw == "minimum" else "≤"
        expected, found, note = f"{sign} {val}", shown(inst), f"数值 {inst} 超出范围（应 {sign} {val}）"
    elif kw == "additionalProperties":
        extra = sorted(k for k in inst if k not in err.schema.get("properties", {}))
        return [_row(f"{jp}.{k}", kw, "方案内元素", k, f"{jp}.{k} 不是方案规定的元素") for k in extra]
    elif kw == "uniqueItems":
        expected, found, note = "各项不重复", shown(inst), "含重复项"
    else:
        expected, found, note = shown(val), shown(inst), err.message
    return [_row(jp, kw, expected, found, f"{name}（{jp}）{note}")]


def _row(path: str, keyword: str, expected: Any, found: Any, note: str) -> dict[str, Any]:
    """A schema ``Problem`` (code ``schema.<keyword>``) in its JSON form."""
    return Problem(f"schema.{keyword}", path, expected=expected, found=found, note=note,
                   extra={"element": element_name(path), "keyword": keyword}).to_dict()


# --- file paths: the one reading of ``files[].path`` -----------------------------------

FILES_DIR = "files"


def submission_path(entry_path: Any) -> str | None:
    """The submission-relative path (``files/…``) that a ``files[].path`` names, or None.

    The contract allows both ``files/01-登记表.pdf`` and ``01-登记表.pdf`` for the same
    file. Every consumer (checks, AIP description, catalogue rows) must resolve a path
    through this function so that the two readings can never diverge.
    """
    if not isinstance(entry_path, str) or not entry_path:
        return None
    prefix = f"{FILES_DIR}/"
    return entry_path if entry_path.startswith(prefix) else prefix + entry_path


def name_key(path: str) -> str:
    """The key under which two names collide on a normalising or case-insensitive file system."""
    return unicodedata.normalize("NFC", path).casefold()


def colliding_names(paths: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of distinct names that are equal after NFC normalisation and case folding."""
    first: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for path in paths:
        key = name_key(path)
        seen = first.setdefault(key, path)
        if seen != path:
            pairs.append((seen, path))
    return pairs

