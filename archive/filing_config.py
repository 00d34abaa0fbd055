"""Filing configuration (归档配置): which service items exist and how each one is filed.

The data lives in ``service_items.json`` beside this module (see its ``source`` and
``code_scheme`` notes): for each public service item its category, retention period with
the rule row it comes from, classification code, and the document kinds a case must hold
for each outcome. A wrong configuration would mis-file every case of an item for decades,
so the loader validates everything and names each offending item and field in Chinese.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from dangan.packages import vocabulary as V
from dangan.packages.archival_code import CATEGORY_CODES, RETENTION_CODES
from dangan.packages.checks import FilingRule
from dangan.packages.errors import DanganError
from dangan.packages.problem import Problem

CONFIG_RESOURCE = "service_items.json"

# The codes are the vocabulary's (``dangan.packages.vocabulary``), in its order.
OUTCOMES = tuple(V.OUTCOMES)
OUTCOME_NAMES = V.OUTCOMES
DOCUMENT_KINDS = tuple(V.DOCUMENT_KINDS)
INSURANCES = V.INSURANCES
INSURANCE_CODES = {"YL": ("pension",), "GS": ("injury",), "SY": ("unemployment",), "ZH": ()}
CATEGORY_BY_NAME = {name: code for code, name in CATEGORY_CODES.items()}

_CODE_RE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+){1,5}$")
_CLASS_RE = re.compile(r"^(YL|GS|SY|ZH)-(GL|ZJ|JL|ZF|QT)-[A-Z]{2}$")
_MEDIA_RE = re.compile(r"^[a-z]+/[a-z0-9.+-]+$")


class FilingConfigError(DanganError, ValueError):
    """The filing configuration cannot be used; ``details`` lists every problem found."""

    code = "config.filing"


@dataclass(frozen=True)
class ServiceItem:
    """One service item (服务事项) and how its cases are filed."""

    code: str
    name: str
    insurance: tuple[str, ...]
    category: str
    category_code: str
    retention: str
    legal_basis: str
    classification_code: str
    required_documents: Mapping[str, tuple[str, ...]]
    seed: Mapping[str, str] = field(default_factory=dict)  # where the item is defined

    def rule(self) -> FilingRule:
        return FilingRule(
            code=self.code,
            name=self.name,
            category=self.category,
            category_code=self.category_code,
            retention=self.retention,
            classification_code=self.classification_code,
            required_documents=dict(self.required_documents),
            legal_basis=self.legal_basis,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "insurance": list(self.insurance),
            "category": self.category,
            "category_code": self.category_code,
            "retention": self.retention,
            "legal_basis": self.legal_basis,
            "classification_code": self.classification_code,
            "seed": dict(self.seed),
            "required_documents": {k: list(v) for k, v in self.required_documents.items()},
        }


@dataclass(frozen=True)
class FilingConfig:
    version: str
    source: str
    items: list[ServiceItem]
    allowed_formats: tuple[str, ...]
    code_scheme: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {i.code: i for i in self.items})

    def get(self, code: str) -> ServiceItem | None:
        return self._by_code.get(code)  # type: ignore[attr-defined]

    def __contains__(self, code: object) -> bool:
        return code in self._by_code  # type: ignore[attr-defined]

    def __iter__(self) -> Iterator[ServiceItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def rules(self) -> dict[str, FilingRule]:
        """The check engine's view: service item code -> ``FilingRule``."""
        return {i.code: i.rule() for i in self.items}

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "source": self.source,
            "code_scheme": self.code_scheme,
            "allowed_formats": list(self.allowed_formats),
            "items": [i.to_dict() for i in self.items],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def load_filing_config(path: Path | None = None) -> FilingConfig:
    """Load and validate a filing configuration (default: the packaged one).

    Raises ``FilingConfigError`` (code ``config.filing``) listing every problem.
    """
    if path is None:
        return _load_packaged()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FilingConfigError(f"无法读取归档配置文件 {path}：{exc}") from exc
    except UnicodeDecodeError as exc:
        raise FilingConfigError(f"归档配置文件 {path} 不是 UTF-8 文本：{exc}") from exc
    return parse_filing_config(text, origin=str(path))


