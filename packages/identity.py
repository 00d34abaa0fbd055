"""Check characters of Chinese identity numbers: resident ID and unified credit code.

A wrong check character is how a mistyped or invented party number shows up in a case
record, so the submission checks (DG-1-1) validate every party's number with these
functions. Pure functions, no I/O.

- 居民身份证号码 GB 11643-1999: 6-digit region, 8-digit birth date, 3-digit sequence,
  check character by ISO 7064 MOD 11-2.
- 统一社会信用代码 GB 32100-2015: registration authority, type, 6-digit region, 9-char
  organisation code, check character MOD 31 over a 31-letter alphabet.
"""

from __future__ import annotations

import re
from datetime import date

from .vocabulary import ID_TYPES

_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHARS = "10X98765432"

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Registration authority (登记管理部门代码) -> allowed organisation type codes (机构类别代码),
# GB 32100-2015 Table 1 as amended by later allocations (A: military, N: agriculture).
CREDIT_AUTHORITY_TYPES: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 编办直管群众团体, 其他
    "2": "19",  # 外交: 外国常驻新闻机构, 其他
    "3": "123459",  # 司法行政: 律所, 公证处, 基层法律服务所, 司法鉴定, 仲裁委员会, 其他
    "4": "19",  # 文化: 外国在华文化中心, 其他
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游: 外国/港澳台旅游部门常驻代表机构, 其他
    "7": "129",  # 宗教: 宗教活动场所, 宗教院校, 其他
    "8": "19",  # 工会: 基层工会, 其他
    "9": "123",  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室: 军队事业单位, 其他
    "N": "1239",  # 农业: 组级/村级/乡镇级集体经济组织, 其他
    "Y": "1",  # 其他
}

ID_TYPE_NAMES = ID_TYPES  # labels: ``vocabulary``

_RESIDENT_RE = re.compile(r"^[1-9]\d{5}(\d{4})(\d{2})(\d{2})\d{3}[0-9X]$")
_CREDIT_RE = re.compile(rf"^[{CREDIT_ALPHABET}]{{18}}$")
_EARLIEST_BIRTH_YEAR = 1850


def resident_id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("居民身份证号码前 17 位应为数字")
    total = sum(int(c) * w for c, w in zip(first17, _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHARS[total % 11]


def resident_id_problem(s: str, today: date | None = None) -> str | None:
    """Why ``s`` is not a valid 18-character resident ID number, or None when it is."""
    if not isinstance(s, str) or len(s) != 18:
        return "居民身份证号码应为 18 位"
    if not _RESIDENT_RE.match(s):
        return "居民身份证号码应为 17 位数字加 1 位校验码（数字或大写 X），首位非 0"
    year, month, day = int(s[6:10]), int(s[10:12]), int(s[12:14])
    try:
        birth = date(year, month, day)
    except ValueError:
        return f"居民身份证号码中的出生日期 {s[6:14]} 不是有效日期"
    if year < _EARLIEST_BIRTH_YEAR or birth > (today or date.today()):
        return f"居民身份证号码中的出生日期 {s[6:14]} 不合理"
    expected = resident_id_check_char(s[:17])
    if s[17] != expected:
        return f"居民身份证号码校验码错误（应为 {expected}，实为 {s[17]}）"
    return None


def is_valid_resident_id(s: str) -> bool:
    """18 chars, plausible region and birth date, correct GB 11643 check character."""
    return resident_id_problem(s) is None


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters (MOD 31)."""
    if len(first17) != 17 or any(c not in CREDIT_ALPHABET for c in first17):
        raise ValueError("统一社会信用代码前 17 位应取自 0-9 与大写字母（不含 I、O、Z、S、V）")
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(s: str) -> str | None:
    """Why ``s`` is not a valid unified social credit code, or None when it is."""
    if not isinstance(s, str) or len(s) != 18:
        return "统一社会信用代码应为 18 位"
    if not _CREDIT_RE.match(s):
        return "统一社会信用代码只能由数字和大写字母组成（不含 I、O、Z、S、V）"
    types = CREDIT_AUTHORITY_TYPES.get(s[0])
    if types is None:
        return f"统一社会信用代码第 1 位登记管理部门代码 {s[0]} 不在允许范围内"
    if s[1] not in types:
        return f"统一社会信用代码第 2 位机构类别代码 {s[1]} 不属于登记管理部门 {s[0]} 的允许类别"
    if not s[2:8].isdigit() or s[2] == "0":
        return f"统一社会信用代码第 3–8 位登记管理机关行政区划码 {s[2:8]} 应为 6 位数字"
    expected = credit_code_check_char(s[:17])
    if s[17] != expected:
        return f"统一社会信用代码校验码错误（应为 {expected}，实为 {s[17]}）"
    return None


def is_valid_credit_code(s: str) -> bool:
    """18 chars from the alphabet, known authority/type codes, correct check character."""
    return credit_code_problem(s) is None


def validate_party_id(id_type: str, id_number: str) -> str | None:
    """A Chinese reason why ``id_number`` is invalid for ``id_type``, or None if valid.

    Only resident IDs and credit codes carry check characters; other document types
    are accepted when non-blank (their formats differ by issuing country).
    """
    if not isinstance(id_number, str) or not id_number.strip():
        return "证件号码为空"
    if id_type == "resident_id":
        return resident_id_problem(id_number)
    if id_type == "credit_code":
        return credit_code_problem(id_number)
    if id_type in ID_TYPE_NAMES:
        return None
    return f"未知的证件类型 {id_type!r}"
