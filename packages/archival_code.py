"""Archival codes (档号) after DA/T 22-2015 / DA/T 13.

Shape: ``全宗号-门类代码·年度-保管期限代码-机构(问题)代码-件号``, e.g.
``Z109-WS·2011-Y-BGS-0001`` (the DA/T 22 example). Dangan uses 门类 ``SB``
(社会保险业务档案) and the business category (GL 管理类, ZJ 征缴类, JL 记录类,
ZF 支付类, QT 其他类) as 机构(问题)代码.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import PackageError
from .vocabulary import CATEGORIES, RETENTIONS

RETENTION_CODES = ("Y", "D100", "D50", "D30", "D10")
RETENTION_YEARS = {"Y": None, "D100": 100, "D50": 50, "D30": 30, "D10": 10}
RETENTION_NAMES = RETENTIONS  # labels: ``vocabulary``
CATEGORY_CODES = CATEGORIES


class ArchivalCodeError(PackageError):
    """An archival code, or a rule for making them, that does not follow DA/T 22."""

    code = "package.archival_code"


@dataclass(frozen=True)
class ArchivalCode:
    fonds: str
    doc_class: str
    year: int
    retention: str
    category: str
    item_no: int

    @property
    def series(self) -> str:
        """The numbering series: 件号 runs without gaps within it."""
        return f"{self.fonds}-{self.doc_class}·{self.year:04d}-{self.retention}-{self.category}"


@dataclass(frozen=True)
class ArchivalCodeRule:
    fonds: str = "Z001"
    doc_class: str = "SB"
    item_width: int = 5

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z0-9]{1,8}", self.fonds):
            raise ArchivalCodeError(f"全宗号 {self.fonds!r} 应为 1-8 位大写字母或数字")
        if not re.fullmatch(r"[A-Z]{2,4}", self.doc_class):
            raise ArchivalCodeError(f"门类代码 {self.doc_class!r} 应为 2-4 位大写字母")
        if not 3 <= self.item_width <= 8:
            raise ArchivalCodeError("件号位数应在 3 到 8 之间")

    @property
    def pattern(self) -> re.Pattern[str]:
        retention = "|".join(RETENTION_CODES)
        category = "|".join(CATEGORY_CODES)
        return re.compile(
            rf"(?P<fonds>{re.escape(self.fonds)})-(?P<doc_class>{re.escape(self.doc_class)})"
            rf"·(?P<year>\d{{4}})-(?P<retention>{retention})-(?P<category>{category})"
            rf"-(?P<item_no>\d{{{self.item_width},}})"
        )

    def series(self, year: int, retention: str, category: str) -> str:
        return ArchivalCode(self.fonds, self.doc_class, year, retention, category, 0).series

    def format(self, year: int, retention: str, category: str, item_no: int) -> str:
        code = ArchivalCode(self.fonds, self.doc_class, year, retention, category, item_no)
        self._validate(code)
        return f"{code.series}-{item_no:0{self.item_width}d}"

    def parse(self, text: str) -> ArchivalCode:
        m = self.pattern.fullmatch(text)
        if not m:
            raise ArchivalCodeError(
                f"档号 {text!r} 不符合规则 全宗号-门类代码·年度-保管期限-类别-件号"
                f"（如 {self.fonds}-{self.doc_class}·2024-Y-GL-{1:0{self.item_width}d}）"
            )
        code = ArchivalCode(
            fonds=m["fonds"],
            doc_class=m["doc_class"],
            year=int(m["year"]),
            retention=m["retention"],
            category=m["category"],
            item_no=int(m["item_no"]),
        )
        self._validate(code)
        if self.format(code.year, code.retention, code.category, code.item_no) != text:
            raise ArchivalCodeError(f"档号 {text!r} 的件号补零位数不对（应为 {self.item_width} 位）")
        return code

    def _validate(self, code: ArchivalCode) -> None:
        if not 1900 <= code.year <= 9999:
            raise ArchivalCodeError(f"档号年度 {code.year} 不合理")
        if code.retention not in RETENTION_CODES:
            raise ArchivalCodeError(f"保管期限代码 {code.retention!r} 不在 {RETENTION_CODES} 中")
        if code.category not in CATEGORY_CODES:
            raise ArchivalCodeError(f"类别代码 {code.category!r} 不在 {tuple(CATEGORY_CODES)} 中")
        if code.item_no < 1:
            raise ArchivalCodeError("件号从 1 开始")