@lru_cache(maxsize=1)
def _load_packaged() -> FilingConfig:
    text = resources.files("dangan.archive").joinpath(CONFIG_RESOURCE).read_text(encoding="utf-8")
    return parse_filing_config(text, origin=CONFIG_RESOURCE)


def parse_filing_config(text: str, *, origin: str = "<text>") -> FilingConfig:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FilingConfigError(
            f"归档配置 {origin} 不是合法 JSON（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}",
            [Problem("config.not_json", None, field="", note=exc.msg, extra={"line": exc.lineno})],
        ) from exc
    problems: list[Problem] = []
    config = _build(doc, problems)
    if problems:
        notes = "；".join(p.note for p in problems[:8])
        more = f"；等共 {len(problems)} 处" if len(problems) > 8 else ""
        raise FilingConfigError(f"归档配置 {origin} 有误：{notes}{more}", problems)
    assert config is not None
    return config


def _str_list(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _build(doc: Any, problems: list[Problem]) -> FilingConfig | None:
    if not isinstance(doc, dict):
        problems.append(Problem("config.not_object", None, field="", note="顶层应为 JSON 对象",
                                extra={"item": ""}))
        return None
    for key in ("version", "source"):
        if not isinstance(doc.get(key), str) or not doc.get(key):
            problems.append(Problem("config.header_missing", None, field=key,
                                    note=f"缺少顶层字段 {key}（非空字符串）", extra={"item": ""}))
    formats = _str_list(doc.get("allowed_formats"))
    if not formats:
        problems.append(Problem("config.formats_missing", None, field="allowed_formats",
                                note="allowed_formats 应为非空的媒体类型列表", extra={"item": ""}))
        formats = []
    for fmt in formats:
        if not _MEDIA_RE.match(fmt):
            problems.append(Problem("config.format_invalid", None, field="allowed_formats",
                                    found=fmt, note=f"allowed_formats 中的 {fmt!r} 不是媒体类型",
                                    extra={"item": ""}))
    raw_items = doc.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        problems.append(Problem("config.items_missing", None, field="items",
                                note="items 应为非空的服务事项列表", extra={"item": ""}))
        raw_items = []
    items: list[ServiceItem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        item = _item(raw, index, problems)
        if item is None:
            continue
        if item.code in seen:
            problems.append(Problem("config.duplicate_code", None, field="code",
                                    note=f"事项编码 {item.code} 重复（第 {seen[item.code] + 1} 项与第 {index + 1} 项）",
                                    extra={"item": item.code}))
        seen.setdefault(item.code, index)
        items.append(item)
    return FilingConfig(
        version=str(doc.get("version", "")),
        source=str(doc.get("source", "")),
        items=items,
        allowed_formats=tuple(formats),
        code_scheme=str(doc.get("code_scheme", "")),
    )


def _item(raw: Any, index: int, problems: list[Problem]) -> ServiceItem | None:
    label = f"第 {index + 1} 项"
    if not isinstance(raw, dict):
        problems.append(Problem("config.item_not_object", None, field="",
                                note=f"{label}应为 JSON 对象", extra={"item": label}))
        return None
    code = raw.get("code")
    if isinstance(code, str) and _CODE_RE.match(code) and len(code) <= 64:
        label = code
    else:
        problems.append(Problem("config.item_code_invalid", None, field="code", found=code,
                                note=f"{label}的事项编码 code 缺失或格式不对（应如 SB-YL-DJ-001）",
                                extra={"item": label}))
        code = label
    name = raw.get("name")
    who = f"事项 {code}" + (f"（{name}）" if isinstance(name, str) and name else "")

    def bad(fld: str, note: str, found: Any = None) -> None:
        problems.append(Problem("config.item_field", None, field=fld, found=found,
                                note=f"{who} 的 {fld}：{note}", extra={"item": code}))

    if not isinstance(name, str) or not name.strip():
        bad("name", "事项名称不能为空")
    insurance = _str_list(raw.get("insurance"))
    if not insurance or any(i not in INSURANCES for i in insurance):
        bad("insurance", f"险种应为 {'/'.join(INSURANCES)} 中的一个或多个", raw.get("insurance"))
        insurance = insurance or []
    category, category_code = raw.get("category"), raw.get("category_code")
    if category_code not in CATEGORY_CODES:
        bad("category_code", f"类别代码应为 {'/'.join(CATEGORY_CODES)} 之一", category_code)
    if category not in CATEGORY_BY_NAME:
        bad("category", f"类别应为 {'/'.join(CATEGORY_BY_NAME)} 之一", category)
    elif category_code in CATEGORY_CODES and CATEGORY_BY_NAME[category] != category_code:
        bad("category_code", f"类别代码 {category_code} 与类别 {category} 不一致", category_code)
    retention = raw.get("retention")
    if retention not in RETENTION_CODES:
        bad("retention", f"保管期限应为 {'/'.join(RETENTION_CODES)} 之一", retention)
    legal_basis = raw.get("legal_basis")
    if not isinstance(legal_basis, str) or not legal_basis.strip():
        bad("legal_basis", "须写明保管期限依据（规定附件的哪一行）")
    classification = raw.get("classification_code")
    m = _CLASS_RE.match(classification) if isinstance(classification, str) else None
    if not m:
        bad("classification_code", "分类号应为 险种-类别-业务环节（如 YL-GL-DJ）", classification)
    elif category_code in CATEGORY_CODES and m.group(2) != category_code:
        bad("classification_code", f"分类号中的类别 {m.group(2)} 与类别代码 {category_code} 不一致",
            classification)
    elif insurance and INSURANCE_CODES[m.group(1)] and set(insurance) != set(INSURANCE_CODES[m.group(1)]):
        bad("classification_code", f"分类号中的险种 {m.group(1)} 与 insurance {insurance} 不一致",
            classification)
    required = _required(raw.get("required_documents"), bad)
    seed = raw.get("seed", {})
    return ServiceItem(
        code=code,
        name=name if isinstance(name, str) else "",
        insurance=tuple(insurance),
        category=category if isinstance(category, str) else "",
        category_code=category_code if isinstance(category_code, str) else "",
        retention=retention if isinstance(retention, str) else "",
        legal_basis=legal_basis if isinstance(legal_basis, str) else "",
        classification_code=classification if isinstance(classification, str) else "",
        required_documents=required,
        seed={str(k): str(v) for k, v in seed.items()} if isinstance(seed, dict) else {},
    )


def _required(raw: Any, bad: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        bad("required_documents", "应为 {结果: [文件类型…]} 对象")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for outcome in raw:
        if outcome not in OUTCOMES:
            bad(f"required_documents.{outcome}", f"未知的办理结果，应取自 {'/'.join(OUTCOMES)}", outcome)
    for outcome in OUTCOMES:
        fld = f"required_documents.{outcome}"
        kinds = _str_list(raw.get(outcome))
        if not kinds:
            bad(fld, f"缺少“{OUTCOME_NAMES[outcome]}”结果所需文件类型列表")
            continue
        unknown = [k for k in kinds if k not in DOCUMENT_KINDS]
        if unknown:
            bad(fld, f"未知的文件类型 {', '.join(unknown)}（应取自 {'/'.join(DOCUMENT_KINDS)}）", unknown)
            continue
        if len(set(kinds)) != len(kinds):
            bad(fld, "文件类型重复", kinds)
        if outcome == "not_accepted" and "refusal_notice" not in kinds:
            bad(fld, "不予受理的办件须含不予受理决定书 refusal_notice", kinds)
        out[outcome] = tuple(kinds)
    return out
